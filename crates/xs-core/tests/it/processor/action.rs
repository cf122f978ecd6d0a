//! Actions: a register frame's script called by `<name>.call` frames and
//! answered once each, with `<name>.response` or `<name>.error` carrying
//! `meta.action_id` and `meta.frame_id`; run in an owner with the real
//! engine. Also cross-stream's documented action examples
//! (docs/reference/actions.mdx, docs/how-to/undefine-an-action.mdx),
//! with the registration topic (and the store commands) of xs.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use xs_core::{Frame, Store, id::Scru128Id, script_state::ScriptKind};

use crate::processor::common::{Owner, append_meta, append_with, frames, meta_str, payload, settle, wait_for};

/// Appends `script` as the register frame of action `name`.
pub fn register(store: &Store, name: &str, script: &str) -> Frame {
    append_with(store, &format!("xs.action.{name}.register"), script)
}

/// The lifecycle frame `event` of action `name` about register frame `id`.
pub fn lifecycle(store: &Store, name: &str, event: &str, id: Scru128Id) -> Frame {
    let topic = format!("xs.action.{name}.{event}");
    wait_for(store, &topic, None, |f| meta_str(f, "action_id") == Some(id.to_string()))
}

/// Registers action `name` and waits until it is active.
pub fn active(store: &Store, name: &str, script: &str) -> Frame {
    let register = register(store, name, script);
    lifecycle(store, name, "active", register.id);
    register
}

/// Calls action `name` with `args`.
pub fn call(store: &Store, name: &str, args: Value) -> Frame {
    append_meta(store, &format!("{name}.call"), json!({ "args": args }))
}

/// The answer to `call` (of action `name`), waiting for it.
pub fn answer(store: &Store, name: &str, call: &Frame) -> Frame {
    let id = call.id.to_string();
    wait_for(store, &format!("{name}.*"), Some(call.id), |f| {
        f.topic != call.topic && meta_str(f, "frame_id") == Some(id.clone())
    })
}

#[test]
fn a_record_answers_as_meta_and_anything_else_as_payload() {
    let owner = Owner::start();
    let greet = active(&owner.store, "greet", "{run: {|frame| {hello: $frame.meta.args.name}}}");
    let call_ = call(&owner.store, "greet", json!({"name": "ada"}));
    let response = answer(&owner.store, "greet", &call_);
    assert_eq!(response.topic, "greet.response");
    assert_eq!(meta_str(&response, "hello").as_deref(), Some("ada"));
    assert_eq!(meta_str(&response, "action_id"), Some(greet.id.to_string()));
    assert_eq!(meta_str(&response, "frame_id"), Some(call_.id.to_string()));
    assert!(response.hash.is_none());

    let script = r#"{
        run: {|frame| xs cas $frame.hash | str upcase }
        return_options: {suffix: ".out", ttl: "last:1", target: "cas"}
    }"#;
    active(&owner.store, "upper", script);
    let call_ = append_with(&owner.store, "upper.call", "abc");
    let response = answer(&owner.store, "upper", &call_);
    assert_eq!((response.topic.as_str(), payload(&owner.store, &response).as_str()), ("upper.out", "ABC"));
    assert_eq!(response.ttl, Some(xs_core::TTL::Last(1)));

    // Without target: a list is its JSON payload; a record asked for the CAS is too.
    active(&owner.store, "list", "{run: {|frame| [1 2 3]}}");
    let response = answer(&owner.store, "list", &call(&owner.store, "list", json!({})));
    assert_eq!(payload(&owner.store, &response), "[1,2,3]");
    active(&owner.store, "rec", "{run: {|frame| {a: 1}}, return_options: {target: cas}}");
    let response = answer(&owner.store, "rec", &call(&owner.store, "rec", json!({})));
    assert_eq!(serde_json::from_str::<Value>(&payload(&owner.store, &response)).unwrap(), json!({"a": 1}));
    let states = owner.processor.as_ref().unwrap().states();
    let actions: Vec<&str> = states
        .iter()
        .filter(|s| s.kind == ScriptKind::Action && s.state.is_running())
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(actions, ["greet", "list", "rec", "upper"], "the processor reports its actions");
}

