//! The embedded engine: the store commands under the plugin's names,
//! modules, the standard library, and the process's stdio left alone.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Command, Stdio},
    sync::mpsc,
    time::Instant,
};

use serde_json::json;
use xs_core::{Store, processor::Processor};

use crate::{
    common::{PATIENCE, append},
    processor::common::{Owner, append_with, lifecycle, meta_str, register, settle, wait_for},
};

/// Registers `run` (the body of a closure over `frame` and `state`) as a
/// handler of `t` frames that finishes after one, and returns its `out`.
fn run_once(owner: &Owner, name: &str, body: &str) -> serde_json::Value {
    let script = format!("{{run: {{|frame, state| {{out: ({body}), next: null}} }}, topics: [t]}}");
    let reg = register(&owner.store, name, &script);
    lifecycle(&owner.store, name, "active", reg.id);
    append(&owner.store, "t");
    let out = wait_for(&owner.store, &format!("{name}.out"), None, |_| true);
    out.meta.expect("out has meta")
}

#[test]
fn store_commands_have_the_plugins_names() {
    let owner = Owner::start();
    let note = append_with(&owner.store, "note", "hello");
    let body = format!(
        r#"{{
        last: (xs last note).id,
        last_list: (xs last note 1 | length),
        get: (xs get {id}).topic,
        cas: (xs last note | xs cas),
        put: ("hello" | xs cas put),
        cat: (xs cat -T note --last 1 | get 0.id),
        id_len: (xs id | str length),
        id_round_trip: ((xs id unpack {id} | xs id pack) == "{id}"),
    }}"#,
        id = note.id
    );
    let out = run_once(&owner, "cmds", &body);
    let id = json!(note.id.to_string());
    assert_eq!(out["last"], id);
    assert_eq!(out["last_list"], 1);
    assert_eq!(out["get"], "note");
    assert_eq!(out["cas"], "hello");
    assert_eq!(out["put"], json!(note.hash.unwrap().to_string()));
    assert_eq!(out["cat"], id);
    assert_eq!(out["id_len"], 25);
    assert_eq!(out["id_round_trip"], true);
}

#[test]
fn a_handler_reads_its_own_finished_output() {
    let owner = Owner::start();
    let script = "{run: {|frame, state| {out: {previous: (xs last r.out | get -o meta.n), n: $state}, next: ($state + 1)}}, initial: 0, topics: [t]}";
    let reg = register(&owner.store, "r", script);
    lifecycle(&owner.store, "r", "active", reg.id);
    for _ in 0..3 {
        append(&owner.store, "t");
    }
    let outs = settle(&owner.store, "r.out", 3);
    let previous: Vec<_> = outs.iter().map(|f| f.meta.as_ref().unwrap()["previous"].clone()).collect();
    assert_eq!(previous, [json!(null), json!(0), json!(1)]);
}

#[test]
fn xs_remove_works_and_another_store_is_refused() {
    let owner = Owner::start();
    let doomed = append(&owner.store, "doomed");
    let out = run_once(&owner, "rm", &format!("{{removed: (xs remove {} | describe)}}", doomed.id));
    assert_eq!(out["removed"], "nothing");
    assert_eq!(owner.store.get(&doomed.id).unwrap(), None);
    let elsewhere = tempfile::tempdir().unwrap();
    let script =
        format!("{{run: {{|frame, state| xs append x --store {}; null}}, topics: [t]}}", elsewhere.path().display());
    let reg = register(&owner.store, "other", &script);
    lifecycle(&owner.store, "other", "active", reg.id);
    append(&owner.store, "t");
    let failed = lifecycle(&owner.store, "other", "failed", reg.id);
    assert!(meta_str(&failed, "error").unwrap().contains("not the store"), "{failed:?}");
}

