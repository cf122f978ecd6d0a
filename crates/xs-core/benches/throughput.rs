//! Throughput and latency of xs-core, one line per dimension.
//!
//! Run `cargo bench -p xs-core --bench throughput -- [N] [DIMENSION...]`
//! (N defaults to 20000; no dimension named runs them all). Each line reads
//! `name frames=N ms=.. frames_per_s=.. us_per_frame=..`, except
//! `follow-latency p50_us=.. p99_us=..`, `socket-follow-latency p50_us=..
//! p99_us=..` and `lagging-follower appended=5000 delivered=..`.
//!
//! The workloads and the line format are those of the cross-stream 0.13.4
//! reference harness in `../shared/bench/cross-stream` (`src/main.rs`), so
//! running both on the same machine with the same N and dimensions gives
//! figures that compare line for line:
//!
//! ```text
//! cargo bench -p xs-core --bench throughput -- 20000
//! cross-stream-ref 20000 append append-concurrent append-cas replay \
//!     replay-topic last-1x1000 follow-latency lagging-follower
//! ```
//!
//! What each measures: `append` sequential synced appends of bare frames;
//! `append-concurrent` the same from 8 threads (appends share an fsync);
//! `append-cas` a 200-byte payload put in the CAS then a frame pointing at
//! it, sequentially; `replay` reading every frame of an N-frame store;
//! `replay-topic` reading the half of them on one topic; `last-1x1000` a
//! thousand look-ups of a topic's newest frame; `follow-latency` append to
//! delivery on a following read, over 1000 round trips; `lagging-follower`
//! whether a follower that does not read during a 5000-frame burst still
//! gets every frame; `socket-append` `append` through the owner's unix
//! socket (one client, sequential); `socket-follow-latency` a socket client
//! appending to a socket follower (the reference has no socket dimensions:
//! compare them with `append` and `follow-latency`); `tcp-append` and
//! `tcp-follow-latency` the same through a `tcp://127.0.0.1` listener with
//! the store's token (compare them with the socket ones); `tls-append` and
//! `tls-follow-latency` the same through an `https://127.0.0.1` listener with
//! a self-signed certificate, pinned by its fingerprint; `handler-state` a
//! handler threading a counter through N frames from `start: "first"`, from
//! its register frame to its last output, and `handler-emit` the same
//! handler appending one frame per input (the reference's `actor-state` and
//! `actor-emit`, with the same closure; `.append` is `xs append` here);
//! `handler-restore` an owner start on a store of N unrelated frames and
//! one registered handler, from the processor's start to the handler's
//! `.active` (it reads only the lifecycle topics, so N should not matter;
//! `frames_per_s` means nothing there); `action-call` an action that echoes
//! its argument, called by a client of the owner's socket: first 1000 (or
//! N, if fewer) sequential round trips, append of `<name>.call` to its
//! `.response` seen on a follow (`p50_us`, `p99_us`, what `xs call` waits),
//! then N calls appended at once and the time until all are answered
//! (`calls_per_s`; the action runs `concurrency` 8). Two floors read the
//! machine, not xs: `sync-floor` N overwrites of a 200-byte record in a
//! preallocated file in a store's directory with `pwritev2(RWF_DSYNC)`, the
//! disk's limit for one durable writer (read `append` as a fraction of it);
//! `socket-floor` N request/response ping-pongs of 200 bytes over a unix
//! socket pair between two threads, the shape of a socket client and the
//! owner (read `socket-append` as `append` plus it). `replica-lag` (p50_us,
//! p99_us) is a replica's delay over 1000 round trips: an append to a
//! source store, its publish by the owner's mirror into a JetStream stream,
//! and its arrival on a following read of a replica store
//! (`nats::Replica`), against one
//! `nats-server` the bench starts on loopback (`$XS_NATS_SERVER`, else
//! scripts/get-nats-server).
//! `mirror-throughput`
//! starts a `nats-server -js` (`$XS_NATS_SERVER`, else
//! scripts/get-nats-server) and prints two lines: `nats-raw-publish`, N
//! 200-byte messages published by async-nats straight into a stream with
//! the mirror's window of acks in flight (the ceiling), then
//! `mirror-throughput`, a mirror registered on a store holding N frames
//! with 200-byte payloads, from its register frame until the stream holds
//! all N. No timing is asserted.

