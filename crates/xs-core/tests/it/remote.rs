//! Remote stores: `Client::remote` and `Connection::remote` against a real
//! owner serving a TCP (and a TLS) listener on 127.0.0.1: every operation
//! with the store's types, the token (401 is `Unauthorized`), an owner that
//! is not there (`Unreachable`, never a takeover), a follow that survives
//! its owner's restart without a gap or a duplicate, and TLS trust by
//! fingerprint and by CA file.

use std::{io::Read, path::Path, sync::Arc, time::Duration};

use xs_core::{
    FollowOption, Frame, ReadOptions, Store, StoreError, TTL,
    client::{Client, Evaluated, Fingerprint, Remote, Stop, Trust},
    connection::{Connection, Role},
    server::{ServeOptions, Server, ServerHandle, Tls, token},
    store::{Next, Poll},
};

use crate::common::take;

/// An owner of a fresh store serving `listen` (besides its socket).
struct Served {
    dir: tempfile::TempDir,
    store: Store,
    server: ServerHandle,
    url: String,
    token: String,
}

fn serve(listen: &str, tls: Option<Tls>) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let (store, server, url) = serve_dir(dir.path(), listen, tls);
    let token = token::load_or_create(dir.path()).unwrap();
    Served { dir, store, server, url, token }
}

/// Serves the store in `dir` on `listen`; returns the listener's URL.
fn serve_dir(dir: &Path, listen: &str, tls: Option<Tls>) -> (Store, ServerHandle, String) {
    let store = Store::new(dir).unwrap();
    let options = ServeOptions::builder().listen(vec![listen.parse().unwrap()]).maybe_tls(tls).build();
    let server = Server::bind(store.clone(), options).unwrap().spawn().unwrap();
    let url = server.listening().iter().find_map(|l| l.url()).expect("a listener with a URL");
    (store, server, url)
}

fn tcp() -> Served {
    serve("tcp://127.0.0.1:0", None)
}

impl Served {
    fn client(&self) -> Client {
        Client::remote(Remote::new(&self.url).unwrap().token(&self.token)).unwrap()
    }
}

#[test]
fn a_remote_client_speaks_every_operation() {
    let served = tcp();
    let client = served.client();
    assert_eq!(client.url(), Some(served.url.as_str()));
    assert_eq!(client.version().unwrap(), env!("CARGO_PKG_VERSION"));
    assert_eq!(client.owner_pid().unwrap(), Some(std::process::id()));
    let meta = serde_json::json!({"app": "term"});
    let frame =
        client.append(Frame::builder("clip.add").meta(meta.clone()).ttl(TTL::Last(3)).build(), &b"hi"[..]).unwrap();
    assert_eq!((frame.meta.as_ref(), frame.ttl), (Some(&meta), Some(TTL::Last(3))));
    assert_eq!(served.store.get(&frame.id).unwrap(), Some(frame.clone()), "stored by the owner");
    let hash = frame.hash.clone().unwrap();
    assert_eq!(client.cas_read(&hash).unwrap(), b"hi");
    assert_eq!(client.get(&frame.id).unwrap(), Some(frame.clone()));
    assert_eq!(client.last("clip.*", 1).unwrap(), vec![frame.clone()]);
    let second = client.append(Frame::builder("clip.add").build(), std::io::empty()).unwrap();
    assert_eq!(client.last("clip.add", 5).unwrap(), vec![frame.clone(), second.clone()]);
    assert!(client.last("nothing", 1).unwrap().is_empty());
    let all: Vec<Frame> = client.reader(ReadOptions::default()).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(all, vec![frame.clone(), second.clone()]);
    let put = client.cas_insert(&b"content"[..]).unwrap();
    assert_eq!(served.store.cas_read(&put).unwrap(), b"content");
    let imported = Frame::builder("old").id(xs_core::id::Scru128Id::from_u128(1)).build();
    assert!(client.import(imported).is_err(), "an id below the store's is refused, as locally");
    assert!(client.processor_states().unwrap().is_empty());
    client.remove(&frame.id).unwrap();
    assert_eq!(client.get(&frame.id).unwrap(), None);
}

#[test]
fn remote_errors_are_the_stores() {
    let served = tcp();
    let client = served.client();
    assert!(matches!(
        client.append(Frame::builder("a..b").build(), std::io::empty()),
        Err(StoreError::InvalidTopic { .. })
    ));
    assert!(matches!(client.remove(&xs_core::id::Scru128Id::from_u128(1)), Err(StoreError::NotFound(_))));
    let missing: xs_core::hash::Integrity = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".parse().unwrap();
    assert!(matches!(client.cas_read(&missing), Err(StoreError::HashNotFound(_))));
    assert!(matches!(client.last("bad..", 1), Err(StoreError::InvalidTopic { .. })));
    let bad_meta = Frame::builder("a").meta(serde_json::json!([1])).build();
    assert!(matches!(client.append(bad_meta, std::io::empty()), Err(StoreError::InvalidMeta { .. })));
}

