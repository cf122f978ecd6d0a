//! Topics under `xs.` belong to the runtime: clients append only the
//! documented in events there, through every entry point (the Rust API,
//! the socket, a script's `xs append`); the runtime still records its own.

use xs_core::{Frame, ReadOptions, StoreError};

use crate::{
    common::{append, read_all, store},
    processor::common::{Owner, frames, lifecycle, meta_str, register},
    server::{http, serve},
};

/// The topics no client may append: the read markers and every out event.
const FORGED: [&str; 11] = [
    "xs.threshold",
    "xs.pulse",
    "xs.handler.x.active",
    "xs.handler.x.invalid",
    "xs.handler.x.failed",
    "xs.handler.x.done",
    "xs.handler.x.unregistered",
    "xs.handler.x.replaced",
    "xs.handler.x.stopped",
    "xs.generator.x.terminated",
    "xs.generator.x.restarting",
];

/// The in events: what a client appends to ask the processor for something.
const IN_EVENTS: [&str; 7] = [
    "xs.handler.x.unregister",
    "xs.generator.x.spawn",
    "xs.generator.x.terminate",
    "xs.handler.x.register",
    "xs.module.util",
    "xs.action.x.register",
    "xs.action.x.unregister",
];

#[test]
fn the_rust_api_refuses_runtime_topics_and_writes_nothing() {
    let (_dir, store) = store();
    for topic in FORGED {
        let refused = store.append(Frame::builder(topic).build());
        assert!(
            matches!(&refused, Err(StoreError::ReservedTopic { topic: t, .. }) if t == topic),
            "{topic}: {refused:?}"
        );
        assert!(
            refused.unwrap_err().to_string().contains("xs.handler.<name>.register"),
            "the error says what is allowed"
        );
        let batch = store.append_batch(vec![Frame::builder("ok").build(), Frame::builder(topic).build()], None);
        assert!(matches!(batch, Err(StoreError::ReservedTopic { .. })), "{topic} in a batch");
    }
    assert!(read_all(&store, ReadOptions::default()).is_empty(), "nothing was written");
}

#[test]
fn the_in_events_and_ordinary_topics_still_append() {
    let (_dir, store) = store();
    for topic in IN_EVENTS.into_iter().chain(["xs", "xsx.pulse", "clip.xs.pulse"]) {
        store.append(Frame::builder(topic).build()).unwrap_or_else(|e| panic!("{topic}: {e}"));
    }
    assert_eq!(read_all(&store, ReadOptions::default()).len(), IN_EVENTS.len() + 3);
}

#[test]
fn the_socket_answers_4xx_and_stores_nothing() {
    let served = serve();
    for topic in FORGED {
        let answer = http(&served.socket(), &format!("POST /append/{topic}"), b"forged");
        assert_eq!(answer.status, 400, "{topic}: {}", answer.text());
        assert!(answer.text().contains("reserved for the runtime"), "{}", answer.text());
    }
    let allowed = http(&served.socket(), "POST /append/xs.module.util", b"export def hi [] { 1 }");
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    let stored = read_all(&served.store, ReadOptions::default());
    assert_eq!(stored.iter().map(|f| f.topic.as_str()).collect::<Vec<_>>(), ["xs.module.util"]);
}

#[test]
fn the_client_refuses_before_sending() {
    let served = serve();
    let client = xs_core::client::Client::new(served.dir.path());
    let refused = client.append(Frame::builder("xs.pulse").build(), &b""[..]);
    assert!(matches!(refused, Err(StoreError::ReservedTopic { .. })), "{refused:?}");
}

#[test]
fn a_script_that_appends_a_runtime_topic_fails_with_its_error() {
    let owner = Owner::start();
    let script = "{run: {|frame, state| xs append xs.handler.victim.active; {next: state}}, topics: [poke]}";
    let reg = register(&owner.store, "forger", script);
    lifecycle(&owner.store, "forger", "active", reg.id);
    append(&owner.store, "poke");
    let failed = lifecycle(&owner.store, "forger", "failed", reg.id);
    let error = meta_str(&failed, "error").unwrap();
    assert!(error.contains("reserved for the runtime"), "{error}");
    assert!(frames(&owner.store, "xs.handler.victim.*").is_empty());
}

#[test]
fn an_output_topic_under_xs_makes_the_config_invalid() {
    let owner = Owner::start();
    let script = "{run: {|frame, state| {out: {}}}, return_options: {suffix: '.active'}}";
    let reg = register(&owner.store, "xs.handler.victim", script);
    let invalid = lifecycle(&owner.store, "xs.handler.victim", "invalid", reg.id);
    assert!(meta_str(&invalid, "error").unwrap().contains("reserved for the runtime"));
}

#[test]
fn the_runtime_still_records_its_lifecycle() {
    let owner = Owner::start();
    let reg = register(&owner.store, "ok", "{run: {|frame, state| {out: {seen: true}}}, topics: [t]}");
    lifecycle(&owner.store, "ok", "active", reg.id);
    append(&owner.store, "t");
    lifecycle(&owner.store, "ok", "done", reg.id);
}
