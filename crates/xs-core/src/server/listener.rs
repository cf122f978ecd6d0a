//! The listeners an owner serves besides `<store>/sock`: bound at
//! [`Server::bind`](crate::server::Server::bind), each accepted on a task
//! of its own that hands connections to the server's one loop.
//!
//! Binding is where a listener is judged: its address must bind, an
//! `https://` one needs a certificate, and `no_auth` is refused unless
//! the bound address is loopback (or a unix path). A TLS handshake runs on
//! its own task, bounded in number ([`HANDSHAKING`]) and time (the head
//! timeout), so a client that stalls in it holds up no one; past the bound
//! new connections are closed unanswered. Every refusal is logged. An
//! `iroh://` listener (feature `iroh`) is bound and accepted on by
//! `quic/listener.rs`, and always needs the token: it is reachable from
//! other machines by design.

use std::{
    io, net::TcpListener as StdTcpListener, os::unix::net::UnixListener as StdUnixListener, sync::Arc, time::Duration,
};

use tokio::{
    net::{TcpListener, UnixListener},
    sync::{Semaphore, mpsc},
};

use crate::{
    error::{Result, StoreError},
    server::{ServeOptions, listen::Listen, socket, stream::Stream, tls},
};

/// How many TLS handshakes run at once per listener.
pub const HANDSHAKING: usize = 64;

/// A listener bound but not yet accepting.
pub(crate) struct Bound {
    /// Its address, with the real port.
    pub(crate) listen: Listen,
    socket: Socket,
    /// Requests on it must present the token.
    pub(crate) auth: bool,
}

enum Socket {
    Tcp(StdTcpListener),
    /// The socket file goes when the listener does.
    Unix(StdUnixListener, socket::SocketFile),
    #[cfg(feature = "iroh")]
    Iroh(crate::quic::listener::Served),
}

/// A connection accepted on one of the listeners, ready for HTTP.
pub(crate) struct Arrival {
    pub(crate) stream: Stream,
    /// Who connected, for the logs.
    pub(crate) peer: Arc<str>,
    /// Its requests must present the token.
    pub(crate) auth: bool,
}

/// Binds `listen` as `options` say (an `iroh://` listener records its
/// ticket in `store`).
///
/// # Errors
///
/// [`StoreError::ListenFailed`] when it cannot be bound;
/// [`StoreError::NoAuthExposed`] for `no_auth` off loopback, or on iroh.
pub(crate) fn bind(listen: &Listen, options: &ServeOptions, store: &crate::store::Store) -> Result<Bound> {
    let failed = |source: io::Error| StoreError::ListenFailed { listen: listen.to_string(), source };
    let auth = !options.no_auth;
    let (listen, socket) = match listen {
        Listen::Iroh { .. } if !auth => return Err(StoreError::NoAuthExposed { listen: listen.to_string() }),
        #[cfg(feature = "iroh")]
        Listen::Iroh { relay, .. } => {
            let served = crate::quic::listener::bind(listen, store, *relay)?;
            (Listen::Iroh { relay: *relay, ticket: Some(served.ticket.clone()) }, Socket::Iroh(served))
        }
        #[cfg(not(feature = "iroh"))]
        Listen::Iroh { .. } => {
            let _ = store;
            let unsupported = "this xs was built without iroh (cargo feature `iroh`)";
            return Err(failed(io::Error::new(io::ErrorKind::Unsupported, unsupported)));
        }
        Listen::Unix(path) => {
            let (listener, file) = socket::bind_shared(path).map_err(failed)?;
            listener.set_nonblocking(true).map_err(failed)?;
            (listen.clone(), Socket::Unix(listener, file))
        }
        _ => {
            let (host, port) = listen.host_port().ok_or_else(|| failed(io::ErrorKind::Unsupported.into()))?;
            let listener = StdTcpListener::bind((host, port)).map_err(failed)?;
            listener.set_nonblocking(true).map_err(failed)?;
            let addr = listener.local_addr().map_err(failed)?;
            if !auth && !addr.ip().is_loopback() {
                return Err(StoreError::NoAuthExposed { listen: listen.to_string() });
            }
            (listen.bound_at(addr), Socket::Tcp(listener))
        }
    };
    Ok(Bound { listen, socket, auth })
}

/// Logs that `bound` is served (before it accepts, so the line is there
/// once the server answers).
pub(crate) fn announce(bound: &Bound, tls: Option<&tls::Served>) {
    let (listen, auth) = (&bound.listen, bound.auth);
    match (tls, listen.ticket()) {
        (Some(tls), _) => tracing::info!(%listen, auth, fingerprint = %tls.fingerprint, "listening (TLS)"),
        (None, Some(ticket)) => tracing::info!(%listen, auth, ticket, "listening (iroh)"),
        (None, None) => tracing::info!(%listen, auth, "listening"),
    }
}

