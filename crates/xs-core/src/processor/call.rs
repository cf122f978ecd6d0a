//! Calls and their answers: which `<name>.call` frames are answered, the
//! answer frames themselves, and the [`Ledger`] that makes each call
//! answered exactly once across crashes.
//!
//! An answer is `<name>.response` (or the action's suffix) or
//! `<name>.error`, with `meta.frame_id` naming the call and, when an
//! action gave it, `meta.action_id` naming the register frame. A call is
//! answered when such a frame exists after it under `<name>.*`; nothing
//! else is kept about it.
//!
//! Exactly once rests on two things. Calls run concurrently and finish in
//! any order, so an action's position is a low-water mark, not the last
//! call it saw: the newest call id below which every call it took is
//! answered. The ledger commits each answer in one batch with that mark
//! (the checkpoint `action/<name>`), so a crash leaves both or neither.
//! The next owner (or the next version of the action) reads `<name>.*`
//! from the mark, sees which calls between there and now already have
//! their answer, and runs only the others.

use std::{
    collections::{HashSet, VecDeque},
    sync::{Mutex, MutexGuard},
};

use nu_protocol::{ShellError, Value};
use scru128::Scru128Id;
use serde_json::{Map, Value as Json};

use crate::{
    error::{Result, StoreError},
    frame::Frame,
    processor::{config::Returns, output::out_frame},
    read_options::ReadOptions,
    store::{Checkpoint, Next, Poll, Store, THRESHOLD},
};

const VERSION: u8 = 1;

/// The topic a call to `name` is appended on.
pub(crate) fn call_topic(name: &str) -> String {
    format!("{name}.call")
}

/// The action a call topic is for: `clip.fetch.call` → `clip.fetch`.
pub(crate) fn callee(topic: &str) -> Option<&str> {
    topic.strip_suffix(".call").filter(|name| !name.is_empty())
}

/// The call `frame` answers, if it is an answer to a call of `name`.
pub(crate) fn answers(frame: &Frame, name: &str) -> Option<Scru128Id> {
    let meta = frame.meta.as_ref()?;
    let is_answer = frame.topic == format!("{name}.error") || meta.get("action_id").is_some();
    if !is_answer || frame.topic == call_topic(name) {
        return None;
    }
    meta.get("frame_id")?.as_str()?.parse().ok()
}

/// The response to `call`: a record as its meta, anything else (or
/// anything, with `target: "cas"`) as its payload, nothing as neither.
///
/// # Errors
///
/// A value with no JSON form; the CAS cannot be written.
pub(crate) fn response(store: &Store, name: &str, returns: &Returns, value: Value) -> Result<Frame, ShellError> {
    let topic = format!("{name}{}", returns.suffix);
    if value.is_nothing() {
        return Ok(Frame { topic, ttl: returns.ttl, ..Frame::default() });
    }
    let cas = returns.cas || !matches!(value, Value::Record { .. });
    out_frame(store, topic, value, &Returns { cas, ..returns.clone() })
}

/// The `<name>.error` answer carrying `message`.
pub(crate) fn error(name: &str, message: &str) -> Frame {
    let meta = Json::Object(Map::from_iter([("error".to_string(), Json::from(message))]));
    Frame::builder(format!("{name}.error")).meta(meta).build()
}

/// `answer` tagged with the call it answers (and the action that gave it).
pub(crate) fn tag(mut answer: Frame, call: Scru128Id, action: Option<Scru128Id>) -> Frame {
    let mut meta = match answer.meta.take() {
        Some(Json::Object(map)) => map,
        _ => Map::new(),
    };
    if let Some(action) = action {
        meta.insert("action_id".into(), action.to_string().into());
    }
    meta.insert("frame_id".into(), call.to_string().into());
    answer.meta = Some(Json::Object(meta));
    answer
}

/// The calls of `name` from `from` (inclusive) to now that have no answer, oldest first.
///
/// # Errors
///
/// Storage errors.
pub(crate) fn unanswered(store: &Store, name: &str, from: Scru128Id) -> Result<Vec<Frame>> {
    let options = ReadOptions { from: Some(from), topic: Some(format!("{name}.*")), ..ReadOptions::default() };
    let mut reader = store.reader(options)?;
    let mut calls = Pending::default();
    loop {
        match reader.poll(std::time::Duration::ZERO)? {
            Next::Frame(frame) if frame.topic != THRESHOLD => calls.take(frame, name),
            Next::Frame(_) => {}
            Next::Idle | Next::End => return Ok(calls.unanswered()),
        }
    }
}

/// Answers every unanswered call of `name` from `from` on with `message`
/// (no action will: there is none, or it proved invalid).
pub(crate) fn refuse_since(store: &Store, name: &str, from: Scru128Id, message: &str) {
    let result = unanswered(store, name, from).and_then(|calls| {
        calls.iter().try_for_each(|call| store.append(tag(error(name, message), call.id, None)).map(drop))
    });
    if let Err(e) = result {
        tracing::error!(action = name, error = %e, "could not answer calls that no action takes");
    }
}

/// Calls and answers seen in a scan of `<name>.*`.
#[derive(Default)]
pub(crate) struct Pending {
    calls: Vec<Frame>,
    answered: HashSet<Scru128Id>,
}

