//! The outbox: what a handler emitted and has not committed yet.
//!
//! Exactly once rests here. The frames a handler emits for an input (its
//! `out`, and whatever `xs append` queued while `run` ran) are held until
//! the input is finished, then committed in one
//! [`Store::append_batch`](crate::Store::append_batch) together with the
//! handler's [`Position`] after that input. A crash before the commit
//! leaves neither, and the next owner handles the input again; a crash
//! after leaves both. While the handler has a backlog, several inputs
//! share one commit (and one sync): still all or nothing, since the
//! position goes with the last of them.
//!
//! Reads from inside `run` (`xs cat`, `xs last`) first commit what earlier
//! inputs emitted, so a handler always reads its own finished output.
//!
//! The batch may end with the handler's lifecycle frames (`.failed`,
//! `.done`, …), which only the runtime may append, so it is committed
//! through the runtime's path. The topics a script chose were checked
//! against the reserved ones on their way in: by `xs append`, and the
//! output topic with the config.

use std::{
    sync::{Mutex, MutexGuard},
    time::Instant,
};

use scru128::Scru128Id;

use crate::{error::StoreError, frame::Frame, processor::position::Position, store::Store};

/// One handler instance's uncommitted output.
pub(crate) struct Outbox {
    store: Store,
    handler_id: Scru128Id,
    pending: Mutex<Pending>,
}

struct Pending {
    /// Outputs of finished inputs, in order.
    frames: Vec<Frame>,
    /// Where the handler resumes after the last finished input.
    position: Position,
    /// Inputs finished since the last commit.
    finished: usize,
    /// When the oldest of them finished.
    since: Option<Instant>,
    /// What `xs append` queued during the input being handled.
    current: Vec<Frame>,
}

impl Outbox {
    /// An empty outbox for `handler_id` (its position is set by [`Outbox::reset`]).
    pub(crate) fn new(store: Store, handler_id: Scru128Id) -> Self {
        let position = Position { after: None, state: nu_protocol::Value::nothing(nu_protocol::Span::unknown()) };
        let pending = Pending { frames: Vec::new(), position, finished: 0, since: None, current: Vec::new() };
        Outbox { store, handler_id, pending: Mutex::new(pending) }
    }

    /// Empties the outbox; the handler resumes from `position`.
    pub(crate) fn reset(&self, position: Position) {
        let mut pending = self.lock();
        *pending = Pending { frames: Vec::new(), position, finished: 0, since: None, current: Vec::new() };
    }

    /// Queues a frame `xs append` made while an input is being handled.
    pub(crate) fn queue(&self, frame: Frame) {
        self.lock().current.push(frame);
    }

    /// Drops what the input being handled queued (it did not finish).
    pub(crate) fn discard_current(&self) {
        self.lock().current.clear();
    }

    /// Records that `input` is finished: what it queued and its `out`
    /// become outputs tagged with the handler and the input, and the
    /// position moves to `after` (unchanged for `None`: a pulse is not a
    /// position to resume from) with `state`.
    pub(crate) fn finish(
        &self,
        input: Scru128Id,
        out: Option<Frame>,
        after: Option<Scru128Id>,
        state: nu_protocol::Value,
    ) {
        let mut pending = self.lock();
        let queued = std::mem::take(&mut pending.current);
        let outputs = queued.into_iter().chain(out).map(|frame| tag(frame, self.handler_id, input));
        pending.frames.extend(outputs);
        pending.position = Position { after: after.or(pending.position.after), state };
        pending.finished += 1;
        pending.since.get_or_insert_with(Instant::now);
    }

    /// How many inputs are finished but not committed, and since when.
    pub(crate) fn backlog(&self) -> (usize, Option<Instant>) {
        let pending = self.lock();
        (pending.finished, pending.since)
    }

    /// Commits the finished inputs' outputs, then `extra` (lifecycle
    /// frames), with the position, in one batch. Nothing to commit and no
    /// `extra`: nothing is written.
    ///
    /// # Errors
    ///
    /// A state that cannot be stored; a store error (then nothing was
    /// written, and the outputs stay queued).
    pub(crate) fn commit(&self, extra: Vec<Frame>) -> Result<Vec<Frame>, CommitError> {
        let mut pending = self.lock();
        if pending.finished == 0 && extra.is_empty() {
            return Ok(Vec::new());
        }
        let checkpoint = pending.position.checkpoint(self.handler_id).map_err(CommitError::State)?;
        let frames = pending.frames.iter().cloned().chain(extra).collect();
        let appended = self.store.append_batch_runtime(frames, Some(checkpoint))?;
        pending.frames.clear();
        pending.finished = 0;
        pending.since = None;
        Ok(appended)
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        // Every critical section leaves the lists consistent: a poisoned
        // lock (a panicking command) is taken over.
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `frame` with `meta.handler_id` and `meta.frame_id` set.
fn tag(mut frame: Frame, handler_id: Scru128Id, input: Scru128Id) -> Frame {
    let mut meta = match frame.meta.take() {
        Some(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    meta.insert("handler_id".into(), handler_id.to_string().into());
    meta.insert("frame_id".into(), input.to_string().into());
    frame.meta = Some(serde_json::Value::Object(meta));
    frame
}

/// Why [`Outbox::commit`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CommitError {
    /// The handler's state cannot be stored.
    #[error("{0}")]
    State(String),
    /// The store refused the batch.
    #[error("could not commit the handler's output: {0}")]
    Store(#[from] StoreError),
}
