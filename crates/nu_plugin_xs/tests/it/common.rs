//! Running the real `nu` 0.115.1 with the plugin loaded, with a deadline.
//!
//! Every `nu` runs as `nu -n --plugins '[<plugin>]' -c <script>` with
//! `$env.XS_STORE` pointing at the test's store, and is killed (failing the
//! test) if it outlives its deadline. Results are read through `to json`.
//!
//! A [`Shell`] is local ([`Shell::new`]: the store is a directory, and the
//! first `nu` to use it owns it) or remote ([`Shell::tcp`]: this test
//! process owns the store and serves it on `tcp://127.0.0.1:<free port>`,
//! and every `nu` gets `XS_STORE=http://127.0.0.1:<port>` and `XS_TOKEN`).
//! `both_ways!` defines a test once and runs it both ways.

use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, ChildStdout, Command, Output, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

/// The deadline of a one-shot `nu -c`.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// How long a wait may take: the name xs-core's NATS test harness
/// (shared with replica.rs) uses.
pub const PATIENCE: Duration = DEADLINE;

/// The `nu` binary: `$XS_NU` (set by scripts/test), else whatever
/// scripts/get-nu finds or fetches.
pub fn nu() -> PathBuf {
    if let Some(nu) = std::env::var_os("XS_NU") {
        return nu.into();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/get-nu");
    let out = Command::new(script).output().expect("scripts/get-nu runs");
    assert!(out.status.success(), "scripts/get-nu failed: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8(out.stdout).expect("a utf-8 path").trim())
}

/// Defines a test that runs twice: `<name>::local` on a local store and
/// `<name>::tcp` on a remote one ([`Shell::tcp`]). The body gets the
/// shell as `shell`.
macro_rules! both_ways {
    ($(#[doc = $doc:expr])* fn $name:ident($shell:ident) $body:block) => {
        $(#[doc = $doc])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body($shell: $crate::common::Shell) $body

            #[test]
            fn local() {
                body($crate::common::Shell::new());
            }

            #[test]
            fn tcp() {
                body($crate::common::Shell::tcp());
            }
        }
    };
}

/// A scratch directory with a store in it, and the means to run `nu` on it.
pub struct Shell {
    pub dir: tempfile::TempDir,
    nu: PathBuf,
    /// The owner of a remote store, in this process.
    remote: Option<Remote>,
}

/// A store served over TCP by this test process.
struct Remote {
    url: String,
    token: String,
    /// The certificate's SHA-256 fingerprint, for a TLS listener.
    fingerprint: Option<String>,
    server: Option<xs_core::server::ServerHandle>,
}

/// Owns the store in `dir` and serves it on `listen` (with a self-signed
/// certificate for `https://`); returns its URL.
fn serve(dir: &Path, listen: &str) -> (xs_core::server::ServerHandle, String) {
    let store = xs_core::Store::new(dir).unwrap();
    let tls = listen.starts_with("https://").then_some(xs_core::server::Tls::SelfSigned);
    let listen = listen.parse().unwrap();
    let options =
        xs_core::server::ServeOptions::builder().listen(vec![listen]).maybe_tls(tls).max_body(1 << 40).build();
    let server = xs_core::server::Server::bind(store, options).unwrap().spawn().unwrap();
    let url = server.listening().iter().find_map(|l| l.url()).expect("the listener's URL");
    (server, url)
}

impl Shell {
    /// A shell whose `nu`s use a store directory (the first owns it).
    pub fn new() -> Shell {
        Shell { dir: tempfile::tempdir().unwrap(), nu: nu(), remote: None }
    }

    /// A shell whose `nu`s use the store as a remote one: this process
    /// owns it and serves it on `tcp://127.0.0.1:<free port>`, and every
    /// `nu` gets its URL in `XS_STORE` and its token in `XS_TOKEN`.
    pub fn tcp() -> Shell {
        Shell::serving("tcp://127.0.0.1:0")
    }

    /// [`Shell::tcp`] over TLS: `https://127.0.0.1:<free port>` with a
    /// self-signed certificate, which every `nu` trusts by its
    /// fingerprint in `XS_FINGERPRINT`.
    pub fn tls() -> Shell {
        Shell::serving("https://127.0.0.1:0")
    }

    /// As [`Shell::tcp`], served on `listen` (whose URL `nu` is given).
    pub fn serving(listen: &str) -> Shell {
        let mut shell = Shell::new();
        let (server, url) = serve(&shell.store(), listen);
        let token = xs_core::server::token::load_or_create(&shell.store()).unwrap();
        let fingerprint = server.fingerprint().map(|f| f.to_string());
        shell.remote = Some(Remote { url, token, fingerprint, server: Some(server) });
        shell
    }

    /// The remote store's URL, for a [`Shell::tcp`].
    pub fn url(&self) -> Option<&str> {
        self.remote.as_ref().map(|r| r.url.as_str())
    }

    /// The remote store's token, for a [`Shell::tcp`].
    pub fn token(&self) -> Option<&str> {
        self.remote.as_ref().map(|r| r.token.as_str())
    }

    /// Stops the remote store's owner, runs `offline` on the store while
    /// nobody serves it, and serves it again on the same port.
    pub fn restart_owner(&mut self, offline: impl FnOnce(&xs_core::Store)) {
        let dir = self.store();
        let remote = self.remote.as_mut().expect("a Shell::tcp");
        drop(remote.server.take());
        let store = xs_core::Store::new(&dir).unwrap();
        offline(&store);
        store.close();
        drop(store);
        let port = remote.url.rsplit(':').next().unwrap();
        let (server, url) = serve(&dir, &format!("tcp://127.0.0.1:{port}"));
        assert_eq!(url, remote.url);
        remote.server = Some(server);
    }

    /// The store every `nu` of this shell uses.
    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// A `nu -c script` command, not started.
    pub fn command(&self, script: &str) -> Command {
        self.nu_command(["-c", script])
    }

    /// A `nu <file>` command (a script with its own `main`), not started.
    /// Its temporary files (`mktemp`) go in this shell's directory.
    pub fn file_command(&self, file: &Path) -> Command {
        let mut command = self.nu_command([file.as_os_str()]);
        command.env("TMPDIR", self.dir.path());
        command
    }

    /// `nu -n --plugins [<plugin>] <args>` on this shell's store.
    fn nu_command<S: AsRef<std::ffi::OsStr>>(&self, args: impl IntoIterator<Item = S>) -> Command {
        let plugin = env!("CARGO_BIN_EXE_nu_plugin_xs");
        let mut command = Command::new(&self.nu);
        command
            .args(["-n", "--plugins", &format!("[{plugin}]")])
            .args(args)
            .env("XS_STORE", self.store())
            .env_remove("XS_TOKEN")
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(remote) = &self.remote {
            command.env("XS_STORE", &remote.url).env("XS_TOKEN", &remote.token);
        }
        match self.remote.as_ref().and_then(|r| r.fingerprint.as_ref()) {
            Some(fingerprint) => command.env("XS_FINGERPRINT", fingerprint),
            None => command.env_remove("XS_FINGERPRINT"),
        };
        command.env_remove("XS_CA");
        command
    }

    /// Runs `script` to completion (within [`DEADLINE`]).
    pub fn run(&self, script: &str) -> Output {
        finish(self.command(script).spawn().unwrap(), DEADLINE)
    }

    /// Runs `script`, expects success, and parses `script | to json -r`.
    pub fn json(&self, script: &str) -> Value {
        self.json_within(script, DEADLINE)
    }

    /// [`Shell::json`] with a deadline of its own, for a script that moves
    /// much data through the debug plugin.
    pub fn json_within(&self, script: &str, deadline: Duration) -> Value {
        let out = finish(self.command(&format!("{script} | to json -r")).spawn().unwrap(), deadline);
        assert!(out.status.success(), "`{script}` failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("`{script}` gave no JSON ({e}): {stdout:?}"))
    }

    /// Runs `script`, expects it to fail, and returns its error output.
    pub fn fails(&self, script: &str) -> String {
        let out = self.run(script);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "`{script}` should fail, gave {}", String::from_utf8_lossy(&out.stdout));
        stderr
    }

    /// Every frame of the store, to compare before and after a failure.
    pub fn frames(&self) -> Value {
        self.json("xs cat")
    }

    /// Starts `script` in the background; each line it prints can be awaited.
    pub fn spawn(&self, script: &str) -> Background {
        let mut child = self.command(script).spawn().unwrap();
        let lines = line_channel(child.stdout.take().unwrap());
        Background { child: Some(child), lines }
    }
}

/// A `nu` running in the background.
pub struct Background {
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
}

impl Background {
    /// The next line of output, within `timeout`.
    pub fn line(&mut self, timeout: Duration) -> String {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => line,
            Err(e) => {
                let out = self.child.take().map(kill);
                panic!("no line within {timeout:?} ({e}); stderr: {}", out.map(|o| stderr(&o)).unwrap_or_default())
            }
        }
    }

    /// The next line, parsed as JSON.
    pub fn json_line(&mut self, timeout: Duration) -> Value {
        let line = self.line(timeout);
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
    }

    /// Waits for the process to exit by itself, within `timeout`.
    pub fn wait(mut self, timeout: Duration) -> Output {
        finish(self.child.take().unwrap(), timeout)
    }

    /// The process id of `nu`.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            kill(child);
        }
    }
}

/// Runs `scripts/<script>` in a fresh shell within `deadline`; it must
/// exit cleanly and print `done` (its last check passed). Local only: the
/// scripts make their own store directories.
pub fn run_script(script: &str, done: &str, deadline: Duration) {
    let shell = Shell::new();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts").join(script);
    let out = finish(shell.file_command(&path).spawn().unwrap(), deadline);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "scripts/{script} failed:\n{stderr}\n{stdout}");
    assert!(stdout.contains(done), "scripts/{script} did not finish its checks: {stdout:?}");
}

/// Waits for `child` within `timeout`, killing it (and failing) past it.
pub fn finish(mut child: Child, timeout: Duration) -> Output {
    let deadline = Instant::now() + timeout;
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() };
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "nu did not finish within {timeout:?}; stderr: {}",
                String::from_utf8_lossy(&stderr.join().unwrap())
            );
        }
        // Polling a child's exit: std has no wait with a timeout.
        thread::sleep(Duration::from_millis(5));
    }
}

fn kill(mut child: Child) -> Output {
    let _ = child.kill();
    let status = child.wait().unwrap();
    let mut err = Vec::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_end(&mut err);
    }
    Output { status, stdout: Vec::new(), stderr: err }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

fn line_channel(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}
