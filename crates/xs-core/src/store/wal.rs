//! The write-ahead log: the file whose sync makes a commit durable.
//!
//! fjall can sync its own journal, but that journal is a sparse file when
//! new and grows at its end once reopened: either way, writing into a block
//! the file has never held makes the next `fdatasync` commit filesystem
//! metadata as well, which on ext4 costs about a third more than a sync that
//! only overwrites data. The WAL is one small file, written full of zeros when
//! it is created and rewritten from the start when full, so every sync after
//! that overwrites blocks the file already has.
//!
//! A durable commit writes its changes here as one record, syncs, and then
//! applies them to fjall without syncing its journal. When the WAL is full,
//! fjall's journal is synced and the WAL starts over under a new epoch.
//! Opening a store replays the records of the current epoch into fjall, in
//! order. A record only puts and deletes whole keys, so replaying one that
//! fjall already holds changes nothing.
//!
//! The layout is in `docs/store-format.md`.

use std::{
    fs::{File, OpenOptions},
    os::unix::fs::FileExt,
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard},
};

use fjall::{Database, Keyspace, OwnedWriteBatch, PersistMode};

use crate::error::{Result, StoreError};

/// The size of a new WAL: about a thousand commits of eight small frames
/// between two syncs of fjall's journal, and a megabyte of zeros written
/// once per store.
const SIZE: u64 = 1 << 20;

/// Where records start, after the header.
const HEADER: u64 = 32;

/// A record's length and CRC, written ahead of it.
const RECORD_HEAD: usize = 8;

const MAGIC: &[u8; 8] = b"xs-wal\0\x01";

/// The keyspace a change is to, by the number it has in a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Table {
    Stream = 0,
    Index = 1,
    Expiry = 2,
    Meta = 3,
    Checkpoints = 4,
    CasInline = 5,
}

impl Table {
    const ALL: [Table; 6] =
        [Table::Stream, Table::Index, Table::Expiry, Table::Meta, Table::Checkpoints, Table::CasInline];
}

/// Puts and deletes for one commit: a fjall batch, and the same changes
/// encoded as a WAL record.
pub(crate) struct Changes {
    batch: OwnedWriteBatch,
    /// Room for the record's head, then the record: written with one call.
    entry: Vec<u8>,
}

impl Changes {
    fn new(db: &Database) -> Self {
        let mut entry = Vec::with_capacity(256);
        entry.resize(RECORD_HEAD, 0);
        Self { batch: db.batch(), entry }
    }

    pub(crate) fn insert(
        &mut self,
        (table, keyspace): (Table, &Keyspace),
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) {
        let (key, value) = (key.as_ref(), value.as_ref());
        self.batch.insert(keyspace, key, value);
        self.encode(table, Some(value), key);
    }

    pub(crate) fn remove(&mut self, (table, keyspace): (Table, &Keyspace), key: impl AsRef<[u8]>) {
        let key = key.as_ref();
        self.batch.remove(keyspace, key);
        self.encode(table, None, key);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entry.len() == RECORD_HEAD
    }

