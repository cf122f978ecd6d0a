//! The server's limits, tried as a careless or hostile client would: a
//! request head sent slowly or never finished, an oversized head, more
//! connections than the cap, a client of another user; and what binding
//! and killed uploads leave in the store directory.

use std::{
    io::{Read, Write},
    os::unix::{fs::PermissionsExt, net::UnixStream, process::CommandExt},
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use xs_core::{
    Store,
    server::{ServeOptions, Server},
};

use crate::{
    child,
    common::{PATIENCE, wait_until},
    server::{http, serve, serve_with},
};

/// Everything the server sends until it closes (a reset after its answer
/// ends the read too: the answer is what counts).
fn read_all(stream: &mut UnixStream) -> String {
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("reading the answer failed after {} bytes: {e}", raw.len()),
        }
    }
    String::from_utf8_lossy(&raw).into_owned()
}

/// Sends `GET /version` on a kept-alive connection and reads the whole
/// answer (its body is delimited by its length); returns its status.
fn version_on(stream: &mut UnixStream) -> u16 {
    stream.write_all(b"GET /version HTTP/1.1\r\nhost: xs\r\n\r\n").unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "the connection closed mid-head");
        raw.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .expect("a content-length");
    stream.read_exact(&mut vec![0u8; length]).unwrap();
    head.split(' ').nth(1).unwrap().parse().unwrap()
}

fn status(answer: &str) -> &str {
    answer.split(' ').nth(1).unwrap_or("(no answer)")
}

#[test]
fn a_slow_head_is_cut_off_while_others_are_served() {
    let timeout = Duration::from_millis(500);
    let served = serve_with(ServeOptions::builder().header_timeout(timeout).build());
    let sock = served.socket();
    let started = Instant::now();
    let mut slow = UnixStream::connect(&sock).unwrap();
    slow.write_all(b"GET /version HTTP/1.1\r\nhost: xs\r\nx-pad").unwrap();
    let mut silent = UnixStream::connect(&sock).unwrap();
    let mut idle = UnixStream::connect(&sock).unwrap();
    assert_eq!(version_on(&mut idle), 200);
    // Meanwhile, others append and read.
    let appended = http(&sock, "POST /append/meanwhile", b"served").json();
    let read = http(&sock, "GET /last/meanwhile", b"").json();
    assert_eq!(read["id"], appended["id"]);
    let answer = read_all(&mut slow);
    let waited = started.elapsed();
    assert_eq!(status(&answer), "408", "the slow head got {answer:?}");
    assert!(waited >= timeout - Duration::from_millis(50), "cut off after {waited:?}, before the timeout");
    assert!(waited < timeout * 10, "cut off only after {waited:?}");
    // A connection that asks nothing, fresh or kept alive after an answer,
    // is closed too, without a word (no request is pending on it).
    assert_eq!(read_all(&mut silent), "");
    assert_eq!(read_all(&mut idle), "");
    assert_eq!(http(&sock, "GET /version", b"").status, 200);
}

#[test]
fn an_oversized_head_gets_431_and_the_server_goes_on() {
    let served = serve();
    let sock = served.socket();
    let mut big = UnixStream::connect(&sock).unwrap();
    let head = format!("GET /version HTTP/1.1\r\nhost: xs\r\nx-junk: {}\r\n\r\n", "a".repeat(100 * 1024));
    let _ = big.write_all(head.as_bytes()); // the server may answer and close before taking it all
    let answer = read_all(&mut big);
    assert_eq!(status(&answer), "431", "the oversized head got {answer:?}");
    // A head within the limit (meta travels in one) is still served.
    let meta = base64_json_object(40 * 1024);
    let fits = http(&sock, &format!("POST /append/meta\nxs-meta: {meta}\r\n"), b"");
    assert_eq!(fits.status, 200, "{}", fits.text());
}

/// The base64 of a JSON object about `size` bytes long.
fn base64_json_object(size: usize) -> String {
    use base64::Engine;
    let json = serde_json::json!({ "pad": "p".repeat(size) }).to_string();
    base64::prelude::BASE64_STANDARD.encode(json)
}

#[test]
fn past_the_connection_cap_a_client_gets_503_until_one_closes() {
    let served = serve_with(ServeOptions::builder().max_connections(3).build());
    let sock = served.socket();
    let mut open: Vec<UnixStream> = (0..3).map(|_| UnixStream::connect(&sock).unwrap()).collect();
    for stream in &mut open {
        assert_eq!(version_on(stream), 200);
    }
    let mut over = UnixStream::connect(&sock).unwrap();
    let _ = over.write_all(b"GET /version HTTP/1.0\r\n\r\n");
    let answer = read_all(&mut over);
    assert_eq!(status(&answer), "503", "the connection past the cap got {answer:?}");
    // The admitted ones are still served.
    assert_eq!(version_on(&mut open[0]), 200);
    drop(open.pop());
    wait_until("a new connection is served", || http(&sock, "GET /version", b"").status == 200);
}

