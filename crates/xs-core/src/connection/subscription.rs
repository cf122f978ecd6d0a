//! A read through a [`Connection`] that survives a change of owner.
//!
//! The follow remembers the last frame it delivered (markers aside). When
//! its owner goes away, whether killed (the response is cut short) or shut
//! down (a live read ends before its limit), it runs the owner choice again
//! and reopens the read just after that frame: no gap, no duplicate. The
//! `xs.threshold` marker is delivered once, however many owners the read
//! spans. A remote store is never taken over: its read reconnects to the
//! same URL, waiting up to [`REMOTE_WAIT`] for the owner to serve again
//! (restarting, or a network that dropped the connection).

use std::{
    io,
    time::{Duration, Instant},
};

use scru128::Scru128Id;

use crate::{
    client::remote_reader::RemoteReader,
    connection::{Connection, Endpoint, unreachable},
    error::{Result, StoreError},
    frame::Frame,
    read_options::ReadOptions,
    store::reader::Reader,
    store::{Next, PULSE, Poll, THRESHOLD},
};

/// Resumes in a row that receive nothing (not even a marker) before the
/// read gives up, so an owner that keeps failing the read cannot loop it.
const MAX_FRUITLESS_RESUMES: u32 = 5;

/// How long a read of a remote store waits for it to answer again.
pub const REMOTE_WAIT: Duration = Duration::from_secs(30);

/// A read from a [`Connection`]: iterate it (blocking) or
/// [`poll`](Poll::poll) it with a timeout.
pub struct Subscription {
    connection: Connection,
    options: ReadOptions,
    source: Source,
    /// The connection generation the source was opened on.
    generation: u64,
    progress: Progress,
    fruitless: u32,
}

enum Source {
    Local(Reader),
    Remote(RemoteReader),
}

/// What has been delivered so far.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Progress {
    /// The last non-marker frame delivered.
    last: Option<Scru128Id>,
    /// The threshold marker, once delivered.
    threshold: Option<Scru128Id>,
    /// Non-marker frames delivered (they count against `limit`).
    delivered: usize,
}

impl Subscription {
    pub(crate) fn start(connection: Connection, options: ReadOptions) -> Result<Subscription> {
        let (generation, backend) = connection.current();
        let (generation, source) = match open(&backend, &options) {
            Err(e) if unreachable(&e) => {
                let backend = connection.takeover(generation)?;
                (connection.current().0, open(&backend, &options)?)
            }
            opened => (generation, opened?),
        };
        Ok(Subscription { connection, options, source, generation, progress: Progress::default(), fruitless: 0 })
    }

    /// A clean end that is not the read's end: a live remote read stopped
    /// before its limit because its owner shut down.
    fn owner_left_early(&self) -> bool {
        let limit_left = self.options.limit.is_none_or(|l| self.progress.delivered < l);
        matches!(self.source, Source::Remote(_)) && self.options.follow.is_on() && limit_left
    }

    /// A remote read cut off mid-response: its owner died.
    fn owner_lost(&self, e: &StoreError) -> bool {
        matches!(self.source, Source::Remote(_)) && cut_off(e)
    }