use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio::sync::mpsc::Receiver;
use xs_core::{
    FollowOption, Frame, ReadOptions, Store,
    store::{Poll, THRESHOLD},
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Every dimension, in the order they run when none is named.
const DIMENSIONS: &[&str] = &[
    "append",
    "append-concurrent",
    "append-cas",
    "replay",
    "replay-topic",
    "last-1x1000",
    "follow-latency",
    "lagging-follower",
    "sync-floor",
    "socket-floor",
    "socket-append",
    "socket-follow-latency",
    "tcp-append",
    "tcp-follow-latency",
    "tls-append",
    "tls-follow-latency",
    "handler-state",
    "handler-emit",
    "handler-restore",
    "action-call",
    "replica-lag",
    "mirror-throughput",
];

/// How long a following read may stay silent before the bench gives up on it.
const FOLLOW_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> Result<()> {
    let (n, dimensions) = parse_args(std::env::args().skip(1));
    let mut bench = Bench { n, seeded: None };
    for name in &dimensions {
        bench.run(name).await?;
    }
    Ok(())
}

/// `[N] [DIMENSION...]`, ignoring the flags `cargo bench` adds (`--bench`).
fn parse_args(args: impl Iterator<Item = String>) -> (usize, Vec<String>) {
    let mut args: Vec<String> = args.filter(|a| !a.starts_with("--")).collect();
    let n = match args.first().and_then(|a| a.parse().ok()) {
        Some(n) => {
            args.remove(0);
            n
        }
        None => 20_000,
    };
    if args.is_empty() {
        args = DIMENSIONS.iter().map(|d| d.to_string()).collect();
    }
    (n, args)
}

/// The run's settings, plus the seeded store the read dimensions share.
struct Bench {
    n: usize,
    seeded: Option<(Store, TempDir)>,
}

impl Bench {
    async fn run(&mut self, name: &str) -> Result<()> {
        let n = self.n;
        match name {
            "append" => append(n),
            "append-concurrent" => append_concurrent(n),
            "append-cas" => append_cas(n).await,
            "replay" => replay(self.seeded()?, n),
            "replay-topic" => replay_topic(self.seeded()?, n),
            "last" | "last-1x1000" => last_1x1000(self.seeded()?),
            "follow-latency" => follow_latency().await,
            "lagging-follower" => lagging_follower().await,
            "sync-floor" => sync_floor(n),
            "socket-floor" => socket_floor(n),
            "socket-append" => remote_append("socket-append", served()?, n),
            "socket-follow-latency" => remote_follow_latency("socket-follow-latency", served()?),
            "tcp-append" => remote_append("tcp-append", served_tcp()?, n),
            "tcp-follow-latency" => remote_follow_latency("tcp-follow-latency", served_tcp()?),
            "tls-append" => remote_append("tls-append", served_tls()?, n),
            "tls-follow-latency" => remote_follow_latency("tls-follow-latency", served_tls()?),
            "handler-state" => handler(n, false),
            "handler-emit" => handler(n, true),
            "handler-restore" => handler_restore(n),
            "action-call" => action_call(served()?, n),
            "replica-lag" => replica_lag().await,
            "mirror-throughput" => mirror_throughput(n).await,
            other => Err(unknown(other)),
        }
    }

    /// A store of N frames, every other one on topic `ev`, seeded once
    /// (untimed) for all the read dimensions.
    fn seeded(&mut self) -> Result<&Store> {
        if self.seeded.is_none() {
            let (store, dir) = fresh_store()?;
            seed(&store, self.n, 2)?;
            self.seeded = Some((store, dir));
        }
        let store = self.seeded.as_ref().map(|(store, _)| store);
        store.ok_or_else(|| "seeded store missing".into())
    }
}

fn unknown(name: &str) -> Box<dyn std::error::Error> {
    format!("unknown dimension {name:?}; known: {}", DIMENSIONS.join(", ")).into()
}

/// Prints a dimension's line, in the reference harness's format.
fn report(name: &str, n: usize, elapsed: Duration) {
    let s = elapsed.as_secs_f64();
    println!(
        "{name} frames={n} ms={:.0} frames_per_s={:.0} us_per_frame={:.2}",
        s * 1e3,
        n as f64 / s,
        s * 1e6 / n as f64
    );
}

/// One durable writer at the disk's limit: `n` overwrites of a 200-byte
/// record with `pwritev2(RWF_DSYNC)`, in a file preallocated in a store's
/// directory (so on the store's disk).
fn sync_floor(n: usize) -> Result<()> {
    use rustix::io::{ReadWriteFlags, pwritev2};
    let (store, dir) = fresh_store()?;
    store.close();
    let file = std::fs::File::create(dir.path().join("sync-floor"))?;
    file.set_len(4096)?;
    file.sync_all()?;
    let record = [0x5a_u8; 200];
    let start = Instant::now();
    for _ in 0..n {
        pwritev2(&file, &[std::io::IoSlice::new(&record)], 0, ReadWriteFlags::DSYNC)?;
    }
    report("sync-floor", n, start.elapsed());
    Ok(())
}

/// One bare round trip of a socket client: `n` 200-byte requests, each
/// answered with 200 bytes, over a unix socket pair between two threads.
fn socket_floor(n: usize) -> Result<()> {
    use std::io::{Read, Write};
    let (mut client, mut server) = std::os::unix::net::UnixStream::pair()?;
    let echo = std::thread::spawn(move || -> std::io::Result<()> {
        let mut buf = [0u8; 200];
        for _ in 0..n {
            server.read_exact(&mut buf)?;
            server.write_all(&buf)?;
        }
        Ok(())
    });
    let request = [0x5a_u8; 200];
    let mut answer = [0u8; 200];
    let start = Instant::now();
    for _ in 0..n {
        client.write_all(&request)?;
        client.read_exact(&mut answer)?;
    }
    let elapsed = start.elapsed();
    echo.join().map_err(|_| "the echo thread panicked")??;
    report("socket-floor", n, elapsed);
    Ok(())
}

/// A new synced store in a temporary directory; keep the `TempDir` alive
/// as long as the store.
fn fresh_store() -> Result<(Store, TempDir)> {
    let dir = TempDir::new()?;
    Ok((Store::new(dir.path())?, dir))
}

/// Appends `n` bare frames, one in `stride` on topic `ev`, the rest on `noise`.
fn seed(store: &Store, n: usize, stride: usize) -> xs_core::Result<()> {
    for i in 0..n {
        let topic = if i % stride == 0 { "ev" } else { "noise" };
        store.append(Frame::builder(topic).build())?;
    }
    Ok(())
}

/// Counts the frames a read delivers, failing on the first error.
fn count(store: &Store, options: ReadOptions) -> Result<usize> {
    let mut n = 0;
    for frame in store.reader(options)? {
        frame?;
        n += 1;
    }
    Ok(n)
}

fn append(n: usize) -> Result<()> {
    let (store, _dir) = fresh_store()?;
    let t = Instant::now();
    seed(&store, n, 1)?;
    report("append", n, t.elapsed());
    Ok(())
}

/// 8 writers at once: what a durable store can do when writes share an fsync.
fn append_concurrent(n: usize) -> Result<()> {
    let (store, _dir) = fresh_store()?;
    let t = Instant::now();
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || seed(&store, n / 8, 1))
        })
        .collect();
    for writer in writers {
        writer.join().map_err(|_| "writer thread panicked")??;
    }
    report("append-concurrent", n / 8 * 8, t.elapsed());
    Ok(())
}

