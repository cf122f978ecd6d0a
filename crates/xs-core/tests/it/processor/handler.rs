//! Handlers: each config field and each return shape, on a real store.

use serde_json::json;
use xs_core::{Frame, TTL};

use crate::{
    common::append,
    processor::common::{
        Owner, append_meta, append_with, frames, lifecycle, meta_str, payload, register, settle, wait_for,
    },
};

/// `meta.<key>` of `frame` as an integer.
fn meta_int(frame: &Frame, key: &str) -> i64 {
    frame.meta.as_ref().and_then(|m| m[key].as_i64()).unwrap_or_else(|| panic!("no int {key} in {frame:?}"))
}

/// Registers `script` as `name` and waits until it is active.
fn active(owner: &Owner, name: &str, script: &str) -> Frame {
    let reg = register(&owner.store, name, script);
    lifecycle(&owner.store, name, "active", reg.id);
    reg
}

#[test]
fn a_handler_emits_out_as_meta_with_handler_and_frame_ids() {
    let owner = Owner::start();
    let reg = active(&owner, "echo", r#"{run: {|frame, state| {out: {seen: $frame.topic}, next: $state}}}"#);
    let input = append_meta(&owner.store, "note", json!({"n": 1}));
    let out = wait_for(&owner.store, "echo.out", None, |_| true);
    assert_eq!(out.meta.as_ref().unwrap()["seen"], "note");
    assert_eq!(meta_str(&out, "handler_id"), Some(reg.id.to_string()));
    assert_eq!(meta_str(&out, "frame_id"), Some(input.id.to_string()));
    assert_eq!(settle(&owner.store, "echo.out", 1).len(), 1, "a handler never sees its own output");
}

#[test]
fn initial_is_the_first_state() {
    let owner = Owner::start();
    active(
        &owner,
        "count",
        "{run: {|frame, state| {out: {n: $state}, next: ($state + 1)}}, initial: 10, topics: [tick]}",
    );
    append(&owner.store, "tick");
    append(&owner.store, "tick");
    let outs = settle(&owner.store, "count.out", 2);
    assert_eq!(outs.iter().map(|f| meta_int(f, "n")).collect::<Vec<_>>(), [10, 11]);
}

#[test]
fn without_initial_the_state_parameter_default_is_the_first_state() {
    let owner = Owner::start();
    active(&owner, "count", "{run: {|frame, state = 5| {out: {n: $state}, next: ($state + 1)}}, topics: [tick]}");
    append(&owner.store, "tick");
    assert_eq!(meta_int(&wait_for(&owner.store, "count.out", None, |_| true), "n"), 5);
}

#[test]
fn start_new_skips_what_came_before_the_register_frame() {
    let owner = Owner::start();
    append(&owner.store, "old");
    active(&owner, "h", "{run: {|frame, state| {out: {topic: $frame.topic}, next: null}}, topics: [old, fresh]}");
    append(&owner.store, "fresh");
    let outs = settle(&owner.store, "h.out", 1);
    assert_eq!(outs[0].meta.as_ref().unwrap()["topic"], "fresh");
}

#[test]
fn start_first_handles_the_whole_stream() {
    let owner = Owner::start();
    append(&owner.store, "old");
    active(
        &owner,
        "h",
        r#"{run: {|frame, state| {out: {topic: $frame.topic}, next: null}}, topics: [old, fresh], start: "first"}"#,
    );
    append(&owner.store, "fresh");
    let outs = settle(&owner.store, "h.out", 2);
    let topics: Vec<_> = outs.iter().map(|f| f.meta.as_ref().unwrap()["topic"].clone()).collect();
    assert_eq!(topics, [json!("old"), json!("fresh")]);
}

#[test]
fn start_at_an_id_handles_what_came_after_it() {
    let owner = Owner::start();
    append(&owner.store, "a");
    let mark = append(&owner.store, "b");
    append(&owner.store, "c");
    let script = format!(
        r#"{{run: {{|frame, state| {{out: {{topic: $frame.topic}}, next: null}}}}, topics: "a,b,c", start: "{}"}}"#,
        mark.id
    );
    active(&owner, "h", &script);
    let outs = settle(&owner.store, "h.out", 1);
    assert_eq!(outs[0].meta.as_ref().unwrap()["topic"], "c");
}

#[test]
fn topics_filter_what_reaches_run() {
    let owner = Owner::start();
    active(&owner, "h", "{run: {|frame, state| {out: {topic: $frame.topic}, next: null}}, topics: [clip.*, note]}");
    for topic in ["clip.add", "other", "note", "clip", "clip.a.b"] {
        append(&owner.store, topic);
    }
    let outs = settle(&owner.store, "h.out", 3);
    let topics: Vec<_> = outs.iter().map(|f| f.meta.as_ref().unwrap()["topic"].clone()).collect();
    assert_eq!(topics, [json!("clip.add"), json!("note"), json!("clip.a.b")]);
}

#[test]
fn pulse_brings_heartbeat_frames_to_run() {
    let owner = Owner::start();
    let script = r#"{run: {|frame, state| if $frame.topic == "xs.pulse" { {out: {pulse: true}, next: null} } else { {next: null} }}, pulse: 50ms, topics: [nothing.here]}"#;
    active(&owner, "beat", script);
    let outs = settle(&owner.store, "beat.out", 2);
    assert!(outs.iter().all(|f| f.meta.as_ref().unwrap()["pulse"] == true));
}

#[test]
fn return_options_suffix_names_the_output_topic() {
    let owner = Owner::start();
    active(
        &owner,
        "h",
        r#"{run: {|frame, state| {out: {}, next: null}}, topics: [t], return_options: {suffix: ".result"}}"#,
    );
    append(&owner.store, "t");
    wait_for(&owner.store, "h.result", None, |_| true);
    assert!(frames(&owner.store, "h.out").is_empty());
}

#[test]
fn return_options_ttl_applies_to_output_frames() {
    let owner = Owner::start();
    active(
        &owner,
        "h",
        r#"{run: {|frame, state| {out: {}, next: null}}, topics: [t], return_options: {ttl: "last:2"}}"#,
    );
    for _ in 0..4 {
        append(&owner.store, "t");
    }
    crate::common::wait_until("four inputs handled", || {
        owner.store.last("h.out", 1).unwrap().first().and_then(|f| meta_str(f, "frame_id"))
            == owner.store.last("t", 1).unwrap().first().map(|f| f.id.to_string())
    });
    let outs = frames(&owner.store, "h.out");
    assert_eq!(outs.len(), 2, "last:2 keeps two");
    assert!(outs.iter().all(|f| f.ttl == Some(TTL::Last(2))));
}

#[test]
fn return_options_target_cas_stores_out_as_the_payload() {
    let owner = Owner::start();
    let script = r#"{run: {|frame, state| {out: (if $frame.topic == "s" { "text out" } else { {a: 1} }), next: null}}, topics: [s, r], return_options: {target: "cas"}}"#;
    active(&owner, "h", script);
    append(&owner.store, "s");
    append(&owner.store, "r");
    let outs = settle(&owner.store, "h.out", 2);
    assert_eq!(payload(&owner.store, &outs[0]), "text out");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&payload(&owner.store, &outs[1])).unwrap(), json!({"a": 1}));
    assert!(meta_str(&outs[0], "handler_id").is_some());
}