/// Accepts on `bound` until the task is aborted (shutdown), handing each
/// connection to `arrivals`; over TLS, once its handshake is done.
pub(crate) async fn accept(
    bound: Bound,
    tls: Option<tls::Served>,
    arrivals: mpsc::Sender<Arrival>,
    handshake_timeout: Duration,
) {
    let Bound { listen, socket, auth } = bound;
    #[cfg(feature = "iroh")]
    if let Socket::Iroh(served) = socket {
        return crate::quic::listener::accept(served.endpoint, auth, arrivals, handshake_timeout).await;
    }
    let listener = match Listener::new(socket) {
        Ok(listener) => listener,
        Err(e) => return tracing::error!(%listen, error = %e, "cannot accept on a listener"),
    };
    let handshakes = Arc::new(Semaphore::new(HANDSHAKING));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                crate::server::backoff(e).await;
                continue;
            }
        };
        let peer: Arc<str> = peer.into();
        match (&tls, stream) {
            (Some(tls), Stream::Tcp(tcp)) => {
                let Ok(permit) = handshakes.clone().try_acquire_owned() else {
                    tracing::warn!(%listen, %peer, "too many TLS handshakes under way: closed unanswered");
                    continue;
                };
                let handshake = handshake(tls.clone(), tcp, peer, auth, handshake_timeout);
                let arrivals = arrivals.clone();
                tokio::spawn(async move {
                    if let Some(arrival) = handshake.await {
                        let _ = arrivals.send(arrival).await;
                    }
                    drop(permit);
                });
            }
            (_, stream) => {
                if arrivals.send(Arrival { stream, peer, auth }).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The TLS handshake of `tcp`, within `timeout`; `None` (logged) when it fails.
async fn handshake(
    tls: tls::Served,
    tcp: tokio::net::TcpStream,
    peer: Arc<str>,
    auth: bool,
    timeout: Duration,
) -> Option<Arrival> {
    match tokio::time::timeout(timeout, tls.acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => Some(Arrival { stream: Stream::Tls(Box::new(stream)), peer, auth }),
        Ok(Err(e)) => {
            tracing::warn!(%peer, error = %e, "a TLS handshake failed: refused");
            None
        }
        Err(_) => {
            tracing::warn!(%peer, "a TLS handshake took over {timeout:?}: refused");
            None
        }
    }
}

/// What must be closed once a server has drained: the iroh endpoints,
/// whose peers would otherwise wait out an idle timeout to notice.
#[derive(Default)]
pub(crate) struct Closers {
    #[cfg(feature = "iroh")]
    endpoints: Vec<iroh::Endpoint>,
}

impl Closers {
    pub(crate) fn of(bound: &[Bound]) -> Closers {
        #[cfg(feature = "iroh")]
        let endpoints = bound
            .iter()
            .filter_map(|b| match &b.socket {
                Socket::Iroh(served) => Some(served.endpoint.clone()),
                _ => None,
            })
            .collect();
        #[cfg(not(feature = "iroh"))]
        let _ = bound;
        Closers {
            #[cfg(feature = "iroh")]
            endpoints,
        }
    }

    pub(crate) async fn close(self) {
        #[cfg(feature = "iroh")]
        for endpoint in self.endpoints {
            crate::quic::listener::close(endpoint).await;
        }
    }
}

/// A bound listener registered with the runtime.
enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, socket::SocketFile),
}

impl Listener {
    fn new(socket: Socket) -> io::Result<Listener> {
        Ok(match socket {
            Socket::Tcp(listener) => Listener::Tcp(TcpListener::from_std(listener)?),
            Socket::Unix(listener, file) => Listener::Unix(UnixListener::from_std(listener)?, file),
            #[cfg(feature = "iroh")]
            Socket::Iroh(_) => return Err(io::ErrorKind::Unsupported.into()),
        })
    }

    /// The next connection and who made it.
    async fn accept(&self) -> io::Result<(Stream, String)> {
        match self {
            Listener::Tcp(listener) => {
                let (stream, peer) = listener.accept().await?;
                // Small requests and answers go out at once, as over the socket.
                stream.set_nodelay(true)?;
                Ok((Stream::Tcp(stream), peer.to_string()))
            }
            Listener::Unix(listener, file) => {
                let (stream, _) = listener.accept().await?;
                Ok((Stream::Unix(stream), format!("a peer of {}", file.path().display())))
            }
        }
    }
}
