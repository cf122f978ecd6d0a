//! `POST /eval`: scripts run by the owner's processor, through the real
//! socket, both as cross-stream's CLI asks (raw HTTP, `Accept: */*`) and
//! through [`Client::eval`].

use std::{
    io::Read,
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::json;
use xs_core::{
    StoreError,
    client::{Client, Evaluated, Stop},
    server::ServeOptions,
};

use crate::{
    common::PATIENCE,
    processor::common::{append_with, frames, payload},
    server::{Served, http, serve, serve_with},
};

fn never() -> Stop {
    Arc::new(|| false)
}

fn eval(served: &Served, script: &str) -> xs_core::Result<Evaluated> {
    Client::new(served.dir.path()).eval(script, never())
}

/// cross-stream's CLI: `POST /eval` with the script as the body, `Accept: */*`.
fn cli(served: &Served, script: &str) -> crate::server::Answer {
    http(&served.socket(), "POST /eval\naccept: */*\r\n", script.as_bytes())
}

#[test]
fn a_script_uses_the_store_commands() {
    let served = serve();
    let script = r#""hi" | xs append note --meta {n: 1} | ignore; xs last note | get hash | xs cas"#;
    let Evaluated::Value(value) = eval(&served, script).unwrap() else { panic!("one value") };
    assert_eq!(value, json!("hi"));
    let stored = frames(&served.store, "note");
    assert_eq!(stored.len(), 1, "the append is durable in the owner's store");
    assert_eq!((payload(&served.store, &stored[0]), stored[0].meta.clone()), ("hi".into(), Some(json!({"n": 1}))));
    let Evaluated::Lines(lines) = eval(&served, "xs cat -T note | get topic").unwrap() else { panic!("a stream") };
    assert_eq!(lines.collect::<Result<Vec<_>, _>>().unwrap(), [json!("note")]);
}

#[test]
fn a_list_stream_is_ndjson_as_it_comes() {
    let served = serve();
    let answer = cli(&served, "1..3 | each {|n| {n: $n}}");
    assert_eq!((answer.status, answer.content_type.as_str()), (200, "application/x-ndjson"));
    assert_eq!(answer.lines(), [json!({"n": 1}), json!({"n": 2}), json!({"n": 3})]);
    // An endless stream: the first lines come while the script still runs.
    let Evaluated::Lines(mut lines) = eval(&served, "1.. | each {|n| $n}").unwrap() else { panic!("a stream") };
    let first: Vec<_> = lines.by_ref().take(3).map(Result::unwrap).collect();
    assert_eq!(first, [json!(1), json!(2), json!(3)]);
}

#[test]
fn single_values_are_text_for_the_cli_and_json_for_the_client() {
    let served = serve();
    let text = cli(&served, r#""hello""#);
    assert_eq!(
        (text.status, text.content_type.as_str(), text.text().as_str()),
        (200, "text/plain; charset=utf-8", "hello")
    );
    assert_eq!(cli(&served, "2 + 3").text(), "5");
    let record = cli(&served, "{a: [1 true]}");
    assert_eq!((record.content_type.as_str(), record.json()), ("application/json", json!({"a": [1, true]})));
    assert_eq!(cli(&served, "null | ignore").status, 204);
    let Evaluated::Value(five) = eval(&served, "2 + 3").unwrap() else { panic!("one value") };
    assert_eq!(five, json!(5), "an int stays an int for xs's client");
    assert!(matches!(eval(&served, "null | ignore").unwrap(), Evaluated::Nothing));
}

#[test]
fn bytes_come_back_as_bytes() {
    let served = serve();
    let binary = cli(&served, "0x[00 ff 10]");
    assert_eq!((binary.content_type.as_str(), binary.body.as_slice()), ("application/octet-stream", &[0, 255, 16][..]));
    let Evaluated::Bytes(mut bytes) = eval(&served, "^printf 'a\\nb'").unwrap() else { panic!("bytes") };
    let mut out = Vec::new();
    bytes.read_to_end(&mut out).unwrap();
    assert_eq!(out, b"a\nb", "an external's stdout, streamed");
}

#[test]
fn a_script_error_is_422_with_nushells_message() {
    let served = serve();
    let failed = cli(&served, r#"error make {msg: "boom"}"#);
    assert_eq!(failed.status, 422);
    assert!(failed.text().contains("boom"), "{}", failed.text());
    match eval(&served, "let x = ") {
        Err(StoreError::Script { message }) => assert!(message.contains("eval"), "names the script: {message}"),
        other => panic!("expected a script error, got {:?}", other.map(|_| ())),
    }
    let first_item = cli(&served, r#"[1 2] | each {|n| error make {msg: $"bad ($n)"}}"#);
    assert_eq!(first_item.status, 422, "a stream failing on its first item is an error answer");
    assert!(first_item.text().contains("bad 1"), "{}", first_item.text());
}

#[test]
fn a_script_uses_the_streams_modules() {
    let served = serve();
    append_with(&served.store, "xs.module.greet", "export def main [name: string] { $'hi ($name)' }");
    let Evaluated::Value(value) = eval(&served, "use greet; greet bob").unwrap() else { panic!("one value") };
    assert_eq!(value, json!("hi bob"));
    // An empty version removes the module.
    served.store.append(xs_core::Frame::builder("xs.module.greet").build()).unwrap();
    assert!(matches!(eval(&served, "use greet; greet bob"), Err(StoreError::Script { .. })));
}

#[test]
fn without_a_processor_eval_is_501() {
    let served = serve_with(ServeOptions::builder().processor(false).build());
    assert_eq!(cli(&served, "1").status, 501);
    match eval(&served, "1") {
        Err(StoreError::Remote { status: 501, message }) => assert!(message.contains("no processor"), "{message}"),
        other => panic!("expected 501, got {:?}", other.map(|_| ())),
    }
}

/// A script that never answers (it loops, appending ticks): stopping the
/// client closes its connection, and the owner interrupts the script.
#[test]
fn a_client_that_stops_ends_the_script() {
    let served = serve();
    let store = served.store.clone();
    let stop: Stop = Arc::new(move || frames(&store, "tick").len() >= 3);
    let started = Instant::now();
    let result = Client::new(served.dir.path()).eval("loop { xs append tick | ignore; sleep 20ms }", stop);
    assert!(matches!(result, Err(StoreError::Io(_))), "stopped before any answer");
    assert!(started.elapsed() < PATIENCE);
    // The ticks stop: two counts 300 ms apart agree (bounded by PATIENCE).
    let deadline = Instant::now() + PATIENCE;
    loop {
        let before = frames(&served.store, "tick").len();
        std::thread::sleep(Duration::from_millis(300));
        if frames(&served.store, "tick").len() == before {
            break;
        }
        assert!(Instant::now() < deadline, "the script kept running after its client went");
    }
}