#[test]
fn next_alone_continues_without_output() {
    let owner = Owner::start();
    let script = "{run: {|frame, state| if $state == 1 { {out: {second: true}, next: 2} } else { {next: 1} }}, initial: 0, topics: [t]}";
    active(&owner, "h", script);
    append(&owner.store, "t");
    append(&owner.store, "t");
    let outs = settle(&owner.store, "h.out", 1);
    assert_eq!(outs[0].meta.as_ref().unwrap()["second"], true);
}

#[test]
fn out_alone_emits_and_finishes() {
    let owner = Owner::start();
    let reg = active(&owner, "once", "{run: {|frame, state| {out: {last: true}}}, topics: [t]}");
    let input = append(&owner.store, "t");
    append(&owner.store, "t");
    let done = lifecycle(&owner.store, "once", "done", reg.id);
    assert_eq!(meta_str(&done, "frame_id"), Some(input.id.to_string()));
    assert_eq!(settle(&owner.store, "once.out", 1).len(), 1, "nothing after done");
}

#[test]
fn nothing_finishes_without_output() {
    let owner = Owner::start();
    let reg = active(&owner, "quiet", "{run: {|frame, state| null}, topics: [t]}");
    append(&owner.store, "t");
    lifecycle(&owner.store, "quiet", "done", reg.id);
    assert!(frames(&owner.store, "quiet.out").is_empty());
}

