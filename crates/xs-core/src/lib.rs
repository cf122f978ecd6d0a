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

mod cas;
mod checkpoint;
mod chunked;
mod client;
mod codec;
mod committer;
mod connection;
mod error;
mod exchange;
mod follow;
mod frame;
mod gate;
pub mod hash;
mod id;
mod journal;
#[cfg(feature = "processor")]
#[expect(clippy::result_large_err, reason = "ShellError is Nushell's error type, returned by every Command::run")]
pub mod processor;
mod published;
mod query;
mod read;
mod reader;
mod remote_reader;
mod response;
mod route;
mod scan;
mod server;
mod service;
mod socket;
mod store;
mod sweep;
mod topic;
mod ttl;
mod upload;
mod wal;
mod wire;
mod writer;

pub use cas::{CasWriter, INLINE_MAX};
pub use checkpoint::Checkpoint;
pub use client::Client;
pub use connection::{Connection, Role};
pub use error::{Result, StoreError};
pub use follow::Follow;
pub use frame::{Frame, id_time};
pub use published::RING as RECENT_FRAMES;
pub use read::{FollowOption, ReadOptions};
pub use reader::{Next, PULSE, Reader, THRESHOLD};
pub use remote_reader::RemoteReader;
pub use scru128::Scru128Id;
pub use server::{DRAIN, SOCKET, ServeOptions, Server, ServerHandle, serve};
pub use ssri::Integrity;
pub use store::{Durability, Scripts, Store};
pub use topic::{MAX_TOPIC_LEN, Pattern, TopicFilter, validate_append_topic, validate_import_topic, validate_topic};
pub use ttl::TTL;
