//! Stopping generators never leaves an external behind: terminate,
//! replace, owner shutdown, owner SIGKILL; and one generator's stop does
//! not touch another.

use std::path::Path;

use xs_core::{Store, processor::Processor};

use crate::{
    child,
    common::wait_until,
    processor::common::{Owner, frames, meta_str},
    processor::generator::{
        event, pids_with, recv, spawn, spawn_active, tail, terminate, terminate_and_wait, wait_for_process, wait_gone,
        write_line,
    },
};

const CHILD: &str = "processor::generator_stop::child_owner";

/// A generator whose shell leaves a `sleep <tag>` in its process group
/// and becomes `tail -F <log>`.
fn forking(log: &Path, tag: u32) -> String {
    format!("{{run: {{|| ^sh -c 'sleep {tag} & exec tail -F \"$0\"' {:?} }}}}", log.to_str().unwrap())
}

#[test]
fn terminate_kills_the_whole_process_group() {
    let owner = Owner::start();
    let log = owner.dir.path().join("g.log");
    let spawned = spawn_active(&owner.store, "g", &forking(&log, 7_654_321));
    write_line(&log, "hello");
    recv(&owner.store, "g.recv", "hello");
    let (tail_pid, sleep_pid) = (wait_for_process(log.to_str().unwrap()), wait_for_process("7654321"));
    terminate_and_wait(&owner.store, "g", spawned.id);
    wait_gone(tail_pid);
    wait_gone(sleep_pid);
}

#[test]
fn shutdown_records_stopped_and_the_next_owner_runs_it_again() {
    let owner = Owner::start();
    let log = owner.dir.path().join("s.log");
    let spawned = spawn_active(&owner.store, "s", &tail(&log));
    write_line(&log, "before");
    recv(&owner.store, "s.recv", "before");
    let pid = wait_for_process(log.to_str().unwrap());
    let dir = owner.stop();
    assert!(pids_with(log.to_str().unwrap()).is_empty(), "shutdown waited for tail {pid} to die");
    let owner = Owner::reopen(dir);
    event(&owner.store, "s", "stopped", spawned.id);
    wait_until("a second .active", || frames(&owner.store, "xs.generator.s.active").len() == 2);
    write_line(&owner.dir.path().join("s.log"), "after");
    recv(&owner.store, "s.recv", "after");
    terminate_and_wait(&owner.store, "s", spawned.id);
}

#[test]
fn a_good_replacement_takes_over_and_a_broken_one_leaves_it_running() {
    let owner = Owner::start();
    let (one, two) = (owner.dir.path().join("one.log"), owner.dir.path().join("two.log"));
    let first = spawn_active(&owner.store, "r", &tail(&one));
    let first_pid = wait_for_process(one.to_str().unwrap());
    let second = spawn(&owner.store, "r", &tail(&two));
    let replaced = event(&owner.store, "r", "replaced", first.id);
    let active = event(&owner.store, "r", "active", second.id);
    assert!(replaced.id < active.id, "replaced, then active");
    wait_gone(first_pid);
    let broken = spawn(&owner.store, "r", "{run: {|| ^tail -F ");
    event(&owner.store, "r", "invalid", broken.id);
    write_line(&two, "still here");
    let line = recv(&owner.store, "r.recv", "still here");
    assert_eq!(meta_str(&line, "generator_id"), Some(second.id.to_string()));
    assert_eq!(pids_with(two.to_str().unwrap()).len(), 1, "one instance per name");
    terminate_and_wait(&owner.store, "r", second.id);
}

#[test]
fn terminating_one_generator_leaves_another_running() {
    let owner = Owner::start();
    let (a_log, b_log) = (owner.dir.path().join("a.log"), owner.dir.path().join("b.log"));
    let a = spawn(&owner.store, "a", &tail(&a_log));
    let b = spawn(&owner.store, "b", &tail(&b_log));
    event(&owner.store, "a", "active", a.id);
    event(&owner.store, "b", "active", b.id);
    let a_pid = wait_for_process(a_log.to_str().unwrap());
    let b_pid = wait_for_process(b_log.to_str().unwrap());
    terminate_and_wait(&owner.store, "a", a.id);
    wait_gone(a_pid);
    write_line(&b_log, "b lives");
    recv(&owner.store, "b.recv", "b lives");
    assert!(crate::processor::generator::alive(b_pid));
}

/// Run by the child process only: owns the store and runs its processor
/// until killed.
#[test]
#[ignore = "run as a child of sigkill_of_the_owner_leaves_no_external_behind"]
fn child_owner() {
    if !child::is(CHILD) {
        return;
    }
    let store = Store::new(std::env::var("XS_IT_DIR").unwrap()).unwrap();
    let _processor = Processor::spawn(store.clone()).unwrap();
    println!("READY");
    child::wait_for_parent();
}

#[test]
fn sigkill_of_the_owner_leaves_no_external_behind() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("k.log");
    {
        let store = Store::new(dir.path()).unwrap();
        spawn(&store, "k", &forking(&log, 7_654_322));
        store.close();
    }
    let child = child::spawn(CHILD, &[("XS_IT_DIR", dir.path().to_str().unwrap())]);
    child.line("READY");
    let (tail_pid, sleep_pid) = (wait_for_process(log.to_str().unwrap()), wait_for_process("7654322"));
    child.kill9();
    wait_gone(tail_pid);
    wait_gone(sleep_pid);
    let owner = Owner::reopen(dir);
    wait_until("the next owner restarts it", || frames(&owner.store, "xs.generator.k.active").len() == 2);
    terminate(&owner.store, "k");
    wait_until("terminated", || !frames(&owner.store, "xs.generator.k.terminated").is_empty());
}
