//! fjall's journal, read here only to open past a tail torn by a power cut.
//!
//! fjall 3.1 opens past a journal whose last batch is cut short or ends in
//! bytes that do not parse: it truncates the journal there. It does not
//! open past a batch that parses whole but fails its checksum, or whose
//! item count disagrees with its items: `Database::open` fails with
//! `JournalRecovery(ChecksumMismatch)` (or `InsufficientLength`,
//! `TooManyItems`). A power cut can leave exactly that, because the store
//! does not sync fjall's journal per commit (the WAL's sync makes a commit
//! durable): the page holding a batch's end can reach the disk while a page
//! in the middle of its values does not.
//!
//! Whatever fjall's active journal holds past its last sync is also in the
//! WAL (the WAL starts over only after fjall's journal is synced), so the
//! store cuts the active journal at its first batch that does not check,
//! opens fjall again, and the WAL replays what was cut. A batch that does
//! not check in the part of the journal that *was* synced (a disk that
//! rots, not a power cut) cannot be told apart from a torn one: it is cut
//! too, with what follows it, and the store logs a warning naming the
//! offset. Sealed journals were synced when fjall sealed them; damage there
//! is not a power cut, and fails the open as before.
//!
//! The framing read here is fjall 3's (its `journal/entry.rs` and
//! `journal/writer.rs`), written down in docs/store-format.md; the
//! power-cut tests in `tests/it/crash.rs` check it against the fjall in
//! Cargo.lock.

use std::{
    fs::{File, OpenOptions, TryLockError},
    path::{Path, PathBuf},
};

use crate::error::{Result, StoreError};

const START: u8 = 1;
const ITEM: u8 = 2;
const END: u8 = 3;
const CLEAR: u8 = 4;
/// Start: tag, u32 item count, u64 seqno.
const START_LEN: usize = 13;
/// An item's fixed part: tag, value type, compression, u64 keyspace id,
/// u16 key length, u32 value length, u32 stored value length.
const ITEM_HEAD: usize = 21;
/// Clear: tag, u64 keyspace id.
const CLEAR_LEN: usize = 9;
/// End: tag, u64 checksum, then this trailer.
const TRAILER: &[u8; 4] = b"FJL\x03";
const END_LEN: usize = 9 + TRAILER.len();

/// Cuts fjall's active journal in `store`'s `fjall` dir at its first batch
/// that parses whole but does not check, holding fjall's lock meanwhile.
/// Returns where it cut, or `None` when every batch checks (then the open
/// failed for another reason, which the caller reports).
///
/// # Errors
///
/// [`StoreError::Locked`] when another process holds the store;
/// [`StoreError::Io`] when the journal cannot be read or cut.
pub(crate) fn cut_damaged_tail(store: &Path) -> Result<Option<u64>> {
    let dir = store.join("fjall");
    let _lock = lock(&dir).map_err(|e| match e {
        TryLockError::WouldBlock => StoreError::Locked { path: store.to_path_buf() },
        TryLockError::Error(e) => e.into(),
    })?;
    let Some(path) = active_journal(&dir)? else { return Ok(None) };
    let Some(at) = first_damaged_batch(&std::fs::read(&path)?) else { return Ok(None) };
    let file = OpenOptions::new().write(true).open(&path)?;
    file.set_len(at as u64)?;
    file.sync_all()?;
    tracing::warn!(journal = %path.display(), at, "cut fjall's journal at a batch that failed its checksum; the WAL replays what it held");
    Ok(Some(at as u64))
}

/// fjall's own lock file, locked as fjall locks it (`flock`), so no fjall
/// opens the store while its journal is being cut.
fn lock(dir: &Path) -> std::result::Result<File, TryLockError> {
    let file = OpenOptions::new().read(true).write(true).open(dir.join("lock")).map_err(TryLockError::Error)?;
    file.try_lock()?;
    Ok(file)
}

/// The journal with the highest number: the one fjall writes to.
fn active_journal(dir: &Path) -> Result<Option<PathBuf>> {
    let mut active: Option<(u64, PathBuf)> = None;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let id = path.file_name().and_then(|n| n.to_str()?.strip_suffix(".jnl")?.parse::<u64>().ok());
        if let Some(id) = id.filter(|id| active.as_ref().is_none_or(|(max, _)| id > max)) {
            active = Some((id, path));
        }
    }
    Ok(active.map(|(_, path)| path))
}

