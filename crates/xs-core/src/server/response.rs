//! The server's responses: whole bodies, streamed frames, streamed CAS
//! content, and errors as statuses.
//!
//! Streams are pulled: hyper asks for the next piece only once the last
//! one was written to the socket, so a slow client slows its own read and
//! nothing queues up for it, and a read is never dropped for being slow.
//! A frame stream ends cleanly when its read ends or the server shuts down;
//! an error mid-stream aborts the response, so the client sees a cut, not a
//! clean end.

use std::io::Read;

use bytes::Bytes;
use futures_util::stream;
use http_body_util::{BodyExt, Empty, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::{
    Response, StatusCode,
    header::{CONTENT_TYPE, HeaderValue},
};
use tokio::sync::{mpsc, watch};

use crate::{error::StoreError, server::wire::Format, store::reader::Reader};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Body = UnsyncBoxBody<Bytes, BoxError>;

/// Bytes of CAS content sent per body chunk.
const CONTENT_CHUNK: usize = 64 * 1024;

/// A response with a whole body.
pub(crate) fn whole(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let body = Full::new(body.into()).map_err(|never| match never {}).boxed_unsync();
    with_type(status, content_type, body)
}

/// A response with no body.
pub(crate) fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Empty::new().map_err(|never| match never {}).boxed_unsync());
    *response.status_mut() = status;
    response
}

/// A plain-text error.
pub(crate) fn message(status: StatusCode, text: impl Into<String>) -> Response<Body> {
    whole(status, "text/plain; charset=utf-8", text.into())
}

/// The status a store error answers with.
pub(crate) fn store_error(e: &StoreError) -> Response<Body> {
    let status = if e.is_not_found() {
        StatusCode::NOT_FOUND
    } else if e.is_bad_input() {
        StatusCode::BAD_REQUEST
    } else if matches!(e, StoreError::Closed) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        tracing::error!(error = %e, "request failed");
        StatusCode::INTERNAL_SERVER_ERROR
    };
    message(status, e.to_string())
}

/// A read streamed as `format`, until it ends or `stop` turns true.
pub(crate) fn frames(
    reader: Reader,
    format: Format,
    with_timestamp: bool,
    stop: watch::Receiver<bool>,
) -> Response<Body> {
    let pieces = stream::unfold(Some((reader, stop)), move |state| async move {
        let (mut reader, mut stop) = state?;
        let next = tokio::select! {
            biased;
            _ = stop.wait_for(|stopping| *stopping) => return None,
            next = reader.next_async() => next?,
        };
        match next {
            Ok(frame) => {
                Some((Ok(hyper::body::Frame::data(format.encode(&frame, with_timestamp))), Some((reader, stop))))
            }
            Err(e) => {
                tracing::error!(error = %e, "read over the socket failed");
                Some((Err(e.into()), None))
            }
        }
    });
    with_type(StatusCode::OK, format.content_type(), StreamBody::new(pieces).boxed_unsync())
}

/// CAS content streamed from a blocking reader.
pub(crate) fn content(mut source: Box<dyn Read + Send>) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Result<Bytes, BoxError>>(2);
    tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; CONTENT_CHUNK];
        loop {
            let piece = match source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => Ok(Bytes::copy_from_slice(&buf[..n])),
                Err(e) => Err(e.into()),
            };
            let failed = piece.is_err();
            if tx.blocking_send(piece).is_err() || failed {
                break;
            }
        }
    });
    let pieces =
        stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|piece| (piece.map(hyper::body::Frame::data), rx)) },
        );
    with_type(StatusCode::OK, "application/octet-stream", StreamBody::new(pieces).boxed_unsync())
}

fn with_type(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
