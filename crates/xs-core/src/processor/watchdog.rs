//! The watchdog: a generator's externals never outlive their owner.
//!
//! Stopping a generator kills its externals (the engine's job kills their
//! process groups, then [`kill_marked`] kills whatever still carries the
//! generator's mark). That covers every stop the owner lives through. For
//! the one it does not (SIGKILL), each owner starts one watchdog: a small
//! `sh` in a process group of its own whose stdin is a pipe only the owner
//! holds (std opens pipes close-on-exec, so no other child inherits it).
//! When the owner dies, however it dies, the kernel closes that pipe; the
//! watchdog reads end-of-file and kills every process whose environment
//! carries the owner's mark.
//!
//! The mark: every generator's engine sets `XS_GENERATOR=<token>/<spawn id>`
//! in its environment, so its externals and their descendants inherit it
//! (unless one clears its environment on purpose). `PR_SET_PDEATHSIG` would
//! need `unsafe` in a `pre_exec` hook (forbidden here, and nushell spawns
//! the externals, not us); a mark in the environment needs neither, and
//! also reaches grandchildren that left the process group. Linux only: the
//! environment is read from `/proc/<pid>/environ` (same user).

use std::{
    io,
    process::{Child, ChildStdin, Command, Stdio},
};

use std::os::unix::process::CommandExt;

/// The environment variable that marks a generator's externals.
pub(crate) const MARK: &str = "XS_GENERATOR";

/// Runs until its stdin closes, then kills every process whose
/// environment has a line starting with `XS_GENERATOR=<token>/`. Two
/// passes: a process being killed may have just forked.
const SCRIPT: &str = r#"cat >/dev/null
for pass in 1 2; do
  for d in /proc/[0-9]*; do
    if tr '\0' '\n' < "$d/environ" 2>/dev/null | grep -q "^XS_GENERATOR=$1/"; then
      kill -KILL "${d#/proc/}" 2>/dev/null
    fi
  done
done"#;

/// The owner's watchdog process.
pub(crate) struct Watchdog {
    token: String,
    child: Child,
    /// Held open while the owner lives; closing it is the signal.
    stdin: Option<ChildStdin>,
}

impl Watchdog {
    /// Starts the watchdog with a fresh token.
    ///
    /// # Errors
    ///
    /// `sh` cannot be started.
    pub(crate) fn start() -> io::Result<Watchdog> {
        let token = format!("{}-{}", std::process::id(), scru128::new());
        let mut child = Command::new("sh")
            .args(["-c", SCRIPT, "xs-watchdog", &token])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own group: a Ctrl-C meant for the shell does not end it.
            .process_group(0)
            .spawn()?;
        let stdin = child.stdin.take();
        Ok(Watchdog { token, child, stdin })
    }

    /// The owner's token (generators' marks start with it).
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// Lets the watchdog go (after every generator stopped): it sweeps once
    /// more and exits; we reap it.
    pub(crate) fn release(mut self) {
        drop(self.stdin.take());
        if let Err(e) = self.child.wait() {
            tracing::warn!(error = %e, "could not reap the generators' watchdog");
        }
    }
}

/// The value of [`MARK`] for the generator spawned by `id` under `token`.
pub(crate) fn mark(token: &str, id: &str) -> String {
    format!("{token}/{id}")
}

/// Kills every process whose environment has `XS_GENERATOR=<mark>`
/// exactly (a generator's externals that escaped its process groups).
pub(crate) fn kill_marked(mark: &str) {
    let pids = marked(mark);
    if !pids.is_empty() {
        kill(pids.iter().map(u32::to_string));
    }
}

/// Kills the process groups led by `leaders` (what nushell starts an
/// external pipeline in, when it runs as a background job).
pub(crate) fn kill_groups(leaders: &[u32]) {
    if !leaders.is_empty() {
        kill(leaders.iter().map(|pid| format!("-{pid}")));
    }
}

fn kill(targets: impl Iterator<Item = String>) {
    let status = Command::new("kill")
        .args(["-KILL", "--"])
        .args(targets)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if let Err(e) = status {
        tracing::warn!(error = %e, "could not run kill");
    }
}

/// The pids whose environment carries `XS_GENERATOR=<mark>`.
fn marked(mark: &str) -> Vec<u32> {
    let wanted = format!("{MARK}={mark}");
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == wanted.as_bytes()))
        })
        .collect()
}
