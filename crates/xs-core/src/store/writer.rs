//! The writer: what one commit does with a batch of commands.
//!
//! The leader elected by the [`Committer`](crate::store::committer::Committer)
//! hands it a batch: it assigns ids in queue order, writes the batch's
//! changes as one record of the write-ahead log, syncs it once for the lot
//! (group commit), then applies them to fjall as one batch. Only after the
//! sync is the new head published and readers woken, so a reader never sees
//! a frame that is not durable, and ids reach readers in the order they
//! were assigned. One commit at a time also means `last:<n>` trimming and
//! removals never race with appends.

use std::{
    sync::{Arc, mpsc},
    time::{Duration, SystemTime},
};

use fjall::Keyspace;
use scru128::Scru128Id;

use crate::{
    error::{Result, StoreError},
    frame::Frame,
    id::leaves_room,
    store::cas::Cas,
    store::checkpoint::Checkpoint,
    store::codec,
    store::live::Live,
    store::scan::Tables,
    store::wal::{Changes, Disk, Table},
    topic::index_names,
    ttl::TTL,
};

/// The most commands committed under one sync.
pub(crate) const MAX_BATCH: usize = 4096;

/// A request to the writer, with the channel its answer goes to.
pub(crate) enum Command {
    Append(Frame, mpsc::SyncSender<Result<Frame>>),
    /// Store a frame with the id it has (from an export), and with it a
    /// record (the mark of an inert script), if any.
    Import(Frame, Option<Checkpoint>, mpsc::SyncSender<Result<Frame>>),
    /// Append frames, and write a checkpoint, all or nothing.
    Batch(Vec<Frame>, Option<Checkpoint>, mpsc::SyncSender<Result<Vec<Frame>>>),
    Remove(Scru128Id, mpsc::SyncSender<Result<()>>),
    /// Delete a checkpoint (a replica's mark, when it is promoted).
    Unmark(Vec<u8>, mpsc::SyncSender<Result<()>>),
    /// Drop frames whose `time:` TTL ran out (from the sweeper), by expiry key and id.
    Expire(Vec<(Vec<u8>, Scru128Id)>, mpsc::SyncSender<Result<()>>),
    /// Delete CAS content no frame references, written before the cutoff.
    SweepCas(SystemTime, mpsc::SyncSender<Result<usize>>),
    /// Panics inside the commit, as a bug would.
    #[cfg(test)]
    Panic,
}

/// The state every commit uses.
pub(crate) struct Writer {
    pub(crate) tables: Tables,
    pub(crate) expiry: Keyspace,
    /// Holds the high-water mark, at or above every id ever issued, so ids
    /// keep rising after the newest frames are removed or were ephemeral.
    pub(crate) meta: Keyspace,
    /// The high-water mark as it is on disk.
    pub(crate) mark: std::sync::Mutex<Option<Scru128Id>>,
    /// Checkpoints written with [`Command::Batch`], and the inert marks of
    /// imported scripts.
    pub(crate) checkpoints: Keyspace,
    pub(crate) cas: Cas,
    pub(crate) published: Arc<Live>,
    /// Where commits go: through the WAL, when the store is durable.
    pub(crate) disk: Disk,
}

impl Writer {
    /// Commits `commands` as one batch, then runs any CAS sweep among them
    /// alone, after everything before it is committed.
    pub(crate) fn apply_all(&self, mut commands: Vec<Command>) {
        let sweeps: Vec<Command> = commands.extract_if(.., |c| matches!(c, Command::SweepCas(..))).collect();
        self.apply(commands);
        for sweep in sweeps {
            if let Command::SweepCas(cutoff, reply) = sweep {
                let _ = reply.send(self.sweep_cas(cutoff));
            }
        }
    }

    /// Deletes unreferenced CAS content older than `cutoff`. Runs on the
    /// committing leader, so no append can reference content while it goes.
    fn sweep_cas(&self, cutoff: SystemTime) -> Result<usize> {
        let mut referenced = std::collections::HashSet::new();
        for guard in self.tables.stream.iter() {
            let (key, value) = guard.into_inner()?;
            let id = codec::key_id(&key).ok_or(StoreError::Storage(fjall::Error::Unrecoverable))?;
            if let Some(hash) = codec::decode(id, &value)?.hash {
                referenced.insert(hash.to_string());
            }
        }
        let mut removed = 0;
        for hash in self.cas.hashes()? {
            if !referenced.contains(&hash.to_string()) && self.cas.remove_if_older(&hash, cutoff)? {
                removed += 1;
            }
        }
        self.disk.sync()?;
        Ok(removed)
    }