    /// `table`, 0 for a put or 1 for a delete, the key, and a put's value,
    /// each length a u32 LE.
    fn encode(&mut self, table: Table, value: Option<&[u8]>, key: &[u8]) {
        self.entry.push(table as u8);
        self.entry.push(u8::from(value.is_none()));
        put_bytes(&mut self.entry, key);
        if let Some(value) = value {
            put_bytes(&mut self.entry, value);
        }
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Where a store's commits go: through the WAL when durable, straight to
/// fjall otherwise.
#[derive(Clone)]
pub(crate) struct Disk {
    db: Database,
    wal: Option<std::sync::Arc<Wal>>,
}

impl Disk {
    /// Opens the WAL at `path` and replays into `db` what it holds that
    /// fjall may not (`keyspaces` in [`Table`] order). A store opened without
    /// durability replays the WAL too, then leaves it unused.
    pub(crate) fn open(db: Database, path: PathBuf, keyspaces: [&Keyspace; 6], durable: bool) -> Result<Self> {
        let (wal, records) = Wal::open(path)?;
        if !records.is_empty() {
            for record in &records {
                replay(&db, keyspaces, record).map_err(|reason| wal.damaged(reason))?;
            }
            db.persist(PersistMode::SyncAll)?;
        }
        wal.reset(&mut *wal.lock()?)?;
        Ok(Self { db, wal: durable.then(|| std::sync::Arc::new(wal)) })
    }

    /// An empty set of changes to commit here.
    pub(crate) fn changes(&self) -> Changes {
        Changes::new(&self.db)
    }

    /// Commits `changes`: when `sync`, they are durable once this returns
    /// (with every change committed before them); otherwise they are made
    /// durable by the next commit that syncs.
    pub(crate) fn commit(&self, changes: Changes, sync: bool) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let Some(wal) = &self.wal else {
            changes.batch.commit()?;
            return self.db.persist(PersistMode::Buffer).map_err(Into::into);
        };
        // The lock is held until the changes are in fjall, so whoever holds
        // it knows fjall has everything the WAL does: it may sync fjall and
        // start the WAL over at any time.
        let mut state = wal.lock()?;
        let result = self.commit_locked(wal, &mut state, changes, sync);
        // After a failed write or sync the file's contents are unknown, and
        // a record of a commit reported as failed could be replayed: refuse
        // everything until the store is reopened.
        state.failed |= result.is_err();
        result
    }

    /// Makes every change committed so far durable.
    pub(crate) fn sync(&self) -> Result<()> {
        let Some(wal) = &self.wal else { return self.db.persist(PersistMode::Buffer).map_err(Into::into) };
        let mut state = wal.lock()?;
        let result = wal.sync(&mut state);
        state.failed |= result.is_err();
        result
    }

    fn commit_locked(&self, wal: &Wal, state: &mut State, mut changes: Changes, sync: bool) -> Result<()> {
        if !wal.write(state, &mut changes.entry, sync)? {
            self.db.persist(PersistMode::SyncData)?;
            wal.reset(state)?;
            if !wal.write(state, &mut changes.entry, sync)? {
                // Bigger than the whole WAL: this one goes through fjall's journal.
                changes.batch.commit()?;
                return self.db.persist(PersistMode::SyncData).map_err(Into::into);
            }
        }
        changes.batch.commit().map_err(Into::into)
    }
}

/// Applies one record to fjall.
fn replay(db: &Database, keyspaces: [&Keyspace; 6], mut record: &[u8]) -> std::result::Result<(), &'static str> {
    let mut batch = db.batch();
    while let [table, kind, rest @ ..] = record {
        let table = Table::ALL.iter().position(|t| *t as u8 == *table).ok_or("unknown table")?;
        let keyspace = keyspaces[table];
        let (key, rest) = take_bytes(rest)?;
        record = match kind {
            0 => {
                let (value, rest) = take_bytes(rest)?;
                batch.insert(keyspace, key, value);
                rest
            }
            1 => {
                batch.remove(keyspace, key);
                rest
            }
            _ => return Err("unknown change"),
        };
    }
    if !record.is_empty() {
        return Err("a change is cut short");
    }
    batch.commit().map_err(|_| "fjall refused a replayed change")
}

fn take_bytes(input: &[u8]) -> std::result::Result<(&[u8], &[u8]), &'static str> {
    let (len, rest) = input.split_first_chunk::<4>().ok_or("a change is cut short")?;
    let len = u32::from_le_bytes(*len) as usize;
    (rest.len() >= len).then(|| rest.split_at(len)).ok_or("a change is cut short")
}

/// The WAL file.
///
/// Header: the magic, the epoch (u64 LE), and a CRC-32 of both (u32 LE).
/// Each record: its length (u32 LE), a CRC-32 (u32 LE) of the epoch then the
/// record, and the record. The first record whose length is 0 or too long,
/// or whose CRC does not match, ends the epoch's records: records of an
/// earlier epoch never match the current one.
pub(crate) struct Wal {
    path: PathBuf,
    file: File,
    size: u64,
    state: Mutex<State>,
}

pub(crate) struct State {
    epoch: u64,
    /// Where the next record goes.
    end: u64,
    /// Records committed without a sync, not yet written: they go to the
    /// file with the next record that is synced, in the same call.
    unsynced: Vec<u8>,
    failed: bool,
}

impl State {
    fn new(epoch: u64, end: u64) -> Self {
        Self { epoch, end, unsynced: Vec::new(), failed: false }
    }
}

