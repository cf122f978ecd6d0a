//! The connections of a remote client, as ureq's transport: TCP, wrapped in
//! rustls for `https://`, or one end of a socket pair carried over an iroh
//! stream for `iroh://` (feature `iroh`, see `quic/dialer.rs`).
//!
//! ureq speaks HTTP/1.1 (requests, chunked bodies, the idle pool); this file
//! only opens and carries connections, for two reasons ureq's own connector
//! cannot serve. A pinned certificate fingerprint needs a rustls verifier of
//! our own ([`tls`](crate::client::tls)). And a read must be pollable with a
//! timeout, as over the socket: a [`Tap`] shared between a read and the one
//! connection it runs on sets how long the next wait for bytes may take;
//! when it runs out the read gets `WouldBlock` and loses nothing (rustls and
//! ureq keep their partial state), so a follow needs no thread of its own
//! and ends when its reader is dropped. An evaluation's tap carries its
//! caller's [`Stop`] instead: the owner may take any time to answer, so
//! each wait is cut into [`TICK`]s, between which the caller is asked,
//! and ureq sees one wait that ends with bytes or with the caller's stop.

use std::{
    fmt,
    io::{self, Read, Write},
    net::TcpStream,
    sync::{Arc, Mutex},
    time::Duration,
};

use rustls::{ClientConfig, ClientConnection, StreamOwned};
use rustls_pki_types::ServerName;
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, Transport};

use crate::client::eval::{Stop, TICK, stopped};

/// How long a connection may take to open, TLS handshake included, when
/// ureq sets no deadline.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A read's hold on the wait of its connection's next read.
#[derive(Default)]
pub(crate) struct Tap {
    /// `Some`: wait at most this long for bytes (a poll); `None`: block.
    wait: Mutex<Option<Duration>>,
    /// An evaluation's caller: every wait goes on, [`TICK`] by [`TICK`],
    /// until bytes come or this says stop.
    stop: Option<Stop>,
}

impl Tap {
    /// The tap of an evaluation that `stop` may end.
    pub(crate) fn stopping(stop: Stop) -> Tap {
        Tap { wait: Mutex::default(), stop: Some(stop) }
    }

    /// True for an evaluation's tap, whose waits have no deadline but the
    /// caller's stop.
    pub(crate) fn is_stoppable(&self) -> bool {
        self.stop.is_some()
    }

    pub(crate) fn set(&self, wait: Option<Duration>) {
        *self.wait.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = wait;
    }