impl Pending {
    /// Takes one frame of `<name>.*` into account.
    pub(crate) fn take(&mut self, frame: Frame, name: &str) {
        if frame.topic == call_topic(name) {
            self.calls.push(frame);
        } else if let Some(call) = answers(&frame, name) {
            self.answered.insert(call);
        }
    }

    /// The calls seen without their answer, oldest first.
    pub(crate) fn unanswered(self) -> Vec<Frame> {
        let answered = self.answered;
        self.calls.into_iter().filter(|c| !answered.contains(&c.id)).collect()
    }
}

/// The checkpoint key of action `name`'s low-water mark.
pub(crate) fn key(name: &str) -> Vec<u8> {
    [b"action/".as_slice(), name.as_bytes()].concat()
}

/// Where action `name` resumes: its low-water mark, if it has one.
///
/// # Errors
///
/// Storage errors; a damaged checkpoint.
pub(crate) fn resume(store: &Store, name: &str) -> Result<Option<Scru128Id>> {
    let Some(bytes) = store.checkpoint(&key(name))? else { return Ok(None) };
    let damaged = || StoreError::Io(std::io::Error::other(format!("the checkpoint of action {name} is damaged")));
    let (&version, id) = bytes.split_first().ok_or_else(damaged)?;
    let id: [u8; 16] = id.try_into().map_err(|_| damaged())?;
    if version != VERSION {
        return Err(damaged());
    }
    Ok(Some(Scru128Id::from_bytes(id)))
}

/// An action's calls in the order it took them, and its low-water mark.
pub(crate) struct Ledger {
    store: Store,
    key: Vec<u8>,
    book: Mutex<Book>,
}

struct Book {
    /// Taken calls not yet below the mark: (id, answered).
    calls: VecDeque<(Scru128Id, bool)>,
    /// Every call up to this one is answered.
    low: Scru128Id,
}

impl Ledger {
    /// A ledger for action `name` whose mark is `low`.
    pub(crate) fn new(store: Store, name: &str, low: Scru128Id) -> Self {
        Ledger { store, key: key(name), book: Mutex::new(Book { calls: VecDeque::new(), low }) }
    }

    /// Commits `frame` (the action's `.active`) with the mark as it is,
    /// so that a version replacing this one resumes from it, and reads
    /// the calls this one leaves unanswered.
    ///
    /// # Errors
    ///
    /// The store refused the batch.
    pub(crate) fn open(&self, frame: Frame) -> Result<()> {
        let book = self.lock();
        self.store.append_batch_runtime(vec![frame], Some(self.checkpoint(book.low))).map(drop)
    }

    fn checkpoint(&self, low: Scru128Id) -> Checkpoint {
        Checkpoint::new(self.key.clone(), [&[VERSION], low.to_bytes().as_slice()].concat())
    }

    /// Records that `call` was taken (before it runs).
    pub(crate) fn take(&self, call: Scru128Id) {
        self.lock().calls.push_back((call, false));
    }

    /// Commits `answer` to `call` with the mark it moves to, in one batch.
    ///
    /// # Errors
    ///
    /// The store refused the batch: nothing was written, and the call
    /// stays unanswered (the next owner answers it).
    pub(crate) fn answer(&self, call: Scru128Id, answer: Frame) -> Result<()> {
        let mut book = self.lock();
        let at = book.calls.iter().position(|(id, _)| *id == call);
        if let Some(at) = at {
            book.calls[at].1 = true;
        }
        let done = book.calls.iter().take_while(|(_, answered)| *answered).count();
        let low = done.checked_sub(1).map_or(book.low, |last| book.calls[last].0);
        match self.store.append_batch_runtime(vec![answer], Some(self.checkpoint(low))) {
            Ok(_) => {
                book.calls.drain(..done);
                book.low = low;
                Ok(())
            }
            Err(e) => {
                if let Some(at) = at {
                    book.calls[at].1 = false;
                }
                Err(e)
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Book> {
        // Plain values, consistent between statements: a poisoned lock is taken over.
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_moves_only_past_answered_calls() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::new(dir.path())?;
        let start = scru128::new();
        let ledger = Ledger::new(store.clone(), "a", start);
        let (one, two, three) = (scru128::new(), scru128::new(), scru128::new());
        for id in [one, two, three] {
            ledger.take(id);
        }
        ledger.answer(two, Frame::builder("a.response").build())?;
        assert_eq!(resume(&store, "a")?, Some(start), "the first call is still open");
        ledger.answer(one, Frame::builder("a.response").build())?;
        assert_eq!(resume(&store, "a")?, Some(two));
        ledger.answer(three, Frame::builder("a.response").build())?;
        assert_eq!(resume(&store, "a")?, Some(three));
        Ok(())
    }

    #[test]
    fn answers_are_told_from_other_frames() {
        let call = scru128::new();
        let tagged = tag(Frame::builder("a.response").build(), call, Some(scru128::new()));
        assert_eq!(answers(&tagged, "a"), Some(call));
        assert_eq!(answers(&tag(error("a", "no"), call, None), "a"), Some(call));
        // A handler's output about a call is not its answer.
        let meta = serde_json::json!({"frame_id": call.to_string(), "handler_id": "x"});
        assert_eq!(answers(&Frame::builder("a.out").meta(meta).build(), "a"), None);
        assert_eq!(callee("clip.fetch.call"), Some("clip.fetch"));
        assert_eq!(callee(".call"), None);
    }
}
