//! What the store commands of one engine work on: the store and, inside a
//! handler, its outbox. Appends inside a handler go to the outbox and are
//! committed with the handler's output for the frame it is handling; a
//! read first commits what earlier inputs emitted, so a handler reads its
//! own finished output.

use std::{io::Read, sync::Arc};

use crate::{
    Frame, ReadOptions, Result, StoreError,
    hash::Integrity,
    id::Scru128Id,
    nu::{Appended, Poll, StoreAccess},
    processor::outbox::{CommitError, Outbox},
    store::Store,
};

/// The store and, inside a handler, its outbox.
#[derive(Clone)]
pub(crate) struct Context {
    pub(crate) store: Store,
    pub(crate) outbox: Option<Arc<Outbox>>,
}

impl Context {
    /// Before a read: commits what earlier inputs emitted.
    fn before_read(&self) -> Result<()> {
        match &self.outbox {
            Some(outbox) => outbox.commit(Vec::new()).map(drop).map_err(|e| match e {
                CommitError::Store(e) => e,
                CommitError::State(reason) => StoreError::Io(std::io::Error::other(reason)),
            }),
            None => Ok(()),
        }
    }

    /// A frame's `payload` into the CAS; `None` when it is empty (a frame
    /// without content has no hash).
    fn put_payload(&self, payload: &mut dyn Read) -> Result<Option<Integrity>> {
        let mut writer = self.store.cas_writer();
        match std::io::copy(payload, &mut writer)? {
            0 => Ok(None),
            _ => writer.commit().map(Some),
        }
    }
}

impl StoreAccess for Context {
    fn append(&self, frame: Frame, payload: &mut dyn Read) -> Result<Appended> {
        let frame = Frame { hash: self.put_payload(payload)?, ..frame };
        match &self.outbox {
            Some(outbox) => {
                outbox.queue(frame.clone());
                Ok(Appended::Queued(frame))
            }
            None => self.store.append(frame).map(Appended::Durable),
        }
    }

    fn read(&self, options: ReadOptions) -> Result<Box<dyn Poll + Send>> {
        self.before_read()?;
        Ok(Box::new(self.store.reader(options)?))
    }

    fn last(&self, topic: &str, n: usize) -> Result<Vec<Frame>> {
        self.before_read()?;
        self.store.last(topic, n)
    }

    fn get(&self, id: &Scru128Id) -> Result<Option<Frame>> {
        self.store.get(id)
    }

    fn remove(&self, id: &Scru128Id) -> Result<()> {
        self.store.remove(id)
    }

    fn cas_reader(&self, hash: &Integrity) -> Result<Box<dyn Read + Send>> {
        self.store.cas_reader(hash)
    }

    fn cas_put(&self, content: &mut dyn Read) -> Result<Integrity> {
        let mut writer = self.store.cas_writer();
        std::io::copy(content, &mut writer)?;
        writer.commit()
    }
}
