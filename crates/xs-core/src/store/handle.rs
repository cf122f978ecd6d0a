//! [`Store`], the handle every part of a program shares: it validates what
//! is asked, hands writes to the committer and reads to the readers, and
//! closes the store when the last handle goes.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use fjall::{Database, Keyspace, KeyspaceCreateOptions};
use scru128::Scru128Id;
use ssri::Integrity;

use crate::{
    error::{Result, StoreError},
    frame::Frame,
    read_options::ReadOptions,
    store::cas::{Cas, CasWriter},
    store::checkpoint::Checkpoint,
    store::committer::Committer,
    store::live::Live,
    store::open::{create_private_dir, open_database},
    store::reader::Reader,
    store::scan::Tables,
    store::sweep::Sweeper,
    store::wal::Disk,
    store::writer::{Command, Writer},
    topic::{TopicFilter, is_script_topic, validate_append_topic, validate_import_topic, validate_topic},
};

/// How appends reach the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Every append returns once it is fsynced (shared among concurrent appends).
    #[default]
    Sync,
    /// Appends are written to the OS but not synced: a bulk-load mode that
    /// survives a process crash but not a power loss.
    Buffered,
}

/// Whether [`Store::import_with`] lets the processor run what it imports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scripts {
    /// Imported handlers, generators and modules are stored inert: history
    /// to read, never run (the default: a dump may come from anyone).
    #[default]
    Inert,
    /// They count as if appended here: the processor runs them, now and at
    /// every later start, with the owner's rights.
    Run,
}

/// A handle on an open store.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    tables: Tables,
    checkpoints: Keyspace,
    cas: Cas,
    published: Arc<Live>,
    committer: Arc<Committer>,
    sweeper: Mutex<Option<Sweeper>>,
    /// Set while the store is a replica (its `replica` checkpoint exists):
    /// every write but the replica's own is refused.
    replica: std::sync::atomic::AtomicBool,
    /// Set while a processor runs on this store (at most one may).
    #[cfg(feature = "processor")]
    processing: std::sync::atomic::AtomicBool,
    // Last, so the database goes after the threads that use it.
    _db: Database,
}

