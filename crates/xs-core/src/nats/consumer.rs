//! The replica's durable JetStream consumer, and where it resumes.
//!
//! The consumer's ack state is the replica's position on the stream, and
//! the store's newest id is the truth about what is copied. A message is
//! acked only once its frame is durable, and the replica copies messages
//! strictly in order, stopping at the first it cannot copy. So when a
//! replica starts, every message at or below the consumer's ack floor is
//! in the store, and the messages delivered but not acked (the one that
//! failed, and those fetched after it) are a tail that must come again
//! *first*. JetStream would redeliver them only after their ack wait,
//! behind newer ones, and a newer frame stored first would make the older
//! one look already there (its id is below the store's): a gap. So a
//! consumer with unacked messages is replaced by one that starts right
//! after the ack floor. A frame delivered twice (an ack lost on the way)
//! is skipped by id.

use async_nats::jetstream::{
    consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull},
    context::ConsumerInfoErrorKind,
    stream::Stream,
};

use crate::{error::Result, nats::connect::Link};

/// The consumer `name` on `stream`, filtered to `<prefix>.>`, positioned
/// right after the last message the replica acked.
///
/// # Errors
///
/// [`crate::StoreError::Nats`] when the server refuses (no permission to
/// create consumers, the stream is gone).
pub(crate) async fn resume(stream: &Stream, link: &Link, name: &str, prefix: &str) -> Result<PullConsumer> {
    let nats = |what: &str, e: &dyn std::fmt::Display| link.failed(format!("{what} consumer {name}: {e}"));
    let mut config = pull::Config {
        durable_name: Some(name.into()),
        filter_subject: format!("{prefix}.>"),
        ack_policy: AckPolicy::Explicit,
        description: Some("an xs replica".into()),
        ..Default::default()
    };
    match stream.consumer_info(name).await {
        Ok(info) if info.num_ack_pending == 0 => {
            return stream.get_consumer(name).await.map_err(|e| nats("cannot open", &e));
        }
        Ok(info) => {
            stream.delete_consumer(name).await.map_err(|e| nats("cannot reset", &e))?;
            let start_sequence = info.ack_floor.stream_sequence + 1;
            config.deliver_policy = DeliverPolicy::ByStartSequence { start_sequence };
        }
        Err(e) if e.kind() == ConsumerInfoErrorKind::NotFound => {}
        Err(e) => return Err(nats("cannot look up", &e)),
    }
    stream.create_consumer(config).await.map_err(|e| nats("cannot create", &e))
}
