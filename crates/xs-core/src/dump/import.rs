//! Reading a dump back: all checks first, then payloads, then frames.
//!
//! The order keeps a failed import from leaving half a dump behind: a
//! malformed line or a missing payload file is found before anything is
//! stored, and a payload whose bytes do not match its hash is found before
//! any frame is stored (payloads alone are invisible: the CAS sweep
//! removes what no frame references).

use std::{
    collections::HashSet,
    fs::File,
    io::{self, BufRead, BufReader},
    path::Path,
};

use ssri::Integrity;

use crate::{
    dump::{FRAMES, Sink, Summary, at, payload_path},
    error::{Result, StoreError},
    frame::Frame,
    store::Scripts,
};

/// Stores the dump in `dir` into `sink`, keeping ids and bytes;
/// `scripts` says whether its handlers, generators and modules may run.
///
/// # Errors
///
/// A malformed line or a missing payload file (before anything is
/// stored); a damaged payload, [`StoreError::CorruptContent`] (before any
/// frame is stored); a frame the store refuses (an id not above its
/// newest, a reserved topic); io and store errors.
///
/// # Examples
///
/// See [the module docs](crate::dump).
pub fn import(sink: &impl Sink, dir: &Path, scripts: Scripts) -> Result<Summary> {
    let frames = read_frames(dir)?;
    let mut summary = Summary::default();
    let mut stored = HashSet::new();
    for hash in frames.iter().filter_map(|f| f.hash.as_ref()) {
        if stored.insert(hash.to_string()) {
            store_payload(sink, dir, hash)?;
            summary.payloads += 1;
        }
    }
    for frame in frames {
        if sink.get(&frame.id)?.as_ref() != Some(&frame) {
            sink.import(frame, scripts)?;
            summary.frames += 1;
        }
    }
    Ok(summary)
}

/// Stores the payload file of `hash`, checking the bytes against it.
fn store_payload(sink: &impl Sink, dir: &Path, hash: &Integrity) -> Result<()> {
    let path = payload_path(dir, hash);
    let mut file = File::open(&path).map_err(|e| at(&path, e))?;
    let got = sink.put_payload(&mut file)?;
    if hash.matches(&got).is_none() {
        return Err(StoreError::CorruptContent {
            hash: hash.to_string(),
            reason: format!("{} holds content whose hash is {got}", path.display()),
        });
    }
    Ok(())
}

/// Every frame of the dump, each line parsed and its payload file found.
fn read_frames(dir: &Path) -> Result<Vec<Frame>> {
    let path = dir.join(FRAMES);
    let file = File::open(&path).map_err(|e| at(&path, e))?;
    let mut frames = Vec::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line?;
        if !line.trim().is_empty() {
            frames.push(parse_line(dir, &path, n + 1, &line)?);
        }
    }
    Ok(frames)
}

/// Line `n` of `path`: a frame whose payload file exists.
fn parse_line(dir: &Path, path: &Path, n: usize, line: &str) -> Result<Frame> {
    let frame: Frame = serde_json::from_str(line)
        .map_err(|e| at(path, io::Error::new(io::ErrorKind::InvalidData, format!("line {n}: {e}"))))?;
    if let Some(hash) = &frame.hash
        && !payload_path(dir, hash).is_file()
    {
        return Err(StoreError::HashNotFound(format!("{hash} (no file {})", payload_path(dir, hash).display())));
    }
    Ok(frame)
}
