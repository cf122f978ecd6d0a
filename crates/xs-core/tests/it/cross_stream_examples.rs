//! cross-stream's documented actor and service examples, run as xs
//! handlers and generators (issue 14: scripts written for cross-stream run
//! unchanged apart from the registration topic).
//!
//! Each test is named after the page it comes from (cross-stream's
//! `docs/src/content/docs/<section>/<page>.mdx`). The scripts are the
//! pages' text, verbatim; a cross-stream `xs.actor.<name>.create` is
//! appended here as `xs.handler.<name>.register`, and
//! `xs.service.<name>.create` as `xs.generator.<name>.spawn`. The inputs
//! are the page's, and the assertions are the output the page shows.
//! Where a page's service tails a file (`/tmp/log.txt`, `http.log`,
//! `access.log`, `data.log`), the path is a temporary file's, so that tests
//! running at once cannot share it; nothing else in a script changes.
//! Where a page leaves a module out, the test writes a small one.

use serde_json::json;
use xs_core::{FollowOption, Frame, ReadOptions, Store};

use crate::{
    common::append,
    processor::{
        common::{Owner, append_meta, append_with, frames, lifecycle, meta_str, payload, register, wait_for},
        generator::{event, recv, spawn, spawn_active, write_line},
    },
};

/// Registers `script` as handler `name` and waits until it is active.
fn active(store: &Store, name: &str, script: &str) -> Frame {
    let reg = register(store, name, script);
    lifecycle(store, name, "active", reg.id);
    reg
}

/// The first frame on `topic` that the handler wrote for the input `input`.
fn output_for(store: &Store, topic: &str, input: &Frame) -> Frame {
    wait_for(store, topic, None, |f| meta_str(f, "frame_id") == Some(input.id.to_string()))
}

/// `meta.<key>` of `frame`.
fn meta(frame: &Frame, key: &str) -> serde_json::Value {
    frame.meta.as_ref().map(|m| m[key].clone()).unwrap_or_default()
}

/// A follow of `topic` after `after`.
fn follow(topic: &str, after: Option<xs_core::id::Scru128Id>) -> ReadOptions {
    ReadOptions { follow: FollowOption::On, after, topic: Some(topic.into()), ..ReadOptions::default() }
}

/// The next frame of a following `reader` that is not `xs.threshold`.
fn next_frame(reader: &mut xs_core::Reader) -> Frame {
    loop {
        let frame = crate::common::take(reader, 1).pop().expect("a frame");
        if frame.topic != xs_core::store::THRESHOLD {
            return frame;
        }
    }
}

/// Waits until the TTL keeps `n` frames on `topic` (a `last:n` trim
/// follows the append that makes it due).
fn kept(store: &Store, topic: &str, n: usize) {
    crate::common::wait_until(&format!("{n} frames kept on {topic}"), || frames(store, topic).len() == n);
}

/// `script` with the path `from` replaced by `to` (see the module docs).
fn at(script: &str, from: &str, to: &std::path::Path) -> String {
    script.replace(from, to.to_str().expect("a UTF-8 path"))
}

// tutorials/actor-state.mdx

const REVENUE: &str = r#"{
  run: {|frame, sum = 0|
    if $frame.topic != "sale" { return {next: $sum} }
    let sum = $sum + ($frame.meta.amount | into float)
    {out: {total: $sum}, next: $sum}
  }
  return_options: { suffix: ".total", ttl: "last:1" }
}"#;

/// The revenue actor: its state starts as the parameter default `0` (an
/// int) and becomes a float at the first sale; three sales give 70.48, the
/// `last:1` TTL keeps one total, and a frame on another topic emits nothing.
#[test]
fn tutorials_actor_state() {
    let owner = Owner::start();
    let store = &owner.store;
    active(store, "revenue", REVENUE);
    for amount in [49.99, 12.50, 7.99] {
        append_meta(store, "sale", json!({"amount": amount}));
    }
    let total = wait_for(store, "revenue.total", None, |f| meta(f, "total").as_f64().is_some_and(|t| t > 70.0));
    assert!((meta(&total, "total").as_f64().unwrap() - 70.48).abs() < 1e-9, "{total:?}");
    kept(store, "revenue.total", 1);

    // `.append heartbeat`: the state carries on, nothing is emitted. A
    // sale of 0 afterwards shows both: its total is the first one after
    // the heartbeat, and still 70.48.
    let mut reader = store.reader(follow("revenue.total", Some(total.id))).unwrap();
    let heartbeat = append(store, "heartbeat");
    let probe = append_meta(store, "sale", json!({"amount": 0}));
    let next = next_frame(&mut reader);
    assert_eq!(meta_str(&next, "frame_id"), Some(probe.id.to_string()), "no total for {heartbeat:?}");
    assert!((meta(&next, "total").as_f64().unwrap() - 70.48).abs() < 1e-9, "{next:?}");
}

