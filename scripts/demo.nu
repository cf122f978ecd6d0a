# A clipboard-style tour of xs, run by scripts/run:
#
#     nu -n --plugins '[<path to nu_plugin_xs>]' scripts/demo.nu
#
# against the store in $env.XS_STORE (scripts/run points it at a scratch
# directory). Each step prints what it shows.

def step [title: string] {
    print $"\n(ansi green_bold)== ($title)(ansi reset)"
}

# Text as it is; binary as its size.
def show [content: any] {
    if ($content | describe) == binary { $"<($content | bytes length) bytes of binary>" } else { $content }
}

def main [] {
    step $"store: ($env.XS_STORE? | default '~/.local/share/xs')"

    step "copy three clips (text in the CAS, the app in meta, keep the newest 50)"
    for clip in [[text app]; ["hello" terminal] ["https://example.com" browser] ["hello again" editor]] {
        $clip.text | xs append clip --meta {app: $clip.app} --ttl last:50 | ignore
    }
    0x[89 50 4e 47 0d 0a 1a 0a] | xs append clip --meta {app: screenshot, mime: image/png} --ttl last:50 | ignore

    step "the history, with each payload read back from the CAS"
    print (xs cat -T clip | each {|f| {id: $f.id, app: $f.meta.app, content: (show (xs cas $f.hash))} })

    step "the newest clip that is text"
    print (xs last clip 10 | where meta.mime? == null | last | xs cas)

    step "follow live: a second nu process copies a clip while this one follows"
    let mark = (xs last clip).id
    let plugin = (plugin list | where name == xs | first | get filename)
    let script = "'copied in another shell' | xs append clip --meta {app: second-shell} | ignore"
    job spawn { ^$nu.current-exe -n --plugins $"[($plugin)]" -c $script }
    # Reading from just after the newest clip catches it whether it lands
    # before or after the follow starts; `first 1` ends the follow.
    let live = (xs cat -f --after $mark -T clip | first 1 | first)
    print $"live: ($live.meta.app) copied '(xs cas $live.hash)'"

    step "ids carry their time"
    print (xs id unpack $live.id)

    step "this shell's view of the store"
    print (xs status | reject handlers generators)
}
