//! The restart rules: what each owner start does with the lifecycle frames
//! the previous owners left.

use xs_core::{Frame, Store, id::Scru128Id, store::Scripts};

use crate::{
    common::append,
    processor::common::{Owner, frames, lifecycle, meta_str, register, settle, unregister, wait_for},
};

/// Counts `t` frames in its state and emits the count.
const COUNTER: &str = "{run: {|frame, state| {out: {n: ($state + 1)}, next: ($state + 1)}}, initial: 0, topics: [t]}";

fn counts(store: &Store) -> Vec<i64> {
    frames(store, "c.out").iter().map(|f| f.meta.as_ref().unwrap()["n"].as_i64().unwrap()).collect()
}

/// Appends `n` frames on `t` to the store in `dir` while no owner runs.
fn append_offline(dir: &std::path::Path, n: usize) {
    let store = Store::new(dir).unwrap();
    for _ in 0..n {
        append(&store, "t");
    }
    store.close();
}

#[test]
fn a_running_handler_resumes_with_its_state_and_the_frames_appended_meanwhile() {
    let owner = Owner::start();
    let reg = register(&owner.store, "c", COUNTER);
    lifecycle(&owner.store, "c", "active", reg.id);
    append(&owner.store, "t");
    append(&owner.store, "t");
    settle(&owner.store, "c.out", 2);
    let dir = owner.stop();
    append_offline(dir.path(), 3);
    let owner = Owner::reopen(dir);
    assert_eq!(settle(&owner.store, "c.out", 5).len(), 5);
    assert_eq!(counts(&owner.store), [1, 2, 3, 4, 5], "no frame twice, none skipped, state kept");
    let actives = frames(&owner.store, "xs.handler.c.active");
    assert_eq!(actives.len(), 2, "active again under the new owner");
    assert!(actives.iter().all(|f| meta_str(f, "handler_id") == Some(reg.id.to_string())));
}

#[test]
fn an_unregistered_handler_stays_stopped() {
    let owner = Owner::start();
    let reg = register(&owner.store, "c", COUNTER);
    lifecycle(&owner.store, "c", "active", reg.id);
    unregister(&owner.store, "c");
    lifecycle(&owner.store, "c", "unregistered", reg.id);
    let dir = owner.stop();
    append_offline(dir.path(), 1);
    let owner = Owner::reopen(dir);
    let marker = register(&owner.store, "other", COUNTER.replace("topics: [t]", "topics: [none]").as_str());
    lifecycle(&owner.store, "other", "active", marker.id);
    assert!(counts(&owner.store).is_empty());
    assert_eq!(frames(&owner.store, "xs.handler.c.active").len(), 1, "not started again");
}

#[test]
fn a_handler_that_finished_or_failed_stays_stopped() {
    let owner = Owner::start();
    let done = register(&owner.store, "d", "{run: {|frame, state| null}, topics: [t]}");
    let failed = register(&owner.store, "f", "{run: {|frame, state| error make {msg: x}}, topics: [t]}");
    lifecycle(&owner.store, "f", "active", failed.id);
    append(&owner.store, "t");
    lifecycle(&owner.store, "d", "done", done.id);
    lifecycle(&owner.store, "f", "failed", failed.id);
    let dir = owner.stop();
    let owner = Owner::reopen(dir);
    let marker = register(&owner.store, "m", COUNTER);
    lifecycle(&owner.store, "m", "active", marker.id);
    assert_eq!(frames(&owner.store, "xs.handler.d.active").len(), 1);
    assert_eq!(frames(&owner.store, "xs.handler.f.active").len(), 1);
}

#[test]
fn an_unregister_appended_while_no_owner_ran_is_confirmed_at_start() {
    let owner = Owner::start();
    let reg = register(&owner.store, "c", COUNTER);
    lifecycle(&owner.store, "c", "active", reg.id);
    let dir = owner.stop();
    {
        let store = Store::new(dir.path()).unwrap();
        unregister(&store, "c");
        append(&store, "t");
        store.close();
    }
    let owner = Owner::reopen(dir);
    lifecycle(&owner.store, "c", "unregistered", reg.id);
    assert!(counts(&owner.store).is_empty());
}