    fn apply(&self, commands: Vec<Command>) {
        let mut batch = Batch {
            writer: self,
            changes: self.disk.changes(),
            published: Vec::new(),
            gone: Vec::new(),
            trims: Vec::new(),
            acks: Vec::new(),
            head: None,
            head_ephemeral: false,
        };
        for command in commands {
            batch.add(command);
        }
        let result = batch.commit();
        if let Err(e) = &result {
            tracing::error!(error = %e, "commit failed; the batch is not acknowledged");
        }
        batch.acknowledge(result.map_err(|e| e.to_string()));
    }

    fn stream(&self) -> (Table, &Keyspace) {
        (Table::Stream, &self.tables.stream)
    }

    fn index(&self) -> (Table, &Keyspace) {
        (Table::Index, &self.tables.index)
    }

    /// Adds the removal of stored frame `id` (and its index and expiry keys) to `batch`.
    fn remove_into(&self, changes: &mut Changes, id: Scru128Id) -> Result<bool> {
        let Some(frame) = self.tables.get(id)? else { return Ok(false) };
        changes.remove(self.stream(), codec::id_key(id));
        for name in index_names(&frame.topic) {
            changes.remove(self.index(), codec::index_key(&name, id));
        }
        if let Some(TTL::Time(ttl)) = frame.ttl {
            changes.remove((Table::Expiry, &self.expiry), expiry_key(&frame, ttl));
        }
        Ok(true)
    }

    /// Removes all but the newest `keep` frames of exactly `topic`; returns the ids removed.
    fn trim(&self, topic: &str, keep: u32) -> Result<Vec<Scru128Id>> {
        let Some(head) = self.tables.last_id()? else { return Ok(Vec::new()) };
        let prefix = codec::index_prefix(topic);
        let hi = codec::index_key(topic, head);
        let stale: Vec<Scru128Id> = self
            .tables
            .index
            .range(prefix..=hi)
            .rev()
            .skip(keep as usize)
            .filter_map(|g| g.key().ok().and_then(|k| codec::key_id(&k)))
            .collect();
        let mut changes = self.disk.changes();
        for id in &stale {
            self.remove_into(&mut changes, *id)?;
        }
        self.disk.commit(changes, false)?;
        Ok(stale)
    }
}

const HIGH_WATER: &[u8] = b"last_id";

/// How far ahead of the id it covers a new high-water mark is set. After a
/// restart within this time, new ids count up from the mark, a little
/// ahead of the clock.
const MARK_LEASE: Duration = Duration::from_secs(1);

/// The high-water mark: at or above every id the store ever issued.
pub(crate) fn high_water(meta: &Keyspace) -> Result<Option<Scru128Id>> {
    Ok(meta.get(HIGH_WATER)?.and_then(|v| <[u8; 16]>::try_from(&v[..]).ok()).map(Scru128Id::from_bytes))
}

/// The key of a `time:` frame in the expiry index: when it expires, then its id.
pub(crate) fn expiry_key(frame: &Frame, ttl: Duration) -> [u8; 24] {
    let at = frame.time() + ttl;
    let ms = at.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let mut key = [0u8; 24];
    key[..8].copy_from_slice(&ms.to_be_bytes());
    key[8..].copy_from_slice(&frame.id.to_bytes());
    key
}

/// One group commit in the making.
struct Batch<'w> {
    writer: &'w Writer,
    changes: Changes,
    /// Every frame appended, stored or ephemeral, to publish after the sync.
    published: Vec<Frame>,
    /// Ids of frames removed by this batch (removals, expiry, trimming).
    gone: Vec<Scru128Id>,
    trims: Vec<(String, u32)>,
    acks: Vec<Ack>,
    head: Option<Scru128Id>,
    /// The newest frame of the batch is ephemeral, so no stored frame holds its id.
    head_ephemeral: bool,
}

enum Ack {
    Append(Result<Frame>, mpsc::SyncSender<Result<Frame>>),
    Batch(Result<Vec<Frame>>, mpsc::SyncSender<Result<Vec<Frame>>>),
    Remove(Result<()>, mpsc::SyncSender<Result<()>>),
}

