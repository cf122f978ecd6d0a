//! A replica: a local store kept an exact, read-only copy of what one
//! mirror published to a JetStream stream under a subject prefix.
//!
//! Every message under `<prefix>.>` is one frame ([`wire`]); the replica
//! stores it with its own id, meta and ttl, its payload byte for byte (from
//! the body, or from the object-store bucket `Xs-Object` names), through
//! the same import path as a dump ([`Store::import`]: scripts stay inert,
//! a replica never runs its source's handlers). The order of work keeps
//! the copy exact across crashes: payload durable, then frame durable,
//! then the ack; a frame whose id is not above the store's newest is
//! already there, and is only acked. Where a restart resumes is
//! `consumer.rs`'s business; what the store copies is `source.rs`'s.
//!
//! What it is not: a two-way sync. The store is marked read-only
//! ([`Store::is_replica`]) until [`Store::promote`], after which it is a
//! store of its own and the replica refuses to follow into it.

use std::{collections::HashMap, future::Future, path::PathBuf, thread, time::Duration};

use async_nats::jetstream::{self, Context, Message, consumer::PullConsumer, object_store::ObjectStore};
use futures_util::StreamExt;
use ssri::Integrity;
use tokio::{io::AsyncReadExt, sync::oneshot};

use crate::{
    Store,
    error::{Result, StoreError},
    nats::{
        connect::{Link, connect},
        consumer,
        source::Source,
        wire,
    },
    store::Scripts,
};

/// The first pause after NATS fails while following; it doubles up to
/// [`BACKOFF_MAX`] and starts over once a frame is copied.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
/// The longest pause between attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// The chunk in which a payload is read out of the object store.
const CHUNK: usize = 64 * 1024;
/// How long a start waits out requests that time out with no refusal from
/// the server (a cluster electing a leader, a restarted node catching up)
/// before it reports the failure.
const START_PATIENCE: Duration = Duration::from_secs(20);

/// What a replica follows, and how it reaches it.
///
/// # Examples
///
/// ```no_run
/// use xs_core::{Store, nats::Replica};
/// let store = Store::new("/tmp/desk1-replica")?;
/// let replica = Replica::builder().url("nats://127.0.0.1:4222").stream("XS").subject_prefix("desk1").build();
/// let following = replica.spawn(store)?; // connected, and following
/// following.stop()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, bon::Builder)]
pub struct Replica {
    /// The server, or a comma list of a cluster's servers: `nats://` or `tls://`.
    #[builder(into)]
    url: String,
    /// The JetStream stream the mirror publishes to.
    #[builder(into, default = "XS".to_string())]
    stream: String,
    /// The mirror's subject prefix: the replica reads `<prefix>.>`.
    #[builder(into, default = "xs".to_string())]
    subject_prefix: String,
    /// A NATS creds file (user JWT and nkey seed).
    #[builder(into)]
    creds: Option<PathBuf>,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("url", &crate::nats::connect::redact(&self.url))
            .field("stream", &self.stream)
            .field("subject_prefix", &self.subject_prefix)
            .field("creds", &self.creds)
            .finish()
    }
}

/// A connected replica, its store claimed, ready to follow.
struct Started {
    js: Context,
    link: Link,
    stream: jetstream::stream::Stream,
    source: Source,
    /// The consumer, opened at the start so that a permission it lacks is
    /// reported then, not retried.
    consumer: PullConsumer,
}

impl Replica {
    /// Copies into `store` and follows live until `stop` completes.
    /// A NATS failure while following is retried with backoff (the client
    /// reconnects on its own); a failure to start, or from the store, ends it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Nats`] when the server cannot be reached, refuses the
    /// credentials, or has no such stream (or denies it);
    /// [`StoreError::NotReplicable`] when the store is not empty and not a
    /// replica of this stream and prefix; [`StoreError::NatsMessage`] for
    /// a message that is no frame; [`StoreError::CorruptContent`] for a
    /// payload that does not match its hash; store errors.
    pub async fn run(&self, store: &Store, stop: impl Future<Output = ()>) -> Result<()> {
        let started = self.start(store).await?;
        self.follow(store, started, stop).await
    }

