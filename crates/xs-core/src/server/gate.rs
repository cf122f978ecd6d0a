//! Who gets served: the gate every accepted connection passes before
//! HTTP is spoken on it.
//!
//! On the private socket, a peer of another uid than the owner's
//! (`SO_PEERCRED`) is refused with `403`: the socket's mode 0600 keeps
//! other users out, and this keeps them out too when a directory or
//! socket mode was loosened by mistake, or for root. (Other listeners have
//! no peer uid; their requests present the token instead, `auth.rs`.)
//! Past [`ServeOptions::max_connections`], counted over every listener, a
//! connection gets `503`. A refusal is answered on a task of its own,
//! bounded in number ([`REFUSING`]) and time ([`LINGER`]), so a flood of
//! connections costs the owner neither descriptors nor attention; past
//! the bound, refused connections are closed unanswered.

use std::{sync::Arc, time::Duration};

use hyper::StatusCode;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::UnixStream,
    sync::{OwnedSemaphorePermit, Semaphore},
};

use crate::server::{ServeOptions, stream::Stream};

/// How many refused connections are answered at once.
pub const REFUSING: usize = 64;
/// How long a refused connection is given to read its answer and close.
pub const LINGER: Duration = Duration::from_secs(1);

/// Why a connection is refused before it is served.
pub(crate) struct Refusal {
    status: StatusCode,
    message: String,
}

/// Admits connections: the owner's uid only, at most `max_connections`.
pub(crate) struct Gate {
    /// The uid the owner runs as (its effective uid).
    owner: u32,
    slots: Arc<Semaphore>,
    max_connections: usize,
    /// Refused connections being answered.
    refusing: Arc<Semaphore>,
}

impl Gate {
    pub(crate) fn new(options: &ServeOptions, owner: u32) -> Gate {
        Gate {
            owner,
            slots: Arc::new(Semaphore::new(options.max_connections)),
            max_connections: options.max_connections,
            refusing: Arc::new(Semaphore::new(REFUSING)),
        }
    }

    /// A slot for `stream` on the private socket, or why it is refused.
    pub(crate) fn admit(&self, stream: &UnixStream) -> std::result::Result<OwnedSemaphorePermit, Refusal> {
        self.owners_peer(stream)?;
        self.slot()
    }

    /// Refuses a peer of another uid than the owner's.
    fn owners_peer(&self, stream: &UnixStream) -> std::result::Result<(), Refusal> {
        let peer = rustix::net::sockopt::socket_peercred(stream).map_err(|e| {
            tracing::warn!(error = %e, "could not read a client's credentials: refused");
            Refusal { status: StatusCode::FORBIDDEN, message: "unknown peer credentials\n".into() }
        })?;
        let uid = peer.uid.as_raw();
        if uid != self.owner {
            tracing::warn!(
                uid,
                pid = peer.pid.as_raw_nonzero().get(),
                owner = self.owner,
                "a client of another user: refused"
            );
            let message = format!("this store serves uid {} only, not uid {uid}\n", self.owner);
            return Err(Refusal { status: StatusCode::FORBIDDEN, message });
        }
        Ok(())
    }

    /// A place among the connections served, shared by every listener.
    pub(crate) fn slot(&self) -> std::result::Result<OwnedSemaphorePermit, Refusal> {
        self.slots.clone().try_acquire_owned().map_err(|_| {
            tracing::warn!(max = self.max_connections, "connection limit reached: refused with 503");
            let message = format!("the owner serves {} connections already; try again\n", self.max_connections);
            Refusal { status: StatusCode::SERVICE_UNAVAILABLE, message }
        })
    }

    /// Answers `refusal` and closes `stream`, on a task of its own (closed
    /// at once when [`REFUSING`] are being answered already).
    pub(crate) fn refuse(&self, stream: Stream, refusal: Refusal) {
        let Ok(permit) = self.refusing.clone().try_acquire_owned() else {
            tracing::debug!("too many refusals under way: closed unanswered");
            return;
        };
        tokio::spawn(async move {
            let _ = tokio::time::timeout(LINGER, answer_and_close(stream, refusal)).await;
            drop(permit);
        });
    }
}

/// Sends the refusal, then reads (and drops) what the client sends until
/// it closes: closing a unix socket with unread bytes would reset the
/// client's connection before it reads the answer.
async fn answer_and_close(mut stream: Stream, refusal: Refusal) -> std::io::Result<()> {
    stream.write_all(refusal_response(refusal.status, &refusal.message).as_bytes()).await?;
    stream.shutdown().await?;
    let mut sink = [0u8; 4096];
    while stream.read(&mut sink).await? > 0 {}
    Ok(())
}

/// A whole `connection: close` response with a plain-text body.
pub(crate) fn refusal_response(status: StatusCode, message: &str) -> String {
    let length = message.len();
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n{message}"
    )
}
