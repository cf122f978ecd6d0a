//! Helpers for the mirror tests: filling a store, registering a mirror,
//! and reading back what JetStream holds (payloads from the object store
//! resolved), to compare with the store.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::AsyncReadExt;
use xs_core::{Frame, ReadOptions, Store, nats::wire, store::Checkpoint};

use crate::common::read_all;

/// A client of the server(s) at `urls` (a comma list).
pub async fn client(urls: &str) -> async_nats::Client {
    let urls: Vec<&str> = urls.split(',').collect();
    let options = async_nats::ConnectOptions::new().connection_timeout(Duration::from_secs(5));
    options.connect(urls).await.expect("connect to nats")
}

/// Appends `n` frames on `topic` in batches, each with a payload; every
/// `big_every`th payload is `big` bytes (above a small max_payload).
pub fn fill(store: &Store, topic: &str, n: usize, big_every: usize, big: usize) {
    let mut batch = Vec::new();
    for i in 0..n {
        let payload = if big_every > 0 && i % big_every == 0 {
            let mut bytes = format!("big {i} ").into_bytes();
            bytes.resize(big, u8::try_from(i % 251).unwrap());
            bytes
        } else {
            format!("frame {i}").into_bytes()
        };
        let mut writer = store.cas_writer();
        std::io::Write::write_all(&mut writer, &payload).unwrap();
        let hash = writer.commit().unwrap();
        let meta = serde_json::json!({"i": i});
        batch.push(Frame::builder(topic.to_string()).hash(hash).meta(meta).build());
        if batch.len() == 1000 || i + 1 == n {
            store.append_batch(std::mem::take(&mut batch), None::<Checkpoint>).unwrap();
        }
    }
}

/// Appends `xs.mirror.<name>.register` with `config` as its meta.
pub fn register_mirror(store: &Store, name: &str, config: serde_json::Value) -> Frame {
    store.append(Frame::builder(format!("xs.mirror.{name}.register")).meta(config).build()).unwrap()
}

/// Every stored frame on `topic`, oldest first.
pub fn stored(store: &Store, topic: &str) -> Vec<Frame> {
    read_all(store, ReadOptions::builder().topic(topic.to_string()).build())
}

/// How many messages `stream` holds (0 when it does not exist).
pub async fn count(js: &async_nats::jetstream::Context, stream: &str) -> u64 {
    match js.get_stream(stream).await {
        Ok(mut stream) => stream.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Every message of `stream` in order, as frames with their payload bytes.
pub async fn published(js: &async_nats::jetstream::Context, stream: &str) -> Vec<(Frame, Vec<u8>)> {
    let n = count(js, stream).await;
    let stream = js.get_stream(stream).await.expect("stream");
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig::default())
        .await
        .expect("ordered consumer");
    let mut messages = consumer.messages().await.expect("messages");
    let mut out = Vec::new();
    while (out.len() as u64) < n {
        let message = tokio::time::timeout(Duration::from_secs(20), messages.next())
            .await
            .expect("a message within 20 s")
            .expect("more messages")
            .expect("a message");
        let headers = message.headers.clone().expect("headers");
        let (frame, bucket) = wire::frame(&headers).expect("an xs frame");
        let payload = match bucket {
            Some(bucket) => object(js, &bucket, &frame).await,
            None => message.payload.to_vec(),
        };
        out.push((frame, payload));
    }
    out
}

/// A payload from the object store, named by its frame's hash.
async fn object(js: &async_nats::jetstream::Context, bucket: &str, frame: &Frame) -> Vec<u8> {
    let name = frame.hash.as_ref().expect("a hash").to_string();
    let bucket = js.get_object_store(bucket).await.expect("bucket");
    let mut object = bucket.get(&name).await.expect("object");
    let mut bytes = Vec::new();
    object.read_to_end(&mut bytes).await.expect("read object");
    bytes
}

/// Asserts JetStream holds exactly the stored `frames`, in order, each
/// once, with their ids, meta, hashes and payload bytes.
pub fn assert_mirrored(store: &Store, frames: &[Frame], published: &[(Frame, Vec<u8>)]) {
    assert_eq!(published.len(), frames.len(), "one message per stored frame");
    for (stored, (sent, payload)) in frames.iter().zip(published) {
        assert_eq!(sent, stored, "the message's frame");
        let bytes = stored.hash.as_ref().map(|h| store.cas_read(h).unwrap()).unwrap_or_default();
        assert!(*payload == bytes, "the payload of {} ({} bytes, sent {})", stored.id, bytes.len(), payload.len());
    }
}
