//! The socket server: a store's owner answering its clients. `mod.rs`
//! holds [`Server`] and the shutdown order; `socket.rs` binds
//! `<store>/sock` privately; `listen.rs` names the other listeners
//! ([`Listen`]: TCP, TLS, other unix paths, iroh), `listener.rs` binds and
//! accepts on them, `tls.rs` loads or makes their certificate, and
//! `token.rs` and `auth.rs` keep the token their requests present;
//! `serving.rs` serves every accepted connection the same way, over the
//! one `Stream` type (`stream.rs`); `gate.rs` admits connections (peer uid,
//! count); `route.rs` parses a request head into a route; `api.rs` has one
//! handler per route; `eval.rs` answers `POST /eval` from the processor's
//! evaluation; `upload.rs` streams bodies into the CAS; `response.rs`
//! writes bodies, frame streams and errors; `query.rs` and `wire.rs` are
//! the wire forms of read options and frames. The folder keeps this
//! invariant: a request is checked whole (peer or token, limits, every
//! parameter) before its body is read or the store is touched, and one
//! client can neither stall nor starve the others.
//!
//! The owner's server: the store over HTTP/1.1 on `<store>/sock`, and on
//! every listener of [`ServeOptions::listen`] (the same routes, NDJSON and
//! SSE; requests there present the token, see `auth.rs`).
//!
//! One task per connection; a connection's requests share its [`Api`].
//! Shutdown runs in a fixed order so nothing is lost and the store is free
//! for the next owner: stop accepting and remove the socket file (new
//! clients then see no owner), end every follow (their clients resume
//! elsewhere), let in-flight requests (appends) finish within
//! [`DRAIN`], abort what is left, stop the processor (its handlers commit
//! what they finished and record `.stopped`), then close the store.
//!
//! One client must not stall or starve the others, so every connection
//! passes limits (all but the first in [`ServeOptions`]):
//! - **Peer.** On the private socket, its peer's uid (`SO_PEERCRED`) must
//!   be the owner's: a socket made reachable by a loose directory mode
//!   still serves no one else (`403`, then closed). On other listeners,
//!   each request presents the token (`401` otherwise), and a token
//!   rotation closes every connection.
//! - **Count.** At most [`ServeOptions::max_connections`], over every
//!   listener, are served at
//!   once; one more gets `503` and is closed. Refusals are answered by at
//!   most 64 tasks at once, each for at most a second; past that refused
//!   connections are closed unanswered, so a flood cannot exhaust
//!   descriptors (`gate.rs`).
//! - **Head time.** A request head must arrive whole within
//!   [`ServeOptions::header_timeout`] of the connection's start (or of the
//!   previous answer), else `408` and the connection closes. A connection
//!   that sends nothing that long, fresh or idle after an answer, is
//!   closed without a word (nothing was asked); a kept-alive client
//!   notices before its next request.
//! - **Head size.** A head over [`ServeOptions::max_header`] bytes (or with
//!   over 100 headers) gets `431` and the connection closes. It also
//!   bounds `xs-meta`, the base64 of an append's meta.
//!
//! Each refusal is logged (`warn`). Body reads have no deadline: a slow
//! upload holds only its own connection.

pub(crate) mod api;
pub(crate) mod auth;
pub mod eval;
pub(crate) mod gate;
pub(crate) mod listen;
pub(crate) mod listener;
pub(crate) mod query;
pub(crate) mod response;
pub(crate) mod route;
pub(crate) mod serving;
pub(crate) mod socket;
pub(crate) mod stream;
pub mod tls;
pub mod token;
pub(crate) mod upload;
pub(crate) mod wire;

pub use listen::Listen;
pub use tls::Tls;

/// The topic of the frame an owner appends when its `iroh://` listener
/// starts, with meta `{ticket, relay}` (`xs last xs.listen.iroh`).
#[cfg(feature = "iroh")]
pub const IROH_TICKET_TOPIC: &str = crate::quic::listener::TICKET_TOPIC;

use std::{
    future::Future, os::unix::net::UnixListener as StdListener, path::PathBuf, sync::Arc, thread::JoinHandle,
    time::Duration,
};

use hyper_util::server::graceful::GracefulShutdown;
use tokio::{
    net::UnixListener,
    sync::{mpsc, watch},
    task::JoinSet,
};

