//! The background sweeper: deletes frames whose `time:` TTL has run out.
//!
//! Readers already skip expired frames; the sweeper reclaims them without
//! waiting for a reader. It scans the expiry index (`expires-at ‖ id`) up
//! to now and submits their deletion as one writer command, so expiry never races with an append or a removal.

use std::{
    sync::{Arc, mpsc},
    thread::JoinHandle,
    time::{Duration, SystemTime},
};

use fjall::Keyspace;

use crate::{store::codec, store::committer::Committer, store::writer::Command};

/// How often the expiry index is checked.
const PERIOD: Duration = Duration::from_millis(250);
/// The most frames expired per pass.
const PER_PASS: usize = 10_000;

/// A running sweeper; dropping `stop` ends it.
pub(crate) struct Sweeper {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Sweeper {
    pub(crate) fn spawn(expiry: Keyspace, committer: Arc<Committer>) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new().name("xs-sweeper".into()).spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(PERIOD) {
                let due = due(&expiry);
                if !due.is_empty() && committer.request(|reply| Command::Expire(due, reply)).is_err() {
                    break;
                }
            }
        })?;
        Ok(Self { stop, thread })
    }

    /// Stops the sweeper and waits for it.
    pub(crate) fn stop(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

/// Expiry keys and ids of frames whose time is up.
fn due(expiry: &Keyspace) -> Vec<(Vec<u8>, scru128::Scru128Id)> {
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let mut end = now.to_be_bytes().to_vec();
    end.extend_from_slice(&[0xff; 16]);
    expiry
        .range(..=end)
        .take(PER_PASS)
        .filter_map(|g| g.key().ok())
        .filter_map(|k| codec::key_id(&k).map(|id| (k.to_vec(), id)))
        .collect()
}
