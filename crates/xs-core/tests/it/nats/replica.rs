//! Replicas: a second store equals what a mirror published (ids, meta,
//! ttl, payload bytes, the frames' JSON), follows live, resumes after a
//! restart with no gap and no duplicate, refuses appends until promoted,
//! and reports a wrong URL, wrong credentials or a missing stream clearly.

use std::time::{Duration, Instant};

use xs_core::{Frame, ReadOptions, Store, StoreError, TTL, nats::Replica};

use super::{publish::Publisher, runtime, server::NatsServer};
use crate::common::{read_all, wait_until};

/// Messages above this go to the object store (the test server's max payload).
const MAX_PAYLOAD: &str = "max_payload: 65536";

/// A source store with every kind of frame: no payload, an empty one, an
/// inline one, one too big to inline, one too big for a message; meta;
/// `last:` and `time:` ttls; a handler's script.
fn source_store() -> (tempfile::TempDir, Store) {
    let (dir, store) = crate::common::store();
    let rt = runtime();
    let payload = |bytes: Vec<u8>| Some(rt.block_on(store.cas_insert(bytes)).expect("cas"));
    let frames = vec![
        Frame::builder("note").meta(serde_json::json!({"app": "ed", "n": 1, "nested": {"z": [1, 2]}})).build(),
        Frame::builder("empty").maybe_hash(payload(Vec::new())).build(),
        Frame::builder("clip.add").maybe_hash(payload(b"hello".to_vec())).build(),
        Frame::builder("clip.add").maybe_hash(payload(vec![7; 20_000])).build(),
        Frame::builder("big").maybe_hash(payload((0..200_000u32).map(|i| (i % 251) as u8).collect())).build(),
        Frame::builder("keep").ttl(TTL::Last(2)).build(),
        Frame::builder("keep").ttl(TTL::Last(2)).build(),
        Frame::builder("keep").ttl(TTL::Last(2)).maybe_hash(payload(b"third".to_vec())).build(),
        Frame::builder("soon").ttl(TTL::Time(Duration::from_secs(3600))).build(),
        Frame::builder("xs.handler.h.register").maybe_hash(payload(b"{run: {|f| null}}".to_vec())).build(),
    ];
    for frame in frames {
        store.append(frame).expect("append");
    }
    (dir, store)
}

/// Asserts `replica` holds exactly the frames of `source`, the same JSON,
/// the same payload bytes.
fn assert_equal(source: &Store, replica: &Store) {
    let (want, got) = (read_all(source, ReadOptions::default()), read_all(replica, ReadOptions::default()));
    assert_eq!(got, want, "the replica's frames");
    let json = |frames: &[Frame]| frames.iter().map(|f| serde_json::to_string(f).expect("json")).collect::<Vec<_>>();
    assert_eq!(json(&got), json(&want), "the frames' JSON (what `xs cat` prints)");
    for hash in want.iter().filter_map(|f| f.hash.as_ref()) {
        assert_eq!(replica.cas_read(hash).expect("replica payload"), source.cas_read(hash).expect("payload"));
    }
}

/// Waits until `replica` holds `n` frames.
fn wait_for(replica: &Store, n: usize) {
    wait_until(&format!("the replica holds {n} frames"), || read_all(replica, ReadOptions::default()).len() >= n);
}

fn replica(url: &str, prefix: &str) -> Replica {
    Replica::builder().url(url).stream("XS").subject_prefix(prefix).build()
}

#[test]
fn a_replica_equals_its_source_including_object_store_payloads() {
    let nats = NatsServer::with_config(MAX_PAYLOAD);
    nats.wait_ready();
    let rt = runtime();
    let (_s, source) = source_store();
    let publisher = rt.block_on(Publisher::new(&nats.url(), "XS", &["desk1"], "desk1"));
    rt.block_on(publisher.publish_after(&source, None));
    let (_r, copy) = crate::common::store();
    let following = replica(&nats.url(), "desk1").spawn(copy.clone()).expect("the replica starts");
    wait_for(&copy, read_all(&source, ReadOptions::default()).len());
    following.stop().expect("stops cleanly");
    assert_equal(&source, &copy);
    assert!(copy.is_replica());
    let register = read_all(&copy, ReadOptions::builder().topic("xs.handler.*".to_string()).build());
    assert!(copy.is_inert(&register[0].id).expect("inert"), "a replica never runs its source's scripts");
}