    /// Starts [`Replica::run`] on a thread of its own, returning once it
    /// is connected and following (or failed to start).
    ///
    /// # Errors
    ///
    /// As [`Replica::run`], for the start; io errors making the thread.
    pub fn spawn(self, store: Store) -> Result<Following> {
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, started) = std::sync::mpsc::sync_channel(1);
        let thread = thread::Builder::new().name("xs-replica".into()).spawn(move || -> Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let started = match self.start(&store).await {
                    Ok(started) => started,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return Ok(());
                    }
                };
                let _ = ready.send(Ok(()));
                self.follow(&store, started, async { drop(stopped.await) }).await
            })
        })?;
        let following = Following { stop: Some(stop), thread: Some(thread) };
        match started.recv() {
            Ok(Ok(())) => Ok(following),
            Ok(Err(e)) => Err(e),
            // The thread ended before it could say: it could not make its runtime.
            Err(_) => Err(following.stop().err().unwrap_or(StoreError::Closed)),
        }
    }

    /// Connects, opens the stream, and claims the store as its copy,
    /// trying again for up to [`START_PATIENCE`] while requests only time
    /// out; a refusal or an unreachable server is reported at once.
    async fn start(&self, store: &Store) -> Result<Started> {
        let deadline = std::time::Instant::now() + START_PATIENCE;
        let mut backoff = BACKOFF_MIN;
        loop {
            match self.try_start(store).await {
                Err(e) if unanswered(&e) && std::time::Instant::now() + backoff < deadline => {
                    tracing::warn!(error = %e, ?backoff, "replica: the stream did not answer; trying again");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
                started => return started,
            }
        }
    }

    async fn try_start(&self, store: &Store) -> Result<Started> {
        let (client, link) = connect(&self.url, self.creds.as_deref(), "xs-replica".into()).await?;
        let js = jetstream::new(client);
        let stream = js.get_stream(&self.stream).await.map_err(|e| {
            link.failed(format!(
                "cannot open stream {}: {e}; check that a mirror created it and that these credentials may read it",
                self.stream
            ))
        })?;
        let (source, new) = Source::of(store, &self.stream, &self.subject_prefix)?;
        let consumer = consumer::resume(&stream, &link, &source.consumer, &source.subject_prefix).await?;
        if new {
            source.mark(store)?;
        }
        tracing::info!(stream = %self.stream, prefix = %self.subject_prefix, store = %store.path().display(), "replica started");
        Ok(Started { js, link, stream, source, consumer })
    }

    /// Follows until `stop`, starting over (with backoff) after a NATS failure.
    async fn follow(&self, store: &Store, started: Started, stop: impl Future<Output = ()>) -> Result<()> {
        tokio::pin!(stop);
        let Started { js, link, stream, source, consumer } = started;
        let mut copier = Copier { store: store.clone(), js, link: link.clone(), buckets: HashMap::new() };
        let mut consumer = Some(consumer);
        let mut backoff = BACKOFF_MIN;
        loop {
            let ended = tokio::select! {
                biased;
                () = &mut stop => return Ok(()),
                ended = follow_once(&stream, &source, consumer.take(), &mut copier, &mut backoff) => ended,
            };
            match ended {
                Err(e @ StoreError::Nats { .. }) => {
                    tracing::warn!(error = %e, ?backoff, "replica: NATS failed; retrying")
                }
                Err(e) => return Err(e),
                Ok(()) => tracing::debug!("replica: the consumer's messages ended; resuming"),
            }
            tokio::select! {
                biased;
                () = &mut stop => return Ok(()),
                () = tokio::time::sleep(backoff) => backoff = (backoff * 2).min(BACKOFF_MAX),
            }
        }
    }
}

/// A request that timed out with no word from the server: JetStream's
/// answer to a question asked while it has no leader. (A denied request
/// times out too, but the server says why, and [`crate::nats::connect::Link`]
/// adds what it said.)
fn unanswered(e: &StoreError) -> bool {
    matches!(e, StoreError::Nats { reason, .. } if reason.contains("timed out") && !reason.contains("the server said"))
}

