//! Group commit: many threads submit commands, one at a time leads.
//!
//! Every mutation of the stream goes through [`Committer::request`], which
//! queues the command; the first submitter to find no commit in progress
//! becomes the leader, takes everything queued (up to [`MAX_BATCH`]) and
//! hands it to the [`Writer`] as one batch under one sync, so concurrent
//! appenders share an fsync while a lone appender commits on its own thread
//! with no hand-off to another.
//!
//! A panic inside a commit must not wedge everyone behind it: the leader
//! catches it, fails that batch and everything queued with
//! [`StoreError::Halted`], and refuses later commands the same way, so no
//! caller ever waits for a commit that will not come. The store then has to
//! be reopened (the WAL replay recovers every acknowledged commit).

use std::{
    panic::{self, AssertUnwindSafe},
    sync::{
        Arc, Condvar, Mutex, MutexGuard,
        atomic::{AtomicU8, Ordering},
        mpsc,
    },
};

use crate::{
    error::{Result, StoreError},
    store::writer::{Command, MAX_BATCH, Writer},
};

/// How long a leader may wait, at most, for a fuller batch: a fraction of
/// the fsync it saves.
const GATHER_WAIT: std::time::Duration = std::time::Duration::from_micros(60);

/// How long a submitter under concurrent load yields before it sleeps.
const YIELD_WAIT: std::time::Duration = std::time::Duration::from_micros(300);

/// Queues commands and elects, among the threads submitting them, one
/// leader at a time to commit them.
///
/// Each submitter waits on its own [`Waiter`], so a commit wakes exactly the
/// threads it answered; when more commands arrived meanwhile, the leader
/// hands the lead to the oldest of their submitters instead of waking all.
pub(crate) struct Committer {
    writer: Writer,
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    pending: Vec<(Command, Arc<Waiter>)>,
    /// How many commands the previous commit took.
    last_batch: usize,
    leading: bool,
    closed: bool,
    /// Set when a commit panicked: why, for every later caller.
    halted: Option<String>,
}

/// What a submitter is woken for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wake {
    Waiting,
    Answered,
    Lead,
}

struct Waiter {
    wake: AtomicU8,
    /// True while the submitter sleeps on `signal`, so `set` only makes a
    /// system call when someone is there to wake.
    sleeping: Mutex<bool>,
    signal: Condvar,
}

impl Waiter {
    fn new() -> Self {
        Self { wake: AtomicU8::new(Wake::Waiting as u8), sleeping: Mutex::new(false), signal: Condvar::new() }
    }

    fn set(&self, wake: Wake) {
        self.wake.store(wake as u8, Ordering::Release);
        if *lock(&self.sleeping) {
            self.signal.notify_one();
        }
    }

    fn take(&self) -> Option<Wake> {
        match self.wake.swap(Wake::Waiting as u8, Ordering::Acquire) {
            w if w == Wake::Answered as u8 => Some(Wake::Answered),
            w if w == Wake::Lead as u8 => Some(Wake::Lead),
            _ => None,
        }
    }

