//! Mirrors into a single JetStream server: everything arrives, once, in
//! order, payloads above the server's max payload through the object store.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, Context};
use serde_json::json;
use xs_core::script_state::{ScriptKind, ScriptState, State};

use super::{
    jetstream::{assert_mirrored, client, count, fill, published, register_mirror, stored},
    runtime,
    server::NatsServer,
};
use crate::processor::common::{Owner, meta_str, wait_for};

/// Waits until `stream` holds at least `n` messages, failing after `patience`.
pub fn wait_for_count(rt: &tokio::runtime::Runtime, js: &Context, stream: &str, n: u64, patience: Duration) {
    let deadline = Instant::now() + patience;
    loop {
        let got = rt.block_on(count(js, stream));
        if got >= n {
            return;
        }
        assert!(Instant::now() < deadline, "timed out: {stream} holds {got} of {n} messages");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The mirror `name` in a processor's report.
pub fn mirror_state(states: &[ScriptState], name: &str) -> Option<ScriptState> {
    states.iter().find(|s| s.kind == ScriptKind::Mirror && s.name == name).cloned()
}

/// A JetStream context on `url`.
pub fn context(rt: &tokio::runtime::Runtime, url: &str) -> Context {
    rt.block_on(async { jetstream::new(client(url).await) })
}

#[test]
fn twenty_thousand_frames_arrive_complete_once_each_in_order() {
    let nats = NatsServer::with_config("max_payload: 65536\n");
    nats.wait_ready();
    let owner = Owner::start();
    fill(&owner.store, "data", 20_000, 1000, 100_000);
    fill(&owner.store, "other", 10, 0, 0);
    let register = register_mirror(&owner.store, "out", json!({"url": nats.url(), "topics": "data"}));
    let rt = runtime();
    let js = context(&rt, &nats.url());
    wait_for_count(&rt, &js, "XS", 20_000, Duration::from_secs(180));
    // Live now: an ephemeral frame is never published, the stored one after it is.
    let ephemeral = xs_core::Frame::builder("data").ttl(xs_core::TTL::Ephemeral).build();
    owner.store.append(ephemeral).unwrap();
    fill(&owner.store, "data", 1, 0, 0);
    wait_for_count(&rt, &js, "XS", 20_001, Duration::from_secs(60));
    let frames = stored(&owner.store, "data");
    assert_mirrored(&owner.store, &frames, &rt.block_on(published(&js, "XS")));
    let processor = owner.processor.as_ref().unwrap();
    crate::common::wait_until("the mirror reports no lag", || {
        let state = mirror_state(&processor.states(), "out");
        state.and_then(|s| s.mirror).is_some_and(|m| m.lag == 0)
    });
    let state = mirror_state(&processor.states(), "out").unwrap();
    assert_eq!((state.state, state.id), (State::Active, register.id));
    assert_eq!(state.mirror.unwrap().position, frames.last().map(|f| f.id));
    let objects = rt.block_on(async { js.get_object_store("XS-payloads").await.is_ok() });
    assert!(objects, "the large payloads went into the bucket XS-payloads");
}

#[test]
fn an_unregistered_mirror_stops_and_says_so() {
    let nats = NatsServer::start();
    nats.wait_ready();
    let owner = Owner::start();
    fill(&owner.store, "data", 10, 0, 0);
    let register = register_mirror(&owner.store, "out", json!({"url": nats.url(), "topics": "data"}));
    let rt = runtime();
    let js = context(&rt, &nats.url());
    wait_for_count(&rt, &js, "XS", 10, Duration::from_secs(60));
    owner.store.append(xs_core::Frame::builder("xs.mirror.out.unregister").build()).unwrap();
    let id = register.id.to_string();
    wait_for(&owner.store, "xs.mirror.out.unregistered", None, |f| meta_str(f, "mirror_id").as_deref() == Some(&id));
    let state = mirror_state(&owner.processor.as_ref().unwrap().states(), "out").unwrap();
    assert_eq!(state.state, State::Unregistered);
}

#[test]
fn a_stream_without_the_prefix_gets_its_subjects_added() {
    let nats = NatsServer::start();
    nats.wait_ready();
    let rt = runtime();
    let js = context(&rt, &nats.url());
    rt.block_on(async {
        let config =
            jetstream::stream::Config { name: "XS".into(), subjects: vec!["other.>".into()], ..Default::default() };
        js.create_stream(config).await.expect("a stream of other subjects");
    });
    let owner = Owner::start();
    fill(&owner.store, "data", 3, 0, 0);
    register_mirror(&owner.store, "out", json!({"url": nats.url(), "topics": "data"}));
    wait_for_count(&rt, &js, "XS", 3, Duration::from_secs(60));
    let subjects =
        rt.block_on(async { js.get_stream("XS").await.unwrap().info().await.unwrap().config.subjects.clone() });
    assert_eq!(subjects, ["other.>", "xs.>"]);
    assert_mirrored(&owner.store, &stored(&owner.store, "data"), &rt.block_on(published(&js, "XS")));
}
