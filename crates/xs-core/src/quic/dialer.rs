//! The client's way to an `iroh://<ticket>` store: one endpoint and one
//! QUIC connection per [`Peer`], and one bi-directional stream per HTTP
//! connection ureq opens.
//!
//! ureq speaks HTTP over a blocking socket, so each connection it asks
//! for is one end of a unix socket pair (`socketpair(2)`, never bound to a
//! path or port: no other process, and no other user, can reach it); a
//! task on iroh's runtime carries the other end over a fresh stream. ureq
//! then treats it as it treats TCP (timeouts, polling a follow, the idle
//! pool), and the owner's listener reads an ordinary HTTP connection, so
//! the token is checked exactly as over TCP. When ureq drops its end the
//! stream is finished and the owner's request ends; when the owner
//! finishes, ureq reads the end of the answer.
//!
//! The QUIC connection is made on the first request, within ureq's
//! connect timeout, and made again once it has closed (an owner that
//! restarted): a ticket that answers nowhere is an error of the
//! connection, never a hang.

use std::{io, os::unix::net::UnixStream, sync::Arc, time::Duration};

use iroh::{
    Endpoint, EndpointAddr, RelayMap, RelayMode,
    endpoint::{Connection, RecvStream, SendStream, presets},
};
use iroh_tickets::endpoint::EndpointTicket;
use tokio::{
    io::{AsyncWriteExt, split},
    sync::Mutex,
};

use crate::quic::runtime;

/// A remote store's endpoint, as its ticket gives it.
pub(crate) struct Peer {
    addr: EndpointAddr,
    state: Arc<Mutex<State>>,
}

/// Made on first use, kept while it works.
#[derive(Default)]
struct State {
    endpoint: Option<Endpoint>,
    connection: Option<Connection>,
}

/// Parses an `iroh://` ticket (what follows the scheme).
///
/// # Errors
///
/// The parser's message when it is not an endpoint ticket.
pub(crate) fn parse(ticket: &str) -> std::result::Result<EndpointAddr, String> {
    let ticket: EndpointTicket = ticket.parse().map_err(|e| format!("not an iroh endpoint ticket: {e}"))?;
    Ok(ticket.endpoint_addr().clone())
}

impl Peer {
    /// The peer `addr`; nothing is contacted yet.
    pub(crate) fn new(addr: EndpointAddr) -> Peer {
        Peer { addr, state: Arc::default() }
    }

    /// The endpoint id, a valid host name (z-base-32), for the requests'
    /// `Host` header.
    pub(crate) fn host(&self) -> String {
        self.addr.id.to_z32()
    }

    /// A new stream to the owner, as the local end of a socket pair,
    /// within `timeout`.
    ///
    /// # Errors
    ///
    /// `TimedOut` when no connection was made in time, `HostUnreachable`
    /// when the owner refused it or could not be reached at all.
    pub(crate) fn open(&self, timeout: Duration) -> io::Result<UnixStream> {
        let (state, addr) = (self.state.clone(), self.addr.clone());
        let opened = runtime::wait(async move { stream(&state, addr).await }, timeout)?;
        let (send, recv) = opened.map_err(|e| io::Error::new(io::ErrorKind::HostUnreachable, e))?;
        let (ours, theirs) = UnixStream::pair()?;
        theirs.set_nonblocking(true)?;
        runtime::spawn(async move {
            match tokio::net::UnixStream::from_std(theirs) {
                Ok(theirs) => carry(theirs, send, recv).await,
                Err(e) => tracing::warn!(error = %e, "cannot carry a connection over iroh"),
            }
        });
        Ok(ours)
    }
}

/// A new stream on the live connection to `addr`, connecting first if
/// there is none.
async fn stream(state: &Mutex<State>, addr: EndpointAddr) -> std::result::Result<(SendStream, RecvStream), String> {
    let mut state = state.lock().await;
    if let Some(connection) = &state.connection
        && connection.close_reason().is_none()
        && let Ok(stream) = connection.open_bi().await
    {
        return Ok(stream);
    }
    let endpoint = match state.endpoint.clone() {
        Some(endpoint) => endpoint,
        None => {
            let endpoint = client_endpoint(&addr).await?;
            state.endpoint = Some(endpoint.clone());
            endpoint
        }
    };
    let connection = endpoint.connect(addr, runtime::ALPN).await.map_err(|e| e.to_string())?;
    let stream = connection.open_bi().await.map_err(|e| e.to_string())?;
    state.connection = Some(connection);
    Ok(stream)
}

/// An endpoint that dials with the ticket's relay, or with none when the
/// ticket has none (direct addresses only).
async fn client_endpoint(addr: &EndpointAddr) -> std::result::Result<Endpoint, String> {
    let relays: Vec<_> = addr.relay_urls().cloned().collect();
    let mode = if relays.is_empty() {
        RelayMode::Disabled
    } else {
        RelayMode::Custom(relays.into_iter().collect::<RelayMap>())
    };
    Endpoint::builder(presets::Minimal).relay_mode(mode).bind().await.map_err(|e| e.to_string())
}

/// Copies between ureq's socket and the stream until ureq hangs up or
/// the stream fails; the owner's end of the answer ends ureq's reads.
async fn carry(local: tokio::net::UnixStream, mut send: SendStream, mut recv: RecvStream) {
    let (mut from_client, mut to_client) = split(local);
    let up = tokio::io::copy(&mut from_client, &mut send);
    let down = async {
        if tokio::io::copy(&mut recv, &mut to_client).await.is_ok() {
            let _ = to_client.shutdown().await;
            // The answer is whole; ureq closes its end when done with it.
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        _ = up => {}
        () = down => {}
    }
    let _ = send.finish();
    let _ = recv.stop(0u32.into());
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Ok(mut state) = self.state.try_lock()
            && let Some(endpoint) = state.endpoint.take()
        {
            runtime::spawn(async move { endpoint.close().await });
        }
    }
}
