//! Listeners besides the private socket: TCP, TLS and another unix path,
//! each serving every route with the token, and nothing without it.
//!
//! Requests are raw HTTP (what curl or cross-stream's CLI sends) over real
//! sockets on 127.0.0.1, TLS through rustls trusting the store's generated
//! certificate.

use std::{
    io::{ErrorKind, Read, Write},
    net::TcpStream,
    os::unix::net::UnixStream,
    path::Path,
    sync::Arc,
    time::Instant,
};

use base64::Engine;
use rustls::pki_types::{CertificateDer, pem::PemObject};
use xs_core::{
    StoreError,
    server::{Listen, ServeOptions, Server, Tls, token},
};

use crate::{
    common::PATIENCE,
    server::{Answer, Served, http, serve_with},
};

/// Serves a fresh store on `listen` (and its socket) with the token.
fn serve_on(listen: &[&str], tls: Option<Tls>) -> Served {
    let listen = listen.iter().map(|l| l.parse().unwrap()).collect();
    serve_with(ServeOptions::builder().listen(listen).maybe_tls(tls).build())
}

fn token_of(served: &Served) -> String {
    token::load(served.dir.path()).unwrap().expect("a token, made when the listener was bound")
}

/// One HTTP/1.0 exchange over `stream` (so the body ends with the connection).
fn exchange(mut stream: impl Read + Write, head: &str, body: &[u8]) -> Answer {
    let (request_line, headers) = head.split_once('\n').unwrap_or((head, ""));
    let request = format!("{request_line} HTTP/1.0\r\n{headers}content-length: {}\r\n\r\n", body.len());
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    parse(&read_all(&mut stream))
}

/// Everything until the peer closes (a TLS peer may skip its close_notify).
fn read_all(stream: &mut impl Read) -> Vec<u8> {
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => {}
        Err(e) => panic!("reading the answer: {e}"),
    }
    raw
}

fn parse(raw: &[u8]) -> Answer {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a whole head");
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
    let header = |name: &str| head.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()));
    let content_type = header("content-type:").unwrap_or_default();
    if status == 401 {
        assert_eq!(header("www-authenticate:").as_deref(), Some("bearer"), "{head}");
    }
    Answer { status, content_type, body: raw[split + 4..].to_vec() }
}