/// The same actor keeps its float state across an owner restart: the
/// stored state is not held to the default's type either.
#[test]
fn tutorials_actor_state_across_a_restart() {
    let owner = Owner::start();
    active(&owner.store, "revenue", REVENUE);
    let first = append_meta(&owner.store, "sale", json!({"amount": 49.99}));
    output_for(&owner.store, "revenue.total", &first);
    let owner = Owner::reopen(owner.stop());
    let second = append_meta(&owner.store, "sale", json!({"amount": 12.50}));
    let total = output_for(&owner.store, "revenue.total", &second);
    assert!((meta(&total, "total").as_f64().unwrap() - 62.49).abs() < 1e-9, "{total:?}");
}

// reference/actors.mdx

/// The first example: `ping` gets `{reply: "pong"}` on `echo.out`, other
/// topics nothing.
#[test]
fn reference_actors_ping() {
    let owner = Owner::start();
    let store = &owner.store;
    let reg = active(
        store,
        "echo",
        r#"{
  run: {|frame, state|
    if $frame.topic == "ping" {
      {out: {reply: "pong"}, next: $state}
    } else {
      {next: $state}
    }
  }
}"#,
    );
    let other = append(store, "pong");
    let ping = append(store, "ping");
    let out = output_for(store, "echo.out", &ping);
    assert_eq!(meta(&out, "reply"), "pong");
    assert_eq!(meta_str(&out, "handler_id"), Some(reg.id.to_string()));
    assert!(frames(store, "echo.out").iter().all(|f| meta_str(f, "frame_id") != Some(other.id.to_string())));
}

/// "Registering": every option at once (start, a 1000 ms pulse, topics,
/// suffix and TTL): the reply lands on `echo.response`, one kept.
#[test]
fn reference_actors_registering() {
    let owner = Owner::start();
    let store = &owner.store;
    active(
        store,
        "echo",
        r#"{
  # Required: Actor closure (frame, state) -> {out?, next?}
  run: {|frame, state|
    if $frame.topic == "ping" {
      {out: {reply: "pong"}, next: $state}
    } else {
      {next: $state}
    }
  }

  # Optional: Where to start processing from
  # "new" (default), "first", or scru128 ID
  start: "new"

  # Optional: Heartbeat interval in ms
  pulse: 1000

  # Optional: a topic filter (see Read Options). Omit to receive every
  # frame. The actor's own lifecycle frames and synthetic xs.pulse /
  # xs.threshold are always delivered regardless of the filter.
  topics: ["ping"]

  # Optional: Control output frame behavior
  return_options: {
    suffix: ".response" # Output topic suffix
    ttl: "last:1" # Keep only most recent frame
  }
}"#,
    );
    let first = append(store, "ping");
    output_for(store, "echo.response", &first);
    let second = append(store, "ping");
    let out = output_for(store, "echo.response", &second);
    assert_eq!(meta(&out, "reply"), "pong");
    kept(store, "echo.response", 1);
}

/// "Modules": `use my-math` inside `run`. The page does not show the
/// module; here `double` doubles.
#[test]
fn reference_actors_modules() {
    let owner = Owner::start();
    let store = &owner.store;
    append_with(store, "xs.module.my-math", "export def double [n: int] { $n * 2 }");
    active(
        store,
        "processor",
        r#"{
  run: {|frame, state|
    use my-math
    {out: {result: (my-math double 8)}, next: $state}
  }
}"#,
    );
    let input = append(store, "anything");
    assert_eq!(meta(&output_for(store, "processor.out", &input), "result"), 16);
}

/// "State": a counter from `initial: 0`.
#[test]
fn reference_actors_state() {
    let owner = Owner::start();
    let store = &owner.store;
    active(
        store,
        "counter",
        r#"{
  run: {|frame, state|
    let count = $state + 1
    {out: {count: $count}, next: $count}
  }
  initial: 0
}"#,
    );
    let inputs: Vec<_> = (0..3).map(|_| append(store, "tick")).collect();
    let counts: Vec<_> = inputs.iter().map(|i| meta(&output_for(store, "counter.out", i), "count")).collect();
    assert_eq!(counts, [1, 2, 3]);
}

