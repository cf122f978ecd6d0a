//! Calls nobody takes: a `<name>.call` to a name with no action gets an
//! `.error` answer saying so, so that a caller never waits in vain.
//!
//! The action supervisor follows every new frame for calls (from when it
//! starts; history is the actions' business) and decides each call once
//! its lifecycle follow has caught up with the lifecycle frames stored at
//! that moment: only then do its slots say whether an action registered
//! before the call runs (or is being prepared) and will answer it. When
//! none will, the supervisor answers, unless the call already has an
//! answer (an action that was unregistered answers what it had taken).
//! The supervisor is the only one that answers for a name with no
//! instance, so checking and answering cannot race.
//!
//! Calls appended while no owner runs are decided too: the supervisor
//! keeps a durable mark (the checkpoint `orphans`), the newest call it has
//! decided, saved with each refusal and at shutdown, and the next owner's
//! follow starts after it. An owner killed outright leaves an older mark;
//! the calls after it are decided again, which answers none twice (a call
//! with an answer is left alone). The first owner that keeps a mark starts
//! it at the stream's head.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc::Sender,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use scru128::Scru128Id;

use crate::{
    error::{Result, StoreError},
    frame::Frame,
    processor::{
        call::{self, callee},
        lifecycle::ACTION,
        supervisor::Event,
    },
    read_options::{FollowOption, ReadOptions},
    store::{Checkpoint, Next, Poll, Store},
};

/// The checkpoint key of the newest call the supervisor has decided
/// (docs/store-format.md, "Action marks").
const MARK: &[u8] = b"orphans";
/// The format of the mark's value: this byte, then the call's id.
const VERSION: u8 = 1;

/// How often deferred calls are looked at again while the lifecycle follow catches up.
const RETRY: Duration = Duration::from_millis(20);
/// How often the call follow checks whether the processor is stopping.
const TICK: Duration = Duration::from_millis(100);
/// How long the call follow lets new frames gather once it has read
/// everything. It reads every frame, and being woken by each append would
/// cost every appender a thread wake-up per frame, on the appender's own
/// time; a call to no action can wait this long for its answer.
const GATHER: Duration = Duration::from_millis(20);

/// Calls waiting for the supervisor to catch up.
pub(crate) struct Orphans {
    store: Store,
    deferred: Vec<Frame>,
    /// The newest lifecycle (or module) frame the supervisor has taken in.
    seen: Option<Scru128Id>,
    /// The newest call decided, and whether the durable mark has it.
    decided: Option<(Scru128Id, bool)>,
}

impl Orphans {
    pub(crate) fn new(store: Store) -> Self {
        Orphans { store, deferred: Vec::new(), seen: None, decided: None }
    }

    /// Call `id` is decided: an action takes it, or it has its answer.
    pub(crate) fn decided(&mut self, id: Scru128Id, saved: bool) {
        self.decided = Some((id, saved));
    }

    /// Saves the mark, if it moved since it was last saved (at shutdown).
    pub(crate) fn save(&mut self) {
        if let Some((id, false)) = self.decided {
            match self.store.append_batch_runtime(Vec::new(), Some(mark(id))) {
                Ok(_) => self.decided = Some((id, true)),
                Err(e) => tracing::error!(error = %e, "cannot save where the calls to no action were decided"),
            }
        }
    }

    /// The supervisor took in frame `id` of its follow.
    pub(crate) fn saw(&mut self, id: Scru128Id) {
        self.seen = self.seen.max(Some(id));
    }

    /// A call to decide.
    pub(crate) fn defer(&mut self, call: Frame) {
        self.deferred.push(call);
    }

    /// When to look at deferred calls again, if there are any.
    pub(crate) fn retry_at(&self) -> Option<Instant> {
        (!self.deferred.is_empty()).then(|| Instant::now() + RETRY)
    }