impl Wal {
    /// Opens the WAL at `path`, creating it if missing, and returns it with
    /// the records of its current epoch, oldest first.
    fn open(path: PathBuf) -> Result<(Self, Vec<Vec<u8>>)> {
        if !path.exists() {
            create(&path)?;
        }
        let file = OpenOptions::new().read(true).write(true).open(&path)?;
        private(&file)?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut &file, &mut bytes)?;
        let mut wal = Self { path, file, size: bytes.len() as u64, state: Mutex::new(State::new(0, 0)) };
        let epoch = match bytes.get(..HEADER as usize) {
            Some(header) if header.starts_with(MAGIC) && crc(&header[..16]) == read_u32(&header[16..]) => {
                u64::from_le_bytes(header[8..16].try_into().unwrap_or_default())
            }
            _ => return Err(wal.damaged("its header is not an xs WAL header")),
        };
        let mut records = Vec::new();
        let mut at = HEADER as usize;
        while let Some(head) = bytes.get(at..at + 8) {
            let len = read_u32(head) as usize;
            let Some(record) = bytes.get(at + 8..at + 8 + len).filter(|_| len > 0) else { break };
            if crc_in(epoch, record) != read_u32(&head[4..]) {
                break;
            }
            records.push(record.to_vec());
            at += 8 + len;
        }
        wal.state = Mutex::new(State::new(epoch, at as u64));
        Ok((wal, records))
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.failed {
            let message = format!("an earlier write to {} failed; reopen the store", self.path.display());
            return Err(StoreError::Io(std::io::Error::other(message)));
        }
        Ok(state)
    }

    /// Adds `entry` (room for the record's head, then the record) after the
    /// last record; false, changing nothing, when it does not fit. With
    /// `sync`, it is written with the records before it and durable when
    /// this returns.
    fn write(&self, state: &mut State, entry: &mut [u8], sync: bool) -> Result<bool> {
        if state.end + entry.len() as u64 > self.size {
            return Ok(false);
        }
        let (head, record) = entry.split_at_mut(RECORD_HEAD);
        head[..4].copy_from_slice(&(record.len() as u32).to_le_bytes());
        head[4..].copy_from_slice(&crc_in(state.epoch, record).to_le_bytes());
        if sync {
            self.write_unsynced_and(state, entry)?;
        } else {
            state.unsynced.extend_from_slice(entry);
        }
        state.end += entry.len() as u64;
        Ok(true)
    }

    /// Makes every record added so far durable.
    fn sync(&self, state: &mut State) -> Result<()> {
        self.write_unsynced_and(state, &[])
    }

    /// Writes the records held in memory, then `entry`, after them, durably.
    fn write_unsynced_and(&self, state: &mut State, entry: &[u8]) -> Result<()> {
        let at = state.end - state.unsynced.len() as u64;
        write_durably(&self.file, at, &state.unsynced, entry)?;
        state.unsynced.clear();
        Ok(())
    }

    /// Starts a new epoch, which holds no records. Everything the WAL held
    /// must be durable in fjall first.
    fn reset(&self, state: &mut State) -> Result<()> {
        let epoch = state.epoch + 1;
        write_durably(&self.file, 0, &header(epoch), &[])?;
        *state = State::new(epoch, HEADER);
        Ok(())
    }

    fn damaged(&self, reason: &str) -> StoreError {
        StoreError::CorruptLog { path: self.path.clone(), reason: reason.to_string() }
    }
}

/// Writes `first` then `second` at `at`, and returns once they are durable:
/// with one `pwritev2(RWF_DSYNC)` where the kernel has it, which saves the
/// separate `fdatasync` call.
fn write_durably(file: &File, at: u64, first: &[u8], second: &[u8]) -> std::io::Result<()> {
    let done = written_with_dsync(file, at, first, second)?;
    if done == first.len() + second.len() {
        return Ok(());
    }
    let rest = [first, second].concat();
    file.write_all_at(&rest[done..], at + done as u64)?;
    file.sync_data()
}

/// How many bytes of `first` then `second` one or more `pwritev2` calls
/// with `RWF_DSYNC` wrote durably: all of them, unless the kernel (before
/// 4.7) does not know the flag.
#[cfg(target_os = "linux")]
fn written_with_dsync(file: &File, at: u64, first: &[u8], second: &[u8]) -> std::io::Result<usize> {
    use rustix::io::{Errno, ReadWriteFlags};
    use std::io::IoSlice;
    let mut slices = [IoSlice::new(first), IoSlice::new(second)];
    let mut slices = &mut slices[..];
    let mut done = 0;
    while done < first.len() + second.len() {
        match rustix::io::pwritev2(file, slices, at + done as u64, ReadWriteFlags::DSYNC) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                done += n;
                IoSlice::advance_slices(&mut slices, n);
            }
            Err(Errno::INTR) => {}
            Err(Errno::NOSYS | Errno::OPNOTSUPP | Errno::INVAL) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(done)
}

