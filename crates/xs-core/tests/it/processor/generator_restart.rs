//! Generators follow the handlers' restart rules at each owner start:
//! what was running runs again, what was terminated or failed stays
//! stopped, and a replacement that proves invalid falls back.

use xs_core::Store;

use crate::{
    common::wait_until,
    processor::common::{Owner, frames},
    processor::generator::{event, recv, spawn, spawn_active, tail, terminate_and_wait, write_line},
};

/// Appends `script` as a spawn of `name` while no owner runs.
fn spawn_offline(dir: &std::path::Path, name: &str, script: &str) -> xs_core::Frame {
    let store = Store::new(dir).unwrap();
    let frame = spawn(&store, name, script);
    store.close();
    frame
}

#[test]
fn a_replacement_spawned_offline_that_does_not_parse_falls_back_to_the_running_version() {
    let owner = Owner::start();
    let log = owner.dir.path().join("f.log");
    let good = spawn_active(&owner.store, "f", &tail(&log));
    let dir = owner.stop();
    let broken = spawn_offline(dir.path(), "f", "{run: {|| ^tail -F ");
    let owner = Owner::reopen(dir);
    event(&owner.store, "f", "invalid", broken.id);
    wait_until("the good version again", || frames(&owner.store, "xs.generator.f.active").len() == 2);
    assert!(
        frames(&owner.store, "xs.generator.f.active")
            .iter()
            .all(|f| { f.meta.as_ref().unwrap()["generator_id"] == good.id.to_string() })
    );
    write_line(&log, "back");
    recv(&owner.store, "f.recv", "back");
    terminate_and_wait(&owner.store, "f", good.id);
}

#[test]
fn terminated_and_failed_generators_stay_stopped_under_the_next_owner() {
    let owner = Owner::start();
    let log = owner.dir.path().join("t.log");
    let ended = spawn_active(&owner.store, "ended", &tail(&log));
    terminate_and_wait(&owner.store, "ended", ended.id);
    let failed = spawn(&owner.store, "oops", "{run: {|| ^xs-no-such-command-either }}");
    event(&owner.store, "oops", "failed", failed.id);
    let dir = owner.stop();
    // Spawned after both: once it is active, the restore has run.
    let sentinel = spawn_offline(dir.path(), "sentinel", &tail(&dir.path().join("s.log")));
    let owner = Owner::reopen(dir);
    event(&owner.store, "sentinel", "active", sentinel.id);
    assert_eq!(frames(&owner.store, "xs.generator.ended.active").len(), 1, "terminated stays terminated");
    assert_eq!(frames(&owner.store, "xs.generator.oops.active").len(), 1, "failed stays failed");
    assert_eq!(frames(&owner.store, "xs.generator.oops.failed").len(), 1);
    terminate_and_wait(&owner.store, "sentinel", sentinel.id);
}