impl Store {
    /// Opens the store in `path`, creating it if needed, with synced appends.
    ///
    /// # Errors
    ///
    /// [`StoreError::Locked`] when another process (or another open `Store`)
    /// holds it; [`StoreError::Unprotected`] when group or others can reach
    /// a directory that holds files; [`StoreError::CorruptLog`] when the
    /// WAL's header is damaged; [`StoreError::Io`] / [`StoreError::Storage`]
    /// otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let store = xs_core::Store::new(dir.path())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> Result<Store> {
        Self::open(path, Durability::Sync)
    }

    /// Opens the store in `path` with the given durability.
    ///
    /// # Errors
    ///
    /// As [`Store::new`].
    pub fn open(path: impl Into<PathBuf>, durability: Durability) -> Result<Store> {
        let path = path.into();
        create_private_dir(&path)?;
        let db = open_database(&path)?;
        let keyspace = |name: &str| db.keyspace(name, KeyspaceCreateOptions::default);
        let tables = Tables { db: db.clone(), stream: keyspace("stream")?, index: keyspace("topic_index")? };
        let expiry: Keyspace = keyspace("expiry")?;
        let cas_inline: Keyspace = keyspace("cas_inline")?;
        let meta: Keyspace = keyspace("meta")?;
        let checkpoints: Keyspace = keyspace("checkpoints")?;
        // In `Table` order; replayed before anything reads the keyspaces.
        let keyspaces = [&tables.stream, &tables.index, &expiry, &meta, &checkpoints, &cas_inline];
        let disk = Disk::open(db.clone(), path.join("wal"), keyspaces, durability == Durability::Sync)?;
        let cas = Cas::new(path.join("cas"), cas_inline, disk.clone());
        cas.remove_temp_files();
        let head = tables.last_id()?;
        let mark = crate::store::writer::high_water(&meta)?;
        let floor = head.max(mark);
        let published = Arc::new(Live::new(head, floor));
        let writer = Writer {
            tables: tables.clone(),
            expiry: expiry.clone(),
            meta,
            mark: Mutex::new(mark),
            checkpoints: checkpoints.clone(),
            cas: cas.clone(),
            published: published.clone(),
            disk,
        };
        let committer = Arc::new(Committer::new(writer));
        let sweeper = Sweeper::spawn(expiry, committer.clone())?;
        let replica = checkpoints.contains_key(REPLICA_KEY)?.into();
        let inner = Inner {
            path,
            tables,
            checkpoints,
            cas,
            published,
            committer,
            sweeper: Mutex::new(Some(sweeper)),
            replica,
            #[cfg(feature = "processor")]
            processing: Default::default(),
            _db: db,
        };
        Ok(Store { inner: Arc::new(inner) })
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Appends `frame`, returning it with its id. Returns once the frame (and
    /// the payload it references) is durable. Ephemeral frames are only
    /// broadcast to live readers.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidTopic`], [`StoreError::ReservedTopic`] (under
    /// `xs.` only the processor's in events may be appended, see
    /// [`validate_append_topic`]),
    /// [`StoreError::InvalidMeta`] (meta must be an object),
    /// [`StoreError::InvalidHash`] (see [`crate::hash`]),
    /// [`StoreError::HashNotFound`] (the payload is not in the
    /// CAS), [`StoreError::Closed`], [`StoreError::Halted`] (an earlier
    /// commit failed; reopen the store), [`StoreError::IdsExhausted`], or a
    /// storage error. On error nothing is written.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let store = xs_core::Store::new(dir.path())?;
    /// let frame = store.append(xs_core::Frame::builder("note").build())?;
    /// assert_eq!(store.get(&frame.id)?, Some(frame));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn append(&self, frame: Frame) -> Result<Frame> {
        self.writable()?;
        check_frame(&frame, validate_append_topic)?;
        self.inner.committer.request(|reply| Command::Append(frame, reply))
    }

    /// Appends `frames` and writes `checkpoint`, all or nothing: they
    /// are committed in one batch under one sync, so after a crash either
    /// all of them are there or none is. Returns the frames with their
    /// ids, which are consecutive in the batch's order (other appends may
    /// not come between them).
    ///
    /// # Errors
    ///
    /// As [`Store::append`], for any of the frames; then nothing is written.
    ///
    /// # Examples
    ///
    /// ```
    /// use xs_core::{Frame, Store, store::Checkpoint};
    /// # let dir = tempfile::tempdir()?;
    /// let store = Store::new(dir.path())?;
    /// let frames = vec![Frame::builder("a").build(), Frame::builder("b").build()];
    /// let appended = store.append_batch(frames, Some(Checkpoint::new(b"me", vec![1])))?;
    /// assert!(appended[0].id < appended[1].id);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn append_batch(&self, frames: Vec<Frame>, checkpoint: Option<Checkpoint>) -> Result<Vec<Frame>> {
        self.writable()?;
        for frame in &frames {
            check_frame(frame, validate_append_topic)?;
        }
        self.inner.committer.request(|reply| Command::Batch(frames, checkpoint, reply))
    }

    /// [`Store::append`] for the runtime itself, which records what
    /// happened under `xs.` (lifecycle out events, `.restarting`): every
    /// check but the reserved topics. Topics a script chose never come
    /// this way unchecked (see `processor::outbox`).
    #[cfg(feature = "processor")]
    pub(crate) fn append_runtime(&self, frame: Frame) -> Result<Frame> {
        self.writable()?;
        check_frame(&frame, validate_topic)?;
        self.inner.committer.request(|reply| Command::Append(frame, reply))
    }

    /// [`Store::append_batch`] for the runtime (see [`Store::append_runtime`]).
    #[cfg(feature = "processor")]
    pub(crate) fn append_batch_runtime(
        &self,
        frames: Vec<Frame>,
        checkpoint: Option<Checkpoint>,
    ) -> Result<Vec<Frame>> {
        // A checkpoint alone (the processor's marks) is no frame: a replica takes it.
        if !frames.is_empty() {
            self.writable()?;
        }
        for frame in &frames {
            check_frame(frame, validate_topic)?;
        }
        self.inner.committer.request(|reply| Command::Batch(frames, checkpoint, reply))
    }

    /// The value of the checkpoint `key`, as last written by
    /// [`Store::append_batch`] (see [`Checkpoint`] for an example).
    ///
    /// # Errors
    ///
    /// Storage errors.
    pub fn checkpoint(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.inner.checkpoints.get(key)?.map(|value| value.to_vec()))
    }

    /// Stores `frame` with the id it carries (the other half of an export),
    /// once it is durable. The id must be above the store's newest frame,
    /// so an import goes into a new store, or one whose frames are all
    /// older; ids issued after it are above it.
    ///
    /// A dump may come from anywhere, so its scripts never run: a frame the
    /// processor would act on (a handler's register, a generator's spawn, a
    /// module, and the rest of their lifecycles) is stored *inert*, which
    /// the processor treats as if it were not there. To run an imported
    /// handler, append its script again; to trust the dump, use
    /// [`Store::import_with`] and [`Scripts::Run`].
    ///
    /// # Errors
    ///
    /// [`StoreError::NotImportable`] for an id not above every id the store
    /// handed out, or an ephemeral frame; [`StoreError::ReservedTopic`] for the
    /// `xs.threshold` and `xs.pulse` markers; otherwise as [`Store::append`]
    /// (lifecycle out events are history, so they may be imported).
    ///
    /// # Examples
    ///
    /// ```
    /// use xs_core::{Frame, Store};
    /// # let (from, to) = (tempfile::tempdir()?, tempfile::tempdir()?);
    /// let source = Store::new(from.path())?;
    /// let register = source.append(Frame::builder("xs.handler.h.register").build())?;
    /// let copy = Store::new(to.path())?;
    /// copy.import(register.clone())?;
    /// assert!(copy.is_inert(&register.id)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn import(&self, frame: Frame) -> Result<Frame> {
        self.import_with(frame, Scripts::Inert)
    }

    /// [`Store::import`], choosing whether imported scripts may run.
    ///
    /// # Errors
    ///
    /// As [`Store::import`].
    pub fn import_with(&self, frame: Frame, scripts: Scripts) -> Result<Frame> {
        self.writable()?;
        self.import_unchecked(frame, scripts)
    }

    /// [`Store::import_with`] without the replica check: the replica's own
    /// writer (`nats::replica`) is the one caller that may write to a replica.
    pub(crate) fn import_unchecked(&self, frame: Frame, scripts: Scripts) -> Result<Frame> {
        check_frame(&frame, validate_import_topic)?;
        if frame.retention() == crate::ttl::TTL::Ephemeral {
            return Err(StoreError::NotImportable { id: frame.id, reason: "ephemeral frames are never stored" });
        }
        let inert = (scripts == Scripts::Inert && is_script_topic(&frame.topic)).then(|| inert_mark(frame.id));
        self.inner.committer.request(|reply| Command::Import(frame, inert, reply))
    }

    /// True when frame `id` was imported inert ([`Store::import`]): the
    /// processor ignores it.
    ///
    /// # Errors
    ///
    /// Storage errors.
    pub fn is_inert(&self, id: &Scru128Id) -> Result<bool> {
        Ok(self.inner.checkpoints.contains_key(inert_key(*id))?)
    }

    /// True when the store is a read-only replica: it takes frames only
    /// from its replica (`xs_core::nats::Replica`) until it is promoted.
    pub fn is_replica(&self) -> bool {
        self.inner.replica.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Makes a replica a normal store again: appends work from now on,
    /// and the replica refuses to follow into it (it is no copy any more).
    /// Returns false when the store was no replica. Durable on return.
    ///
    /// # Errors
    ///
    /// Storage errors; [`StoreError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let store = xs_core::Store::new(dir.path())?;
    /// assert!(!store.promote()?, "a new store is no replica");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn promote(&self) -> Result<bool> {
        if !self.is_replica() {
            return Ok(false);
        }
        self.inner.committer.request(|reply| Command::Unmark(REPLICA_KEY.to_vec(), reply))?;
        self.inner.replica.store(false, std::sync::atomic::Ordering::SeqCst);
        Ok(true)
    }

    /// Marks the store a replica, durably, with `source` (what it copies,
    /// opaque here) as the mark's value; from now on only
    /// [`Store::import_unchecked`] writes frames.
    pub(crate) fn mark_replica(&self, source: Vec<u8>) -> Result<()> {
        let mark = Checkpoint::new(REPLICA_KEY, source);
        self.inner.committer.request(|reply| Command::Batch(Vec::new(), Some(mark), reply))?;
        self.inner.replica.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// Refuses a write to a replica.
    fn writable(&self) -> Result<()> {
        match self.is_replica() {
            true => Err(StoreError::ReadOnlyReplica { path: self.inner.path.clone() }),
            false => Ok(()),
        }
    }

    /// The frame `id`, or `None` if there is none (or it expired).
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] when its record is damaged; storage errors.
    pub fn get(&self, id: &Scru128Id) -> Result<Option<Frame>> {
        if self.inner.published.head().is_none_or(|head| *id > head) {
            return Ok(None);
        }
        let frame = self.inner.tables.get(*id)?;
        Ok(frame.filter(|f| !f.is_expired(SystemTime::now())))
    }

    /// Deletes frame `id`.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when there is no such frame; storage errors.
    pub fn remove(&self, id: &Scru128Id) -> Result<()> {
        self.writable()?;
        self.inner.committer.request(|reply| Command::Remove(*id, reply))
    }

    /// The newest `n` frames matching `topic` (a pattern list), oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidTopic`] for a bad pattern; storage errors.
    pub fn last(&self, topic: &str, n: usize) -> Result<Vec<Frame>> {
        let filter = TopicFilter::parse(topic)?;
        if n == 0 {
            return Ok(Vec::new());
        }
        if let Some(frames) = self.inner.published.newest(&filter, n) {
            return Ok(frames);
        }
        match self.inner.published.head_with(|| self.inner.tables.view()) {
            (Some(head), view) => view.newest(&filter, None, head, n),
            (None, _) => Ok(Vec::new()),
        }
    }

    /// How many frames are stored, counting expired frames not yet swept.
    /// Counts by scanning, so it costs time in proportion to the stream.
    ///
    /// # Errors
    ///
    /// Storage errors.
    pub fn stored_len(&self) -> Result<usize> {
        Ok(self.inner.tables.stream.len()?)
    }

    /// A blocking read: an iterator over history and, when following, live
    /// frames. See [`Reader`] for the timeout-bounded form.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidTopic`] for a bad topic pattern.
    pub fn reader(&self, options: ReadOptions) -> Result<Reader> {
        Reader::new(self.clone(), options)
    }

    /// An async read: a channel of frames fed by a task on the current tokio
    /// runtime. The task ends when the read does, or when the receiver is
    /// dropped. Invalid options or a damaged record end the channel (and
    /// are logged); use [`Store::reader`] to get them as errors.
    pub async fn read(&self, options: ReadOptions) -> tokio::sync::mpsc::Receiver<Frame> {
        let (tx, rx) = tokio::sync::mpsc::channel(256);
        let reader = match self.reader(options) {
            Ok(reader) => reader,
            Err(e) => {
                tracing::error!(error = %e, "read rejected");
                return rx;
            }
        };
        tokio::spawn(reader.forward(tx));
        rx
    }

    /// Puts `bytes` into the CAS and returns their hash. The content becomes
    /// durable no later than the append of the first frame referencing it.
    ///
    /// This is cross-stream's signature, kept for its embedders. Hashing
    /// and writing are blocking work, so they never run on a tokio worker
    /// as if they were not: on a multi-thread runtime the worker hands its
    /// other tasks over first (`block_in_place`); on a current-thread
    /// runtime they run on the blocking pool, on a copy of `bytes` (the
    /// pool needs owned data), while the runtime goes on with its tasks;
    /// outside a tokio runtime they run on the caller's thread. To stream a
    /// payload too big to hold, use [`Store::cas_writer`].
    ///
    /// # Errors
    ///
    /// Storage or io errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let store = xs_core::Store::new(dir.path())?;
    /// let hash = store.cas_insert("hello").await?;
    /// assert_eq!(store.cas_read(&hash)?, b"hello");
    /// # Ok::<(), xs_core::StoreError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn cas_insert(&self, bytes: impl AsRef<[u8]>) -> Result<Integrity> {
        use tokio::runtime::{Handle, RuntimeFlavor};
        let cas = &self.inner.cas;
        match Handle::try_current().map(|runtime| runtime.runtime_flavor()) {
            Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(|| cas.insert(bytes.as_ref())),
            Ok(_) => {
                let (cas, bytes) = (cas.clone(), bytes.as_ref().to_vec());
                let inserted = tokio::task::spawn_blocking(move || cas.insert(&bytes)).await;
                inserted.map_err(|e| StoreError::Io(std::io::Error::other(e)))?
            }
            Err(_) => cas.insert(bytes.as_ref()),
        }
    }

    /// A writer that streams a payload into the CAS in constant memory;
    /// [`CasWriter::commit`] returns the hash.
    pub fn cas_writer(&self) -> CasWriter {
        self.inner.cas.writer()
    }

    /// The payload of `hash`, checked against it.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidHash`], [`StoreError::HashNotFound`],
    /// [`StoreError::CorruptContent`], io errors.
    pub fn cas_read(&self, hash: &Integrity) -> Result<Vec<u8>> {
        self.inner.cas.read(hash)
    }

    /// A reader over the payload of `hash`, for payloads too big to hold.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidHash`], [`StoreError::HashNotFound`]; io errors.
    pub fn cas_reader(&self, hash: &Integrity) -> Result<Box<dyn std::io::Read + Send>> {
        self.inner.cas.reader(hash)
    }

    /// True when the CAS holds content for `hash`.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidHash`]; storage errors.
    pub fn cas_contains(&self, hash: &Integrity) -> Result<bool> {
        self.inner.cas.contains(hash)
    }

    /// Deletes CAS content that no frame references and that was written
    /// more than `grace` ago (content written just before its frame is
    /// safe). Appends wait while it runs. Returns how many items went.
    ///
    /// # Errors
    ///
    /// Storage or io errors.
    pub fn cas_sweep(&self, grace: Duration) -> Result<usize> {
        let cutoff = SystemTime::now().checked_sub(grace).unwrap_or(SystemTime::UNIX_EPOCH);
        self.inner.committer.request(|reply| Command::SweepCas(cutoff, reply))
    }

    /// Stops accepting appends, finishes those in flight, ends every read,
    /// and stops the background threads. The directory is unlocked once
    /// the last handle (including readers) is dropped.
    pub fn close(&self) {
        self.inner.shutdown();
    }

    /// Claims the store for a processor; false when another holds it.
    #[cfg(feature = "processor")]
    pub(crate) fn claim_processor(&self) -> bool {
        !self.inner.processing.swap(true, std::sync::atomic::Ordering::SeqCst)
    }

    /// Gives up a claim made with [`Store::claim_processor`].
    #[cfg(feature = "processor")]
    pub(crate) fn release_processor(&self) {
        self.inner.processing.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    pub(crate) fn published(&self) -> &Live {
        &self.inner.published
    }

    /// True when no commit is under way (see [`Committer::is_idle`]).
    pub(crate) fn commit_idle(&self) -> bool {
        self.inner.committer.is_idle()
    }

    pub(crate) fn tables(&self) -> &Tables {
        &self.inner.tables
    }
}