#[cfg(not(target_os = "linux"))]
fn written_with_dsync(_: &File, _: u64, _: &[u8], _: &[u8]) -> std::io::Result<usize> {
    Ok(0)
}

/// Writes a WAL of [`SIZE`] zeros after a header of epoch 0 beside `path`,
/// readable by its owner only, syncs it, and moves it into place, so a crash
/// never leaves one half made.
fn create(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let partial = path.with_extension("partial");
    // 0600: the WAL holds payloads (inline ones, and frames' meta).
    let file = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&partial)?;
    let mut bytes = vec![0; SIZE as usize];
    bytes[..HEADER as usize].copy_from_slice(&header(0));
    file.write_all_at(&bytes, 0)?;
    file.sync_all()?;
    std::fs::rename(&partial, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Makes a WAL made before WALs were created 0600 readable by its owner only.
fn private(file: &File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if file.metadata()?.permissions().mode() & 0o777 != 0o600 {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn header(epoch: u64) -> [u8; HEADER as usize] {
    let mut header = [0; HEADER as usize];
    header[..8].copy_from_slice(MAGIC);
    header[8..16].copy_from_slice(&epoch.to_le_bytes());
    let crc = crc(&header[..16]);
    header[16..20].copy_from_slice(&crc.to_le_bytes());
    header
}

fn crc(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

fn crc_in(epoch: u64, record: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&epoch.to_le_bytes());
    hasher.update(record);
    hasher.finalize()
}

fn read_u32(bytes: &[u8]) -> u32 {
    bytes.first_chunk::<4>().map_or(0, |b| u32::from_le_bytes(*b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_in(dir: &tempfile::TempDir) -> (Wal, Vec<Vec<u8>>) {
        Wal::open(dir.path().join("wal")).unwrap()
    }

    fn write(wal: &Wal, record: &[u8]) {
        let mut entry = [&[0; RECORD_HEAD][..], record].concat();
        assert!(wal.write(&mut wal.lock().unwrap(), &mut entry, true).unwrap());
    }

    #[test]
    fn records_of_the_current_epoch_come_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, records) = wal_in(&dir);
        assert!(records.is_empty());
        for record in [&b"one"[..], b"two", b"three"] {
            write(&wal, record);
        }
        drop(wal);
        assert_eq!(wal_in(&dir).1, [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
    }

    #[test]
    fn unsynced_records_reach_the_file_with_the_next_sync() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = wal_in(&dir);
        for record in [&b"unsynced one"[..], b"unsynced two"] {
            let mut entry = [&[0; RECORD_HEAD][..], record].concat();
            assert!(wal.write(&mut wal.lock().unwrap(), &mut entry, false).unwrap());
        }
        assert!(wal_in(&dir).1.is_empty(), "nothing is written before a sync");
        wal.sync(&mut wal.lock().unwrap()).unwrap();
        assert_eq!(wal_in(&dir).1, [b"unsynced one".to_vec(), b"unsynced two".to_vec()]);
        write(&wal, b"synced");
        assert_eq!(wal_in(&dir).1.len(), 3);
    }

    #[test]
    fn a_torn_record_ends_the_records() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = wal_in(&dir);
        write(&wal, b"kept");
        let torn_at = wal.lock().unwrap().end;
        write(&wal, b"torn");
        write(&wal, b"after the torn one");
        wal.file.write_all_at(b"x", torn_at + 8).unwrap();
        drop(wal);
        assert_eq!(wal_in(&dir).1, [b"kept".to_vec()]);
    }

    #[test]
    fn records_of_an_earlier_epoch_are_not_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = wal_in(&dir);
        write(&wal, b"old one");
        write(&wal, b"old two");
        wal.reset(&mut wal.lock().unwrap()).unwrap();
        // Exactly as long as the first old record, so the second old one
        // follows it where the next record would start.
        write(&wal, b"new one");
        drop(wal);
        assert_eq!(wal_in(&dir).1, [b"new one".to_vec()]);
    }

    /// Version 1 of the WAL, written out by hand from docs/store-format.md
    /// ("Write-ahead log"); the CRCs are zlib's CRC-32, computed apart. A
    /// store's WAL holds these bytes after a crash: if this test fails, the
    /// layout changed and old WALs would no longer replay.
    #[test]
    fn version_1_header_is_pinned() {
        let epoch_7: &[u8] = b"xs-wal\x00\x01\
            \x07\x00\x00\x00\x00\x00\x00\x00\
            \x4b\x9c\x71\x1e\
            \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
        assert_eq!(header(7), epoch_7);
        assert_eq!(header(0)[8..20], *b"\x00\x00\x00\x00\x00\x00\x00\x00\x52\x95\xb4\x14");
    }

    /// A commit of a put to the stream and a delete from the topic index,
    /// as the file holds it: the header of epoch 1 (a new WAL is created at
    /// epoch 0 and reset when the store opens), then the record's length,
    /// its CRC over the epoch and the record, and the two changes.
    #[test]
    fn version_1_record_is_pinned() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::builder(dir.path().join("fjall")).manual_journal_persist(true).open().unwrap();
        let ks = db.keyspace("t", fjall::KeyspaceCreateOptions::default).unwrap();
        let disk = Disk::open(db.clone(), dir.path().join("wal"), [&ks; 6], true).unwrap();
        let id = *b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10";
        let record = b"\x01\x01\x08clip.add\x00\x00\x00\x00\x00";
        let mut changes = disk.changes();
        changes.insert((Table::Stream, &ks), id, record);
        changes.remove((Table::Index, &ks), [&b"clip.*\x00"[..], &id].concat());
        disk.commit(changes, true).unwrap();

        let expected: &[u8] = b"xs-wal\x00\x01\x01\x00\x00\x00\x00\x00\x00\x00\
            \xcc\x95\x1e\xd8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
            \x47\x00\x00\x00\
            \x0a\x4b\x0a\xc2\
            \x00\x00\
            \x10\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\
            \x10\x00\x00\x00\x01\x01\x08clip.add\x00\x00\x00\x00\x00\
            \x01\x01\
            \x17\x00\x00\x00clip.*\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\
            \x00\x00\x00\x00";
        let file = std::fs::read(dir.path().join("wal")).unwrap();
        assert_eq!(&file[..expected.len()], expected);
        assert_eq!(file.len() as u64, SIZE);
    }

    #[test]
    fn a_damaged_header_is_an_error_not_an_empty_log() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = wal_in(&dir);
        write(&wal, b"a record");
        wal.file.write_all_at(&[0xff], 9).unwrap();
        drop(wal);
        let err = Wal::open(dir.path().join("wal")).err().expect("a damaged header fails the open");
        assert!(matches!(err, StoreError::CorruptLog { .. }), "{err}");
    }

    #[test]
    fn commits_past_the_end_and_bigger_than_the_log_all_reach_fjall() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::builder(dir.path().join("fjall")).manual_journal_persist(true).open().unwrap();
        let ks = db.keyspace("t", fjall::KeyspaceCreateOptions::default).unwrap();
        let keyspaces = [&ks; 6];
        let disk = Disk::open(db.clone(), dir.path().join("wal"), keyspaces, true).unwrap();
        let value = vec![7u8; 10_000];
        // 300 commits of ~10 KB: about three times the log.
        for i in 0u32..300 {
            let mut changes = disk.changes();
            changes.insert((Table::Stream, &ks), i.to_be_bytes(), &value);
            disk.commit(changes, i % 10 == 0).unwrap();
        }
        let mut big = disk.changes();
        big.insert((Table::Stream, &ks), b"big", vec![1u8; SIZE as usize + 1]);
        disk.commit(big, true).unwrap();
        let wal = disk.wal.as_ref().unwrap();
        assert!(wal.lock().unwrap().epoch > 3, "the log started over as it filled");
        drop((disk, ks, db));

        let (_, records) = Wal::open(dir.path().join("wal")).unwrap();
        assert!(records.len() < 300, "records of earlier epochs are not replayed");
        let db = Database::builder(dir.path().join("fjall")).manual_journal_persist(true).open().unwrap();
        let ks = db.keyspace("t", fjall::KeyspaceCreateOptions::default).unwrap();
        let _disk = Disk::open(db.clone(), dir.path().join("wal"), [&ks; 6], true).unwrap();
        for i in 0u32..300 {
            assert_eq!(ks.get(i.to_be_bytes()).unwrap().as_deref(), Some(&value[..]), "commit {i}");
        }
        assert_eq!(ks.get(b"big").unwrap().map(|v| v.len()), Some(SIZE as usize + 1));
    }
}