#[test]
fn a_register_appended_while_no_owner_ran_replaces_the_old_version_at_start() {
    let owner = Owner::start();
    let v1 = register(&owner.store, "c", COUNTER);
    lifecycle(&owner.store, "c", "active", v1.id);
    let dir = owner.stop();
    let v2 = {
        let store = Store::new(dir.path()).unwrap();
        let v2 = register(&store, "c", &COUNTER.replace("initial: 0", "initial: 100"));
        store.close();
        v2
    };
    let owner = Owner::reopen(dir);
    lifecycle(&owner.store, "c", "replaced", v1.id);
    lifecycle(&owner.store, "c", "active", v2.id);
    append(&owner.store, "t");
    assert_eq!(settle(&owner.store, "c.out", 1).len(), 1, "one instance per name");
    assert_eq!(counts(&owner.store), [101]);
}

#[test]
fn an_invalid_register_appended_while_no_owner_ran_falls_back_to_the_last_active_version() {
    let owner = Owner::start();
    let v1 = register(&owner.store, "c", COUNTER);
    lifecycle(&owner.store, "c", "active", v1.id);
    append(&owner.store, "t");
    settle(&owner.store, "c.out", 1);
    let dir = owner.stop();
    let v2 = {
        let store = Store::new(dir.path()).unwrap();
        let v2 = register(&store, "c", "{run: {|frame| 1}}");
        append(&store, "t");
        store.close();
        v2
    };
    let owner = Owner::reopen(dir);
    lifecycle(&owner.store, "c", "invalid", v2.id);
    let reactivated = wait_for(&owner.store, "xs.handler.c.active", Some(v2.id), |_| true);
    assert_eq!(meta_str(&reactivated, "handler_id"), Some(v1.id.to_string()));
    assert_eq!(settle(&owner.store, "c.out", 2).len(), 2);
    assert_eq!(counts(&owner.store), [1, 2], "the old version resumed where it stopped");
}

#[test]
fn a_replacement_that_never_became_active_is_tried_again() {
    // The owner died between `.replaced` of v1 and `.active` of v2.
    let owner = Owner::start();
    let v1 = register(&owner.store, "c", COUNTER);
    lifecycle(&owner.store, "c", "active", v1.id);
    let dir = owner.stop();
    let v2 = {
        let store = Store::new(dir.path()).unwrap();
        let v2 = register(&store, "c", &COUNTER.replace("initial: 0", "initial: 100"));
        // Only the runtime appends out events: the dead owner's is restored as history.
        let replaced = Frame::builder("xs.handler.c.replaced")
            .id(Scru128Id::from_u128(v2.id.to_u128() + 1))
            .meta(serde_json::json!({"handler_id": v1.id.to_string()}));
        store.import_with(replaced.build(), Scripts::Run).unwrap();
        store.close();
        v2
    };
    let owner = Owner::reopen(dir);
    lifecycle(&owner.store, "c", "active", v2.id);
    append(&owner.store, "t");
    assert_eq!(settle(&owner.store, "c.out", 1).len(), 1);
    assert_eq!(counts(&owner.store), [101]);
}

#[test]
fn modules_are_those_of_the_register_time_after_a_restart_too() {
    let owner = Owner::start();
    crate::processor::common::append_with(&owner.store, "xs.module.greet", "export def hello [] { 'v1' }");
    let reg = register(
        &owner.store,
        "g",
        "use greet\n{run: {|frame, state| {out: {says: (greet hello)}, next: null}}, topics: [t]}",
    );
    lifecycle(&owner.store, "g", "active", reg.id);
    crate::processor::common::append_with(&owner.store, "xs.module.greet", "export def hello [] { 'v2' }");
    append(&owner.store, "t");
    settle(&owner.store, "g.out", 1);
    let dir = owner.stop();
    let owner = Owner::reopen(dir);
    append(&owner.store, "t");
    let outs = settle(&owner.store, "g.out", 2);
    assert!(outs.iter().all(|f| f.meta.as_ref().unwrap()["says"] == "v1"), "{outs:?}");
}
