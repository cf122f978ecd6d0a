//! `xs call` end to end in the real `nu`, on a local store and a remote
//! one: actions registered from the shell, called with args and a
//! payload, an `.error` answer raised with the action's message, a
//! timeout naming the call, `xs status` listing the actions; and
//! `handlers/fetch.nu` against an HTTP server this test starts.

use std::{
    io::{Read, Write},
    net::TcpListener,
};

use serde_json::json;

use crate::common::Shell;

/// Registers the actions `script` names and waits (20 s at most) until all are active.
fn with_actions(actions: &[(&str, &str)], script: &str) -> String {
    let registers: String = actions
        .iter()
        .map(|(name, source)| format!("r#'{source}'# | xs append xs.action.{name}.register | ignore\n"))
        .collect();
    format!(
        "{registers}
        for _ in 1..400 {{
            if (xs status | get actions | where state == active | length) == {n} {{ break }}
            sleep 50ms
        }}
        {script}",
        n = actions.len()
    )
}

both_ways! {
    /// Values, payloads, errors and timeouts.
    fn xs_call_returns_the_answer(shell) {
        let actions = [
            ("echo", "{run: {|frame| {n: $frame.meta.args.n}}}"),
            ("upper", "{run: {|frame| xs cas $frame.hash | str upcase}}"),
            ("boom", "{run: {|frame| error make {msg: 'boom'}}}"),
            ("slow", "{run: {|frame| sleep 30sec}}"),
        ];
        let script = with_actions(&actions, r#"{
            echo: (xs call echo --args {n: 7})
            upper: ("abc" | xs call upper)
            boom: (try { xs call boom; "no error" } catch {|e| $e.msg })
            timeout: (try { xs call slow --timeout 300ms; "no error" } catch {|e| $e.msg })
            nobody: (try { xs call nobody --timeout 10sec; "no error" } catch {|e| $e.msg })
            actions: (xs status | get actions | get name | sort)
        }"#);
        let seen = shell.json(&script);
        assert_eq!(seen["echo"], json!({"n": 7}));
        assert_eq!(seen["upper"], "ABC");
        assert!(seen["boom"].as_str().unwrap().contains("boom"), "{}", seen["boom"]);
        let timeout = seen["timeout"].as_str().unwrap();
        assert!(timeout.starts_with("no answer to call ") && timeout.len() > 40, "{timeout}");
        assert!(seen["nobody"].as_str().unwrap().contains("no action named nobody"), "{}", seen["nobody"]);
        assert_eq!(seen["actions"], json!(["boom", "echo", "slow", "upper"]));
    }
}

/// A one-shot HTTP server on 127.0.0.1: answers every request with `body`.
fn http_server(body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/page", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    url
}

#[test]
fn fetch_stores_the_body_and_answers_status_hash_bytes() {
    let shell = Shell::new();
    let url = http_server("hello from the test server");
    let fetch = concat!(env!("CARGO_MANIFEST_DIR"), "/../../handlers/fetch.nu");
    let script = format!(
            "open {fetch} | xs append xs.action.fetch.register | ignore
            for _ in 1..400 {{ if (xs status | get actions | where state == active | is-not-empty) {{ break }}; sleep 50ms }}
            let page = (xs call fetch --args {{url: '{url}'}}); $page | insert body (xs cas $page.hash)"
    );
    let page = shell.json(&script);
    assert_eq!(page["status"], 200);
    assert_eq!(page["bytes"], 26);
    assert_eq!(page["body"], "hello from the test server");
    assert!(page["hash"].as_str().unwrap().starts_with("sha256-"), "{page}");
}
