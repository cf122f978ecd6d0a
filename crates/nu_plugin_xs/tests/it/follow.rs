//! `xs cat -f` and `xs last -f`: live frames, ending on `first n`, on a
//! limit, and on Ctrl-C, each within a deadline.

use std::{
    process::Command,
    thread,
    time::{Duration, Instant},
};

use serde_json::json;

use crate::common::{Background, DEADLINE, Shell};

/// Prints each frame as a JSON line as it arrives.
const PRINT: &str = "each {|f| print ($f | to json -r); $f }";
const WAIT: Duration = Duration::from_secs(20);

both_ways! {
    fn first_3_ends_once_three_frames_exist(shell) {
        shell.json("1..3 | each { xs append x } | length");
        assert_eq!(shell.json("xs cat -f | first 3 | get topic"), json!(["x", "x", "x"]));
    }
}

both_ways! {
    fn sees_appends_from_another_nu_then_first_ends_it(shell) {
        let mut follower = shell.spawn(&format!("xs cat -f | {PRINT} | first 3 | ignore"));
        assert_eq!(follower.json_line(WAIT)["topic"], "xs.threshold");
        let a = shell.json(r#""one" | xs append clip"#);
        assert_eq!(follower.json_line(WAIT), a);
        let b = shell.json(r#""two" | xs append clip"#);
        assert_eq!(follower.json_line(WAIT), b);
        assert!(follower.wait(DEADLINE).status.success());
    }
}

both_ways! {
    fn first_ends_a_follow_of_an_empty_store_when_frames_come(shell) {
        let mut follower = shell
            .spawn(&format!("xs cat -f --new -T clip,xs.threshold | {PRINT} | where topic == clip | first 2 | to json -r"));
        assert_eq!(follower.json_line(WAIT)["topic"], "xs.threshold");
        shell.json("xs append other");
        let a = shell.json("xs append clip");
        let b = shell.json("xs append clip");
        assert_eq!(follower.json_line(WAIT), a);
        assert_eq!(follower.json_line(WAIT), b);
        let out = follower.wait(DEADLINE);
        assert!(out.status.success());
    }
}

both_ways! {
    fn a_topic_filter_leaves_the_threshold_out(shell) {
        shell.json("xs append clip; xs append other; xs append clip");
        assert_eq!(shell.json("xs cat -f -T clip | first 2 | get topic"), json!(["clip", "clip"]));
        let topics = shell.json("xs cat -f -T [clip xs.threshold] | first 3 | get topic");
        assert_eq!(topics, json!(["clip", "clip", "xs.threshold"]));
    }
}

both_ways! {
    fn a_limit_ends_a_follow(shell) {
        shell.json("1..3 | each { xs append x } | length");
        assert_eq!(shell.json("xs cat -f --limit 2 | where topic == x | length"), json!(2));
    }
}

both_ways! {
    fn pulse_frames_arrive_while_following(shell) {
        let pulses = shell.json("xs cat --pulse 50ms | where topic == xs.pulse | first 2 | get topic");
        assert_eq!(pulses, json!(["xs.pulse", "xs.pulse"]));
    }
}

both_ways! {
    fn ctrl_c_stops_an_idle_follow_and_frees_the_store(shell) {
        let mut follower = shell.spawn(&format!("xs cat -f | {PRINT}"));
        assert_eq!(follower.json_line(WAIT)["topic"], "xs.threshold");
        let pid = follower.pid().to_string();
        assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
        let out = follower.wait(Duration::from_secs(10));
        assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"), "{out:?}");
        // The owner is gone: the next shell takes the store over.
        assert_eq!(shell.json("xs append after | get topic"), json!("after"));
    }
}

both_ways! {
    fn last_follow_gives_the_newest_then_new_ones(shell) {
        shell.json("xs append clip --meta {n: 1}; xs append clip --meta {n: 2}; xs append other");
        let mut follower = shell.spawn(&format!("xs last clip -f | {PRINT} | first 2 | ignore"));
        assert_eq!(follower.json_line(WAIT)["meta"], json!({"n": 2}));
        shell.json("xs append other; xs append clip --meta {n: 3}");
        assert_eq!(follower.json_line(WAIT)["meta"], json!({"n": 3}));
        assert!(follower.wait(DEADLINE).status.success());
    }
}

/// After a warm-up follow, prints as JSON the plugin's pid, role and
/// thread count, and the store owner's pid and open files; abandons 1,000
/// follows of a topic that receives nothing live (`first 1` takes its one
/// stored frame); prints `looped`, and stays.
const ABANDON: &str = r#"
    xs cat -f -T quiet | first 1 | ignore
    let pid = plugin list | where name == xs | get 0.pid
    let status = xs status
    let owner = $status.owner_pid
    let threads = ls $"/proc/($pid)/task" | length
    let files = ls $"/proc/($owner)/fd" | length
    print ({pid: $pid, role: $status.role, threads: $threads, owner: $owner, files: $files} | to json -r)
    for _ in 1..1000 { xs cat -f -T quiet | first 1 | ignore }
    print looped
    sleep 1min
"#;

// Local only: the plugin owns the store here, which a remote store never is.
#[test]
fn abandoned_follows_leave_no_thread_in_the_owner() {
    let shell = Shell::new();
    let nu = shell.spawn(&format!("xs append quiet | ignore; {ABANDON}"));
    assert_follows_end(nu, "owner");
}

// Local only: the owner's open files are counted, and a remote store's
// owner is this test process, whose files the other tests open and close.
#[test]
fn abandoned_follows_leave_no_thread_in_a_client_nor_a_connection_in_the_owner() {
    let shell = Shell::new();
    let mut owner = shell.spawn("xs append quiet | to json -r | print; xs cat -f --new -T stop | first 1 | ignore");
    owner.json_line(WAIT);
    let nu = shell.spawn(ABANDON);
    assert_follows_end(nu, "client");
    shell.json("xs append stop");
    assert!(owner.wait(DEADLINE).status.success());
}

/// Within a second of the loop, the plugin of `nu` (in `role`) has no more
/// threads, and the store's owner no more open files (a client's reads are
/// connections to it), than after the warm-up follow.
fn assert_follows_end(mut nu: Background, role: &str) {
    let start = nu.json_line(WAIT);
    assert_eq!(start["role"], role);
    let count = |key: &str| start[key].as_u64().unwrap_or_else(|| panic!("no {key} in {start}"));
    assert_eq!(nu.line(Duration::from_secs(240)), "looped");
    let threads = back_to(count("threads"), || entries(count("pid"), "task"));
    assert!(threads <= count("threads"), "the {role}'s plugin had {start}, then {threads} threads");
    let files = back_to(count("files"), || entries(count("owner"), "fd"));
    assert!(files <= count("files"), "the owner had {start}, then {files} open files");
}

/// What `measure` gives once it is at most `limit`, or after a second.
fn back_to(limit: u64, measure: impl Fn() -> u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut now = measure();
    while now > limit && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
        now = measure();
    }
    now
}

/// The entries of `/proc/<pid>/<dir>`: its threads (`task`) or open files (`fd`).
fn entries(pid: u64, dir: &str) -> u64 {
    let entries = std::fs::read_dir(format!("/proc/{pid}/{dir}")).expect("the process is running");
    entries.count() as u64
}
