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

use crate::child;

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

const LOST_JOURNAL_CHILD: &str = "crash::child_appends_then_waits";

/// Run by [`acknowledged_frames_survive_losing_what_fjall_did_not_sync`]
/// in a child: appends 300 frames with inline payloads (well under the
/// WAL's size, so fjall's journal is never synced meanwhile), prints their
/// ids, and waits to be killed.
#[test]
#[ignore = "helper: run in a child process by a crash test"]
fn child_appends_then_waits() {
    if !child::is(LOST_JOURNAL_CHILD) {
        return;
    }
    let store = Store::new(std::env::var("XS_IT_DIR").expect("XS_IT_DIR")).expect("child opens the store");
    let mut ids = Vec::new();
    for i in 0..300usize {
        let mut writer = store.cas_writer();
        writer.write_all(format!("payload {i}").as_bytes()).expect("write payload");
        let hash = writer.commit().expect("commit payload");
        let frame = store.append(Frame::builder(TOPICS[i % 3]).hash(hash).build()).expect("append");
        ids.push(frame.id.to_string());
    }
    println!("ACKED {}", ids.join(","));
    child::wait_for_parent();
}

/// A power cut loses what fjall wrote but never synced: its journal is put
/// back as it was before the child opened the store. Every frame the child
/// had acknowledged is still there, from the write-ahead log.
#[test]
fn acknowledged_frames_survive_losing_what_fjall_did_not_sync() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::new(dir.path()).unwrap());
    let journals = |dir: &std::path::Path| -> Vec<std::path::PathBuf> {
        let entries = std::fs::read_dir(dir.join("fjall")).unwrap();
        entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "jnl")).collect()
    };
    let before: Vec<(std::path::PathBuf, Vec<u8>)> =
        journals(dir.path()).into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect();
    assert!(!before.is_empty(), "fjall keeps its journal in fjall/*.jnl");

    let child = child::spawn(LOST_JOURNAL_CHILD, &[("XS_IT_DIR", dir.path().to_str().unwrap())]);
    let acked: Vec<Scru128Id> = child.line("ACKED ").split(',').map(|id| id.parse().unwrap()).collect();
    child.kill9();
    assert_eq!(acked.len(), 300);

    let grown: usize = before.iter().map(|(p, old)| std::fs::read(p).unwrap().len().abs_diff(old.len())).sum();
    let new_journals = journals(dir.path()).len() - before.len();
    assert!(grown > 0 || new_journals > 0, "the child's appends reached fjall's journal");
    for path in journals(dir.path()) {
        match before.iter().find(|(p, _)| *p == path) {
            Some((_, bytes)) => std::fs::write(&path, bytes).unwrap(),
            None => std::fs::remove_file(&path).unwrap(),
        }
    }
    check_store(dir.path(), &acked, 0);
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