#[test]
fn the_standard_library_and_commands_are_there_and_exec_is_not() {
    let owner = Owner::start();
    let out = run_once(
        &owner,
        "std",
        "use std/assert; assert equal 1 1; {sum: ([1 2 3] | math sum), up: ('a' | str upcase)}",
    );
    assert_eq!(out, json!({"sum": 6, "up": "A", "frame_id": out["frame_id"], "handler_id": out["handler_id"]}));
    let reg = register(&owner.store, "ex", "{run: {|frame, state| exec ls}, topics: [t]}");
    lifecycle(&owner.store, "ex", "active", reg.id);
    append(&owner.store, "t");
    let failed = lifecycle(&owner.store, "ex", "failed", reg.id);
    assert!(meta_str(&failed, "error").unwrap().contains("exec is not available"), "{failed:?}");
}

#[test]
fn externals_run_with_pipes() {
    let owner = Owner::start();
    let out =
        run_once(&owner, "ext", "{echo: (^echo hi | str trim), status: (^sh -c 'exit 3' | complete | get exit_code)}");
    assert_eq!(out["echo"], "hi");
    assert_eq!(out["status"], 3);
}

#[test]
fn a_module_is_usable_by_handlers_registered_after_it() {
    let owner = Owner::start();
    append_with(&owner.store, "xs.module.shout", "export def main [s: string] { $s | str upcase }");
    let out = run_once(&owner, "m", "use shout; {says: (shout 'hi')}");
    assert_eq!(out["says"], "HI");
}

/// Run in a child process: owns the store in `XS_IT_DIR` with its
/// processor, reports the handler's output on stdout, and exits when
/// stdin closes.
#[test]
#[ignore = "run as a child of scripts_never_touch_the_process_stdio"]
fn child_owner_for_stdio() {
    if !crate::child::is("processor::engine::child_owner_for_stdio") {
        return;
    }
    let store = Store::new(std::env::var("XS_IT_DIR").unwrap()).unwrap();
    let processor = Processor::spawn(store.clone()).unwrap();
    let out = wait_for(&store, "io.out", None, |_| true);
    println!("OUT {}", out.meta.unwrap());
    crate::child::wait_for_parent();
    processor.shutdown();
}

#[test]
fn scripts_never_touch_the_process_stdio() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::new(dir.path()).unwrap();
        let script = r#"{run: {|frame, state|
            ^sh -c 'echo LEAK-external-out; echo LEAK-external-err >&2'
            print "LEAK-print"
            print -e "LEAK-print-stderr"
            let stdin = (^cat | complete)
            {out: {stdin: $stdin.stdout}, next: null}
        }, topics: [t], start: "first"}"#;
        register(&store, "io", script);
        append(&store, "t");
        store.close();
    }
    let name = "processor::engine::child_owner_for_stdio";
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--ignored", "--nocapture", "--test-threads=1", "-q"])
        .env("XS_IT_CHILD", name)
        .env("XS_IT_DIR", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, stdout) = lines_of(child.stdout.take().unwrap());
    let (_, stderr) = lines_of(child.stderr.take().unwrap());
    // The child's stdin stays open until its handler has run: an external
    // that inherited it would block, and no OUT line would come.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.checked_duration_since(Instant::now()).expect("no OUT line from the child");
        if lines.recv_timeout(left).expect("the child's stdout closed").starts_with("OUT ") {
            break;
        }
    }
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    let (out, err) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(status.success(), "child failed: {out}\n{err}");
    assert!(out.contains(r#""stdin":"""#), "an external reads an empty stdin: {out}");
    assert!(!out.contains("LEAK") && !err.contains("LEAK"), "stdout: {out}\nstderr: {err}");
}

/// The lines of `pipe` as they come, and all of it once it closes.
fn lines_of(pipe: impl Read + Send + 'static) -> (mpsc::Receiver<String>, std::thread::JoinHandle<String>) {
    let (tx, rx) = mpsc::channel();
    let all = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    (rx, all)
}

#[test]
fn http_commands_are_there() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = std::io::Read::read(&mut stream, &mut request);
        let body = r#"{"answer":42}"#;
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        std::io::Write::write_all(&mut stream, response.as_bytes()).unwrap();
    });
    let owner = Owner::start();
    let out = run_once(&owner, "web", &format!("{{answer: (http get http://127.0.0.1:{port}/).answer}}"));
    assert_eq!(out["answer"], 42);
    server.join().unwrap();
}
