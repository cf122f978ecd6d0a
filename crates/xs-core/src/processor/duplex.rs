//! A duplex generator's input: the payloads of `<name>.send` frames,
//! written to its pipeline's input as they are appended.
//!
//! One follow per generator instance (a [`Reader`] of `<name>.send` from
//! the moment it started: sends from before are not replayed), created
//! before `.active` is recorded, so a send appended after `.active` always
//! arrives. The follow wakes on each append (the reader's wake-up event);
//! its timeout only bounds how long it takes to notice a stop. Each run of
//! the pipeline gets a fresh channel as its input stream; sends that come
//! while no run is going (during a back-off) are dropped.

use std::{
    io::Read,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
        mpsc::{self, Receiver, Sender},
    },
    thread::JoinHandle,
    time::Duration,
};

use nu_protocol::{ByteStream, ByteStreamType, PipelineData, Signals, Span};

use crate::{
    error::Result,
    read_options::{FollowOption, ReadOptions},
    store::Store,
    store::reader::Reader,
    store::{Next, Poll, THRESHOLD},
};

/// How often the follow checks whether it should stop.
const TICK: Duration = Duration::from_millis(100);

type Slot = Arc<Mutex<Option<Sender<Vec<u8>>>>>;

/// The follow of `<name>.send` frames, and where it delivers them.
pub(crate) struct Sends {
    current: Slot,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Sends {
    /// Follows `topic` from now on.
    ///
    /// # Errors
    ///
    /// The reader cannot be created, or the thread started.
    pub(crate) fn start(store: &Store, topic: String) -> Result<Sends> {
        let options = ReadOptions { follow: FollowOption::On, new: true, topic: Some(topic), ..Default::default() };
        let reader = store.reader(options)?;
        let (current, stop) = (Slot::default(), Arc::new(AtomicBool::new(false)));
        let (slot, flag, store) = (current.clone(), stop.clone(), store.clone());
        let thread = std::thread::Builder::new()
            .name("xs-generator-send".into())
            .spawn(move || follow(reader, &store, &slot, &flag))?;
        Ok(Sends { current, stop, thread: Some(thread) })
    }

    /// A fresh input stream for the next run of the pipeline.
    pub(crate) fn input(&self) -> PipelineData {
        let (tx, rx) = mpsc::channel();
        *lock(&self.current) = Some(tx);
        let inbox = Inbox { rx, pending: Vec::new(), at: 0 };
        PipelineData::byte_stream(
            ByteStream::read(inbox, Span::unknown(), Signals::empty(), ByteStreamType::Unknown),
            None,
        )
    }
}

impl Drop for Sends {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        lock(&self.current).take();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("a generator's send follow panicked");
        }
    }
}

fn follow(mut reader: Reader, store: &Store, slot: &Slot, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match reader.poll(TICK) {
            Ok(Next::Frame(frame)) if frame.topic != THRESHOLD => {
                let Some(hash) = frame.hash else { continue };
                match store.cas_read(&hash) {
                    Ok(bytes) => {
                        if let Some(tx) = lock(slot).as_ref() {
                            let _ = tx.send(bytes);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, id = %frame.id, "a send's payload cannot be read"),
                }
            }
            Ok(Next::End) => break,
            Err(e) => {
                tracing::error!(error = %e, "a generator's send follow failed");
                break;
            }
            Ok(_) => {}
        }
    }
}

fn lock(slot: &Slot) -> std::sync::MutexGuard<'_, Option<Sender<Vec<u8>>>> {
    // A plain value: a poisoned lock is taken over.
    slot.lock().unwrap_or_else(|p| p.into_inner())
}

/// The pipeline's side of the channel: blocks until a send comes; ends
/// when the generator stops (or the next run takes over).
struct Inbox {
    rx: Receiver<Vec<u8>>,
    pending: Vec<u8>,
    at: usize,
}

impl Read for Inbox {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.pending.len() {
            match self.rx.recv() {
                Ok(bytes) => (self.pending, self.at) = (bytes, 0),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
