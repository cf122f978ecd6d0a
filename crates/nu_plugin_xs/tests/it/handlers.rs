//! The handlers in `handlers/`, end to end: `scripts/test-handlers.nu` run
//! by the real `nu` with the plugin loaded. It registers each handler from
//! its file with `xs append xs.handler.<name>.register`, appends clips, and
//! checks every handler's output with `xs cat`/`xs last` and their states
//! with `xs status` (each of its waits is bounded at 20 s).

use std::{path::Path, time::Duration};

use crate::common::{Shell, finish};

/// Three handlers, each with up to 20 s to answer.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(90);

#[test]
fn the_handlers_in_handlers_dir_run_through_the_plugin() {
    let shell = Shell::new();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/test-handlers.nu");
    let out = finish(shell.file_command(&script).spawn().unwrap(), SCRIPT_DEADLINE);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "scripts/test-handlers.nu failed:\n{stderr}\n{stdout}");
    assert!(stdout.contains("handlers: ok"), "the script did not finish its checks: {stdout:?}");
}
