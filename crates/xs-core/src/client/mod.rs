//! The other end of the socket, or of a remote store's listener. `mod.rs`
//! holds [`Client`]; `transport.rs` sends one HTTP/1.1 request over the
//! unix socket with std (the fast local path); `chunked.rs` decodes its
//! bodies, surviving read timeouts; `eval.rs` reads the output of a
//! script run by the owner (`POST /eval`); `remote.rs` describes a remote store
//! (URL or iroh ticket, token, TLS trust); `http.rs` sends the same
//! requests to it through ureq, over `wire.rs`'s connections (TCP, or
//! streams of `quic/dialer.rs` for iroh) and `tls.rs`'s rustls configuration;
//! `answer.rs` reads either kind of answer; `remote_reader.rs` is a read
//! served by the owner. The folder keeps this invariant: a client call
//! means what the same [`Store`](crate::Store) call means, with the same
//! types and errors, whichever way it goes, and a request is never sent
//! twice.
//!
//! A client of a store's owner, over `<store>/sock`, `http(s)://host:port`
//! or `iroh://<ticket>` (feature `iroh`).
//!
//! [`Client`] offers the store's operations with the store's types and
//! errors, spoken as the socket API (cross-stream 0.13's HTTP routes). It
//! is blocking, like [`Store`](crate::Store). Inputs are checked here first
//! (topic, meta) so a bad call fails with the same typed error it would get
//! from the store itself; what only the owner can judge comes back as
//! [`StoreError::Remote`] (or [`StoreError::NotFound`] /
//! [`StoreError::HashNotFound`] for a 404).

pub(crate) mod answer;
pub(crate) mod chunked;
pub mod eval;
pub(crate) mod http;
pub(crate) mod remote;
pub(crate) mod remote_reader;
pub(crate) mod tls;
pub(crate) mod transport;
pub(crate) mod wire;

pub use eval::{EvalBytes, EvalLines, Evaluated, Stop};
pub use remote::{Fingerprint, Remote, Trust};
pub use remote_reader::RemoteReader;

use std::{io::Read, path::Path, sync::Arc, time::Duration};

use base64::Engine;
use scru128::Scru128Id;
use ssri::Integrity;

use crate::{
    client::{
        answer::Answer,
        http::Http,
        transport::{Link, Payload, Request, malformed},
        wire::Tap,
    },
    error::{Result, StoreError},
    frame::Frame,
    read_options::ReadOptions,
    script_state::ScriptState,
    server::route::json_kind,
    store::Scripts,
    topic::{TopicFilter, validate_append_topic},
};

/// How long a (non-follow) request may wait for its answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// A handle on a store served by another process (or another thread),
/// on this machine or another.
///
/// ```no_run
/// use xs_core::{Frame, client::{Client, Remote}};
/// let client = Client::new("/path/to/store");
/// let frame = client.append(Frame::builder("note").build(), &b"hi"[..])?;
/// assert_eq!(client.get(&frame.id)?, Some(frame));
/// let remote = Client::remote(Remote::new("https://store.example:3021")?.token("…"))?;
/// remote.append(Frame::builder("note").build(), &b"from afar"[..])?;
/// # Ok::<(), xs_core::StoreError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    way: Way,
}

/// How requests reach the owner.
#[derive(Clone, Debug)]
enum Way {
    Socket(Arc<Link>),
    Http(Arc<Http>),
}

impl Client {
    /// A client of the store in `store` (its socket is `<store>/sock`).
    /// Nothing is checked until the first call.
    pub fn new(store: impl AsRef<Path>) -> Client {
        Client { way: Way::Socket(Link::new(store.as_ref().join(crate::server::SOCKET))) }
    }

    /// A client of a store served at `remote`'s URL (`http://`,
    /// `https://`, or `iroh://<ticket>` with feature `iroh`), sending its
    /// token with every request. Nothing is contacted until the first call.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidRemote`] for an unreadable CA file;
    /// [`StoreError::Untrusted`] when the system's roots cannot be loaded.
    pub fn remote(remote: Remote) -> Result<Client> {
        Ok(Client { way: Way::Http(Arc::new(Http::new(remote)?)) })
    }

    /// The socket this client talks to (`None` for a remote store).
    pub fn socket(&self) -> Option<&Path> {
        match &self.way {
            Way::Socket(link) => Some(&link.socket),
            Way::Http(_) => None,
        }
    }

    /// The remote store's URL (`None` for a socket).
    pub fn url(&self) -> Option<&str> {
        match &self.way {
            Way::Socket(_) => None,
            Way::Http(http) => Some(http.url()),
        }
    }

