//! `xs serve --listen`, the plugin config's `listen`, the token in
//! `xs status` and `xs token rotate`, through the real `nu`: requests on
//! the extra listener are raw HTTP from the test, as any other client's.

use std::{
    io::{Read, Write},
    os::unix::net::UnixStream,
    path::Path,
    process::Command,
};

use serde_json::json;

use crate::{
    common::{DEADLINE, Shell},
    status::wait_for,
};

/// The status of `GET /version` on the unix listener `path`, with `token`.
fn version_status(path: &Path, token: Option<&str>) -> u16 {
    let mut stream = UnixStream::connect(path).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let credentials = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
    stream.write_all(format!("GET /version HTTP/1.0\r\n{credentials}\r\n").as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status: {answer:?}"))
}

fn token(shell: &Shell) -> String {
    shell.json("xs status | get token").as_str().unwrap().to_string()
}

#[test]
fn serve_listens_with_the_token_and_rotation_replaces_it() {
    let shell = Shell::new();
    let other = shell.dir.path().join("other.sock");
    let server = shell.spawn(&format!("$env.XS_LOG = 'info'; xs serve --listen unix://{}", other.display()));
    wait_for(&other);
    let old = token(&shell);
    assert_eq!(old.len(), 64);
    assert_eq!(shell.json("xs token"), json!(old), "xs token shows what xs status shows");
    assert_eq!(version_status(&other, Some(&old)), 200);
    assert_eq!(version_status(&other, None), 401);

    let new = shell.json("xs token rotate").as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(token(&shell), new);
    assert_eq!(version_status(&other, Some(&old)), 401, "the old token is refused");
    assert_eq!(version_status(&other, Some(&new)), 200);

    assert!(Command::new("kill").args(["-INT", &server.pid().to_string()]).status().unwrap().success());
    let log = String::from_utf8_lossy(&server.wait(DEADLINE).stderr).into_owned();
    assert!(log.contains("listening") && log.contains(&other.display().to_string()), "{log}");
    assert!(!other.exists(), "the listener's socket goes with the owner");
}

#[test]
fn serve_with_a_self_signed_certificate_logs_its_fingerprint() {
    let shell = Shell::new();
    let server = shell.spawn("$env.XS_LOG = 'info'; xs serve --listen https://127.0.0.1:0 --self-signed");
    wait_for(&shell.store().join("sock"));
    assert_eq!(shell.json("xs status | get role"), json!("client"), "the server answers: it has logged its listeners");
    assert!(shell.store().join("tls/cert.pem").exists() && shell.store().join("tls/key.pem").exists());
    assert!(Command::new("kill").args(["-INT", &server.pid().to_string()]).status().unwrap().success());
    let log = String::from_utf8_lossy(&server.wait(DEADLINE).stderr).into_owned();
    assert!(log.contains("listening (TLS)") && log.contains("fingerprint"), "{log}");
}

#[test]
fn serve_refuses_no_auth_off_loopback_and_https_without_a_certificate() {
    let shell = Shell::new();
    let exposed = shell.fails("xs serve --listen tcp://0.0.0.0:0 --no-auth");
    assert!(exposed.contains("reachable from other machines") && exposed.contains("--no-auth"), "{exposed}");
    let bare = shell.fails("xs serve --listen https://127.0.0.1:0");
    assert!(bare.contains("--self-signed"), "{bare}");
    let malformed = shell.fails("xs serve --listen [tcp://127.0.0.1:0 ftp://x:1]");
    assert!(malformed.contains("invalid listener") && malformed.contains("ftp://x:1"), "{malformed}");
    let half = shell.fails("xs serve --listen https://127.0.0.1:0 --cert c.pem");
    assert!(half.contains("--key"), "{half}");
}

#[test]
fn an_owning_shell_serves_the_configured_listeners() {
    let shell = Shell::new();
    let other = shell.dir.path().join("configured.sock");
    let mut owner = shell.spawn(&format!(
        "$env.config.plugins = {{xs: {{listen: ['unix://{}']}}}}; xs append a | ignore; print ready; sleep 1min",
        other.display()
    ));
    assert_eq!(owner.line(DEADLINE), "ready");
    let status = shell.json("xs status");
    assert_eq!(status["role"], "client", "the configured shell owns the store");
    assert_eq!(version_status(&other, status["token"].as_str()), 200);
    assert_eq!(version_status(&other, None), 401);
    drop(owner);
}
