# Directory watcher: every change under a directory becomes a
# watch-dir.recv frame whose meta is Nushell's event record:
# {operation: Create|Write|Remove|Rename, path, new_path}.
#
#   xs append watch-dir.config --meta {path: ~/notes}
#   open handlers/watch-dir.nu | xs append xs.generator.watch-dir.spawn
#   xs cat -f -T watch-dir.recv | get meta
#
# The directory is read from the newest watch-dir.config frame each time
# the generator starts. Nushell's `watch` debounces bursts (100ms), so one
# save is usually one event.
{
  run: {||
    let path = (xs last watch-dir.config | get -o meta.path)
    if $path == null { error make {msg: "no directory: append {path: <dir>} as the meta of a watch-dir.config frame"} }
    watch ($path | path expand)
  }
}
