//! `xs cas` and `xs cas put`.

use serde_json::json;

both_ways! {
    fn the_hash_comes_from_an_argument_a_string_or_a_frame(shell) {
        let hash = shell.json(r#""hi" | xs cas put"#);
        let hash = hash.as_str().unwrap();
        assert_eq!(shell.json(&format!("xs cas {hash}")), json!("hi"));
        assert_eq!(shell.json(&format!("'{hash}' | xs cas")), json!("hi"));
        assert_eq!(shell.json(r#""clip" | xs append c | ignore; xs last c | xs cas"#), json!("clip"));
        assert_eq!(shell.json("xs append none | xs cas"), json!(null));
    }
}

both_ways! {
    fn utf8_is_a_string_and_other_bytes_binary(shell) {
        assert_eq!(shell.json(r#""héllo" | xs cas put | xs cas | describe"#), json!("string"));
        assert_eq!(shell.json("0x[c3 28] | xs cas put | xs cas | describe"), json!("binary"));
        assert_eq!(shell.json("0x[c3 28] | xs cas put | xs cas | encode hex"), json!("C328"));
    }
}

both_ways! {
    fn large_payloads_stream_back_intact(shell) {
        let bytes: Vec<u8> = (0..(5u32 << 20)).map(|i| (i % 251) as u8).collect();
        std::fs::write(shell.dir.path().join("big"), &bytes).unwrap();
        let same = shell
            .json("let h = (open --raw big | xs cas put); (xs cas $h | hash sha256) == (open --raw big | hash sha256)");
        assert_eq!(same, json!(true));
    }
}

both_ways! {
    fn put_records_as_json_and_matches_append(shell) {
        assert_eq!(shell.json("{a: 1} | xs cas put | xs cas | from json"), json!({"a": 1}));
        let same = shell.json(r#"("x" | xs cas put) == ("x" | xs append x).hash"#);
        assert_eq!(same, json!(true));
    }
}
