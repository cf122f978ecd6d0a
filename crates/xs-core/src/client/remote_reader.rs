//! A read served by the owner: NDJSON frames off the socket or a remote
//! store's connection, blocking.
//!
//! It has the shape of [`Reader`](crate::Reader): iterate it, or
//! [`poll`](Poll::poll) it with a timeout. The connection is its
//! only resource: dropping the reader closes it, and the owner then drops
//! its side of the read. A response that ends cleanly is the end of the
//! read; one cut short (the owner died) is an error, so a caller can tell
//! the two apart and resume (see [`Subscription`](crate::connection::Subscription)).
//! A poll's timeout is the socket's read timeout (set only when it
//! changes: a system call per frame otherwise); over HTTP it is the
//! connection's [`Tap`], which ureq's transport reads. A poll with a zero
//! timeout never waits: it returns a frame whose line is already buffered,
//! or [`Next::Idle`].

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
    /// The read timeout the socket has, once set.
    timeout: Option<Option<Duration>>,
}

/// Where the lines come from, and how a wait for them is bounded.
enum Lines {
    Socket(BufReader<Body<BufReader<UnixStream>>>),
    Http(Box<BufReader<ureq::BodyReader<'static>>>, Arc<Tap>),
}

impl RemoteReader {
    pub(crate) fn new(body: Body<BufReader<UnixStream>>) -> Result<Self> {
        body.get_ref().get_ref().set_read_timeout(None)?;
        Ok(Self { timeout: Some(None), ..Self::of(Lines::Socket(BufReader::new(body))) })
    }

    /// A read over a remote store's connection, whose waits `tap` bounds.
    pub(crate) fn http(body: ureq::BodyReader<'static>, tap: Arc<Tap>) -> Self {
        Self::of(Lines::Http(Box::new(BufReader::new(body)), tap))
    }

    fn of(lines: Lines) -> Self {
        Self { lines, line: Vec::new(), done: false, timeout: None }
    }

    /// Bounds the next wait for bytes (`None`: block).
    fn wait(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match &self.lines {
            Lines::Socket(_) if self.timeout == Some(timeout) => {}
            Lines::Socket(lines) => {
                lines.get_ref().get_ref().get_ref().set_read_timeout(timeout)?;
                self.timeout = Some(timeout);
            }
            Lines::Http(_, tap) => tap.set(timeout),
        }
        Ok(())
    }

    /// True when a whole line is buffered: reading it does not wait.
    fn line_buffered(&self) -> bool {
        let buffered = match &self.lines {
            Lines::Socket(lines) => lines.buffer(),
            Lines::Http(lines, _) => lines.buffer(),
        };
        buffered.contains(&b'\n')
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
        if timeout.is_zero() && !self.done && !self.line_buffered() {
            return Ok(Next::Idle);
        }
        // The socket takes no zero timeout; a buffered line needs none.
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// A reader over a body that runs to the end of the connection, and the
    /// owner's end of that connection.
    fn connected() -> (RemoteReader, UnixStream) {
        let (ours, theirs) = UnixStream::pair().unwrap();
        (RemoteReader::new(Body::until_close(BufReader::new(ours))).unwrap(), theirs)
    }

    #[test]
    fn a_zero_timeout_poll_never_waits() {
        let (mut reader, mut owner) = connected();
        assert!(matches!(reader.poll(Duration::ZERO).unwrap(), Next::Idle));
        let line = |topic: &str| format!("{}\n", serde_json::to_string(&Frame::builder(topic).build()).unwrap());
        owner.write_all(format!("{}{}", line("a"), line("b")).as_bytes()).unwrap();
        // Only what is buffered counts: the socket is not read.
        assert!(matches!(reader.poll(Duration::ZERO).unwrap(), Next::Idle), "nothing buffered yet");
        let Next::Frame(a) = reader.poll(Duration::from_secs(5)).unwrap() else { panic!("no frame a") };
        let Next::Frame(b) = reader.poll(Duration::ZERO).unwrap() else { panic!("b was buffered with a") };
        assert_eq!((a.topic.as_str(), b.topic.as_str()), ("a", "b"));
        drop(owner);
        assert!(matches!(reader.poll(Duration::from_secs(5)).unwrap(), Next::End));
        assert!(matches!(reader.poll(Duration::ZERO).unwrap(), Next::End));
    }
}
