//! What readers may see: the durable head, the most recent frames, and the
//! wake-up signals.
//!
//! After each sync the writer publishes the batch: its frames (stored and
//! ephemeral) join a ring of the newest [`RECENT_FRAMES`] frames, the frames the
//! batch removed leave it, the head moves to the batch's last id, and the
//! readers whose topic filter passes one of its frames are woken (each
//! reader has its own [`Watch`]). The ring holds every published frame with an id
//! above its `floor` (except removed ones), so a reader that has kept up
//! serves itself from memory; one that fell further behind reads the stream
//! from disk, up to the head, and takes only ephemeral frames from the ring.
//! Readers pull; nothing is pushed into per-reader queues, so a slow reader
//! costs the writer nothing and can never be cut off. Only ephemeral frames,
//! which are never stored, can be missed, by a reader more than [`RECENT_FRAMES`]
//! frames behind.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex, MutexGuard, RwLock, RwLockWriteGuard, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::SystemTime,
};

use event_listener::{Event, EventListener};
use scru128::Scru128Id;

use crate::{frame::Frame, id::IdGen, topic::TopicFilter, ttl::TTL};

/// How many of the newest published frames are kept in memory.
pub const RECENT_FRAMES: usize = 4096;

/// How far back from the head [`Live::newest`] looks before leaving a
/// `last` query to the index.
const NEWEST_WINDOW: usize = 64;

/// The shared publication point of one store.
pub(crate) struct Live {
    state: Mutex<State>,
    ids: Mutex<IdGen>,
    /// One per live reader: woken only by batches holding a frame it wants.
    watches: Mutex<Vec<Weak<Watch>>>,
    closed: AtomicBool,
    /// Held (shared) while a reader takes the head and its view of the
    /// tables together, and (exclusive) while `last:<n>` trims commit, so
    /// no trim falls between the two.
    trims: RwLock<()>,
}

/// A reader's wake-up signal and the topics it waits for.
pub(crate) struct Watch {
    filter: TopicFilter,
    event: Event,
    /// Where the publisher puts this reader's new frames itself, while the
    /// reader is caught up and waiting (see [`Live::hand_over`]).
    sink: Mutex<Option<Sink>>,
}

/// A caught-up async reader's channel, fed by the publisher.
struct Sink {
    tx: tokio::sync::mpsc::Sender<Frame>,
    /// Every matching frame up to here is in the channel.
    cursor: Scru128Id,
    /// False once a send failed (a full or closed channel): the reader,
    /// woken, takes over again from `cursor`.
    open: bool,
}

impl Watch {
    /// A listener to wait on; take it before checking for new frames.
    pub(crate) fn listen(&self) -> EventListener {
        self.event.listen()
    }

    /// Ends a hand-over ([`Live::hand_over`]); returns how far the
    /// publisher delivered. It feeds the sink under the sink's own lock, so
    /// taking the sink is enough.
    pub(crate) fn take_back(&self) -> Option<Scru128Id> {
        lock(&self.sink).take().map(|sink| sink.cursor)
    }

    /// Sends the frames of a batch this watch wants into its sink, if it
    /// has an open one; true if they all went (no need to wake the reader).
    fn feed(&self, frames: &[Frame], head: Option<Scru128Id>) -> bool {
        let mut sink = lock(&self.sink);
        let Some(sink) = sink.as_mut().filter(|s| s.open) else { return false };
        let now = SystemTime::now();
        for frame in frames.iter().filter(|f| self.filter.matches(&f.topic) && !f.is_expired(now)) {
            if sink.tx.try_send(frame.clone()).is_err() {
                sink.open = false;
                return false;
            }
            sink.cursor = frame.id;
        }
        if let Some(head) = head {
            sink.cursor = sink.cursor.max(head);
        }
        true
    }
}

struct State {
    head: Option<Scru128Id>,
    /// Published frames in id order: all of those above `floor` but the removed.
    ring: VecDeque<Frame>,
    floor: Option<Scru128Id>,
}

/// What a reader at some cursor finds published after it.
pub(crate) enum Tail {
    /// Nothing past the cursor.
    Nothing,
    /// Matching frames past the cursor, and how far they cover (inclusive).
    Frames(Vec<Frame>, Scru128Id),
    /// The ring no longer reaches back to the cursor: read the stream up to this head.
    Behind(Scru128Id),
}

impl Live {
    /// Starts at the store's last stored id, issuing ids above `floor`.
    pub(crate) fn new(head: Option<Scru128Id>, floor: Option<Scru128Id>) -> Self {
        Self {
            state: Mutex::new(State { head, ring: VecDeque::new(), floor: head }),
            ids: Mutex::new(IdGen::new(floor)),
            watches: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            trims: RwLock::new(()),
        }
    }

    /// A fresh id, above every id handed out so far.
    ///
    /// # Errors
    ///
    /// [`StoreError::IdsExhausted`] when the largest id was handed out.
    pub(crate) fn next_id(&self) -> crate::error::Result<Scru128Id> {
        lock(&self.ids).next().ok_or(crate::error::StoreError::IdsExhausted)
    }

    /// Counts `id` as issued, so every later id is above it.
    pub(crate) fn observe_id(&self, id: Scru128Id) {
        lock(&self.ids).observe(id);
    }

    /// The newest id ever handed out or imported, or the floor the store
    /// opened with (the newest stored id or the high-water mark): at or
    /// above every id a reader may hold.
    pub(crate) fn issued(&self) -> Option<Scru128Id> {
        lock(&self.ids).last()
    }

    /// The newest published id (stored or ephemeral).
    pub(crate) fn head(&self) -> Option<Scru128Id> {
        lock(&self.state).head
    }

