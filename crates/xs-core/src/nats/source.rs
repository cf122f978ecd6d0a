//! What a replica store copies, kept durably in the store's `replica`
//! mark (docs/store-format.md): the stream, the subject prefix, and the
//! name of its durable consumer.
//!
//! The mark makes the store read-only (see [`Store::is_replica`]), and it
//! ties the store to one source: a replica never follows a second stream
//! or prefix into the same store (ids would interleave), and a store with
//! frames of its own never becomes a replica (its ids would be below the
//! source's, or above them and refuse them). The consumer's name is made
//! once per store, so two replicas of one stream never share a consumer
//! (JetStream would split the messages between them).

use serde::{Deserialize, Serialize};

use crate::{
    Store,
    error::{Result, StoreError},
    store::REPLICA_KEY,
};

/// The format version byte of the mark.
const VERSION: u8 = 1;

/// A replica's source, as its mark records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Source {
    pub(crate) stream: String,
    pub(crate) subject_prefix: String,
    /// The durable consumer's name on the stream.
    pub(crate) consumer: String,
}

impl Source {
    /// The source recorded in `store`, or a new one (with a fresh consumer
    /// name) when the store is new and empty; true when it is new, and
    /// [`Source::mark`] has yet to record it.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotReplicable`] when the store copies another stream
    /// or prefix, or holds frames without being a replica; storage errors.
    pub(crate) fn of(store: &Store, stream: &str, subject_prefix: &str) -> Result<(Source, bool)> {
        let refuse = |reason: String| StoreError::NotReplicable {
            path: store.path().to_path_buf(),
            source_name: format!("stream {stream}, prefix {subject_prefix}"),
            reason,
        };
        if store.is_replica() {
            let source = Self::read(store)?.ok_or_else(|| refuse("its replica mark is gone".into()))?;
            if source.stream != stream || source.subject_prefix != subject_prefix {
                let (s, p) = (&source.stream, &source.subject_prefix);
                return Err(refuse(format!("it is a replica of stream {s}, prefix {p}")));
            }
            return Ok((source, false));
        }
        if store.published().issued().is_some() {
            return Err(refuse("it holds frames of its own (a replica starts from an empty store)".into()));
        }
        let consumer = format!("xs-replica-{}", scru128::new());
        Ok((Source { stream: stream.into(), subject_prefix: subject_prefix.into(), consumer }, true))
    }

    /// Records the source in `store`, durably: from now on it is a replica.
    ///
    /// # Errors
    ///
    /// Storage errors.
    pub(crate) fn mark(&self, store: &Store) -> Result<()> {
        store.mark_replica(self.encode())
    }

    /// The source in `store`'s mark, if it is a replica.
    fn read(store: &Store) -> Result<Option<Source>> {
        let Some(value) = store.checkpoint(REPLICA_KEY)? else { return Ok(None) };
        let json = match value.split_first() {
            Some((&VERSION, json)) => json,
            _ => return Err(corrupt(store, "unknown format version".into())),
        };
        serde_json::from_slice(json).map(Some).map_err(|e| corrupt(store, e.to_string()))
    }

    /// Version byte ‖ compact JSON.
    fn encode(&self) -> Vec<u8> {
        let mut value = vec![VERSION];
        value.extend(serde_json::to_vec(self).unwrap_or_default());
        value
    }
}

fn corrupt(store: &Store, reason: String) -> StoreError {
    StoreError::NotReplicable {
        path: store.path().to_path_buf(),
        source_name: "its recorded source".into(),
        reason: format!("the replica mark does not decode: {reason}"),
    }
}