use crate::{
    error::{Result, StoreError},
    script_state::ScriptState,
    server::api::Api,
    server::auth::Keys,
    server::listener::Bound,
    server::serving::Serving,
    server::socket::SocketFile,
    store::Store,
};

/// The socket's file name inside the store directory.
pub const SOCKET: &str = "sock";
/// How long shutdown waits for in-flight requests.
pub const DRAIN: Duration = Duration::from_secs(5);

/// Asks the processor for its report ([`Processor::states`]); a server
/// holds one while its processor runs.
///
/// [`Processor::states`]: crate::processor::Processor::states
pub(crate) type Report = Arc<dyn Fn() -> Vec<ScriptState> + Send + Sync>;

/// How a server behaves.
#[derive(Clone, Debug, bon::Builder)]
pub struct ServeOptions {
    /// The largest payload (`POST /append`, `POST /cas`) accepted, in bytes;
    /// larger ones are answered 413. Default: 1 GiB.
    #[builder(default = 1 << 30)]
    pub max_body: u64,
    /// How long a client may take to send a request head (and how long a
    /// kept-alive connection may stay idle); a late head gets 408.
    /// Default: 10 s.
    #[builder(default = Duration::from_secs(10))]
    pub header_timeout: Duration,
    /// The most connections served at once; one more gets 503. Default: 512.
    #[builder(default = 512)]
    pub max_connections: usize,
    /// The largest request head (request line and headers), in bytes; a
    /// larger one gets 431. Default: 64 KiB, as the client accepts for a
    /// response head. At least 8 KiB is used.
    #[builder(default = 64 * 1024)]
    pub max_header: usize,
    /// Run the store's processor (its handlers) while serving. Default:
    /// on; every owner runs it. Off for a server that only relays.
    #[cfg(feature = "processor")]
    #[builder(default = true)]
    pub processor: bool,
    /// Listeners served besides `<store>/sock`, each with the same API:
    /// `tcp://host:port`, `https://host:port`, `unix:///path`, and with
    /// feature `iroh` `iroh://` (see [`Listen`]). Their requests must
    /// present the store's token (see [`token`]) unless
    /// [`ServeOptions::no_auth`]. Default: none.
    #[builder(default)]
    pub listen: Vec<Listen>,
    /// Serve the listeners without a token. Refused
    /// ([`StoreError::NoAuthExposed`]) for any TCP or TLS listener not
    /// bound to a loopback address, and for iroh. Default: off.
    #[builder(default)]
    pub no_auth: bool,
    /// The certificate of `https://` listeners. Default: none (an
    /// `https://` listener then fails to bind).
    pub tls: Option<Tls>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions::builder().build()
    }
}

/// A server bound to `<store>/sock` (and its other listeners), not yet
/// accepting.
///
/// Binding is synchronous, so once [`Server::bind`] returns, clients that
/// connect wait in the sockets' backlogs until the server runs.
pub struct Server {
    store: Store,
    options: ServeOptions,
    /// `<store>/sock`.
    private: StdListener,
    socket: SocketFile,
    /// The other listeners, in the order of [`ServeOptions::listen`].
    extra: Vec<Bound>,
    keys: Arc<Keys>,
    tls: Option<tls::Served>,
    #[cfg(feature = "processor")]
    processor: Option<crate::processor::Processor>,
    report: Option<Report>,
    eval: Option<eval::Eval>,
}

