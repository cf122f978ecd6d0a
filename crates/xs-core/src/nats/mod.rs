//! NATS JetStream: mirrors of a store into a stream, and replicas out of it.
//!
//! One machine holds a store; JetStream carries it further. A *mirror*
//! (run by the store's owner) publishes each stored frame to the subject
//! `<prefix>.<topic>`, and a *replica* rebuilds an exact, read-only copy of
//! the store from what one mirror published. The message format both sides
//! agree on is [`wire`].

pub mod wire;
