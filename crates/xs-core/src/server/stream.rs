//! A served connection's byte stream, whichever listener accepted it: the
//! private unix socket, another unix path, TCP, TLS over TCP, or one
//! bi-directional iroh stream (feature `iroh`).
//!
//! hyper serves one type; [`Stream`] is that type, so every listener gets
//! the same service, limits and shutdown, and differs only in what it
//! admits (`gate.rs`, `auth.rs`). [`Watched`] tells whether the client
//! has begun a request since the last answer, which decides between a
//! silent close and a `408` when a head is late.

use std::{
    io,
    os::fd::OwnedFd,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpStream, UnixStream},
};
use tokio_rustls::server::TlsStream;

/// An accepted connection's stream.
pub(crate) enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    #[cfg(feature = "iroh")]
    Iroh(Box<crate::quic::duplex::Duplex>),
}

/// Runs `$body` with `$s` bound to the inner stream, pinned.
macro_rules! inner {
    ($stream:expr, $s:ident => $body:expr) => {
        match $stream.get_mut() {
            Stream::Unix(inner) => {
                let $s = Pin::new(inner);
                $body
            }
            Stream::Tcp(inner) => {
                let $s = Pin::new(inner);
                $body
            }
            Stream::Tls(inner) => {
                let $s = Pin::new(inner.as_mut());
                $body
            }
            #[cfg(feature = "iroh")]
            Stream::Iroh(inner) => {
                let $s = Pin::new(inner.as_mut());
                $body
            }
        }
    };
}

impl Stream {
    /// A second descriptor of a plain stream, to answer on once hyper has
    /// given it up; `None` over TLS, where plain bytes would mean nothing,
    /// and over iroh, which has no descriptor per stream.
    pub(crate) fn spare(&self) -> Option<OwnedFd> {
        match self {
            Stream::Unix(s) => rustix::io::dup(s).ok(),
            Stream::Tcp(s) => rustix::io::dup(s).ok(),
            Stream::Tls(_) => None,
            #[cfg(feature = "iroh")]
            Stream::Iroh(_) => None,
        }
    }

    fn is_vectored(&self) -> bool {
        match self {
            Stream::Unix(s) => s.is_write_vectored(),
            Stream::Tcp(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
            #[cfg(feature = "iroh")]
            Stream::Iroh(_) => false,
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        inner!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        inner!(self, s => s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        inner!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.is_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        inner!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        inner!(self, s => s.poll_shutdown(cx))
    }
}

/// A connection's stream that tells whether the client has begun a request
/// since the last answer: bytes came in since bytes last went out. hyper's
/// head timeout fails an idle connection as it fails a slow head; only the
/// slow head is owed a 408.
pub(crate) struct Watched {
    pub(crate) stream: Stream,
    pub(crate) asking: Arc<AtomicBool>,
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
