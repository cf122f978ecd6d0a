//! Lifecycle frames: each one, and bad scripts that never take the owner down.

use std::time::{Duration, Instant};

use crate::{
    common::{PATIENCE, append},
    processor::common::{Owner, frames, lifecycle, meta_str, register, settle, unregister, wait_for},
};

const ECHO: &str = "{run: {|frame, state| {out: {}, next: null}}, topics: [t]}";

#[test]
fn register_records_active_with_the_handler_id() {
    let owner = Owner::start();
    let reg = register(&owner.store, "h", ECHO);
    let active = lifecycle(&owner.store, "h", "active", reg.id);
    assert!(active.id > reg.id);
}

#[test]
fn a_parse_error_is_invalid_with_nushells_message_and_line() {
    let owner = Owner::start();
    let reg = register(&owner.store, "bad", "{\n  run: {|frame, state| \n    let x = (1 +\n  }\n");
    let invalid = lifecycle(&owner.store, "bad", "invalid", reg.id);
    let error = meta_str(&invalid, "error").unwrap();
    assert!(error.contains("xs.handler.bad.register:"), "the message names the script and line: {error}");
    assert!(!error.contains('\u{1b}'), "no colour codes: {error:?}");
    // The owner is fine: another handler runs.
    let good = register(&owner.store, "good", ECHO);
    lifecycle(&owner.store, "good", "active", good.id);
}

#[test]
fn a_run_without_two_parameters_is_invalid() {
    let owner = Owner::start();
    for (name, run) in [("one", "{|frame| null}"), ("three", "{|a, b, c| null}"), ("rest", "{|...xs| null}")] {
        let reg = register(&owner.store, name, &format!("{{run: {run}}}"));
        let invalid = lifecycle(&owner.store, name, "invalid", reg.id);
        let error = meta_str(&invalid, "error").unwrap();
        assert!(error.contains("exactly two parameters"), "{name}: {error}");
    }
    for (name, script) in [("norun", "{initial: 1}"), ("notclosure", "{run: 5}"), ("notrecord", "[1 2]")] {
        let reg = register(&owner.store, name, script);
        lifecycle(&owner.store, name, "invalid", reg.id);
    }
}

#[test]
fn a_bad_field_is_invalid_naming_it() {
    let owner = Owner::start();
    for (name, field) in
        [("s", "start: \"later\""), ("t", "topics: [\"a..b\"]"), ("p", "pulse: -1sec"), ("x", "topic: [a]")]
    {
        let reg = register(&owner.store, name, &format!("{{run: {{|frame, state| null}}, {field}}}"));
        let invalid = lifecycle(&owner.store, name, "invalid", reg.id);
        assert!(meta_str(&invalid, "error").unwrap().contains(":1:"), "{name}: the line is named: {invalid:?}");
    }
}

#[test]
fn a_runtime_error_is_failed_with_the_message_line_and_frame() {
    let owner = Owner::start();
    let reg =
        register(&owner.store, "h", "{\n  run: {|frame, state|\n    error make {msg: \"boom\"}\n  }\n  topics: [t]\n}");
    lifecycle(&owner.store, "h", "active", reg.id);
    let input = append(&owner.store, "t");
    let failed = lifecycle(&owner.store, "h", "failed", reg.id);
    let error = meta_str(&failed, "error").unwrap();
    assert!(error.contains("boom") && error.contains("xs.handler.h.register:3"), "{error}");
    assert_eq!(meta_str(&failed, "frame_id"), Some(input.id.to_string()));
}

#[test]
fn done_is_recorded_when_run_returns_nothing() {
    let owner = Owner::start();
    let reg = register(&owner.store, "h", "{run: {|frame, state| null}, topics: [t]}");
    lifecycle(&owner.store, "h", "active", reg.id);
    let input = append(&owner.store, "t");
    let done = lifecycle(&owner.store, "h", "done", reg.id);
    assert_eq!(meta_str(&done, "frame_id"), Some(input.id.to_string()));
}