async fn append_cas(n: usize) -> Result<()> {
    let (store, _dir) = fresh_store()?;
    let filler = "x".repeat(200);
    let t = Instant::now();
    for i in 0..n {
        let hash = store.cas_insert(format!("clip {i} {filler}")).await?;
        store.append(Frame::builder("clip.add").hash(hash).build())?;
    }
    report("append-cas", n, t.elapsed());
    Ok(())
}

fn replay(store: &Store, n: usize) -> Result<()> {
    let t = Instant::now();
    let c = count(store, ReadOptions::default())?;
    assert_eq!(c, n, "replay delivered {c} of {n} frames");
    report("replay", n, t.elapsed());
    Ok(())
}

fn replay_topic(store: &Store, n: usize) -> Result<()> {
    let t = Instant::now();
    let ev = ReadOptions::builder().topic("ev".to_string()).build();
    let c = count(store, ev)?;
    assert_eq!(c, n.div_ceil(2), "replay-topic delivered {c} frames");
    report("replay-topic", n, t.elapsed());
    Ok(())
}

fn last_1x1000(store: &Store) -> Result<()> {
    let t = Instant::now();
    for _ in 0..1000 {
        let c = store.last("ev", 1)?.len();
        assert_eq!(c, 1, "last returned {c} frames");
    }
    report("last-1x1000", 1000, t.elapsed());
    Ok(())
}

