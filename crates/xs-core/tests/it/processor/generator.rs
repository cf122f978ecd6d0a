//! Generators: a pipeline's values become frames (DESIGN.md section 8),
//! on a real store with real externals. Helpers for the other
//! `processor::generator_*` modules live here too.

use std::{path::Path, time::Duration};

use xs_core::{Frame, Store, id::Scru128Id};

use crate::{
    common::wait_until,
    processor::common::{Owner, append_with, frames, meta_str, payload, settle, wait_for},
};

/// Appends `script` as the spawn frame of generator `name`.
pub fn spawn(store: &Store, name: &str, script: &str) -> Frame {
    append_with(store, &format!("xs.generator.{name}.spawn"), script)
}

/// Spawns generator `name` and waits for its `.active`; returns the spawn frame.
pub fn spawn_active(store: &Store, name: &str, script: &str) -> Frame {
    let spawned = spawn(store, name, script);
    event(store, name, "active", spawned.id);
    spawned
}

/// Terminates generator `name` and waits for its `.terminated` about the
/// spawn frame `id`.
pub fn terminate_and_wait(store: &Store, name: &str, id: Scru128Id) -> Frame {
    terminate(store, name);
    event(store, name, "terminated", id)
}

/// Appends `xs.generator.<name>.terminate`.
pub fn terminate(store: &Store, name: &str) -> Frame {
    store.append(Frame::builder(format!("xs.generator.{name}.terminate")).build()).expect("terminate")
}

/// The lifecycle frame `event` of generator `name` about the spawn frame `id`.
pub fn event(store: &Store, name: &str, event: &str, id: Scru128Id) -> Frame {
    let topic = format!("xs.generator.{name}.{event}");
    wait_for(store, &topic, None, |f| meta_str(f, "generator_id") == Some(id.to_string()))
}

/// A `tail -F` generator of the file `log`.
pub fn tail(log: &Path) -> String {
    format!("{{run: {{|| ^tail -F {:?} }}}}", log.to_str().unwrap())
}

/// Appends `line` (and a newline) to the file `log`.
pub fn write_line(log: &Path, line: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    writeln!(file, "{line}").unwrap();
}

/// The first frame on `topic` whose payload is `text`.
pub fn recv(store: &Store, topic: &str, text: &str) -> Frame {
    wait_for(store, topic, None, |f| f.hash.is_some() && payload(store, f) == text)
}

/// The pids of live processes whose command line has an argument containing `needle`.
pub fn pids_with(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| alive(*pid))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|b| *b == 0).any(|arg| String::from_utf8_lossy(arg).contains(needle)))
        })
        .collect()
}

/// Waits until a live process has an argument containing `needle`; its pid.
pub fn wait_for_process(needle: &str) -> u32 {
    let mut found = Vec::new();
    wait_until(&format!("a process with {needle}"), || {
        found = pids_with(needle);
        !found.is_empty()
    });
    found[0]
}

/// True while `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| !rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

/// Waits (bounded) until `pid` is gone.
pub fn wait_gone(pid: u32) {
    wait_until(&format!("process {pid} to be gone"), || !alive(pid));
}

#[test]
fn tail_lines_become_frames_and_terminate_kills_tail() {
    let owner = Owner::start();
    let log = owner.dir.path().join("app.log");
    write_line(&log, "first");
    let spawned = spawn_active(&owner.store, "app", &tail(&log));
    recv(&owner.store, "app.recv", "first");
    write_line(&log, "second");
    let second = recv(&owner.store, "app.recv", "second");
    assert_eq!(meta_str(&second, "generator_id"), Some(spawned.id.to_string()));
    let pid = wait_for_process(log.to_str().unwrap());
    let request = terminate(&owner.store, "app");
    let terminated = event(&owner.store, "app", "terminated", spawned.id);
    assert!(terminated.id > request.id);
    wait_gone(pid);
    write_line(&log, "third");
    std::thread::sleep(Duration::from_millis(300));
    assert!(frames(&owner.store, "app.recv").iter().all(|f| payload(&owner.store, f) != "third"));
}

