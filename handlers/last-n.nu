# Last N per topic: for every topic, the ids of its newest N frames, kept
# as one index frame that is replaced on every frame (ttl last:1).
#
#   open handlers/last-n.nu | xs append xs.handler.last-n.register
#   (xs last last-n.out).meta.index."clip.add" | each { xs get $in }
#
# Change N to keep more. It starts at the beginning of the stream, and
# leaves out the runtime's own xs.* topics and what handlers emit (frames
# with meta.handler_id): two handlers that each react to everything would
# otherwise feed each other forever.
const N = 5

{
  run: {|frame, index|
    if ($frame.topic | str starts-with "xs.") or ($frame.meta?.handler_id? != null) { return {next: $index} }
    let ids = ($index | get -o $frame.topic | default [] | append $frame.id | last $N)
    let index = ($index | upsert $frame.topic $ids)
    {out: {index: $index}, next: $index}
  }
  initial: {}
  start: "first"
  return_options: {ttl: "last:1"}
}