#[test]
fn a_wrong_or_missing_token_is_unauthorized_and_changes_nothing() {
    let served = tcp();
    let nobody = Client::remote(Remote::new(&served.url).unwrap()).unwrap();
    let wrong = Client::remote(Remote::new(&served.url).unwrap().token("0".repeat(64))).unwrap();
    for client in [&nobody, &wrong] {
        let err = client.append(Frame::builder("x").build(), &b"payload"[..]).unwrap_err();
        assert!(matches!(&err, StoreError::Unauthorized { url } if *url == served.url), "{err:?}");
        assert!(err.to_string().contains("unauthorized: wrong or missing token"), "{err}");
        assert!(matches!(client.reader(ReadOptions::default()), Err(StoreError::Unauthorized { .. })));
    }
    assert!(served.store.reader(ReadOptions::default()).unwrap().next().is_none(), "nothing was appended");
    // The token as the password of basic auth in the URL (cross-stream's CLI way).
    let (scheme, host) = served.url.split_once("://").unwrap();
    let basic = Client::remote(Remote::new(&format!("{scheme}://xs:{}@{host}", served.token)).unwrap()).unwrap();
    assert_eq!(basic.version().unwrap(), env!("CARGO_PKG_VERSION"));
}

/// A URL where nothing listens: a port just bound and released.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

#[test]
fn an_unreachable_remote_says_so_and_is_never_taken_over() {
    let url = dead_url();
    let client = Client::remote(Remote::new(&url).unwrap().token("t")).unwrap();
    let err = client.version().unwrap_err();
    assert!(matches!(&err, StoreError::Unreachable { url: named, .. } if *named == url), "{err:?}");
    assert!(err.to_string().contains(&url), "{err}");
    let connection = Connection::remote(Remote::new(&url).unwrap()).unwrap();
    let err = connection.append(Frame::builder("x").build(), &b"lost"[..]).unwrap_err();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err:?}");
    assert_eq!((connection.role(), connection.is_remote(), connection.path()), (Role::Client, true, None));
    assert!(connection.store().is_none(), "a remote store is never owned");
}

#[test]
fn big_payloads_stream_both_ways_over_tcp() {
    let served = tcp();
    let client = served.client();
    // 32 MiB from a reader that makes it as it goes: streamed, never whole.
    let size = 32u64 << 20;
    let payload = std::io::repeat(7).take(size);
    let frame = client.append(Frame::builder("blob").build(), payload).unwrap();
    let mut back = client.cas_reader(frame.hash.as_ref().unwrap()).unwrap();
    let (mut n, mut buf) = (0u64, vec![0u8; 1 << 16]);
    loop {
        let read = back.read(&mut buf).unwrap();
        if read == 0 {
            break;
        }
        assert!(buf[..read].iter().all(|b| *b == 7));
        n += read as u64;
    }
    assert_eq!(n, size);
}

#[test]
fn a_remote_follow_polls_and_sees_live_frames() {
    let served = tcp();
    let client = served.client();
    let mut follow = client.reader(ReadOptions::builder().follow(FollowOption::On).build()).unwrap();
    assert_eq!(take(&mut follow, 1)[0].topic, "xs.threshold");
    assert!(matches!(follow.poll(Duration::from_millis(50)).unwrap(), Next::Idle), "a quiet follow is idle");
    let frame = served.store.append(Frame::builder("live").build()).unwrap();
    assert_eq!(take(&mut follow, 1), vec![frame]);
}

/// The owner stops while a remote client follows; a frame is appended
/// while no owner serves; a new owner serves the same port. The follow
/// resumes: every frame once, in order.
#[test]
fn a_follow_over_tcp_survives_an_owner_restart() {
    let served = tcp();
    let Served { dir, store, server, url, token } = served;
    let connection = Connection::remote(Remote::new(&url).unwrap().token(&token)).unwrap();
    let mut follow = connection.reader(ReadOptions::builder().follow(FollowOption::On).build()).unwrap();
    assert_eq!(take(&mut follow, 1)[0].topic, "xs.threshold");
    let a = store.append(Frame::builder("clip").build()).unwrap();
    assert_eq!(take(&mut follow, 1), vec![a.clone()]);
    drop((server, store));
    let offline = Store::new(dir.path()).unwrap();
    let b = offline.append(Frame::builder("clip").build()).unwrap();
    offline.close();
    drop(offline);
    let port = url.rsplit(':').next().unwrap();
    let (store, _server, again) = serve_dir(dir.path(), &format!("tcp://127.0.0.1:{port}"), None);
    assert_eq!(again, url);
    let c = store.append(Frame::builder("clip").build()).unwrap();
    assert_eq!(take(&mut follow, 2), vec![b, c], "no gap, no duplicate, no second threshold");
    assert_eq!(connection.role(), Role::Client);
}