/// Where the first batch that parses whole but does not check starts.
fn first_damaged_batch(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        match check_batch(bytes, at) {
            Batch::Good(end) => at = end,
            Batch::Damaged => return Some(at),
            Batch::End => return None,
        }
    }
}

enum Batch {
    /// It checks, and the next one starts here.
    Good(usize),
    /// It parses whole, but its item count or checksum is wrong.
    Damaged,
    /// No whole batch starts here: fjall stops reading here itself.
    End,
}

/// Reads the batch at `at` as fjall's `JournalBatchReader` does.
fn check_batch(bytes: &[u8], mut at: usize) -> Batch {
    let Some(count) = (bytes.get(at) == Some(&START)).then(|| le(bytes, at + 1, 4)).flatten() else {
        return Batch::End;
    };
    at += START_LEN;
    let (mut items, mut hasher) = (0, xxhash_rust::xxh3::Xxh3::new());
    while let Some(len) = entry_len(bytes, at) {
        let Some(entry) = bytes.get(at..at + len) else { return Batch::End };
        hasher.update(entry);
        items += 1;
        at += len;
    }
    let (Some(&END), Some(checksum)) = (bytes.get(at), le(bytes, at + 1, 8)) else { return Batch::End };
    if bytes.get(at + 9..at + END_LEN) != Some(TRAILER) {
        return Batch::End;
    }
    if items != count || hasher.digest() != checksum {
        return Batch::Damaged;
    }
    Batch::Good(at + END_LEN)
}

/// The length of the item or clear entry at `at`; `None` for anything else.
fn entry_len(bytes: &[u8], at: usize) -> Option<usize> {
    match *bytes.get(at)? {
        ITEM => Some(ITEM_HEAD + le(bytes, at + 11, 2)? as usize + le(bytes, at + 17, 4)? as usize),
        CLEAR => Some(CLEAR_LEN),
        _ => None,
    }
}

/// The `n`-byte little-endian number at `at`.
fn le(bytes: &[u8], at: usize, n: usize) -> Option<u64> {
    let field = bytes.get(at..at + n)?;
    Some(field.iter().rev().fold(0, |acc, b| acc << 8 | u64::from(*b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fjall journal of one batch per value, written by fjall itself.
    fn journal_of(dir: &Path, values: &[&[u8]]) -> Vec<u8> {
        let db = fjall::Database::builder(dir).manual_journal_persist(true).open().unwrap();
        let ks = db.keyspace("t", fjall::KeyspaceCreateOptions::default).unwrap();
        for (i, value) in values.iter().enumerate() {
            ks.insert(i.to_be_bytes(), *value).unwrap();
        }
        db.persist(fjall::PersistMode::SyncAll).unwrap();
        drop((ks, db));
        std::fs::read(active_journal(dir).unwrap().unwrap()).unwrap()
    }

    #[test]
    fn a_journal_fjall_wrote_checks_whole() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = journal_of(dir.path(), &[b"one", b"two", &[7; 5000]]);
        assert_eq!(first_damaged_batch(&bytes), None);
        let (mut at, mut batches) = (0, 0);
        while let Batch::Good(end) = check_batch(&bytes, at) {
            (at, batches) = (end, batches + 1);
        }
        assert!(batches >= 3, "{batches} batches parsed");
        assert!(bytes[at..].iter().all(|b| *b == 0), "the batches end at {at} of {}", bytes.len());
    }

    #[test]
    fn a_flipped_byte_in_a_value_is_found_at_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = journal_of(dir.path(), &[b"first value", b"second value"]);
        let second = bytes.windows(12).position(|w| w == b"second value").unwrap();
        let mut damaged = bytes.clone();
        damaged[second + 3] ^= 0xff;
        let cut = first_damaged_batch(&damaged).expect("the damage is found");
        let Batch::Good(end) = check_batch(&bytes, cut) else { panic!("a batch starts where it cuts") };
        assert!((cut..end).contains(&second), "it cuts at the batch that holds the damage");
    }
}