#[test]
fn an_error_is_answered_and_the_action_goes_on() {
    let owner = Owner::start();
    let script = r#"{run: {|frame| if $frame.meta.args.fail { error make {msg: "boom"} } else { {ok: true} } }}"#;
    let register = active(&owner.store, "risky", script);
    let failing = call(&owner.store, "risky", json!({"fail": true}));
    let error = answer(&owner.store, "risky", &failing);
    assert_eq!(error.topic, "risky.error");
    assert!(meta_str(&error, "error").unwrap().contains("boom"), "{:?}", error.meta);
    assert_eq!(meta_str(&error, "action_id"), Some(register.id.to_string()));
    let fine = answer(&owner.store, "risky", &call(&owner.store, "risky", json!({"fail": false})));
    assert_eq!(fine.topic, "risky.response");
}

#[test]
fn an_invalid_script_is_reported_and_its_calls_refused() {
    let owner = Owner::start();
    for (script, says) in [
        ("{run: 42}", "run must be a closure"),
        ("{run: {|a, b| 1}}", "run takes one parameter"),
        ("{run: {|f| 1}, concurrency: 0}", "concurrency"),
        ("{run: {|f| 1}, return_options: {suffix: \".error\"}}", "suffix"),
        ("{run: {|f| 1}", ""),
    ] {
        let register = register(&owner.store, "bad", script);
        let invalid = lifecycle(&owner.store, "bad", "invalid", register.id);
        assert!(meta_str(&invalid, "error").unwrap().contains(says), "{script}: {:?}", invalid.meta);
    }
    let refused = answer(&owner.store, "bad", &call(&owner.store, "bad", json!({})));
    assert_eq!(refused.topic, "bad.error");
}

#[test]
fn a_call_to_no_action_gets_an_error() {
    let owner = Owner::start();
    // Wait for the processor to be live: an action answers once active.
    active(&owner.store, "other", "{run: {|frame| null}}");
    let refused = answer(&owner.store, "nobody", &call(&owner.store, "nobody", json!({})));
    assert_eq!(refused.topic, "nobody.error");
    assert!(meta_str(&refused, "error").unwrap().contains("no action named nobody"), "{:?}", refused.meta);
    assert_eq!(settle(&owner.store, "nobody.*", 2).len(), 2, "one call, one answer");
}

/// A call appended while no owner runs, to a name with no action, is
/// answered by the next owner; the owner after that answers it no more
/// (and neither after a kill: the suite in `action_crash.rs` kills).
#[test]
fn a_call_made_while_no_owner_runs_is_refused_by_the_next_once() {
    let owner = Owner::start();
    active(&owner.store, "other", "{run: {|frame| null}}");
    let dir = owner.stop();
    let offline = Store::new(dir.path()).unwrap();
    let pending = call(&offline, "nobody", json!({}));
    offline.close();
    drop(offline);
    let owner = Owner::reopen(dir);
    let refused = answer(&owner.store, "nobody", &pending);
    assert_eq!(refused.topic, "nobody.error");
    let owner = Owner::reopen(owner.stop());
    active(&owner.store, "later", "{run: {|frame| null}}");
    let fresh = answer(&owner.store, "nobody", &call(&owner.store, "nobody", json!({})));
    assert_eq!(fresh.topic, "nobody.error", "the third owner is live and refusing");
    assert_eq!(frames(&owner.store, "nobody.error").len(), 2, "each call refused once, by one owner");
}

#[test]
fn replacing_an_action_while_a_call_runs_answers_it_once() {
    let owner = Owner::start();
    let slow = r#"{run: {|frame| xs append slow.started | ignore; sleep 30sec; {v: 1}}}"#;
    let first = active(&owner.store, "slow", slow);
    let pending = call(&owner.store, "slow", json!({}));
    wait_for(&owner.store, "slow.started", None, |_| true);
    let second = register(&owner.store, "slow", "{run: {|frame| {v: 2}}}");
    lifecycle(&owner.store, "slow", "replaced", first.id);
    let response = answer(&owner.store, "slow", &pending);
    assert_eq!(response.meta.as_ref().unwrap()["v"], 2, "the new version runs the interrupted call");
    assert_eq!(meta_str(&response, "action_id"), Some(second.id.to_string()));
    assert_eq!(settle(&owner.store, "slow.response", 1).len(), 1, "answered once");
    assert!(frames(&owner.store, "slow.error").is_empty());
}