#[test]
fn another_key_fails_the_handler_naming_the_frame() {
    let owner = Owner::start();
    let reg = active(&owner, "h", "{run: {|frame, state| {out: {}, nxt: 1}}, topics: [t]}");
    let input = append(&owner.store, "t");
    let failed = lifecycle(&owner.store, "h", "failed", reg.id);
    assert_eq!(meta_str(&failed, "frame_id"), Some(input.id.to_string()));
    assert!(meta_str(&failed, "error").unwrap().contains("nxt"), "{failed:?}");
    assert!(frames(&owner.store, "h.out").is_empty(), "a failed frame emits nothing");
}

#[test]
fn a_value_that_is_not_a_record_fails_the_handler() {
    let owner = Owner::start();
    let reg = active(&owner, "h", "{run: {|frame, state| 42}, topics: [t]}");
    append(&owner.store, "t");
    let failed = lifecycle(&owner.store, "h", "failed", reg.id);
    assert!(meta_str(&failed, "error").unwrap().contains("int"), "{failed:?}");
}

#[test]
fn out_that_is_not_a_record_fails_unless_the_target_is_the_cas() {
    let owner = Owner::start();
    let reg = active(&owner, "h", r#"{run: {|frame, state| {out: "text", next: null}}, topics: [t]}"#);
    append(&owner.store, "t");
    let failed = lifecycle(&owner.store, "h", "failed", reg.id);
    assert!(meta_str(&failed, "error").unwrap().contains("record"), "{failed:?}");
}

#[test]
fn xs_append_in_run_is_committed_with_the_output_and_tagged() {
    let owner = Owner::start();
    let script = r#"{run: {|frame, state|
        let queued = ("side" | xs append side.effect --meta {k: 1})
        {out: {queued_id: $queued.id}, next: null}
    }, topics: [t, side.effect]}"#;
    let reg = active(&owner, "h", script);
    let input = append(&owner.store, "t");
    let out = wait_for(&owner.store, "h.out", None, |_| true);
    let side = frames(&owner.store, "side.effect");
    assert_eq!(side.len(), 1, "committed with the output");
    assert!(side[0].id < out.id, "queued frames come before out");
    assert_eq!(payload(&owner.store, &side[0]), "side");
    assert_eq!(side[0].meta.as_ref().unwrap()["k"], 1);
    assert_eq!(meta_str(&side[0], "handler_id"), Some(reg.id.to_string()));
    assert_eq!(meta_str(&side[0], "frame_id"), Some(input.id.to_string()));
    assert!(out.meta.as_ref().unwrap()["queued_id"].is_null(), "no id before the commit");
    assert_eq!(settle(&owner.store, "h.out", 1).len(), 1, "the handler does not see what it appended");
}

#[test]
fn run_sees_the_frame_record_and_reads_payloads_with_xs_cas() {
    let owner = Owner::start();
    let script = r#"{run: {|frame, state| {out: {text: ($frame | xs cas), columns: ($frame | columns)}, next: null}}, topics: [clip]}"#;
    active(&owner, "h", script);
    append_with(&owner.store, "clip", "hello");
    let out = wait_for(&owner.store, "h.out", None, |_| true);
    let meta = out.meta.unwrap();
    assert_eq!(meta["text"], "hello");
    assert_eq!(meta["columns"], json!(["id", "topic", "hash", "meta"]));
}
