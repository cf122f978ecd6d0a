//! Exactly once across SIGKILL: the owner running a mirror is killed at
//! random moments while a backlog drains and new frames arrive; in the
//! end the stream holds every stored frame once, in order.
//!
//! The owner is this test binary re-run as [`child_owner`] (see
//! `child.rs`); between owners the test appends frames itself.

use std::time::Duration;

use serde_json::json;
use xs_core::{Store, processor::Processor};

use super::{
    jetstream::{assert_mirrored, fill, published, register_mirror, stored},
    mirror::{context, mirror_state, wait_for_count},
    runtime,
    server::NatsServer,
};
use crate::{
    child,
    processor::common::{Owner, kill_cycles, open_when_free},
};

const CHILD: &str = "nats::mirror_crash::child_owner";
const CYCLES: usize = 5;

/// Run by the child process only: owns the store, runs its processor
/// (and so the mirror), and appends frames until killed.
#[test]
#[ignore = "run as a child of sigkill_of_the_owner_neither_skips_nor_duplicates"]
fn child_owner() {
    if !child::is(CHILD) {
        return;
    }
    let store = open_when_free(&std::env::var("XS_IT_DIR").unwrap());
    let _processor = Processor::spawn(store.clone()).unwrap();
    println!("READY");
    loop {
        fill(&store, "data", 5, 0, 0);
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn sigkill_of_the_owner_neither_skips_nor_duplicates() {
    let nats = NatsServer::with_config("max_payload: 65536\n");
    nats.wait_ready();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_string();
    {
        let store = Store::new(&path).unwrap();
        fill(&store, "data", 5000, 500, 100_000);
        register_mirror(&store, "out", json!({"url": nats.url(), "topics": ["data"]}));
        store.close();
    }
    kill_cycles(&path, CHILD, CYCLES, 500, |store, _| fill(store, "data", 100, 0, 0));
    let rt = runtime();
    let js = context(&rt, &nats.url());
    let before = rt.block_on(super::jetstream::count(&js, "XS"));
    let owner = Owner::reopen(dir);
    let frames = stored(&owner.store, "data");
    eprintln!("{before} of {} frames were in the stream before the last owner", frames.len());
    assert!(before > 0, "the killed owners published");
    wait_for_count(&rt, &js, "XS", frames.len() as u64, Duration::from_secs(120));
    let processor = owner.processor.as_ref().unwrap();
    crate::common::wait_until("the mirror has caught up", || {
        mirror_state(&processor.states(), "out").and_then(|s| s.mirror).is_some_and(|m| m.lag == 0)
    });
    assert_mirrored(&owner.store, &frames, &rt.block_on(published(&js, "XS")));
}
