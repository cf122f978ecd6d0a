//! Reading: history, then (when following) `xs.threshold` and live frames.
//!
//! A [`Reader`] is a cursor over the stream, not a subscription: it pulls
//! history one frame at a time from a view of the store taken with the head
//! when the read began, then live frames from the ring of recent frames (or
//! from disk in bounded chunks when it fell behind), and waits on the
//! store's wake-up signal when it has caught up. Nothing queues up for it
//! while it is busy, so it can fall any distance behind and still deliver
//! every matching frame exactly once, in id order, in constant memory.
//!
//! The same state machine ([`Reader::step`]) drives the blocking iterator,
//! the timeout-bounded poll the plugin needs, and the async form.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use event_listener::{EventListener, Listener};
use scru128::Scru128Id;

use crate::{
    error::Result,
    frame::Frame,
    id::predecessor,
    read_options::{FollowOption, ReadOptions},
    store::Store,
    store::live::{Tail, Watch},
    store::poll::{Next, Poll},
    store::scan::{Scan, View},
    topic::TopicFilter,
};

/// Live frames taken at a time.
const CHUNK: usize = 512;

/// The topic of the marker sent once history is done.
pub const THRESHOLD: &str = "xs.threshold";
/// The topic of heartbeat markers.
pub const PULSE: &str = "xs.pulse";

enum Step {
    Frame(Frame),
    Wait(EventListener, Option<Instant>),
    End,
}