#[test]
fn records_become_meta_strings_payloads_and_a_natural_end_restarts_with_a_delay() {
    let owner = Owner::start();
    let spawned =
        spawn_active(&owner.store, "n", r#"{run: {|| [{k: 1}, "text", 42] }, return_options: {suffix: ".got"}}"#);
    let first = settle(&owner.store, "n.got", 3);
    assert_eq!(first.len(), 3, "one run, then a pause of a second");
    assert_eq!(first[0].meta.as_ref().unwrap()["k"], 1);
    assert_eq!(meta_str(&first[0], "generator_id"), Some(spawned.id.to_string()));
    assert_eq!(payload(&owner.store, &first[1]), "text");
    assert_eq!(payload(&owner.store, &first[2]), "42");
    wait_until("a second run", || frames(&owner.store, "n.got").len() >= 6);
    let second = frames(&owner.store, "n.got");
    let gap = second[3].id.timestamp() - first[2].id.timestamp();
    assert!(gap >= 900, "the restart waited about a second ({gap} ms)");
    // A rewrite is briefly two frames (the old one is trimmed after the new
    // one is published); restarts must not accumulate them.
    wait_until("restarts rewrite one frame", || frames(&owner.store, "xs.generator.n.restarting").len() == 1);
    assert_eq!(frames(&owner.store, "xs.generator.n.active").len(), 1, "no lifecycle frame per restart");
    terminate_and_wait(&owner.store, "n", spawned.id);
}

#[test]
fn an_external_that_does_not_exist_fails_with_nushells_message_and_no_restart() {
    let owner = Owner::start();
    let spawned = spawn(&owner.store, "bad", "{run: {|| ^xs-no-such-command-here }}");
    let failed = event(&owner.store, "bad", "failed", spawned.id);
    let error = meta_str(&failed, "error").unwrap();
    assert!(error.contains("xs-no-such-command-here"), "{error}");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(frames(&owner.store, "xs.generator.bad.restarting").is_empty());
    assert_eq!(frames(&owner.store, "xs.generator.bad.active").len(), 1);
}

#[test]
fn a_script_that_does_not_parse_is_invalid() {
    let owner = Owner::start();
    let spawned = spawn(&owner.store, "broken", "{run: {|| ");
    let invalid = event(&owner.store, "broken", "invalid", spawned.id);
    assert!(meta_str(&invalid, "error").unwrap().contains("xs.generator.broken.spawn"));
    let wrong = spawn(&owner.store, "wrong", "{run: {|| 1 }, bogus: 1}");
    let invalid = event(&owner.store, "wrong", "invalid", wrong.id);
    assert!(meta_str(&invalid, "error").unwrap().contains("bogus"));
    let params = spawn(&owner.store, "params", "{run: {|x| $x }}");
    let invalid = event(&owner.store, "params", "invalid", params.id);
    assert!(meta_str(&invalid, "error").unwrap().contains("no parameters"));
}

#[test]
fn duplex_sends_reach_the_pipeline_and_come_back() {
    let owner = Owner::start();
    let spawned = spawn_active(&owner.store, "echo", "{run: {|| ^cat }, duplex: true}");
    let send = append_with(&owner.store, "echo.send", "ping\n");
    let back = recv(&owner.store, "echo.recv", "ping");
    assert_eq!(meta_str(&back, "generator_id"), Some(spawned.id.to_string()));
    let latency = back.id.timestamp() - send.id.timestamp();
    assert!(latency < 1000, "a send arrives as it is appended, not on a polling tick ({latency} ms)");
    append_with(&owner.store, "echo.send", "pong\n");
    recv(&owner.store, "echo.recv", "pong");
    terminate_and_wait(&owner.store, "echo", spawned.id);
}

/// Bytes that are not UTF-8 and hold a newline.
const BLOB: [u8; 5] = [0, 255, b'\n', 1, 2];

/// A file of [`BLOB`] in the owner's directory.
fn blob_file(owner: &Owner) -> std::path::PathBuf {
    let path = owner.dir.path().join("blob.bin");
    std::fs::write(&path, BLOB).unwrap();
    path
}

#[test]
fn binary_values_and_binary_streams_become_payload_bytes() {
    let owner = Owner::start();
    let data = blob_file(&owner);
    let script = format!("{{run: {{|| [0x[de ad]] | append (open --raw {:?} | into binary) }}}}", data);
    spawn_active(&owner.store, "bin", &script);
    let got = settle(&owner.store, "bin.recv", 2);
    let bytes: Vec<Vec<u8>> = got.iter().map(|f| owner.store.cas_read(f.hash.as_ref().unwrap()).unwrap()).collect();
    assert_eq!(bytes, [vec![0xde, 0xad], BLOB.to_vec()]);
    terminate(&owner.store, "bin");
}

#[test]
fn binary_output_is_one_frame_per_chunk_not_per_line() {
    let owner = Owner::start();
    let data = blob_file(&owner);
    let script = format!("{{run: {{|| open --raw {:?} | bytes at 0.. }}}}", data);
    spawn_active(&owner.store, "chunks", &script);
    let got = settle(&owner.store, "chunks.recv", 1);
    let bytes: Vec<u8> = got.iter().flat_map(|f| owner.store.cas_read(f.hash.as_ref().unwrap()).unwrap()).collect();
    assert_eq!(bytes, BLOB);
    assert_eq!(got.len(), 1, "one chunk: the newline did not split it");
    terminate(&owner.store, "chunks");
}
