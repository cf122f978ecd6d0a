//! The socket API, route by route, through the real socket with raw HTTP
//! (what curl or cross-stream's CLI sends), including every error status.

use std::{
    io::{Read, Write},
    os::unix::{fs::PermissionsExt, net::UnixStream},
    path::{Path, PathBuf},
};

use base64::Engine;
use xs_core::{
    Frame, ReadOptions, Store,
    server::{ServeOptions, Server, ServerHandle},
    store::{Next, Poll},
};

use crate::common::PATIENCE;

/// A store served on its socket from this process.
pub struct Served {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub server: ServerHandle,
}

impl Served {
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }
}

pub fn serve_with(options: ServeOptions) -> Served {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::new(dir.path()).expect("open store");
    let server = Server::bind(store.clone(), options).expect("bind").spawn().expect("spawn");
    Served { dir, store, server }
}

pub fn serve() -> Served {
    serve_with(ServeOptions::default())
}

/// An answer: status, content type, body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }

    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.text().lines().map(|l| serde_json::from_str(l).expect("an NDJSON line")).collect()
    }
}

/// One HTTP/1.0 exchange (so the body ends with the connection).
pub fn http(socket: &Path, head: &str, body: &[u8]) -> Answer {
    let mut stream = UnixStream::connect(socket).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let (request_line, headers) = head.split_once('\n').unwrap_or((head, ""));
    let request = format!("{request_line} HTTP/1.0\r\n{headers}content-length: {}\r\n\r\n", body.len());
    stream.write_all(request.as_bytes()).expect("send head");
    let _ = stream.write_all(body); // the server may answer (413) before taking it all
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read answer");
    parse(&raw)
}

fn parse(raw: &[u8]) -> Answer {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a whole head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
    let content_type = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_string()))
        .unwrap_or_default();
    Answer { status, content_type, body: raw[split + 4..].to_vec() }
}

fn meta_header(json: &str) -> String {
    format!("xs-meta: {}\r\n", base64::prelude::BASE64_STANDARD.encode(json))
}