#[test]
fn fifty_concurrent_calls_each_get_their_own_answer_once() {
    let owner = Owner::start();
    active(&owner.store, "echo", "{run: {|frame| sleep 20ms; {n: $frame.meta.args.n}}, concurrency: 8}");
    let store = &owner.store;
    let calls: Vec<Frame> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50).map(|n| scope.spawn(move || call(store, "echo", json!({"n": n})))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let responses = settle(&owner.store, "echo.response", 50);
    assert_eq!(responses.len(), 50);
    let mut per_call: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in &responses {
        per_call
            .entry(meta_str(r, "frame_id").unwrap())
            .or_default()
            .push(r.meta.as_ref().unwrap()["n"].as_i64().unwrap());
    }
    for c in &calls {
        let n = c.meta.as_ref().unwrap()["args"]["n"].as_i64().unwrap();
        assert_eq!(per_call.get(&c.id.to_string()), Some(&vec![n]), "call {n}");
    }
}

#[test]
fn an_unregistered_action_answers_with_errors() {
    let owner = Owner::start();
    let register = active(&owner.store, "gone", "{run: {|frame| {ok: 1}}}");
    owner.store.append(Frame::builder("xs.action.gone.unregister").build()).unwrap();
    lifecycle(&owner.store, "gone", "unregistered", register.id);
    let refused = answer(&owner.store, "gone", &call(&owner.store, "gone", json!({})));
    assert_eq!(refused.topic, "gone.error");
}

/// docs/reference/actions.mdx: `repeat`, with input, args and every return option.
#[test]
fn cross_stream_repeat_example() {
    let owner = Owner::start();
    let script = r#"{
      # Required: Action closure
      run: {|frame|
        # frame.topic - always <name>.call
        # frame.hash - contains input content if present
        # frame.meta.args - contains call arguments
        let input = if ($frame.hash != null) { xs cas $frame.hash } else { null }
        let n = $frame.meta.args.n
        1..($n) | each {$"($in): ($input)"}
      }

      # Optional: Control output frame behavior
      return_options: {
        suffix: ".output" # Output topic suffix (default: ".response")
        ttl: "last:1" # Keep only most recent frame
        target: "cas" # Default: omitted (record output stored as frame metadata)
      }
    }"#;
    active(&owner.store, "repeat", script);
    let mut writer = owner.store.cas_writer();
    std::io::Write::write_all(&mut writer, b"foo").unwrap();
    let hash = writer.commit().unwrap();
    let call_ =
        owner.store.append(Frame::builder("repeat.call").hash(hash).meta(json!({"args": {"n": 3}})).build()).unwrap();
    let output = answer(&owner.store, "repeat", &call_);
    assert_eq!(output.topic, "repeat.output");
    let lines: Value = serde_json::from_str(&payload(&owner.store, &output)).unwrap();
    assert_eq!(lines, json!(["1: foo", "2: foo", "3: foo"]));
}

/// docs/reference/actions.mdx: `calculator`, using a module.
#[test]
fn cross_stream_module_example() {
    let owner = Owner::start();
    append_with(&owner.store, "xs.module.my-math", "export def double [n] { $n * 2 }");
    let script = r#"{
      run: {|frame|
        use my-math
        my-math double ($frame.meta.args.number)
      }
    }"#;
    active(&owner.store, "calculator", script);
    let response = answer(&owner.store, "calculator", &call(&owner.store, "calculator", json!({"number": 21})));
    assert_eq!(payload(&owner.store, &response), "42");
}

/// docs/how-to/undefine-an-action.mdx: after the unregister, calls are
/// not run. (cross-stream ignores them; xs answers each with `.error`.)
#[test]
fn cross_stream_undefine_example() {
    let owner = Owner::start();
    let register = active(&owner.store, "repeat", "{run: {|frame| 1..($frame.meta.args.n) | each {$in}}}");
    let before = answer(&owner.store, "repeat", &call(&owner.store, "repeat", json!({"n": 2})));
    assert_eq!(before.topic, "repeat.response");
    owner.store.append(Frame::builder("xs.action.repeat.unregister").build()).unwrap();
    lifecycle(&owner.store, "repeat", "unregistered", register.id);
    let after = answer(&owner.store, "repeat", &call(&owner.store, "repeat", json!({"n": 2})));
    assert_eq!(after.topic, "repeat.error");
    // It stays down across restarts.
    let owner = Owner::reopen(owner.stop());
    active(&owner.store, "marker", "{run: {|frame| null}}");
    let still = answer(&owner.store, "repeat", &call(&owner.store, "repeat", json!({"n": 2})));
    assert_eq!(still.topic, "repeat.error");
}
