//! The socket server: a store's owner answering its clients. `mod.rs`
//! holds [`Server`] and the shutdown order; `socket.rs` binds
//! `<store>/sock` privately; `gate.rs` admits connections (peer uid,
//! count); `route.rs` parses a request head into a route; `api.rs` has one
//! handler per route; `eval.rs` answers `POST /eval` from the processor's
//! evaluation; `upload.rs` streams bodies into the CAS; `response.rs`
//! writes bodies, frame streams and errors; `query.rs` and `wire.rs` are
//! the wire forms of read options and frames. The folder keeps this
//! invariant: a request is checked whole (peer, limits, every parameter)
//! before its body is read or the store is touched, and one client can
//! neither stall nor starve the others.
//!
//! The owner's server: the store over HTTP/1.1 on `<store>/sock`.
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
//! - **Peer.** Its peer's uid (`SO_PEERCRED`) must be the owner's: a
//!   socket made reachable by a loose directory mode still serves no one
//!   else (`403`, then closed).
//! - **Count.** At most [`ServeOptions::max_connections`] are served at
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
pub mod eval;
pub(crate) mod gate;
pub(crate) mod query;
pub(crate) mod response;
pub(crate) mod route;
pub(crate) mod socket;
pub(crate) mod upload;
pub(crate) mod wire;

use std::{
    future::Future,
    io,
    os::unix::net::UnixListener as StdListener,
    path::PathBuf,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    thread::JoinHandle,
    time::Duration,
};

use hyper::{StatusCode, server::conn::http1, service::service_fn};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{UnixListener, UnixStream},
    sync::{OwnedSemaphorePermit, watch},
    task::JoinSet,
};

use crate::{
    error::Result,
    script_state::ScriptState,
    server::api::Api,
    server::gate::{Gate, refusal_response},
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
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions::builder().build()
    }
}

/// A server bound to `<store>/sock`, not yet accepting.
///
/// Binding is synchronous, so once [`Server::bind`] returns, clients that
/// connect wait in the socket's backlog until the server runs.
pub struct Server {
    store: Store,
    options: ServeOptions,
    listener: StdListener,
    socket: SocketFile,
    #[cfg(feature = "processor")]
    processor: Option<crate::processor::Processor>,
    report: Option<Report>,
    eval: Option<eval::Eval>,
}

impl Server {
    /// Binds `<store>/sock` (mode 0600), replacing a stale socket file,
    /// and starts the store's processor (unless [`ServeOptions::processor`]
    /// is off; it returns at once, see [`Processor::spawn`]). The
    /// processor stops when the server does, before the store closes.
    ///
    /// [`Processor::spawn`]: crate::processor::Processor::spawn
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] (`AddrInUse` when a live server answers there);
    /// [`StoreError::ProcessorRunning`] when this process already runs the
    /// store's processor.
    pub fn bind(store: Store, options: ServeOptions) -> Result<Server> {
        let (listener, socket) = socket::bind(&store.path().join(SOCKET))?;
        listener.set_nonblocking(true)?;
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
            listener,
            socket,
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

    /// Serves until `shutdown` completes, then shuts down in order (see the
    /// module docs: the processor stops after in-flight requests and before
    /// the store closes). Must run inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the listener cannot be registered.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<()> {
        #[cfg(feature = "processor")]
        let Server { store, options, listener, socket, processor, report, eval } = self;
        #[cfg(not(feature = "processor"))]
        let Server { store, options, listener, socket, report, eval } = self;
        let listener = UnixListener::from_std(listener)?;
        let (stop, stopping) = watch::channel(false);
        let service = Api { store: store.clone(), max_body: options.max_body, stop: stopping, report, eval };
        let gate = Gate::new(&options, rustix::process::geteuid().as_raw());
        let http = http(&options);
        let graceful = GracefulShutdown::new();
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => match gate.admit(&stream) {
                        Ok(slot) => {
                            let connection = Connection { stream, slot, service: service.clone() };
                            accept(&http, &graceful, &mut connections, connection, &options);
                        }
                        Err(refusal) => gate.refuse(stream, refusal),
                    },
                    Err(e) => backoff(e).await,
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        drop((listener, socket));
        let _ = stop.send(true);
        drain(graceful, connections).await;
        drop(service);
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
        let report = self.report.clone();
        let thread = std::thread::Builder::new().name("xs-server".into()).spawn(move || {
            let run = self.run(async {
                let _ = stopped.await;
            });
            if let Err(e) = runtime.block_on(run) {
                tracing::error!(error = %e, "server failed");
            }
        })?;
        Ok(ServerHandle { stop: Some(stop), thread: Some(thread), report })
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
}

