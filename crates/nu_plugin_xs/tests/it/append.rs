//! `xs append`: every kind of input, `--meta`, `--ttl`.

use serde_json::json;

use crate::common::Shell;

both_ways! {
    fn returns_the_frame_with_meta_and_payload(shell) {
        let frame = shell.json(r#""hello" | xs append clip.add --meta {source: keyboard, n: 1}"#);
        assert_eq!(frame["topic"], "clip.add");
        assert_eq!(frame["hash"], "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=");
        assert_eq!(frame["meta"], json!({"source": "keyboard", "n": 1}));
        assert_eq!(frame["id"].as_str().unwrap().len(), 25);
        assert_eq!(shell.frames(), json!([frame]));
    }
}

both_ways! {
    fn nothing_is_no_payload(shell) {
        assert_eq!(shell.json("xs append note")["hash"], json!(null));
    }
}

both_ways! {
    fn binary_records_and_lists_round_trip_through_the_cas(shell) {
        let script = "[(0x[00 ff 10] | xs append b), ({a: 1, b: [x]} | xs append r), ([1 2] | xs append l)] | each {|f| xs cas $f.hash }";
        let out = shell.json(&format!("{script} | each {{|v| $v | describe }}"));
        assert_eq!(out, json!(["binary", "string", "string"]));
        let values = shell.json("xs cat | skip 1 | each {|f| xs cas $f.hash | from json }");
        assert_eq!(values, json!([{"a": 1, "b": ["x"]}, [1, 2]]));
    }
}

both_ways! {
    fn a_byte_stream_is_streamed_into_the_cas(shell) {
        // 3 MiB through an external command: a byte stream, not a value.
        std::fs::write(shell.dir.path().join("big"), vec![7u8; 3 << 20]).unwrap();
        let out = shell.json("open --raw big | xs append big | xs cas | into binary | bytes length");
        assert_eq!(out, json!(3 << 20));
        let same = shell.json("(open --raw big | xs append big).hash == (open --raw big | xs cas put)");
        assert_eq!(same, json!(true));
    }
}

both_ways! {
    fn ttl_takes_strings_and_durations(shell) {
        let ttls = shell.json(
            "[(xs append a --ttl 1hr), (xs append b --ttl last:2), (xs append c --ttl forever), (xs append d --ttl time:500)] \
             | each {|f| (xs get $f.id --detail).ttl }",
        );
        assert_eq!(ttls, json!(["time:3600000", "last:2", "forever", "time:500"]));
    }
}

both_ways! {
    fn last_n_keeps_the_newest(shell) {
        let kept = shell.json("for i in 1..4 { xs append k --ttl last:2 --meta {i: $i} | ignore }; xs cat | get meta.i");
        assert_eq!(kept, json!([3, 4]));
    }
}

both_ways! {
    fn ephemeral_frames_are_returned_not_stored(shell) {
        assert_eq!(shell.json("xs append blip --ttl ephemeral")["topic"], "blip");
        assert_eq!(shell.frames(), json!([]));
    }
}

/// Defines `peak`: the peak memory (VmHWM, KiB) so far of this nu's plugin.
const PEAK: &str = "def peak [] {
    let pid = (plugin list | where name == xs | first | get pid);
    open --raw $'/proc/($pid)/status' | lines | where $it starts-with VmHWM | first | split words | get 1 | into int
};";

/// How much the plugin's peak memory grows (KiB) while `append` runs, after
/// `warm_up` has loaded everything else it needs.
fn growth(shell: &Shell, warm_up: &str, append: &str) -> u64 {
    let script = format!("{PEAK} {warm_up}; let before = (peak); {append}; (peak) - $before");
    // 48 MiB through a debug plugin: seconds of CPU, more under load.
    shell.json_within(&script, std::time::Duration::from_secs(180)).as_u64().unwrap()
}

both_ways! {
    fn a_large_byte_stream_takes_constant_memory_as_owner_and_as_client(shell) {
        const SIZE: usize = 48 << 20;
        let chunk: Vec<u8> = (0..(1u32 << 20)).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        std::fs::write(shell.dir.path().join("big"), chunk.repeat(SIZE >> 20)).unwrap();
        // Holding the payload whole would add at least SIZE; streaming adds a few buffers.
        let limit = (SIZE >> 10) as u64 / 4;
        let grew = growth(&shell, "\"warm\" | xs append warm | ignore", "open --raw big | xs append big | ignore");
        assert!(grew < limit, "owner plugin grew by {grew} KiB");
        let mut owner = shell.spawn("xs append hold | to json -r | print; xs cat -f --new -T stop | first 1 | ignore");
        owner.line(std::time::Duration::from_secs(20));
        let warm_up =
            "\"warm\" | xs append warm | ignore; if (xs status).role != client { error make {msg: 'not a client'} }";
        let grew = growth(&shell, warm_up, "open --raw big | xs append big | ignore");
        assert!(grew < limit, "client plugin grew by {grew} KiB");
        shell.json("xs append stop");
        owner.wait(crate::common::DEADLINE);
        assert_eq!(shell.json("xs cat -T big | get hash | uniq | length"), json!(1));
    }
}
