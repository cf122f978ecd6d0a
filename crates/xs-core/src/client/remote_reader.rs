//! A read served by the owner: NDJSON frames off the socket, blocking.
//!
//! It has the shape of [`Reader`](crate::Reader): iterate it, or
//! [`poll`](Poll::poll) it with a timeout. The connection is its
//! only resource: dropping the reader closes it, and the owner then drops
//! its side of the read. A response that ends cleanly is the end of the
//! read; one cut short (the owner died) is an error, so a caller can tell
//! the two apart and resume (see [`Subscription`](crate::connection::Subscription)).

use std::{
    io::{self, BufRead, BufReader},
    os::unix::net::UnixStream,
    time::Duration,
};

use crate::{
    client::chunked::Body,
    client::transport::malformed,
    error::Result,
    frame::Frame,
    store::{Next, Poll},
};

/// Frames streamed from the owner.
pub struct RemoteReader {
    lines: BufReader<Body<BufReader<UnixStream>>>,
    /// The partial line read so far (kept across timeouts).
    line: Vec<u8>,
    done: bool,
}

impl RemoteReader {
    pub(crate) fn new(body: Body<BufReader<UnixStream>>) -> Result<Self> {
        body.get_ref().get_ref().set_read_timeout(None)?;
        Ok(Self { lines: BufReader::new(body), line: Vec::new(), done: false })
    }

    fn socket(&self) -> &UnixStream {
        self.lines.get_ref().get_ref().get_ref()
    }

    fn read_frame(&mut self) -> Result<Next> {
        if self.done {
            return Ok(Next::End);
        }
        match self.lines.read_until(b'\n', &mut self.line) {
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
        self.socket().set_read_timeout(Some(timeout))?;
        self.read_frame()
    }
}

impl Iterator for RemoteReader {
    type Item = Result<Frame>;

    /// Blocks until the next frame; `None` once the read is over.
    fn next(&mut self) -> Option<Self::Item> {
        if let Err(e) = self.socket().set_read_timeout(None) {
            return Some(Err(e.into()));
        }
        match self.read_frame() {
            Ok(Next::Frame(frame)) => Some(Ok(frame)),
            Ok(Next::End | Next::Idle) => None,
            Err(e) => Some(Err(e)),
        }
    }
}
