//! The runtime iroh endpoints live on, and the protocol they speak.
//!
//! An endpoint binds asynchronously and keeps tasks running for as long
//! as it lives, but [`Server::bind`](crate::server::Server::bind) and the
//! [`Client`](crate::client::Client) are synchronous, and may be called
//! from a thread that runs no runtime or from inside someone else's. So
//! every endpoint of the process is made on one small runtime of its own
//! (one worker thread, started on first use, never stopped), and
//! synchronous code waits for it through a channel ([`wait`]), which
//! blocks the caller but never panics the way `block_on` would inside a
//! runtime.

use std::{future::Future, io, sync::OnceLock, time::Duration};

use tokio::runtime::{Builder, Handle, Runtime};

/// The ALPN of the store's API over iroh: each bi-directional stream is
/// one HTTP/1.1 connection.
pub(crate) const ALPN: &[u8] = b"xs/http1";

/// The process's iroh runtime, started on first use.
fn handle() -> io::Result<&'static Handle> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        let built = Builder::new_multi_thread().worker_threads(1).thread_name("xs-iroh").enable_all().build();
        built.map_err(|e| e.to_string())
    });
    runtime.as_ref().map(Runtime::handle).map_err(|e| io::Error::other(format!("cannot start iroh's runtime: {e}")))
}

/// Runs `future` on the iroh runtime and waits for its output, at most
/// `timeout` (then it is cancelled).
///
/// # Errors
///
/// `TimedOut` when `timeout` ran out; another io error when the runtime
/// cannot start.
pub(crate) fn wait<T: Send + 'static>(
    future: impl Future<Output = T> + Send + 'static,
    timeout: Duration,
) -> io::Result<T> {
    let (done, output) = std::sync::mpsc::sync_channel(1);
    let task = handle()?.spawn(async move {
        let _ = done.send(future.await);
    });
    output.recv_timeout(timeout).map_err(|_| {
        task.abort();
        io::Error::new(io::ErrorKind::TimedOut, format!("no answer within {timeout:?}"))
    })
}

/// Runs `future` on the iroh runtime without waiting for it.
pub(crate) fn spawn(future: impl Future<Output = ()> + Send + 'static) {
    match handle() {
        Ok(handle) => drop(handle.spawn(future)),
        Err(e) => tracing::warn!(error = %e, "cannot run a task on iroh's runtime"),
    }
}
