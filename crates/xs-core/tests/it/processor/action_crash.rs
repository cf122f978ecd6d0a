//! Exactly once across SIGKILL, for actions: an owner that appends calls
//! (and runs the action answering them, several at a time) is killed at
//! random moments; between owners the test appends calls too. In the end
//! every call has exactly one answer, and it is its own (the answer
//! echoes the call's argument).
//!
//! The owner is this test binary re-run as [`child_owner`] (see `child.rs`).

use std::{collections::BTreeMap, time::Duration};

use serde_json::json;
use xs_core::{Frame, ReadOptions, Store, processor::Processor};

use crate::{
    child,
    common::{read_all, wait_until},
    processor::{
        action::register,
        common::{Owner, append_meta, kill_cycles, meta_str, open_when_free},
    },
};

const CHILD: &str = "processor::action_crash::child_owner";
const CYCLES: usize = 8;
const ECHO: &str = "{run: {|frame| sleep 5ms; {n: $frame.meta.args.n}}, concurrency: 4}";

/// Run by the child process only: owns the store, runs its processor,
/// and appends a call every 3 ms until killed.
#[test]
#[ignore = "run as a child of sigkill_never_loses_or_repeats_an_answer"]
fn child_owner() {
    if !child::is(CHILD) {
        return;
    }
    let store = open_when_free(&std::env::var("XS_IT_DIR").unwrap());
    let _processor = Processor::spawn(store.clone()).unwrap();
    println!("READY");
    for n in 0u64.. {
        call(&store, n + 1_000_000 * std::process::id() as u64);
        std::thread::sleep(Duration::from_millis(3));
    }
}

fn call(store: &Store, n: u64) -> Frame {
    append_meta(store, "echo.call", json!({"args": {"n": n}}))
}

#[test]
fn sigkill_never_loses_or_repeats_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_string();
    {
        let store = Store::new(&path).unwrap();
        register(&store, "echo", ECHO);
        store.close();
    }
    kill_cycles(&path, CHILD, CYCLES, 100, |store, cycle| {
        for k in 0..=(cycle % 3) as u64 {
            call(store, cycle as u64 * 10 + k);
        }
    });
    {
        let store = Store::new(&path).unwrap();
        let (answered, calls) = (answers(&store).len(), calls(&store).len());
        eprintln!("before the last owner: {answered} answers for {calls} calls");
        assert!(answered > 0, "the killed owners answered calls");
        store.close();
    }
    let owner = Owner::reopen(dir);
    let calls = calls(&owner.store);
    assert!(calls.len() > CYCLES * 10, "the owners appended calls ({})", calls.len());
    wait_until("every call answered", || answers(&owner.store).len() >= calls.len());
    std::thread::sleep(Duration::from_millis(300));
    check(&calls, &answers(&owner.store));
}

fn calls(store: &Store) -> Vec<Frame> {
    read_all(store, ReadOptions::builder().topic("echo.call".into()).build())
}

fn answers(store: &Store) -> Vec<Frame> {
    read_all(store, ReadOptions::builder().topic("echo.response,echo.error".into()).build())
}

/// Every call has exactly one answer: a response echoing its argument.
fn check(calls: &[Frame], answers: &[Frame]) {
    let mut per_call: BTreeMap<String, Vec<&Frame>> = BTreeMap::new();
    for answer in answers {
        per_call.entry(meta_str(answer, "frame_id").unwrap()).or_default().push(answer);
    }
    let twice: Vec<_> = per_call.iter().filter(|(_, a)| a.len() > 1).map(|(id, _)| id).collect();
    assert!(twice.is_empty(), "calls answered more than once: {twice:?}");
    for call in calls {
        let answer = per_call.get(&call.id.to_string()).unwrap_or_else(|| panic!("call {} never answered", call.id));
        assert_eq!(answer[0].topic, "echo.response", "{:?}", answer[0].meta);
        assert_eq!(answer[0].meta.as_ref().unwrap()["n"], call.meta.as_ref().unwrap()["args"]["n"]);
    }
    assert_eq!(answers.len(), calls.len());
}