/// Append to delivery on a following read; p50 and p99 over 1000 round trips.
async fn follow_latency() -> Result<()> {
    let (store, _dir) = fresh_store()?;
    let mut rx = follow(&store).await?;
    let mut latencies = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let t = Instant::now();
        store.append(Frame::builder("ping").build())?;
        recv_topic(&mut rx, "ping").await?;
        latencies.push(t.elapsed());
    }
    latencies.sort();
    let (p50, p99) = (latencies[500].as_micros(), latencies[990].as_micros());
    println!("follow-latency p50_us={p50} p99_us={p99}");
    store.close();
    Ok(())
}

/// A follower that does not read while 5000 frames are appended: does it
/// still get all of them?
async fn lagging_follower() -> Result<()> {
    let (store, _dir) = fresh_store()?;
    let mut rx = follow(&store).await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    seed_topic(&store, "burst", 5000)?;
    let mut delivered = 0;
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await {
        delivered += usize::from(frame.topic == "burst");
    }
    println!("lagging-follower appended=5000 delivered={delivered}");
    store.close();
    Ok(())
}

/// A following read of live frames only, as in the reference, returned once
/// it has sent `xs.threshold`: `Store::read` fixes where "new" starts only
/// when its task first runs, so a frame appended before then could be skipped.
async fn follow(store: &Store) -> Result<Receiver<Frame>> {
    let options = ReadOptions::builder().follow(FollowOption::On).new(true).build();
    let mut rx = store.read(options).await;
    recv_topic(&mut rx, THRESHOLD).await?;
    Ok(rx)
}

fn seed_topic(store: &Store, topic: &str, n: usize) -> xs_core::Result<()> {
    for _ in 0..n {
        store.append(Frame::builder(topic).build())?;
    }
    Ok(())
}

/// Waits for the next frame on `topic`, skipping others.
async fn recv_topic(rx: &mut Receiver<Frame>, topic: &str) -> Result<()> {
    loop {
        match tokio::time::timeout(FOLLOW_TIMEOUT, rx.recv()).await {
            Ok(Some(frame)) if frame.topic == topic => return Ok(()),
            Ok(Some(_)) => {}
            Ok(None) => return Err("the following read ended".into()),
            Err(_) => return Err(format!("no {topic} frame within {FOLLOW_TIMEOUT:?}").into()),
        }
    }
}

/// The reference's actor closure, with `xs append` for its `.append`.
fn handler_script(n: usize, emit: bool) -> String {
    let body = if emit { r#"($n | into string) | xs append "bench.out""# } else { "" };
    format!(
        r#"{{
  run: {{|frame, state|
    if $frame.topic != "ev" {{ return {{next: $state}} }}
    let n = ($state | default 0) + 1
    {body}
    if $n == {n} {{ null | xs append "bench.done" }}
    {{next: $n}}
  }}
  start: "first"
}}"#
    )
}

/// `handler-state` / `handler-emit`: N seeded frames, then a handler over
/// all of them, timed from its register frame to its `bench.done`.
fn handler(n: usize, emit: bool) -> Result<()> {
    let (store, _dir) = fresh_store()?;
    seed(&store, n, 1)?;
    let processor = xs_core::processor::Processor::spawn(store.clone())?;
    let options = ReadOptions::builder().follow(FollowOption::On).new(true).topic("bench.done".to_string()).build();
    let mut done = store.reader(options)?;
    let script = handler_script(n, emit);
    let t = Instant::now();
    let mut writer = store.cas_writer();
    std::io::Write::write_all(&mut writer, script.as_bytes())?;
    store.append(Frame::builder("xs.handler.bench.register").hash(writer.commit()?).build())?;
    loop {
        match done.poll(Duration::from_secs(300))? {
            xs_core::store::Next::Frame(frame) if frame.topic == "bench.done" => break,
            xs_core::store::Next::Frame(_) => {}
            xs_core::store::Next::Idle | xs_core::store::Next::End => return Err("the handler never finished".into()),
        }
    }
    report(if emit { "handler-emit" } else { "handler-state" }, n, t.elapsed());
    processor.shutdown();
    Ok(())
}