#[test]
fn tls_trusts_the_pinned_fingerprint_or_the_ca_file_and_nothing_else() {
    let served = serve("https://127.0.0.1:0", Some(Tls::SelfSigned));
    let pin: Fingerprint = served.server.fingerprint().expect("a TLS listener's fingerprint").parse().unwrap();
    let remote = || Remote::new(&served.url).unwrap().token(&served.token);
    let pinned = Client::remote(remote().trust(Trust::Fingerprint(pin))).unwrap();
    let frame = pinned.append(Frame::builder("tls").build(), &b"secret"[..]).unwrap();
    assert_eq!(pinned.cas_read(frame.hash.as_ref().unwrap()).unwrap(), b"secret");
    let cert = served.dir.path().join("tls/cert.pem");
    let ca = Client::remote(remote().trust(Trust::Ca(cert))).unwrap();
    assert_eq!(ca.get(&frame.id).unwrap(), Some(frame.clone()));

    let mut wrong = pin;
    wrong.0[0] ^= 0xff;
    let err = Client::remote(remote().trust(Trust::Fingerprint(wrong))).unwrap().version().unwrap_err();
    assert!(matches!(&err, StoreError::Untrusted { reason, .. } if reason.contains("not the pinned")), "{err:?}");
    let err = Client::remote(remote()).unwrap().version().unwrap_err();
    assert!(
        matches!(err, StoreError::Untrusted { .. }),
        "a self-signed certificate is not in the system's roots: {err:?}"
    );
    let plain = Client::remote(Remote::new(&served.url.replacen("https", "http", 1)).unwrap().token(&served.token));
    assert!(plain.unwrap().version().is_err(), "plain HTTP to a TLS listener does not work");
}

/// `POST /eval` from a remote client, over TCP and over TLS: a value, a
/// list stream, Nushell's error, and a stop that cuts a script which
/// never answers (the owner interrupts it: its appends end).
#[test]
fn eval_runs_in_the_owner_over_tcp_and_tls() {
    let tcp = tcp();
    let tls = serve("https://127.0.0.1:0", Some(Tls::SelfSigned));
    let pin: Fingerprint = tls.server.fingerprint().unwrap().parse().unwrap();
    let tls_client =
        Client::remote(Remote::new(&tls.url).unwrap().token(&tls.token).trust(Trust::Fingerprint(pin))).unwrap();
    for (served, client) in [(&tcp, tcp.client()), (&tls, tls_client)] {
        let never: Stop = Arc::new(|| false);
        let Evaluated::Value(value) = client.eval("'hi' | xs append note | get topic", never.clone()).unwrap() else {
            panic!("one value")
        };
        assert_eq!((value, served.store.last("note", 5).unwrap().len()), (serde_json::json!("note"), 1));
        let Evaluated::Lines(lines) = client.eval("1..3 | each {|n| $n * 10}", never.clone()).unwrap() else {
            panic!("a list stream")
        };
        let lines: Vec<_> = lines.collect::<Result<_, _>>().unwrap();
        assert_eq!(lines, [serde_json::json!(10), serde_json::json!(20), serde_json::json!(30)]);
        let err = client.eval("error make {msg: 'boom afar'}", never.clone()).err().expect("a script error");
        assert!(matches!(&err, StoreError::Script { message } if message.contains("boom afar")), "{err:?}");

        // A script that never answers, stopped by its caller once it ran.
        let store = served.store.clone();
        let ran = move || store.last("tick", 1).is_ok_and(|f| !f.is_empty());
        let stop: Stop = Arc::new(ran);
        let err = client.eval("loop { xs append tick | ignore; sleep 20ms }", stop).err().expect("stopped");
        assert!(err.to_string().contains("stopped"), "{err}");
        let ticks = || served.store.last("tick", usize::MAX).unwrap().len();
        let deadline = std::time::Instant::now() + crate::common::PATIENCE;
        loop {
            let before = ticks();
            std::thread::sleep(Duration::from_millis(300));
            if ticks() == before {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the owner kept running the script");
        }
    }
    let anonymous = Client::remote(Remote::new(&tcp.url).unwrap()).unwrap();
    let err = anonymous.eval("1", Arc::new(|| false)).err().expect("refused");
    assert!(matches!(err, StoreError::Unauthorized { .. }), "{err:?}");
}
