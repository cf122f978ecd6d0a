//! The generators shipped in `handlers/`, spawned as a user would.

use serde_json::json;

use crate::{
    common::wait_until,
    processor::common::{Owner, append_meta, frames, meta_str, payload, wait_for},
    processor::generator::{
        event, recv, spawn, spawn_active, terminate_and_wait, wait_for_process, wait_gone, write_line,
    },
};

/// The source of `handlers/<name>.nu`.
fn script(name: &str) -> String {
    let path = format!("{}/../../handlers/{name}.nu", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn tail_log_follows_a_file_from_its_config() {
    let owner = Owner::start();
    let log = owner.dir.path().join("app.log");
    write_line(&log, "old line, not followed");
    append_meta(&owner.store, "tail-log.config", json!({"path": log}));
    let spawned = spawn_active(&owner.store, "tail-log", &script("tail-log"));
    let pid = wait_for_process(log.to_str().unwrap());
    // tail may not have reached the end of the file yet: write until it reports.
    wait_until("tail to follow", || {
        write_line(&log, "GET /index.html 200");
        std::thread::sleep(std::time::Duration::from_millis(100));
        !frames(&owner.store, "tail-log.recv").is_empty()
    });
    let line = recv(&owner.store, "tail-log.recv", "GET /index.html 200");
    assert_eq!(meta_str(&line, "generator_id"), Some(spawned.id.to_string()));
    let lines: Vec<String> = frames(&owner.store, "tail-log.recv").iter().map(|f| payload(&owner.store, f)).collect();
    assert!(lines.iter().all(|l| l == "GET /index.html 200"), "only lines written after the start: {lines:?}");
    terminate_and_wait(&owner.store, "tail-log", spawned.id);
    wait_gone(pid);
}

#[test]
fn tail_log_without_a_config_fails_with_a_message() {
    let owner = Owner::start();
    let spawned = spawn(&owner.store, "tail-log", &script("tail-log"));
    let failed = event(&owner.store, "tail-log", "failed", spawned.id);
    assert!(meta_str(&failed, "error").unwrap().contains("tail-log.config"));
}

#[test]
fn watch_dir_reports_changes_as_records() {
    let owner = Owner::start();
    let dir = owner.dir.path().join("notes");
    std::fs::create_dir(&dir).unwrap();
    append_meta(&owner.store, "watch-dir.config", json!({"path": dir}));
    let spawned = spawn_active(&owner.store, "watch-dir", &script("watch-dir"));
    let file = dir.join("todo.txt");
    // The watcher starts a moment after .active: write until it reports.
    let mut n = 0;
    wait_until("an event for todo.txt", || {
        n += 1;
        std::fs::write(&file, format!("{n}")).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(150));
        frames(&owner.store, "watch-dir.recv")
            .iter()
            .any(|f| f.meta.as_ref().unwrap()["path"].as_str().is_some_and(|p| p.ends_with("todo.txt")))
    });
    let change = wait_for(&owner.store, "watch-dir.recv", None, |_| true);
    let meta = change.meta.unwrap();
    assert!(meta["operation"].is_string(), "{meta}");
    assert_eq!(meta["generator_id"], json!(spawned.id.to_string()));
    terminate_and_wait(&owner.store, "watch-dir", spawned.id);
}
