//! `xs mirror add` and `xs mirror list` (and the mirrors of `xs status`)
//! against a real `nats-server` with JetStream (xs-core's test harness).

use serde_json::json;

use crate::{common::Shell, nats_server::NatsServer};

#[test]
fn mirror_add_publishes_and_list_reports_it_caught_up() {
    let nats = NatsServer::start();
    nats.wait_ready();
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
