//! A store's iroh key, `<store>/iroh.key`: the secret half of the
//! endpoint id in its ticket.
//!
//! The key is kept so an owner that restarts answers to the same endpoint
//! id, and its ticket (with the same port, see `listener.rs`) stays
//! valid. It is 32 random bytes from the OS as 64 hex characters, in a
//! file of mode 0600 inside the private store directory, written whole
//! beside it and then linked into place, so two owners starting at once
//! agree on one key and no reader sees a torn one. The key only proves
//! which endpoint answers; clients still present the store's token.

use std::{
    fs,
    io::{self, ErrorKind, Write},
    os::unix::fs::OpenOptionsExt,
    path::Path,
};

use iroh::SecretKey;
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Result, StoreError};

/// The key's file name inside the store directory.
pub const KEY: &str = "iroh.key";

/// The store's iroh key, created if it has none yet.
///
/// # Errors
///
/// [`StoreError::Io`] when the file cannot be read or written, or does
/// not hold 64 hex characters (remove it to have a new key made: the
/// ticket then changes).
pub(crate) fn load_or_create(dir: &Path) -> Result<SecretKey> {
    if let Some(key) = load(dir)? {
        return Ok(key);
    }
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(|_| io::Error::other("the OS gave no random bytes"))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let staged = dir.join(format!(".{KEY}-{}", std::process::id()));
    let written = write_private(&staged, &hex).and_then(|()| fs::hard_link(&staged, dir.join(KEY)));
    let _ = fs::remove_file(&staged);
    match written {
        Ok(()) => tracing::info!(store = %dir.display(), "created the store's iroh key"),
        // Another owner made it first: theirs is the key.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e.into()),
    }
    load(dir)?.ok_or_else(|| unreadable(dir))
}

/// The key in `dir`, or `None` when there is none yet.
fn load(dir: &Path) -> Result<Option<SecretKey>> {
    let text = match fs::read_to_string(dir.join(KEY)) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let text = text.trim();
    let mut bytes = [0u8; 32];
    if text.len() != 64 {
        return Err(unreadable(dir));
    }
    for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).map_err(|_| unreadable(dir))?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| unreadable(dir))?;
    }
    Ok(Some(SecretKey::from_bytes(&bytes)))
}

/// Writes `text` durably to a new file of mode 0600.
fn write_private(path: &Path, text: &str) -> io::Result<()> {
    let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn unreadable(dir: &Path) -> StoreError {
    let message = format!("{} holds no iroh key; remove it to have a new one made", dir.join(KEY).display());
    StoreError::Io(io::Error::new(ErrorKind::InvalidData, message))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let key = load_or_create(dir.path()).unwrap();
        assert_eq!(load_or_create(dir.path()).unwrap().public(), key.public());
        let mode = fs::metadata(dir.path().join(KEY)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        fs::write(dir.path().join(KEY), "zz").unwrap();
        assert!(load_or_create(dir.path()).is_err());
    }
}