impl Batch<'_> {
    fn add(&mut self, command: Command) {
        match command {
            Command::Append(frame, reply) => {
                let frame = self.append(frame);
                self.acks.push(Ack::Append(frame, reply));
            }
            Command::Import(frame, mark, reply) => {
                let frame = self.import(frame);
                if let (Ok(_), Some(Checkpoint { key, value })) = (&frame, mark) {
                    self.changes.insert((Table::Checkpoints, &self.writer.checkpoints), key, value);
                }
                self.acks.push(Ack::Append(frame, reply));
            }
            Command::Batch(frames, checkpoint, reply) => {
                let frames = self.append_all(frames, checkpoint);
                self.acks.push(Ack::Batch(frames, reply));
            }
            Command::SweepCas(..) => {}
            #[cfg(test)]
            Command::Panic => panic!("a panic injected by a test"),
            Command::Remove(id, reply) => {
                let result = self
                    .writer
                    .remove_into(&mut self.changes, id)
                    .and_then(|found| if found { Ok(()) } else { Err(StoreError::NotFound(id)) });
                self.gone.push(id);
                self.acks.push(Ack::Remove(result, reply));
            }
            Command::Unmark(key, reply) => {
                self.changes.remove((Table::Checkpoints, &self.writer.checkpoints), key);
                self.acks.push(Ack::Remove(Ok(()), reply));
            }
            Command::Expire(due, reply) => {
                self.acks.push(Ack::Remove(Ok(()), reply));
                for (key, id) in due {
                    self.changes.remove((Table::Expiry, &self.writer.expiry), key);
                    self.gone.push(id);
                    if let Err(e) = self.writer.remove_into(&mut self.changes, id) {
                        tracing::warn!(%id, error = %e, "could not expire frame");
                    }
                }
            }
        }
    }

    /// Adds `frame` to the batch. Its payload is checked here, on the writer
    /// thread, so a CAS sweep can never remove it between check and commit.
    fn append(&mut self, mut frame: Frame) -> Result<Frame> {
        self.check_payload(&frame)?;
        frame.id = self.writer.published.next_id()?;
        self.store(frame)
    }

    /// Adds every frame of `frames`, then `checkpoint`, to the batch; when
    /// one frame's payload is missing, none of them (and no checkpoint).
    /// They commit in the same fjall batch, so they are durable together.
    fn append_all(&mut self, frames: Vec<Frame>, checkpoint: Option<Checkpoint>) -> Result<Vec<Frame>> {
        for frame in &frames {
            self.check_payload(frame)?;
        }
        // Every id first: running out midway must leave nothing in the batch.
        let ids = frames.iter().map(|_| self.writer.published.next_id()).collect::<Result<Vec<_>>>()?;
        let appended = frames
            .into_iter()
            .zip(ids)
            .map(|(frame, id)| self.store(Frame { id, ..frame }))
            .collect::<Result<Vec<_>>>()?;
        if let Some(Checkpoint { key, value }) = checkpoint {
            self.changes.insert((Table::Checkpoints, &self.writer.checkpoints), key, value);
        }
        Ok(appended)
    }

    /// Adds `frame` with its own id, which must be above every id the
    /// store ever handed out (in this run, or before a restart up to the
    /// high-water mark): stored ids keep rising, and every reader, whose
    /// cursor is at most such an id, still gets it.
    fn import(&mut self, frame: Frame) -> Result<Frame> {
        self.check_payload(&frame)?;
        if self.writer.published.issued().is_some_and(|issued| frame.id <= issued) {
            let reason = "its id is not above the newest id this store has handed out (import into a new store)";
            return Err(StoreError::NotImportable { id: frame.id, reason });
        }
        if !leaves_room(frame.id) {
            let reason = "its id is so near the top of the id space that later frames would have no ids left";
            return Err(StoreError::NotImportable { id: frame.id, reason });
        }
        self.writer.published.observe_id(frame.id);
        self.store(frame)
    }

    fn check_payload(&self, frame: &Frame) -> Result<()> {
        match &frame.hash {
            Some(hash) if !self.writer.cas.contains(hash)? => Err(StoreError::HashNotFound(hash.to_string())),
            _ => Ok(()),
        }
    }

    /// Writes `frame`, whose id is fresh, into the batch (or only publishes
    /// it, when ephemeral).
    fn store(&mut self, frame: Frame) -> Result<Frame> {
        self.head = Some(frame.id);
        self.head_ephemeral = frame.retention() == TTL::Ephemeral;
        match frame.retention() {
            TTL::Ephemeral => {
                self.published.push(frame.clone());
                return Ok(frame);
            }
            TTL::Time(ttl) => self.changes.insert((Table::Expiry, &self.writer.expiry), expiry_key(&frame, ttl), []),
            TTL::Last(n) => self.trims.push((frame.topic.clone(), n)),
            TTL::Forever => {}
        }
        let value = codec::encode(&frame);
        for name in index_names(&frame.topic) {
            self.changes.insert(self.writer.index(), codec::index_key(&name, frame.id), &value);
        }
        self.changes.insert(self.writer.stream(), codec::id_key(frame.id), &value);
        self.published.push(frame.clone());
        Ok(frame)
    }

    fn commit(&mut self) -> Result<()> {
        let mut changes = std::mem::replace(&mut self.changes, self.writer.disk.changes());
        let mut sync = !changes.is_empty();
        let mark = self.new_mark();
        if let Some(mark) = mark {
            changes.insert((Table::Meta, &self.writer.meta), HIGH_WATER, mark.to_bytes());
            sync = true;
        }
        self.writer.disk.commit(changes, sync)?;
        if mark.is_some() {
            *self.writer.mark.lock().unwrap_or_else(|p| p.into_inner()) = mark;
        }
        Ok(())
    }

    /// A new high-water mark, when this batch hands out an id that may not
    /// be stored (the newest frame is ephemeral, or was removed) and is
    /// above the durable mark. On open, ids are clamped above the newest
    /// stored frame and the mark, so the mark must be durable before such
    /// an id reaches anyone, or a restart could issue it again. It is set
    /// [`MARK_LEASE`] ahead, so a stream of ephemeral frames syncs it once
    /// per lease and not once per batch.
    fn new_mark(&self) -> Option<Scru128Id> {
        let unstored = self.head_ephemeral || !self.gone.is_empty();
        let head = self.head.or_else(|| self.writer.published.head()).filter(|_| unstored)?;
        let durable = *self.writer.mark.lock().unwrap_or_else(|p| p.into_inner());
        if durable.is_some_and(|mark| head <= mark) {
            return None;
        }
        let ahead = head.timestamp().saturating_add(MARK_LEASE.as_millis() as u64);
        Some(Scru128Id::try_from_fields(ahead, 0, 0, 0).ok().filter(|m| *m > head).unwrap_or(head))
    }

    /// Applies `last:<n>` retention once the batch is published. Trimming
    /// first would let a reader see the old frames gone before the new one
    /// is visible (none at all, for `last:1`); this way it may briefly see
    /// one too many. Readers taking a head wait for the trims to commit
    /// (see [`Live::head_with`]). A crash before the trim leaves the extra frames until
    /// the topic's next `last:<n>` append.
    fn trim(&mut self) {
        if self.trims.is_empty() {
            return;
        }
        self.trims.sort();
        self.trims.dedup_by(|a, b| a.0 == b.0);
        let mut stale = Vec::new();
        {
            let _readers_wait = self.writer.published.trimming();
            for (topic, keep) in &self.trims {
                match self.writer.trim(topic, *keep) {
                    Ok(ids) => stale.extend(ids),
                    Err(e) => tracing::warn!(topic, error = %e, "could not trim a last:<n> topic"),
                }
            }
        }
        if !stale.is_empty() {
            self.writer.published.publish(None, Vec::new(), &stale);
        }
    }

    fn acknowledge(mut self, result: std::result::Result<(), String>) {
        if result.is_ok() {
            let published = std::mem::take(&mut self.published);
            self.writer.published.publish(self.head, published, &self.gone);
            self.trim();
        }
        let failed = || {
            StoreError::Io(std::io::Error::other(format!(
                "commit failed: {}",
                result.as_ref().err().map_or("", String::as_str)
            )))
        };
        for ack in self.acks {
            // A caller that gave up waiting is no reason to stop.
            match ack {
                Ack::Append(r, reply) => drop(reply.send(if result.is_ok() { r } else { Err(failed()) })),
                Ack::Remove(r, reply) => drop(reply.send(if result.is_ok() { r } else { Err(failed()) })),
                Ack::Batch(r, reply) => drop(reply.send(if result.is_ok() { r } else { Err(failed()) })),
            }
        }
    }
}