#[test]
fn a_replica_follows_live_and_resumes_after_a_restart_with_no_gap_or_duplicate() {
    let nats = NatsServer::with_config(MAX_PAYLOAD);
    nats.wait_ready();
    let rt = runtime();
    let (_s, source) = source_store();
    let publisher = rt.block_on(Publisher::new(&nats.url(), "XS", &["desk1"], "desk1"));
    let mut last = rt.block_on(publisher.publish_after(&source, None));
    let (dir, copy) = crate::common::store();
    let following = replica(&nats.url(), "desk1").spawn(copy.clone()).expect("start");
    for round in 0..3 {
        for n in 0..5 {
            source.append(Frame::builder(format!("live.{round}")).meta(serde_json::json!({"n": n})).build()).unwrap();
        }
        last = rt.block_on(publisher.publish_after(&source, last));
        wait_for(&copy, read_all(&source, ReadOptions::default()).len());
    }
    following.stop().expect("stop");
    // Published while the replica is down, and the store reopened, as by a new process.
    for n in 0..7 {
        source.append(Frame::builder("while.down").meta(serde_json::json!({"n": n})).build()).unwrap();
    }
    last = rt.block_on(publisher.publish_after(&source, last));
    copy.close();
    drop(copy);
    let copy = Store::new(dir.path()).expect("reopen");
    let following = replica(&nats.url(), "desk1").spawn(copy.clone()).expect("restart");
    wait_for(&copy, read_all(&source, ReadOptions::default()).len());
    source.append(Frame::builder("after.restart").build()).unwrap();
    rt.block_on(publisher.publish_after(&source, last));
    wait_for(&copy, read_all(&source, ReadOptions::default()).len());
    following.stop().expect("stop");
    assert_equal(&source, &copy);
}

/// A replica that died with messages delivered but not acked (as after a
/// kill -9) gets them first on restart, at once, not after the ack wait
/// (30 s) behind newer ones.
#[test]
fn unacked_messages_of_a_dead_replica_come_again_first() {
    let nats = NatsServer::with_config(MAX_PAYLOAD);
    nats.wait_ready();
    let rt = runtime();
    let (_s, source) = source_store();
    let publisher = rt.block_on(Publisher::new(&nats.url(), "XS", &["desk1"], "desk1"));
    let last = rt.block_on(publisher.publish_after(&source, None));
    let (_r, copy) = crate::common::store();
    let following = replica(&nats.url(), "desk1").spawn(copy.clone()).expect("start");
    wait_for(&copy, read_all(&source, ReadOptions::default()).len());
    following.stop().expect("stop");
    for n in 0..10 {
        source.append(Frame::builder("pending").meta(serde_json::json!({"n": n})).build()).unwrap();
    }
    rt.block_on(publisher.publish_after(&source, last));
    rt.block_on(take_without_acking(&nats.url(), &copy, 4));
    let started = Instant::now();
    let following = replica(&nats.url(), "desk1").spawn(copy.clone()).expect("restart");
    let all = read_all(&source, ReadOptions::default()).len();
    while read_all(&copy, ReadOptions::default()).len() < all {
        assert!(started.elapsed() < Duration::from_secs(15), "the unacked messages did not come again first");
        std::thread::sleep(Duration::from_millis(20));
    }
    following.stop().expect("stop");
    assert_equal(&source, &copy);
}

