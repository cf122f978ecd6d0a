//! `POST /eval` on the wire: a script in, its output out, in the forms
//! cross-stream 0.13's `xs eval` reads, so that CLI works against xs.
//!
//! The evaluation itself belongs to the processor (`processor/eval.rs`:
//! the owner's engine, the store commands, the stream's modules); this
//! file only turns what it reports, [`Piece`] by [`Piece`], into an
//! answer. The first piece decides the head:
//!
//! | script output | status | content type | body |
//! |---|---|---|---|
//! | nothing (`ignore`) | 204 | - | empty |
//! | a string, int, float or bool | 200 | `text/plain` | the value as text |
//! | any other value (record, list, `null`) | 200 | `application/json` | its JSON |
//! | a list stream | 200 | `application/x-ndjson` | one JSON value a line, as produced |
//! | a byte stream, or a binary value | 200 | `application/octet-stream` | the bytes, as produced |
//! | an error before any output | 422 | `text/plain` | Nushell's formatted message |
//!
//! Deviations from cross-stream: a client whose `Accept` names
//! `application/json` gets single strings, numbers and bools as JSON too
//! (so `xs eval` in a shell keeps their types); a binary value is sent as
//! its bytes (cross-stream sends `null`); a script error is 422, not 500
//! (cross-stream's CLI fails on any status but 200 and 204 and prints the
//! message either way). An error after the output began cuts the body
//! short (the client sees an incomplete chunked body, never a clean end);
//! the server logs its message.
//!
//! Bounds: the script is at most [`MAX_SCRIPT`] bytes (413). The
//! evaluation is interrupted as soon as its client goes: the answer (or
//! the wait for it) holds the evaluation's `cancel` guard, and hyper drops
//! it when the connection closes, even while the script is still computing
//! and has sent nothing. A server shutting down closes every connection
//! within its drain period, so no evaluation outlives the server.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream;
use http_body_util::{BodyExt, StreamBody};
use hyper::{
    Response, StatusCode,
    header::{CONTENT_TYPE, HeaderValue},
};
use tokio::sync::mpsc;

use crate::server::response::{self, Body, BoxError};

/// The longest script accepted, in bytes.
pub const MAX_SCRIPT: usize = 1024 * 1024;

/// Starts evaluating `script`; `json` when the client asked single values
/// as JSON. The processor's, when the server runs one.
pub(crate) type Eval = Arc<dyn Fn(String, bool) -> Evaluation + Send + Sync>;

/// An evaluation under way.
pub(crate) struct Evaluation {
    /// What it produces, in order: a head, then data.
    pub(crate) pieces: mpsc::Receiver<Piece>,
    /// Interrupts the script when dropped: held as long as the client is.
    #[expect(dead_code, reason = "never read: held for what dropping it does")]
    pub(crate) cancel: Box<dyn Send>,
}

/// One report of an evaluation.
#[cfg_attr(not(feature = "processor"), expect(dead_code, reason = "only the processor evaluates"))]
#[derive(Debug)]
pub(crate) enum Piece {
    /// How the output is encoded: always the first piece, unless the
    /// script failed before producing any.
    Head(Kind),
    /// Some output.
    Data(Bytes),
    /// Nushell's formatted error: before the head, the answer (422); after
    /// it, the body is cut short.
    Failed(String),
}

/// The form of a script's output (see the table in the module docs).
#[cfg_attr(not(feature = "processor"), expect(dead_code, reason = "only the processor evaluates"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Empty,
    Text,
    Json,
    Ndjson,
    Bytes,
}

impl Kind {
    fn content_type(self) -> &'static str {
        match self {
            Kind::Empty | Kind::Text => "text/plain; charset=utf-8",
            Kind::Json => "application/json",
            Kind::Ndjson => "application/x-ndjson",
            Kind::Bytes => "application/octet-stream",
        }
    }
}

/// True when `accept` asks for single values as JSON.
pub(crate) fn wants_json(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("application/json"))
}

/// The answer to an evaluation: waits for its head, then streams its data.
pub(crate) async fn answer(mut evaluation: Evaluation) -> Response<Body> {
    match evaluation.pieces.recv().await {
        Some(Piece::Head(Kind::Empty)) => response::empty(StatusCode::NO_CONTENT),
        Some(Piece::Head(kind)) => streamed(kind, evaluation),
        Some(Piece::Failed(message)) => response::message(StatusCode::UNPROCESSABLE_ENTITY, message),
        Some(Piece::Data(_)) | None => {
            response::message(StatusCode::INTERNAL_SERVER_ERROR, "the evaluation ended without an answer")
        }
    }
}

/// The rest of the pieces as the body; the body holds `cancel`, so the
/// script is interrupted when the body is dropped (the client went).
fn streamed(kind: Kind, evaluation: Evaluation) -> Response<Body> {
    let pieces = stream::unfold(Some(evaluation), |state| async move {
        let mut evaluation = state?;
        match evaluation.pieces.recv().await? {
            Piece::Data(bytes) => Some((Ok(hyper::body::Frame::data(bytes)), Some(evaluation))),
            Piece::Failed(message) => {
                tracing::warn!(error = %message, "an eval script failed after its output began: its answer is cut short");
                Some((Err(BoxError::from(message)), None))
            }
            Piece::Head(_) => Some((Ok(hyper::body::Frame::data(Bytes::new())), Some(evaluation))),
        }
    });
    let mut response = Response::new(StreamBody::new(pieces).boxed_unsync());
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(kind.content_type()));
    response
}

/// The answer of a server that runs no processor.
pub(crate) fn unavailable() -> Response<Body> {
    response::message(
        StatusCode::NOT_IMPLEMENTED,
        "this store's owner runs no processor, so it cannot evaluate scripts; serve the store with its processor on",
    )
}
