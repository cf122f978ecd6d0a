//! One run of a mirror: connect, open the stream, resume, then publish
//! every matching frame in id order until told to stop or something fails.
//!
//! A run ends on the first error (no server, refused credentials, a
//! permission, an ack that never came) with the position it reached
//! saved; the processor (`processor/mirror.rs`) records the error and
//! starts another run after the generators' backoff. Each run resumes
//! from scratch ([`resume`]), so a run that failed midway, a restart and
//! a kill all come back to the same place.

use std::{sync::Arc, time::Duration};

use scru128::Scru128Id;
use tokio::sync::mpsc::error::TryRecvError;

use crate::{
    Store,
    error::Result,
    nats::{
        config::MirrorConfig,
        connect::connect,
        feed::{Fed, Feed},
        publish::Publisher,
        resume,
        target::Target,
    },
    processor::states::Progress,
};

/// How often an idle mirror checks whether it should stop.
const TICK: Duration = Duration::from_millis(100);
/// Acks between two saves of the position while a backlog drains.
const SAVE_EVERY: usize = 2048;

/// The feed's thread is gone (it logs why).
fn ended() -> crate::StoreError {
    crate::StoreError::Nats { action: "reading the store".into(), reason: "the mirror's feed ended".into() }
}

/// A mirror's parts: what it publishes, where, and what it reports.
pub(crate) struct Mirror {
    pub(crate) name: String,
    /// The register frame's id: the key of the saved position.
    pub(crate) register: Scru128Id,
    pub(crate) config: MirrorConfig,
    pub(crate) store: Store,
    pub(crate) progress: Arc<Progress>,
}

/// What a run is doing, for its saves.
struct Run<'a> {
    mirror: &'a Mirror,
    saved: Option<Scru128Id>,
    unsaved: usize,
}

impl Mirror {
    /// One run, until `stopping()` is true (then `Ok`) or an error.
    ///
    /// # Errors
    ///
    /// [`StoreError::Nats`](crate::StoreError::Nats) for anything NATS
    /// refused or failed; storage errors reading the store.
    pub(crate) async fn run(&self, stopping: &dyn Fn() -> bool) -> Result<()> {
        let (client, said) =
            connect(&self.config.url, self.config.creds.as_deref(), format!("xs-mirror-{}", self.name)).await?;
        let target = Target::open(client, said, &self.config).await?;
        let saved = resume::saved(&self.store, self.register)?;
        let after = resume::after(saved, target.last_id().await?);
        tracing::info!(mirror = %self.name, after = ?after.map(|id| id.to_string()), "mirror connected; resuming");
        self.progress.set_position(after);
        let mut feed = Feed::start(&self.store, &self.config.topics, after)?;
        let mut publisher = Publisher::new(target, &self.config.subject_prefix);
        let mut run = Run { mirror: self, saved, unsaved: 0 };
        let result = run.pump(&mut feed, &mut publisher, stopping).await;
        run.save(publisher.acked());
        result
    }
}

impl Run<'_> {
    /// Publishes what the feed gives, settling the acks whenever it runs dry.
    async fn pump(&mut self, feed: &mut Feed, publisher: &mut Publisher, stopping: &dyn Fn() -> bool) -> Result<()> {
        loop {
            if stopping() {
                return publisher.settle().await;
            }
            let fed = match feed.frames.try_recv() {
                Ok(fed) => fed,
                Err(TryRecvError::Empty) => {
                    publisher.settle().await?;
                    self.save(publisher.acked());
                    match tokio::time::timeout(TICK, feed.frames.recv()).await {
                        Ok(Some(fed)) => fed,
                        Ok(None) => return Err(ended()),
                        Err(_) => continue,
                    }
                }
                Err(TryRecvError::Disconnected) => return Err(ended()),
            };
            match fed {
                Fed::Item(item) => {
                    publisher.publish(item).await?;
                    self.unsaved += 1;
                    if self.unsaved >= SAVE_EVERY {
                        self.save(publisher.acked());
                    }
                }
                Fed::Failed(e) => return Err(e),
            }
        }
    }

    /// Saves `acked` as the position, if it moved.
    fn save(&mut self, acked: Option<Scru128Id>) {
        let Some(position) = acked.filter(|p| Some(*p) > self.saved) else { return };
        match resume::save(&self.mirror.store, self.mirror.register, position) {
            Ok(()) => {
                self.saved = Some(position);
                self.unsaved = 0;
                self.mirror.progress.set_position(Some(position));
            }
            Err(e) => tracing::error!(mirror = %self.mirror.name, error = %e, "could not save the mirror's position"),
        }
    }
}
