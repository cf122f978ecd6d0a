//! A mirror that cannot publish says why, in its `.restarting` frame and
//! in the processor's report, retries with backoff, and never takes the
//! owner down: a wrong URL, refused credentials, a missing permission, a
//! config that cannot run.

use serde_json::json;
use xs_core::{Frame, script_state::State};

use super::{
    jetstream::register_mirror,
    mirror::mirror_state,
    server::{NatsServer, free_port},
};
use crate::processor::common::{Owner, append_with, meta_str, wait_for};

/// The first `.restarting` frame of mirror `name` whose attempt is at least `attempt`.
fn restarting(owner: &Owner, name: &str, attempt: u64) -> Frame {
    let topic = format!("xs.mirror.{name}.restarting");
    wait_for(&owner.store, &topic, None, |f| {
        f.meta.as_ref().and_then(|m| m.get("attempt")).and_then(serde_json::Value::as_u64) >= Some(attempt)
    })
}

/// Its error, after checking the owner lives on and reports it.
fn error_of(owner: &Owner, name: &str) -> String {
    let frame = restarting(owner, name, 1);
    let error = meta_str(&frame, "error").expect("the frame has an error");
    eprintln!("{name}: {error}");
    let state = mirror_state(&owner.processor.as_ref().unwrap().states(), name).expect("reported");
    assert_eq!(state.state, State::Active, "the mirror keeps retrying");
    assert_eq!(state.mirror.and_then(|m| m.error).as_deref(), Some(error.as_str()), "the report has the error");
    append_with(&owner.store, "still.alive", "yes");
    error
}

/// A creds file holding `text`, in the owner's directory.
fn creds(owner: &Owner, text: &str) -> String {
    let path = owner.dir.path().join("user.creds");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const USERS: &str = r#"authorization { users: [
  {user: mirror, password: right}
  {user: bounded, password: right, permissions: {publish: {deny: ["$JS.API.STREAM.CREATE.>"]}}}
] }"#;

#[test]
fn a_wrong_url_is_an_error_frame_and_retried() {
    let owner = Owner::start();
    let url = format!("nats://127.0.0.1:{}", free_port());
    register_mirror(&owner.store, "lost", json!({"url": url}));
    let error = error_of(&owner, "lost");
    assert!(error.contains(&format!("connecting to {url}")), "{error}");
    let again = restarting(&owner, "lost", 2);
    assert!(meta_str(&again, "delay_ms").is_none(), "delay_ms is a number");
    assert_eq!(again.meta.as_ref().unwrap()["delay_ms"], 2000, "the second delay doubles, as a generator's");
}

#[test]
fn wrong_credentials_are_an_error_frame_without_the_secret() {
    let nats = NatsServer::with_config(USERS);
    nats.wait_ready();
    let owner = Owner::start();
    let creds = creds(&owner, "mirror:sesame-wrong\n");
    register_mirror(&owner.store, "denied", json!({"url": nats.url(), "creds": creds}));
    let error = error_of(&owner, "denied");
    assert!(error.to_lowercase().contains("authorization"), "{error}");
    let everything = crate::common::read_all(&owner.store, xs_core::ReadOptions::default());
    let text = format!("{everything:?}");
    assert!(!text.contains("sesame"), "the password is in no frame");
}

#[test]
fn a_missing_stream_permission_is_an_error_frame() {
    let nats = NatsServer::with_config(USERS);
    nats.wait_ready();
    let owner = Owner::start();
    let creds = creds(&owner, "bounded:right\n");
    register_mirror(&owner.store, "bounded", json!({"url": nats.url(), "creds": creds}));
    let error = error_of(&owner, "bounded");
    assert!(error.contains("creating the stream XS"), "{error}");
    assert!(error.contains("Permissions Violation"), "the server's reason is given: {error}");
}

#[test]
fn a_config_that_cannot_run_is_invalid_and_nothing_runs() {
    let owner = Owner::start();
    let register = register_mirror(&owner.store, "bad", json!({"url": "nats://user:pw@127.0.0.1:4222"}));
    let invalid = wait_for(&owner.store, "xs.mirror.bad.invalid", None, |f| {
        meta_str(f, "mirror_id") == Some(register.id.to_string())
    });
    let error = meta_str(&invalid, "error").unwrap();
    assert!(error.contains("creds"), "{error}");
    let state = mirror_state(&owner.processor.as_ref().unwrap().states(), "bad").unwrap();
    assert_eq!(state.state, State::Invalid);
}
