//! `xs_core::client::Client` against a served store: every operation with the
//! store's types and errors, lossless follows for slow readers, and no
//! leaked descriptors.

use std::{
    collections::HashSet,
    io::Read,
    time::{Duration, Instant},
};

use xs_core::{
    Durability, FollowOption, Frame, ReadOptions, Store, StoreError, TTL,
    client::Client,
    server::{ServeOptions, Server},
    store::{Next, Poll},
};

use crate::{
    child,
    common::{PATIENCE, wait_until},
    server::{next, serve},
};

#[test]
fn client_speaks_every_operation() {
    let served = serve();
    let client = Client::new(served.dir.path());
    assert_eq!(client.version().unwrap(), env!("CARGO_PKG_VERSION"));
    let meta = serde_json::json!({"app": "term"});
    let frame =
        client.append(Frame::builder("clip.add").meta(meta.clone()).ttl(TTL::Last(3)).build(), &b"hi"[..]).unwrap();
    assert_eq!((frame.meta.as_ref(), frame.ttl), (Some(&meta), Some(TTL::Last(3))));
    let hash = frame.hash.clone().expect("a payload gives a hash");
    assert_eq!(client.cas_read(&hash).unwrap(), b"hi");
    assert_eq!(client.get(&frame.id).unwrap(), Some(frame.clone()));
    assert_eq!(client.last("clip.*", 1).unwrap(), vec![frame.clone()]);
    let second = client.append(Frame::builder("clip.add").build(), std::io::empty()).unwrap();
    assert_eq!(second.hash, None);
    assert_eq!(client.last("clip.add", 5).unwrap(), vec![frame.clone(), second.clone()]);
    assert!(client.last("nothing", 1).unwrap().is_empty());
    let all: Vec<Frame> = client.reader(ReadOptions::default()).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(all, vec![frame.clone(), second.clone()]);
    let put = client.cas_insert(&b"content"[..]).unwrap();
    assert_eq!(served.store.cas_read(&put).unwrap(), b"content");
    client.remove(&frame.id).unwrap();
    assert_eq!(client.get(&frame.id).unwrap(), None);
}

#[test]
fn client_errors_are_the_stores() {
    let served = serve();
    let client = Client::new(served.dir.path());
    assert!(matches!(
        client.append(Frame::builder("a..b").build(), std::io::empty()),
        Err(StoreError::InvalidTopic { .. })
    ));
    let bad_meta = Frame::builder("a").meta(serde_json::json!([1])).build();
    assert!(matches!(client.append(bad_meta, std::io::empty()), Err(StoreError::InvalidMeta { .. })));
    assert!(matches!(client.remove(&xs_core::id::Scru128Id::from_u128(1)), Err(StoreError::NotFound(_))));
    let missing: xs_core::hash::Integrity = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".parse().unwrap();
    assert!(matches!(client.cas_read(&missing), Err(StoreError::HashNotFound(_))));
    assert!(matches!(client.last("bad..", 1), Err(StoreError::InvalidTopic { .. })));
    let nobody = Client::new(tempfile::tempdir().unwrap().path());
    assert!(matches!(nobody.version(), Err(StoreError::Io(_))));
}

#[test]
fn big_payloads_stream_both_ways() {
    let served = serve();
    let client = Client::new(served.dir.path());
    let payload: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    let frame = client.append(Frame::builder("blob").build(), payload.as_slice()).unwrap();
    let mut back = Vec::new();
    client.cas_reader(frame.hash.as_ref().unwrap()).unwrap().read_to_end(&mut back).unwrap();
    assert!(back == payload, "5 MB round trip");
}

/// A follower that reads nothing while 20,000 frames are appended, then
/// reads: every frame arrives, in order, over the socket.
#[test]
fn stalled_socket_follower_gets_every_frame_in_order() {
    const N: usize = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Durability::Buffered).unwrap();
    let _server = Server::bind(store.clone(), ServeOptions::default()).unwrap().spawn().unwrap();
    let client = Client::new(dir.path());
    let mut follow = client.reader(ReadOptions::builder().follow(FollowOption::On).build()).unwrap();
    assert_eq!(next(&mut follow).topic, "xs.threshold");
    let appended: Vec<_> = std::thread::scope(|s| {
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let store = &store;
                s.spawn(move || {
                    (0..N / 4)
                        .map(|i| {
                            store
                                .append(Frame::builder(format!("w{w}")).meta(serde_json::json!({"i": i})).build())
                                .unwrap()
                                .id
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        writers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    let mut expected = appended;
    expected.sort();
    let got: Vec<_> = (0..N).map(|_| next(&mut follow).id).collect();
    assert_eq!(got, expected, "all {N}, in id order, exactly once");
}

/// Opening and dropping 1000 follows leaves no descriptor behind. Run in
/// a child process, so the other tests' files do not blur the count.
#[test]
fn thousand_follows_leak_no_descriptors() {
    let helper = child::spawn("client::child_thousand_follows", &[]);
    assert_eq!(helper.line("FDS"), "ok");
    assert!(helper.finish().success());
}

#[test]
#[ignore = "helper: run in a child process by thousand_follows_leak_no_descriptors"]
fn child_thousand_follows() {
    if !child::is("client::child_thousand_follows") {
        return;
    }
    let served = serve();
    let client = Client::new(served.dir.path());
    let options = ReadOptions::builder().follow(FollowOption::On).build();
    drop(client.reader(options.clone()).unwrap()); // warm up: runtime threads, pools
    let baseline = open_fds();
    let mut open = Vec::new();
    for i in 0..1000 {
        let mut follow = client.reader(options.clone()).unwrap();
        assert_eq!(next(&mut follow).topic, "xs.threshold");
        open.push(follow);
        if i % 100 == 99 {
            open.clear(); // drop them in batches: a hundred open at once, then none
        }
    }
    wait_until("the server closes the dropped follows", || open_fds() <= baseline);
    println!("FDS ok");
    child::wait_for_parent();
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(Iterator::count).unwrap_or(usize::MAX)
}

/// A poll that times out mid-stream loses nothing.
#[test]
fn polls_that_time_out_lose_nothing() {
    let served = serve();
    let client = Client::new(served.dir.path());
    let mut follow = client.reader(ReadOptions::builder().follow(FollowOption::On).build()).unwrap();
    assert_eq!(next(&mut follow).topic, "xs.threshold");
    let mut seen = HashSet::new();
    let deadline = Instant::now() + PATIENCE;
    for round in 0..50 {
        assert!(matches!(follow.poll(Duration::from_millis(1)).unwrap(), Next::Idle));
        let frame =
            served.store.append(Frame::builder("tick").meta(serde_json::json!({"round": round})).build()).unwrap();
        while !seen.contains(&frame.id) {
            assert!(Instant::now() < deadline, "frame {round} never came");
            if let Next::Frame(f) = follow.poll(Duration::from_millis(1)).unwrap() {
                assert!(seen.insert(f.id), "a frame came twice");
            }
        }
    }
    assert_eq!(seen.len(), 50);
}
