//! NATS JetStream: mirrors of a store into a stream, and replicas out of it.
//!
//! One machine holds a store; JetStream carries it further. A *mirror*
//! (run by the store's owner) publishes each stored frame to the subject
//! `<prefix>.<topic>`, and a *replica* rebuilds an exact, read-only copy of
//! the store from what one mirror published. The message format both sides
//! agree on is [`wire`].
//!
//! | file | holds |
//! |---|---|
//! | `wire.rs` | one frame as one message: subject, body, `Xs-*` headers |
//! | `connect.rs` | reaching a server (creds file, URL credentials, TLS), errors with the credentials redacted |
//! | `config.rs` | a mirror's config record (the register frame's meta), checked |
//! | `target.rs` | the stream (created or widened), its newest frame, the payload bucket |
//! | `feed.rs` | the store side: frames after the resume point, payloads loaded, on a thread |
//! | `publish.rs` | publishes with a window of acks in flight; the acknowledged prefix |
//! | `resume.rs` | the durable position and the resume rule |
//! | `mirror.rs` | one run of a mirror: connect, resume, publish until stopped or failed |
//! | `replica.rs` | [`Replica`], following a stream into a read-only store |
//! | `consumer.rs` | the replica's durable consumer and where it resumes |
//! | `source.rs` | the replica store's mark of what it copies |
//!
//! The processor runs mirrors (`processor/mirror.rs`) with the
//! generators' lifecycle and backoff.

pub mod config;
pub mod connect;
mod consumer;
pub mod feed;
pub(crate) mod mirror;
pub mod publish;
mod replica;
pub mod resume;
mod source;
pub mod target;
pub mod wire;

pub use replica::{Following, Replica};
