//! Second processes for the socket tests.
//!
//! Cargo builds no binary for an example that a test could run, so a test
//! that needs another process re-invokes this test binary to run one
//! `#[ignore]`d helper test (`--exact <name> --ignored`), with
//! `XS_IT_CHILD=<name>` set. A helper does nothing unless that variable
//! names it, so `cargo test -- --ignored` stays harmless. A helper reports
//! on stdout with lines of its own (`ROLE Owner`, ...) and exits when its
//! stdin closes, so the parent controls how long it lives.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Command, ExitStatus, Stdio},
    sync::mpsc,
};

use crate::common::PATIENCE;

/// The variable that tells a helper test it is the child.
const CHILD: &str = "XS_IT_CHILD";

/// A running helper process.
pub struct Child {
    process: std::process::Child,
    lines: mpsc::Receiver<String>,
}

/// Starts the helper test `name` (its full path, e.g. `takeover::child_connection`)
/// with `env` set.
pub fn spawn(name: &str, env: &[(&str, &str)]) -> Child {
    let exe = std::env::current_exe().expect("test binary path");
    let mut command = Command::new(exe);
    command.args(["--exact", name, "--ignored", "--nocapture", "--test-threads=1", "-q"]).env(CHILD, name);
    command.envs(env.iter().copied()).stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut process = command.spawn().expect("spawn the helper");
    let stdout = process.stdout.take().expect("piped stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Child { process, lines }
}

/// True when this process is the helper `name`.
pub fn is(name: &str) -> bool {
    std::env::var(CHILD).is_ok_and(|v| v == name)
}

/// For a helper: blocks until the parent closes our stdin.
pub fn wait_for_parent() {
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

impl Child {
    /// The rest of the first stdout line starting with `prefix`.
    pub fn line(&self, prefix: &str) -> String {
        loop {
            let line =
                self.lines.recv_timeout(PATIENCE).unwrap_or_else(|e| panic!("no {prefix:?} line from the helper: {e}"));
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.trim().to_string();
            }
        }
    }

    /// Kills the helper with SIGKILL (what `Child::kill` sends on Unix) and reaps it.
    pub fn kill9(mut self) {
        self.process.kill().expect("kill -9 the helper");
        self.process.wait().expect("reap the helper");
    }

    /// Closes the helper's stdin and waits (bounded) for it to exit.
    pub fn finish(mut self) -> ExitStatus {
        drop(self.process.stdin.take());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(self.process.wait());
        });
        rx.recv_timeout(PATIENCE).expect("the helper did not exit").expect("wait for the helper")
    }
}
