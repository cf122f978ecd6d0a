//! `POST /eval` from the client's side: a script sent to the owner, and
//! its output read back in the form the owner chose (see
//! [`crate::server::eval`] for the table).
//!
//! The caller stays in control: the owner answers only once the script
//! has produced something, which may take any time, so every wait (for
//! the answer's head, for the next line or bytes) is cut into
//! [`TICK`]s, between which the caller's [`Stop`] is asked. Stopping, or
//! dropping the output, closes the connection, and the owner then
//! interrupts the script.

use std::{
    io::{self, BufRead, BufReader, Read},
    sync::Arc,
    time::Duration,
};

use crate::{
    client::{
        answer::Answer,
        transport::{is_timeout, malformed},
    },
    error::{Result, StoreError},
};

/// How often a wait asks the caller's [`Stop`].
pub const TICK: Duration = Duration::from_millis(100);

/// Asked between waits: true once the caller wants the evaluation stopped
/// (Ctrl-C). `Arc::new(|| false)` never stops.
pub type Stop = Arc<dyn Fn() -> bool + Send + Sync>;

/// What a script produced, as the owner sent it.
pub enum Evaluated {
    /// No output (the script ended in `ignore`).
    Nothing,
    /// One value: its JSON.
    Value(serde_json::Value),
    /// One string, number or bool, as text (an owner that answers
    /// `text/plain`, as cross-stream does for a client that does not ask
    /// for JSON).
    Text(String),
    /// A list stream: one JSON value per item, as the script yields them.
    Lines(EvalLines),
    /// A byte stream (or a binary value), as the script produces it.
    Bytes(EvalBytes),
}

/// The bytes of an evaluation's answer, read as they come; a read fails
/// once the caller's [`Stop`] says so, or when the answer was cut short
/// (the script failed after its output began). Over the socket a read
/// times out every [`TICK`] and is asked again here; a remote store's
/// connection asks the [`Stop`] itself (its transport's tap).
pub struct EvalBytes {
    body: Box<dyn Read + Send>,
    stop: Stop,
}

impl Read for EvalBytes {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.body.read(buf) {
                Err(e) if is_timeout(&e) && !(self.stop)() => continue,
                Err(e) if is_timeout(&e) => return Err(stopped()),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(cut(e)),
                read => return read,
            }
        }
    }
}

/// The values of a list stream, one JSON value per NDJSON line.
pub struct EvalLines {
    lines: BufReader<EvalBytes>,
}

impl Iterator for EvalLines {
    type Item = Result<serde_json::Value>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut line = Vec::new();
        match self.lines.read_until(b'\n', &mut line) {
            Ok(0) => None,
            Ok(_) => Some(serde_json::from_slice(&line).map_err(|e| malformed(&e))),
            Err(e) => Some(Err(e.into())),
        }
    }
}

/// The output of an answered `POST /eval`.
///
/// # Errors
///
/// [`StoreError::Script`] with Nushell's message for a 422;
/// [`StoreError::Remote`] for another refusal (501: the owner runs no
/// processor); a malformed single value.
pub(crate) fn output(answer: Answer, stop: Stop) -> Result<Evaluated> {
    match answer.status() {
        204 => return Ok(Evaluated::Nothing),
        422 => return Err(StoreError::Script { message: text(answer)? }),
        _ => {}
    }
    let answer = answer.ok()?;
    let content_type = answer.content_type().unwrap_or_default().to_string();
    let mut body = EvalBytes { body: answer.into_read(), stop };
    if content_type.starts_with("application/x-ndjson") {
        Ok(Evaluated::Lines(EvalLines { lines: BufReader::new(body) }))
    } else if content_type.starts_with("application/json") {
        serde_json::from_reader(body).map(Evaluated::Value).map_err(|e| malformed(&e))
    } else if content_type.starts_with("text/") {
        let mut text = String::new();
        body.read_to_string(&mut text)?;
        Ok(Evaluated::Text(text))
    } else {
        Ok(Evaluated::Bytes(body))
    }
}

/// The error of a wait the caller stopped.
pub(crate) fn stopped() -> io::Error {
    io::Error::other("the evaluation was stopped")
}

fn cut(e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        "the script's output was cut short: it failed after its output began (the owner's log has its error)",
    )
}

fn text(answer: Answer) -> Result<String> {
    let mut message = String::new();
    answer.into_read().take(1024 * 1024).read_to_string(&mut message)?;
    Ok(message)
}
