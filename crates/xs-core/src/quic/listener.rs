//! A store's `iroh://` listener: its endpoint, its ticket, and the
//! streams it accepts.
//!
//! The endpoint is bound with the store's key (`key.rs`) on the port its
//! last ticket named, when that port is free, so a restarted owner hands
//! out the same ticket; with relays off (`iroh://?relay=off`) the ticket
//! carries only direct addresses. The ticket is recorded as a frame on
//! [`TICKET_TOPIC`] (meta `{ticket, relay}`), written by the owner
//! itself: clients cannot append under `xs.`, so the frame is the owner's
//! word. Each connection's handshake runs on its own task, bounded in
//! number and time as TLS handshakes are; each bi-directional stream of a
//! connection then becomes one [`Arrival`] for the server, which serves
//! and authenticates it as any TCP connection. Refusals are logged.

use std::{
    io,
    net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6, UdpSocket},
    sync::Arc,
    time::Duration,
};

use iroh::{
    Endpoint, EndpointAddr, EndpointId, RelayMode, Watcher,
    endpoint::{BindOpts, Connection, Incoming, presets},
};
use iroh_tickets::endpoint::EndpointTicket;
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore, mpsc},
    task::JoinSet,
};

use crate::{
    error::{Result, StoreError},
    frame::Frame,
    quic::{duplex::Duplex, key, runtime},
    server::{listen::Listen, listener::Arrival, listener::HANDSHAKING, stream::Stream},
    store::Store,
};

/// The topic of the frame recording an `iroh://` listener's ticket.
pub const TICKET_TOPIC: &str = "xs.listen.iroh";
/// How long binding may take, a relay included.
const BIND_TIMEOUT: Duration = Duration::from_secs(20);
/// How long, with relays on, the endpoint waits for its home relay before
/// its ticket goes out with direct addresses only.
const RELAY_WAIT: Duration = Duration::from_secs(5);
/// How long it waits for its first direct addresses.
const ADDR_WAIT: Duration = Duration::from_secs(5);
/// How long an endpoint's close may take at shutdown.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// A bound endpoint and the ticket that reaches it.
pub(crate) struct Served {
    pub(crate) endpoint: Endpoint,
    pub(crate) ticket: String,
}

/// Binds `store`'s endpoint for `listen` and records its ticket.
///
/// # Errors
///
/// [`StoreError::ListenFailed`] when the endpoint cannot be bound;
/// [`StoreError::Io`] for an unreadable key file; a failed append.
pub(crate) fn bind(listen: &Listen, store: &Store, relay: bool) -> Result<Served> {
    let failed = |source: io::Error| StoreError::ListenFailed { listen: listen.to_string(), source };
    let key = key::load_or_create(store.path())?;
    let port = match previous_port(store, key.public()) {
        Some(port) => port,
        None => free_port().map_err(failed)?,
    };
    let bound = runtime::wait(endpoint(key, relay, port), BIND_TIMEOUT).map_err(failed)?;
    let (endpoint, addr) = bound.map_err(|e| failed(io::Error::other(e)))?;
    let ticket = EndpointTicket::new(addr).to_string();
    let meta = serde_json::json!({ "ticket": ticket, "relay": relay });
    store.append_runtime(Frame::builder(TICKET_TOPIC).meta(meta).build())?;
    Ok(Served { endpoint, ticket })
}

/// The port of the last ticket recorded for endpoint `id`.
fn previous_port(store: &Store, id: EndpointId) -> Option<u16> {
    let frame = store.last(TICKET_TOPIC, 1).ok()?.pop()?;
    let ticket: EndpointTicket = frame.meta?.get("ticket")?.as_str()?.parse().ok()?;
    let addr = ticket.endpoint_addr();
    (addr.id == id).then(|| addr.ip_addrs().next().map(|a| a.port())).flatten()
}

/// A UDP port free right now, for both address families to share.
fn free_port() -> io::Result<u16> {
    Ok(UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?.local_addr()?.port())
}

/// The endpoint on `port` (any free one if it is taken), once it knows
/// its addresses.
async fn endpoint(
    key: iroh::SecretKey,
    relay: bool,
    port: u16,
) -> std::result::Result<(Endpoint, EndpointAddr), String> {
    let endpoint = match bound(key.clone(), relay, port).await {
        Ok(endpoint) => endpoint,
        Err(e) => {
            tracing::warn!(port, error = %e, "the iroh listener's port is taken: its ticket changes");
            bound(key, relay, 0).await?
        }
    };
    if relay && tokio::time::timeout(RELAY_WAIT, endpoint.online()).await.is_err() {
        tracing::warn!("no iroh relay answered within {RELAY_WAIT:?}: the ticket has direct addresses only");
    }
    let addr = addressed(&endpoint).await;
    Ok((endpoint, addr))
}

