//! Real `nats-server` processes for the NATS tests: one JetStream server,
//! or a cluster of three on loopback. The binary is `$XS_NATS_SERVER` (set
//! by scripts/test), else whatever scripts/get-nats-server finds or
//! installs. Each server writes its JetStream files under its own temporary
//! directory and is killed when dropped.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::common::PATIENCE;

/// The `nats-server` binary.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("XS_NATS_SERVER") {
        return path.into();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/get-nats-server");
    let out = Command::new(script).output().expect("scripts/get-nats-server runs");
    assert!(out.status.success(), "scripts/get-nats-server failed: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8(out.stdout).expect("a utf-8 path").trim())
}

/// A loopback port nothing listens on (the OS's pick, released at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// One `nats-server` with JetStream on. [`NatsServer::stop`] and
/// [`NatsServer::start_again`] keep its ports and its JetStream files, as a
/// restarted server would.
pub struct NatsServer {
    dir: tempfile::TempDir,
    port: u16,
    monitor: u16,
    child: Option<Child>,
}

impl NatsServer {
    /// A single JetStream server with the server's defaults.
    pub fn start() -> Self {
        Self::with_config("")
    }

    /// A single JetStream server; `extra` is appended to its configuration
    /// file (for example `max_payload: 65536`, or an `authorization` block).
    pub fn with_config(extra: &str) -> Self {
        Self::configured(free_port(), free_port(), |_| extra.to_owned())
    }

    fn configured(port: u16, monitor: u16, extra: impl FnOnce(&Path) -> String) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("js");
        let conf = format!(
            "listen: 127.0.0.1:{port}\nhttp: 127.0.0.1:{monitor}\njetstream {{ store_dir: {:?} }}\n{}\n",
            store.display().to_string(),
            extra(dir.path())
        );
        std::fs::write(dir.path().join("nats.conf"), conf).expect("write nats.conf");
        let mut server = Self { dir, port, monitor, child: None };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("nats.log"))
            .expect("open nats.log");
        let child = Command::new(binary())
            .arg("-c")
            .arg(self.dir.path().join("nats.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .expect("spawn nats-server");
        self.child = Some(child);
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Waits until the server answers its health check with JetStream ready.
    pub fn wait_ready(&self) -> &Self {
        let deadline = Instant::now() + PATIENCE;
        while !healthy(self.monitor) {
            assert!(Instant::now() < deadline, "nats-server on {} not healthy; log:\n{}", self.port, self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        self
    }

    /// Kills the server (SIGKILL) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the stopped server again on the same ports and files.
    pub fn start_again(&mut self) -> &Self {
        assert!(self.child.is_none(), "the server is still running");
        self.spawn();
        self
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("nats.log")).unwrap_or_default()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Three JetStream servers in one cluster on loopback, so streams may have
/// three replicas (R3). One cluster runs at a time in this test binary:
/// two at once, with their owners and replicas, starve a two-core machine
/// enough to stall leader elections past any test's patience.
pub struct NatsCluster {
    pub nodes: Vec<NatsServer>,
    _alone: std::sync::MutexGuard<'static, ()>,
}

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl NatsCluster {
    pub fn start() -> Self {
        let alone = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let ports: Vec<(u16, u16, u16)> = (0..3).map(|_| (free_port(), free_port(), free_port())).collect();
        let routes: Vec<String> = ports.iter().map(|(_, _, route)| format!("nats-route://127.0.0.1:{route}")).collect();
        let nodes = ports
            .iter()
            .enumerate()
            .map(|(i, &(port, monitor, route))| {
                NatsServer::configured(port, monitor, |_| {
                    format!(
                        "server_name: n{i}\ncluster {{ name: xs, listen: 127.0.0.1:{route}, routes: [{}] }}",
                        routes.join(", ")
                    )
                })
            })
            .collect();
        let cluster = Self { nodes, _alone: alone };
        for node in &cluster.nodes {
            node.wait_ready();
        }
        cluster
    }

    /// Every node's URL, comma-separated, as a client's seed list.
    pub fn urls(&self) -> String {
        self.nodes.iter().map(NatsServer::url).collect::<Vec<_>>().join(",")
    }
}

/// Whether the monitoring port answers `/healthz` with 200 (JetStream up
/// and, in a cluster, a meta leader elected).
fn healthy(monitor: u16) -> bool {
    let Ok(mut conn) = TcpStream::connect(("127.0.0.1", monitor)) else { return false };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    if conn.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
}