/// A client that connects as `nobody` and sends `GET /version`; what it got.
const NOBODY_CLIENT: &str = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"GET /version HTTP/1.0\r\n\r\n")
data = b""
while True:
    try:
        d = s.recv(65536)
    except ConnectionResetError:
        break
    if not d:
        break
    data += d
sys.stdout.write(data.decode(errors="replace"))
"#;

#[test]
fn a_client_of_another_user_is_refused() {
    let served = serve();
    let sock = served.socket();
    // A misconfiguration that lets everyone reach the socket.
    std::fs::set_permissions(served.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    let output = Command::new("/usr/bin/python3")
        .args(["-c", NOBODY_CLIENT, sock.to_str().unwrap()])
        .uid(65534)
        .gid(65534)
        .output()
        .expect("run the client as nobody");
    let answer = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(status(&answer), "403", "nobody got {answer:?}");
    assert!(answer.contains("not uid 65534"), "{answer}");
    assert_eq!(http(&sock, "GET /version", b"").status, 200, "the owner's own user is served");
}

#[test]
fn binding_leaves_only_a_private_socket() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path()).unwrap();
    // What binders killed mid-bind leave: a private directory, and the
    // temporary socket name of earlier versions.
    for private in [".sock0", ".sock1", ".sock-4000000-0"] {
        std::fs::create_dir(dir.path().join(private)).unwrap();
        std::fs::write(dir.path().join(private).join("s"), b"").unwrap();
    }
    std::fs::write(dir.path().join(".sock.4000000"), b"").unwrap();
    let server = Server::bind(store, ServeOptions::default()).unwrap().spawn().unwrap();
    let sock = dir.path().join("sock");
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "socket mode {mode:o}");
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    server.shutdown();
    assert!(!sock.exists());
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

fn leftovers(dir: &Path) -> Vec<String> {
    let names = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned());
    names.filter(|n| n.starts_with(".sock")).collect()
}

const UPLOAD_OWNER: &str = "server_limits::child_owner_for_uploads";

#[test]
#[ignore = "helper: run in a child process by an upload test"]
fn child_owner_for_uploads() {
    if !child::is(UPLOAD_OWNER) {
        return;
    }
    let store = Store::new(std::env::var("XS_IT_DIR").unwrap()).unwrap();
    let _server = Server::bind(store, ServeOptions::default()).unwrap().spawn().unwrap();
    println!("SERVING");
    child::wait_for_parent();
}

#[test]
fn an_upload_killed_mid_body_leaves_nothing_after_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let owner = child::spawn(UPLOAD_OWNER, &[("XS_IT_DIR", dir.path().to_str().unwrap())]);
    owner.line("SERVING");
    let mut upload = UnixStream::connect(dir.path().join("sock")).unwrap();
    upload.write_all(b"POST /append/big HTTP/1.1\r\nhost: xs\r\ncontent-length: 10000000\r\n\r\n").unwrap();
    upload.write_all(&vec![7u8; 1024 * 1024]).unwrap();
    let tmp = dir.path().join("cas/tmp");
    let files = |dir: &Path| std::fs::read_dir(dir).map_or(0, |entries| entries.count());
    wait_until("the upload spills to a temporary file", || files(&tmp) > 0);
    owner.kill9();
    assert!(files(&tmp) > 0, "the killed upload left its temporary file");
    let store = Store::new(dir.path()).unwrap();
    assert_eq!(files(&tmp), 0, "the open removed the killed upload's file");
    drop(store);
}

const LOW_LIMIT_OWNER: &str = "server_limits::child_owner_with_a_low_file_limit";

#[test]
#[ignore = "helper: run in a child process by serving_raises_the_open_file_limit"]
fn child_owner_with_a_low_file_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    if !child::is(LOW_LIMIT_OWNER) {
        return;
    }
    let hard = getrlimit(Resource::Nofile).maximum;
    setrlimit(Resource::Nofile, Rlimit { current: Some(256), maximum: hard }).unwrap();
    let store = Store::new(std::env::var("XS_IT_DIR").unwrap()).unwrap();
    let _server = Server::bind(store, ServeOptions::default()).unwrap();
    let limit = getrlimit(Resource::Nofile);
    println!("LIMIT {:?} {:?}", limit.current, limit.maximum);
}

/// Two descriptors per connection, 512 connections: a soft limit of 256
/// open files would fail accepts long before the cap's 503.
#[test]
fn serving_raises_the_open_file_limit() {
    let dir = tempfile::tempdir().unwrap();
    let owner = child::spawn(LOW_LIMIT_OWNER, &[("XS_IT_DIR", dir.path().to_str().unwrap())]);
    let limit = owner.line("LIMIT");
    let (soft, hard) = limit.split_once(' ').unwrap();
    assert_eq!(soft, hard, "the soft limit was left below the hard one");
    assert_ne!(soft, "Some(256)");
    owner.finish();
}
