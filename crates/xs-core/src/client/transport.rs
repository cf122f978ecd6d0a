//! One HTTP/1.1 request and its response over the owner's unix socket,
//! blocking.
//!
//! The client is synchronous like the store, so it speaks HTTP with std
//! sockets instead of driving an async runtime from sync code (which
//! panics inside another runtime). A [`Link`] keeps one idle connection
//! for the next request (a connection costs the owner a task): a response
//! read to its end gives its connection back, and any other response
//! (a follow, a content stream, one dropped early) closes it when dropped,
//! so nothing outlives its caller. An idle connection the owner has
//! closed is noticed before it is used, never after a request was sent
//! on it, so a request is never sent twice.

use std::{
    io::{self, BufRead, BufReader, BufWriter, Read, Write},
    os::unix::net::UnixStream,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::{
    client::chunked::Body,
    error::{Result, StoreError},
};

/// The longest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Upload chunk size.
const CHUNK: usize = 64 * 1024;

/// What a request sends as its body.
pub(crate) enum Payload<'a> {
    None,
    Bytes(&'a [u8]),
    /// Sent with its length when it ends within one chunk, else chunked,
    /// in constant memory.
    Stream(&'a mut dyn Read),
}

/// A request to send.
pub(crate) struct Request<'a> {
    pub(crate) method: &'static str,
    /// Path and query, e.g. `/last/a?last=2`.
    pub(crate) target: String,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) payload: Payload<'a>,
}

/// The way to an owner's socket, with one idle connection kept for reuse.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) socket: PathBuf,
    /// The idle connection, with the read timeout it has.
    idle: Mutex<Option<(UnixStream, Option<Duration>)>>,
}

impl Link {
    pub(crate) fn new(socket: PathBuf) -> Arc<Link> {
        Arc::new(Link { socket, idle: Mutex::new(None) })
    }

    /// The idle connection if the owner has not closed it, else a new one;
    /// either way with reads timing out after `timeout`.
    fn connect(&self, timeout: Option<Duration>) -> io::Result<UnixStream> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.take());
        let (stream, current) = match idle {
            Some((stream, current)) if is_open(&stream) => (stream, current),
            _ => (UnixStream::connect(&self.socket)?, None),
        };
        if current != timeout {
            stream.set_read_timeout(timeout)?;
        }
        Ok(stream)
    }

    /// Keeps `stream`, whose reads time out after `timeout`, for the next
    /// request (if none is kept already).
    fn give_back(&self, stream: UnixStream, timeout: Option<Duration>) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.get_or_insert((stream, timeout));
        }
    }
}

/// True while the peer has not closed `stream` and sent nothing unasked
/// (an idle connection has nothing to read: any byte means it is unusable).
/// One non-blocking peek, which leaves the socket's mode alone.
fn is_open(stream: &UnixStream) -> bool {
    use rustix::net::RecvFlags;
    let peek = rustix::net::recv(stream, &mut [0u8; 1], RecvFlags::PEEK | RecvFlags::DONTWAIT);
    matches!(peek, Err(rustix::io::Errno::AGAIN))
}

/// A response whose body has not been read yet.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Body<BufReader<UnixStream>>,
    /// Where the connection goes back once the body is read, if it may,
    /// with the read timeout it has.
    reuse: Option<(Arc<Link>, Option<Duration>)>,
}

