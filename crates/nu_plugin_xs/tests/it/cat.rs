//! `xs cat` without following: every flag.

use serde_json::json;

use crate::common::Shell;

/// A store with frames a1, b1, a2, b2, a.x (their meta.n: 1..5).
fn store(shell: Shell) -> Shell {
    shell.json(r#"[a b a b a.x] | enumerate | each {|e| xs append $e.item --meta {n: ($e.index + 1)} } | length"#);
    shell
}

fn ns(shell: &Shell, flags: &str) -> serde_json::Value {
    shell.json(&format!("xs cat {flags} | get meta.n"))
}

both_ways! {
    fn replays_everything_in_order(shell) {
        let shell = store(shell);
        assert_eq!(ns(&shell, ""), json!([1, 2, 3, 4, 5]));
        let columns = shell.json("xs cat | first | columns");
        assert_eq!(columns, json!(["id", "topic", "hash", "meta"]));
    }
}

both_ways! {
    fn topic_filters(shell) {
        let shell = store(shell);
        assert_eq!(ns(&shell, "-T a"), json!([1, 3]));
        assert_eq!(ns(&shell, "--topic a.*"), json!([5]));
        assert_eq!(ns(&shell, "-T a,b"), json!([1, 2, 3, 4]));
        assert_eq!(ns(&shell, "-T [a a.* b]"), json!([1, 2, 3, 4, 5]));
        assert_eq!(ns(&shell, "-T '*'"), json!([1, 2, 3, 4, 5]));
    }
}

both_ways! {
    fn limit_last_after_from(shell) {
        let shell = store(shell);
        assert_eq!(ns(&shell, "--limit 2"), json!([1, 2]));
        assert_eq!(ns(&shell, "--last 2"), json!([4, 5]));
        assert_eq!(ns(&shell, "--last 0"), json!([]));
        assert_eq!(ns(&shell, "--last 3 -T b"), json!([2, 4]));
        let second = shell.json("(xs cat).1.id");
        let second = second.as_str().unwrap();
        assert_eq!(ns(&shell, &format!("--after {second}")), json!([3, 4, 5]));
        assert_eq!(ns(&shell, &format!("--from {second}")), json!([2, 3, 4, 5]));
        assert_eq!(ns(&shell, &format!("--from {second} --limit 1")), json!([2]));
    }
}

both_ways! {
    fn new_skips_history(shell) {
        let shell = store(shell);
        assert_eq!(shell.json("xs cat --new"), json!([]));
    }
}

both_ways! {
    fn detail_adds_ttl_and_time(shell) {
        let shell = store(shell);
        let frame = shell.json("xs cat -d | first");
        assert_eq!(frame["ttl"], "forever");
        let same = shell.json("let f = (xs cat -d | first); ($f.time | format date '%s%3f') == (xs id unpack $f.id | get timestamp | format date '%s%3f')");
        assert_eq!(same, json!(true));
        assert!(frame["time"].as_str().unwrap().starts_with("20"));
    }
}

both_ways! {
    fn streams_a_large_store(shell) {
        let n = shell.json("1..1000 | each {|i| xs append bulk --meta {i: $i} } | length");
        assert_eq!(n, json!(1000));
        assert_eq!(shell.json("xs cat | length"), json!(1000));
        // The first rows arrive without the rest being read: `first` ends the stream.
        assert_eq!(shell.json("xs cat | first 2 | get meta.i"), json!([1, 2]));
    }
}