    /// The owner's version string, which also proves it answers.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when no owner answers on the socket,
    /// [`StoreError::Unreachable`] when a remote one does not, and
    /// [`StoreError::Unauthorized`] for a wrong token (as every call).
    pub fn version(&self) -> Result<String> {
        let answer: serde_json::Value = self.call(Request::get("/version".into()))?.json()?;
        Ok(answer["version"].as_str().unwrap_or_default().to_string())
    }

    /// Every handler and generator of the owner's processor, and where it
    /// stands (`GET /processor`); empty when the owner runs no processor.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when no owner answers; a malformed answer.
    pub fn processor_states(&self) -> Result<Vec<ScriptState>> {
        self.call(Request::get("/processor".into()))?.json()
    }

    /// The process id of the owner, as it reports it on `GET /version`
    /// (`None` for an owner that does not say, such as cross-stream).
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when no owner answers.
    pub fn owner_pid(&self) -> Result<Option<u32>> {
        let answer: serde_json::Value = self.call(Request::get("/version".into()))?.json()?;
        Ok(answer["pid"].as_u64().and_then(|pid| u32::try_from(pid).ok()))
    }

    /// Appends `frame` (its topic, meta and TTL) with `payload` as its
    /// content; an empty payload means no hash, as in cross-stream.
    ///
    /// # Errors
    ///
    /// As [`Store::append`](crate::Store::append), plus [`StoreError::Io`]
    /// when the owner cannot be reached and [`StoreError::Remote`] when it
    /// refuses (a payload over its size limit is a 413).
    pub fn append(&self, frame: Frame, mut payload: impl Read) -> Result<Frame> {
        validate_append_topic(&frame.topic)?;
        let mut headers = Vec::new();
        if let Some(meta) = &frame.meta {
            if let Some(kind) = json_kind(meta) {
                return Err(StoreError::InvalidMeta { kind });
            }
            headers.push(("xs-meta", base64::prelude::BASE64_STANDARD.encode(meta.to_string())));
        }
        let ttl = frame.ttl.map(|t| format!("?ttl={t}")).unwrap_or_default();
        let target = format!("/append/{}{ttl}", frame.topic);
        self.call(Request { method: "POST", target, headers, payload: Payload::Stream(&mut payload) })?.json()
    }

    /// Puts `content` into the CAS and returns its hash. It is streamed
    /// to the owner, so it may be larger than memory.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] / [`StoreError::Remote`].
    pub fn cas_insert(&self, mut content: impl Read) -> Result<Integrity> {
        let request = Request {
            method: "POST",
            target: "/cas".into(),
            headers: Vec::new(),
            payload: Payload::Stream(&mut content),
        };
        let text = String::from_utf8(self.call(request)?.bytes()?).map_err(|e| malformed(&e))?;
        crate::hash::parse(&text).map_err(|e| malformed(&e))
    }

    /// A reader over the content of `hash`; a transfer cut short is an error.
    ///
    /// # Errors
    ///
    /// [`StoreError::HashNotFound`]; [`StoreError::Io`].
    pub fn cas_reader(&self, hash: &Integrity) -> Result<Box<dyn Read + Send>> {
        let answer = self.send(Request::get(format!("/cas/{hash}")))?;
        match answer.status() {
            404 => Err(StoreError::HashNotFound(hash.to_string())),
            _ => Ok(answer.ok()?.into_read()),
        }
    }

    /// The content of `hash`.
    ///
    /// # Errors
    ///
    /// As [`Client::cas_reader`].
    pub fn cas_read(&self, hash: &Integrity) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.cas_reader(hash)?.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// The frame `id`, or `None`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] / [`StoreError::Remote`].
    pub fn get(&self, id: &Scru128Id) -> Result<Option<Frame>> {
        let answer = self.send(Request::get(format!("/{id}")))?;
        match answer.status() {
            404 => Ok(None),
            _ => answer.ok()?.json().map(Some),
        }
    }

    /// Deletes frame `id`.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when there is no such frame.
    pub fn remove(&self, id: &Scru128Id) -> Result<()> {
        let request =
            Request { method: "DELETE", target: format!("/{id}"), headers: Vec::new(), payload: Payload::None };
        match self.send(request)? {
            answer if answer.status() == 404 => Err(StoreError::NotFound(*id)),
            answer => answer.ok()?.bytes().map(drop),
        }
    }