/// `handler-restore`: a processor starting on a store of `n` unrelated
/// frames and a registered handler, until that handler is active.
fn handler_restore(n: usize) -> Result<()> {
    let dir = TempDir::new()?;
    let store = Store::open(dir.path(), xs_core::Durability::Buffered)?;
    seed(&store, n, 2)?;
    let script = "{run: {|frame, state| {next: $state}}, topics: [nothing]}";
    let mut writer = store.cas_writer();
    std::io::Write::write_all(&mut writer, script.as_bytes())?;
    store.append(Frame::builder("xs.handler.idle.register").hash(writer.commit()?).build())?;
    drop(store);
    let store = Store::new(dir.path())?;
    let topic = "xs.handler.idle.active".to_string();
    let mut active = store.reader(ReadOptions::builder().follow(FollowOption::On).topic(topic).build())?;
    let t = Instant::now();
    let processor = xs_core::processor::Processor::spawn(store.clone())?;
    loop {
        match active.poll(FOLLOW_TIMEOUT)? {
            xs_core::store::Next::Frame(frame) if frame.topic == "xs.handler.idle.active" => break,
            xs_core::store::Next::Frame(_) => {}
            _ => return Err("the handler was not restored".into()),
        }
    }
    report("handler-restore", n, t.elapsed());
    processor.shutdown();
    Ok(())
}

/// A store served on its socket by this process, for the socket dimensions.
fn served() -> Result<(xs_core::client::Client, xs_core::server::ServerHandle, TempDir)> {
    let (store, dir) = fresh_store()?;
    let server = xs_core::server::Server::bind(store, xs_core::server::ServeOptions::default())?.spawn()?;
    Ok((xs_core::client::Client::new(dir.path()), server, dir))
}

/// A store served by this process on `tcp://127.0.0.1:<free port>` too,
/// and a client of that listener holding the store's token.
fn served_tcp() -> Result<(xs_core::client::Client, xs_core::server::ServerHandle, TempDir)> {
    served_on("tcp://127.0.0.1:0", None)
}

/// [`served_tcp`] over TLS: `https://127.0.0.1:<free port>` with a
/// self-signed certificate, which the client pins by its fingerprint.
fn served_tls() -> Result<(xs_core::client::Client, xs_core::server::ServerHandle, TempDir)> {
    served_on("https://127.0.0.1:0", Some(xs_core::server::Tls::SelfSigned))
}

fn served_on(
    listen: &str,
    tls: Option<xs_core::server::Tls>,
) -> Result<(xs_core::client::Client, xs_core::server::ServerHandle, TempDir)> {
    use xs_core::client::{Remote, Trust};
    let (store, dir) = fresh_store()?;
    let options = xs_core::server::ServeOptions::builder().listen(vec![listen.parse()?]).maybe_tls(tls).build();
    let server = xs_core::server::Server::bind(store, options)?.spawn()?;
    let url = server.listening().first().and_then(|listen| listen.url()).ok_or("the listener has no url")?;
    let token = xs_core::server::token::load_or_create(dir.path())?;
    let mut remote = Remote::new(&url)?.token(token);
    if let Some(fingerprint) = server.fingerprint() {
        remote = remote.trust(Trust::Fingerprint(fingerprint.parse()?));
    }
    let client = xs_core::client::Client::remote(remote)?;
    Ok((client, server, dir))
}

/// `append` through a client of the owner: one client, sequential appends.
fn remote_append(
    name: &str,
    (client, server, _dir): (xs_core::client::Client, xs_core::server::ServerHandle, TempDir),
    n: usize,
) -> Result<()> {
    let start = Instant::now();
    for _ in 0..n {
        client.append(Frame::builder("ev").build(), std::io::empty())?;
    }
    report(name, n, start.elapsed());
    server.shutdown();
    Ok(())
}

