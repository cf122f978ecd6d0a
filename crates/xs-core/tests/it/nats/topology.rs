//! Issue 15's whole picture: two stores, standing in for two machines,
//! each mirror into one three-node JetStream under its own prefix, and a
//! replica of each follows live. Killing any one process (either owner,
//! one NATS node, or a replica) loses and duplicates nothing: in the end
//! the stream holds each store's frames once, in order, and each replica
//! equals its source.
//!
//! Owners and replicas are this test binary re-run as [`child_owner`] and
//! [`child_replica`] (see `child.rs`), so they can be killed with SIGKILL.

use std::time::Duration;

use serde_json::json;
use xs_core::{Frame, ReadOptions, Store, nats::Replica, processor::Processor};

use super::{
    jetstream::{assert_mirrored, fill, published, register_mirror, stored},
    mirror::{context, mirror_state, wait_for_count},
    runtime,
    server::NatsCluster,
};
use crate::{
    child,
    common::{PATIENCE, read_all, wait_until},
    processor::common::{Owner, open_when_free},
};

const OWNER: &str = "nats::topology::child_owner";
const REPLICA: &str = "nats::topology::child_replica";
const PREFIXES: [&str; 2] = ["desk1", "desk2"];

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set for the child"))
}

/// Run by a child only: owns a source store, runs its processor (and so
/// its mirror), and appends frames (some with payloads above the servers'
/// max payload) until killed.
#[test]
#[ignore = "run as a child of two_stores_one_cluster_survive_any_one_kill"]
fn child_owner() {
    if !child::is(OWNER) {
        return;
    }
    let store = open_when_free(&env("XS_IT_DIR"));
    let _processor = Processor::spawn(store.clone()).unwrap();
    println!("READY");
    loop {
        fill(&store, "data", 5, 40, 100_000);
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Run by a child only: keeps the store in `XS_IT_DIR` a replica of the
/// prefix `XS_IT_PREFIX` until killed or told to stop.
#[test]
#[ignore = "run as a child of two_stores_one_cluster_survive_any_one_kill"]
fn child_replica() {
    if !child::is(REPLICA) {
        return;
    }
    let store = open_when_free(&env("XS_IT_DIR"));
    let following = replica(&env("XS_IT_NATS"), &env("XS_IT_PREFIX")).spawn(store).unwrap();
    println!("READY");
    child::wait_for_parent();
    following.stop().unwrap();
}

fn replica(urls: &str, prefix: &str) -> Replica {
    Replica::builder().url(urls).stream("XS").subject_prefix(prefix).build()
}

/// A source store with a backlog (some payloads for the object store)
/// and a mirror into the cluster's R3 stream under `prefix`.
fn source(urls: &str, prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path()).unwrap();
    fill(&store, "data", 400, 50, 100_000);
    let config = json!({"url": urls, "stream": "XS", "subject_prefix": prefix, "replicas": 3, "topics": ["data"]});
    register_mirror(&store, "out", config);
    store.close();
    dir
}

fn path(dir: &tempfile::TempDir) -> &str {
    dir.path().to_str().unwrap()
}

fn pause() {
    std::thread::sleep(Duration::from_millis(700));
}

#[test]
fn two_stores_one_cluster_survive_any_one_kill() {
    let mut cluster = NatsCluster::start();
    let urls = cluster.urls();
    let sources = PREFIXES.map(|prefix| source(&urls, prefix));
    let copies = PREFIXES.map(|_| tempfile::tempdir().unwrap());
    let spawn_owner = |i: usize| {
        let owner = child::spawn(OWNER, &[("XS_IT_DIR", path(&sources[i]))]);
        owner.line("READY");
        owner
    };
    let spawn_replica = |i: usize| {
        let env = [("XS_IT_DIR", path(&copies[i])), ("XS_IT_NATS", urls.as_str()), ("XS_IT_PREFIX", PREFIXES[i])];
        let replica = child::spawn(REPLICA, &env);
        replica.line("READY");
        replica
    };
    let mut owners = [spawn_owner(0), spawn_owner(1)].map(Some);
    // A replica needs the stream, which the first mirror to connect creates.
    let rt = runtime();
    let js = context(&rt, &urls);
    wait_for_count(&rt, &js, "XS", 1, PATIENCE);
    let mut replicas = [spawn_replica(0), spawn_replica(1)].map(Some);
    pause();

    // Either owner.
    owners[0].take().unwrap().kill9();
    pause();
    owners[0] = Some(spawn_owner(0));
    pause();
    // One NATS node (the first, a seed of every client).
    cluster.nodes[0].stop();
    pause();
    cluster.nodes[0].start_again().wait_ready();
    pause();
    // A replica.
    replicas[1].take().unwrap().kill9();
    pause();
    replicas[1] = Some(spawn_replica(1));
    pause();
    // The other owner, last, so its mirror resumes under the checks below.
    owners[1].take().unwrap().kill9();

    // Appends stop: each store's last owner runs its mirror until the
    // stream has all of it.
    owners[0].take().unwrap().kill9();
    let mut expected = Vec::new();
    for dir in sources {
        let owner = Owner::reopen(dir);
        let processor = owner.processor.as_ref().unwrap();
        wait_until("the mirror has published everything", || {
            mirror_state(&processor.states(), "out").and_then(|s| s.mirror).is_some_and(|m| m.lag == 0)
        });
        expected.push(owner);
    }
    let total: usize = expected.iter().map(|owner| stored(&owner.store, "data").len()).sum();
    wait_for_count(&rt, &js, "XS", total as u64, PATIENCE);
    let all = rt.block_on(published(&js, "XS"));
    assert_eq!(all.len(), total, "the stream holds the two stores' frames and nothing else");
    for owner in &expected {
        let frames = stored(&owner.store, "data");
        let ids: std::collections::HashSet<_> = frames.iter().map(|f| f.id).collect();
        let mine: Vec<_> = all.iter().filter(|(f, _)| ids.contains(&f.id)).cloned().collect();
        assert_mirrored(&owner.store, &frames, &mine);
    }

    // Each replica, stopped and resumed in this process, equals its source.
    for replica in replicas.iter_mut() {
        assert!(replica.take().unwrap().finish().success(), "a replica stops cleanly");
    }
    for ((owner, copy), prefix) in expected.iter().zip(&copies).zip(PREFIXES) {
        let frames = stored(&owner.store, "data");
        let store = Store::new(copy.path()).unwrap();
        let following = replica(&urls, prefix).spawn(store.clone()).unwrap();
        let deadline = std::time::Instant::now() + PATIENCE * 3;
        while stored(&store, "data").len() < frames.len() {
            assert!(std::time::Instant::now() < deadline, "the replica of {prefix} caught up");
            std::thread::sleep(Duration::from_millis(50));
        }
        following.stop().unwrap();
        let copied = stored(&store, "data");
        assert_eq!(copied, frames, "the replica of {prefix} has the source's frames, once each, in order");
        for frame in &frames {
            let hash = frame.hash.as_ref().unwrap();
            assert!(store.cas_read(hash).unwrap() == owner.store.cas_read(hash).unwrap(), "payload of {}", frame.id);
        }
        let everything = read_all(&store, ReadOptions::default());
        assert!(everything.iter().all(|f: &Frame| f.topic == "data"), "only mirrored topics reach the replica");
    }
}
