//! Every bad input is an error naming what was wrong, underlining the
//! argument at fault, and leaving the store as it was.

use serde_json::json;

use crate::common::Shell;

/// A store with one frame, and the frames it holds.
fn store(shell: Shell) -> (Shell, serde_json::Value) {
    shell.json(r#""keep" | xs append keep"#);
    let frames = shell.frames();
    (shell, frames)
}

/// Runs `script`, expects an error mentioning each of `needles`, and checks
/// the store is unchanged.
fn rejects(shell: &Shell, before: &serde_json::Value, script: &str, needles: &[&str]) {
    let stderr = shell.fails(script);
    for needle in needles {
        assert!(stderr.contains(needle), "`{script}`: {needle:?} missing from:\n{stderr}");
    }
    assert_eq!(&shell.frames(), before, "`{script}` changed the store");
}

both_ways! {
    fn bad_topics(shell) {
        let (shell, before) = store(shell);
        rejects(&shell, &before, r#""x" | xs append bad..topic"#, &["invalid topic", "bad..topic", "cannot contain '..'"]);
        rejects(&shell, &before, "xs append 1abc", &["invalid topic", "starts with a letter"]);
        rejects(&shell, &before, "xs cat -T 'a,b..c'", &["invalid topic"]);
        rejects(&shell, &before, "xs last 'x.'", &["invalid topic"]);
    }
}

both_ways! {
    fn runtime_topics(shell) {
        let (shell, before) = store(shell);
        for topic in ["xs.pulse", "xs.threshold", "xs.handler.x.active", "xs.generator.x.terminated"] {
            rejects(&shell, &before, &format!("xs append {topic}"), &["reserved for the runtime", topic]);
        }
        assert_eq!(shell.json("xs append xs.handler.x.unregister | get topic"), json!("xs.handler.x.unregister"));
    }
}

both_ways! {
    fn bad_ttls(shell) {
        let (shell, before) = store(shell);
        rejects(&shell, &before, r#""x" | xs append t --ttl soon"#, &["invalid TTL", "soon"]);
        rejects(&shell, &before, "xs append t --ttl last:0", &["invalid TTL"]);
        rejects(&shell, &before, "xs append t --ttl (-1sec)", &["invalid TTL"]);
    }
}

both_ways! {
    fn bad_and_unknown_ids(shell) {
        let (shell, before) = store(shell);
        rejects(&shell, &before, "xs get nope", &["invalid id", "nope"]);
        rejects(&shell, &before, "xs remove nope", &["invalid id"]);
        rejects(&shell, &before, "xs cat --after nope", &["invalid id"]);
        rejects(&shell, &before, "xs id unpack nope", &["invalid id"]);
        let unknown = "03amo4vrpq0xs2alqicv0426b";
        rejects(&shell, &before, &format!("xs get {unknown}"), &["no frame with id", unknown]);
        rejects(&shell, &before, &format!("xs remove {unknown}"), &["no frame with id"]);
        rejects(&shell, &before, "{timestamp: 2020-01-01} | xs id pack", &["no counter_hi field"]);
    }
}

both_ways! {
    fn bad_and_unknown_hashes(shell) {
        let (shell, before) = store(shell);
        rejects(&shell, &before, "xs cas nope", &["invalid hash"]);
        let unknown = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        rejects(&shell, &before, &format!("xs cas {unknown}"), &["no content in the CAS"]);
        rejects(&shell, &before, "{a: 1} | xs cas", &["no hash field"]);
    }
}

both_ways! {
    /// Hashes ssri would parse but the store cannot use are refused by name,
    /// from the argument, the pipeline and a dump, and the plugin lives on.
    fn unusable_hashes(shell) {
        let (shell, before) = store(shell);
        let good = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        let six = [good; 6].join(" ");
        let mixed = format!("{good} sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
        for hash in ["sha256-!!!", "", "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=", six.as_str(), mixed.as_str()] {
            rejects(&shell, &before, &format!("xs cas '{hash}'"), &["invalid hash"]);
            rejects(&shell, &before, &format!("{{hash: '{hash}'}} | xs cas"), &["invalid hash"]);
            // The same shell (and plugin) still answers afterwards.
            let script = format!("try {{ xs cas '{hash}' }} catch {{|e| $e.msg }}; xs last keep | xs cas");
            assert_eq!(shell.json(&script), json!("keep"), "{hash:?}");
        }
        let dump = shell.dir.path().join("dump");
        std::fs::create_dir_all(dump.join("cas")).unwrap();
        let line = json!({"topic": "t", "id": "03amo4vrpq0xs2alqicv0426b", "hash": "sha256-!!!"});
        std::fs::write(dump.join("frames.jsonl"), format!("{line}\n")).unwrap();
        rejects(&shell, &before, "xs import dump", &["invalid hash", "sha256-!!!"]);
    }
}

both_ways! {
    fn meta_must_be_a_record(shell) {
        let (shell, before) = store(shell);
        rejects(&shell, &before, "xs append t --meta 'text'", &["meta"]);
        rejects(&shell, &before, "let m: any = [1]; xs append t --meta $m", &["meta"]);
        rejects(&shell, &before, "xs append t --meta {f: {|| 1 }}", &["cannot be stored as JSON"]);
    }
}

both_ways! {
    fn the_label_underlines_the_argument(shell) {
        let (shell, _) = store(shell);
        let stderr = shell.fails("xs append t --ttl soon");
        // miette draws the label under the span: the flag and its value (Nushell
        // spans a flag's value from the flag's name), not the command.
        let mut lines = stderr.lines().skip_while(|l| !l.contains("xs append t --ttl soon"));
        let (source, marks) = (lines.next().unwrap(), lines.next().unwrap());
        assert_eq!(marks.find('^'), source.find("--ttl soon"), "{stderr}");
        assert_eq!(marks.matches('^').count() + marks.matches('|').count(), "--ttl soon".len(), "{stderr}");
        // A positional argument is underlined alone.
        let stderr = shell.fails("xs get nope");
        let mut lines = stderr.lines().skip_while(|l| !l.contains("xs get nope"));
        let (source, marks) = (lines.next().unwrap(), lines.next().unwrap());
        assert_eq!(marks.find('^'), source.find("nope"), "{stderr}");
    }
}

// Local only: it is about store directories.
#[test]
fn unusable_store_paths() {
    let (shell, _) = store(Shell::new());
    std::fs::write(shell.dir.path().join("file"), b"x").unwrap();
    let stderr = shell.fails("xs append t --store file");
    assert!(stderr.contains("not a directory") && stderr.contains("file"), "{stderr}");
    let stderr = shell.fails("with-env {XS_STORE: file} { xs cat }");
    assert!(stderr.contains("not a directory"), "{stderr}");
    assert_eq!(shell.json("xs cat --store sub | length"), json!(0));
    assert!(shell.dir.path().join("sub").is_dir(), "relative to the user's cwd");
}