/// `follow-latency` with both ends clients of the owner: one appends, a
/// following read sees it.
fn remote_follow_latency(
    name: &str,
    (client, server, _dir): (xs_core::client::Client, xs_core::server::ServerHandle, TempDir),
) -> Result<()> {
    let mut follower = client.reader(ReadOptions::builder().follow(FollowOption::On).new(true).build())?;
    recv_remote(&mut follower, THRESHOLD)?;
    let mut latencies = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let t = Instant::now();
        client.append(Frame::builder("ping").build(), std::io::empty())?;
        recv_remote(&mut follower, "ping")?;
        latencies.push(t.elapsed());
    }
    latencies.sort();
    let (p50, p99) = (latencies[500].as_micros(), latencies[990].as_micros());
    println!("{name} p50_us={p50} p99_us={p99}");
    drop(follower);
    server.shutdown();
    Ok(())
}

/// Reads a socket follow until a frame on `topic`, within [`FOLLOW_TIMEOUT`].
fn recv_remote(follower: &mut xs_core::client::RemoteReader, topic: &str) -> Result<()> {
    let deadline = Instant::now() + FOLLOW_TIMEOUT;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match follower.poll(left)? {
            xs_core::store::Next::Frame(frame) if frame.topic == topic => return Ok(()),
            xs_core::store::Next::End => return Err(format!("the socket follow ended before {topic}").into()),
            _ => {}
        }
    }
    Err(format!("no {topic} within {FOLLOW_TIMEOUT:?}").into())
}

/// `action-call`: round trips of a call through the owner's socket, then
/// the throughput of N calls in flight at once.
fn action_call(
    (client, server, _dir): (xs_core::client::Client, xs_core::server::ServerHandle, TempDir),
    n: usize,
) -> Result<()> {
    let mut answers =
        client.reader(ReadOptions::builder().follow(FollowOption::On).new(true).topic("echo.*".into()).build())?;
    let script = "{run: {|frame| {n: $frame.meta.args.n}}, concurrency: 8}";
    client.append(Frame::builder("xs.action.echo.register").build(), script.as_bytes())?;
    let mut lifecycle =
        client.reader(ReadOptions::builder().follow(FollowOption::On).topic("xs.action.echo.*".into()).build())?;
    recv_remote(&mut lifecycle, "xs.action.echo.active")?;
    let call = |i: usize| Frame::builder("echo.call").meta(serde_json::json!({"args": {"n": i}})).build();
    let mut latencies = Vec::new();
    for i in 0..n.min(1000) {
        let t = Instant::now();
        client.append(call(i), std::io::empty())?;
        recv_remote(&mut answers, "echo.response")?;
        latencies.push(t.elapsed());
    }
    latencies.sort();
    let at = |q: usize| latencies.get(latencies.len() * q / 100).map_or(0, Duration::as_micros);
    let t = Instant::now();
    for i in 0..n {
        client.append(call(i), std::io::empty())?;
    }
    for _ in 0..n {
        recv_remote(&mut answers, "echo.response")?;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "action-call calls={n} ms={:.0} calls_per_s={:.0} p50_us={} p99_us={}",
        s * 1e3,
        n as f64 / s,
        at(50),
        at(99)
    );
    drop((answers, lifecycle));
    server.shutdown();
    Ok(())
}

#[cfg(feature = "nats")]
/// `mirror-throughput`: the raw async-nats publish rate, then a mirror's
/// rate draining an N-frame backlog, against one local JetStream server.
async fn mirror_throughput(n: usize) -> Result<()> {
    let nats = NatsServer::start()?;
    let js = async_nats::jetstream::new(nats.connect().await?);
    raw_publish(&js, n).await?;
    let (store, _dir) = fresh_store()?;
    let mut writer = store.cas_writer();
    std::io::Write::write_all(&mut writer, &[b'x'; 200])?;
    let hash = writer.commit()?;
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let frames = chunk.iter().map(|_| Frame::builder("bench").hash(hash.clone()).build()).collect();
        store.append_batch(frames, None)?;
    }
    let processor = xs_core::processor::Processor::spawn(store.clone())?;
    let t = Instant::now();
    let config = serde_json::json!({"url": nats.url(), "topics": "bench"});
    store.append(Frame::builder("xs.mirror.bench.register").meta(config).build())?;
    wait_for_messages(&js, "XS", n).await?;
    report("mirror-throughput", n, t.elapsed());
    processor.shutdown();
    Ok(())
}

