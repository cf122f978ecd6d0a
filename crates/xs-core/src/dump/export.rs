//! Writing a dump: every stored frame to `frames.jsonl`, each payload
//! once to `cas/`, all synced before the export reports success.

use std::{
    fs::{self, File},
    io::{self, BufWriter, Write},
    path::Path,
};

use ssri::Integrity;

use crate::{
    dump::{CAS, FRAMES, Source, Summary, at, payload_path},
    error::Result,
};

/// Writes every stored frame of `source` and their payloads to `dir`,
/// which must not exist or be empty. `interrupted` is asked before each
/// frame (a shell's Ctrl-C); `&|| false` never stops.
///
/// # Errors
///
/// `dir` holds files already; io and store errors; [`StoreError::Io`](crate::StoreError::Io) of
/// kind `Interrupted` when interrupted (the directory then holds a partial
/// dump).
///
/// # Examples
///
/// See [the module docs](crate::dump).
pub fn export(source: &impl Source, dir: &Path, interrupted: &dyn Fn() -> bool) -> Result<Summary> {
    prepare(dir)?;
    let path = dir.join(FRAMES);
    let mut frames = BufWriter::new(File::create(&path).map_err(|e| at(&path, e))?);
    let mut summary = Summary::default();
    for frame in source.frames()? {
        if interrupted() {
            let stopped =
                io::Error::new(io::ErrorKind::Interrupted, "the export was interrupted; the dump is incomplete");
            return Err(stopped.into());
        }
        let frame = frame?;
        if let Some(hash) = &frame.hash {
            summary.payloads += usize::from(write_payload(source, dir, hash)?);
        }
        serde_json::to_writer(&mut frames, &frame).map_err(io::Error::from)?;
        frames.write_all(b"\n")?;
        summary.frames += 1;
    }
    frames.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()?;
    Ok(summary)
}

/// Creates `dir` and its `cas/`, or checks it is an empty directory.
fn prepare(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| at(dir, e))?;
    if fs::read_dir(dir)?.next().is_some() {
        let message = format!("{} is not empty: export into a new directory", dir.display());
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, message).into());
    }
    fs::create_dir(dir.join(CAS))?;
    Ok(())
}

/// Writes the payload of `hash` unless an earlier frame did; true if written.
fn write_payload(source: &impl Source, dir: &Path, hash: &Integrity) -> Result<bool> {
    let path = payload_path(dir, hash);
    if path.exists() {
        return Ok(false);
    }
    let mut file = File::create(&path).map_err(|e| at(&path, e))?;
    io::copy(&mut source.payload(hash)?, &mut file)?;
    file.sync_all()?;
    Ok(true)
}
