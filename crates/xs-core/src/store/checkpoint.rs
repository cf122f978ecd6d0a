//! Checkpoints: where a consumer of the stream got to, committed in the
//! same batch as the frames it appended on the way.
//!
//! A handler that reads frame `x` and appends its outputs must never be
//! able to leave the outputs without the "`x` is done" record, or the
//! record without the outputs: either would handle `x` twice or skip it
//! after a crash. [`Store::append_batch`](crate::Store::append_batch)
//! writes both in one fjall batch under one sync, so after a crash at any
//! instant a reader of the checkpoint sees exactly the frames that went
//! with it. The value is opaque to the store (docs/store-format.md).

/// A keyed record written atomically with a batch of frames.
///
/// ```
/// use xs_core::{Frame, Store, store::Checkpoint};
/// # let dir = tempfile::tempdir()?;
/// let store = Store::new(dir.path())?;
/// let done = Checkpoint::new(b"counter", b"42".to_vec());
/// store.append_batch(vec![Frame::builder("counter.out").build()], Some(done))?;
/// assert_eq!(store.checkpoint(b"counter")?, Some(b"42".to_vec()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Whose checkpoint it is (a new value replaces the old one).
    pub key: Vec<u8>,
    /// What the consumer needs to resume: a position, its state.
    pub value: Vec<u8>,
}

impl Checkpoint {
    /// The checkpoint `value` under `key`.
    pub fn new(key: impl Into<Vec<u8>>, value: Vec<u8>) -> Self {
        Checkpoint { key: key.into(), value }
    }
}
