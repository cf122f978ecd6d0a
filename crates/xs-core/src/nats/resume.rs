//! Where a mirror resumes: after the newer of its durable position in the
//! store and the newest frame JetStream already holds under its prefix.
//!
//! The position is a store checkpoint (`mirror/<register id>`), written
//! after JetStream acknowledged every frame up to it. It lags what was
//! published (it is saved every so many acks, and a kill can land
//! between an ack and its save); the stream's newest `Xs-Id` covers that
//! gap, and since one connection's messages are stored in the order sent,
//! everything before it is in the stream too. Either alone would do
//! within JetStream's dedupe window (`Nats-Msg-Id` drops a republished
//! frame); together they are exact beyond it, so a restart after a kill
//! neither skips nor duplicates a frame.

use scru128::Scru128Id;

use crate::{Store, StoreError, error::Result, store::Checkpoint};

const VERSION: u8 = 1;

/// The checkpoint key of the mirror registered by `register`.
pub fn key(register: Scru128Id) -> Vec<u8> {
    let mut key = b"mirror/".to_vec();
    key.extend_from_slice(&register.to_bytes());
    key
}

/// The checkpoint recording that every frame up to `position` is in JetStream.
pub fn checkpoint(register: Scru128Id, position: Scru128Id) -> Checkpoint {
    let mut value = vec![VERSION];
    value.extend_from_slice(&position.to_bytes());
    Checkpoint::new(key(register), value)
}

/// The position last saved for the mirror registered by `register`.
///
/// # Errors
///
/// Storage errors; [`StoreError::MirrorConfig`] for a damaged checkpoint.
pub fn saved(store: &Store, register: Scru128Id) -> Result<Option<Scru128Id>> {
    let Some(value) = store.checkpoint(&key(register))? else { return Ok(None) };
    let damaged = || StoreError::MirrorConfig { reason: "the mirror's saved position is damaged".into() };
    match value.split_first() {
        Some((&VERSION, id)) => {
            let id: [u8; 16] = id.try_into().map_err(|_| damaged())?;
            Ok(Some(Scru128Id::from_bytes(id)))
        }
        _ => Err(damaged()),
    }
}

/// Saves `position` (the checkpoint alone, in an empty batch).
///
/// # Errors
///
/// Storage errors.
pub fn save(store: &Store, register: Scru128Id, position: Scru128Id) -> Result<()> {
    store.append_batch(Vec::new(), Some(checkpoint(register, position))).map(drop)
}

/// The resume point: after the newer of the saved position and the stream's newest frame.
pub fn after(saved: Option<Scru128Id>, in_stream: Option<Scru128Id>) -> Option<Scru128Id> {
    saved.max(in_stream)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    #[test]
    fn a_position_round_trips_and_the_newer_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path()).unwrap();
        let (register, a, b) = (scru128::new(), scru128::new(), scru128::new());
        assert_eq!(saved(&store, register).unwrap(), None);
        save(&store, register, a).unwrap();
        assert_eq!(saved(&store, register).unwrap(), Some(a));
        assert_eq!(after(Some(a), Some(b)), Some(b));
        assert_eq!(after(Some(b), None), Some(b));
        assert_eq!(after(None, None), None);
    }
}