impl ServerHandle {
    /// Every handler and generator of the server's processor, and where
    /// it stands (see [`Processor::states`]); empty when it runs none.
    ///
    /// [`Processor::states`]: crate::processor::Processor::states
    pub fn processor_states(&self) -> Vec<ScriptState> {
        self.report.as_ref().map(|report| report()).unwrap_or_default()
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

/// An admitted connection and what serves it.
struct Connection {
    stream: UnixStream,
    /// Its place among [`ServeOptions::max_connections`], freed when it ends.
    slot: OwnedSemaphorePermit,
    service: Api,
}

fn accept(
    http: &http1::Builder,
    graceful: &GracefulShutdown,
    connections: &mut JoinSet<()>,
    connection: Connection,
    options: &ServeOptions,
) {
    let Connection { stream, slot, service } = connection;
    // A second descriptor of the socket, to answer 408 once hyper has given
    // up on a late head (hyper closes without a word, and drops its stream).
    let spare = rustix::io::dup(&stream).map(std::os::unix::net::UnixStream::from);
    let asking = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(Watched { stream, asking: asking.clone() });
    let connection = http.serve_connection(io, service_fn(move |request| service.clone().handle(request)));
    let connection = graceful.watch(connection);
    let (timeout, max_header) = (options.header_timeout, options.max_header);
    connections.spawn(async move {
        match connection.await {
            Ok(()) => {}
            // Idle past the timeout with no request begun: closed silently.
            Err(e) if e.is_timeout() && !asking.load(Ordering::Relaxed) => {}
            Err(e) if e.is_timeout() => {
                tracing::warn!("a client did not send its request head within {timeout:?}: answered 408");
                if let Ok(spare) = spare {
                    answer_late_head(&spare);
                }
            }
            Err(e) if e.is_parse_too_large() => {
                tracing::warn!("a request head over {max_header} bytes or 100 headers: answered 431");
            }
            Err(e) => tracing::debug!(error = %e, "connection ended with an error"),
        }
        drop(slot);
    });
}

/// Writes a 408 on a connection hyper has left (best effort: the socket is
/// non-blocking, and a client that stalled has room for a few bytes).
fn answer_late_head(mut stream: &std::os::unix::net::UnixStream) {
    let response = refusal_response(StatusCode::REQUEST_TIMEOUT, "the request head took too long\n");
    let _ = std::io::Write::write_all(&mut stream, response.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// A connection's stream that tells whether the client has begun a request
/// since the last answer: bytes came in since bytes last went out. hyper's
/// head timeout fails an idle connection as it fails a slow head; only the
/// slow head is owed a 408.
struct Watched {
    stream: UnixStream,
    asking: Arc<AtomicBool>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.asking.store(true, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.answered(&polled);
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.answered(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl Watched {
    fn answered(&self, polled: &Poll<io::Result<usize>>) {
        if matches!(polled, Poll::Ready(Ok(n)) if *n > 0) {
            self.asking.store(false, Ordering::Relaxed);
        }
    }
}

/// An accept error (out of descriptors, mostly): log it and give the
/// system a moment instead of spinning.
async fn backoff(e: std::io::Error) {
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
