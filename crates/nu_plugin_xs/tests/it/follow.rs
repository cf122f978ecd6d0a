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

#[test]
fn first_3_ends_once_three_frames_exist() {
    let shell = Shell::new();
    shell.json("1..3 | each { xs append x } | length");
    assert_eq!(shell.json("xs cat -f | first 3 | get topic"), json!(["x", "x", "x"]));
}

#[test]
fn sees_appends_from_another_nu_then_first_ends_it() {
    let shell = Shell::new();
    let mut follower = shell.spawn(&format!("xs cat -f | {PRINT} | first 3 | ignore"));
    assert_eq!(follower.json_line(WAIT)["topic"], "xs.threshold");
    let a = shell.json(r#""one" | xs append clip"#);
    assert_eq!(follower.json_line(WAIT), a);
    let b = shell.json(r#""two" | xs append clip"#);
    assert_eq!(follower.json_line(WAIT), b);
    assert!(follower.wait(DEADLINE).status.success());
}

#[test]
fn first_ends_a_follow_of_an_empty_store_when_frames_come() {
    let shell = Shell::new();
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

#[test]
fn a_topic_filter_leaves_the_threshold_out() {
    let shell = Shell::new();
    shell.json("xs append clip; xs append other; xs append clip");
    assert_eq!(shell.json("xs cat -f -T clip | first 2 | get topic"), json!(["clip", "clip"]));
    let topics = shell.json("xs cat -f -T [clip xs.threshold] | first 3 | get topic");
    assert_eq!(topics, json!(["clip", "clip", "xs.threshold"]));
}

#[test]
fn a_limit_ends_a_follow() {
    let shell = Shell::new();
    shell.json("1..3 | each { xs append x } | length");
    assert_eq!(shell.json("xs cat -f --limit 2 | where topic == x | length"), json!(2));
}

#[test]
fn pulse_frames_arrive_while_following() {
    let shell = Shell::new();
    let pulses = shell.json("xs cat --pulse 50ms | where topic == xs.pulse | first 2 | get topic");
    assert_eq!(pulses, json!(["xs.pulse", "xs.pulse"]));
}

#[test]
fn ctrl_c_stops_an_idle_follow_and_frees_the_store() {
    let shell = Shell::new();
    let mut follower = shell.spawn(&format!("xs cat -f | {PRINT}"));
    assert_eq!(follower.json_line(WAIT)["topic"], "xs.threshold");
    let pid = follower.pid().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let out = follower.wait(Duration::from_secs(10));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"), "{out:?}");
    // The owner is gone: the next shell takes the store over.
    assert_eq!(shell.json("xs append after | get topic"), json!("after"));
}

#[test]
fn last_follow_gives_the_newest_then_new_ones() {
    let shell = Shell::new();
    shell.json("xs append clip --meta {n: 1}; xs append clip --meta {n: 2}; xs append other");
    let mut follower = shell.spawn(&format!("xs last clip -f | {PRINT} | first 2 | ignore"));
    assert_eq!(follower.json_line(WAIT)["meta"], json!({"n": 2}));
    shell.json("xs append other; xs append clip --meta {n: 3}");
    assert_eq!(follower.json_line(WAIT)["meta"], json!({"n": 3}));
    assert!(follower.wait(DEADLINE).status.success());
}

/// After a warm-up follow, prints the plugin's pid and thread count as
/// JSON, abandons 1,000 follows of a topic that receives nothing live
/// (`first 1` takes its one stored frame), prints `looped`, and stays.
const ABANDON: &str = r#"
    xs cat -f -T quiet | first 1 | ignore
    let pid = plugin list | where name == xs | get 0.pid
    print ({pid: $pid, threads: (ls $"/proc/($pid)/task" | length), role: (xs status).role} | to json -r)
    for _ in 1..1000 { xs cat -f -T quiet | first 1 | ignore }
    print looped
    sleep 1min
"#;

#[test]
fn abandoned_follows_leave_no_thread_in_the_owner() {
    let shell = Shell::new();
    let nu = shell.spawn(&format!("xs append quiet | ignore; {ABANDON}"));
    assert_threads_return(nu, "owner");
}

#[test]
fn abandoned_follows_leave_no_thread_in_a_client() {
    let shell = Shell::new();
    let mut owner = shell.spawn("xs append quiet | to json -r | print; xs cat -f --new -T stop | first 1 | ignore");
    owner.json_line(WAIT);
    let nu = shell.spawn(ABANDON);
    assert_threads_return(nu, "client");
    shell.json("xs append stop");
    assert!(owner.wait(DEADLINE).status.success());
}

/// Within a second of the loop, the plugin of `nu` (in `role`) has no
/// more threads than after its warm-up follow.
fn assert_threads_return(mut nu: Background, role: &str) {
    let start = nu.json_line(WAIT);
    assert_eq!(start["role"], role);
    let pid = start["pid"].as_u64().expect("the plugin's pid");
    let before = start["threads"].as_u64().expect("a thread count");
    assert_eq!(nu.line(Duration::from_secs(240)), "looped");
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut after = threads(pid);
    while after > before && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
        after = threads(pid);
    }
    assert!(
        after <= before,
        "the {role}'s plugin had {before} threads before 1,000 abandoned follows, {after} a second after"
    );
}

fn threads(pid: u64) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the plugin is running");
    tasks.count() as u64
}
