# Clipboard de-duplicator: re-emits every clip.add whose content differs
# from the clip before it, so a clipboard UI that follows clip-dedup.out
# never shows the same clip twice in a row.
#
#   open handlers/clip-dedup.nu | xs append xs.handler.clip-dedup.register
#   "hello" | xs append clip.add
#   xs cat -T clip-dedup.out | each { xs cas }
#
# Payloads are compared by hash (the CAS is content-addressed); the output
# frame holds the clip as its payload, and meta.frame_id names the original.
{
  run: {|frame, previous|
    if $frame.hash == $previous { return {next: $previous} }
    {out: ($frame | xs cas), next: $frame.hash}
  }
  topics: ["clip.add"]
  return_options: {target: "cas"}
}
