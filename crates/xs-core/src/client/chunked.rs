//! An HTTP/1.1 response body as a `Read`: by length, chunked, or to the
//! end of the connection.
//!
//! The decoder keeps every partial line it has read in its own state, so a
//! read that fails with a timeout (the blocking client polls follows with a
//! socket read timeout) loses nothing: the next read continues exactly
//! where the last one stopped. A connection that ends before the body does
//! is an `UnexpectedEof` error, never a clean end: that is how a client
//! tells an owner that died from a read that finished.

use std::io::{self, BufRead, Read};

/// The longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;

/// How the body is delimited.
#[derive(Debug)]
enum State {
    /// This many bytes remain.
    Length(u64),
    /// Reading a chunk-size line.
    ChunkSize,
    /// This many bytes remain in the current chunk.
    ChunkData(u64),
    /// Reading the CRLF after a chunk.
    ChunkEnd,
    /// Reading trailer lines up to the empty one.
    Trailer,
    /// Everything up to the end of the connection.
    Close,
    Done,
}

/// A response body over a buffered connection.
pub(crate) struct Body<R> {
    inner: R,
    state: State,
    /// The partial line being read (chunk size, chunk end, trailer).
    line: Vec<u8>,
}

impl<R: BufRead> Body<R> {
    pub(crate) fn length(inner: R, n: u64) -> Self {
        Self { inner, state: if n == 0 { State::Done } else { State::Length(n) }, line: Vec::new() }
    }

    pub(crate) fn chunked(inner: R) -> Self {
        Self { inner, state: State::ChunkSize, line: Vec::new() }
    }

    pub(crate) fn until_close(inner: R) -> Self {
        Self { inner, state: State::Close, line: Vec::new() }
    }

    pub(crate) fn get_ref(&self) -> &R {
        &self.inner
    }

    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    /// The next whole line, trimmed; a partial one is kept for the next call.
    fn read_line(&mut self) -> io::Result<String> {
        let room = (MAX_LINE + 1).saturating_sub(self.line.len()) as u64;
        (&mut self.inner).take(room).read_until(b'\n', &mut self.line)?;
        if !self.line.ends_with(b"\n") {
            return Err(if self.line.len() > MAX_LINE { invalid("a chunk line is too long") } else { eof() });
        }
        let line = String::from_utf8_lossy(&self.line).trim_end().to_string();
        self.line.clear();
        Ok(line)
    }

    /// Advances through framing until data can be read or the body is done.
    fn advance(&mut self) -> io::Result<()> {
        loop {
            self.state = match self.state {
                State::ChunkSize => {
                    let line = self.read_line()?;
                    let size = line.split(';').next().unwrap_or_default().trim();
                    match u64::from_str_radix(size, 16) {
                        Ok(0) => State::Trailer,
                        Ok(n) => State::ChunkData(n),
                        Err(_) => return Err(invalid("a chunk size is not hex")),
                    }
                }
                State::ChunkEnd => match self.read_line()?.is_empty() {
                    true => State::ChunkSize,
                    false => return Err(invalid("a chunk is longer than its size")),
                },
                State::Trailer => match self.read_line()?.is_empty() {
                    true => State::Done,
                    false => State::Trailer,
                },
                _ => return Ok(()),
            };
        }
    }

    /// Reads at most `max` bytes of data into `buf`, noting what was used.
    fn read_data(&mut self, buf: &mut [u8], max: u64) -> io::Result<usize> {
        let want = buf.len().min(usize::try_from(max).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.state = match (&self.state, n as u64) {
            (State::Close, 0) => State::Done,
            (State::Close, _) => State::Close,
            (_, 0) => return Err(eof()),
            (State::Length(left), n) if *left == n => State::Done,
            (State::Length(left), n) => State::Length(left - n),
            (State::ChunkData(left), n) if *left == n => State::ChunkEnd,
            (State::ChunkData(left), n) => State::ChunkData(left - n),
            _ => return Err(invalid("body state")),
        };
        Ok(n)
    }
}

impl<R: BufRead> Read for Body<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.advance()?;
        match self.state {
            State::Done => Ok(0),
            State::Length(n) | State::ChunkData(n) => self.read_data(buf, n),
            _ => self.read_data(buf, u64::MAX),
        }
    }
}

fn eof() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "the connection to the store's owner ended mid-response")
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("malformed response from the store's owner: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that fails with a timeout between every byte.
    struct Stutter<'a> {
        bytes: &'a [u8],
        ready: bool,
    }

    impl Read for Stutter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.ready = !self.ready;
            if !self.ready {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = self.bytes.len().min(buf.len()).min(1);
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn survives_timeouts_anywhere() {
        let wire = b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nx-trailer: 1\r\n\r\n";
        let mut body = Body::chunked(io::BufReader::with_capacity(1, Stutter { bytes: wire, ready: false }));
        let (mut out, mut buf) = (Vec::new(), [0u8; 3]);
        loop {
            match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(out, b"hello, world");
    }

    #[test]
    fn truncation_is_an_error() {
        let mut out = Vec::new();
        let err = Body::chunked(&b"5\r\nhel"[..]).read_to_end(&mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(Body::length(&b"abc"[..], 5).read_to_end(&mut out).is_err());
        let mut all = Vec::new();
        Body::until_close(&b"abc"[..]).read_to_end(&mut all).unwrap();
        assert_eq!(all, b"abc");
    }
}
