//! The portable dump of a store: every frame and payload in a directory,
//! for a backup, a move to another machine, or a copy for a test.
//!
//! Plain Rust over two small traits, [`Source`] (what an export reads) and
//! [`Sink`] (what an import writes), implemented for a [`Store`] (an
//! embedder that owns it) and a [`Connection`] (owner or client, as the
//! Nushell plugin's `xs export` / `xs import` are), so every front end
//! writes and reads the same format.
//!
//! Layout of a dump directory:
//!
//! ```text
//! frames.jsonl          every stored frame, oldest first, one JSON object a line:
//!                       {"topic", "id", "hash", "meta", "ttl"} (the socket API's form)
//! cas/sha256-<hex>      each payload those frames reference, once, as raw bytes
//! ```
//!
//! An import checks every line and that every payload file is there before
//! it stores anything, then stores each payload, checking its bytes
//! against its hash, then the frames with their ids. A frame already in
//! the store unchanged is skipped, so an interrupted import can be run
//! again to finish it.
//!
//! A dump may come from anyone: its handlers, generators and modules are
//! stored inert ([`Scripts::Inert`], see [`Store::import`]) and never run,
//! unless the import is asked to trust them ([`Scripts::Run`]).
//!
//! ```
//! use xs_core::{Frame, Store, dump};
//! # let dir = tempfile::tempdir()?;
//! let store = Store::new(dir.path().join("a"))?;
//! store.append(Frame::builder("note").build())?;
//! let summary = dump::export(&store, &dir.path().join("dump"), &|| false)?;
//! assert_eq!(summary.frames, 1);
//! let copy = Store::new(dir.path().join("b"))?;
//! dump::import(&copy, &dir.path().join("dump"), xs_core::store::Scripts::Inert)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What it is not: an incremental backup. An export writes everything
//! into a new directory; an import needs a store whose frames are older
//! than the dump's (ids are kept, and a store's ids only grow).

mod export;
mod import;

use std::{
    io::{self, Read},
    path::{Path, PathBuf},
};

use scru128::Scru128Id;
use ssri::Integrity;

pub use self::{export::export, import::import};
use crate::store::Scripts;
use crate::{
    connection::Connection,
    error::{Result, StoreError},
    frame::Frame,
    read_options::ReadOptions,
    store::Store,
};

/// The frames file of a dump.
pub const FRAMES: &str = "frames.jsonl";
/// The payload directory of a dump.
pub const CAS: &str = "cas";

/// What an export or import moved.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Frames written (export) or stored (import).
    pub frames: usize,
    /// Distinct payloads written or stored.
    pub payloads: usize,
}

/// Every stored frame, oldest first, ending at the newest (no follow).
pub type Frames = Box<dyn Iterator<Item = Result<Frame>> + Send>;

/// What an export reads: the stored frames and their payloads.
pub trait Source {
    /// Every stored frame, oldest first.
    ///
    /// # Errors
    ///
    /// Io and storage errors starting the read.
    fn frames(&self) -> Result<Frames>;

    /// The content of `hash`.
    ///
    /// # Errors
    ///
    /// [`StoreError::HashNotFound`]; io errors.
    fn payload(&self, hash: &Integrity) -> Result<Box<dyn Read + Send>>;
}

/// What an import writes: payloads, and frames with their ids.
pub trait Sink {
    /// The stored frame `id`, if any (an import skips what is there).
    ///
    /// # Errors
    ///
    /// Io and storage errors.
    fn get(&self, id: &Scru128Id) -> Result<Option<Frame>>;

    /// Stores `content` in the CAS and returns its hash.
    ///
    /// # Errors
    ///
    /// Io and storage errors.
    fn put_payload(&self, content: &mut dyn Read) -> Result<Integrity>;

    /// Stores `frame` with its id; `scripts` says whether the processor may run it.
    ///
    /// # Errors
    ///
    /// As [`Store::import_with`].
    fn import(&self, frame: Frame, scripts: Scripts) -> Result<Frame>;
}

impl Source for Store {
    fn frames(&self) -> Result<Frames> {
        Ok(Box::new(self.reader(ReadOptions::default())?))
    }

    fn payload(&self, hash: &Integrity) -> Result<Box<dyn Read + Send>> {
        self.cas_reader(hash)
    }
}

impl Sink for Store {
    fn get(&self, id: &Scru128Id) -> Result<Option<Frame>> {
        Store::get(self, id)
    }

    fn put_payload(&self, content: &mut dyn Read) -> Result<Integrity> {
        let mut writer = self.cas_writer();
        io::copy(content, &mut writer)?;
        writer.commit()
    }

    fn import(&self, frame: Frame, scripts: Scripts) -> Result<Frame> {
        self.import_with(frame, scripts)
    }
}

impl Source for Connection {
    fn frames(&self) -> Result<Frames> {
        Ok(Box::new(self.reader(ReadOptions::default())?))
    }

    fn payload(&self, hash: &Integrity) -> Result<Box<dyn Read + Send>> {
        self.cas_reader(hash)
    }
}

impl Sink for Connection {
    fn get(&self, id: &Scru128Id) -> Result<Option<Frame>> {
        Connection::get(self, id)
    }

    fn put_payload(&self, content: &mut dyn Read) -> Result<Integrity> {
        self.cas_insert(content)
    }

    fn import(&self, frame: Frame, scripts: Scripts) -> Result<Frame> {
        self.import_with(frame, scripts)
    }
}

/// `cas/<algorithm>-<hex digest>`: a file name safe on every platform.
fn payload_path(dir: &Path, hash: &Integrity) -> PathBuf {
    let (algorithm, hex) = hash.to_hex();
    dir.join(CAS).join(format!("{algorithm}-{hex}"))
}

/// An io error that names the file it is about.
fn at(path: &Path, e: io::Error) -> StoreError {
    StoreError::Io(io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_files_are_named_by_hex_digest() {
        let hash: Integrity = "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=".parse().unwrap();
        let path = payload_path(Path::new("/d"), &hash);
        assert_eq!(path, Path::new("/d/cas/sha256-2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
    }
}
