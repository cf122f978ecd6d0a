//! The handlers shipped in `handlers/`, registered as a user would.

use serde_json::json;

use crate::{
    common::append,
    processor::common::{Owner, append_with, lifecycle, payload, register, settle},
};

/// The source of `handlers/<name>.nu`.
fn script(name: &str) -> String {
    let path = format!("{}/../../handlers/{name}.nu", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Registers `handlers/<name>.nu` under its own name and waits until it runs.
fn register_file(owner: &Owner, name: &str) {
    let reg = register(&owner.store, name, &script(name));
    lifecycle(&owner.store, name, "active", reg.id);
}

/// The newest output of `name` once it has handled the newest frame of `topic`.
fn newest_after(owner: &Owner, name: &str, topic: &str) -> serde_json::Value {
    let last = owner.store.last(topic, 1).unwrap()[0].id.to_string();
    crate::common::wait_until("the handler caught up", || {
        let out = owner.store.last(&format!("{name}.out"), 1).unwrap();
        out.first().is_some_and(|f| f.meta.as_ref().unwrap()["frame_id"] == json!(last))
    });
    owner.store.last(&format!("{name}.out"), 1).unwrap()[0].meta.clone().unwrap()
}

#[test]
fn topic_counter_counts_history_and_new_frames_per_topic() {
    let owner = Owner::start();
    append(&owner.store, "clip.add");
    append(&owner.store, "note");
    register_file(&owner, "topic-counter");
    append(&owner.store, "clip.add");
    let meta = newest_after(&owner, "topic-counter", "clip.add");
    assert_eq!(meta["counts"], json!({"clip.add": 2, "note": 1}));
    assert_eq!(owner.store.last("topic-counter.out", 10).unwrap().len(), 1, "one projection frame is kept");
}

#[test]
fn clip_dedup_skips_a_clip_equal_to_the_previous_one() {
    let owner = Owner::start();
    register_file(&owner, "clip-dedup");
    for clip in ["a", "a", "b", "a", "a"] {
        append_with(&owner.store, "clip.add", clip);
    }
    let outs = settle(&owner.store, "clip-dedup.out", 3);
    let clips: Vec<String> = outs.iter().map(|f| payload(&owner.store, f)).collect();
    assert_eq!(clips, ["a", "b", "a"]);
}

#[test]
fn last_n_keeps_the_newest_five_ids_per_topic() {
    let owner = Owner::start();
    let clips: Vec<String> = (0..7).map(|_| append(&owner.store, "clip.add").id.to_string()).collect();
    let note = append(&owner.store, "note").id.to_string();
    register_file(&owner, "last-n");
    let meta = newest_after(&owner, "last-n", "note");
    assert_eq!(meta["index"]["clip.add"], json!(clips[2..]));
    assert_eq!(meta["index"]["note"], json!([note]));
}

#[test]
fn the_projections_leave_handler_output_out_so_they_never_feed_each_other() {
    let owner = Owner::start();
    register_file(&owner, "topic-counter");
    register_file(&owner, "last-n");
    register_file(&owner, "clip-dedup");
    append_with(&owner.store, "clip.add", "a");
    append(&owner.store, "note");
    let counts = newest_after(&owner, "topic-counter", "note");
    assert_eq!(counts["counts"], json!({"clip.add": 1, "note": 1}));
    let index = newest_after(&owner, "last-n", "note");
    let topics: Vec<&String> = index["index"].as_object().unwrap().keys().collect();
    assert_eq!(topics, ["clip.add", "note"]);
}