/// Takes `n` messages from the replica's durable consumer and never acks
/// them, as a replica killed mid-copy would.
async fn take_without_acking(url: &str, copy: &Store, n: usize) {
    use futures_util::StreamExt;
    let mark = copy.checkpoint(b"replica").unwrap().expect("the replica mark");
    let source: serde_json::Value = serde_json::from_slice(&mark[1..]).expect("the mark's JSON");
    let name = source["consumer"].as_str().expect("a consumer name");
    let js = async_nats::jetstream::new(async_nats::connect(url).await.expect("connect"));
    let stream = js.get_stream("XS").await.expect("stream");
    let consumer: async_nats::jetstream::consumer::PullConsumer = stream.get_consumer(name).await.expect("consumer");
    let mut batch = consumer.fetch().max_messages(n).messages().await.expect("fetch");
    for _ in 0..n {
        batch.next().await.expect("a message").expect("delivered");
    }
}

#[test]
fn a_replica_refuses_appends_until_promoted() {
    let nats = NatsServer::start();
    nats.wait_ready();
    let rt = runtime();
    let (_s, source) = source_store();
    let publisher = rt.block_on(Publisher::new(&nats.url(), "XS", &["desk1"], "desk1"));
    rt.block_on(publisher.publish_after(&source, None));
    let (dir, copy) = crate::common::store();
    let following = replica(&nats.url(), "desk1").spawn(copy.clone()).expect("start");
    let n = read_all(&source, ReadOptions::default()).len();
    wait_for(&copy, n);
    following.stop().expect("stop");
    let refused = |store: &Store| {
        let head = read_all(store, ReadOptions::default()).last().cloned().expect("a frame");
        let attempts = [
            store.append(Frame::builder("mine").build()).map(drop),
            store.append(Frame::builder("mine").ttl(TTL::Ephemeral).build()).map(drop),
            store.append_batch(vec![Frame::builder("mine").build()], None).map(drop),
            store.import(Frame { id: scru128::new(), ..Frame::builder("mine").build() }).map(drop),
            store.remove(&head.id),
        ];
        for attempt in attempts {
            let e = attempt.expect_err("a write to a replica");
            assert!(matches!(e, StoreError::ReadOnlyReplica { .. }), "{e}");
            assert!(e.to_string().contains("read-only replica") && e.to_string().contains("promote"), "{e}");
        }
        assert_eq!(read_all(store, ReadOptions::default()).len(), n, "nothing was written");
    };
    refused(&copy);
    copy.close();
    drop(copy);
    let copy = Store::new(dir.path()).expect("reopen");
    assert!(copy.is_replica(), "the mark is durable");
    refused(&copy);
    assert!(copy.promote().expect("promote"));
    copy.append(Frame::builder("mine").build()).expect("a promoted store takes appends");
    copy.close();
    drop(copy);
    let copy = Store::new(dir.path()).expect("reopen");
    assert!(!copy.is_replica(), "the promotion is durable");
    copy.append(Frame::builder("mine").build()).expect("still writable");
    let again =
        replica(&nats.url(), "desk1").spawn(copy.clone()).map(drop).expect_err("no replica into a store of its own");
    assert!(matches!(again, StoreError::NotReplicable { .. }), "{again}");
}

