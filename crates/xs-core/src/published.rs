//! What readers may see: the durable head, recent ephemeral frames, and the
//! wake-up signal.
//!
//! The writer publishes after each sync: first the batch's ephemeral frames
//! go into a small ring, then the head moves to the batch's last id, then
//! every waiting reader is woken. A reader that reads the head and then the
//! stream up to it therefore sees exactly the durable frames, and every
//! ephemeral frame with an id at or below the head is already in the ring.
//! Readers pull; nothing is pushed into per-reader queues, so a slow reader
//! costs the writer nothing and can never be cut off: it catches up from
//! disk. Only ephemeral frames, which are never stored, can be missed, by a
//! reader more than [`RING`] ephemeral frames behind.

use std::{
    collections::VecDeque,
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
};

use event_listener::{Event, EventListener};
use scru128::Scru128Id;

use crate::{frame::Frame, id::IdGen, topic::TopicFilter};

/// How many recent ephemeral frames are kept for readers that lag.
pub const RING: usize = 4096;

/// The shared publication point of one store.
pub(crate) struct Published {
    state: Mutex<State>,
    ids: Mutex<IdGen>,
    changed: Event,
    closed: AtomicBool,
}

struct State {
    head: Option<Scru128Id>,
    ring: VecDeque<Frame>,
}

impl Published {
    /// Starts at the store's last stored id, issuing ids above `floor`.
    pub(crate) fn new(head: Option<Scru128Id>, floor: Option<Scru128Id>) -> Self {
        Self {
            state: Mutex::new(State { head, ring: VecDeque::new() }),
            ids: Mutex::new(IdGen::new(floor)),
            changed: Event::new(),
            closed: AtomicBool::new(false),
        }
    }

    /// A fresh id, above every id handed out so far.
    pub(crate) fn next_id(&self) -> Scru128Id {
        lock(&self.ids).next()
    }

    /// The newest published id (stored or ephemeral).
    pub(crate) fn head(&self) -> Option<Scru128Id> {
        lock(&self.state).head
    }

    /// Makes a committed batch visible and wakes readers.
    pub(crate) fn publish(&self, head: Option<Scru128Id>, ephemeral: Vec<Frame>) {
        let Some(head) = head else { return };
        {
            let mut state = lock(&self.state);
            state.ring.extend(ephemeral);
            let excess = state.ring.len().saturating_sub(RING);
            state.ring.drain(..excess);
            state.head = Some(head);
        }
        self.changed.notify(usize::MAX);
    }

    /// Ephemeral frames matching `filter` with ids in `(after, upto]`.
    pub(crate) fn ephemeral(&self, filter: &TopicFilter, after: Option<Scru128Id>, upto: Scru128Id) -> Vec<Frame> {
        let state = lock(&self.state);
        state
            .ring
            .iter()
            .filter(|f| after.is_none_or(|a| f.id > a) && f.id <= upto && filter.matches(&f.topic))
            .cloned()
            .collect()
    }

    /// A listener to wait on; take it before checking for new frames.
    pub(crate) fn listen(&self) -> EventListener {
        self.changed.listen()
    }

    /// Marks the store closed and wakes every reader so it can end.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.changed.notify(usize::MAX);
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
