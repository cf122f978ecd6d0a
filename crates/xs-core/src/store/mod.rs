//! The storage engine: one append-only stream of frames in a directory,
//! its CAS, and everything between an append and the disk, and every
//! read. The folder keeps two invariants: a commit is one WAL record, one
//! fjall batch and one sync, and a reader sees each stored frame once, in
//! id order, never before it is durable. Nothing here knows the socket or
//! Nushell.
//!
//! - `handle.rs`: [`Store`], a cheap handle (clone it freely); the last
//!   handle to go, or [`Store::close`], stops the writer and the sweeper.
//!   `open.rs` checks the directory and opens fjall.
//! - `committer.rs` elects the leader of a group commit; `writer.rs` turns
//!   a batch into changes (ids, index entries, trims, expiry, CAS sweeps);
//!   `wal.rs` makes them durable; `journal.rs` repairs fjall's journal
//!   after a power cut; `codec.rs` encodes records and keys.
//! - `live.rs` publishes what is durable (head, ring of recent frames,
//!   wake-ups); `reader.rs` and `scan.rs` read it back; `poll.rs` is the
//!   one reader trait.
//! - `cas.rs` holds payloads; `sweep.rs` expires `time:` frames;
//!   `checkpoint.rs` stores a consumer's position with its output.
//!
//! On disk (see docs/store-format.md): `<dir>/fjall` (stream, topic index,
//! expiry index, inline payloads), `<dir>/wal` (the write-ahead log whose
//! sync makes a commit durable), `<dir>/cas` (cacache content for large
//! payloads).
//!
//! [`Store`] and [`Reader`](crate::Reader) are at the crate root; what
//! only some embedders need is here: streaming payloads into the CAS
//! ([`CasWriter`]), atomic checkpoints ([`Checkpoint`]), the read markers
//! ([`THRESHOLD`], [`PULSE`]) and the reader trait ([`Poll`], [`Next`]).

pub(crate) mod cas;
pub(crate) mod checkpoint;
pub(crate) mod codec;
pub(crate) mod committer;
mod handle;
pub(crate) mod journal;
pub(crate) mod live;
mod open;
pub(crate) mod poll;
pub(crate) mod reader;
pub(crate) mod scan;
pub(crate) mod sweep;
pub(crate) mod wal;
pub(crate) mod writer;

pub use cas::{CasWriter, INLINE_MAX};
pub use checkpoint::Checkpoint;
pub(crate) use handle::REPLICA_KEY;
pub use handle::{Durability, Scripts, Store};
pub use live::RECENT_FRAMES;
pub use poll::{Next, Poll};
pub use reader::{PULSE, THRESHOLD};