impl Request<'_> {
    pub(crate) fn get(target: String) -> Request<'static> {
        Request { method: "GET", target, headers: Vec::new(), payload: Payload::None }
    }

    /// Sends the request over `link` and reads the response head.
    /// `timeout` bounds each read of the head (not the body).
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`]: `ConnectionRefused` / `NotFound` when no owner
    /// answers at all, other kinds when the connection fails later.
    pub(crate) fn send(self, link: &Arc<Link>, timeout: Option<Duration>) -> Result<Response> {
        self.send_waiting(link, timeout, &|| false)
    }

    /// As [`Request::send`], but a head still missing after `timeout` is
    /// waited for again for as long as `keep_waiting()` says so (an eval's
    /// answer comes when its script has computed it, and its caller must
    /// stay able to give up).
    ///
    /// # Errors
    ///
    /// As [`Request::send`].
    pub(crate) fn send_waiting(
        mut self,
        link: &Arc<Link>,
        timeout: Option<Duration>,
        keep_waiting: &dyn Fn() -> bool,
    ) -> Result<Response> {
        let stream = link.connect(timeout)?;
        let sent = self.write(&stream);
        let mut reader = BufReader::new(stream);
        // The owner may answer (413, 400) and close before taking the whole
        // body: its answer is worth more than our write error.
        let head = match (sent, read_head(&mut reader, keep_waiting)) {
            (_, Ok(head)) => head,
            (Err(e), Err(_)) | (Ok(()), Err(e)) => return Err(e.into()),
        };
        let status = head.status;
        let delimited = head.chunked || head.length.is_some() || matches!(head.status, 204 | 304);
        let reuse = (head.keep_alive && delimited).then(|| (link.clone(), timeout));
        let content_type = head.content_type.clone();
        Ok(Response { status, content_type, body: head.body(reader), reuse })
    }

    fn write(&mut self, stream: &UnixStream) -> io::Result<()> {
        let mut out = BufWriter::with_capacity(CHUNK + 32, stream);
        write!(out, "{} {} HTTP/1.1\r\nhost: localhost\r\n", self.method, self.target)?;
        for (name, value) in &self.headers {
            write!(out, "{name}: {value}\r\n")?;
        }
        match &mut self.payload {
            Payload::None => out.write_all(b"\r\n")?,
            Payload::Bytes(bytes) => {
                write!(out, "content-length: {}\r\n\r\n", bytes.len())?;
                out.write_all(bytes)?;
            }
            Payload::Stream(reader) => {
                // A payload that ends within the first chunk (most appends)
                // goes with its length, in the same write as the head.
                let mut first = Vec::new();
                reader.take(CHUNK as u64).read_to_end(&mut first)?;
                if first.len() < CHUNK {
                    write!(out, "content-length: {}\r\n\r\n", first.len())?;
                    out.write_all(&first)?;
                } else {
                    out.write_all(b"transfer-encoding: chunked\r\n\r\n")?;
                    write_chunk(&mut out, &first)?;
                    write_chunked(&mut out, reader, first)?;
                }
            }
        }
        out.flush()
    }
}

/// The owner's refusal of a request: its status, and the start of the
/// message in `body` (either way a request went).
pub(crate) fn refused(status: u16, body: impl Read) -> StoreError {
    let mut message = String::new();
    let _ = body.take(64 * 1024).read_to_string(&mut message);
    StoreError::Remote { status, message }
}

impl Response {
    /// Fails with the owner's message unless the status is 2xx.
    pub(crate) fn ok(self) -> Result<Response> {
        match self.status {
            200..300 => Ok(self),
            status => Err(refused(status, self.body)),
        }
    }

    /// The whole body; the connection then serves the next request.
    pub(crate) fn bytes(mut self) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.body.read_to_end(&mut bytes)?;
        let rest = self.body.into_inner();
        if let (Some((link, timeout)), true) = (self.reuse, rest.buffer().is_empty()) {
            link.give_back(rest.into_inner(), timeout);
        }
        Ok(bytes)
    }

    /// The whole body as JSON.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(self) -> Result<T> {
        let bytes = self.bytes()?;
        serde_json::from_slice(&bytes).map_err(|e| malformed(&e))
    }
}

/// Sends the rest of `reader` as chunks, then the last chunk; `buf` is
/// the chunk buffer, reused.
fn write_chunked(out: &mut impl Write, reader: &mut dyn Read, mut buf: Vec<u8>) -> io::Result<()> {
    buf.resize(CHUNK, 0);
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        write_chunk(out, &buf[..n])?;
    }
    out.write_all(b"0\r\n\r\n")
}

fn write_chunk(out: &mut impl Write, chunk: &[u8]) -> io::Result<()> {
    write!(out, "{:x}\r\n", chunk.len())?;
    out.write_all(chunk)?;
    out.write_all(b"\r\n")
}

/// The parts of a response head the client uses.
struct Head {
    status: u16,
    length: Option<u64>,
    chunked: bool,
    /// The connection may carry another request after this response.
    keep_alive: bool,
    content_type: Option<String>,
}

impl Head {
    fn body(&self, reader: BufReader<UnixStream>) -> Body<BufReader<UnixStream>> {
        match (self.status, self.chunked, self.length) {
            (204 | 304, _, _) => Body::length(reader, 0),
            (_, true, _) => Body::chunked(reader),
            (_, false, Some(n)) => Body::length(reader, n),
            _ => Body::until_close(reader),
        }
    }
}

/// Reads a response head; a read that times out is tried again while
/// `keep_waiting()` (what it read so far stays in `raw`).
fn read_head(reader: &mut impl BufRead, keep_waiting: &dyn Fn() -> bool) -> io::Result<Head> {
    let mut raw = Vec::new();
    while !raw.ends_with(b"\r\n\r\n") {
        let n = match reader.take((MAX_HEAD - raw.len().min(MAX_HEAD)) as u64).read_until(b'\n', &mut raw) {
            Err(e) if is_timeout(&e) && keep_waiting() => continue,
            read => read?,
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the store's owner closed the connection without answering",
            ));
        }
    }
    parse_head(&raw)
}

fn parse_head(raw: &[u8]) -> io::Result<Head> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(raw) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(malformed_io("unparsable response head")),
    }
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).to_string())
    };
    Ok(Head {
        status: response.code.ok_or_else(|| malformed_io("no status"))?,
        length: header("content-length").and_then(|v| v.trim().parse().ok()),
        chunked: header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")),
        keep_alive: response.version == Some(1)
            && !header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close")),
        content_type: header("content-type"),
    })
}

/// True for the error of a read that timed out.
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

fn malformed_io(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("malformed response from the store's owner: {what}"))
}

pub(crate) fn malformed(e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Io(malformed_io(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_heads() {
        let head = parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
        assert!(head.status == 200 && head.chunked);
        let head = parse_head(b"HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n").unwrap();
        assert_eq!((head.status, head.length), (404, Some(12)));
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
    }
}
