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
    ops::Range,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use xs_core::{Frame, ReadOptions, Store, id::Scru128Id, store::INLINE_MAX};

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

const POWER_CUT_CHILD: &str = "crash::child_appends_then_waits";

/// Run by the power-cut tests in a child: appends 300 frames with inline
/// payloads (well under the WAL's size, so fjall's journal is never synced
/// meanwhile) and prints their ids as `ACKED`, then appends one more, the
/// commit a power cut interrupts in [`power_cut_tearing_the_wal_s_last_record_loses_only_that_commit`],
/// prints its id as `LAST`, and waits to be killed.
#[test]
#[ignore = "helper: run in a child process by a crash test"]
fn child_appends_then_waits() {
    if !child::is(POWER_CUT_CHILD) {
        return;
    }
    let store = Store::new(std::env::var("XS_IT_DIR").expect("XS_IT_DIR")).expect("child opens the store");
    let append = |i: usize| {
        let mut writer = store.cas_writer();
        writer.write_all(format!("payload {i}").as_bytes()).expect("write payload");
        let hash = writer.commit().expect("commit payload");
        store.append(Frame::builder(TOPICS[i % 3]).hash(hash).build()).expect("append").id.to_string()
    };
    let ids: Vec<String> = (0..300).map(append).collect();
    println!("ACKED {}", ids.join(","));
    println!("LAST {}", append(300));
    child::wait_for_parent();
}

/// A store made empty, then filled by [`child_appends_then_waits`], which is
/// killed: the store's dir, fjall's journals as they were before the child
/// (what a power cut would leave of them), the ids of the acknowledged
/// frames, and the id of the last one.
struct PowerCut {
    dir: tempfile::TempDir,
    journals_before: Vec<(PathBuf, Vec<u8>)>,
    acked: Vec<Scru128Id>,
    last: Scru128Id,
}

impl PowerCut {
    fn run() -> Self {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::new(dir.path()).unwrap());
        let journals_before: Vec<(PathBuf, Vec<u8>)> =
            journals(dir.path()).into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect();
        assert!(!journals_before.is_empty(), "fjall keeps its journal in fjall/*.jnl");
        let child = child::spawn(POWER_CUT_CHILD, &[("XS_IT_DIR", dir.path().to_str().unwrap())]);
        let acked: Vec<Scru128Id> = child.line("ACKED ").split(',').map(|id| id.parse().unwrap()).collect();
        let last: Scru128Id = child.line("LAST ").parse().unwrap();
        child.kill9();
        assert_eq!(acked.len(), 300);
        Self { dir, journals_before, acked, last }
    }

    /// Puts fjall's journals back as they were before the child opened the
    /// store: what a power cut leaves when none of the child's writes to
    /// them reached the disk.
    fn lose_fjall_s_unsynced_journal(&self) {
        let now = journals(self.dir.path());
        let grown = now.len() > self.journals_before.len()
            || self.journals_before.iter().any(|(p, old)| std::fs::read(p).unwrap() != *old);
        assert!(grown, "the child's appends reached fjall's journal");
        for path in now {
            match self.journals_before.iter().find(|(p, _)| *p == path) {
                Some((_, bytes)) => std::fs::write(&path, bytes).unwrap(),
                None => std::fs::remove_file(&path).unwrap(),
            }
        }
    }
}

