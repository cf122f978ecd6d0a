//! Publishing frames into JetStream with many acknowledgements in flight.
//!
//! Awaiting each ack before the next publish would cap a mirror at one
//! frame per round trip. Instead up to [`WINDOW`] publishes are in flight
//! and their acks are awaited oldest first, so [`Publisher::acked`] is
//! always a prefix of the frames sent: every frame up to it is in the
//! stream. That prefix is what the mirror saves as its position; when an
//! ack fails, the frames after it are sent again on the next attempt,
//! and `Nats-Msg-Id` makes JetStream drop any that did arrive.

use std::collections::VecDeque;

use async_nats::jetstream::context::PublishAckFuture;
use bytes::Bytes;
use scru128::Scru128Id;

use crate::{
    error::Result,
    nats::{feed::Item, target::Target, wire},
};

/// Publishes in flight at most.
pub const WINDOW: usize = 512;

/// The frames sent and not yet acknowledged, and how far the acks go.
pub struct Publisher {
    target: Target,
    prefix: String,
    window: VecDeque<(Scru128Id, PublishAckFuture)>,
    acked: Option<Scru128Id>,
}

impl Publisher {
    /// A publisher into `target` under the subject prefix `prefix`.
    pub fn new(target: Target, prefix: &str) -> Self {
        Publisher { target, prefix: prefix.to_string(), window: VecDeque::new(), acked: None }
    }

    /// The newest frame such that it and every frame before it are acknowledged.
    pub fn acked(&self) -> Option<Scru128Id> {
        self.acked
    }

    /// Sends one frame (its payload into the object store first when too
    /// large), waiting for the oldest ack only when the window is full.
    ///
    /// # Errors
    ///
    /// [`StoreError::Nats`](crate::StoreError::Nats) when a publish, an
    /// ack or the object store fails.
    pub async fn publish(&mut self, item: Item) -> Result<()> {
        if self.window.len() >= WINDOW {
            self.settle_one().await?;
        }
        let Item { frame, payload } = item;
        let payload = payload.unwrap_or_default();
        let bucket = match frame.hash.as_ref().filter(|_| self.target.too_large(payload.len())) {
            Some(hash) => Some(self.target.put_object(&hash.to_string(), &payload).await?),
            None => None,
        };
        let headers = wire::headers(&frame, bucket.as_deref());
        let body = if bucket.is_some() { Bytes::new() } else { Bytes::from(payload) };
        let subject = wire::subject(&self.prefix, &frame.topic);
        let ack = self.target.js.publish_with_headers(subject, headers, body).await;
        let ack = ack.map_err(|e| self.target.error(format!("publishing frame {}", frame.id), e))?;
        self.window.push_back((frame.id, ack));
        Ok(())
    }

    /// Waits for every ack in flight.
    ///
    /// # Errors
    ///
    /// As [`Publisher::publish`]: the first ack that fails.
    pub async fn settle(&mut self) -> Result<()> {
        while !self.window.is_empty() {
            self.settle_one().await?;
        }
        Ok(())
    }

    /// Waits for the oldest ack in flight.
    async fn settle_one(&mut self) -> Result<()> {
        let Some((id, ack)) = self.window.pop_front() else { return Ok(()) };
        let acked = ack.await;
        acked.map_err(|e| self.target.error(format!("publishing frame {id} (no acknowledgement)"), e))?;
        self.acked = Some(id);
        Ok(())
    }
}