impl Server {
    /// Binds `<store>/sock` (mode 0600), replacing a stale socket file,
    /// then every listener of [`ServeOptions::listen`] (creating the
    /// store's token, or its certificate, if they need one and it has
    /// none), and starts the store's processor (unless
    /// [`ServeOptions::processor`] is off; it returns at once, see
    /// [`Processor::spawn`]). The processor stops when the server does,
    /// before the store closes.
    ///
    /// [`Processor::spawn`]: crate::processor::Processor::spawn
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] (`AddrInUse` when a live server answers on the
    /// socket); [`StoreError::ListenFailed`] when a listener cannot be
    /// bound; [`StoreError::NoAuthExposed`] for `no_auth` on a
    /// non-loopback address; [`StoreError::Tls`] for an `https://`
    /// listener without a usable certificate;
    /// [`StoreError::ProcessorRunning`] when this process already runs the
    /// store's processor.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use xs_core::server::{ServeOptions, Server};
    /// let store = xs_core::Store::new("/path/to/store")?;
    /// let options = ServeOptions::builder().listen(vec!["tcp://127.0.0.1:0".parse()?]).build();
    /// let server = Server::bind(store, options)?.spawn()?;
    /// println!("{:?}", server.listening()); // [Tcp { host: "127.0.0.1", port: <a free port> }]
    /// # Ok::<(), xs_core::StoreError>(())
    /// ```
    pub fn bind(store: Store, options: ServeOptions) -> Result<Server> {
        let (private, socket) = socket::bind(&store.path().join(SOCKET))?;
        private.set_nonblocking(true)?;
        gate::raise_file_limit();
        let extra =
            options.listen.iter().map(|listen| listener::bind(listen, &options, &store)).collect::<Result<Vec<_>>>()?;
        let tls = certificate(&options, store.path(), &extra)?;
        let keys = Keys::new(store.path());
        if extra.iter().any(|bound| bound.auth) {
            keys.load()?;
        }
        #[cfg(feature = "processor")]
        let processor = options.processor.then(|| crate::processor::Processor::spawn(store.clone())).transpose()?;
        #[cfg(feature = "processor")]
        let report = processor.as_ref().map(|p| {
            let states = p.report();
            Arc::new(move || states.list()) as Report
        });
        #[cfg(feature = "processor")]
        let eval = processor.as_ref().map(|p| {
            let evaluator = p.evaluator();
            Arc::new(move |script: String, json: bool| evaluator.start(script, json)) as eval::Eval
        });
        #[cfg(not(feature = "processor"))]
        let (report, eval) = (None, None);
        Ok(Server {
            store,
            options,
            private,
            socket,
            extra,
            keys,
            tls,
            #[cfg(feature = "processor")]
            processor,
            report,
            eval,
        })
    }

    /// The socket path.
    pub fn socket(&self) -> PathBuf {
        self.store.path().join(SOCKET)
    }

    /// The other listeners' addresses as bound (a port asked as 0 is the
    /// real one), in the order of [`ServeOptions::listen`].
    pub fn listening(&self) -> Vec<Listen> {
        self.extra.iter().map(|bound| bound.listen.clone()).collect()
    }

    /// The SHA-256 fingerprint of the `https://` listeners' certificate
    /// (see [`tls::fingerprint`]), when there are any.
    pub fn fingerprint(&self) -> Option<String> {
        self.tls.as_ref().map(|tls| tls.fingerprint.clone())
    }

    /// Serves until `shutdown` completes, then shuts down in order (see the
    /// module docs: the processor stops after in-flight requests and before
    /// the store closes). Must run inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the listener cannot be registered.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<()> {
        #[cfg(feature = "processor")]
        let Server { store, options, private, socket, extra, keys, tls, processor, report, eval } = self;
        #[cfg(not(feature = "processor"))]
        let Server { store, options, private, socket, extra, keys, tls, report, eval } = self;
        let private = UnixListener::from_std(private)?;
        let (stop, stopping) = watch::channel(false);
        let api =
            Api { store: store.clone(), max_body: options.max_body, stop: stopping, report, eval, keys, private: true };
        let (arrived, mut arrivals) = mpsc::channel(ARRIVALS);
        let mut accepting = JoinSet::new();
        let closers = listener::Closers::of(&extra);
        for bound in extra {
            let tls = matches!(bound.listen, Listen::Https { .. }).then(|| tls.clone()).flatten();
            listener::announce(&bound, tls.as_ref());
            accepting.spawn(listener::accept(bound, tls, arrived.clone(), options.header_timeout));
        }
        drop(arrived);
        let reloading = tokio::spawn(reload(api.keys.clone()));
        let mut serving = Serving::new(&options, api);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = private.accept() => match accepted {
                    Ok((stream, _)) => serving.private(stream),
                    Err(e) => backoff(e).await,
                },
                Some(arrival) = arrivals.recv() => serving.arrival(arrival),
                Some(_) = serving.connections.join_next(), if !serving.connections.is_empty() => {}
            }
        }
        accepting.abort_all();
        while accepting.join_next().await.is_some() {}
        reloading.abort();
        drop((private, socket));
        let _ = stop.send(true);
        let Serving { graceful, connections, api, .. } = serving;
        drain(graceful, connections).await;
        closers.close().await;
        drop(api);
        // Handlers commit what they finished and record `.stopped` while the store is open.
        #[cfg(feature = "processor")]
        let _ = tokio::task::spawn_blocking(move || drop(processor)).await;
        store.close();
        tracing::info!(store = %store.path().display(), "server stopped");
        Ok(())
    }

    /// Runs the server on a runtime of its own, on a background thread,
    /// for programs that have no runtime. It stops when the handle does.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the runtime or thread cannot be started.
    pub fn spawn(self) -> Result<ServerHandle> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("xs-server")
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (report, listening, fingerprint) = (self.report.clone(), self.listening(), self.fingerprint());
        let thread = std::thread::Builder::new().name("xs-server".into()).spawn(move || {
            let run = self.run(async {
                let _ = stopped.await;
            });
            if let Err(e) = runtime.block_on(run) {
                tracing::error!(error = %e, "server failed");
            }
        })?;
        Ok(ServerHandle { stop: Some(stop), thread: Some(thread), report, listening, fingerprint })
    }
}

