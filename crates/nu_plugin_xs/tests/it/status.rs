//! `xs status`, `xs serve`, and bare `xs`.

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use serde_json::json;

use crate::common::{DEADLINE, Shell};

// Local only: the shell's plugin owns the store (see remote.rs for a remote one's status).
#[test]
fn status_of_an_owned_store() {
    let shell = Shell::new();
    let status = shell.json("xs append a | ignore; xs append b | ignore; xs status");
    assert_eq!(status["store"], json!(shell.store().to_string_lossy()));
    assert_eq!(status["role"], "owner");
    assert!(status["owner_pid"].as_u64().unwrap() > 0);
    assert_eq!(status["frames"], 2);
    assert_eq!((&status["handlers"], &status["generators"]), (&json!([]), &json!([])));
}

both_ways! {
    fn status_lists_handlers_with_their_state(shell) {
        // A handler of a topic nobody appends to: it registers, turns active, and stays so.
        let script = "{run: {|frame, state| {next: $state}}, topics: [never]}";
        let handlers = shell.json(&format!(
            "'{script}' | xs append xs.handler.idle.register | ignore; \
             xs cat -f -T xs.handler.idle.active | first 1 | ignore; (xs status).handlers"
        ));
        assert_eq!(handlers.as_array().unwrap().len(), 1, "{handlers}");
        assert_eq!((&handlers[0]["name"], &handlers[0]["state"]), (&json!("idle"), &json!("active")));
    }
}

/// The handlers of `xs status`, as (name, state) pairs.
fn handler_states(shell: &Shell, setup: &str) -> Vec<(String, String)> {
    let handlers = shell.json(&format!("{setup}; (xs status).handlers | each {{|h| [$h.name $h.state] }}"));
    serde_json::from_value(handlers).unwrap()
}

both_ways! {
    fn status_shows_an_imported_inert_handler_as_not_running(shell) {
        let script = "{run: {|frame, state| {next: $state}}, topics: [never]}";
        shell.json(&format!(
            "$env.XS_STORE = 'src'; '{script}' | xs append xs.handler.imp.register | ignore; \
             xs cat -f -T xs.handler.imp.active | first 1 | ignore; xs export dump"
        ));
        // The dump holds imp's `.active`; imported inert, imp never runs.
        assert_eq!(handler_states(&shell, "xs import dump | ignore"), [("imp".into(), "inert".into())]);
        let trusted = handler_states(
            &shell,
            "$env.XS_STORE = 'trusted'; xs import dump --with-scripts | ignore; \
             xs cat -f -T xs.handler.imp.active | first 2 | ignore",
        );
        assert_eq!(trusted, [("imp".to_string(), "active".to_string())]);
    }
}

both_ways! {
    fn status_shows_failed_and_unregistered_handlers_and_the_error(shell) {
        let failing = "{run: {|frame, state| error make {msg: boom}}, topics: [t]}";
        let idle = "{run: {|frame, state| {next: $state}}, topics: [never]}";
        let handlers = shell.json(&format!(
            "'{failing}' | xs append xs.handler.bad.register | ignore; \
             '{idle}' | xs append xs.handler.idle.register | ignore; \
             xs cat -f -T xs.handler.idle.active | first 1 | ignore; \
             xs append t | ignore; xs cat -f -T xs.handler.bad.failed | first 1 | ignore; \
             xs append xs.handler.idle.unregister | ignore; \
             xs cat -f -T xs.handler.idle.unregistered | first 1 | ignore; (xs status).handlers"
        ));
        assert_eq!((&handlers[0]["name"], &handlers[0]["state"]), (&json!("bad"), &json!("failed")), "{handlers}");
        assert!(handlers[0]["error"].as_str().unwrap().contains("boom"), "{handlers}");
        assert_eq!((&handlers[1]["name"], &handlers[1]["state"]), (&json!("idle"), &json!("unregistered")));
        assert_eq!(handlers[1]["error"], json!(null));
    }
}

// Local only: how a store directory is found (remote.rs checks URLs and tokens).
#[test]
fn the_store_comes_from_the_flag_the_env_the_config_or_home() {
    let shell = Shell::new();
    let dir = shell.dir.path().to_string_lossy().into_owned();
    let store = |setup: &str| shell.json(&format!("{setup}; xs status | get store"));
    assert_eq!(store("ignore"), json!(format!("{dir}/store")));
    assert_eq!(store("$env.XS_STORE = 'rel'"), json!(format!("{dir}/rel")));
    let unset = "hide-env XS_STORE; hide-env -i XDG_DATA_HOME";
    assert_eq!(store(&format!("{unset}; $env.config.plugins = {{xs: {{store: cfg}}}}")), json!(format!("{dir}/cfg")));
    assert_eq!(store(&format!("{unset}; $env.HOME = $env.PWD")), json!(format!("{dir}/.local/share/xs")));
    assert_eq!(
        store(&format!("{unset}; $env.XDG_DATA_HOME = ($env.PWD | path join data)")),
        json!(format!("{dir}/data/xs"))
    );
    let flagged = shell.json("mkdir sub; cd sub; xs status --store '../flagged' | get store");
    assert_eq!(flagged, json!(format!("{dir}/flagged")));
}

// Local only: xs serve owns a store directory (remote.rs checks it refuses a URL).
#[test]
fn serve_owns_the_store_until_ctrl_c() {
    let shell = Shell::new();
    let server = shell.spawn("$env.XS_LOG = 'info'; xs serve");
    wait_for(&shell.store().join("sock"));
    let status = shell.json("xs status");
    assert_eq!(status["role"], "client");
    let owner = status["owner_pid"].as_u64().unwrap();
    assert_eq!(parent_of(owner), server.pid(), "the owner is the serving nu's plugin");
    assert_eq!(shell.json("xs append via-server | get topic"), json!("via-server"));
    // A second serve refuses: the store is served already.
    assert!(shell.fails("xs serve").contains("already served by process"));
    assert!(Command::new("kill").args(["-INT", &server.pid().to_string()]).status().unwrap().success());
    let served = server.wait(DEADLINE);
    let log = String::from_utf8_lossy(&served.stderr);
    assert!(log.contains("serving as the store's owner"), "xs serve logs to stderr, filtered by XS_LOG: {log:?}");
    assert!(served.stdout.is_empty(), "nothing on stdout: {:?}", String::from_utf8_lossy(&served.stdout));
    assert_eq!(shell.json("xs status | get role"), json!("owner"));
    assert_eq!(shell.json("xs cat | get topic"), json!(["via-server"]));
}

// Local only: no store is used.
#[test]
fn bare_xs_prints_the_help() {
    let shell = Shell::new();
    let help = shell.json("xs");
    let help = help.as_str().unwrap();
    for command in ["xs append", "xs cat", "xs cas put", "xs id unpack", "xs export", "xs status"] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
}

/// Waits for `path` to exist, within the deadline.
pub fn wait_for(path: &Path) {
    let deadline = Instant::now() + DEADLINE;
    while !path.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", path.display());
        // Polling a file's appearance; there is nothing to wait on.
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn parent_of(pid: u64) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("PPid:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}
