//! xs-core: a local-first event stream store.
//!
//! A store is a directory holding one append-only stream of [`Frame`]s,
//! durable on disk, with payloads in a content-addressed store (CAS) that
//! frames point at by hash. Readers replay history and can keep following
//! live appends; a following reader that falls behind catches up from disk
//! and never misses a frame.
//!
//! ```
//! use xs_core::{Frame, ReadOptions, Store};
//! # let dir = tempfile::tempdir()?;
//! let store = Store::new(dir.path())?;
//! let hash = store.cas_writer().commit()?; // an empty payload
//! store.append(Frame::builder("clip.add").hash(hash).build())?;
//! let frames: Vec<Frame> = store.reader(ReadOptions::default())?.collect::<Result<_, _>>()?;
//! assert_eq!(frames.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What it is not: a network database. One process owns a store; the
//! others reach it through the owner's unix socket.
//!
//! # Layout
//!
//! The folders are the architecture (ARCHITECTURE.md walks through them):
//!
//! - the root: the vocabulary every part speaks, `frame`, `id`, `topic`,
//!   `ttl`, `read_options`, `hash`, `script_state`, `error` and `trace`.
//! - `store/`: the storage engine, [`Store`]: group commit, the WAL, the
//!   record codec, readers, the CAS. It knows nothing of the rest.
//! - `server/`: the owner's socket server ([`server::Server`]).
//! - `client/`: the blocking client of an owner ([`client::Client`]).
//! - `connection/`: owner or client, chosen and re-chosen
//!   ([`connection::Connection`]).
//! - `dump/`: export to and import from a directory of frames and
//!   payloads, over a store or a connection ([`dump::export`]).
//! - `nu/`: the Nushell face: value conversions, argument parsing, error
//!   labels and the store commands, written once for the plugin and the
//!   processor.
//! - `processor/`: handlers and generators, run by every owner (feature
//!   `processor`).
//! - `quic/`: peer-to-peer QUIC through iroh (feature `iroh`), the
//!   transport under `iroh://` listeners and remotes.
//!
//! # The root and the modules
//!
//! The root holds what a program that embeds one store needs (the
//! reference is a clipboard app): [`Store`], [`Frame`], [`ReadOptions`],
//! [`FollowOption`], [`Reader`], [`TTL`], [`Durability`], [`StoreError`],
//! [`Result`]. Everything else is reached through its module, under one
//! name:
//!
//! - [`store`]: the rest of the store's vocabulary: [`store::Poll`] and
//!   [`store::Next`] (waiting on any read), [`store::CasWriter`],
//!   [`store::Checkpoint`], [`store::Scripts`], the read markers.
//! - [`server`]: serving a store on `<store>/sock` ([`server::serve`]).
//! - [`client`]: a store served by another process.
//! - [`connection`]: owner or client, chosen per call, with takeover.
//! - [`dump`]: export and import.
//! - [`script_state`]: where each handler and generator stands, as the
//!   processor reports it.
//! - [`nu`] (feature `nu`): the Nushell face: value conversions, argument
//!   parsing, error labels and the store commands, written once for the
//!   plugin and the processor.
//! - [`processor`] (feature `processor`): the Nushell handlers' runtime.
//! - [`topic`], [`hash`], [`id`]: validation and the id and hash types
//!   ([`id::Scru128Id`], [`hash::Integrity`], re-exported so an embedder
//!   needs no scru128 or ssri dependency of its own).
//! - [`trace`] (feature `trace`): logging set-up for the embedding program.
//!
//! # One name per operation
//!
//! [`Store`], [`client::Client`] and [`connection::Connection`] spell each
//! operation the same way: ids and hashes by reference, frames and
//! [`ReadOptions`] by value, payloads streamed as `impl Read`.
//!
//! | operation | name | note |
//! |---|---|---|
//! | append | `append(frame, …)` | a `Store` takes the frame with its hash set (payload first into the CAS); a client or connection takes the payload beside the frame, since over the socket they are one request |
//! | payload into the CAS | `cas_insert(content)` | `Store::cas_insert(bytes).await` is cross-stream's signature, async and off the runtime's workers; the others stream an `impl Read` and block; a `Store` streams with `cas_writer()` |
//! | payload out | `cas_read(&hash)`, `cas_reader(&hash)` | `cas_reader` is a `Box<dyn Read + Send>` everywhere |
//! | one frame | `get(&id)`, `remove(&id)`, `last(topic, n)` | |
//! | read | `reader(options)` | a [`Reader`], [`client::RemoteReader`] or [`connection::Subscription`]; each is an `Iterator` and a [`store::Poll`]. `Store::read(options).await` (an async channel) is cross-stream's and the store's alone |
//! | import | `import(frame)`, `import_with(frame, scripts)` | the frame by value, as in `append` |

pub mod client;
pub mod connection;
pub mod dump;
mod error;
mod frame;
pub mod hash;
pub mod id;
#[cfg(feature = "nats")]
pub mod nats;
#[cfg(feature = "nu")]
#[expect(clippy::result_large_err, reason = "ShellError is Nushell's error type, returned by its value conversions")]
pub mod nu;
#[cfg(feature = "processor")]
#[expect(clippy::result_large_err, reason = "ShellError is Nushell's error type, returned by every Command::run")]
pub mod processor;
#[cfg(feature = "iroh")]
mod quic;
mod read_options;
pub mod script_state;
pub mod server;
pub mod store;
pub mod topic;
#[cfg(feature = "trace")]
pub mod trace;
mod ttl;

pub use error::{Result, StoreError};
pub use frame::Frame;
pub use read_options::{FollowOption, ReadOptions};
pub use store::{Durability, Store, reader::Reader};
pub use ttl::TTL;
