//! `xs last`, `xs get`, `xs remove`.

use serde_json::json;

both_ways! {
    fn last_gives_a_record_nothing_or_a_list(shell) {
        shell.json("for n in 1..3 { xs append clip --meta {n: $n} | ignore }; xs append clip.x --meta {n: 9}");
        assert_eq!(shell.json("(xs last clip).meta.n"), json!(3));
        assert_eq!(shell.json("(xs last).meta.n"), json!(9));
        assert_eq!(shell.json("xs last clip 2 | get meta.n"), json!([2, 3]));
        assert_eq!(shell.json("xs last clip.* 5 | get meta.n"), json!([9]));
        assert_eq!(shell.json("xs last none"), json!(null));
        assert_eq!(shell.json("xs last none 2"), json!([]));
        assert_eq!(shell.json("xs last clip 0"), json!([]));
        assert_eq!(shell.json("(xs last clip -d).ttl"), json!("forever"));
    }
}

both_ways! {
    fn get_and_remove_by_id(shell) {
        let a = shell.json("xs append a --meta {k: v}");
        let id = a["id"].as_str().unwrap();
        assert_eq!(shell.json(&format!("xs get {id}")), a);
        assert_eq!(shell.json(&format!("xs get {id} --detail | get ttl")), json!("forever"));
        shell.json("xs append b");
        shell.json(&format!("xs remove {id}"));
        assert_eq!(shell.json("xs cat | get topic"), json!(["b"]));
        assert!(shell.fails(&format!("xs get {id}")).contains("no frame with id"));
    }
}
