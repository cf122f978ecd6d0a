//! The generators in `handlers/`, end to end: `scripts/test-generators.nu`
//! run by the real `nu` with the plugin loaded. It spawns `tail-log` from
//! its file with `xs append xs.generator.tail-log.spawn`, appends lines to
//! a log, reads them back with `xs cat -f -T tail-log.recv | first 2`, and
//! checks that terminating it kills `tail` (each wait is bounded at 20 s).

use std::{path::Path, time::Duration};

use crate::common::{Shell, finish};

/// A handful of bounded waits of up to 20 s each.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(90);

#[test]
fn the_generators_in_handlers_dir_run_through_the_plugin() {
    let shell = Shell::new();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/test-generators.nu");
    let out = finish(shell.file_command(&script).spawn().unwrap(), SCRIPT_DEADLINE);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "scripts/test-generators.nu failed:\n{stderr}\n{stdout}");
    assert!(stdout.contains("generators: ok"), "the script did not finish its checks: {stdout:?}");
}