fn tcp(addr: &Listen) -> TcpStream {
    let url = addr.url().unwrap();
    let stream = TcpStream::connect(url.rsplit_once("//").unwrap().1).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// A TLS connection to `addr` that trusts only the store's generated certificate.
fn tls(addr: &Listen, store: &Path) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(store.join("tls/cert.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connection = rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    rustls::StreamOwned::new(connection, tcp(addr))
}

fn bearer(token: &str) -> String {
    format!("authorization: Bearer {token}\r\n")
}

/// Every route, in an order where each finds what it needs; `send` adds
/// the credentials and the transport.
fn every_route(send: &dyn Fn(&str, &[u8]) -> Answer) {
    let meta = base64::prelude::BASE64_STANDARD.encode(r#"{"a":1}"#);
    let frame = send(&format!("POST /append/note\nxs-meta: {meta}\r\n"), b"hello").json();
    assert_eq!((frame["topic"].as_str(), frame["meta"]["a"].as_i64()), (Some("note"), Some(1)));
    let (id, hash) = (frame["id"].as_str().unwrap(), frame["hash"].as_str().unwrap());
    assert_eq!(send(&format!("GET /{id}"), b"").json(), frame);
    assert_eq!(send(&format!("GET /cas/{hash}"), b"").body, b"hello");
    assert_eq!(send("POST /cas", b"hello").text(), hash);
    assert_eq!(send("GET /last/note", b"").json()["id"], frame["id"]);
    assert_eq!(send("GET /last", b"").json()["id"], frame["id"]);
    let lines = send("GET /?limit=5", b"");
    assert_eq!((lines.content_type.as_str(), lines.lines().len()), ("application/x-ndjson", 1));
    let sse = send("GET /?limit=5\naccept: text/event-stream\r\n", b"");
    assert!(sse.content_type.starts_with("text/event-stream") && sse.text().contains(id), "{sse:?}");
    assert_eq!(send("GET /version", b"").json()["pid"].as_u64(), Some(u64::from(std::process::id())));
    assert!(send("GET /processor", b"").json().is_array());
    let imported = scru128::new().to_string();
    let body = format!(r#"{{"id":"{imported}","topic":"moved"}}"#);
    assert_eq!(send("POST /import", body.as_bytes()).json()["id"].as_str(), Some(imported.as_str()));
    assert_eq!(send(&format!("DELETE /{id}"), b"").status, 204);
    assert_eq!(send(&format!("GET /{id}"), b"").status, 404);
    assert_eq!(send("PUT /", b"").status, 404);
}

/// Each route without a token, and with a wrong one, gets 401 and nothing else.
fn every_route_refused(send: &dyn Fn(&str, &[u8]) -> Answer) {
    let id = scru128::new();
    let hash = "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";
    for head in [
        "POST /append/note".to_string(),
        format!("GET /{id}"),
        format!("GET /cas/{hash}"),
        "POST /cas".into(),
        "GET /last/note".into(),
        "GET /?follow=true".into(),
        "GET /version".into(),
        "GET /processor".into(),
        "POST /import".into(),
        format!("DELETE /{id}"),
        "POST /token/rotate".into(),
        "GET /nope/nope".into(),
    ] {
        let answer = send(&head, b"x");
        assert_eq!((answer.status, answer.body.len()), (401, 0), "{head}: {}", answer.text());
    }
}

fn with(credentials: &str, head: &str) -> String {
    match head.split_once('\n') {
        Some((line, headers)) => format!("{line}\n{credentials}{headers}"),
        None => format!("{head}\n{credentials}"),
    }
}

#[test]
fn every_route_over_tcp_with_the_token_and_none_without() {
    let served = serve_on(&["tcp://127.0.0.1:0"], None);
    let addr = served.server.listening()[0].clone();
    assert!(matches!(&addr, Listen::Tcp { port, .. } if *port != 0), "the real port: {addr}");
    let token = token_of(&served);
    every_route(&|head, body| exchange(tcp(&addr), &with(&bearer(&token), head), body));
    every_route_refused(&|head, body| exchange(tcp(&addr), head, body));
    let wrong = bearer(&format!("{}{}", &token[..63], if token.ends_with('0') { '1' } else { '0' }));
    every_route_refused(&|head, body| exchange(tcp(&addr), &with(&wrong, head), body));
    assert!(served.store.last("note", 10).unwrap().is_empty(), "refused appends stored nothing");
}

#[test]
fn every_route_over_tls_with_the_generated_certificate() {
    let served = serve_on(&["https://127.0.0.1:0"], Some(Tls::SelfSigned));
    let addr = served.server.listening()[0].clone();
    assert!(matches!(&addr, Listen::Https { port, .. } if *port != 0), "the real port: {addr}");
    let token = token_of(&served);
    every_route(&|head, body| exchange(tls(&addr, served.dir.path()), &with(&bearer(&token), head), body));
    every_route_refused(&|head, body| exchange(tls(&addr, served.dir.path()), head, body));

    let mut stream = tls(&addr, served.dir.path());
    let answer = exchange(&mut stream, &with(&bearer(&token), "GET /version"), b"");
    assert_eq!(answer.status, 200);
    let presented = stream.conn.peer_certificates().unwrap()[0].clone();
    assert_eq!(served.server.fingerprint(), Some(xs_core::server::tls::fingerprint(&presented).as_str()));
}

#[test]
fn a_plain_client_on_the_tls_port_gets_nothing() {
    let served = serve_on(&["https://127.0.0.1:0"], Some(Tls::SelfSigned));
    let mut stream = tcp(&served.server.listening()[0]);
    stream.write_all(b"GET /version HTTP/1.0\r\n\r\n").unwrap();
    let raw = read_all(&mut stream);
    assert!(!raw.starts_with(b"HTTP/1"), "no HTTP answer without TLS");
}

#[test]
fn basic_auth_password_is_the_token_as_cross_stream_sends_it() {
    let served = serve_on(&["tcp://127.0.0.1:0"], None);
    let addr = served.server.listening()[0].clone();
    let token = token_of(&served);
    let basic =
        |user_pass: &str| format!("authorization: Basic {}\r\n", base64::prelude::BASE64_STANDARD.encode(user_pass));
    let ok = exchange(tcp(&addr), &with(&basic(&format!("xs:{token}")), "POST /append/from.cli"), b"hi");
    assert_eq!(ok.json()["topic"], "from.cli");
    let refused = exchange(tcp(&addr), &with(&basic(&format!("{token}:")), "GET /version"), b"");
    assert_eq!(refused.status, 401, "the token as user name is no password");
}

#[test]
fn no_auth_is_refused_off_loopback_and_serves_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = xs_core::Store::new(dir.path()).unwrap();
    let exposed = ServeOptions::builder().listen(vec!["tcp://0.0.0.0:0".parse().unwrap()]).no_auth(true).build();
    let refused = Server::bind(store.clone(), exposed).err().expect("refused");
    assert!(matches!(&refused, StoreError::NoAuthExposed { listen } if listen == "tcp://0.0.0.0:0"), "{refused}");
    assert!(refused.to_string().contains("--no-auth"), "{refused}");

    let local = ServeOptions::builder().listen(vec!["tcp://127.0.0.1:0".parse().unwrap()]).no_auth(true).build();
    let server = Server::bind(store, local).unwrap().spawn().unwrap();
    assert_eq!(exchange(tcp(&server.listening()[0]), "GET /version", b"").status, 200);
    assert_eq!(token::load(dir.path()).unwrap(), None, "no token is made for a store that needs none");
}

#[test]
fn https_without_a_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = xs_core::Store::new(dir.path()).unwrap();
    let options = ServeOptions::builder().listen(vec!["https://127.0.0.1:0".parse().unwrap()]).build();
    let refused = Server::bind(store, options).err().expect("refused");
    assert!(matches!(refused, StoreError::Tls { .. }), "{refused}");
}

#[test]
fn a_second_unix_listener_serves_the_api_with_the_token() {
    let elsewhere = tempfile::tempdir().unwrap();
    let path = elsewhere.path().join("other.sock");
    let served = serve_on(&[&format!("unix://{}", path.display())], None);
    assert_eq!(served.server.listening(), [Listen::Unix(path.clone())]);
    let token = token_of(&served);
    let connect = || {
        let stream = UnixStream::connect(&path).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream
    };
    every_route(&|head, body| exchange(connect(), &with(&bearer(&token), head), body));
    every_route_refused(&|head, body| exchange(connect(), head, body));
    assert_eq!(http(&served.socket(), "GET /version", b"").status, 200, "the private socket needs no token");
    drop(served);
    assert!(!path.exists(), "the socket file goes with the server");
}

/// A follow over TCP, read up to its threshold.
fn live_follow(addr: &Listen, token: &str) -> TcpStream {
    let mut stream = tcp(addr);
    let head = format!("GET /?follow=true HTTP/1.1\r\nhost: x\r\n{}\r\n", bearer(token));
    stream.write_all(head.as_bytes()).unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("xs.threshold") {
        let n = stream.read(&mut buf).expect("the follow answers within the patience");
        assert!(n > 0, "the follow ended early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    stream
}

/// Reads until the server closes `stream`; fails after the patience.
fn assert_cut(mut stream: TcpStream) {
    let start = Instant::now();
    let rest = match stream.read_to_end(&mut Vec::new()) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => Ok(()),
        Err(e) => Err(e),
    };
    assert!(rest.is_ok() && start.elapsed() < PATIENCE, "the follow was not cut: {rest:?}");
}

#[test]
fn rotating_the_token_cuts_a_live_follow_and_refuses_the_old_token() {
    let served = serve_on(&["tcp://127.0.0.1:0"], None);
    let addr = served.server.listening()[0].clone();
    let old = token_of(&served);
    let follow = live_follow(&addr, &old);
    let forbidden = exchange(tcp(&addr), &with(&bearer(&old), "POST /token/rotate"), b"");
    assert_eq!(forbidden.status, 403, "rotation is for the owner's socket only");

    let new = token::rotate_served(served.dir.path()).unwrap();
    assert_ne!(new, old);
    assert_eq!(token::load(served.dir.path()).unwrap().as_deref(), Some(new.as_str()));
    assert_cut(follow);
    assert_eq!(exchange(tcp(&addr), &with(&bearer(&old), "GET /version"), b"").status, 401);
    assert_eq!(exchange(tcp(&addr), &with(&bearer(&new), "GET /version"), b"").status, 200);
}

#[test]
fn a_token_rotated_in_the_file_cuts_a_live_follow_too() {
    let served = serve_on(&["tcp://127.0.0.1:0"], None);
    let addr = served.server.listening()[0].clone();
    let follow = live_follow(&addr, &token_of(&served));
    let new = token::rotate(served.dir.path()).unwrap();
    assert_cut(follow);
    assert_eq!(exchange(tcp(&addr), &with(&bearer(&new), "GET /version"), b"").status, 200);
}