/// Awaits `listener`, or the `pulse` deadline if there is one, whichever
/// comes first: the async form of waiting out a [`Step::Wait`].
async fn woken(listener: EventListener, pulse: Option<Instant>) {
    match pulse {
        Some(pulse) => drop(tokio::time::timeout_at(pulse.into(), listener).await),
        None => listener.await,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    History,
    Live,
    Done,
}

/// A read in progress. Iterate it (blocking), [`poll`](Poll::poll) it
/// with a timeout, or await [`next_async`](Reader::next_async).
pub struct Reader {
    store: Store,
    options: ReadOptions,
    filter: TopicFilter,
    /// Wakes this reader when a frame it wants is published.
    watch: Arc<Watch>,
    phase: Phase,
    /// Once history is done: every frame at or below this id has been
    /// delivered, put in `buf`, or skipped.
    cursor: Option<Scru128Id>,
    /// Where history ends: the head when the read started.
    history_end: Option<Scru128Id>,
    /// The store as of `history_end`, until history is opened on it.
    view: Option<View>,
    /// History still to deliver.
    history: Option<Scan>,
    /// Frames read but not yet delivered (`last`, or a chunk of live
    /// frames); refilled only once empty, by moving a whole chunk in.
    buf: std::vec::IntoIter<Frame>,
    remaining: Option<usize>,
    next_pulse: Option<Instant>,
}

impl Reader {
    /// A read of `store`; history is what was published at this instant.
    pub(crate) fn new(store: Store, options: ReadOptions) -> Result<Self> {
        let filter = match &options.topic {
            Some(spec) => TopicFilter::parse(spec)?,
            None => TopicFilter::All,
        };
        let watch = store.published().watch(filter.clone());
        let (head, view) = match options.new {
            true => (store.published().head(), None),
            false => {
                let (head, view) = store.published().head_with(|| store.tables().view());
                (head, Some(view))
            }
        };
        let cursor = if options.new { head } else { options.after.or_else(|| options.from.and_then(predecessor)) };
        Ok(Self {
            store,
            remaining: options.limit,
            options,
            filter,
            watch,
            phase: Phase::Start,
            cursor,
            history_end: head,
            view,
            history: None,
            buf: Vec::new().into_iter(),
            next_pulse: None,
        })
    }

    /// The next frame, awaited; `None` once the read is over.
    pub async fn next_async(&mut self) -> Option<Result<Frame>> {
        loop {
            match self.step() {
                Err(e) => return Some(Err(e)),
                Ok(Step::Frame(f)) => return Some(Ok(f)),
                Ok(Step::End) => return None,
                Ok(Step::Wait(listener, pulse)) => woken(listener, pulse).await,
            }
        }
    }

    /// Runs the read into `tx` until it ends or the receiver is dropped:
    /// the task behind [`Store::read`]. While the read is live and caught
    /// up, the publisher puts new frames into `tx` itself, so they reach
    /// the receiver without a hop through this task; a full channel hands
    /// the read back here, where it waits for room (nothing is dropped).
    pub(crate) async fn forward(mut self, tx: tokio::sync::mpsc::Sender<Frame>) {
        loop {
            let step = match self.step() {
                Ok(step) => step,
                Err(e) => {
                    tracing::error!(error = %e, "read ended by an error");
                    return;
                }
            };
            match step {
                Step::Frame(frame) => {
                    if tx.send(frame).await.is_err() {
                        return;
                    }
                }
                Step::End => return,
                Step::Wait(listener, pulse) => {
                    let published = self.store.published();
                    let direct = self.remaining.is_none() && published.hand_over(&self.watch, self.cursor, &tx);
                    tokio::select! {
                        () = tx.closed() => return,
                        () = woken(listener, pulse) => {}
                    }
                    if direct && let Some(delivered) = self.watch.take_back() {
                        self.cursor = Some(delivered);
                    }
                }
            }
        }
    }

    /// Advances the read by one frame, or says what to wait for.
    fn step(&mut self) -> Result<Step> {
        loop {
            if self.remaining == Some(0) {
                self.phase = Phase::Done;
            }
            match self.phase {
                Phase::Done => return Ok(Step::End),
                Phase::Start => self.start()?,
                _ if self.buf.len() > 0 => {
                    if let Some(frame) = self.buf.next() {
                        return Ok(self.deliver(frame));
                    }
                }
                Phase::History => match self.history.as_mut().and_then(Iterator::next) {
                    Some(frame) => return Ok(self.deliver(frame?)),
                    None => {
                        if let Some(marker) = self.end_history() {
                            return Ok(Step::Frame(marker));
                        }
                    }
                },
                Phase::Live => {
                    if let Some(step) = self.advance_live()? {
                        return Ok(step);
                    }
                }
            }
        }
    }

    fn deliver(&mut self, frame: Frame) -> Step {
        if let Some(n) = &mut self.remaining {
            *n -= 1;
        }
        Step::Frame(frame)
    }

    /// Opens history on the view taken at the start: all of it, or only
    /// the newest `last` frames.
    fn start(&mut self) -> Result<()> {
        self.phase = Phase::History;
        let (Some(view), Some(end)) = (self.view.take(), self.history_end) else { return Ok(()) };
        if self.cursor.is_some_and(|c| c >= end) {
            return Ok(());
        }
        match self.options.last {
            Some(n) => self.buf = view.newest(&self.filter, self.cursor, end, n)?.into_iter(),
            None => self.history = Some(view.scan(&self.filter, self.cursor, end)),
        }
        Ok(())
    }

    /// Closes history; returns the threshold marker when following, and
    /// goes live from the head history ended at.
    fn end_history(&mut self) -> Option<Frame> {
        self.history = None;
        self.cursor = self.cursor.max(self.history_end);
        if !self.options.follow.is_on() {
            self.phase = Phase::Done;
            return None;
        }
        self.phase = Phase::Live;
        if let FollowOption::WithHeartbeat(period) = self.options.follow {
            self.next_pulse = Some(Instant::now() + period);
        }
        Some(Frame::marker(THRESHOLD, self.marker_id()))
    }

    /// Reads whatever was published past the cursor, or says to wait.
    fn advance_live(&mut self) -> Result<Option<Step>> {
        if let Some(pulse) = self.due_pulse() {
            return Ok(Some(Step::Frame(pulse)));
        }
        if self.read_published()? {
            return Ok(None);
        }
        let listener = self.watch.listen();
        if self.read_published()? {
            return Ok(None);
        }
        if self.store.published().is_closed() {
            self.phase = Phase::Done;
            return Ok(None);
        }
        Ok(Some(Step::Wait(listener, self.next_pulse)))
    }

    /// Loads frames published past the cursor into the buffer; false if
    /// none were. A reader that kept up takes them from the ring; one that
    /// fell behind reads the stream and merges in ephemeral frames by id.
    fn read_published(&mut self) -> Result<bool> {
        let published = self.store.published();
        let head = match published.tail(&self.filter, self.cursor, self.chunk_size()) {
            Tail::Nothing => return Ok(false),
            Tail::Frames(frames, upto) => {
                self.cursor = Some(upto);
                self.buf = frames.into_iter();
                return Ok(true);
            }
            Tail::Behind(head) => head,
        };
        let stored = self.store.tables().view().scan(&self.filter, self.cursor, head);
        let stored = stored.take(self.chunk_size()).collect::<Result<Vec<_>>>()?;
        let upto = if stored.len() == self.chunk_size() { stored.last().map_or(head, |f| f.id) } else { head };
        let mut frames = published.ephemeral(&self.filter, self.cursor, upto);
        frames.extend(stored);
        frames.sort_by_key(|f| f.id);
        self.cursor = Some(upto);
        self.buf = frames.into_iter();
        Ok(true)
    }

    fn due_pulse(&mut self) -> Option<Frame> {
        let FollowOption::WithHeartbeat(period) = self.options.follow else { return None };
        let due = self.next_pulse.filter(|at| *at <= Instant::now())?;
        self.next_pulse = Some(due.max(Instant::now() - period) + period);
        Some(Frame::marker(PULSE, self.marker_id()))
    }

    /// The id a marker carries: the cursor, which every frame delivered so
    /// far is at or below and every frame still to come is above (the
    /// smallest id when nothing is). A client that resumes `after` a
    /// marker misses nothing and gets nothing twice; a fresh id could be
    /// above a frame another commit has not published yet.
    fn marker_id(&self) -> Scru128Id {
        self.cursor.unwrap_or_else(|| Scru128Id::from_u128(0))
    }

    fn chunk_size(&self) -> usize {
        self.remaining.map_or(CHUNK, |n| n.clamp(1, CHUNK))
    }
}

impl Poll for Reader {
    /// The next frame, waiting at most `timeout` for one.
    fn poll(&mut self, timeout: Duration) -> Result<Next> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.step()? {
                Step::Frame(f) => return Ok(Next::Frame(f)),
                Step::End => return Ok(Next::End),
                Step::Wait(listener, pulse) => {
                    let until = pulse.map_or(deadline, |p| p.min(deadline));
                    if listener.wait_deadline(until).is_none() && Instant::now() >= deadline {
                        return Ok(Next::Idle);
                    }
                }
            }
        }
    }
}

impl Iterator for Reader {
    type Item = Result<Frame>;

    /// Blocks until the next frame; `None` once the read is over.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.step() {
                Err(e) => {
                    self.phase = Phase::Done;
                    return Some(Err(e));
                }
                Ok(Step::Frame(f)) => return Some(Ok(f)),
                Ok(Step::End) => return None,
                Ok(Step::Wait(listener, None)) => listener.wait(),
                Ok(Step::Wait(listener, Some(pulse))) => {
                    let _ = listener.wait_deadline(pulse);
                }
            }
        }
    }
}