/// One pass of the consumer (`consumer`, or resumed afresh): copies and
/// acks each message in order until the first failure.
async fn follow_once(
    stream: &jetstream::stream::Stream,
    source: &Source,
    consumer: Option<PullConsumer>,
    copier: &mut Copier,
    backoff: &mut Duration,
) -> Result<()> {
    let link = copier.link.clone();
    let consumer = match consumer {
        Some(consumer) => consumer,
        None => consumer::resume(stream, &link, &source.consumer, &source.subject_prefix).await?,
    };
    let mut messages = consumer.messages().await.map_err(|e| link.failed(format!("cannot consume: {e}")))?;
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| link.failed(format!("consuming: {e}")))?;
        copier.copy(&message).await?;
        message.ack().await.map_err(|e| link.failed(format!("cannot ack: {e}")))?;
        *backoff = BACKOFF_MIN;
    }
    Ok(())
}

/// Copies messages into the store.
struct Copier {
    store: Store,
    js: Context,
    link: Link,
    /// The object-store buckets opened so far, by name.
    buckets: HashMap<String, ObjectStore>,
}

impl Copier {
    /// Stores the frame of `message`, durably, unless it is there already.
    async fn copy(&mut self, message: &Message) -> Result<()> {
        let headers = message.headers.as_ref().ok_or_else(|| StoreError::NatsMessage {
            reason: format!("the message on {} has no headers", message.subject),
        })?;
        let (frame, bucket) = wire::frame(headers)?;
        if self.store.published().issued().is_some_and(|newest| frame.id <= newest) {
            tracing::debug!(id = %frame.id, "replica: already stored");
            return Ok(());
        }
        if let Some(hash) = &frame.hash {
            let got = match bucket {
                Some(bucket) => self.fetch(&bucket, hash).await?,
                None => self.store.cas_insert(&message.payload).await?,
            };
            check(hash, &got)?;
        }
        let store = self.store.clone();
        let imported = tokio::task::spawn_blocking(move || store.import_unchecked(frame, Scripts::Inert)).await;
        imported.map_err(|e| StoreError::Io(std::io::Error::other(e)))?.map(drop)
    }

    /// Streams the object `hash` of `bucket` into the CAS, durably.
    async fn fetch(&mut self, bucket: &str, hash: &Integrity) -> Result<Integrity> {
        let link = self.link.clone();
        let nats = |e: &dyn std::fmt::Display| link.failed(format!("object {hash} in bucket {bucket}: {e}"));
        let objects = match self.buckets.get(bucket) {
            Some(objects) => objects.clone(),
            None => self.js.get_object_store(bucket).await.map_err(|e| nats(&e))?,
        };
        self.buckets.insert(bucket.to_string(), objects.clone());
        let mut object = objects.get(hash.to_string()).await.map_err(|e| nats(&e))?;
        let mut writer = self.store.cas_writer();
        let mut chunk = vec![0; CHUNK];
        loop {
            let n = object.read(&mut chunk).await.map_err(|e| nats(&e))?;
            if n == 0 {
                break;
            }
            std::io::Write::write_all(&mut writer, &chunk[..n])?;
        }
        let committed = tokio::task::spawn_blocking(move || writer.commit()).await;
        committed.map_err(|e| StoreError::Io(std::io::Error::other(e)))?
    }
}

/// The payload stored must be the one the frame names.
fn check(hash: &Integrity, got: &Integrity) -> Result<()> {
    match hash.matches(got) {
        Some(_) => Ok(()),
        None => Err(StoreError::CorruptContent {
            hash: hash.to_string(),
            reason: format!("the message carried content whose hash is {got}"),
        }),
    }
}

/// A replica following on its own thread ([`Replica::spawn`]).
pub struct Following {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<Result<()>>>,
}

impl Following {
    /// True once the replica ended on its own (an error): [`Following::stop`] returns it.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(thread::JoinHandle::is_finished)
    }

    /// Stops following and waits for the thread: every frame acked is
    /// durable, and no write to the store is under way after it returns.
    ///
    /// # Errors
    ///
    /// What ended the replica, if it ended on its own.
    pub fn stop(mut self) -> Result<()> {
        self.finish()
    }

    fn finish(&mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(StoreError::Io(std::io::Error::other("the replica's thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            tracing::warn!(error = %e, "replica ended with an error");
        }
    }
}