/// How many accepted connections may wait for the accept loop.
const ARRIVALS: usize = 64;

/// The `https://` listeners' certificate, when there are any.
fn certificate(options: &ServeOptions, store: &std::path::Path, extra: &[Bound]) -> Result<Option<tls::Served>> {
    let https: Vec<&Listen> = extra.iter().map(|b| &b.listen).filter(|l| matches!(l, Listen::Https { .. })).collect();
    let Some(first) = https.first() else { return Ok(None) };
    let Some(source) = &options.tls else {
        let reason = format!("{first} needs a certificate: give one (--cert and --key) or ask for --self-signed");
        return Err(StoreError::Tls { reason });
    };
    let hosts: Vec<&str> = options.listen.iter().filter_map(|l| l.host_port()).map(|(host, _)| host).collect();
    tls::serve(source, store, &hosts).map(Some)
}

/// Re-reads the token file now and then: another process may rotate it.
async fn reload(keys: Arc<Keys>) {
    let mut tick = tokio::time::interval(token::RELOAD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        keys.reload();
    }
}

/// Serves `store` on `<store>/sock` with default options until `shutdown`
/// completes; then ends follows, finishes in-flight appends and closes the
/// store.
///
/// # Errors
///
/// As [`Server::bind`] and [`Server::run`].
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> xs_core::Result<()> {
/// let store = xs_core::Store::new("/path/to/store")?;
/// xs_core::server::serve(store, async { tokio::signal::ctrl_c().await.ok(); }).await
/// # }
/// ```
pub async fn serve(store: Store, shutdown: impl Future<Output = ()>) -> Result<()> {
    Server::bind(store, ServeOptions::default())?.run(shutdown).await
}

/// A server running on its own thread ([`Server::spawn`]); dropping it
/// shuts the server down and waits for it.
pub struct ServerHandle {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    report: Option<Report>,
    listening: Vec<Listen>,
    fingerprint: Option<String>,
}

impl ServerHandle {
    /// Every handler and generator of the server's processor, and where
    /// it stands (see [`Processor::states`]); empty when it runs none.
    ///
    /// [`Processor::states`]: crate::processor::Processor::states
    pub fn processor_states(&self) -> Vec<ScriptState> {
        self.report.as_ref().map(|report| report()).unwrap_or_default()
    }

    /// As [`Server::listening`]: the other listeners, with real ports.
    pub fn listening(&self) -> &[Listen] {
        &self.listening
    }

    /// As [`Server::fingerprint`].
    pub fn fingerprint(&self) -> Option<&str> {
        self.fingerprint.as_deref()
    }

    /// Shuts the server down (as [`Server::run`] does) and waits for it.
    pub fn shutdown(mut self) {
        self.stop_and_wait();
    }

    fn stop_and_wait(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the server thread panicked");
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop_and_wait();
    }
}

/// An accept error (out of descriptors, mostly): log it and give the
/// system a moment instead of spinning.
pub(crate) async fn backoff(e: std::io::Error) {
    tracing::warn!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Lets connections finish their requests for up to [`DRAIN`], then aborts the rest.
async fn drain(graceful: GracefulShutdown, mut connections: JoinSet<()>) {
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still running after {DRAIN:?}: aborting them");
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}
