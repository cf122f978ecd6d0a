//! Remote stores from the shell: `--store http://host:port` (or
//! `$env.XS_STORE`), the token from `--token`, `$env.XS_TOKEN` or the
//! plugin config, a clear error for a wrong token, an unreachable store and
//! `xs serve`, and a follow that resumes when its remote owner restarts.
//! (Every other command is checked remotely by the `tcp` half of each
//! `both_ways!` test.)

use std::time::Duration;

use serde_json::json;
use xs_core::Frame;

use crate::common::{DEADLINE, Shell};

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn status_of_a_remote_store() {
    let shell = Shell::tcp();
    let status = shell.json("xs append a | ignore; xs status");
    assert_eq!(status["store"], json!(shell.url()));
    assert_eq!(status["role"], "client");
    assert_eq!(status["owner_pid"], json!(std::process::id()), "this test process serves it");
    assert_eq!(status["frames"], 1);
}

#[test]
fn the_token_comes_from_the_flag_the_env_or_the_config() {
    let shell = Shell::tcp();
    let token = shell.token().unwrap();
    for setup in ["hide-env XS_TOKEN", "$env.XS_TOKEN = 'wrong'"] {
        let stderr = shell.fails(&format!("{setup}; xs append x"));
        assert!(stderr.contains("unauthorized: wrong or missing token"), "{setup}: {stderr}");
    }
    let flagged = shell.json(&format!("hide-env XS_TOKEN; xs append flag --token {token} | get topic"));
    assert_eq!(flagged, json!("flag"));
    let configured =
        shell.json(&format!("hide-env XS_TOKEN; $env.config.plugins = {{xs: {{token: '{token}'}}}}; xs append cfg"));
    assert_eq!(configured["topic"], "cfg");
    assert_eq!(shell.frames().as_array().unwrap().len(), 2, "the refused appends stored nothing");
}

#[test]
fn store_takes_a_url_quoted_or_not() {
    let shell = Shell::tcp();
    let url = shell.url().unwrap().to_string();
    shell.json("xs append a");
    // Unquoted, Nushell expands the URL as a path (`http:/127…`); it still means the URL.
    for store in [url.clone(), format!("'{url}'")] {
        let topics = shell.json(&format!("hide-env XS_STORE; xs cat --store {store} | get topic"));
        assert_eq!(topics, json!(["a"]), "--store {store}");
    }
    assert!(!shell.dir.path().join("http:").exists(), "no directory named after the URL");
}

#[test]
fn an_unreachable_store_says_so_and_is_not_created() {
    let shell = Shell::new();
    let url = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let stderr = shell.fails(&format!("xs append x --store '{url}'"));
    assert!(stderr.contains("cannot reach the store at") && stderr.contains(&url), "{stderr}");
    let entries = std::fs::read_dir(shell.dir.path()).unwrap().count();
    assert_eq!(entries, 0, "nothing was opened or created locally");
}

#[test]
fn serve_refuses_a_remote_store() {
    let shell = Shell::tcp();
    let stderr = shell.fails("xs serve");
    assert!(stderr.contains("is a remote store"), "{stderr}");
}

/// The owner (this process) stops while a `nu` follows over TCP; a frame
/// is appended while nobody serves; a new owner serves the same port. The
/// follow gets every frame once, in order.
#[test]
fn a_follow_resumes_after_its_remote_owner_restarts() {
    let mut shell = Shell::tcp();
    let mut follower = shell.spawn("xs cat -f -T clip | each {|f| print ($f | to json -r); $f } | first 3 | ignore");
    let a = shell.json(r#""a" | xs append clip"#);
    assert_eq!(follower.json_line(WAIT), a);
    let mut offline = None;
    shell.restart_owner(|store| offline = Some(store.append(Frame::builder("clip").build()).unwrap()));
    let c = shell.json(r#""c" | xs append clip"#);
    let b = follower.json_line(WAIT);
    assert_eq!((b["id"].as_str(), b["topic"].as_str()), (Some(offline.unwrap().id.to_string().as_str()), Some("clip")));
    assert_eq!(follower.json_line(WAIT), c);
    assert!(follower.wait(DEADLINE).status.success());
}

/// A store served over TLS with a self-signed certificate: a `nu` trusts
/// it by its fingerprint (`XS_FINGERPRINT`) or by the certificate as a CA
/// file (`XS_CA`), and refuses it with neither or with a wrong pin,
/// storing nothing.
#[test]
fn a_tls_store_is_trusted_by_fingerprint_or_ca_and_nothing_else() {
    let shell = Shell::tls();
    assert!(shell.url().unwrap().starts_with("https://"));
    assert_eq!(shell.json("'secret' | xs append note | get hash | xs cas"), json!("secret"));
    assert_eq!(shell.json("xs cat -f | first 1 | get topic"), json!(["note"]));
    assert_eq!(shell.json("xs eval '1 + 1'"), json!(2));
    let cert = shell.store().join("tls/cert.pem");
    let by_ca = format!("hide-env XS_FINGERPRINT; $env.XS_CA = '{}'; xs last note | get topic", cert.display());
    assert_eq!(shell.json(&by_ca), json!("note"));
    let stderr = shell.fails("hide-env XS_FINGERPRINT; xs append x");
    assert!(stderr.contains("is not trusted"), "the system's roots do not have it: {stderr}");
    let pin = shell.json("$env.XS_FINGERPRINT").as_str().unwrap().to_string();
    let wrong: String = pin.chars().rev().collect();
    let stderr = shell.fails(&format!("$env.XS_FINGERPRINT = '{wrong}'; xs append x"));
    assert!(stderr.contains("is not trusted"), "a wrong pin: {stderr}");
    assert_eq!(shell.json("xs cat | length"), json!(1), "the refused appends stored nothing");
}
