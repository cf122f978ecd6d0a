//! Helpers shared by the integration tests.

use std::time::{Duration, Instant};

use xs_core::{
    Frame, ReadOptions, Reader, Store,
    store::{Next, Poll},
};

/// How long any wait in a test may take before it fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A fresh store in a temporary directory (kept alive by the returned guard).
pub fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::new(dir.path()).expect("open store");
    (dir, store)
}

/// Appends a payload-less frame on `topic`.
pub fn append(store: &Store, topic: &str) -> Frame {
    store.append(Frame::builder(topic).build()).expect("append")
}

/// Every frame a non-following read gives.
pub fn read_all(store: &Store, options: ReadOptions) -> Vec<Frame> {
    store.reader(options).expect("reader").collect::<Result<_, _>>().expect("read")
}

/// Topics of `frames`.
pub fn topics(frames: &[Frame]) -> Vec<&str> {
    frames.iter().map(|f| f.topic.as_str()).collect()
}

/// The next `n` frames of a following read (from the store, its socket or
/// a connection), failing the test after [`PATIENCE`].
pub fn take(reader: &mut (impl Poll + ?Sized), n: usize) -> Vec<Frame> {
    let deadline = Instant::now() + PATIENCE;
    let mut frames = Vec::with_capacity(n);
    while frames.len() < n {
        let left = deadline.checked_duration_since(Instant::now()).expect("timed out waiting for frames");
        match reader.poll(left).expect("poll") {
            Next::Frame(f) => frames.push(f),
            Next::Idle => {}
            Next::End => panic!("read ended after {} of {n} frames", frames.len()),
        }
    }
    frames
}

/// Frames of a following read until it goes idle for `quiet`.
pub fn drain(reader: &mut Reader, quiet: Duration) -> Vec<Frame> {
    let mut frames = Vec::new();
    while let Next::Frame(f) = reader.poll(quiet).expect("poll") {
        frames.push(f);
    }
    frames
}

/// Waits until `cond` holds, failing after [`PATIENCE`].
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
