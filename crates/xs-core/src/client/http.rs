//! A remote store's requests, sent through ureq: the same [`Request`]s the
//! socket client builds, to `http(s)://host:port` with the token, or to an
//! `iroh://<ticket>` store over iroh streams (`wire.rs`'s [`Route`]).
//!
//! Requests answered whole share one agent and its idle connections; a
//! read (a follow, a replay) gets an agent of its own whose single
//! connection it polls through a [`Tap`], and which closes when the read
//! is dropped. Errors are sorted here, once: a server that cannot be
//! reached is [`StoreError::Unreachable`] (nothing was done, and a remote
//! store is never taken over), a refused certificate
//! [`StoreError::Untrusted`], a 401 [`StoreError::Unauthorized`].

use std::{
    fmt,
    io::{self, Read},
    sync::Arc,
    time::Duration,
};

use rustls::ClientConfig;
use ureq::{AsSendBody, SendBody, config::AutoHeaderValue, unversioned::resolver::DefaultResolver};

use crate::{
    client::{
        remote::Remote,
        tls,
        transport::{Payload, Request, malformed, refused},
        wire::{Dialer, Route, Tap},
    },
    error::{Result, StoreError},
};

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may wait for its answer's head.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// The way to one remote store.
pub(crate) struct Http {
    remote: Remote,
    tls: Option<Arc<ClientConfig>>,
    route: Route,
    /// What requests are sent to: the store's URL, or `http://<endpoint
    /// id>` for an iroh store.
    origin: String,
    /// Shared by the requests that are answered whole.
    agent: ureq::Agent,
}

/// An answer whose body has not been read yet.
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) body: ureq::BodyReader<'static>,
}

impl Http {
    /// The way to `remote`; nothing is contacted yet.
    ///
    /// # Errors
    ///
    /// As [`tls::config`], for an `https://` store.
    pub(crate) fn new(remote: Remote) -> Result<Http> {
        let tls = remote.is_tls().then(|| tls::config(&remote.trust, remote.url())).transpose()?;
        let (route, origin) = route(&remote)?;
        let agent = agent(tls.clone(), None, &route);
        Ok(Http { remote, tls, route, origin, agent })
    }

    pub(crate) fn url(&self) -> &str {
        self.remote.url()
    }

    /// Sends `request` and reads the answer's head. A read passes its
    /// `tap` and gets a connection of its own.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unreachable`], [`StoreError::Untrusted`],
    /// [`StoreError::Unauthorized`]; [`StoreError::Io`] when the
    /// connection fails once the request was sent.
    pub(crate) fn send(&self, request: Request<'_>, tap: Option<Arc<Tap>>) -> Result<HttpResponse> {
        let agent = match tap {
            Some(tap) => agent(self.tls.clone(), Some(tap), &self.route),
            None => self.agent.clone(),
        };
        let mut builder =
            ureq::http::Request::builder().method(request.method).uri(format!("{}{}", self.origin, request.target));
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(token) = &self.remote.token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let response = match request.payload {
            Payload::None => self.run(&agent, builder.body(SendBody::none())),
            Payload::Bytes(bytes) => self.run(&agent, builder.body(bytes)),
            // No length: sent chunked, in constant memory.
            Payload::Stream(reader) => self.run(&agent, builder.body(SendBody::from_reader(reader))),
        }?;
        match response.status().as_u16() {
            401 => Err(StoreError::Unauthorized { url: self.url().into() }),
            status => {
                let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(Into::into);
                Ok(HttpResponse { status, content_type, body: response.into_body().into_reader() })
            }
        }
    }

    fn run(
        &self,
        agent: &ureq::Agent,
        request: std::result::Result<ureq::http::Request<impl AsSendBody>, ureq::http::Error>,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        agent.run(request.map_err(|e| self.invalid(&e))?).map_err(|e| self.error(e))
    }

    /// The store error for ureq's `e`.
    fn error(&self, e: ureq::Error) -> StoreError {
        let url = self.url().to_string();
        match e {
            ureq::Error::Rustls(e) => StoreError::Untrusted { url, reason: e.to_string() },
            ureq::Error::Tls(reason) => StoreError::Untrusted { url, reason: reason.into() },
            ureq::Error::Io(e) if unreachable(e.kind()) => StoreError::Unreachable { url, reason: e.to_string() },
            ureq::Error::HostNotFound
            | ureq::Error::ConnectionFailed
            | ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
                StoreError::Unreachable { url, reason: e.to_string() }
            }
            ureq::Error::Io(e) => StoreError::Io(e),
            other => StoreError::Io(io::Error::other(other)),
        }
    }

    fn invalid(&self, e: &dyn fmt::Display) -> StoreError {
        StoreError::InvalidRemote { given: self.url().into(), reason: e.to_string() }
    }
}

/// The io errors of a connection that was never made.
fn unreachable(kind: io::ErrorKind) -> bool {
    use io::ErrorKind::{AddrNotAvailable, ConnectionRefused, HostUnreachable, NetworkUnreachable, NotFound, TimedOut};
    matches!(kind, ConnectionRefused | NotFound | AddrNotAvailable | HostUnreachable | NetworkUnreachable | TimedOut)
}

/// How `remote` is reached, and the origin its requests name.
///
/// # Errors
///
/// [`StoreError::InvalidRemote`] for a ticket that does not parse.
fn route(remote: &Remote) -> Result<(Route, String)> {
    #[cfg(feature = "iroh")]
    if let Some(ticket) = remote.ticket() {
        let invalid = |reason| StoreError::InvalidRemote { given: remote.url().into(), reason };
        let peer = crate::quic::dialer::Peer::new(crate::quic::dialer::parse(ticket).map_err(invalid)?);
        let origin = format!("http://{}", peer.host());
        return Ok((Route::Iroh(Arc::new(peer)), origin));
    }
    Ok((Route::Tcp, remote.base.clone()))
}

/// An agent that dials along `route` with `tls` and, for a read, its
/// `tap`. Status codes are answers, not errors; no redirects, no proxy
/// from the environment, no compression: a store's API is spoken as it is
/// over the socket. An evaluation's answer may take any time: its
/// caller's stop bounds it.
fn agent(tls: Option<Arc<ClientConfig>>, tap: Option<Arc<Tap>>, route: &Route) -> ureq::Agent {
    let stoppable = tap.as_ref().is_some_and(|tap| tap.is_stoppable());
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .accept_encoding(AutoHeaderValue::None)
        .user_agent(concat!("xs/", env!("CARGO_PKG_VERSION")))
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_recv_response((!stoppable).then_some(ANSWER_TIMEOUT))
        .build();
    let dialer = Dialer { tls, tap, route: route.clone() };
    match route {
        Route::Tcp => ureq::Agent::with_parts(config, dialer, DefaultResolver::default()),
        #[cfg(feature = "iroh")]
        Route::Iroh(_) => ureq::Agent::with_parts(config, dialer, crate::client::wire::Ticketed),
    }
}

impl HttpResponse {
    /// Fails with the owner's message unless the status is 2xx.
    pub(crate) fn ok(self) -> Result<HttpResponse> {
        match self.status {
            200..300 => Ok(self),
            status => Err(refused(status, self.body)),
        }
    }

    /// The whole body.
    pub(crate) fn bytes(mut self) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.body.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// The whole body as JSON.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(self) -> Result<T> {
        let bytes = self.bytes()?;
        serde_json::from_slice(&bytes).map_err(|e| malformed(&e))
    }
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http").field("remote", &self.remote).finish()
    }
}
