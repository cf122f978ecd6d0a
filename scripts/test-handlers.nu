# End to end: the handlers in handlers/ registered through the plugin in a
# real nu, exactly as the README shows, and their output read with xs cat.
#
#   nu -n --plugins '[target/debug/nu_plugin_xs]' scripts/test-handlers.nu
#
# `cargo test -p nu_plugin_xs` runs it too (tests/it/handlers.rs).
#
# Every wait is bounded; a handler that never answers fails the script.
use std/assert

def wait-for [what: string, ready: closure] {
    for _ in 1..400 {
        if (do $ready) { return }
        sleep 50ms
    }
    error make {msg: $"timed out waiting for ($what)"}
}

def main [] {
    let handlers = ($env.FILE_PWD | path dirname | path join handlers)
    $env.XS_STORE = (mktemp -d | path join store)

    open ($handlers | path join clip-dedup.nu) | xs append xs.handler.clip-dedup.register | ignore
    open ($handlers | path join topic-counter.nu) | xs append xs.handler.topic-counter.register | ignore
    open ($handlers | path join last-n.nu) | xs append xs.handler.last-n.register | ignore
    for clip in [a a b a] { $clip | xs append clip.add | ignore }

    wait-for "clip-dedup" { (xs cat -T clip-dedup.out | length) >= 3 }
    assert equal (xs cat -T clip-dedup.out | each { xs cas }) [a b a]

    wait-for "topic-counter" { (xs last topic-counter.out | get -o meta.counts."clip.add") == 4 }
    wait-for "last-n" { (xs last last-n.out | get -o meta.index."clip.add" | default [] | length) == 4 }
    let clips = (xs cat -T clip.add | get id)
    assert equal (xs last last-n.out).meta.index."clip.add" $clips

    let states = (xs status | get handlers | select name state)
    assert equal ($states | where state == active | length) 3 $"all three handlers run: ($states)"
    print "handlers: ok"
}