#[test]
fn append_get_cas_remove_round_trip() {
    let served = serve();
    let sock = served.socket();
    let head = format!("POST /append/note?ttl=last:5\n{}", meta_header(r#"{"a":1}"#));
    let appended = http(&sock, &head, b"hello");
    assert_eq!((appended.status, appended.content_type.as_str()), (200, "application/json"));
    let frame = appended.json();
    assert_eq!(
        (frame["topic"].as_str(), frame["meta"]["a"].as_i64(), frame["ttl"].as_str()),
        (Some("note"), Some(1), Some("last:5"))
    );
    let keys: Vec<_> = frame.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 5, "cross-stream's shape: topic, id, hash, meta, ttl");
    let id = frame["id"].as_str().unwrap();
    let hash = frame["hash"].as_str().unwrap();

    assert_eq!(http(&sock, &format!("GET /{id}"), b"").json(), frame);
    let content = http(&sock, &format!("GET /cas/{hash}"), b"");
    assert_eq!((content.status, content.body.as_slice()), (200, &b"hello"[..]));
    let with_time = http(&sock, &format!("GET /{id}?with-timestamp"), b"").json();
    assert!(with_time["timestamp"].is_string());

    assert_eq!(http(&sock, &format!("DELETE /{id}"), b"").status, 204);
    assert_eq!(http(&sock, &format!("GET /{id}"), b"").status, 404);
    assert_eq!(http(&sock, &format!("DELETE /{id}"), b"").status, 404);
}

#[test]
fn empty_body_appends_without_hash() {
    let served = serve();
    let frame = http(&served.socket(), "POST /append/bare", b"").json();
    assert!(frame["hash"].is_null() && frame["meta"].is_null());
}

#[test]
fn read_route_streams_ndjson_and_sse() {
    let served = serve();
    for topic in ["a.x", "b", "a.y", "b"] {
        served.store.append(Frame::builder(topic).build()).unwrap();
    }
    let sock = served.socket();
    let all = http(&sock, "GET /", b"");
    assert_eq!((all.status, all.content_type.as_str()), (200, "application/x-ndjson"));
    assert_eq!(
        all.lines().iter().map(|f| f["topic"].as_str().unwrap().to_string()).collect::<Vec<_>>(),
        ["a.x", "b", "a.y", "b"]
    );
    assert_eq!(http(&sock, "GET /?topic=a.*", b"").lines().len(), 2);
    assert_eq!(http(&sock, "GET /?limit=3", b"").lines().len(), 3);
    let last = http(&sock, "GET /?last=1&topic=b", b"").lines();
    assert_eq!(last[0]["id"], all.lines()[3]["id"]);

    let sse = http(&sock, "GET /?topic=b\naccept: text/event-stream\r\n", b"");
    assert_eq!(sse.content_type, "text/event-stream");
    let first_id = all.lines()[1]["id"].as_str().unwrap().to_string();
    assert!(sse.text().starts_with(&format!("id: {first_id}\ndata: {{")), "{}", sse.text());
    assert_eq!(sse.text().matches("\n\n").count(), 2);
}

#[test]
fn follow_over_the_socket_sends_threshold_then_live_frames() {
    let served = serve();
    served.store.append(Frame::builder("old").build()).unwrap();
    let client = xs_core::client::Client::new(served.dir.path());
    let mut follow = client.reader(ReadOptions::builder().follow(xs_core::FollowOption::On).build()).unwrap();
    assert_eq!(next(&mut follow).topic, "old");
    assert_eq!(next(&mut follow).topic, "xs.threshold");
    let live = served.store.append(Frame::builder("live").build()).unwrap();
    assert_eq!(next(&mut follow), live);
}

/// Clients appending at once, while a follower reads: every append is
/// acknowledged and stored once, the follower sees them all in id order
/// (a lone append commits on the server's worker; concurrent ones step
/// aside and share syncs).
#[test]
fn concurrent_socket_appends_are_all_stored_and_followed_in_order() {
    let served = serve();
    let client = xs_core::client::Client::new(served.dir.path());
    let options = ReadOptions::builder().topic("c.*".into()).follow(xs_core::FollowOption::On).build();
    let mut follow = client.reader(options.clone()).unwrap();
    assert_eq!(next(&mut follow).topic, "xs.threshold");
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let client = xs_core::client::Client::new(served.dir.path());
            std::thread::spawn(move || {
                (0..40)
                    .map(|_| client.append(Frame::builder(format!("c.w{w}")).build(), std::io::empty()).unwrap().id)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut acked: Vec<_> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    acked.sort();
    let seen: Vec<_> = (0..acked.len()).map(|_| next(&mut follow).id).collect();
    assert_eq!(seen, acked);
    let stored: Vec<_> = served.store.reader(ReadOptions::default()).unwrap().map(|f| f.unwrap().id).collect();
    assert_eq!(stored, acked);
}

pub fn next(reader: &mut xs_core::client::RemoteReader) -> Frame {
    match reader.poll(PATIENCE).expect("poll") {
        Next::Frame(frame) => frame,
        other => panic!("expected a frame, got {other:?}"),
    }
}

#[test]
fn last_route_answers_like_cross_stream() {
    let served = serve();
    let sock = served.socket();
    assert_eq!(http(&sock, "GET /last", b"").status, 404);
    for topic in ["note", "other", "note"] {
        served.store.append(Frame::builder(topic).build()).unwrap();
    }
    let one = http(&sock, "GET /last/note", b"");
    assert_eq!((one.status, one.content_type.as_str()), (200, "application/json"));
    assert_eq!(one.json()["topic"], "note");
    assert_eq!(http(&sock, "GET /last", b"").json()["topic"], "note");
    let two = http(&sock, "GET /last/note?last=5", b"");
    assert_eq!((two.content_type.as_str(), two.lines().len()), ("application/x-ndjson", 2));
    assert_eq!(http(&sock, "GET /last/missing", b"").status, 404);
    assert_eq!(http(&sock, "GET /last/bad..topic", b"").status, 400);
}

#[test]
fn cas_routes() {
    let served = serve();
    let sock = served.socket();
    let posted = http(&sock, "POST /cas", b"payload");
    assert_eq!((posted.status, posted.content_type.as_str()), (200, "text/plain"));
    let hash = posted.text();
    assert_eq!(http(&sock, &format!("GET /cas/{hash}"), b"").body, b"payload");
    let big = vec![7u8; 3 * 1024 * 1024];
    let big_hash = http(&sock, "POST /cas", &big).text();
    assert_eq!(http(&sock, &format!("GET /cas/{big_hash}"), b"").body, big);
    let unknown = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    let empty = http(&sock, "POST /cas", b"");
    assert_eq!((empty.status, empty.text().as_str()), (200, unknown), "an empty body is content too");
    let missing = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert_eq!(http(&sock, &format!("GET /cas/{missing}"), b"").status, 404);
    assert_eq!(http(&sock, "GET /cas/not-a-hash", b"").status, 400);
}

#[test]
fn version_route() {
    let served = serve();
    let version = http(&served.socket(), "GET /version", b"");
    assert_eq!((version.status, version.json()["version"].as_str()), (200, Some(env!("CARGO_PKG_VERSION"))));
}

#[test]
fn import_route_checks_its_body() {
    let served = serve();
    let sock = served.socket();
    assert_eq!(http(&sock, "POST /import", b"{not json").status, 400);
    let frame =
        serde_json::to_vec(&Frame::builder("imported").id(xs_core::id::Scru128Id::from_u128(42)).build()).unwrap();
    let answer = http(&sock, "POST /import", &frame);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["id"], xs_core::id::Scru128Id::from_u128(42).to_string(), "the frame keeps its id");
    let again = http(&sock, "POST /import", &frame);
    assert_eq!(again.status, 400, "an id not above the newest is refused: {}", again.text());
}

#[test]
fn malformed_requests_get_4xx_with_a_message() {
    let served = serve_with(ServeOptions::builder().max_body(1024).build());
    let sock = served.socket();
    let cases: Vec<(String, u16)> = vec![
        ("GET /not-an-id".into(), 400),
        ("DELETE /not-an-id".into(), 400),
        ("POST /append/9starts-with-digit".into(), 400),
        ("POST /append/a..b".into(), 400),
        ("POST /append/note?ttl=sometimes".into(), 400),
        ("POST /append/note\nxs-meta: %%%not-base64\r\n".into(), 400),
        (format!("POST /append/note\n{}", meta_header("{not json")), 400),
        (format!("POST /append/note\n{}", meta_header("[1,2]")), 400),
        ("GET /?limit=many".into(), 400),
        ("GET /?follow=0".into(), 400),
        ("GET /?after=123".into(), 400),
        ("GET /?topic=a..b".into(), 400),
        ("PUT /".into(), 404),
        ("POST /nowhere".into(), 404),
    ];
    for (head, status) in cases {
        let answer = http(&sock, &head, b"");
        assert_eq!(answer.status, status, "{head}: {}", answer.text());
        assert!(!answer.body.is_empty(), "{head}: a 4xx carries a message");
    }
    let too_big = http(&sock, "POST /append/note", &[0u8; 4096]);
    assert_eq!(too_big.status, 413, "{}", too_big.text());
    assert_eq!(http(&sock, "POST /cas", &[0u8; 1025]).status, 413);
    // Nothing was half-written, and the server still serves.
    assert!(served.store.last("*", 10).unwrap().is_empty());
    assert_eq!(http(&sock, "GET /version", b"").status, 200);
}

#[test]
fn streamed_body_beyond_the_limit_is_refused() {
    let served = serve_with(ServeOptions::builder().max_body(100_000).build());
    let client = xs_core::client::Client::new(served.dir.path());
    let huge = std::io::repeat(1).take(10_000_000);
    match client.append(Frame::builder("big").build(), huge) {
        Err(xs_core::StoreError::Remote { status: 413, .. }) => {}
        Err(xs_core::StoreError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => panic!("expected a 413, got {other:?}"),
    }
    assert!(served.store.last("*", 1).unwrap().is_empty());
    assert!(client.version().is_ok());
}

#[test]
fn socket_is_private_and_store_dir_not_world_writable() {
    let served = serve();
    let mode = std::fs::metadata(served.socket()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "socket mode {mode:o}");
    let dir_mode = std::fs::metadata(served.dir.path()).unwrap().permissions().mode();
    assert_eq!(dir_mode & 0o002, 0, "store dir mode {dir_mode:o}");
    let nested = served.dir.path().join("new-store");
    let _store = Store::new(&nested).unwrap();
    assert_eq!(std::fs::metadata(&nested).unwrap().permissions().mode() & 0o077, 0);
}

#[test]
fn stale_socket_is_replaced_live_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    // A store dir is 0700 (a non-empty one open to others is refused).
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let sock = dir.path().join("sock");
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap()); // a dead owner's file
    let store = Store::new(dir.path()).unwrap();
    let server = Server::bind(store.clone(), ServeOptions::default()).unwrap().spawn().unwrap();
    assert_eq!(http(&sock, "GET /version", b"").status, 200);
    server.shutdown();
    assert!(!sock.exists(), "a stopped server removes its socket");

    let live = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let refused = Server::bind(store, ServeOptions::default());
    assert!(matches!(refused, Err(xs_core::StoreError::Io(ref e)) if e.kind() == std::io::ErrorKind::AddrInUse));
    UnixStream::connect(&sock).expect("the live socket is untouched");
    drop(live.accept().unwrap());
}

#[test]
fn shutdown_ends_follows_and_releases_the_store() {
    let served = serve();
    let Served { dir, store, server } = served;
    let client = xs_core::client::Client::new(dir.path());
    let mut follow = client.reader(ReadOptions::builder().follow(xs_core::FollowOption::On).build()).unwrap();
    assert_eq!(next(&mut follow).topic, "xs.threshold");
    drop(store);
    server.shutdown();
    assert!(matches!(follow.poll(PATIENCE), Ok(Next::End)), "the follow ends cleanly");
    assert!(!dir.path().join("sock").exists());
    Store::new(dir.path()).expect("the lock is released");
}
