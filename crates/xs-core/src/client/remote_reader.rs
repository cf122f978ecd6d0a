//! A read served by the owner: NDJSON frames off the socket or a remote
//! store's connection, blocking.
//!
//! It has the shape of [`Reader`](crate::Reader): iterate it, or
//! [`poll`](Poll::poll) it with a timeout. The connection is its
//! only resource: dropping the reader closes it, and the owner then drops
//! its side of the read. A response that ends cleanly is the end of the
//! read; one cut short (the owner died) is an error, so a caller can tell
//! the two apart and resume (see [`Subscription`](crate::connection::Subscription)).
//! A poll's timeout is the socket's read timeout; over HTTP it is the
//! connection's [`Tap`], which ureq's transport reads.

use std::{
    io::{self, BufRead, BufReader},
    os::unix::net::UnixStream,
    sync::Arc,
    time::Duration,
};

use crate::{
    client::chunked::Body,
    client::transport::malformed,
    client::wire::Tap,
    error::Result,
    frame::Frame,
    store::{Next, Poll},
};

/// Frames streamed from the owner.
pub struct RemoteReader {
    lines: Lines,
    /// The partial line read so far (kept across timeouts).
    line: Vec<u8>,
    done: bool,
}

/// Where the lines come from, and how a wait for them is bounded.
enum Lines {
    Socket(BufReader<Body<BufReader<UnixStream>>>),
    Http(Box<BufReader<ureq::BodyReader<'static>>>, Arc<Tap>),
}

impl RemoteReader {
    pub(crate) fn new(body: Body<BufReader<UnixStream>>) -> Result<Self> {
        body.get_ref().get_ref().set_read_timeout(None)?;
        Ok(Self::of(Lines::Socket(BufReader::new(body))))
    }

    /// A read over a remote store's connection, whose waits `tap` bounds.
    pub(crate) fn http(body: ureq::BodyReader<'static>, tap: Arc<Tap>) -> Self {
        Self::of(Lines::Http(Box::new(BufReader::new(body)), tap))
    }

    fn of(lines: Lines) -> Self {
        Self { lines, line: Vec::new(), done: false }
    }

    /// Bounds the next wait for bytes (`None`: block).
    fn wait(&self, timeout: Option<Duration>) -> io::Result<()> {
        match &self.lines {
            Lines::Socket(lines) => lines.get_ref().get_ref().get_ref().set_read_timeout(timeout),
            Lines::Http(_, tap) => {
                tap.set(timeout);
                Ok(())
            }
        }
    }

    fn read_line(&mut self) -> io::Result<usize> {
        match &mut self.lines {
            Lines::Socket(lines) => lines.read_until(b'\n', &mut self.line),
            Lines::Http(lines, _) => lines.read_until(b'\n', &mut self.line),
        }
    }

    fn read_frame(&mut self) -> Result<Next> {
        if self.done {
            return Ok(Next::End);
        }
        match self.read_line() {
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => return Ok(Next::Idle),
            Err(e) => {
                self.done = true;
                return Err(e.into());
            }
            Ok(_) => {}
        }
        if self.line.is_empty() {
            self.done = true;
            return Ok(Next::End);
        }
        let frame = serde_json::from_slice(&self.line);
        self.line.clear();
        frame.map(Next::Frame).map_err(|e| {
            self.done = true;
            malformed(&e)
        })
    }
}

impl Poll for RemoteReader {
    /// The next frame, waiting at most `timeout` for one. A connection
    /// that ends mid-response is [`StoreError::Io`](crate::StoreError::Io)
    /// (`UnexpectedEof`: the owner went away).
    fn poll(&mut self, timeout: Duration) -> Result<Next> {
        let timeout = timeout.max(Duration::from_millis(1));
        self.wait(Some(timeout))?;
        self.read_frame()
    }
}

impl Iterator for RemoteReader {
    type Item = Result<Frame>;

    /// Blocks until the next frame; `None` once the read is over.
    fn next(&mut self) -> Option<Self::Item> {
        if let Err(e) = self.wait(None) {
            return Some(Err(e.into()));
        }
        match self.read_frame() {
            Ok(Next::Frame(frame)) => Some(Ok(frame)),
            Ok(Next::End | Next::Idle) => None,
            Err(e) => Some(Err(e)),
        }
    }
}
