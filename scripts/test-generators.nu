# End to end: the generators in handlers/ spawned through the plugin in a
# real nu, exactly as the README shows, and their frames read with
# `xs cat -f | first N`.
#
#   nu -n --plugins '[target/debug/nu_plugin_xs]' scripts/test-generators.nu
#
# Every wait is bounded; a generator that never answers fails the script.
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
    let dir = (mktemp -d)
    $env.XS_STORE = ($dir | path join store)
    let log = ($dir | path join app.log)
    "" | save $log

    xs append tail-log.config --meta {path: $log} | ignore
    let spawn = (open ($handlers | path join tail-log.nu) | xs append xs.generator.tail-log.spawn)
    wait-for "tail-log to be active" { (xs cat -T xs.generator.tail-log.active | length) == 1 }
    # tail may not have reached the end of the file yet: write until it reports.
    wait-for "tail-log to follow" {
        "GET / 200\n" | save --append $log
        (xs cat -T tail-log.recv | length) >= 1
    }
    "GET /about 200\n" | save --append $log
    let lines = (xs cat -f -T tail-log.recv | first 2)
    assert equal ($lines | get meta.generator_id | uniq) [$spawn.id]
    assert equal ($lines | each { xs cas } | uniq | first) "GET / 200"
    wait-for "the second line" { (xs cat -T tail-log.recv | each { xs cas } | last) == "GET /about 200" }

    xs append xs.generator.tail-log.terminate | ignore
    wait-for "tail-log to be terminated" { (xs cat -T xs.generator.tail-log.terminated | length) == 1 }
    wait-for "tail to be gone" { ps -l | where command =~ $log | is-empty }
    print "generators: ok"
}