    /// Chooses an owner again and reopens the read after what was
    /// delivered. An owner found dying (it accepted, then vanished) is
    /// skipped by choosing again.
    fn resume(&mut self) -> Result<()> {
        loop {
            self.fruitless += 1;
            if self.fruitless > MAX_FRUITLESS_RESUMES {
                let message = "the store's owner keeps ending this read";
                return Err(StoreError::Io(io::Error::new(io::ErrorKind::ConnectionAborted, message)));
            }
            let backend = self.connection.takeover(self.generation)?;
            self.generation = self.connection.current().0;
            let options = self.progress.resumed(&self.options);
            tracing::info!(after = ?options.after, "resuming a read with a new owner");
            let opened = match self.connection.is_remote() {
                true => reopen(&backend, &options),
                false => open(&backend, &options),
            };
            match opened {
                Ok(source) => break self.source = source,
                Err(e) if cut_off(&e) || unreachable(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Poll for Subscription {
    /// The next frame, waiting at most `timeout` for one (a change of
    /// owner may take longer). Errors are the owner's read's, or the io
    /// error of a takeover that failed.
    fn poll(&mut self, timeout: Duration) -> Result<Next> {
        loop {
            let next = match &mut self.source {
                Source::Local(reader) => reader.poll(timeout),
                Source::Remote(reader) => reader.poll(timeout),
            };
            match next {
                Ok(Next::Frame(frame)) => {
                    self.fruitless = 0;
                    if let Some(frame) = self.progress.note(frame) {
                        return Ok(Next::Frame(frame));
                    }
                }
                Ok(Next::End) if !self.owner_left_early() => return Ok(Next::End),
                Err(e) if !self.owner_lost(&e) => return Err(e),
                Ok(Next::Idle) => return Ok(Next::Idle),
                Ok(Next::End) | Err(_) => self.resume()?,
            }
        }
    }
}

/// An io error of a connection that its other end dropped.
fn cut_off(e: &StoreError) -> bool {
    use io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    matches!(e, StoreError::Io(e) if matches!(e.kind(), UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe))
}

impl Progress {
    /// Records `frame`; `None` for a threshold already delivered.
    fn note(&mut self, frame: Frame) -> Option<Frame> {
        match frame.topic.as_str() {
            THRESHOLD if self.threshold.is_some() => return None,
            THRESHOLD => self.threshold = Some(frame.id),
            PULSE => {}
            _ => {
                self.last = Some(frame.id);
                self.delivered += 1;
            }
        }
        Some(frame)
    }

    /// `options` for a read that continues right after what was delivered.
    fn resumed(&self, options: &ReadOptions) -> ReadOptions {
        let mut resumed = options.clone();
        resumed.limit = options.limit.map(|l| l.saturating_sub(self.delivered));
        // Past the threshold with nothing delivered, a `new` or `last` read
        // continues from the threshold; any other read may replay from its
        // start, since nothing it matched was delivered.
        let live_from = self.threshold.filter(|_| options.new || options.last.is_some());
        if let Some(after) = self.last.or(live_from) {
            resumed.after = Some(after);
            resumed.from = None;
            resumed.new = false;
            resumed.last = None;
        }
        resumed
    }
}

/// Opens the read on a remote store, waiting up to [`REMOTE_WAIT`] while
/// it cannot be reached (its owner restarting).
fn reopen(backend: &Endpoint, options: &ReadOptions) -> Result<Source> {
    let deadline = Instant::now() + REMOTE_WAIT;
    let mut pause = Duration::from_millis(10);
    loop {
        match open(backend, options) {
            Err(e) if (away(&e) || cut_off(&e)) && Instant::now() < deadline => {}
            opened => return opened,
        }
        // Nothing to wait on across the network but time: retry with backoff.
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// A remote store that did not answer (as opposed to one that refused).
fn away(e: &StoreError) -> bool {
    matches!(e, StoreError::Unreachable { .. })
}

fn open(backend: &Endpoint, options: &ReadOptions) -> Result<Source> {
    match backend {
        Endpoint::Owner(owner) => owner.store().reader(options.clone()).map(Source::Local),
        Endpoint::Client(client) => client.reader(options.clone()).map(Source::Remote),
    }
}

impl Iterator for Subscription {
    type Item = Result<Frame>;

    /// Blocks until the next frame; `None` once the read is over.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.poll(Duration::from_secs(3600)) {
                Ok(Next::Frame(frame)) => return Some(Ok(frame)),
                Ok(Next::Idle) => continue,
                Ok(Next::End) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resumes_after_the_last_delivered_frame() {
        let (a, t) = (scru128::new(), scru128::new());
        let options = ReadOptions::builder().last(5).limit(10).topic("x".to_string()).build();
        let progress = Progress { last: Some(a), threshold: Some(t), delivered: 4 };
        let resumed = progress.resumed(&options);
        assert_eq!((resumed.after, resumed.last, resumed.limit), (Some(a), None, Some(6)));
        assert_eq!(resumed.topic.as_deref(), Some("x"));
    }

    #[test]
    fn resumes_a_new_read_from_its_threshold() {
        let t = scru128::new();
        let options = ReadOptions::builder().new(true).build();
        let resumed = Progress { threshold: Some(t), ..Progress::default() }.resumed(&options);
        assert_eq!((resumed.after, resumed.new), (Some(t), false));
        assert_eq!(Progress::default().resumed(&options), options);
    }

    #[test]
    fn delivers_the_threshold_once() {
        let mut progress = Progress::default();
        let marker = || Frame::builder(THRESHOLD).id(scru128::new()).build();
        assert!(progress.note(marker()).is_some());
        assert!(progress.note(marker()).is_none());
        assert_eq!(progress.delivered, 0);
    }
}