/// "Output", explicit appends: `.append` inside `run` writes frames on
/// any topic, tagged with the handler and the frame that caused them.
#[test]
fn reference_actors_output() {
    let owner = Owner::start();
    let store = &owner.store;
    let reg = active(
        store,
        "audit",
        r#"{run: {|frame, state|
  if $frame.topic == "ping" {
    "pong" | .append response.topic --meta { "type": "response" }
    "logged" | .append audit.topic
    {next: $state}
  } else {
    {next: $state}
  }
}}"#,
    );
    let ping = append(store, "ping");
    let response = output_for(store, "response.topic", &ping);
    assert_eq!((payload(store, &response).as_str(), meta(&response, "type")), ("pong", json!("response")));
    assert_eq!(meta_str(&response, "handler_id"), Some(reg.id.to_string()));
    assert_eq!(payload(store, &output_for(store, "audit.topic", &ping)), "logged");
}

// reference/topics.mdx

/// "Module Topics": the greeter uses `mymod`, registered as the page does.
#[test]
fn reference_topics_module_greeter() {
    let owner = Owner::start();
    let store = &owner.store;
    append_with(store, "xs.module.mymod", r#"export def greet [name: string] { $"hello ($name)" }"#);
    active(
        store,
        "greeter",
        r#"{
  run: {|frame, state|
    use mymod
    {out: {greeting: (mymod greet "world")}, next: $state}
  }
}"#,
    );
    let input = append(store, "hi");
    assert_eq!(meta(&output_for(store, "greeter.out", &input), "greeting"), "hello world");
}

/// "Output suffix customization": a service's suffix `.message`.
#[test]
fn reference_topics_output_suffix() {
    let owner = Owner::start();
    let script = r#"{
  run: {|| "Hello, World!" },
  return_options: {
    suffix: ".message"  # Changes .recv to .message
  }
}"#;
    spawn(&owner.store, "hello", script);
    recv(&owner.store, "hello.message", "Hello, World!");
}

// tutorials/mcp-integration.mdx

/// Part 3: the detector reads the JSON-RPC answer from the CAS and flags
/// the one whose text contains 42. The MCP server itself (npx) is not run:
/// its two answers from the page are appended as `mcp.recv` frames.
#[test]
fn tutorials_mcp_integration_detector() {
    let owner = Owner::start();
    let store = &owner.store;
    active(
        store,
        "meaning.detector",
        r#"{
  run: {|frame, state|
    if ($frame.topic == "mcp.recv") {
      let content = .cas $frame.hash | from json | get -i result.content.0.text
      if ($content != null and "42" in $content) {
        {out: {message: "meaning of life detected!"}, next: $state}
      } else {
        {next: $state}
      }
    } else {
      {next: $state}
    }
  }
}"#,
    );
    let answer =
        |text: &str| json!({"jsonrpc": "2.0", "id": 10, "result": {"content": [{"type": "text", "text": text}]}});
    let mut reader = store.reader(follow("meaning.detector.out", None)).unwrap();
    let plain = append_with(store, "mcp.recv", &answer("The sum of 100 and 200 is 300.").to_string());
    let meaning = append_with(store, "mcp.recv", &answer("The sum of 21 and 21 is 42.").to_string());
    let out = next_frame(&mut reader);
    assert_eq!(meta_str(&out, "frame_id"), Some(meaning.id.to_string()), "not for {plain:?}");
    assert_eq!(meta(&out, "message"), "meaning of life detected!");
}

// reference/services.mdx

/// "Basic Usage": each line of the tailed file is a `log.recv` frame.
#[test]
fn reference_services_basic_usage() {
    let owner = Owner::start();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("http.log");
    std::fs::File::create(&log).unwrap();
    let script = r#"{
  run: {|| ^tail -F http.log | lines }
}"#;
    spawn_active(&owner.store, "log", &at(script, "http.log", &log));
    write_line(&log, "GET /");
    write_line(&log, "GET /about");
    recv(&owner.store, "log.recv", "GET /");
    recv(&owner.store, "log.recv", "GET /about");
}