    /// The deferred calls, once the supervisor has taken in every
    /// lifecycle frame stored now (none before).
    pub(crate) fn ready(&mut self) -> Vec<Frame> {
        if self.deferred.is_empty() {
            return Vec::new();
        }
        let newest = match self.store.last(&format!("{ACTION}.*"), 1) {
            Ok(frames) => frames.last().map(|f| f.id),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the newest action lifecycle frame");
                return Vec::new();
            }
        };
        if newest > self.seen {
            return Vec::new();
        }
        std::mem::take(&mut self.deferred)
    }
}

/// Answers `call` (to `name`) with "no action", unless it has an answer,
/// and moves the mark to it in the same batch. True once the mark has it.
/// A replica answers nothing: its calls are its source's, answered there,
/// and the answers arrive with the rest of the copy.
pub(crate) fn refuse(store: &Store, name: &str, call: &Frame) -> bool {
    if store.is_replica() {
        return true;
    }
    let message = format!(
        "there is no action named {name}: register one on xs.action.{name}.register (xs status lists the actions)"
    );
    match call::unanswered(store, name, call.id) {
        Ok(open) if open.iter().any(|c| c.id == call.id) => {
            let answer = call::tag(call::error(name, &message), call.id, None);
            match store.append_batch_runtime(vec![answer], Some(mark(call.id))) {
                Ok(_) => return true,
                Err(e) => tracing::error!(action = name, error = %e, "could not answer a call to no action"),
            }
        }
        Ok(_) => {}
        Err(e) => tracing::error!(action = name, error = %e, "cannot tell whether a call is answered"),
    }
    false
}

fn mark(id: Scru128Id) -> Checkpoint {
    Checkpoint::new(MARK, [&[VERSION], id.to_bytes().as_slice()].concat())
}

/// Where the follow of calls starts: after the saved mark, or (the first
/// time) after the stream's head, which becomes the mark.
fn start(store: &Store) -> Result<Scru128Id> {
    if let Some(bytes) = store.checkpoint(MARK)? {
        let damaged = || StoreError::Io(std::io::Error::other("the checkpoint of calls to no action is damaged"));
        let (&version, id) = bytes.split_first().ok_or_else(damaged)?;
        let id: [u8; 16] = id.try_into().map_err(|_| damaged())?;
        return if version == VERSION { Ok(Scru128Id::from_bytes(id)) } else { Err(damaged()) };
    }
    let head = store.last("*", 1)?.last().map_or(Scru128Id::from_u128(0), |frame| frame.id);
    store.append_batch_runtime(Vec::new(), Some(mark(head)))?;
    Ok(head)
}

/// Follows every frame after the mark and hands the calls to the supervisor.
/// While frames keep coming it reads them in batches, [`GATHER`] apart;
/// an idle follow waits to be woken by the next frame.
///
/// # Errors
///
/// The mark cannot be read (or, the first time, written); the follow or
/// its thread cannot be started.
pub(crate) fn follow(store: &Store, events: Sender<Event>, stop: Arc<AtomicBool>) -> Result<JoinHandle<()>> {
    let after = start(store)?;
    let options = ReadOptions { follow: FollowOption::On, after: Some(after), ..ReadOptions::default() };
    let mut reader = store.reader(options)?;
    let thread = std::thread::Builder::new().name("xs-action-calls".into()).spawn(move || {
        let mut busy = false;
        while !stop.load(Ordering::SeqCst) {
            match reader.poll(if busy { Duration::ZERO } else { TICK }) {
                Ok(Next::Frame(frame)) => {
                    busy = true;
                    if callee(&frame.topic).is_some() && events.send(Event::Call(frame)).is_err() {
                        break;
                    }
                }
                Ok(Next::Idle) if busy => {
                    busy = false;
                    std::thread::sleep(GATHER);
                }
                Ok(Next::Idle) => {}
                Ok(Next::End) => break,
                Err(e) => {
                    tracing::error!(error = %e, "the processor cannot follow calls");
                    break;
                }
            }
        }
    })?;
    Ok(thread)
}