#[cfg(feature = "nats")]
/// N 200-byte messages published with a window of acks in flight, as a mirror does.
async fn raw_publish(js: &async_nats::jetstream::Context, n: usize) -> Result<()> {
    let config = async_nats::jetstream::stream::Config {
        name: "RAW".into(),
        subjects: vec!["raw.>".into()],
        ..Default::default()
    };
    js.create_stream(config).await?;
    let body = bytes::Bytes::from_static(&[b'x'; 200]);
    let t = Instant::now();
    let mut window = std::collections::VecDeque::new();
    for _ in 0..n {
        if window.len() >= xs_core::nats::publish::WINDOW
            && let Some(ack) = window.pop_front()
        {
            ack.await?;
        }
        window.push_back(js.publish("raw.bench", body.clone()).await?);
    }
    for ack in window {
        ack.await?;
    }
    report("nats-raw-publish", n, t.elapsed());
    Ok(())
}

#[cfg(feature = "nats")]
/// Waits until `stream` holds `n` messages (five minutes at most).
async fn wait_for_messages(js: &async_nats::jetstream::Context, stream: &str, n: usize) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let held = match js.get_stream(stream).await {
            Ok(mut stream) => stream.info().await?.state.messages,
            Err(_) => 0,
        };
        if held >= n as u64 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("the mirror published {held} of {n} frames in five minutes").into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[cfg(not(feature = "nats"))]
async fn mirror_throughput(_: usize) -> Result<()> {
    Err("mirror-throughput needs xs-core's feature nats".into())
}

/// An append's way through a replica, 1000 times: appended to a source
/// store whose owner mirrors it into a JetStream stream, and read back from
/// a replica store that follows the stream.
#[cfg(feature = "nats")]
async fn replica_lag() -> Result<()> {
    let nats = NatsServer::start()?;
    let js = async_nats::jetstream::new(nats.connect().await?);
    let ((source, _s), (copy, _c)) = (fresh_store()?, fresh_store()?);
    let processor = xs_core::processor::Processor::spawn(source.clone())?;
    let config = serde_json::json!({"url": nats.url(), "subject_prefix": "lag", "topics": "ping"});
    source.append(Frame::builder("xs.mirror.lag.register").meta(config).build())?;
    source.append(Frame::builder("ping").build())?;
    wait_for_messages(&js, "XS", 1).await?;
    let replica = xs_core::nats::Replica::builder().url(nats.url()).subject_prefix("lag").build();
    let following = replica.spawn(copy.clone())?;
    let mut rx = follow(&copy).await?;
    let mut latencies = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let t = Instant::now();
        source.append(Frame::builder("ping").build())?;
        recv_topic(&mut rx, "ping").await?;
        latencies.push(t.elapsed());
    }
    following.stop()?;
    processor.shutdown();
    latencies.sort();
    let (p50, p99) = (latencies[500].as_micros(), latencies[990].as_micros());
    println!("replica-lag p50_us={p50} p99_us={p99}");
    Ok(())
}

#[cfg(not(feature = "nats"))]
async fn replica_lag() -> Result<()> {
    Err("replica-lag needs xs-core's feature nats".into())
}

/// A `nats-server` with JetStream on a free loopback port, killed on drop.
#[cfg(feature = "nats")]
struct NatsServer {
    child: std::process::Child,
    port: u16,
    _dir: TempDir,
}

#[cfg(feature = "nats")]
impl NatsServer {
    fn start() -> Result<NatsServer> {
        let binary = match std::env::var_os("XS_NATS_SERVER") {
            Some(path) => path.into(),
            None => {
                let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/get-nats-server");
                let out = std::process::Command::new(script).output()?;
                std::path::PathBuf::from(String::from_utf8(out.stdout)?.trim())
            }
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = TempDir::new()?;
        let child = std::process::Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        Ok(NatsServer { child, port, _dir: dir })
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// A client, once the server answers (within ten seconds).
    async fn connect(&self) -> Result<async_nats::Client> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match async_nats::connect(self.url()).await {
                Ok(client) => return Ok(client),
                Err(e) if Instant::now() > deadline => return Err(e.into()),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

#[cfg(feature = "nats")]
impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
