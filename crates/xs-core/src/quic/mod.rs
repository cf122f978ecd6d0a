//! Peer-to-peer QUIC through iroh (cargo feature `iroh`): the transport
//! under `iroh://` listeners and `iroh://<ticket>` remotes. `runtime.rs`
//! holds the process's one runtime for iroh endpoints and the ALPN;
//! `key.rs` keeps a store's endpoint key (`<store>/iroh.key`) so its
//! ticket outlives restarts; `listener.rs` binds a store's endpoint,
//! records its ticket and turns each accepted bi-directional stream into a
//! connection for the server; `duplex.rs` is that stream as one byte
//! stream; `dialer.rs` is the client's side, which hands ureq one end of a
//! socket pair per connection and carries the other end over a stream.
//!
//! The folder keeps this invariant: an iroh stream is only a byte pipe.
//! Each bi-directional stream carries exactly one HTTP/1.1 connection,
//! served and spoken by the same code as over TCP, token check included;
//! nothing here reads or writes HTTP, and the endpoint's own
//! authentication (its key) grants nothing by itself.

pub(crate) mod dialer;
pub(crate) mod duplex;
pub(crate) mod key;
pub(crate) mod listener;
pub(crate) mod runtime;
