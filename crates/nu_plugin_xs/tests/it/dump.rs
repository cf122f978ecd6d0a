//! `xs export` then `xs import` into a new store: identical frames and bytes.

use serde_json::json;

use crate::common::Shell;

#[test]
fn round_trip_keeps_ids_and_bytes() {
    let shell = Shell::new();
    std::fs::write(shell.dir.path().join("big"), (0..200_000u32).flat_map(u32::to_le_bytes).collect::<Vec<_>>())
        .unwrap();
    shell.json(
        r#"["a" (0x[00 ff]) {k: 1}] | each {|p| $p | xs append clip --meta {m: 1} } | length;
           open --raw big | xs append big | ignore; "a" | xs append dup --ttl last:5 | ignore;
           xs append none | ignore; xs append gone --ttl ephemeral | ignore"#,
    );
    let summary = shell.json("xs export dump");
    assert_eq!(summary, json!({"frames": 6, "payloads": 4}));
    let restored = shell.json("xs import dump --store restored");
    assert_eq!(restored, json!({"frames": 6, "payloads": 4}));
    let detail = "xs cat --detail";
    assert_eq!(shell.json(&format!("{detail} --store restored")), shell.json(detail));
    let bytes = "xs cat | each {|f| if $f.hash == null { null } else { xs cas $f.hash | into binary | hash sha256 } }";
    let same = shell.json(&format!("({bytes}) == (do {{ $env.XS_STORE = ($env.PWD | path join restored); {bytes} }})"));
    assert_eq!(same, json!(true));
    // New ids go above the imported ones.
    let newer = shell.json("(xs append later --store restored).id > (xs last --store restored dup).id");
    assert_eq!(newer, json!(true));
}

#[test]
fn import_is_all_or_nothing_and_can_be_rerun() {
    let shell = Shell::new();
    shell.json(r#""x" | xs append a | ignore; "y" | xs append b | ignore; xs export dump"#);
    // A missing payload: nothing is stored.
    let payloads: Vec<_> =
        std::fs::read_dir(shell.dir.path().join("dump/cas")).unwrap().map(|e| e.unwrap().path()).collect();
    let saved = std::fs::read(&payloads[1]).unwrap();
    std::fs::remove_file(&payloads[1]).unwrap();
    assert!(shell.fails("xs import dump --store restored").contains("no content in the CAS"));
    assert_eq!(shell.json("xs cat --store restored | length"), json!(0));
    // A damaged payload: nothing is stored.
    std::fs::write(&payloads[1], b"tampered").unwrap();
    assert!(shell.fails("xs import dump --store restored").contains("damaged"));
    assert_eq!(shell.json("xs cat --store restored | length"), json!(0));
    // Repaired, it imports; run again, it skips what is there.
    std::fs::write(&payloads[1], saved).unwrap();
    assert_eq!(shell.json("xs import dump --store restored | get frames"), json!(2));
    assert_eq!(shell.json("xs import dump --store restored | get frames"), json!(0));
    assert_eq!(shell.json("xs cat --store restored | get topic"), json!(["a", "b"]));
}

#[test]
fn import_refuses_older_ids_and_export_a_used_dir() {
    let shell = Shell::new();
    shell.json("xs append a | ignore; xs export dump");
    shell.json("xs append newer --store other");
    let stderr = shell.fails("xs import dump --store other");
    assert!(stderr.contains("cannot be imported"), "{stderr}");
    assert_eq!(shell.json("xs cat --store other | get topic"), json!(["newer"]));
    assert!(shell.fails("xs export dump").contains("not empty"));
}
