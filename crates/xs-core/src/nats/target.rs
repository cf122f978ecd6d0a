//! The JetStream side of a mirror: its stream (created or widened to the
//! prefix's subjects), the newest frame already in it, and the object
//! store for payloads too large for a message.
//!
//! The stream's newest message on `<prefix>.>` is what makes resuming
//! exact beyond JetStream's dedupe window: one connection's publishes are
//! stored in the order sent, so every frame up to that message's `Xs-Id`
//! is in the stream, and the mirror goes on after it.

use async_nats::{
    Client,
    jetstream::{
        self, Context,
        object_store::{self, ObjectMetadata, ObjectStore},
        stream::{self, LastRawMessageErrorKind, RetentionPolicy, Stream},
    },
};
use scru128::Scru128Id;

use crate::{
    StoreError,
    error::Result,
    nats::{
        config::{MirrorConfig, Retention},
        connect::Link,
        wire,
    },
};

/// Room left in a message for its subject and headers: a payload larger
/// than the server's max payload less this goes to the object store.
const HEADER_ROOM: usize = 1024;

/// Where a mirror publishes.
pub struct Target {
    /// The JetStream context (its publish acks).
    pub js: Context,
    stream: Stream,
    bucket: Option<ObjectStore>,
    config: MirrorConfig,
    max_payload: usize,
    said: Link,
}

impl Target {
    /// The stream named by `config`, created if missing, with the prefix's
    /// subjects added if it lacks them.
    ///
    /// # Errors
    ///
    /// [`StoreError::Nats`]: JetStream is not enabled, or the account may
    /// not look up, create or update the stream.
    pub async fn open(client: Client, said: Link, config: &MirrorConfig) -> Result<Target> {
        let max_payload = client.server_info().max_payload;
        let js = jetstream::new(client);
        let stream = match js.get_stream(&config.stream).await {
            Ok(stream) => widen(&js, stream, config, &said).await?,
            Err(e) if is_not_found(&e.kind()) => create(&js, config, &said).await?,
            Err(e) => return Err(said.error(format!("looking up the stream {}", config.stream), e)),
        };
        Ok(Target { js, stream, bucket: None, config: config.clone(), max_payload, said })
    }

    /// A [`StoreError::Nats`] with what the server last said.
    pub fn error(&self, action: String, error: impl std::fmt::Display) -> StoreError {
        self.said.error(action, error)
    }

    /// The id of the newest frame in the stream under the prefix.
    ///
    /// # Errors
    ///
    /// [`StoreError::Nats`] when the stream cannot be asked;
    /// [`StoreError::NatsMessage`] when its newest message is not a frame.
    pub async fn last_id(&self) -> Result<Option<Scru128Id>> {
        match self.stream.get_last_raw_message_by_subject(&self.config.subjects()).await {
            Ok(message) => Ok(Some(wire::frame(&message.headers)?.0.id)),
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Err(e) => Err(self.error(format!("reading the last message of {}", self.config.stream), e)),
        }
    }

    /// True when a payload of `len` bytes does not fit in one message.
    pub fn too_large(&self, len: usize) -> bool {
        len + HEADER_ROOM > self.max_payload
    }

    /// Puts `payload` in the bucket under its hash (once: a payload already
    /// there is not sent again) and returns the bucket's name.
    ///
    /// # Errors
    ///
    /// [`StoreError::Nats`] when the bucket cannot be created or written.
    pub async fn put_object(&mut self, hash: &str, payload: &[u8]) -> Result<String> {
        let chunk_size = (self.max_payload / 2).max(1024);
        let (said, name) = (self.said.clone(), self.config.bucket.clone());
        let bucket = self.bucket().await?;
        if bucket.info(hash).await.is_ok() {
            return Ok(name);
        }
        let meta = ObjectMetadata { name: hash.to_string(), chunk_size: Some(chunk_size), ..Default::default() };
        let mut reader = payload;
        let put = bucket.put(meta, &mut reader).await;
        put.map_err(|e| said.error(format!("storing a payload in {name}"), e))?;
        Ok(name)
    }

    /// The object-store bucket, created (with the stream's replicas) on first use.
    async fn bucket(&mut self) -> Result<&ObjectStore> {
        if self.bucket.is_none() {
            let name = &self.config.bucket;
            let bucket = match self.js.get_object_store(name).await {
                Ok(bucket) => bucket,
                Err(_) => {
                    let config = object_store::Config {
                        bucket: name.clone(),
                        num_replicas: self.config.replicas,
                        ..Default::default()
                    };
                    let created = self.js.create_object_store(config).await;
                    created.map_err(|e| self.said.error(format!("creating the object store {name}"), e))?
                }
            };
            self.bucket = Some(bucket);
        }
        self.bucket.as_ref().ok_or_else(|| self.error("opening the object store".into(), "no bucket"))
    }
}

/// JetStream said "stream not found" (anything else is a real error).
fn is_not_found(kind: &jetstream::context::GetStreamErrorKind) -> bool {
    matches!(kind, jetstream::context::GetStreamErrorKind::JetStream(e) if e.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND)
}

async fn create(js: &Context, config: &MirrorConfig, said: &Link) -> Result<Stream> {
    let retention = match config.retention {
        Retention::Limits => RetentionPolicy::Limits,
        Retention::Interest => RetentionPolicy::Interest,
        Retention::WorkQueue => RetentionPolicy::WorkQueue,
    };
    let stream = stream::Config {
        name: config.stream.clone(),
        subjects: vec![config.subjects()],
        num_replicas: config.replicas,
        retention,
        ..Default::default()
    };
    tracing::info!(stream = %config.stream, replicas = config.replicas, "creating the mirror's stream");
    js.create_stream(stream).await.map_err(|e| said.error(format!("creating the stream {}", config.stream), e))
}

/// Adds `<prefix>.>` to an existing stream's subjects if it lacks them.
async fn widen(js: &Context, mut stream: Stream, config: &MirrorConfig, said: &Link) -> Result<Stream> {
    let subjects = config.subjects();
    let info = stream.info().await.map_err(|e| said.error(format!("reading the stream {}", config.stream), e))?;
    if info.config.subjects.iter().any(|s| *s == subjects || s == ">") {
        return Ok(stream);
    }
    let mut widened = info.config.clone();
    widened.subjects.push(subjects);
    let updated = js.update_stream(&widened).await;
    updated.map_err(|e| said.error(format!("adding {} to the stream {}", config.subjects(), config.stream), e))?;
    js.get_stream(&config.stream).await.map_err(|e| said.error(format!("reading the stream {}", config.stream), e))
}
