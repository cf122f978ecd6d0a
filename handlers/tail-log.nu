# Log follower: every line appended to a log file becomes a tail-log.recv
# frame (the line is its payload), across rotations (tail -F reopens the
# file when it is replaced).
#
#   xs append tail-log.config --meta {path: /var/log/app.log}   # which file
#   open handlers/tail-log.nu | xs append xs.generator.tail-log.spawn
#   xs cat -f -T tail-log.recv | each { xs cas }
#
# The path is read from the newest tail-log.config frame each time the
# generator starts: to follow another file, append a new config and spawn
# it again. tail -F runs in its own process group; terminating the
# generator (xs append xs.generator.tail-log.terminate) kills it.
{
  run: {||
    let path = (xs last tail-log.config | get -o meta.path)
    if $path == null { error make {msg: "no log file: append {path: <file>} as the meta of a tail-log.config frame"} }
    ^tail -n 0 -F $path
  }
}
