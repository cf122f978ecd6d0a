//! The content-addressed store: payload bytes by sha256 SRI hash.
//!
//! Small payloads (up to [`INLINE_MAX`]) live in a fjall keyspace beside the
//! stream. Their write goes through the stream's write-ahead log, so the
//! sync that makes a frame durable also makes every payload inserted before
//! it durable: an append with a payload costs one sync, not two. Larger
//! payloads go to cacache under `<store>/cas`, and since cacache never
//! syncs, we fsync the content file and its directories before handing out
//! the hash; cacache also creates them under the process umask, so the
//! same pass makes the file 0600 and the directories 0700.
//!
//! Either way the contract is the same: hash in, identical bytes out, durable
//! before the frame referencing it is acknowledged. Inline values carry the
//! time they were written, so the sweep can spare content whose frame is
//! still on its way.

use std::{
    fs::File,
    io::{self, Read, Write},
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use fjall::Keyspace;
use ssri::{Algorithm, Integrity, IntegrityOpts};

use crate::{
    error::{Result, StoreError},
    store::wal::{Disk, Table},
};

/// Payloads up to this size are kept inline, in a keyspace of the store's
/// fjall database written through its write-ahead log.
pub const INLINE_MAX: usize = 16 * 1024;

/// The CAS of one store.
#[derive(Clone)]
pub(crate) struct Cas {
    dir: PathBuf,
    inline: Keyspace,
    disk: Disk,
}

impl Cas {
    pub(crate) fn new(dir: PathBuf, inline: Keyspace, disk: Disk) -> Self {
        Self { dir, inline, disk }
    }

    /// Removes the temporary files of uploads that never finished (their
    /// owner was killed mid-body): cacache writes content under `tmp/` and
    /// renames it into place on commit. Call it only with the store lock
    /// held, when no writer of this store can be running.
    pub(crate) fn remove_temp_files(&self) {
        for file in walk_files(&self.dir.join("tmp")) {
            match std::fs::remove_file(&file) {
                Ok(()) => tracing::debug!(file = %file.display(), "removed an unfinished upload"),
                Err(e) => tracing::warn!(file = %file.display(), error = %e, "could not remove an unfinished upload"),
            }
        }
    }

    /// Stores `bytes`, returning their hash.
    pub(crate) fn insert(&self, bytes: &[u8]) -> Result<Integrity> {
        if bytes.len() <= INLINE_MAX {
            let hash = IntegrityOpts::new().algorithm(Algorithm::Sha256).chain(bytes).result();
            self.insert_inline(&hash, bytes)?;
            return Ok(hash);
        }
        let mut writer = self.writer();
        writer.write_all(bytes)?;
        writer.commit()
    }

    fn insert_inline(&self, hash: &Integrity, bytes: &[u8]) -> Result<()> {
        let mut value = Vec::with_capacity(8 + bytes.len());
        value.extend_from_slice(&now_ms().to_be_bytes());
        value.extend_from_slice(bytes);
        let mut changes = self.disk.changes();
        changes.insert((Table::CasInline, &self.inline), hash.to_string(), value);
        self.disk.commit(changes, false)
    }

    /// A writer that streams a payload in, in constant memory.
    pub(crate) fn writer(&self) -> CasWriter {
        CasWriter { cas: self.clone(), buffer: Vec::new(), spill: None }
    }

    /// True when content for `hash` is present.
    pub(crate) fn contains(&self, hash: &Integrity) -> Result<bool> {
        crate::hash::check(hash)?;
        Ok(self.inline.contains_key(hash.to_string())? || self.content_path(hash).is_some_and(|p| p.exists()))
    }

    /// The whole payload of `hash`, checked against it.
    pub(crate) fn read(&self, hash: &Integrity) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.reader(hash)?.read_to_end(&mut bytes).map_err(|e| unwrap_content_error(hash, e))?;
        Ok(bytes)
    }

    /// A reader over the payload of `hash`; a mismatch with the hash surfaces
    /// as an error at the end of the stream.
    pub(crate) fn reader(&self, hash: &Integrity) -> Result<Box<dyn Read + Send>> {
        crate::hash::check(hash)?;
        if let Some(value) = self.inline.get(hash.to_string())? {
            let bytes = value.get(8..).unwrap_or_default().to_vec();
            return Ok(Box::new(io::Cursor::new(bytes)));
        }
        let path = self.content_path(hash).ok_or_else(|| StoreError::HashNotFound(hash.to_string()))?;
        match File::open(&path) {
            Ok(file) => Ok(Box::new(CheckedReader {
                file,
                checker: Some(hash.clone()),
                hasher: IntegrityOpts::new().algorithm(Algorithm::Sha256),
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::HashNotFound(hash.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes content for `hash` written before `cutoff`; returns whether it did.
    pub(crate) fn remove_if_older(&self, hash: &Integrity, cutoff: SystemTime) -> Result<bool> {
        let key = hash.to_string();
        if let Some(value) = self.inline.get(&key)? {
            let written = value.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes).unwrap_or(0);
            if SystemTime::UNIX_EPOCH + Duration::from_millis(written) < cutoff {
                let mut changes = self.disk.changes();
                changes.remove((Table::CasInline, &self.inline), key);
                self.disk.commit(changes, false)?;
                return Ok(true);
            }
            return Ok(false);
        }
        let Some(path) = self.content_path(hash) else { return Ok(false) };
        match path.metadata().and_then(|m| m.modified()) {
            Ok(modified) if modified < cutoff => std::fs::remove_file(&path).map(|()| true).map_err(Into::into),
            _ => Ok(false),
        }
    }

    /// Every hash the CAS holds (inline and on disk).
    pub(crate) fn hashes(&self) -> Result<Vec<Integrity>> {
        let mut all = Vec::new();
        for guard in self.inline.iter() {
            if let Some(hash) = std::str::from_utf8(&guard.key()?).ok().and_then(|s| crate::hash::parse(s).ok()) {
                all.push(hash);
            }
        }
        let root = self.dir.join("content-v2").join("sha256");
        for path in walk_files(&root) {
            let rel = path.strip_prefix(&root).map(|p| p.to_string_lossy().replace('/', "")).unwrap_or_default();
            if let Ok(hash) = Integrity::from_hex(&rel, Algorithm::Sha256) {
                all.push(hash);
            }
        }
        Ok(all)
    }

    /// Where cacache keeps the content of `hash` (`content-v2/sha256/ab/cd/…`).
    fn content_path(&self, hash: &Integrity) -> Option<PathBuf> {
        // `to_hex` panics on a digest that is not base64.
        crate::hash::check(hash).ok()?;
        let (_, hex) = hash.to_hex();
        Some(self.dir.join("content-v2").join("sha256").join(&hex[..2]).join(&hex[2..4]).join(&hex[4..]))
    }

    /// Makes a freshly written content file and its directories durable,
    /// and private: the file 0600 and every directory from it up to the
    /// CAS's root 0700, whatever the umask cacache created them under.
    fn sync_content(&self, hash: &Integrity) -> Result<()> {
        let path = self.content_path(hash).ok_or_else(|| StoreError::HashNotFound(hash.to_string()))?;
        sync_private(&path, 0o600)?;
        let mut dir = path.parent();
        while let Some(d) = dir {
            sync_private(d, 0o700)?;
            if d == self.dir {
                break;
            }
            dir = d.parent();
        }
        // Where cacache writes content before moving it into place: made
        // private, but not synced, as nothing durable lives there.
        private(&File::open(self.dir.join("tmp"))?, 0o700).map_err(Into::into)
    }
}

/// Syncs the file or directory at `path`, made [`private`] with `mode`.
fn sync_private(path: &Path, mode: u32) -> io::Result<()> {
    let file = File::open(path)?;
    private(&file, mode)?;
    file.sync_all()
}

/// Gives `file` the permission bits `mode` if it has others (one `fstat`,
/// and an `fchmod` only the first time).
fn private(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if file.metadata()?.permissions().mode() & 0o777 != mode {
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Streams a payload into the CAS: buffered while small (then stored inline),
/// spilled to a cacache file once it outgrows [`INLINE_MAX`].
///
/// Nothing is stored until [`CasWriter::commit`]; dropping the writer
/// discards what was written.
pub struct CasWriter {
    cas: Cas,
    buffer: Vec<u8>,
    spill: Option<cacache::SyncWriter>,
}

impl CasWriter {
    /// Finishes the payload, makes it durable, and returns its hash.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] or [`StoreError::Storage`] when it cannot be written.
    pub fn commit(self) -> Result<Integrity> {
        let Some(spill) = self.spill else {
            return self.cas.insert(&self.buffer);
        };
        let hash = spill.commit().map_err(|e| StoreError::Io(io::Error::other(e.to_string())))?;
        self.cas.sync_content(&hash)?;
        Ok(hash)
    }

    fn spill(&mut self) -> io::Result<&mut cacache::SyncWriter> {
        if self.spill.is_none() {
            let mut writer = cacache::WriteOpts::new()
                .algorithm(Algorithm::Sha256)
                .open_hash_sync(&self.cas.dir)
                .map_err(|e| io::Error::other(e.to_string()))?;
            writer.write_all(&self.buffer)?;
            self.buffer = Vec::new();
            self.spill = Some(writer);
        }
        self.spill.as_mut().ok_or_else(|| io::Error::other("spill writer missing"))
    }
}

impl Write for CasWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.spill.is_none() && self.buffer.len() + buf.len() <= INLINE_MAX {
            self.buffer.extend_from_slice(buf);
            return Ok(buf.len());
        }
        self.spill()?.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A content file reader that checks the bytes against the hash at the end.
struct CheckedReader {
    file: File,
    checker: Option<Integrity>,
    hasher: IntegrityOpts,
}

impl Read for CheckedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        if n > 0 {
            self.hasher.input(&buf[..n]);
        } else if let Some(expected) = self.checker.take() {
            let got = std::mem::replace(&mut self.hasher, IntegrityOpts::new()).result();
            if expected.matches(&got).is_none() {
                return Err(io::Error::new(io::ErrorKind::InvalidData, ContentMismatch));
            }
        }
        Ok(n)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("content does not match its hash")]
struct ContentMismatch;

fn unwrap_content_error(hash: &Integrity, e: io::Error) -> StoreError {
    if e.kind() == io::ErrorKind::InvalidData {
        StoreError::CorruptContent { hash: hash.to_string(), reason: e.to_string() }
    } else {
        e.into()
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn walk_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => dirs.push(entry.path()),
                Ok(_) => files.push(entry.path()),
                Err(_) => {}
            }
        }
    }
    files
}