/// fjall's journals in `store`, oldest first (the last is the active one).
fn journals(store: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(store.join("fjall")).unwrap();
    let mut found: Vec<(u64, PathBuf)> = entries
        .map(|e| e.unwrap().path())
        .filter_map(|p| Some((p.file_name()?.to_str()?.strip_suffix(".jnl")?.parse().ok()?, p.clone())))
        .collect();
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

/// A power cut loses what fjall wrote but never synced: its journal is put
/// back as it was before the child opened the store. Every frame the child
/// had acknowledged is still there, from the write-ahead log.
#[test]
fn acknowledged_frames_survive_losing_what_fjall_did_not_sync() {
    let cut = PowerCut::run();
    cut.lose_fjall_s_unsynced_journal();
    check_store(cut.dir.path(), &[&cut.acked[..], &[cut.last]].concat(), 0);
}

/// A power cut that lands one sector of a commit's batch in fjall's journal
/// but not the rest (a torn write inside a value) leaves a batch that
/// parses but fails its checksum, which fjall 3.1 refuses to open past
/// (`JournalRecoveryError::ChecksumMismatch`). The store cuts the journal
/// there and replays the WAL: every acknowledged frame is there.
#[test]
fn a_torn_batch_in_fjall_s_journal_loses_no_acknowledged_frame() {
    let cut = PowerCut::run();
    let journal = journals(cut.dir.path()).pop().unwrap();
    let mut bytes = std::fs::read(&journal).unwrap();
    let batches = journal_batches(&bytes);
    let last = batches.last().expect("the child's appends are in fjall's active journal");
    let value = last.values.iter().max_by_key(|v| v.len()).unwrap().clone();
    let torn = value.start + value.len() / 2;
    assert!(last.bytes.contains(&torn) && value.contains(&torn), "the damaged byte is inside the last batch's value");
    bytes[torn] ^= 0xff;
    std::fs::write(&journal, &bytes).unwrap();
    check_store(cut.dir.path(), &[&cut.acked[..], &[cut.last]].concat(), 0);
}

/// A power cut during the last commit's WAL write leaves that record zeroed
/// or torn, and fjall's journal without what it never synced: the store
/// opens with every acknowledged frame and without the interrupted one.
#[test]
fn power_cut_tearing_the_wal_s_last_record_loses_only_that_commit() {
    for damage in [Damage::Zeroed, Damage::Torn] {
        let cut = PowerCut::run();
        cut.lose_fjall_s_unsynced_journal();
        let wal = cut.dir.path().join("wal");
        let mut bytes = std::fs::read(&wal).unwrap();
        let record = wal_records(&bytes).pop().expect("the WAL holds the child's commits");
        let key = cut.last.to_u128().to_be_bytes();
        assert!(bytes[record.clone()].windows(16).any(|w| w == key), "the last record is the last frame's");
        match damage {
            // The record's head and body, as a block that never reached the disk.
            Damage::Zeroed => bytes[record.start - 8..record.end].fill(0),
            // The second half of the record, as a write torn at a sector.
            Damage::Torn => bytes[record.start + record.len() / 2..record.end].fill(0),
        }
        std::fs::write(&wal, &bytes).unwrap();
        check_store(cut.dir.path(), &cut.acked, 0);
        let store = Store::new(cut.dir.path()).unwrap();
        assert_eq!(store.get(&cut.last).unwrap(), None, "{damage:?}: the interrupted commit is not there");
    }
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    Zeroed,
    Torn,
}

/// One batch of fjall's journal: where it lies, and where its items' values do.
struct JournalBatch {
    bytes: Range<usize>,
    values: Vec<Range<usize>>,
}

/// The complete batches of a fjall 3 journal, parsed by its framing (fjall
/// `journal/entry.rs`): Start (tag 1, u32 item count, u64 seqno), items
/// (tag 2, value type, compression, u64 keyspace, u16 key length, u32 value
/// length, u32 stored length, key, value), End (tag 3, u64 checksum, "FJL\x03").
/// Parsing stops at anything else, as at the end of what was written.
fn journal_batches(bytes: &[u8]) -> Vec<JournalBatch> {
    let le =
        |at: usize, n: usize| bytes.get(at..at + n).map(|b| b.iter().rev().fold(0usize, |a, x| a << 8 | *x as usize));
    let (mut batches, mut at) = (Vec::new(), 0);
    while bytes.get(at) == Some(&1) {
        let start = at;
        let mut values = Vec::new();
        at += 13;
        while bytes.get(at) == Some(&2) {
            let (Some(key), Some(stored)) = (le(at + 11, 2), le(at + 17, 4)) else { return batches };
            let value = at + 21 + key;
            values.push(value..value + stored);
            at = value + stored;
        }
        if bytes.get(at) != Some(&3) || bytes.get(at + 9..at + 13) != Some(b"FJL\x03") {
            break;
        }
        at += 13;
        batches.push(JournalBatch { bytes: start..at, values });
    }
    batches
}

/// Where the records of the WAL's current epoch lie (docs/store-format.md).
fn wal_records(bytes: &[u8]) -> Vec<Range<usize>> {
    let epoch = &bytes[8..16];
    let (mut records, mut at) = (Vec::new(), 32);
    while let Some(head) = bytes.get(at..at + 8) {
        let len = u32::from_le_bytes(head[..4].try_into().unwrap()) as usize;
        let Some(record) = bytes.get(at + 8..at + 8 + len).filter(|_| len > 0) else { break };
        let mut crc = crc32fast::Hasher::new();
        crc.update(epoch);
        crc.update(record);
        if crc.finalize().to_le_bytes() != head[4..] {
            break;
        }
        records.push(at + 8..at + 8 + len);
        at += 8 + len;
    }
    records
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
            all.iter().filter(|f| xs_core::topic::TopicFilter::parse(pattern).unwrap().matches(&f.topic)).collect();
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
