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

mod checkpoint;
pub mod client;
pub mod connection;
pub mod dump;
mod error;
mod frame;
pub mod hash;
mod id;
#[cfg(feature = "processor")]
#[expect(clippy::result_large_err, reason = "ShellError is Nushell's error type, returned by every Command::run")]
pub mod processor;
mod read_options;
pub mod script_state;
pub mod server;
mod store;
pub mod topic;
mod ttl;

pub use checkpoint::Checkpoint;
pub use client::{Client, remote_reader::RemoteReader};
pub use connection::{Connection, Role, subscription::Subscription};
pub use error::{Result, StoreError};
pub use frame::{Frame, id_time};
pub use read_options::{FollowOption, ReadOptions};
pub use scru128::Scru128Id;
pub use server::{DRAIN, SOCKET, ServeOptions, Server, ServerHandle, serve};
pub use ssri::Integrity;
pub use store::{
    Durability, Scripts, Store,
    cas::{CasWriter, INLINE_MAX},
    live::RING as RECENT_FRAMES,
    reader::{Next, PULSE, Reader, THRESHOLD},
};
pub use topic::{MAX_TOPIC_LEN, Pattern, TopicFilter, validate_append_topic, validate_import_topic, validate_topic};
pub use ttl::TTL;