#[test]
fn a_wrong_url_credentials_or_stream_give_a_clear_error() {
    let nats = NatsServer::with_config(
        r#"authorization { users: [
            {user: ann, password: s3cret},
            {user: bob, password: pw, permissions: {publish: {deny: ["$JS.API.CONSUMER.>"]}}}
        ] }"#,
    );
    nats.wait_ready();
    let port = nats.url().rsplit(':').next().unwrap().to_string();
    let (_r, copy) = crate::common::store();
    let start = |url: &str, stream: &str| {
        let replica = Replica::builder().url(url).stream(stream).build();
        replica.spawn(copy.clone()).map(drop).expect_err("no replica").to_string()
    };
    let unreachable = format!("nats://127.0.0.1:{}", super::server::free_port());
    let e = start(&unreachable, "XS");
    assert!(e.contains("cannot connect") && e.contains(&unreachable), "{e}");
    let e = start(&format!("nats://ann:wrong@127.0.0.1:{port}"), "XS");
    assert!(e.contains("refused the credentials"), "{e}");
    assert!(!e.contains("wrong"), "the password is redacted: {e}");
    let e = start(&format!("nats://ann:s3cret@127.0.0.1:{port}"), "NOPE");
    assert!(e.contains("cannot open stream NOPE"), "{e}");
    assert!(!e.contains("s3cret"), "{e}");
    runtime().block_on(async {
        let ann = async_nats::ConnectOptions::with_user_and_password("ann".into(), "s3cret".into());
        let js = async_nats::jetstream::new(ann.connect(nats.url()).await.expect("connect"));
        let config = async_nats::jetstream::stream::Config {
            name: "XS".into(),
            subjects: vec!["xs.>".into()],
            ..Default::default()
        };
        js.create_stream(config).await.expect("stream");
    });
    let e = start(&format!("nats://bob:pw@127.0.0.1:{port}"), "XS");
    assert!(e.contains("consumer xs-replica-") && e.contains("Permissions Violation"), "{e}");
    assert!(!copy.is_replica(), "a replica that never started leaves the store as it was");
}

/// Many into one: two stores publish to one stream under their own
/// prefixes; a replica per prefix copies exactly its own source.
#[test]
fn two_sources_in_one_stream_each_get_their_own_replica() {
    let nats = NatsServer::with_config(MAX_PAYLOAD);
    nats.wait_ready();
    let rt = runtime();
    let (_a, desk1) = source_store();
    let (_b, desk2) = crate::common::store();
    desk2.append(Frame::builder("clip.add").meta(serde_json::json!({"from": "desk2"})).build()).unwrap();
    for (store, prefix) in [(&desk1, "desk1"), (&desk2, "desk2")] {
        let publisher = rt.block_on(Publisher::new(&nats.url(), "XS", &["desk1", "desk2"], prefix));
        rt.block_on(publisher.publish_after(store, None));
    }
    let ((_c1, copy1), (_c2, copy2)) = (crate::common::store(), crate::common::store());
    let one = replica(&nats.url(), "desk1").spawn(copy1.clone()).expect("replica of desk1");
    let two = replica(&nats.url(), "desk2").spawn(copy2.clone()).expect("replica of desk2");
    wait_for(&copy1, read_all(&desk1, ReadOptions::default()).len());
    wait_for(&copy2, 1);
    one.stop().expect("stop");
    two.stop().expect("stop");
    assert_equal(&desk1, &copy1);
    assert_equal(&desk2, &copy2);
}

/// A nats-server that goes away and comes back (its JetStream files kept):
/// the replica retries, and copies what is published after, with no gap.
#[test]
fn a_replica_rides_out_a_server_restart() {
    let mut nats = NatsServer::with_config(MAX_PAYLOAD);
    nats.wait_ready();
    let rt = runtime();
    let (_s, source) = source_store();
    let last = rt.block_on(async {
        let publisher = Publisher::new(&nats.url(), "XS", &["desk1"], "desk1").await;
        publisher.publish_after(&source, None).await
    });
    let (_r, copy) = crate::common::store();
    let following = replica(&nats.url(), "desk1").spawn(copy.clone()).expect("start");
    wait_for(&copy, read_all(&source, ReadOptions::default()).len());
    nats.stop();
    nats.start_again().wait_ready();
    for n in 0..5 {
        source.append(Frame::builder("after.outage").meta(serde_json::json!({"n": n})).build()).unwrap();
    }
    rt.block_on(async {
        let publisher = Publisher::new(&nats.url(), "XS", &["desk1"], "desk1").await;
        publisher.publish_after(&source, last).await
    });
    wait_for(&copy, read_all(&source, ReadOptions::default()).len());
    assert!(!following.is_finished(), "the replica kept going");
    following.stop().expect("stop");
    assert_equal(&source, &copy);
}
