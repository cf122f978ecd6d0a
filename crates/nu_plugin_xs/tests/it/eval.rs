//! `xs eval` in the real `nu`: a script run by the store's owner (this
//! shell's plugin, another shell's, or a remote owner over TCP), its
//! output back as values.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use serde_json::json;

use crate::common::{DEADLINE, Shell};

both_ways! {
fn values_streams_and_bytes_come_back_as_nushell_values(shell) {
    assert_eq!(shell.json(r#"xs eval '"hi" | xs append note | get topic'"#), json!("note"));
    assert_eq!(shell.json("xs last note | xs cas"), json!("hi"), "the owner's append is in the store");
    assert_eq!(shell.json("xs eval '2 + 3'"), json!(5));
    assert_eq!(shell.json("'{a: [1 2]}' | xs eval"), json!({"a": [1, 2]}), "the script as pipeline input");
    assert_eq!(shell.json("xs eval '1..3 | each {|n| $n * 10}'"), json!([10, 20, 30]));
    let described = shell.json("xs eval '1..3 | each {|n| $n}' | describe");
    assert!(described.as_str().is_some_and(|d| d.ends_with("(stream)")), "a list stream: {described}");
    assert_eq!(shell.json("xs eval '0x[41 00 ff]' | into binary | encode hex"), json!("4100FF"));
    assert_eq!(
        shell.json("xs eval '1.. | each {|n| $n}' | first 3"),
        json!([1, 2, 3]),
        "an endless stream ends when read no more"
    );
}
}

both_ways! {
fn a_script_error_carries_nushells_message(shell) {
    let stderr = shell.fails(r#"xs eval 'error make {msg: "boom from the owner"}'"#);
    assert!(stderr.contains("boom from the owner"), "{stderr}");
    let stderr = shell.fails("xs eval");
    assert!(stderr.contains("no script to run"), "{stderr}");
}
}

#[test]
fn a_client_shell_evaluates_in_the_owner_with_its_modules() {
    let shell = Shell::new();
    let mut owner = shell.spawn("xs append started | to json -r | print; xs cat -f --new -T stop | first 1 | ignore");
    owner.json_line(Duration::from_secs(20));
    shell.json(r#""export def main [name: string] { $'hi ($name)' }" | xs append xs.module.greet"#);
    let answer = shell.json("{out: (xs eval 'use greet; {says: (greet bob), pid: $nu.pid}'), status: (xs status)}");
    assert_eq!(answer["out"]["says"], json!("hi bob"));
    assert_eq!(answer["status"]["role"], json!("client"));
    assert_eq!(answer["out"]["pid"], answer["status"]["owner_pid"], "evaluated by the owning process");
    shell.json("xs append stop");
    assert!(owner.wait(DEADLINE).status.success());
}

both_ways! {
/// Ctrl-C on a client's `xs eval` of a script that never answers stops
/// the script on the owner (another shell's plugin, or the remote owner).
fn ctrl_c_stops_the_script_on_the_owner(shell) {
    let local = shell.url().is_none();
    let owner = local.then(|| {
        let mut owner =
            shell.spawn("xs append started | to json -r | print; xs cat -f --new -T stop | first 1 | ignore");
        owner.json_line(Duration::from_secs(20));
        owner
    });
    let client = shell.spawn("xs eval 'loop { xs append tick | ignore; sleep 20ms }'");
    let ticks = || shell.json("xs cat -T tick | length").as_u64().unwrap();
    let deadline = Instant::now() + DEADLINE;
    while ticks() < 3 {
        assert!(Instant::now() < deadline, "the script never ran");
    }
    let interrupted = Command::new("kill").args(["-INT", &client.pid().to_string()]).status().unwrap();
    assert!(interrupted.success());
    client.wait(DEADLINE);
    // The ticks stop: two counts half a second apart agree.
    loop {
        let before = ticks();
        std::thread::sleep(Duration::from_millis(500));
        if ticks() == before {
            break;
        }
        assert!(Instant::now() < deadline, "the script kept running after Ctrl-C");
    }
    if let Some(owner) = owner {
        shell.json("xs append stop");
        assert!(owner.wait(DEADLINE).status.success());
    }
}
}