/// "Return Options": a tail of `access.log` on `logs.line`, last 100 kept.
#[test]
fn reference_services_return_options() {
    let owner = Owner::start();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    write_line(&log, "first");
    let script = r#"{
  run: {|| ^tail -F access.log | lines },
  return_options: {
    suffix: ".line",
    ttl: "last:100"  # Keep only last 100 log lines
  }
}"#;
    spawn_active(&owner.store, "logs", &at(script, "access.log", &log));
    recv(&owner.store, "logs.line", "first");
    for n in 0..105 {
        write_line(&log, &format!("line {n}"));
    }
    recv(&owner.store, "logs.line", "line 104");
    kept(&owner.store, "logs.line", 100);
}

/// "Modules": a service that parses each line with `my-parser`. The page
/// does not show the module; here `parse` makes a record, so each line
/// becomes a frame's meta.
#[test]
fn reference_services_modules() {
    let owner = Owner::start();
    let store = &owner.store;
    append_with(store, "xs.module.my-parser", "export def parse [line: string] { {line: $line} }");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("data.log");
    write_line(&log, "a line");
    let script = r#"{
  run: {||
    use my-parser
    ^tail -F data.log | lines | each {|line| my-parser parse $line }
  }
}"#;
    spawn_active(store, "log", &at(script, "data.log", &log));
    let frame = wait_for(store, "log.recv", None, |_| true);
    assert_eq!(meta(&frame, "line"), "a line");
}

// tutorials/service-lifecycle.mdx (and how-to/hot-replace-safely.mdx)

/// Create, see output, hot reload, a broken reload that keeps the good
/// version, and terminate.
#[test]
fn tutorials_service_lifecycle() {
    let owner = Owner::start();
    let store = &owner.store;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.txt");
    std::fs::File::create(&log).unwrap();
    let create = r#"{
  run: {|| ^tail -F /tmp/log.txt | lines }
}"#;
    let first = spawn_active(store, "log", &at(create, "/tmp/log.txt", &log));
    std::fs::write(&log, "hello\nworld\n").unwrap();
    recv(store, "log.recv", "world");

    let reload = r#"{
  run: {|| ^tail -F /tmp/log.txt | lines | each {|line| $"[LOG] ($line)" } }
}"#;
    let second = spawn(store, "log", &at(reload, "/tmp/log.txt", &log));
    event(store, "log", "replaced", first.id);
    event(store, "log", "active", second.id);
    write_line(&log, "reloaded");
    recv(store, "log.recv", "[LOG] reloaded");

    let broken = spawn(store, "log", "{ run: {|| ^tail -F /tmp/log.txt | lines ");
    event(store, "log", "invalid", broken.id);
    write_line(&log, "still here");
    recv(store, "log.recv", "[LOG] still here");

    store.append(Frame::builder("xs.generator.log.terminate").build()).unwrap();
    event(store, "log", "terminated", second.id);
}

/// how-to/hot-replace-safely.mdx: the `[v2]` replacement takes over.
#[test]
fn how_to_hot_replace_safely() {
    let owner = Owner::start();
    let store = &owner.store;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.txt");
    std::fs::File::create(&log).unwrap();
    let first = spawn_active(store, "log", &format!("{{run: {{|| ^tail -F {:?} | lines }}}}", log));
    let v2 = r#"{
  run: {|| ^tail -F /tmp/log.txt | lines | each {|l| $"[v2] ($l)" } }
}"#;
    let second = spawn(store, "log", &at(v2, "/tmp/log.txt", &log));
    event(store, "log", "replaced", first.id);
    event(store, "log", "active", second.id);
    write_line(&log, "x");
    recv(store, "log.recv", "[v2] x");
}

/// "Graceful shutdown": a service running when the owner stops records
/// `.stopped`, and the next owner starts it again.
#[test]
fn tutorials_service_lifecycle_graceful_shutdown() {
    let owner = Owner::start();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.txt");
    std::fs::File::create(&log).unwrap();
    let create = r#"{
  run: {|| ^tail -F /tmp/log.txt | lines }
}"#;
    let spawned = spawn_active(&owner.store, "log", &at(create, "/tmp/log.txt", &log));
    let owner = Owner::reopen(owner.stop());
    let stopped = event(&owner.store, "log", "stopped", spawned.id);
    let active = wait_for(&owner.store, "xs.generator.log.active", Some(stopped.id), |_| true);
    assert_eq!(meta_str(&active, "generator_id"), Some(spawned.id.to_string()));
    write_line(&log, "after the restart");
    recv(&owner.store, "log.recv", "after the restart");
}
