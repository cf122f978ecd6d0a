# The table of scripts/bench-compare: one row per target of the performance
# contract, xs's figure beside cross-stream's (or beside the machine's own
# floor), the ratio, and whether the target is met in this run.
#
#     nu -n scripts/bench-compare.nu <xs output> <cross-stream output>
#
# Both outputs are the harnesses' lines: `name key=value ...`. The table is
# Markdown, ready for docs/perf.md.

# Every `name key=value ...` line as {name: {key: value}} (numbers as floats).
def figures [file: path] {
    open --raw $file | lines | where {|l| $l =~ '^[a-z0-9-]+ [a-z0-9_]+=' } | each {|l|
        let words = $l | split row ' '
        let values = $words | skip 1 | parse '{key}={value}' | reduce --fold {} {|kv, acc|
            $acc | insert $kv.key ($kv.value | into float)
        }
        {name: ($words | first), values: $values}
    } | reduce --fold {} {|row, acc| $acc | upsert $row.name $row.values }
}

def pick [figs: record, name: string, key: string] {
    $figs | get -o $name | get -o $key
}

def ratio [a, b] {
    if $a == null or $b == null or $b == 0 { null } else { $a / $b | math round --precision 2 }
}

def row [what: string, ours, theirs, r, target: string, met] {
    {what: $what, xs: $ours, reference: $theirs, ratio: $r, target: $target, met: (if $met == null { "-" } else if $met { "yes" } else { "NO" })}
}

def main [xs_file: path, cs_file: path] {
    let xs = figures $xs_file
    let cs = figures $cs_file
    let rate = {|figs, name| pick $figs $name frames_per_s }
    let us = {|figs, name| pick $figs $name us_per_frame }

    let floor = do $us $xs sync-floor
    let append = do $us $xs append
    let a_ratio = ratio (do $rate $xs append) (do $rate $cs append)
    let over_floor = ratio $append $floor
    let c8 = do $rate $xs append-concurrent
    let c8_ratio = ratio $c8 (do $rate $cs append-concurrent)
    let c8_floor = if $floor == null or $c8 == null { null } else { ratio $c8 (8e6 / $floor) }
    let socket_budget = if $append == null { null } else { $append + (do $us $xs socket-floor) + 10 }
    let socket = do $us $xs socket-append
    let cat_ratio = ratio (pick $cs plugin-cat ms) (pick $xs plugin-cat ms)
    let follow = pick $xs plugin-follow-latency p50_us
    let state_ratio = ratio (do $rate $xs handler-state) (do $rate $cs actor-state)
    let emit_ratio = ratio (do $rate $xs handler-emit) (do $rate $cs actor-emit)
    let rss = pick $xs plugin-cat-rss vmhwm_mb

    let met = {|value, ok| if $value == null { null } else { do $ok $value } }
    [
        (row "append µs ÷ sync-floor µs" $append $floor $over_floor "≤ 1.05" (do $met $over_floor {|r| $r <= 1.05 }))
        (row "append frames/s vs cross-stream" (do $rate $xs append) (do $rate $cs append) $a_ratio "≥ 1.0" (do $met $a_ratio {|r| $r >= 1.0 }))
        (row "8 writers frames/s vs cross-stream" $c8 (do $rate $cs append-concurrent) $c8_ratio "≥ 5" (do $met $c8_ratio {|r| $r >= 5 }))
        (row "8 writers ÷ (8 per sync-floor)" $c8 (if $floor == null { null } else { 8e6 / $floor | math round }) $c8_floor "≥ 0.7" (do $met $c8_floor {|r| $r >= 0.7 }))
        (row "socket append µs vs append + socket-floor + 10" $socket $socket_budget (ratio $socket $socket_budget) "≤ 1.0" (do $met $socket {|s| $s <= $socket_budget }))
        (row "xs cat | length, 100k, ms (cross-stream ÷ xs)" (pick $xs plugin-cat ms) (pick $cs plugin-cat ms) $cat_ratio "≥ 5" (do $met $cat_ratio {|r| $r >= 5 }))
        (row "nu → nu follow p50 µs" $follow (pick $cs plugin-follow-latency p50_us) (ratio (pick $cs plugin-follow-latency p50_us) $follow) "xs ≤ 800" (do $met $follow {|f| $f <= 800 }))
        (row "cat of 1M frames, plugin max RSS MB" $rss null null "< 100" (do $met $rss {|m| $m < 100 }))
        (row "handler-state vs actor-state frames/s" (do $rate $xs handler-state) (do $rate $cs actor-state) $state_ratio "≥ 3" (do $met $state_ratio {|r| $r >= 3 }))
        (row "handler-emit vs actor-emit frames/s" (do $rate $xs handler-emit) (do $rate $cs actor-emit) $emit_ratio "≥ 10" (do $met $emit_ratio {|r| $r >= 10 }))
        (row "1000 sequential xs append, ms (cross-stream ÷ xs)" (pick $xs plugin-append ms) (pick $cs plugin-append ms) (ratio (pick $cs plugin-append ms) (pick $xs plugin-append ms)) "keep" null)
        (row "replay frames/s" (do $rate $xs replay) (do $rate $cs replay) (ratio (do $rate $xs replay) (do $rate $cs replay)) "-" null)
        (row "append-cas frames/s" (do $rate $xs append-cas) (do $rate $cs append-cas) (ratio (do $rate $xs append-cas) (do $rate $cs append-cas)) "-" null)
        (row "follow-latency p50 µs (cross-stream ÷ xs)" (pick $xs follow-latency p50_us) (pick $cs follow-latency p50_us) (ratio (pick $cs follow-latency p50_us) (pick $xs follow-latency p50_us)) "-" null)
    ] | update cells -c [xs reference] {|v| if $v == null { "" } else { $v | math round --precision 1 } } | to md --pretty | print
}