async fn bound(key: iroh::SecretKey, relay: bool, port: u16) -> std::result::Result<Endpoint, String> {
    let mode = if relay { RelayMode::Default } else { RelayMode::Disabled };
    let v6 = SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0);
    Endpoint::builder(presets::Minimal)
        .secret_key(key)
        .alpns(vec![runtime::ALPN.to_vec()])
        .relay_mode(mode)
        .clear_ip_transports()
        .bind_addr(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))
        .and_then(|b| b.bind_addr_with_opts(v6, BindOpts::default().set_is_required(false)))
        .map_err(|e| e.to_string())?
        .bind()
        .await
        .map_err(|e| e.to_string())
}

/// The endpoint's address once it has a direct address (or after
/// [`ADDR_WAIT`], as it is).
async fn addressed(endpoint: &Endpoint) -> EndpointAddr {
    let mut watcher = endpoint.watch_addr();
    let first = async {
        loop {
            let addr = watcher.get();
            if addr.ip_addrs().next().is_some() || watcher.updated().await.is_err() {
                return addr;
            }
        }
    };
    tokio::time::timeout(ADDR_WAIT, first).await.unwrap_or_else(|_| endpoint.addr())
}

/// Accepts connections on `endpoint` until the task is aborted (shutdown)
/// or the endpoint closes, handing each stream to `arrivals`.
pub(crate) async fn accept(endpoint: Endpoint, auth: bool, arrivals: mpsc::Sender<Arrival>, timeout: Duration) {
    let handshakes = Arc::new(Semaphore::new(HANDSHAKING));
    // Aborted with this task: no stream is accepted after shutdown begins.
    let mut peers = JoinSet::new();
    loop {
        tokio::select! {
            incoming = endpoint.accept() => {
                let Some(incoming) = incoming else { return };
                let Ok(permit) = handshakes.clone().try_acquire_owned() else {
                    tracing::warn!(peer = %incoming_peer(&incoming), "too many iroh handshakes under way: refused");
                    incoming.refuse();
                    continue;
                };
                peers.spawn(peer(incoming, permit, auth, arrivals.clone(), timeout));
            }
            Some(_) = peers.join_next(), if !peers.is_empty() => {}
        }
    }
}

/// One connection: its handshake within `timeout`, then its streams.
async fn peer(
    incoming: Incoming,
    permit: OwnedSemaphorePermit,
    auth: bool,
    arrivals: mpsc::Sender<Arrival>,
    timeout: Duration,
) {
    let from = incoming_peer(&incoming);
    let connection = match tokio::time::timeout(timeout, incoming.into_future()).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(e)) => return tracing::warn!(peer = %from, error = %e, "an iroh handshake failed: refused"),
        Err(_) => return tracing::warn!(peer = %from, "an iroh handshake took over {timeout:?}: refused"),
    };
    drop(permit);
    streams(connection, auth, arrivals).await;
}

/// Hands each stream `connection` opens to `arrivals`, until it closes.
async fn streams(connection: Connection, auth: bool, arrivals: mpsc::Sender<Arrival>) {
    let peer: Arc<str> = format!("iroh peer {}", connection.remote_id().fmt_short()).into();
    loop {
        let (send, recv) = match connection.accept_bi().await {
            Ok(stream) => stream,
            Err(e) => return tracing::debug!(%peer, error = %e, "an iroh connection ended"),
        };
        let stream = Stream::Iroh(Box::new(Duplex { send, recv }));
        if arrivals.send(Arrival { stream, peer: peer.clone(), auth }).await.is_err() {
            return;
        }
    }
}

/// Who an incoming connection comes from, for the logs.
fn incoming_peer(incoming: &Incoming) -> String {
    format!("iroh {:?}", incoming.remote_addr())
}

/// Closes `endpoint` (its peers see the connection end at once), waiting
/// at most [`CLOSE_WAIT`].
pub(crate) async fn close(endpoint: Endpoint) {
    if tokio::time::timeout(CLOSE_WAIT, endpoint.close()).await.is_err() {
        tracing::debug!("an iroh endpoint took over {CLOSE_WAIT:?} to close");
    }
}
