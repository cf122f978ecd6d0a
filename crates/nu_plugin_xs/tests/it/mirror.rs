//! `xs mirror add` and `xs mirror list` (and the mirrors of `xs status`)
//! against a real `nats-server` with JetStream, started here.

use std::{
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;

use crate::common::Shell;

/// A `nats-server -js` on a free loopback port, killed when dropped.
struct Nats {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Nats {
    fn start() -> Nats {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(binary())
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Nats { child, port, _dir: dir }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `$XS_NATS_SERVER`, else what scripts/get-nats-server installs.
fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("XS_NATS_SERVER") {
        return path.into();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/get-nats-server");
    let out = Command::new(script).output().expect("scripts/get-nats-server runs");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

#[test]
fn mirror_add_publishes_and_list_reports_it_caught_up() {
    let nats = Nats::start();
    let shell = Shell::new();
    let url = nats.url();
    let list = shell.json(&format!(
        "let r = (xs mirror add out --url {url} --topics [note]); \
         let last = ('hi' | xs append note); 'there' | xs append note | ignore; xs append other | ignore; \
         let last = (xs last note).id; \
         mut seen = []; \
         for _ in 1..200 {{ $seen = (xs mirror list); if ($seen | get 0?.position?) == $last {{ break }}; sleep 100ms }}; \
         {{register: $r.topic, list: $seen, status: ((xs status).mirrors | select name state), last: $last}}"
    ));
    assert_eq!(list["register"], "xs.mirror.out.register");
    let mirror = &list["list"][0];
    assert_eq!((&mirror["name"], &mirror["state"]), (&json!("out"), &json!("active")), "{list}");
    assert_eq!(mirror["position"], list["last"], "the mirror published up to the last note: {list}");
    assert_eq!((&mirror["lag"], &mirror["error"]), (&json!(0), &json!(null)));
    assert_eq!(list["status"], json!([{"name": "out", "state": "active"}]));
}

#[test]
fn mirror_add_refuses_a_config_that_cannot_run() {
    let shell = Shell::new();
    let error = shell.fails("xs mirror add out --url nats://user:secret@127.0.0.1:4222");
    assert!(error.contains("invalid mirror config") && error.contains("creds"), "{error}");
    let error = shell.fails("xs mirror add out --url nats://127.0.0.1:4222 --retention forever");
    assert!(error.contains("retention"), "{error}");
    assert_eq!(shell.json("xs cat | length"), json!(0), "nothing was registered");
}
