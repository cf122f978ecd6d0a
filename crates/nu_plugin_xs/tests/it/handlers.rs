//! The handlers in `handlers/`, end to end: `scripts/test-handlers.nu` run
//! by the real `nu` with the plugin loaded. It registers each handler from
//! its file with `xs append xs.handler.<name>.register`, appends clips, and
//! checks every handler's output with `xs cat`/`xs last` and their states
//! with `xs status` (each of its waits is bounded at 20 s).

use std::time::Duration;

use crate::common::run_script;

/// Three handlers, each with up to 20 s to answer.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(90);

// Local only: the script makes its own store directory.
#[test]
fn the_handlers_in_handlers_dir_run_through_the_plugin() {
    run_script("test-handlers.nu", "handlers: ok", SCRIPT_DEADLINE);
}
