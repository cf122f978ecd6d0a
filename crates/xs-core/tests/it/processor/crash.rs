//! Exactly once across SIGKILL: a counting handler whose owner is killed
//! at random moments, with ticks appended by the owner while it runs and
//! by the test while no owner runs. In the end every tick has exactly one
//! output, and the count equals the number of ticks.
//!
//! The owner is this test binary re-run as [`child_owner`] (see
//! `child.rs`); between owners the test opens the store itself.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use xs_core::{Frame, ReadOptions, Store, processor::Processor};

use crate::{
    child,
    common::{append, read_all, wait_until},
    processor::common::{Owner, kill_cycles, open_when_free, register},
};

const CHILD: &str = "processor::crash::child_owner";
const CYCLES: usize = 12;
const COUNTER: &str = r#"{
    run: {|frame, state| let n = $state + 1; {out: {n: $n}, next: $n} }
    initial: 0
    topics: [tick]
    start: "first"
}"#;

/// Run by the child process only: owns the store, runs its processor,
/// and appends a tick every millisecond until killed.
#[test]
#[ignore = "run as a child of sigkill_never_loses_or_repeats_a_handlers_output"]
fn child_owner() {
    if !child::is(CHILD) {
        return;
    }
    let store = open_when_free(&std::env::var("XS_IT_DIR").unwrap());
    let _processor = Processor::spawn(store.clone()).unwrap();
    println!("READY");
    loop {
        append(&store, "tick");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn sigkill_never_loses_or_repeats_a_handlers_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_string();
    {
        let store = Store::new(&path).unwrap();
        register(&store, "count", COUNTER);
        store.close();
    }
    kill_cycles(&path, CHILD, CYCLES, 30, |store, cycle| {
        for _ in 0..=(cycle % 4) {
            append(store, "tick");
        }
    });
    {
        let store = Store::new(&path).unwrap();
        let (handled, ticks) =
            (outputs(&store).len(), read_all(&store, ReadOptions::builder().topic("tick".into()).build()).len());
        eprintln!("before the last owner: {handled} outputs for {ticks} ticks");
        assert!(handled > 0, "the killed owners handled ticks");
        store.close();
    }
    let owner = Owner::reopen(dir);
    let ticks = read_all(&owner.store, ReadOptions::builder().topic("tick".into()).build());
    assert!(ticks.len() > CYCLES * 5, "the owners appended ticks ({})", ticks.len());
    wait_until("the handler caught up", || outputs(&owner.store).len() >= ticks.len());
    std::thread::sleep(Duration::from_millis(200));
    check(&ticks, &outputs(&owner.store));
}

fn outputs(store: &Store) -> Vec<Frame> {
    read_all(store, ReadOptions::builder().topic("count.out".into()).build())
}

/// Every tick has exactly one output, and the counts are 1..=ticks in order.
fn check(ticks: &[Frame], outputs: &[Frame]) {
    let mut per_tick: BTreeMap<String, usize> = BTreeMap::new();
    for out in outputs {
        let frame_id = out.meta.as_ref().unwrap()["frame_id"].as_str().unwrap().to_string();
        *per_tick.entry(frame_id).or_default() += 1;
    }
    let tick_ids: BTreeSet<String> = ticks.iter().map(|t| t.id.to_string()).collect();
    let twice: Vec<_> = per_tick.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "ticks handled more than once: {twice:?}");
    let missing: Vec<_> = tick_ids.iter().filter(|id| !per_tick.contains_key(*id)).collect();
    assert!(missing.is_empty(), "ticks never handled: {} of {}", missing.len(), ticks.len());
    assert_eq!(outputs.len(), ticks.len());
    let counts: Vec<i64> = outputs.iter().map(|o| o.meta.as_ref().unwrap()["n"].as_i64().unwrap()).collect();
    let expected: Vec<i64> = (1..=ticks.len() as i64).collect();
    assert_eq!(counts, expected, "the count went wrong somewhere");
}