#[test]
fn unregister_records_unregistered_and_stops_output() {
    let owner = Owner::start();
    let reg = register(&owner.store, "h", ECHO);
    lifecycle(&owner.store, "h", "active", reg.id);
    append(&owner.store, "t");
    settle(&owner.store, "h.out", 1);
    unregister(&owner.store, "h");
    lifecycle(&owner.store, "h", "unregistered", reg.id);
    append(&owner.store, "t");
    assert_eq!(settle(&owner.store, "h.out", 1).len(), 1);
}

#[test]
fn a_new_register_replaces_the_running_version() {
    let owner = Owner::start();
    let v1 = register(&owner.store, "h", "{run: {|frame, state| {out: {v: 1}, next: null}}, topics: [t]}");
    lifecycle(&owner.store, "h", "active", v1.id);
    let v2 = register(&owner.store, "h", "{run: {|frame, state| {out: {v: 2}, next: null}}, topics: [t]}");
    let replaced = lifecycle(&owner.store, "h", "replaced", v1.id);
    let active = lifecycle(&owner.store, "h", "active", v2.id);
    assert!(replaced.id < active.id, "the old one stops before the new one starts");
    append(&owner.store, "t");
    let outs = settle(&owner.store, "h.out", 1);
    assert_eq!(outs.len(), 1, "one instance per name");
    assert_eq!(outs[0].meta.as_ref().unwrap()["v"], 2);
}

#[test]
fn an_invalid_replacement_leaves_the_running_version_running() {
    let owner = Owner::start();
    let v1 = register(&owner.store, "h", "{run: {|frame, state| {out: {v: 1}, next: null}}, topics: [t]}");
    lifecycle(&owner.store, "h", "active", v1.id);
    let v2 = register(&owner.store, "h", "{run: {|frame| null}}");
    lifecycle(&owner.store, "h", "invalid", v2.id);
    append(&owner.store, "t");
    let outs = settle(&owner.store, "h.out", 1);
    assert_eq!(outs[0].meta.as_ref().unwrap()["v"], 1);
    assert!(frames(&owner.store, "xs.handler.h.replaced").is_empty());
}

#[test]
fn an_infinite_loop_is_interrupted_by_unregister() {
    let owner = Owner::start();
    let reg = register(&owner.store, "spin", "{run: {|frame, state| loop { } }, topics: [t]}");
    lifecycle(&owner.store, "spin", "active", reg.id);
    let input = append(&owner.store, "t");
    std::thread::sleep(Duration::from_millis(100));
    unregister(&owner.store, "spin");
    lifecycle(&owner.store, "spin", "unregistered", reg.id);
    // The interrupted frame is not finished: no output, no failure.
    assert!(frames(&owner.store, "xs.handler.spin.failed").is_empty());
    let _ = input;
}

#[test]
fn an_infinite_loop_does_not_hold_up_shutdown() {
    let mut owner = Owner::start();
    let reg =
        register(&owner.store, "spin", "{run: {|frame, state| try { loop { } } catch { loop { } } }, topics: [t]}");
    lifecycle(&owner.store, "spin", "active", reg.id);
    append(&owner.store, "t");
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    owner.processor.take().unwrap().shutdown();
    assert!(started.elapsed() < PATIENCE, "shutdown took {:?}", started.elapsed());
    lifecycle(&owner.store, "spin", "stopped", reg.id);
}

#[test]
fn an_infinite_loop_in_the_config_is_invalid_after_its_deadline_or_cancelled() {
    let owner = Owner::start();
    let reg = register(&owner.store, "h", "loop { }");
    std::thread::sleep(Duration::from_millis(100));
    unregister(&owner.store, "h");
    lifecycle(&owner.store, "h", "unregistered", reg.id);
    let good = register(&owner.store, "g", ECHO);
    lifecycle(&owner.store, "g", "active", good.id);
}

#[test]
fn shutdown_records_stopped() {
    let mut owner = Owner::start();
    let reg = register(&owner.store, "h", ECHO);
    lifecycle(&owner.store, "h", "active", reg.id);
    owner.processor.take().unwrap().shutdown();
    let stopped = wait_for(&owner.store, "xs.handler.h.stopped", None, |_| true);
    assert_eq!(meta_str(&stopped, "handler_id"), Some(reg.id.to_string()));
}
