//! The store side of a mirror: a thread that follows the store after the
//! resume point and hands each frame to publish, payload loaded, over a
//! bounded channel.
//!
//! Reading and loading payloads happen on their own thread so the
//! publisher never waits on the disk, and the channel's bound keeps a
//! large backlog from being read into memory faster than NATS takes it.
//! Only stored frames go out: the reader's markers (`xs.threshold`,
//! `xs.pulse`) and ephemeral frames, which are never stored, are skipped.

use std::{thread::JoinHandle, time::Duration};

use scru128::Scru128Id;
use tokio::sync::mpsc;

use crate::{
    FollowOption, Frame, ReadOptions, TTL,
    error::Result,
    store::{Next, PULSE, Poll, Store, THRESHOLD},
};

/// Frames read ahead of the publisher.
const AHEAD: usize = 1024;
/// How often an idle feed checks whether the publisher is gone.
const TICK: Duration = Duration::from_millis(100);

/// One frame to publish, with its payload (when it has one).
pub struct Item {
    /// The frame.
    pub frame: Frame,
    /// Its payload's bytes.
    pub payload: Option<Vec<u8>>,
}

/// What the feed sends: a frame, or why it ends.
pub enum Fed {
    /// The next frame in id order.
    Item(Item),
    /// The feed failed (a storage error); it ends.
    Failed(crate::StoreError),
}

/// A running feed; dropping its receiver ends the thread.
pub struct Feed {
    /// The frames, in id order.
    pub frames: mpsc::Receiver<Fed>,
    thread: Option<JoinHandle<()>>,
}

impl Feed {
    /// Starts following `store` after `after` (from the start if none),
    /// on the topics of the comma list `topics`.
    ///
    /// # Errors
    ///
    /// The reader cannot be opened (a bad topic list), or the thread not started.
    pub fn start(store: &Store, topics: &str, after: Option<Scru128Id>) -> Result<Feed> {
        let options =
            ReadOptions::builder().follow(FollowOption::On).topic(topics.to_string()).maybe_after(after).build();
        let mut reader = store.reader(options)?;
        let (send, frames) = mpsc::channel(AHEAD);
        let store = store.clone();
        let thread = std::thread::Builder::new()
            .name("xs-mirror-feed".into())
            .spawn(move || feed(&store, &mut reader, &send))?;
        Ok(Feed { frames, thread: Some(thread) })
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.frames.close();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("a mirror's feed thread panicked");
        }
    }
}

/// The thread: read, load, send, until the publisher hangs up.
fn feed(store: &Store, reader: &mut impl Poll, send: &mpsc::Sender<Fed>) {
    loop {
        let fed = match reader.poll(TICK) {
            Ok(Next::Frame(frame)) if is_marker(&frame) || frame.ttl == Some(TTL::Ephemeral) => continue,
            Ok(Next::Frame(frame)) => match load(store, frame) {
                Ok(item) => Fed::Item(item),
                Err(e) => Fed::Failed(e),
            },
            Ok(Next::Idle) if send.is_closed() => return,
            Ok(Next::Idle) => continue,
            Ok(Next::End) => return,
            Err(e) => Fed::Failed(e),
        };
        let failed = matches!(fed, Fed::Failed(_));
        if send.blocking_send(fed).is_err() || failed {
            return;
        }
    }
}

/// A reader's marker (`xs.threshold`, `xs.pulse`), never a stored frame.
fn is_marker(frame: &Frame) -> bool {
    frame.topic == THRESHOLD || frame.topic == PULSE
}

/// The frame with its payload read from the CAS.
fn load(store: &Store, frame: Frame) -> Result<Item> {
    let payload = frame.hash.as_ref().map(|hash| store.cas_read(hash)).transpose()?;
    Ok(Item { frame, payload })
}
