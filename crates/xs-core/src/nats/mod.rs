//! NATS JetStream: mirrors of a store into a stream, and replicas out of it.
//!
//! One machine holds a store; JetStream carries it further. A *mirror*
//! (run by the store's owner) publishes each stored frame to the subject
//! `<prefix>.<topic>`, and a *replica* rebuilds an exact, read-only copy of
//! the store from what one mirror published. The message format both sides
//! agree on is [`wire`].
//!
//! - `connect.rs`: reaching a server (creds file, TLS), errors with the
//!   credentials redacted.
//! - `replica.rs`: [`Replica`], following a stream into a store;
//!   `consumer.rs` its durable consumer and where it resumes; `source.rs`
//!   the store's mark of what it copies.

mod connect;
mod consumer;
mod replica;
mod source;
pub mod wire;

pub use replica::{Following, Replica};
