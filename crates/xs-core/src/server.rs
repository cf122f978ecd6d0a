//! The owner's server: the store over HTTP/1.1 on `<store>/sock`.
//!
//! One task per connection; a connection's requests share its [`Service`].
//! Shutdown runs in a fixed order so nothing is lost and the store is free
//! for the next owner: stop accepting and remove the socket file (new
//! clients then see no owner), end every follow (their clients resume
//! elsewhere), let in-flight requests (appends) finish within
//! [`DRAIN`], abort what is left, stop the processor (its handlers commit
//! what they finished and record `.stopped`), then close the store.

use std::{
    future::Future, os::unix::net::UnixListener as StdListener, path::PathBuf, thread::JoinHandle, time::Duration,
};

use hyper::{server::conn::http1, service::service_fn};
use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown};
use tokio::{net::UnixListener, sync::watch, task::JoinSet};

use crate::{
    error::Result,
    service::Service,
    socket::{self, SocketFile},
    store::Store,
};

/// The socket's file name inside the store directory.
pub const SOCKET: &str = "sock";
/// How long shutdown waits for in-flight requests.
pub const DRAIN: Duration = Duration::from_secs(5);

/// How a server behaves.
#[derive(Clone, Debug, bon::Builder)]
pub struct ServeOptions {
    /// The largest payload (`POST /append`, `POST /cas`) accepted, in bytes;
    /// larger ones are answered 413. Default: 1 GiB.
    #[builder(default = 1 << 30)]
    pub max_body: u64,
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
        Ok(Server {
            store,
            options,
            listener,
            socket,
            #[cfg(feature = "processor")]
            processor,
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
        let Server { store, options, listener, socket, processor } = self;
        #[cfg(not(feature = "processor"))]
        let Server { store, options, listener, socket } = self;
        let listener = UnixListener::from_std(listener)?;
        let (stop, stopping) = watch::channel(false);
        let service = Service { store: store.clone(), max_body: options.max_body, stop: stopping };
        let graceful = GracefulShutdown::new();
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => accept(&graceful, &mut connections, stream, service.clone()),
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
        let thread = std::thread::Builder::new().name("xs-server".into()).spawn(move || {
            let run = self.run(async {
                let _ = stopped.await;
            });
            if let Err(e) = runtime.block_on(run) {
                tracing::error!(error = %e, "server failed");
            }
        })?;
        Ok(ServerHandle { stop: Some(stop), thread: Some(thread) })
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
/// xs_core::serve(store, async { tokio::signal::ctrl_c().await.ok(); }).await
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
}

impl ServerHandle {
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

fn accept(
    graceful: &GracefulShutdown,
    connections: &mut JoinSet<()>,
    stream: tokio::net::UnixStream,
    service: Service,
) {
    let connection = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service_fn(move |request| service.clone().handle(request)));
    let connection = graceful.watch(connection);
    connections.spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "connection ended with an error");
        }
    });
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
