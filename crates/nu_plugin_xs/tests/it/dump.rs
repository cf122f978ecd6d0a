//! `xs export` then `xs import` into a new store: identical frames and bytes.

use serde_json::json;

use crate::common::Shell;

both_ways! {
    fn round_trip_keeps_ids_and_bytes(shell) {
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
}

both_ways! {
    fn import_is_all_or_nothing_and_can_be_rerun(shell) {
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
}

both_ways! {
    fn import_refuses_older_ids_and_export_a_used_dir(shell) {
        shell.json("xs append a | ignore; xs export dump");
        shell.json("xs append newer --store other");
        let stderr = shell.fails("xs import dump --store other");
        assert!(stderr.contains("cannot be imported"), "{stderr}");
        assert_eq!(shell.json("xs cat --store other | get topic"), json!(["newer"]));
        assert!(shell.fails("xs export dump").contains("not empty"));
    }
}

/// A handler that emits `{seen: true}` for every `t` frame and keeps running.
const SEER: &str = "{run: {|frame, state| {out: {seen: true}, next: null}}, topics: [t]}";

/// Registers `name` (the same script) and waits until it is active.
fn register(name: &str) -> String {
    format!(
        "'{SEER}' | xs append xs.handler.{name}.register | ignore; \
         xs cat -f -T xs.handler.{name}.active | first 1 | ignore"
    )
}

/// A store `src` where handler `imp` ran, exported to `dump`.
fn dump_with_a_handler(shell: &Shell) {
    shell.json(&format!("$env.XS_STORE = 'src'; {}; xs export dump | ignore", register("imp")));
}

both_ways! {
    fn import_never_runs_a_dumps_handler_unless_asked(shell) {
        dump_with_a_handler(&shell);
        // A control handler registered after the import: once it has handled a
        // `t`, the processor has seen the imported register, and would have run it.
        let control = format!(
            "xs import dump | ignore; {}; xs append t | ignore; xs cat -f -T ctl.out | first 1 | ignore; sleep 300ms;
             [(xs cat -T imp.out | length) (xs cat -T xs.handler.imp.active | length)]",
            register("ctl")
        );
        assert_eq!(shell.json(&control), json!([0, 1]), "nothing of the dump ran (its own .active only)");
        let restarted = "xs append t | ignore; xs cat -f -T ctl.out | first 2 | ignore; sleep 300ms;
             [(xs cat -T imp.out | length) (xs cat -T xs.handler.imp.active | length)]";
        assert_eq!(shell.json(restarted), json!([0, 1]), "nor under the next owner");
        // The documented way to run it: append its script again.
        let rerun = "xs last xs.handler.imp.register | xs cas | xs append xs.handler.imp.register | ignore;
             xs cat -f -T xs.handler.imp.active | first 2 | ignore;
             xs append t | ignore; xs cat -f -T imp.out | first 1 | length";
        assert_eq!(shell.json(rerun), json!(1));
    }
}

both_ways! {
    fn import_with_scripts_runs_a_dumps_handler(shell) {
        dump_with_a_handler(&shell);
        let trusted = "xs import dump --with-scripts | ignore; xs cat -f -T xs.handler.imp.active | first 2 | ignore;
             xs append t | ignore; xs cat -f -T imp.out | first 1 | length";
        assert_eq!(shell.json(trusted), json!(1));
    }
}

both_ways! {
    fn a_dump_with_scripts_round_trips_byte_identical(shell) {
        dump_with_a_handler(&shell);
        shell.json("xs import dump --store copy | ignore; xs export again --store copy");
        let read = |dir: &str| std::fs::read(shell.dir.path().join(dir).join("frames.jsonl")).unwrap();
        assert_eq!(read("again"), read("dump"));
    }
}

both_ways! {
    fn a_dump_carrying_a_marker_is_refused(shell) {
        let dump = shell.dir.path().join("dump");
        std::fs::create_dir_all(dump.join("cas")).unwrap();
        let marker = serde_json::json!({"topic": "xs.threshold", "id": "0000000000000000000000001"});
        std::fs::write(dump.join("frames.jsonl"), format!("{marker}\n")).unwrap();
        let stderr = shell.fails("xs import dump");
        assert!(stderr.contains("reserved for the runtime"), "{stderr}");
        assert_eq!(shell.json("xs cat | length"), json!(0));
    }
}