    fn get(&self) -> Option<Duration> {
        *self.wait.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How a dialer reaches the owner.
#[derive(Clone)]
pub(crate) enum Route {
    /// TCP to the URL's host (and TLS on it for `https://`).
    Tcp,
    /// A new stream to an iroh endpoint per connection.
    #[cfg(feature = "iroh")]
    Iroh(Arc<crate::quic::dialer::Peer>),
}

/// Opens connections for ureq: TCP, then TLS when the URL is `https://`;
/// or a stream to an iroh peer.
pub(crate) struct Dialer {
    pub(crate) tls: Option<Arc<ClientConfig>>,
    /// The read this dialer's agent serves, if it serves one.
    pub(crate) tap: Option<Arc<Tap>>,
    pub(crate) route: Route,
}

impl Connector<()> for Dialer {
    type Out = Wire;

    fn connect(&self, details: &ConnectionDetails, _chained: Option<()>) -> Result<Option<Wire>, ureq::Error> {
        let timeout = details.timeout.not_zero().map_or(CONNECT_TIMEOUT, |t| *t);
        #[cfg(feature = "iroh")]
        if let Route::Iroh(peer) = &self.route {
            return Ok(Some(self.wire(details, Stream::Pair(peer.open(timeout)?))));
        }
        let tcp = dial(details, timeout)?;
        tcp.set_nodelay(true)?;
        let stream = match (details.needs_tls(), &self.tls) {
            (false, _) => Stream::Plain(tcp),
            (true, Some(config)) => Stream::Tls(Box::new(handshake(details, config.clone(), tcp, timeout)?)),
            (true, None) => return Err(ureq::Error::Tls("an https:// store needs a TLS configuration")),
        };
        Ok(Some(self.wire(details, stream)))
    }
}

impl Dialer {
    fn wire(&self, details: &ConnectionDetails, stream: Stream) -> Wire {
        let config = details.config;
        let buffers = LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size());
        Wire { stream, buffers, tap: self.tap.clone(), read_timeout: None, write_timeout: None }
    }
}

/// The resolver of an iroh store's requests: its ticket says where it is,
/// so the host (its endpoint id) is never looked up; ureq only needs an
/// address, which the dialer ignores.
#[cfg(feature = "iroh")]
#[derive(Debug)]
pub(crate) struct Ticketed;

#[cfg(feature = "iroh")]
impl ureq::unversioned::resolver::Resolver for Ticketed {
    fn resolve(
        &self,
        _uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let mut addrs = self.empty();
        addrs.push(std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
        Ok(addrs)
    }
}

/// The first of the resolved addresses that accepts a TCP connection.
fn dial(details: &ConnectionDetails, timeout: Duration) -> Result<TcpStream, ureq::Error> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host name resolved to no address");
    for addr in details.addrs.iter() {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last.into())
}

/// Runs the TLS handshake on `tcp` now, so a refused certificate is an
/// error of the connection (rustls's, naming why) and not of a later read.
fn handshake(
    details: &ConnectionDetails,
    config: Arc<ClientConfig>,
    tcp: TcpStream,
    timeout: Duration,
) -> Result<StreamOwned<ClientConnection, TcpStream>, ureq::Error> {
    let host = details.uri.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name =
        ServerName::try_from(host.to_string()).map_err(|_| ureq::Error::Tls("the host is not a valid TLS name"))?;
    let mut stream = StreamOwned::new(ClientConnection::new(config, name)?, tcp);
    stream.sock.set_read_timeout(Some(timeout))?;
    stream.sock.set_write_timeout(Some(timeout))?;
    while stream.conn.is_handshaking() {
        if let Err(e) = stream.conn.complete_io(&mut stream.sock) {
            return Err(rustls_error(e));
        }
    }
    stream.sock.set_read_timeout(None)?;
    stream.sock.set_write_timeout(None)?;
    Ok(stream)
}

/// rustls's own error when `e` carries one (a refused certificate), so it
/// can be told apart from a connection that failed.
fn rustls_error(e: io::Error) -> ureq::Error {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(tls) => ureq::Error::Rustls(tls.clone()),
        None => e.into(),
    }
}

/// A plain or TLS connection to a remote store, or the local end of one
/// carried over iroh.
enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
    #[cfg(feature = "iroh")]
    Pair(std::os::unix::net::UnixStream),
}

impl Stream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.set_read_timeout(timeout),
            Stream::Tls(tls) => tls.sock.set_read_timeout(timeout),
            #[cfg(feature = "iroh")]
            Stream::Pair(pair) => pair.set_read_timeout(timeout),
        }
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.set_write_timeout(timeout),
            Stream::Tls(tls) => tls.sock.set_write_timeout(timeout),
            #[cfg(feature = "iroh")]
            Stream::Pair(pair) => pair.set_write_timeout(timeout),
        }
    }

    /// The socket, to peek at.
    fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        match self {
            Stream::Plain(tcp) => tcp.as_fd(),
            Stream::Tls(tls) => tls.sock.as_fd(),
            #[cfg(feature = "iroh")]
            Stream::Pair(pair) => pair.as_fd(),
        }
    }
}

