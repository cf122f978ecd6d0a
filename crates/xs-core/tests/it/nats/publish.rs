//! A stand-in for a mirror in the replica tests: publishes a store's frames
//! exactly as a mirror does ([`xs_core::nats::wire`]), payloads above the
//! server's max payload (less room for headers) into the object-store
//! bucket `<STREAM>-payloads` under their hash. Small on purpose: it is
//! also a check of the format from the reading side.

use async_nats::jetstream::{self, Context, object_store, stream};
use xs_core::{Frame, ReadOptions, Store, nats::wire};

/// Room left in a message for its headers.
const HEADROOM: usize = 4096;

/// Publishes into `stream` (created if missing, taking every prefix in
/// `prefixes`) under one subject prefix.
pub struct Publisher {
    js: Context,
    prefix: String,
    bucket: object_store::ObjectStore,
    bucket_name: String,
    max_body: usize,
}

impl Publisher {
    pub async fn new(url: &str, stream: &str, prefixes: &[&str], prefix: &str) -> Publisher {
        let client = async_nats::connect(url).await.expect("connect");
        let max_body = client.server_info().max_payload.saturating_sub(HEADROOM);
        let js = jetstream::new(client);
        let subjects = prefixes.iter().map(|p| format!("{p}.>")).collect();
        js.get_or_create_stream(stream::Config { name: stream.into(), subjects, ..Default::default() })
            .await
            .expect("stream");
        let bucket_name = format!("{stream}-payloads");
        let config = object_store::Config { bucket: bucket_name.clone(), ..Default::default() };
        let bucket = js.create_object_store(config).await.expect("object store");
        Publisher { js, prefix: prefix.into(), bucket, bucket_name, max_body }
    }

    /// Publishes every frame of `store` after `after`, in id order, waiting
    /// for each ack; returns the last id published.
    pub async fn publish_after(
        &self,
        store: &Store,
        after: Option<xs_core::id::Scru128Id>,
    ) -> Option<xs_core::id::Scru128Id> {
        let options = ReadOptions::builder().maybe_after(after).build();
        let mut last = after;
        for frame in store.reader(options).expect("reader") {
            let frame = frame.expect("frame");
            self.publish(store, &frame).await;
            last = Some(frame.id);
        }
        last
    }

    /// Publishes one frame.
    pub async fn publish(&self, store: &Store, frame: &Frame) {
        let payload = frame.hash.as_ref().map(|h| store.cas_read(h).expect("payload")).unwrap_or_default();
        let large = payload.len() > self.max_body;
        if large {
            let name = frame.hash.as_ref().expect("a hash").to_string();
            let meta = object_store::ObjectMetadata { name, chunk_size: Some(self.max_body), ..Default::default() };
            self.bucket.put(meta, &mut payload.as_slice()).await.expect("object put");
        }
        let headers = wire::headers(frame, large.then_some(self.bucket_name.as_str()));
        let body = if large { Vec::new() } else { payload };
        let subject = wire::subject(&self.prefix, &frame.topic);
        let ack = self.js.publish_with_headers(subject, headers, body.into()).await.expect("publish");
        ack.await.expect("the stream's ack");
    }
}