    /// The newest `n` frames matching `topic` (a pattern list), oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidTopic`] for a bad pattern; [`StoreError::Io`].
    pub fn last(&self, topic: &str, n: usize) -> Result<Vec<Frame>> {
        TopicFilter::parse(topic)?;
        // `last=n` (n != 1) answers NDJSON, and 404 when there is nothing.
        let answer = self.send(Request::get(format!("/last/{topic}?last={n}")))?;
        if answer.status() == 404 {
            return Ok(Vec::new());
        }
        let body = answer.ok()?.bytes()?;
        if n == 1 {
            return serde_json::from_slice(&body).map(|f| vec![f]).map_err(|e| malformed(&e));
        }
        body.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).map_err(|e| malformed(&e)))
            .collect()
    }

    /// A read (replay, and with `follow` live frames) from the owner.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidTopic`] for a bad pattern; [`StoreError::Io`]
    /// when the owner cannot be reached; [`StoreError::Remote`] for options
    /// it rejects.
    pub fn reader(&self, options: ReadOptions) -> Result<RemoteReader> {
        if let Some(topic) = &options.topic {
            TopicFilter::parse(topic)?;
        }
        let query = options.to_query();
        let target = if query.is_empty() { "/".to_string() } else { format!("/?{query}") };
        match &self.way {
            Way::Socket(link) => RemoteReader::new(Request::get(target).send(link, Some(ANSWER_TIMEOUT))?.ok()?.body),
            Way::Http(http) => {
                let tap = Arc::new(Tap::default());
                let answer = http.send(Request::get(target), Some(tap.clone()))?.ok()?;
                Ok(RemoteReader::http(answer.body, tap))
            }
        }
    }

    /// Stores `frame` as it is, id included (the other half of an export);
    /// scripts are stored inert, as by [`Store::import`](crate::Store::import).
    ///
    /// # Errors
    ///
    /// [`StoreError::Remote`] when the owner refuses it.
    pub fn import(&self, frame: Frame) -> Result<Frame> {
        self.import_with(frame, Scripts::Inert)
    }

    /// [`Client::import`], choosing whether imported scripts may run
    /// (`POST /import?with_scripts=true`).
    ///
    /// # Errors
    ///
    /// As [`Client::import`].
    pub fn import_with(&self, frame: Frame, scripts: Scripts) -> Result<Frame> {
        let json = serde_json::to_vec(&frame).map_err(|e| malformed(&e))?;
        let target = match scripts {
            Scripts::Inert => "/import",
            Scripts::Run => "/import?with_scripts=true",
        };
        let request =
            Request { method: "POST", target: target.into(), headers: Vec::new(), payload: Payload::Bytes(&json) };
        self.call(request)?.json()
    }

    /// Runs `script` in the owner's engine (`POST /eval`), with the store
    /// commands and the stream's modules, and returns its output as it
    /// comes: a list stream as [`Evaluated::Lines`], bytes as
    /// [`Evaluated::Bytes`]. `stop` is asked every [`eval::TICK`] while
    /// waiting; once it says so, or once the output is dropped, the
    /// connection closes and the owner interrupts the script.
    ///
    /// # Errors
    ///
    /// [`StoreError::Script`] with Nushell's message when the script
    /// fails before its output begins; [`StoreError::Remote`] (501) when
    /// the owner runs no processor; [`StoreError::Io`] when no owner
    /// answers or `stop` fired first.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use xs_core::client::{Client, Evaluated};
    /// let client = Client::new("/path/to/store");
    /// if let Evaluated::Value(n) = client.eval("1 + 2", Arc::new(|| false))? {
    ///     assert_eq!(n, 3);
    /// }
    /// # Ok::<(), xs_core::StoreError>(())
    /// ```
    pub fn eval(&self, script: &str, stop: Stop) -> Result<Evaluated> {
        let headers = vec![("accept", "application/json, application/x-ndjson, application/octet-stream".into())];
        let request =
            Request { method: "POST", target: "/eval".into(), headers, payload: Payload::Bytes(script.as_bytes()) };
        let answer = match &self.way {
            Way::Socket(link) => request.send_waiting(link, Some(eval::TICK), &|| !stop()).map(Answer::Socket),
            Way::Http(http) => http.send(request, Some(Arc::new(Tap::stopping(stop.clone())))).map(Answer::Http),
        };
        match answer {
            Err(_) if stop() => Err(eval::stopped().into()),
            answer => eval::output(answer?, stop),
        }
    }

    /// Sends `request`, failing unless the answer is 2xx.
    fn call(&self, request: Request<'_>) -> Result<Answer> {
        self.send(request)?.ok()
    }

    /// Sends `request` the client's way and reads the answer's head.
    fn send(&self, request: Request<'_>) -> Result<Answer> {
        match &self.way {
            Way::Socket(link) => request.send(link, Some(ANSWER_TIMEOUT)).map(Answer::Socket),
            Way::Http(http) => http.send(request, None).map(Answer::Http),
        }
    }
}
