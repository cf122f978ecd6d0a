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
//! What this does not cover: a call appended while no owner runs, to a
//! name that has no action when the next owner starts, stays unanswered
//! (`xs call` then times out, naming the call).

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
    error::Result,
    frame::Frame,
    processor::{
        call::{self, callee},
        lifecycle::ACTION,
        supervisor::Event,
    },
    read_options::{FollowOption, ReadOptions},
    store::{Next, Poll, Store},
};

/// How often deferred calls are looked at again while the lifecycle follow catches up.
const RETRY: Duration = Duration::from_millis(20);
/// How often the call follow checks whether the processor is stopping.
const TICK: Duration = Duration::from_millis(100);

/// Calls waiting for the supervisor to catch up.
pub(crate) struct Orphans {
    store: Store,
    deferred: Vec<Frame>,
    /// The newest lifecycle (or module) frame the supervisor has taken in.
    seen: Option<Scru128Id>,
}

impl Orphans {
    pub(crate) fn new(store: Store) -> Self {
        Orphans { store, deferred: Vec::new(), seen: None }
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

/// Answers `call` (to `name`) with "no action", unless it has an answer.
pub(crate) fn refuse(store: &Store, name: &str, call: &Frame) {
    let message = format!(
        "there is no action named {name}: register one on xs.action.{name}.register (xs status lists the actions)"
    );
    match call::unanswered(store, name, call.id) {
        Ok(open) if open.iter().any(|c| c.id == call.id) => {
            if let Err(e) = store.append(call::tag(call::error(name, &message), call.id, None)) {
                tracing::error!(action = name, error = %e, "could not answer a call to no action");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::error!(action = name, error = %e, "cannot tell whether a call is answered"),
    }
}

/// Follows every new frame and hands the calls to the supervisor.
///
/// # Errors
///
/// The follow or its thread cannot be started.
pub(crate) fn follow(store: &Store, events: Sender<Event>, stop: Arc<AtomicBool>) -> Result<JoinHandle<()>> {
    let options = ReadOptions { follow: FollowOption::On, new: true, ..ReadOptions::default() };
    let mut reader = store.reader(options)?;
    let thread = std::thread::Builder::new().name("xs-action-calls".into()).spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match reader.poll(TICK) {
                Ok(Next::Frame(frame)) if callee(&frame.topic).is_some() => {
                    if events.send(Event::Call(frame)).is_err() {
                        break;
                    }
                }
                Ok(Next::Frame(_) | Next::Idle) => {}
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
