//! A request body streamed into the CAS, within a size limit.
//!
//! The body is read on the runtime and handed chunk by chunk, through a
//! small bounded channel, to a blocking task that writes the CAS (writes and
//! fsyncs must not stall the runtime). Memory stays constant whatever the
//! payload's size. The content is committed only when the whole body has
//! arrived within the limit: a body cut short, failed, or too large leaves
//! nothing behind.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use ssri::Integrity;
use tokio::sync::mpsc;

use crate::{error::StoreError, store::Store};

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UploadError {
    /// The body is larger than the server accepts.
    #[error("the body is larger than this server's limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The client's body failed mid-way.
    #[error("the request body failed: {0}")]
    Body(#[from] hyper::Error),
    /// The CAS failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the writing task receives.
enum Piece {
    Data(Bytes),
    /// The body ended within the limit: commit.
    End,
}

/// Streams `body` into the CAS and returns its hash; an empty body gives
/// `None` unless `keep_empty` (appends take an empty body as "no payload").
pub(crate) async fn upload(
    store: &Store,
    mut body: Incoming,
    limit: u64,
    keep_empty: bool,
) -> Result<Option<Integrity>, UploadError> {
    if hyper::body::Body::size_hint(&body).lower() > limit {
        return Err(UploadError::TooLarge { limit });
    }
    let (tx, rx) = mpsc::channel(4);
    let writer = tokio::task::spawn_blocking({
        let store = store.clone();
        move || write(&store, rx, keep_empty)
    });
    let mut total = 0u64;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else { continue };
        total += data.len() as u64;
        if total > limit {
            return Err(UploadError::TooLarge { limit });
        }
        if tx.send(Piece::Data(data)).await.is_err() {
            break; // the writer failed: its error is returned below
        }
    }
    let _ = tx.send(Piece::End).await;
    drop(tx);
    writer.await.map_err(|e| StoreError::Io(std::io::Error::other(e)))?.map_err(Into::into)
}

/// Writes pieces until `End` (commit) or the channel closes (discard).
fn write(store: &Store, mut rx: mpsc::Receiver<Piece>, keep_empty: bool) -> Result<Option<Integrity>, StoreError> {
    use std::io::Write;
    let mut writer = store.cas_writer();
    let mut empty = !keep_empty;
    while let Some(piece) = rx.blocking_recv() {
        match piece {
            Piece::Data(data) => {
                empty &= data.is_empty();
                writer.write_all(&data)?;
            }
            Piece::End if empty => return Ok(None),
            Piece::End => return writer.commit().map(Some),
        }
    }
    Err(StoreError::Io(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the upload was abandoned")))
}
