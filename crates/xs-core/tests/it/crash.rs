//! Crash consistency: SIGKILL an appending process at random moments.
//!
//! The child is this same test binary, re-run with `XS_CRASH_CHILD` set so
//! that only [`child_appender`] runs: it appends frames with payloads (some
//! inline, some large enough for cacache files) and prints each id as soon
//! as its append is acknowledged. After every kill the parent reopens the
//! store and checks the promises of DESIGN.md section 4.

use std::{
    collections::{BTreeMap, HashSet},
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use xs_core::{Frame, INLINE_MAX, ReadOptions, Scru128Id, Store};

const CHILD_ENV: &str = "XS_CRASH_CHILD";
const TOPICS: [&str; 3] = ["crash.a", "crash.b.c", "other"];
const CYCLES: usize = 20;

/// Run by the child process only: appends until killed.
#[test]
#[ignore = "run as a child of kill_nine_never_loses_an_acknowledged_frame"]
fn child_appender() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let store = Store::new(dir).expect("child opens the store");
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        let size = if i % 5 == 0 { INLINE_MAX + 1 + (i as usize % 1000) } else { 10 + i as usize % 300 };
        let payload: Vec<u8> = (0..size).map(|j| (i as usize + j) as u8).collect();
        let mut writer = store.cas_writer();
        writer.write_all(&payload).expect("write payload");
        let hash = writer.commit().expect("commit payload");
        let frame = store.append(Frame::builder(TOPICS[i as usize % 3]).hash(hash).build()).expect("append");
        writeln!(out, "ACK {}", frame.id).expect("stdout");
        out.flush().expect("flush");
    }
}

#[test]
fn kill_nine_never_loses_an_acknowledged_frame() {
    let dir = tempfile::tempdir().unwrap();
    let mut acked: Vec<Scru128Id> = Vec::new();
    let mut rng = scru128::new().to_u128();
    for cycle in 0..CYCLES {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let run_for = Duration::from_millis(20 + (rng >> 64) as u64 % 300);
        let new = run_child_and_kill(dir.path(), run_for);
        assert!(new.windows(2).all(|w| w[0] < w[1]), "cycle {cycle}: acked ids out of order");
        if let (Some(prev), Some(first)) = (acked.last(), new.first()) {
            assert!(first > prev, "cycle {cycle}: ids went backwards across a restart");
        }
        acked.extend(new);
        check_store(dir.path(), &acked, cycle);
    }
    assert!(acked.len() > CYCLES, "the child should have acknowledged frames ({})", acked.len());
}

/// Runs the child for `run_for` after its first ack, SIGKILLs it, returns the ids it acknowledged.
fn run_child_and_kill(dir: &std::path::Path, run_for: Duration) -> Vec<Scru128Id> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash::child_appender", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| l.strip_prefix("ACK ").map(|id| id.parse::<Scru128Id>().expect("acked id")))
            .collect::<Vec<_>>()
    });
    let deadline = Instant::now() + crate::common::PATIENCE;
    let started = Instant::now();
    while started.elapsed() < run_for && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    reader.join().unwrap()
}

/// The promises of DESIGN.md section 4, checked on the reopened store.
fn check_store(dir: &std::path::Path, acked: &[Scru128Id], cycle: usize) {
    let store = Store::new(dir).unwrap_or_else(|e| panic!("cycle {cycle}: reopen failed: {e}"));
    let all: Vec<Frame> = store.reader(ReadOptions::default()).unwrap().collect::<Result<_, _>>().unwrap();
    let ids: HashSet<_> = all.iter().map(|f| f.id).collect();
    for id in acked {
        assert!(ids.contains(id), "cycle {cycle}: acknowledged frame {id} is missing");
    }
    for frame in &all {
        let hash = frame.hash.as_ref().expect("every frame has a payload");
        let bytes = store.cas_read(hash).unwrap_or_else(|e| panic!("cycle {cycle}: frame {} payload: {e}", frame.id));
        assert_eq!(&ssri::Integrity::from(&bytes), hash);
    }
    let mut by_topic: BTreeMap<&str, Vec<&Frame>> = BTreeMap::new();
    for f in &all {
        by_topic.entry(f.topic.as_str()).or_default().push(f);
    }
    for pattern in ["crash.a", "crash.b.c", "other", "crash.*", "crash.b.*"] {
        let expected: Vec<&Frame> =
            all.iter().filter(|f| xs_core::TopicFilter::parse(pattern).unwrap().matches(&f.topic)).collect();
        let got: Vec<Frame> = store
            .reader(ReadOptions::builder().topic(pattern.into()).build())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            got.iter().collect::<Vec<_>>(),
            expected,
            "cycle {cycle}: index for {pattern} disagrees with the stream"
        );
    }
}
