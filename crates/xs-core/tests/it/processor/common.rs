//! Helpers for the processor tests: an owner with a running processor,
//! registering scripts, and bounded waits for the frames handlers write.

use std::time::{Duration, Instant};

use xs_core::{
    FollowOption, Frame, ReadOptions, Store,
    id::Scru128Id,
    processor::Processor,
    store::{Next, Poll},
};

use crate::common::PATIENCE;

/// A store in a temporary directory with its processor running.
pub struct Owner {
    pub store: Store,
    pub processor: Option<Processor>,
    pub dir: tempfile::TempDir,
}

impl Owner {
    pub fn start() -> Owner {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(dir.path()).expect("open store");
        let processor = Some(Processor::spawn(store.clone()).expect("spawn processor"));
        Owner { store, processor, dir }
    }

    /// Shuts the processor down and closes the store, keeping the directory.
    pub fn stop(mut self) -> tempfile::TempDir {
        if let Some(processor) = self.processor.take() {
            processor.shutdown();
        }
        self.store.close();
        self.dir
    }

    /// A new owner of the store in `dir`.
    pub fn reopen(dir: tempfile::TempDir) -> Owner {
        let store = Store::new(dir.path()).expect("reopen store");
        let processor = Some(Processor::spawn(store.clone()).expect("spawn processor"));
        Owner { store, processor, dir }
    }
}

/// Appends `script` as the register frame of handler `name`.
pub fn register(store: &Store, name: &str, script: &str) -> Frame {
    append_with(store, &format!("xs.handler.{name}.register"), script)
}

/// Appends `xs.handler.<name>.unregister`.
pub fn unregister(store: &Store, name: &str) -> Frame {
    store.append(Frame::builder(format!("xs.handler.{name}.unregister")).build()).expect("unregister")
}

/// Appends a frame on `topic` with `payload`.
pub fn append_with(store: &Store, topic: &str, payload: &str) -> Frame {
    let mut writer = store.cas_writer();
    std::io::Write::write_all(&mut writer, payload.as_bytes()).expect("write payload");
    let hash = writer.commit().expect("commit payload");
    store.append(Frame::builder(topic).hash(hash).build()).expect("append")
}

/// Appends a frame on `topic` with `meta`.
pub fn append_meta(store: &Store, topic: &str, meta: serde_json::Value) -> Frame {
    store.append(Frame::builder(topic).meta(meta).build()).expect("append")
}

/// The first frame on `topic` (a pattern) after `after` that `accept`s,
/// waiting at most [`PATIENCE`].
pub fn wait_for(store: &Store, topic: &str, after: Option<Scru128Id>, accept: impl Fn(&Frame) -> bool) -> Frame {
    let options = ReadOptions { follow: FollowOption::On, after, topic: Some(topic.into()), ..Default::default() };
    let mut reader = store.reader(options).expect("reader");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.checked_duration_since(Instant::now()).unwrap_or_else(|| panic!("no {topic} frame came"));
        match reader.poll(left).expect("poll") {
            Next::Frame(f) if f.topic != xs_core::store::THRESHOLD && accept(&f) => return f,
            Next::End => panic!("the store closed while waiting for {topic}"),
            _ => {}
        }
    }
}

/// The lifecycle frame `event` of handler `name` about the register frame `id`.
pub fn lifecycle(store: &Store, name: &str, event: &str, id: Scru128Id) -> Frame {
    let topic = format!("xs.handler.{name}.{event}");
    wait_for(store, &topic, None, |f| meta_str(f, "handler_id") == Some(id.to_string()))
}

/// `meta.<key>` of `frame` as a string.
pub fn meta_str(frame: &Frame, key: &str) -> Option<String> {
    frame.meta.as_ref()?.get(key)?.as_str().map(str::to_string)
}

/// Every stored frame on `topic` (a pattern), now.
pub fn frames(store: &Store, topic: &str) -> Vec<Frame> {
    crate::common::read_all(store, ReadOptions::builder().topic(topic.to_string()).build())
}

/// Waits until exactly `n` frames are stored on `topic`, then a little
/// longer to catch extra ones (a handler that emits too much is a bug).
pub fn settle(store: &Store, topic: &str, n: usize) -> Vec<Frame> {
    crate::common::wait_until(&format!("{n} frames on {topic}"), || frames(store, topic).len() >= n);
    std::thread::sleep(Duration::from_millis(200));
    frames(store, topic)
}

/// The payload of `frame` as text.
pub fn payload(store: &Store, frame: &Frame) -> String {
    let hash = frame.hash.as_ref().expect("a payload");
    String::from_utf8(store.cas_read(hash).expect("cas read")).expect("utf-8")
}

/// Opens the store in `dir`, waiting out a previous owner that is still
/// exiting (a killed process's lock goes with it, a moment later).
pub fn open_when_free(dir: &str) -> Store {
    let mut store = Store::new(dir);
    crate::common::wait_until("the store to be free", || {
        store = Store::new(dir);
        store.is_ok()
    });
    store.unwrap()
}

/// Kills an owner `cycles` times: each cycle re-runs this test binary as
/// the test `child` on the store in `dir`, waits for its `READY`, lets it
/// work for `least_ms` plus a random part of 400 ms, kills it with
/// SIGKILL, then calls `between` with the store and the cycle while no
/// owner runs.
pub fn kill_cycles(dir: &str, child: &str, cycles: usize, least_ms: u64, between: impl Fn(&Store, usize)) {
    let mut rng = scru128::new().to_u128();
    for cycle in 0..cycles {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let owner = crate::child::spawn(child, &[("XS_IT_DIR", dir)]);
        owner.line("READY");
        std::thread::sleep(Duration::from_millis(least_ms + (rng >> 64) as u64 % 400));
        owner.kill9();
        let store = open_when_free(dir);
        between(&store, cycle);
        store.close();
    }
}
