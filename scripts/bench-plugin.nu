# The plugin's benchmark, one line per dimension in the harness's format
# (`name frames=N ms=… frames_per_s=…`, latencies as `p50_us=…`):
#
#   plugin-append          N sequential `xs append` calls from one nu
#   plugin-cat             `xs cat | length` over a store of M frames
#   plugin-follow-latency  append in this nu → seen by `xs cat -f` in another nu
#   plugin-floor           `xs-floor M | length`: M constant frame-shaped records
#                          from a plugin that does nothing else (the example
#                          nu_plugin_xs_floor), the protocol's own cost; printed
#                          when that plugin is loaded too, and plugin-cat then
#                          gives its time as a multiple of it (x_floor=…)
#   plugin-cat-rss         the xs plugin's peak resident memory (VmHWM) after
#                          the fill and the cat
#
#     nu -n --plugins '[<path to nu_plugin_xs>, <path to nu_plugin_xs_floor>]' scripts/bench-plugin.nu [--appends N] [--frames M] [--samples S]
#
# It prints figures and never asserts a timing. Each dimension uses its own
# store in a scratch directory.

def report [name: string, n: int, elapsed: duration] {
    let ms = $elapsed / 1ms
    let per_s = $n / ($ms / 1000) | math round
    let us = $ms * 1000 / $n | math round --precision 2
    print $"($name) frames=($n) ms=($ms | math round) frames_per_s=($per_s) us_per_frame=($us)"
}

def bench-append [store: string, n: int] {
    $env.XS_STORE = $store
    xs status | ignore # become the owner before timing
    let elapsed = timeit { for i in 1..$n { $"clip ($i)" | xs append clip | ignore } }
    report plugin-append $n $elapsed
}

# The floor's time, or null when nu_plugin_xs_floor is not loaded.
def bench-floor [n: int] {
    if (which xs-floor | is-empty) { return null }
    xs-floor 1 | ignore # start the plugin before timing
    let start = date now
    let count = xs-floor $n | length
    let elapsed = (date now) - $start
    report plugin-floor $count $elapsed
    $elapsed
}

def bench-cat [store: string, n: int, floor] {
    $env.XS_STORE = $store
    # Filled by concurrent appends, which share fsyncs (group commit).
    1..$n | par-each --threads 32 {|i| xs append bulk --meta {i: $i} | ignore } | ignore
    let start = date now
    let count = xs cat | length
    let elapsed = (date now) - $start
    if $count != $n { error make {msg: $"xs cat gave ($count) frames of ($n)"} }
    report plugin-cat $n $elapsed
    if $floor != null { print $"plugin-cat-vs-floor x_floor=($elapsed / $floor | math round --precision 2)" }
    let pid = plugin list | where name == xs | first | get pid
    let hwm = open --raw $"/proc/($pid)/status" | lines | where $it starts-with VmHWM | first | split row -r '\s+' | get 1 | into int
    print $"plugin-cat-rss frames=($n) vmhwm_mb=($hwm / 1024 | math round)"
}

def bench-follow-latency [store: string, samples: int] {
    $env.XS_STORE = $store
    xs status | ignore
    let plugin = plugin list | where name == xs | first | get filename
    # The follower, another nu: says `ready` once live, then records the
    # latency of each `lat` frame and appends the list when it has them all.
    let follower = $"
        xs cat -f -T [lat xs.threshold] | each {|f|
            if $f.topic == 'xs.threshold' { xs append lat.ready | ignore; null } else {
                \(date now | into int) - $f.meta.sent
            }
        } | first ($samples) | wrap ns | xs append lat.result | ignore
        xs last lat.result | xs cas | from json | get ns | to json | xs append lat.done | ignore"
    job spawn { ^$nu.current-exe -n --plugins $"[($plugin)]" -c $follower }
    xs cat -f -T lat.ready | first 1 | ignore
    for _ in 1..$samples {
        xs append lat --meta {sent: (date now | into int)} | ignore
        sleep 10ms # pace the samples: each is measured alone, not queued behind the last
    }
    let ns = xs cat -f -T lat.done | first 1 | first | xs cas | from json | sort
    let p50 = ($ns | get (($ns | length) // 2)) // 1000
    let p99 = ($ns | get ((($ns | length) * 99 // 100) | [$in (($ns | length) - 1)] | math min)) // 1000
    print $"plugin-follow-latency samples=($samples) p50_us=($p50) p99_us=($p99)"
}

def main [--appends: int = 1000, --frames: int = 100000, --samples: int = 100] {
    let dir = mktemp -d
    bench-append ($dir | path join append) $appends
    # Before the 100,000-frame fill, whose background compaction would be measured too.
    bench-follow-latency ($dir | path join follow) $samples
    let floor = bench-floor $frames
    bench-cat ($dir | path join cat) $frames $floor
    rm -rf $dir
}