impl Inner {
    fn shutdown(&self) {
        if let Some(sweeper) = self.sweeper.lock().ok().and_then(|mut s| s.take()) {
            sweeper.stop();
        }
        self.committer.close();
        self.published.close();
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Checks what the caller controls in `frame` before it is queued, so a
/// bad value is refused on the caller's thread and never reaches a commit;
/// `topic` is the rule for the entry point (append, runtime, import).
fn check_frame(frame: &Frame, topic: fn(&str) -> Result<()>) -> Result<()> {
    topic(&frame.topic)?;
    if let Some(meta) = &frame.meta {
        check_meta(meta)?;
    }
    frame.hash.as_ref().map_or(Ok(()), crate::hash::check)
}

/// The checkpoint whose presence makes the store a read-only replica
/// (docs/store-format.md); its value says what it copies.
pub(crate) const REPLICA_KEY: &[u8] = b"replica";

/// The key marking frame `id` inert, in the `checkpoints` keyspace
/// (docs/store-format.md).
fn inert_key(id: Scru128Id) -> Vec<u8> {
    let mut key = b"inert/".to_vec();
    key.extend_from_slice(&id.to_bytes());
    key
}

/// The record that marks frame `id` inert, committed with its import.
fn inert_mark(id: Scru128Id) -> Checkpoint {
    Checkpoint::new(inert_key(id), vec![1])
}

fn check_meta(meta: &serde_json::Value) -> Result<()> {
    let kind = match meta {
        serde_json::Value::Object(_) => return Ok(()),
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
    };
    Err(StoreError::InvalidMeta { kind })
}

#[cfg(test)]
mod tests {
    use std::{sync::mpsc, time::Duration};

    use super::*;

    /// Every call made around a panicking commit returns within the
    /// deadline (none waits forever); the store then refuses writes until
    /// it is reopened, and the reopened store has every acknowledged frame.
    #[test]
    fn a_panic_in_a_commit_fails_its_callers_and_wedges_nobody() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(dir.path()).expect("open");
        let (tx, rx) = mpsc::channel();
        let appenders: Vec<_> = (0..4)
            .map(|n| {
                let (store, tx) = (store.clone(), tx.clone());
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let _ = tx.send(store.append(Frame::builder(format!("t{n}")).build()));
                    }
                })
            })
            .collect();
        let panicked: Result<()> = store.inner.committer.request(|_reply| Command::Panic);
        assert!(matches!(panicked, Err(StoreError::Halted { .. })), "{panicked:?}");
        drop(tx);
        let mut acknowledged = Vec::new();
        while let Ok(answer) = rx.recv_timeout(Duration::from_secs(1)) {
            match answer {
                Ok(frame) => acknowledged.push(frame.id),
                Err(e) => assert!(matches!(e, StoreError::Halted { .. }), "{e}"),
            }
        }
        assert_eq!(rx.try_recv().err(), Some(mpsc::TryRecvError::Disconnected), "an appender is still waiting");
        appenders.into_iter().for_each(|a| a.join().expect("an appender panicked"));
        let later = store.append(Frame::builder("after").build());
        assert!(matches!(later, Err(StoreError::Halted { .. })), "{later:?}");
        store.close();
        drop(store);
        let reopened = Store::new(dir.path()).expect("reopen");
        let stored: Vec<_> =
            reopened.reader(ReadOptions::default()).expect("read").map(|f| f.expect("frame").id).collect();
        assert!(acknowledged.iter().all(|id| stored.contains(id)), "an acknowledged frame is missing");
        reopened.append(Frame::builder("again").build()).expect("a reopened store takes writes");
    }
}
