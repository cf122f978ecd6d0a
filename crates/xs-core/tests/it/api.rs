//! The embedding API: one reader trait over the three reads, a
//! `cas_insert` that leaves the async runtime free, and the tracing set-up.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use xs_core::{
    FollowOption, Frame, ReadOptions,
    client::Client,
    connection::{Connection, Role},
    store::{Next, Poll, THRESHOLD},
    trace::{Trace, init},
};

use crate::{child, common::take, server::serve};

/// The store's `Reader`, the socket's `RemoteReader` and a connection's
/// `Subscription` are driven by one function over `dyn Poll`, and give the
/// same frames.
#[test]
fn one_poll_trait_drives_every_read() {
    let served = serve();
    let appended: Vec<Frame> =
        ["a", "b", "c"].iter().map(|t| served.store.append(Frame::builder(*t).build()).unwrap()).collect();
    let options = || ReadOptions::builder().follow(FollowOption::On).build();
    let connection = Connection::open(served.dir.path()).unwrap();
    assert_eq!(connection.role(), Role::Client);
    let mut reads: Vec<(&str, Box<dyn Poll>)> = vec![
        ("store", Box::new(served.store.reader(options()).unwrap())),
        ("client", Box::new(Client::new(served.dir.path()).reader(options()).unwrap())),
        ("connection", Box::new(connection.reader(options()).unwrap())),
    ];
    for (name, read) in &mut reads {
        let frames = take(read.as_mut(), 4);
        assert_eq!(frames[..3], appended[..], "{name}");
        assert_eq!(frames[3].topic, THRESHOLD, "{name}");
        assert!(matches!(read.poll(Duration::from_millis(10)).unwrap(), Next::Idle), "{name}");
    }
}

/// On a current-thread runtime, a task that is ready runs while
/// `cas_insert` hashes and writes: the insert is not done on the runtime's
/// one thread. (Inline, the insert finished within its first poll, before
/// the other task could run once.)
#[test]
fn cas_insert_leaves_a_current_thread_runtime_free() {
    let (_dir, store) = crate::common::store();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ticks = Arc::new(AtomicUsize::new(0));
    let payload = vec![7u8; 16 * 1024 * 1024];
    let hash = runtime.block_on(async {
        let ticker = ticks.clone();
        let ticking = tokio::spawn(async move {
            loop {
                ticker.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
            }
        });
        let hash = store.cas_insert(&payload).await.unwrap();
        ticking.abort();
        hash
    });
    assert!(ticks.load(Ordering::SeqCst) > 0, "no other task ran during the insert");
    assert_eq!(store.cas_read(&hash).unwrap(), payload);
}

/// Helper: sets up tracing into `$XS_IT_LOG`, opens a store as its owner
/// (which logs that it serves it), and reports `INSTALLED <bool>` twice
/// (the second set-up must change nothing).
#[test]
#[ignore = "helper: run in a child process by the trace tests"]
fn child_trace() {
    if !child::is("api::child_trace") {
        return;
    }
    let log = std::env::var("XS_IT_LOG").expect("XS_IT_LOG");
    println!("INSTALLED {}", init(Trace::file(&log)).expect("init"));
    let store = tempfile::tempdir().expect("tempdir");
    let connection = Connection::open(store.path()).expect("own a store");
    tracing::debug!("a debug line from the embedder");
    drop(connection);
    println!("AGAIN {}", init(Trace::stderr()).expect("init again"));
}

/// Runs [`child_trace`] with `env`; returns the log file's text.
fn traced(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("xs.log");
    let mut vars = vec![("XS_IT_LOG", log.to_str().unwrap()), ("RUST_LOG", "warn")];
    vars.extend_from_slice(env);
    let helper = child::spawn("api::child_trace", &vars);
    assert_eq!(helper.line("INSTALLED"), "true");
    assert_eq!(helper.line("AGAIN"), "false", "a second set-up changes nothing");
    assert!(helper.finish().success());
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&log).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "the log is its owner's alone");
    std::fs::read_to_string(&log).unwrap()
}

#[test]
fn trace_init_logs_to_a_file_filtered_by_xs_log_before_rust_log() {
    let log = traced(&[("XS_LOG", "debug")]);
    assert!(log.contains("serving as the store's owner"), "{log}");
    assert!(log.contains("a debug line from the embedder"), "{log}");
    let quiet = traced(&[]);
    assert!(!quiet.contains("serving as the store's owner"), "RUST_LOG=warn is obeyed: {quiet}");
}

#[test]
fn a_bad_filter_falls_back_to_info_and_says_so() {
    let log = traced(&[("XS_LOG", "xs_core=[")]);
    assert!(log.contains("XS_LOG is not a valid filter"), "{log}");
    assert!(log.contains("serving as the store's owner"), "info is the default: {log}");
    assert!(!log.contains("a debug line"), "{log}");
}