    /// The head together with `view()`, taken with no trim in between:
    /// every frame up to the head is in the view, and none the head's
    /// frames replaced by `last:<n>` is gone from it yet.
    pub(crate) fn head_with<T>(&self, view: impl FnOnce() -> T) -> (Option<Scru128Id>, T) {
        let _no_trim = self.trims.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        (self.head(), view())
    }

    /// Holds off [`head_with`](Self::head_with) while trims commit.
    pub(crate) fn trimming(&self) -> RwLockWriteGuard<'_, ()> {
        self.trims.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes a committed batch visible and wakes the readers that want one
    /// of its frames (an idle handler is not woken by every append). A
    /// reader that handed over its channel gets the frames put into it
    /// instead, and is woken only if that fails.
    pub(crate) fn publish(&self, head: Option<Scru128Id>, mut frames: Vec<Frame>, gone: &[Scru128Id]) {
        let wanted = |w: &Watch| frames.iter().any(|f| w.filter.matches(&f.topic));
        let mut woken: Vec<Arc<Watch>> = self.live_watches().into_iter().filter(|w| wanted(w)).collect();
        {
            let mut state = lock(&self.state);
            if !gone.is_empty() {
                frames.retain(|f| !gone.contains(&f.id));
            }
            woken.retain(|watch| !watch.feed(&frames, head));
            if !gone.is_empty() {
                let gone: std::collections::HashSet<_> = gone.iter().collect();
                state.ring.retain(|f| !gone.contains(&f.id));
            }
            state.ring.extend(frames);
            while state.ring.len() > RECENT_FRAMES {
                state.floor = state.ring.pop_front().map(|f| f.id);
            }
            state.head = head.or(state.head);
        }
        for watch in woken {
            watch.event.notify(usize::MAX);
        }
    }

    /// Lets the publisher send the frames `watch`'s reader wants straight
    /// into `tx` from now on, saving a hop through the reader's task, if
    /// the reader has read everything published (`cursor` is the head).
    /// Returns whether it did; the reader then waits on its watch, which is
    /// woken if a send fails, and calls [`Watch::take_back`].
    pub(crate) fn hand_over(
        &self,
        watch: &Watch,
        cursor: Option<Scru128Id>,
        tx: &tokio::sync::mpsc::Sender<Frame>,
    ) -> bool {
        let state = lock(&self.state);
        let (Some(cursor), true) = (cursor, cursor >= state.head) else { return false };
        *lock(&watch.sink) = Some(Sink { tx: tx.clone(), cursor, open: true });
        true
    }

    /// Registers a reader waiting for frames that pass `filter`.
    pub(crate) fn watch(&self, filter: TopicFilter) -> Arc<Watch> {
        let watch = Arc::new(Watch { filter, event: Event::new(), sink: Mutex::new(None) });
        lock(&self.watches).push(Arc::downgrade(&watch));
        watch
    }

    /// The watches of readers still alive (forgetting the others).
    fn live_watches(&self) -> Vec<Arc<Watch>> {
        let mut watches = lock(&self.watches);
        watches.retain(|w| w.strong_count() > 0);
        watches.iter().filter_map(Weak::upgrade).collect()
    }

    /// Up to `max` frames matching `filter` published after `cursor`.
    pub(crate) fn tail(&self, filter: &TopicFilter, cursor: Option<Scru128Id>, max: usize) -> Tail {
        let state = lock(&self.state);
        let Some(head) = state.head.filter(|h| cursor.is_none_or(|c| c < *h)) else { return Tail::Nothing };
        if state.floor.is_some_and(|floor| cursor.is_none_or(|c| c < floor)) {
            return Tail::Behind(head);
        }
        let now = SystemTime::now();
        let start = state.ring.partition_point(|f| cursor.is_some_and(|c| f.id <= c));
        let mut frames = Vec::new();
        for frame in state.ring.range(start..) {
            if frames.len() == max {
                let upto = frames.last().map_or(head, |f: &Frame| f.id);
                return Tail::Frames(frames, upto);
            }
            if filter.matches(&frame.topic) && !frame.is_expired(now) {
                frames.push(frame.clone());
            }
        }
        Tail::Frames(frames, head)
    }

    /// Ephemeral frames matching `filter` with ids in `(after, upto]`.
    pub(crate) fn ephemeral(&self, filter: &TopicFilter, after: Option<Scru128Id>, upto: Scru128Id) -> Vec<Frame> {
        let state = lock(&self.state);
        let start = state.ring.partition_point(|f| after.is_some_and(|a| f.id <= a));
        state
            .ring
            .range(start..)
            .take_while(|f| f.id <= upto)
            .filter(|f| f.ttl == Some(TTL::Ephemeral) && filter.matches(&f.topic))
            .cloned()
            .collect()
    }

    /// The newest `n` stored frames matching `filter`, oldest first, when
    /// they are among the most recent few published; `None` means "ask the
    /// index".
    pub(crate) fn newest(&self, filter: &TopicFilter, n: usize) -> Option<Vec<Frame>> {
        let state = lock(&self.state);
        let now = SystemTime::now();
        let mut found: Vec<Frame> = state
            .ring
            .iter()
            .rev()
            .take(NEWEST_WINDOW)
            .filter(|f| f.ttl != Some(TTL::Ephemeral) && filter.matches(&f.topic) && !f.is_expired(now))
            .take(n)
            .cloned()
            .collect();
        if found.len() < n {
            return None;
        }
        found.reverse();
        Some(found)
    }

    /// Marks the store closed and wakes every reader so it can end.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        for watch in self.live_watches() {
            watch.event.notify(usize::MAX);
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

/// Locks `m`; a panic elsewhere while holding it leaves data that is still
/// consistent (every critical section here is a few assignments), so a
/// poisoned lock is taken over rather than propagated.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
