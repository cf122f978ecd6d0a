//! A request body streamed into the CAS, within a size limit.
//!
//! A small body (up to [`INLINE_MAX`], most of them) is collected in memory
//! and stored by the caller together with its frame, in one hop to the
//! blocking pool. A larger one is handed chunk by chunk, through a small
//! bounded channel, to a blocking task that streams it into the CAS (writes
//! and fsyncs must not stall the runtime), so memory stays constant
//! whatever the payload's size. Content is committed only once the whole
//! body has arrived within the limit: a body cut short, failed, or too
//! large leaves nothing behind.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use ssri::Integrity;
use tokio::{sync::mpsc, task::JoinHandle};

use crate::{error::StoreError, store::Store, store::cas::INLINE_MAX};

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

/// A body that arrived whole.
pub(crate) enum Uploaded {
    /// Small enough to hold: not stored yet ([`Uploaded::store`] does it).
    Held(Bytes),
    /// Streamed into the CAS already.
    Stored(Integrity),
}

impl Uploaded {
    /// The content's hash, storing held bytes first; an empty body has
    /// none unless `keep_empty`. Blocking: call it on the blocking pool.
    pub(crate) fn store(self, store: &Store, keep_empty: bool) -> Result<Option<Integrity>, StoreError> {
        match self {
            Uploaded::Stored(hash) => Ok(Some(hash)),
            Uploaded::Held(bytes) if bytes.is_empty() && !keep_empty => Ok(None),
            Uploaded::Held(bytes) => {
                let mut writer = store.cas_writer();
                std::io::Write::write_all(&mut writer, &bytes)?;
                writer.commit().map(Some)
            }
        }
    }
}

/// Receives `body`, at most `limit` bytes.
pub(crate) async fn upload(store: &Store, mut body: Incoming, limit: u64) -> Result<Uploaded, UploadError> {
    if hyper::body::Body::size_hint(&body).lower() > limit {
        return Err(UploadError::TooLarge { limit });
    }
    let mut held = BytesMut::new();
    let mut spill: Option<Spill> = None;
    let mut total = 0u64;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else { continue };
        total += data.len() as u64;
        if total > limit {
            return Err(UploadError::TooLarge { limit });
        }
        match &mut spill {
            Some(spill) => spill.send(data).await,
            None if held.len() + data.len() <= INLINE_MAX => held.extend_from_slice(&data),
            None => spill.insert(Spill::start(store, held.split().freeze()).await).send(data).await,
        }
    }
    match spill {
        Some(spill) => Ok(Uploaded::Stored(spill.finish().await?)),
        None => Ok(Uploaded::Held(held.freeze())),
    }
}

/// What the writing task receives.
enum Piece {
    Data(Bytes),
    /// The body ended within the limit: commit. A channel that closes
    /// without it (the upload failed) discards what was written.
    End,
}

/// A blocking task streaming a large body into the CAS.
struct Spill {
    tx: mpsc::Sender<Piece>,
    task: JoinHandle<Result<Integrity, StoreError>>,
}

impl Spill {
    async fn start(store: &Store, first: Bytes) -> Spill {
        let (tx, rx) = mpsc::channel(4);
        let store = store.clone();
        let task = tokio::task::spawn_blocking(move || write(&store, rx));
        let mut spill = Spill { tx, task };
        spill.send(first).await;
        spill
    }

    /// Hands `data` to the writer; if it failed, its error comes from `finish`.
    async fn send(&mut self, data: Bytes) {
        let _ = self.tx.send(Piece::Data(data)).await;
    }

    /// Ends the body and commits it.
    async fn finish(self) -> Result<Integrity, StoreError> {
        let _ = self.tx.send(Piece::End).await;
        drop(self.tx);
        self.task.await.map_err(|e| StoreError::Io(std::io::Error::other(e)))?
    }
}

/// Writes pieces until `End` (commit) or the channel closes (discard).
fn write(store: &Store, mut rx: mpsc::Receiver<Piece>) -> Result<Integrity, StoreError> {
    let mut writer = store.cas_writer();
    while let Some(piece) = rx.blocking_recv() {
        match piece {
            Piece::Data(data) => std::io::Write::write_all(&mut writer, &data)?,
            Piece::End => return writer.commit(),
        }
    }
    Err(StoreError::Io(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the upload was abandoned")))
}
