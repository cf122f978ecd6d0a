# Topic counter: how many frames each topic holds, kept as one projection
# frame that is replaced on every frame (ttl last:1).
#
#   open handlers/topic-counter.nu | xs append xs.handler.topic-counter.register
#   (xs last topic-counter.out).meta.counts
#
# It starts at the beginning of the stream, so the counts cover history.
# It leaves out the runtime's own xs.* topics and what handlers emit (frames
# with meta.handler_id): two handlers that each react to everything would
# otherwise feed each other forever.
{
  run: {|frame, counts|
    if ($frame.topic | str starts-with "xs.") or ($frame.meta?.handler_id? != null) { return {next: $counts} }
    let n = ($counts | get -o $frame.topic | default 0) + 1
    let counts = ($counts | upsert $frame.topic $n)
    {out: {counts: $counts}, next: $counts}
  }
  initial: {}
  start: "first"
  return_options: {ttl: "last:1"}
}
