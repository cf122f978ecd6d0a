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
    io::{self, ErrorKind},
    path::Path,
};

use iroh::SecretKey;

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
    let hex = crate::server::token::load_or_create_secret(dir, KEY, "iroh key")?;
    let mut bytes = [0u8; 32];
    if hex.len() != 64 {
        return Err(unreadable(dir));
    }
    for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).map_err(|_| unreadable(dir))?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| unreadable(dir))?;
    }
    Ok(SecretKey::from_bytes(&bytes))
}

fn unreadable(dir: &Path) -> StoreError {
    let message = format!("{} holds no iroh key; remove it to have a new one made", dir.join(KEY).display());
    StoreError::Io(io::Error::new(ErrorKind::InvalidData, message))
}

#[cfg(test)]
mod tests {
    use std::{fs, os::unix::fs::PermissionsExt};

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