/// One connection, as ureq's transport.
pub(crate) struct Wire {
    stream: Stream,
    buffers: LazyBuffers,
    tap: Option<Arc<Tap>>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl Transport for Wire {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let wanted = timeout.not_zero().map(|t| *t);
        if wanted != self.write_timeout {
            self.stream.set_write_timeout(wanted)?;
            self.write_timeout = wanted;
        }
        let output = &self.buffers.output()[..amount];
        let written = match &mut self.stream {
            Stream::Plain(tcp) => tcp.write_all(output),
            Stream::Tls(tls) => tls.write_all(output).and_then(|()| tls.flush()),
            #[cfg(feature = "iroh")]
            Stream::Pair(pair) => pair.write_all(output),
        };
        written.map_err(|e| timed_out(e, timeout))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        if let Some(stop) = self.tap.as_ref().and_then(|tap| tap.stop.clone()) {
            return self.await_or_stop(&*stop);
        }
        let polled = self.tap.as_ref().and_then(|tap| tap.get());
        let wanted = polled.or_else(|| timeout.not_zero().map(|t| *t));
        match self.read(wanted) {
            Ok(n) => Ok(n > 0),
            // A poll's wait ran out: the read goes on at the next poll.
            Err(e) if polled.is_some() && waited(&e) => Err(io::Error::from(io::ErrorKind::WouldBlock).into()),
            Err(e) => Err(timed_out(e, timeout)),
        }
    }

    fn is_open(&mut self) -> bool {
        is_open(self.stream.fd())
    }

    fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }
}

impl Wire {
    /// Reads what the connection has into ureq's input buffer, waiting at
    /// most `wait` (`None`: block).
    fn read(&mut self, wait: Option<Duration>) -> io::Result<usize> {
        if wait != self.read_timeout {
            self.stream.set_read_timeout(wait)?;
            self.read_timeout = wait;
        }
        let input = self.buffers.input_append_buf();
        let read = match &mut self.stream {
            Stream::Plain(tcp) => tcp.read(input),
            Stream::Tls(tls) => tls.read(input),
            #[cfg(feature = "iroh")]
            Stream::Pair(pair) => pair.read(input),
        }?;
        self.buffers.input_appended(read);
        Ok(read)
    }

    /// An evaluation's wait: [`TICK`] by [`TICK`] until bytes come, or
    /// the connection fails, or `stop` says so.
    fn await_or_stop(&mut self, stop: &(dyn Fn() -> bool + Send + Sync)) -> Result<bool, ureq::Error> {
        loop {
            match self.read(Some(TICK)) {
                Ok(n) => return Ok(n > 0),
                Err(e) if waited(&e) && !stop() => continue,
                Err(e) if waited(&e) => return Err(stopped().into()),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// True for the error of a read or write whose socket timeout ran out.
fn waited(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// ureq's timeout error for a socket timeout, else the io error.
fn timed_out(e: io::Error, timeout: NextTimeout) -> ureq::Error {
    if waited(&e) { ureq::Error::Timeout(timeout.reason) } else { e.into() }
}

/// True while the server has not closed `socket` and sent nothing unasked
/// (an idle connection has nothing to read). One non-blocking peek, which
/// leaves the socket's mode alone.
fn is_open(socket: std::os::fd::BorrowedFd<'_>) -> bool {
    use rustix::net::RecvFlags;
    let peek = rustix::net::recv(socket, &mut [0u8; 1], RecvFlags::PEEK | RecvFlags::DONTWAIT);
    matches!(peek, Err(rustix::io::Errno::AGAIN))
}

impl fmt::Debug for Tap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tap").field("wait", &self.get()).field("stoppable", &self.is_stoppable()).finish()
    }
}

impl fmt::Debug for Dialer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let iroh = !matches!(self.route, Route::Tcp);
        f.debug_struct("Dialer").field("tls", &self.tls.is_some()).field("tap", &self.tap).field("iroh", &iroh).finish()
    }
}

impl fmt::Debug for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let peer = match &self.stream {
            Stream::Plain(tcp) => tcp.peer_addr().ok(),
            Stream::Tls(tls) => tls.sock.peer_addr().ok(),
            #[cfg(feature = "iroh")]
            Stream::Pair(_) => None,
        };
        f.debug_struct("Wire").field("peer", &peer).finish()
    }
}
