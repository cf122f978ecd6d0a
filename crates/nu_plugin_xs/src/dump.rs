//! The portable dump of a store: what `xs export` writes and `xs import`
//! reads. Plain Rust over [`Backend`]; the commands only convert.
//!
//! Layout of a dump directory:
//!
//! ```text
//! frames.jsonl          every stored frame, oldest first, one JSON object a line:
//!                       {"topic", "id", "hash", "meta", "ttl"} (the socket API's form)
//! cas/sha256-<hex>      each payload those frames reference, once, as raw bytes
//! ```
//!
//! An import stores every payload first, checking it against its hash,
//! then the frames with their ids. Nothing is imported unless every
//! payload is present and intact. A frame already in the store unchanged is
//! skipped, so an interrupted import can be run again to finish it.
//!
//! A dump may come from anyone: its handlers, generators and modules are
//! stored inert ([`Scripts::Inert`], see `Store::import`) and never run,
//! unless the import is asked to trust them ([`Scripts::Run`],
//! `xs import --with-scripts`).

use std::{
    fs::{self, File},
    io::{self, BufRead, BufReader, BufWriter, Write},
    path::{Path, PathBuf},
    time::Duration,
};

use nu_protocol::Signals;
use xs_core::{
    Frame, ReadOptions, Result, StoreError,
    hash::Integrity,
    store::{Next, Poll, Scripts},
};

use crate::backend::Backend;

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

/// Writes every stored frame of `backend` and their payloads to `dir`,
/// which must not exist or be empty.
///
/// # Errors
///
/// `dir` holds files already; io and store errors; [`StoreError::Closed`]
/// when interrupted.
pub fn export(backend: &Backend, dir: &Path, signals: &Signals) -> Result<Summary> {
    prepare(dir)?;
    let mut frames = BufWriter::new(File::create(dir.join(FRAMES)).map_err(|e| at(dir.join(FRAMES), e))?);
    let mut summary = Summary::default();
    let mut source = backend.read(ReadOptions::default())?;
    loop {
        if signals.interrupted() {
            return Err(StoreError::Closed);
        }
        let frame = match source.poll(Duration::from_millis(100))? {
            Next::Frame(frame) => frame,
            Next::Idle => continue,
            Next::End => break,
        };
        if let Some(hash) = &frame.hash {
            summary.payloads += usize::from(export_payload(backend, dir, hash)?);
        }
        serde_json::to_writer(&mut frames, &frame).map_err(io::Error::from)?;
        frames.write_all(b"\n")?;
        summary.frames += 1;
    }
    frames.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()?;
    Ok(summary)
}

/// Stores the dump in `dir` into `backend`, keeping ids and bytes;
/// `scripts` says whether its handlers, generators and modules may run.
///
/// # Errors
///
/// A missing or damaged payload, a malformed line (both before any frame
/// is stored), a frame the store refuses (an id not above its newest);
/// io and store errors.
pub fn import(backend: &Backend, dir: &Path, scripts: Scripts) -> Result<Summary> {
    let frames = read_frames(dir)?;
    let mut summary = Summary::default();
    let mut stored = std::collections::HashSet::new();
    for hash in frames.iter().filter_map(|f| f.hash.as_ref()) {
        if stored.insert(hash.to_string()) {
            import_payload(backend, dir, hash)?;
            summary.payloads += 1;
        }
    }
    for frame in frames {
        if backend.get(&frame.id)?.as_ref() != Some(&frame) {
            backend.import(frame, scripts)?;
            summary.frames += 1;
        }
    }
    Ok(summary)
}

/// Creates `dir`, or checks it is an empty directory.
fn prepare(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| at(dir.to_path_buf(), e))?;
    if fs::read_dir(dir)?.next().is_some() {
        let message = format!("{} is not empty: export into a new directory", dir.display());
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, message).into());
    }
    fs::create_dir(dir.join(CAS))?;
    Ok(())
}

/// Writes the payload of `hash` unless an earlier frame did; true if written.
fn export_payload(backend: &Backend, dir: &Path, hash: &Integrity) -> Result<bool> {
    let path = payload_path(dir, hash);
    if path.exists() {
        return Ok(false);
    }
    let mut file = File::create(&path).map_err(|e| at(path.clone(), e))?;
    io::copy(&mut backend.cas_reader(hash)?, &mut file)?;
    file.sync_all()?;
    Ok(true)
}

/// Stores the payload file of `hash`, checking the bytes against it.
fn import_payload(backend: &Backend, dir: &Path, hash: &Integrity) -> Result<()> {
    let path = payload_path(dir, hash);
    let mut file = File::open(&path).map_err(|e| at(path.clone(), e))?;
    let got = backend.cas_put(&mut file)?;
    if hash.matches(&got).is_none() {
        return Err(StoreError::CorruptContent {
            hash: hash.to_string(),
            reason: format!("{} holds content whose hash is {got}", path.display()),
        });
    }
    Ok(())
}

/// Every frame of the dump, checked before anything is stored.
fn read_frames(dir: &Path) -> Result<Vec<Frame>> {
    let path = dir.join(FRAMES);
    let file = File::open(&path).map_err(|e| at(path.clone(), e))?;
    let mut frames = Vec::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let frame: Frame = serde_json::from_str(&line).map_err(|e| {
            at(path.clone(), io::Error::new(io::ErrorKind::InvalidData, format!("line {}: {e}", n + 1)))
        })?;
        if let Some(hash) = &frame.hash
            && !payload_path(dir, hash).is_file()
        {
            return Err(StoreError::HashNotFound(format!("{hash} (no file {})", payload_path(dir, hash).display())));
        }
        frames.push(frame);
    }
    Ok(frames)
}

/// `cas/<algorithm>-<hex digest>`: a file name safe on every platform.
fn payload_path(dir: &Path, hash: &Integrity) -> PathBuf {
    let (algorithm, hex) = hash.to_hex();
    dir.join(CAS).join(format!("{algorithm}-{hex}"))
}

/// An io error that names the file it is about.
fn at(path: PathBuf, e: io::Error) -> StoreError {
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
