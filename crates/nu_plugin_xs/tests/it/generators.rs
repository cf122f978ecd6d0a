//! The generators in `handlers/`, end to end: `scripts/test-generators.nu`
//! run by the real `nu` with the plugin loaded. It spawns `tail-log` from
//! its file with `xs append xs.generator.tail-log.spawn`, appends lines to
//! a log, reads them back with `xs cat -f -T tail-log.recv | first 2`, and
//! checks that terminating it kills `tail` (each wait is bounded at 20 s).

use std::time::Duration;

use crate::common::run_script;

/// A handful of bounded waits of up to 20 s each.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(90);

// Local only: the script makes its own store directory.
#[test]
fn the_generators_in_handlers_dir_run_through_the_plugin() {
    run_script("test-generators.nu", "generators: ok", SCRIPT_DEADLINE);
}
