//! One owner, many clients: the choice, and takeover when the owner goes.
//!
//! Owners that must die (SIGKILL) or race run in child processes: this
//! test binary re-invoked on the helper `child_connection` (see `child.rs`).

use std::{
    collections::BTreeSet,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    time::Instant,
};

use xs_core::{
    FollowOption, Frame, ReadOptions,
    connection::{Connection, Role},
    id::Scru128Id,
    store::{Next, Poll},
};

use crate::{
    child,
    common::{PATIENCE, take},
};

/// Helper: opens a Connection on `$XS_IT_STORE`, reports `ROLE <role>`,
/// and lives until the parent closes its stdin (or kills it).
#[test]
#[ignore = "helper: run in a child process by the takeover tests"]
fn child_connection() {
    if !child::is("takeover::child_connection") {
        return;
    }
    let store = std::env::var("XS_IT_STORE").expect("XS_IT_STORE");
    let connection = Connection::open(store).expect("open a connection");
    println!("ROLE {:?}", connection.role());
    child::wait_for_parent();
}

fn spawn_connection(store: &Path) -> child::Child {
    child::spawn("takeover::child_connection", &[("XS_IT_STORE", store.to_str().expect("utf-8 path"))])
}

#[test]
fn first_opener_owns_the_rest_are_clients() {
    let dir = tempfile::tempdir().unwrap();
    let owner = Connection::open(dir.path()).unwrap();
    assert_eq!(owner.role(), Role::Owner);
    let client = Connection::open(dir.path()).unwrap();
    assert_eq!(client.role(), Role::Client);
    let frame = client.append(Frame::builder("note").build(), &b"via socket"[..]).unwrap();
    assert_eq!(owner.get(&frame.id).unwrap(), Some(frame.clone()));
    assert_eq!(owner.cas_read(frame.hash.as_ref().unwrap()).unwrap(), b"via socket");
    assert!(owner.store().is_some() && client.store().is_none());
}

/// The owner shuts down gracefully while a client follows: the client
/// takes over and its follow continues with no gap and no duplicate.
#[test]
fn graceful_owner_exit_hands_over_the_follow() {
    let dir = tempfile::tempdir().unwrap();
    let owner = Connection::open(dir.path()).unwrap();
    let client = Connection::open(dir.path()).unwrap();
    let before = client.append(Frame::builder("n").build(), std::io::empty()).unwrap();
    let mut follow = client.reader(ReadOptions::builder().follow(FollowOption::On).build()).unwrap();
    assert_eq!(take(&mut follow, 2).iter().map(|f| f.topic.as_str()).collect::<Vec<_>>(), ["n", "xs.threshold"]);
    drop(owner);
    let after = client.append(Frame::builder("n").build(), std::io::empty()).unwrap();
    assert_eq!(client.role(), Role::Owner, "the client took over");
    assert!(before.id < after.id);
    assert_eq!(take(&mut follow, 1), vec![after]);
}

/// The owner process is SIGKILLed while one client follows and another
/// appends: the follow continues with every stored frame exactly once.
#[test]
fn sigkilled_owner_is_taken_over_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let owner = spawn_connection(dir.path());
    assert_eq!(owner.line("ROLE"), "Owner");
    let follower = Connection::open(dir.path()).unwrap();
    let appender = Connection::open(dir.path()).unwrap();
    assert_eq!((follower.role(), appender.role()), (Role::Client, Role::Client));

    let (frames_tx, frames) = mpsc::channel();
    let done = Arc::new(AtomicBool::new(false));
    let reading = std::thread::spawn({
        let (follower, done) = (follower.clone(), done.clone());
        move || follow_into(&follower, &frames_tx, &done)
    });
    let (acked_tx, acked) = mpsc::channel();
    let appending = std::thread::spawn({
        let appender = appender.clone();
        move || append_numbered(&appender, 300, &acked_tx)
    });
    let mut acknowledged: Vec<Scru128Id> =
        (0..100).map(|_| acked.recv_timeout(PATIENCE).expect("an acknowledged append")).collect();
    owner.kill9();
    appending.join().expect("the appender survives the takeover");
    acknowledged.extend(acked.try_iter());
    assert_eq!(acknowledged.len(), 300);

    let stored: Vec<Scru128Id> = appender.reader(ReadOptions::default()).unwrap().map(|f| f.unwrap().id).collect();
    let received = receive(&frames, stored.len());
    done.store(true, Ordering::SeqCst);
    reading.join().unwrap();
    assert_eq!(received, stored, "the follow saw every stored frame exactly once, in order");
    let stored: BTreeSet<_> = stored.into_iter().collect();
    assert!(acknowledged.iter().all(|id| stored.contains(id)), "every acknowledged append is stored");
    assert!(follower.role() == Role::Owner || appender.role() == Role::Owner, "one of them took over");
}

/// Follows `connection` until `done`, sending each non-marker frame's id.
fn follow_into(connection: &Connection, out: &mpsc::Sender<Scru128Id>, done: &AtomicBool) {
    let mut follow = connection.reader(ReadOptions::builder().follow(FollowOption::On).build()).unwrap();
    while !done.load(Ordering::SeqCst) {
        match follow.poll(std::time::Duration::from_millis(50)).expect("the follow survives the takeover") {
            Next::Frame(f) if !f.topic.starts_with("xs.") => out.send(f.id).unwrap(),
            Next::End => panic!("the follow ended"),
            _ => {}
        }
    }
}

/// Appends `n` frames; one cut off by the owner's death is sent again
/// (it may or may not have been stored: the follow must match the store).
fn append_numbered(connection: &Connection, n: usize, acked: &mpsc::Sender<Scru128Id>) {
    let deadline = Instant::now() + PATIENCE;
    for i in 0..n {
        loop {
            let frame = Frame::builder("seq").meta(serde_json::json!({ "i": i })).build();
            match connection.append(frame, &b"payload"[..]) {
                Ok(frame) => break acked.send(frame.id).unwrap(),
                Err(e) => assert!(Instant::now() < deadline, "append {i} keeps failing: {e}"),
            }
        }
    }
}

/// The first `n` ids from `frames`, failing after PATIENCE; then checks no more come.
fn receive(frames: &mpsc::Receiver<Scru128Id>, n: usize) -> Vec<Scru128Id> {
    let mut received: Vec<_> =
        (0..n).map(|i| frames.recv_timeout(PATIENCE).unwrap_or_else(|_| panic!("only {i} of {n} frames"))).collect();
    received.extend(frames.recv_timeout(std::time::Duration::from_millis(200)));
    received
}

/// Two processes find the owner dead at once: exactly one becomes the owner.
#[test]
fn racing_takers_yield_exactly_one_owner() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..3 {
        let first = spawn_connection(dir.path());
        assert_eq!(first.line("ROLE"), "Owner", "round {round}");
        first.kill9();
        let takers = [spawn_connection(dir.path()), spawn_connection(dir.path())];
        let mut roles: Vec<String> = takers.iter().map(|t| t.line("ROLE")).collect();
        roles.sort();
        assert_eq!(roles, ["Client", "Owner"], "round {round}");
        for taker in takers {
            assert!(taker.finish().success());
        }
    }
}
