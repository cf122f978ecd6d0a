//! Two `nu` processes on one store: the first to call owns it, the other is
//! its client; when the owner's `nu` exits the other takes over, and a
//! follow running in it resumes with no gap and no duplicate.

use std::time::Duration;

use serde_json::json;

use crate::common::{DEADLINE, Shell};

const WAIT: Duration = Duration::from_secs(20);

// Local only: takeover; a remote store is never taken over (remote.rs
// checks a follow resuming after its remote owner restarts instead).
#[test]
fn the_other_shell_takes_over_when_the_owner_exits() {
    let shell = Shell::new();
    // The owner: appends, then waits for a `stop` frame.
    let mut owner = shell.spawn("xs append first | to json -r | print; xs cat -f --new -T stop | first 1 | ignore");
    let first = owner.json_line(WAIT);
    // A follower in another nu, a client of the owner.
    let mut follower = shell.spawn("xs cat -f -T clip | each {|f| print ($f | to json -r); $f } | first 3 | ignore");
    let a = shell.json(r#""a" | xs append clip"#);
    assert_eq!(follower.json_line(WAIT), a);
    // The owner exits; the next call takes the store over.
    shell.json("xs append stop");
    assert!(owner.wait(DEADLINE).status.success());
    let b = shell.json(r#""b" | xs append clip"#);
    let c = shell.json(r#""c" | xs append clip"#);
    assert_eq!(follower.json_line(WAIT), b);
    assert_eq!(follower.json_line(WAIT), c);
    assert!(follower.wait(DEADLINE).status.success());
    let topics = shell.json("xs cat | get topic");
    assert_eq!(topics, json!(["first", "clip", "stop", "clip", "clip"]));
    assert_eq!(shell.json("xs cat | first").get("id"), first.get("id"));
}

both_ways! {
    fn both_shells_read_and_write(shell) {
        let mut owner = shell.spawn("xs append one | to json -r | print; xs cat -f --new -T stop | first 1 | ignore");
        owner.json_line(WAIT);
        let payload = shell.json(r#""two" | xs append two | xs cas"#);
        assert_eq!(payload, json!("two"));
        assert_eq!(shell.json("xs cat | get topic"), json!(["one", "two"]));
        shell.json("xs append stop");
        assert!(owner.wait(DEADLINE).status.success());
    }
}
