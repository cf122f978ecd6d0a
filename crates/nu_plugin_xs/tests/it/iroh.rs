//! A store reached over iroh from the shell (plugin feature `iroh`): this
//! process owns it and serves `iroh://?relay=off`, and `nu` gets
//! `iroh://<ticket>` in `XS_STORE` (and as `--store`) with the token in
//! `XS_TOKEN`: appends, reads, a live follow, and a refusal without the
//! token.

use std::time::Duration;

use serde_json::json;

use crate::common::{DEADLINE, Shell};

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn the_shell_reaches_a_store_by_its_ticket() {
    let shell = Shell::serving("iroh://?relay=off");
    let url = shell.url().unwrap().to_string();
    assert!(url.starts_with("iroh://endpoint"), "{url}");
    let mut follower = shell.spawn("xs cat -f -T clip | each {|f| print ($f | to json -r); $f } | first 1 | ignore");
    let a = shell.json(r#""over quic" | xs append clip"#);
    assert_eq!(follower.json_line(WAIT), a);
    assert!(follower.wait(DEADLINE).status.success());
    let flagged = shell.json(&format!("hide-env XS_STORE; xs last clip --store '{url}' | xs cas --store '{url}'"));
    assert_eq!(flagged, json!("over quic"));
    let stderr = shell.fails("hide-env XS_TOKEN; xs append x");
    assert!(stderr.contains("unauthorized: wrong or missing token"), "{stderr}");
}