    /// Waits to be answered or handed the lead. Under concurrent load the
    /// wait starts by yielding the processor for up to [`YIELD_WAIT`]:
    /// waking a sleeping thread costs more than the gap between commits.
    fn wait(&self, yielding: bool) -> Wake {
        if yielding {
            let start = std::time::Instant::now();
            while start.elapsed() < YIELD_WAIT {
                if let Some(wake) = self.take() {
                    return wake;
                }
                std::thread::yield_now();
            }
        }
        let mut sleeping = lock(&self.sleeping);
        loop {
            if let Some(wake) = self.take() {
                *sleeping = false;
                return wake;
            }
            *sleeping = true;
            sleeping = self.signal.wait(sleeping).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Committer {
    pub(crate) fn new(writer: Writer) -> Self {
        Self { writer, queue: Mutex::new(Queue::default()) }
    }

    /// Submits the command `make` builds around a reply channel, and returns
    /// the reply once it is committed.
    pub(crate) fn request<T>(&self, make: impl FnOnce(mpsc::SyncSender<Result<T>>) -> Command) -> Result<T> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.submit(make(reply), false)?;
        // No answer: the command was dropped unanswered, by a halt or a close.
        answer.try_recv().unwrap_or_else(|_| Err(self.refusal()))
    }

    /// Why a command gets no answer: the commit halted, or the store closed.
    fn refusal(&self) -> StoreError {
        match &lock(&self.queue).halted {
            Some(reason) => StoreError::Halted { reason: reason.clone() },
            None => StoreError::Closed,
        }
    }

    /// Queues `command` and returns once it is committed. `closing` marks
    /// the queue closed first; otherwise a closed queue refuses the command.
    fn submit(&self, command: Command, closing: bool) -> Result<()> {
        let me = Arc::new(Waiter::new());
        let (lead, yielding) = {
            let mut queue = lock(&self.queue);
            if let Some(reason) = &queue.halted {
                return Err(StoreError::Halted { reason: reason.clone() });
            }
            if queue.closed && !closing {
                return Err(StoreError::Closed);
            }
            queue.closed |= closing;
            queue.pending.push((command, me.clone()));
            (!std::mem::replace(&mut queue.leading, true), queue.last_batch > 1)
        };
        if lead || me.wait(yielding) == Wake::Lead {
            self.lead(&me);
        }
        Ok(())
    }

    /// Commits batches until `me`'s command is among the committed, then
    /// passes the lead on (or gives it up when nothing is queued).
    fn lead(&self, me: &Arc<Waiter>) {
        loop {
            self.gather();
            let batch = {
                let mut queue = lock(&self.queue);
                let take = queue.pending.len().min(MAX_BATCH);
                queue.last_batch = take;
                queue.pending.drain(..take).collect::<Vec<_>>()
            };
            let mine = batch.iter().any(|(_, w)| Arc::ptr_eq(w, me));
            let (commands, waiters): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            let applied = panic::catch_unwind(AssertUnwindSafe(|| self.writer.apply_all(commands)));
            if let Err(panic) = applied {
                // The batch's replies went with its commands: they read the halt.
                self.halt(&panic);
                waiters.iter().filter(|w| !Arc::ptr_eq(w, me)).for_each(|w| w.set(Wake::Answered));
                return;
            }
            // The lead goes first, so whoever is next does not wait for
            // the others to be answered (nor for a wake-up of its own when
            // nobody is queued: the first answered to come back leads).
            if mine {
                self.hand_off();
            }
            waiters.iter().filter(|w| !Arc::ptr_eq(w, me)).for_each(|w| w.set(Wake::Answered));
            if mine {
                return;
            }
        }
    }

    /// Under concurrent load (the last batch had several commands), gives
    /// the appenders just answered a moment to come back before committing,
    /// so one sync covers them too. A lone appender never waits here.
    fn gather(&self) {
        let start = std::time::Instant::now();
        while start.elapsed() < GATHER_WAIT {
            let queue = lock(&self.queue);
            if queue.last_batch <= 1 || queue.pending.len() >= queue.last_batch {
                return;
            }
            drop(queue);
            std::thread::yield_now();
        }
    }

    /// Stops taking commands after a commit panicked: everything queued is
    /// dropped unanswered (its callers read the halt) and the lead is given up.
    fn halt(&self, panic: &Box<dyn std::any::Any + Send>) {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_string());
        tracing::error!(%reason, "a commit panicked; the store refuses writes until it is reopened");
        let queued = {
            let mut queue = lock(&self.queue);
            queue.halted = Some(reason);
            queue.leading = false;
            std::mem::take(&mut queue.pending)
        };
        for (command, waiter) in queued {
            drop(command);
            waiter.set(Wake::Answered);
        }
    }

    fn hand_off(&self) {
        let mut queue = lock(&self.queue);
        match queue.pending.first() {
            Some((_, next)) => next.set(Wake::Lead),
            None => queue.leading = false,
        }
    }

    /// True when no commit is under way, so a command submitted now would
    /// most likely be committed by its submitter, on its own thread.
    pub(crate) fn is_idle(&self) -> bool {
        !lock(&self.queue).leading
    }

    /// Refuses new commands and waits until everything queued is committed.
    pub(crate) fn close(&self) {
        let (reply, _answer) = mpsc::sync_channel(1);
        // A no-op command: once it is committed, so is everything before it.
        let _ = self.submit(Command::Expire(Vec::new(), reply), true);
    }
}

/// A poisoned queue is still consistent (every critical section only moves
/// commands and flags), so it is taken over rather than propagated.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `set` may land before the waiter yields, while it yields, or after it
    /// has gone to sleep: every time it must return what was set.
    #[test]
    fn a_waiter_gets_its_wake_whether_it_yields_or_sleeps() {
        for yielding in [false, true] {
            for i in 0..1000 {
                let waiter = Arc::new(Waiter::new());
                let (tx, rx) = mpsc::channel();
                let w = waiter.clone();
                std::thread::spawn(move || tx.send(w.wait(yielding)));
                if i % 2 == 0 {
                    std::thread::yield_now();
                }
                waiter.set(Wake::Lead);
                let woken = rx.recv_timeout(std::time::Duration::from_secs(10));
                assert!(woken == Ok(Wake::Lead), "yielding {yielding}, round {i}: the waiter was not woken");
            }
        }
    }
}
