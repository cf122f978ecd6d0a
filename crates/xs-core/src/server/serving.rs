//! How every accepted connection is served, whichever listener took it:
//! one HTTP/1.1 set-up, one service, one set of limits, one shutdown.
//!
//! [`Serving`] is the accept loop's state. A connection on the private
//! socket passes the peer check (`gate.rs`) and needs no token; one from
//! another listener takes a slot and, unless the server runs with
//! `no_auth`, has each request checked for the token (`auth.rs`) and is
//! closed when the token is rotated, whatever it is doing (a live follow
//! is cut mid-stream). A late request head gets `408` on plain streams
//! (on TLS the connection just closes: plain bytes would mean nothing).

use std::{
    os::fd::OwnedFd,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use hyper::{StatusCode, server::conn::http1, service::service_fn};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::{
    net::UnixStream,
    sync::{OwnedSemaphorePermit, watch},
    task::JoinSet,
};

use crate::server::{
    ServeOptions,
    api::Api,
    auth::{self, Keys},
    gate::{Gate, refusal_response},
    listener::Arrival,
    stream::{Stream, Watched},
};

/// The HTTP/1.1 settings every connection is served with.
fn http(options: &ServeOptions) -> http1::Builder {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .max_header_size(options.max_header.max(MIN_HEAD));
    http
}

/// The smallest head limit used: hyper's smallest read buffer.
const MIN_HEAD: usize = 8 * 1024;

/// What the accept loop serves connections with, whichever listener
/// accepted them.
pub(crate) struct Serving {
    http: http1::Builder,
    pub(crate) graceful: GracefulShutdown,
    pub(crate) connections: JoinSet<()>,
    gate: Gate,
    /// The private socket's API; the other listeners get a copy that may
    /// not rotate the token.
    pub(crate) api: Api,
    header_timeout: Duration,
    max_header: usize,
}

/// An admitted connection and what serves it.
struct Connection {
    stream: Stream,
    /// Its place among [`ServeOptions::max_connections`], freed when it ends.
    slot: OwnedSemaphorePermit,
    api: Api,
    /// The token its requests must present (and whose rotation ends it).
    keys: Option<Arc<Keys>>,
    peer: Arc<str>,
}

impl Serving {
    pub(crate) fn new(options: &ServeOptions, api: Api) -> Serving {
        Serving {
            http: http(options),
            graceful: GracefulShutdown::new(),
            connections: JoinSet::new(),
            gate: Gate::new(options, rustix::process::geteuid().as_raw()),
            api,
            header_timeout: options.header_timeout,
            max_header: options.max_header,
        }
    }

    /// A connection on `<store>/sock`: the owner's user only, no token.
    pub(crate) fn private(&mut self, stream: UnixStream) {
        match self.gate.admit(&stream) {
            Ok(slot) => {
                let (api, peer) = (self.api.clone(), Arc::from("the owner's socket"));
                self.serve(Connection { stream: Stream::Unix(stream), slot, api, keys: None, peer });
            }
            Err(refusal) => self.gate.refuse(Stream::Unix(stream), refusal),
        }
    }

    /// A connection on another listener.
    pub(crate) fn arrival(&mut self, arrival: Arrival) {
        let Arrival { stream, peer, auth } = arrival;
        match self.gate.slot() {
            Ok(slot) => {
                let api = Api { private: false, ..self.api.clone() };
                let keys = auth.then(|| api.keys.clone());
                self.serve(Connection { stream, slot, api, keys, peer });
            }
            Err(refusal) => self.gate.refuse(stream, refusal),
        }
    }

    fn serve(&mut self, connection: Connection) {
        let Connection { stream, slot, api, keys, peer } = connection;
        // A second descriptor of the socket, to answer 408 once hyper has given
        // up on a late head (hyper closes without a word, and drops its stream).
        let spare = stream.spare();
        let asking = Arc::new(AtomicBool::new(false));
        let io = TokioIo::new(Watched { stream, asking: asking.clone() });
        let mut rotated = keys.as_ref().map(|keys| keys.subscribe());
        let guard = (keys, peer.clone());
        let service = service_fn(move |request| auth::guarded(guard.0.clone(), guard.1.clone(), api.clone(), request));
        let connection = self.graceful.watch(self.http.serve_connection(io, service));
        let (timeout, max_header) = (self.header_timeout, self.max_header);
        self.connections.spawn(async move {
            tokio::select! {
                ended = connection => match ended {
                    Ok(()) => {}
                    // Idle past the timeout with no request begun: closed silently.
                    Err(e) if e.is_timeout() && !asking.load(Ordering::Relaxed) => {}
                    Err(e) if e.is_timeout() => {
                        tracing::warn!(%peer, "a client did not send its request head within {timeout:?}: answered 408");
                        if let Some(spare) = spare {
                            answer_late_head(spare);
                        }
                    }
                    Err(e) if e.is_parse_too_large() => {
                        tracing::warn!(%peer, "a request head over {max_header} bytes or 100 headers: answered 431");
                    }
                    Err(e) => tracing::debug!(%peer, error = %e, "connection ended with an error"),
                },
                () = rotation(&mut rotated) => tracing::info!(%peer, "the token was rotated: closed a connection made with the old one"),
            }
            drop(slot);
        });
    }
}

/// Completes when the token changes; never without a token to watch.
async fn rotation(rotated: &mut Option<watch::Receiver<Option<Arc<str>>>>) {
    if let Some(rotated) = rotated
        && rotated.changed().await.is_ok()
    {
        return;
    }
    std::future::pending().await
}

/// Writes a 408 on a connection hyper has left (best effort: the socket is
/// non-blocking, and a client that stalled has room for a few bytes).
fn answer_late_head(spare: OwnedFd) {
    let response = refusal_response(StatusCode::REQUEST_TIMEOUT, "the request head took too long\n");
    let _ = rustix::io::write(&spare, response.as_bytes());
    let _ = rustix::net::shutdown(&spare, rustix::net::Shutdown::Both);
}
