//! `xs replica` in a real `nu`: it follows what a mirror publishes (here
//! xs-core's mirror stand-in, against a real nats-server) until Ctrl-C,
//! other shells read the copy while it follows and cannot append to it,
//! and `--promote` makes it a normal store.

use std::{process::Command, time::Instant};

use serde_json::{Value, json};
use xs_core::{Frame, Store};

use crate::{
    common::{DEADLINE, Shell},
    nats_server,
};

#[path = "../../../xs-core/tests/it/nats/publish.rs"]
mod publish;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// Runs `script` in `shell` until its JSON equals `want`, within DEADLINE.
fn await_json(shell: &Shell, script: &str, want: &Value) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let out = shell.run(&format!("{script} | to json -r"));
        let got: Option<Value> = serde_json::from_slice(&out.stdout).ok();
        if got.as_ref() == Some(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "`{script}` never gave {want}; last {got:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn xs_replica_follows_until_ctrl_c_refuses_appends_and_promotes() {
    let nats = nats_server::NatsServer::start();
    nats.wait_ready();
    let rt = runtime();
    let source = Shell::new();
    source.run(r#""hello" | xs append clip.add --meta {app: ed} | ignore; xs append note --ttl last:3 | ignore"#);
    let want = source.frames();
    let store = Store::new(source.store()).expect("the source store");
    let publisher = rt.block_on(publish::Publisher::new(&nats.url(), "XS", &["desk1"], "desk1"));
    let last = rt.block_on(publisher.publish_after(&store, None));

    let copy = Shell::new();
    let replica = copy.spawn(&format!("xs replica --url {} --subject-prefix desk1", nats.url()));
    let deadline = Instant::now() + DEADLINE;
    while !copy.store().join("sock").exists() {
        assert!(Instant::now() < deadline, "xs replica never served its store");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    await_json(&copy, "xs cat", &want);
    assert_eq!(copy.json("xs cat | where hash != null | each {|f| xs cas $f.hash }"), json!(["hello"]));
    // Live: a frame published now arrives.
    store.append(Frame::builder("live").build()).expect("append");
    rt.block_on(publisher.publish_after(&store, last));
    let want = serde_json::to_value(store.reader(Default::default()).unwrap().map(|f| f.unwrap()).collect::<Vec<_>>())
        .unwrap();
    await_json(&copy, "xs cat | select topic id", &project(&want));
    let refused = copy.fails("xs append mine");
    assert!(refused.contains("read-only replica") && refused.contains("promote"), "{refused}");
    assert!(copy.fails("xs replica --promote").contains("owned by another process"));

    assert!(Command::new("kill").args(["-INT", &replica.pid().to_string()]).status().unwrap().success());
    let out = replica.wait(DEADLINE);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("replica started") && log.contains("server stopped"), "xs replica ends on Ctrl-C: {log}");
    assert!(!log.contains("NATS:") && !log.contains("panicked"), "and not with an error of its own: {log}");
    assert!(copy.fails("xs append mine").contains("read-only replica"), "still a replica once stopped");
    assert_eq!(copy.json("xs replica --promote"), json!({"promoted": true}));
    assert_eq!(copy.json("xs append mine | get topic"), json!("mine"));
}

/// `{topic, id}` of each frame in `frames`.
fn project(frames: &Value) -> Value {
    frames.as_array().unwrap().iter().map(|f| json!({"topic": f["topic"], "id": f["id"]})).collect()
}

#[test]
fn xs_replica_reports_a_wrong_url() {
    let copy = Shell::new();
    let url = format!("nats://127.0.0.1:{}", nats_server::free_port());
    let e = copy.fails(&format!("xs replica --url {url}"));
    assert!(e.contains("cannot connect") && e.contains(&url), "{e}");
}
