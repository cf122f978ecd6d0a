//! The store's token, `<store>/token`: the one secret a client of a
//! listener other than the private socket must present.
//!
//! It is 32 random bytes from the OS as 64 lowercase hex characters, no
//! newline (readers trim), in a file of mode 0600 inside the private store
//! directory: whoever can read it could open the store itself. It is made
//! on first use (an owner serving a listener, or `xs status`) and replaced
//! by [`rotate`]. Both write a fresh file beside it and then move it into
//! place, so a reader sees the old token or the new one, never a torn one;
//! two processes creating it at once agree on one token (the first link
//! wins). A running owner picks up a token rotated by another process
//! within [`RELOAD`]; one rotated through its socket at once.

use std::{
    fs,
    io::{self, ErrorKind, Write},
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Result, StoreError};

/// The token's file name inside the store directory.
pub const TOKEN: &str = "token";
/// How often a serving owner re-reads the token file.
pub const RELOAD: Duration = Duration::from_millis(500);
/// How many random bytes a token holds.
const BYTES: usize = 32;

/// The store's token, created if it has none yet.
///
/// # Errors
///
/// [`StoreError::Io`] when the file cannot be read or written, or holds
/// no token (an empty file: remove it to get a new one).
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let token = xs_core::server::token::load_or_create(dir.path())?;
/// assert_eq!(token.len(), 64);
/// assert_eq!(xs_core::server::token::load_or_create(dir.path())?, token);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_or_create(dir: &Path) -> Result<String> {
    load_or_create_secret(dir, TOKEN, "token")
}

/// The secret in `dir/name` (`what` names it in the log and errors),
/// created as a token is if there is none yet: written whole beside it,
/// then linked into place, so two processes creating it at once agree on
/// one secret (the first link wins) and no reader sees a torn one. The
/// store's iroh key is kept this way too.
///
/// # Errors
///
/// As [`load_or_create`].
pub(crate) fn load_or_create_secret(dir: &Path, name: &str, what: &str) -> Result<String> {
    if let Some(secret) = read_secret(dir, name, what)? {
        return Ok(secret);
    }
    let fresh = staged(dir, name, &generate()?)?;
    let linked = fs::hard_link(&fresh, dir.join(name));
    let _ = fs::remove_file(&fresh);
    match linked {
        Ok(()) => tracing::info!(store = %dir.display(), "created the store's {what}"),
        // Another process made it first: theirs is the secret.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e.into()),
    }
    read_secret(dir, name, what)?.ok_or_else(|| empty(dir, name, what))
}

/// Replaces the store's token with a new one and returns it. Clients
/// holding the old one are refused from then on; a running owner cuts
/// their connections when it notices (see the module docs; `POST
/// /token/rotate` on the owner's socket does it at once).
///
/// # Errors
///
/// [`StoreError::Io`] when the file cannot be written.
pub fn rotate(dir: &Path) -> Result<String> {
    let token = generate()?;
    let fresh = staged(dir, TOKEN, &token)?;
    if let Err(e) = fs::rename(&fresh, dir.join(TOKEN)) {
        let _ = fs::remove_file(&fresh);
        return Err(e.into());
    }
    fs::File::open(dir)?.sync_all()?;
    tracing::info!(store = %dir.display(), "rotated the store's token");
    Ok(token)
}

/// Asks the owner serving the store in `dir` to rotate its token (`POST
/// /token/rotate` on `<store>/sock`, the one place that route is served):
/// the owner writes a new token and cuts every connection made with the
/// old one at once. Returns the new token.
///
/// # Errors
///
/// [`StoreError::Io`] when no owner answers on the socket;
/// [`StoreError::Remote`] when it refuses.
pub fn rotate_served(dir: &Path) -> Result<String> {
    use crate::client::transport::{Link, Payload, Request, malformed};
    let request =
        Request { method: "POST", target: "/token/rotate".into(), headers: Vec::new(), payload: Payload::None };
    let link = Link::new(dir.join(crate::server::SOCKET));
    let bytes = request.send(&link, Some(Duration::from_secs(60)))?.ok()?.bytes()?;
    String::from_utf8(bytes).map(|token| token.trim().to_string()).map_err(|e| malformed(&e))
}

/// The store's token, or `None` when it has none yet.
///
/// # Errors
///
/// [`StoreError::Io`] when the file cannot be read, or is empty.
pub fn load(dir: &Path) -> Result<Option<String>> {
    read_secret(dir, TOKEN, "token")
}

/// The secret in `dir/name`, trimmed, or `None` when there is none yet.
fn read_secret(dir: &Path, name: &str, what: &str) -> Result<Option<String>> {
    match fs::read_to_string(dir.join(name)) {
        Ok(text) if text.trim().is_empty() => Err(empty(dir, name, what)),
        Ok(text) => Ok(Some(text.trim().to_string())),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// 32 random bytes from the OS, as lowercase hex.
fn generate() -> Result<String> {
    let mut bytes = [0u8; BYTES];
    SystemRandom::new().fill(&mut bytes).map_err(|_| io::Error::other("the OS gave no random bytes"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes `secret` durably to a new file of mode 0600 beside `dir/name`.
fn staged(dir: &Path, name: &str, secret: &str) -> Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!(".{name}-{}-{n}", std::process::id()));
    let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
    let written = file.write_all(secret.as_bytes()).and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&path);
        return Err(e.into());
    }
    Ok(path)
}

fn empty(dir: &Path, name: &str, what: &str) -> StoreError {
    let message = format!("{} holds no {what}; remove it to have a new one made", dir.join(name).display());
    StoreError::Io(io::Error::new(ErrorKind::InvalidData, message))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn created_once_private_and_hex() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), None);
        let token = load_or_create(dir.path()).unwrap();
        assert!(token.len() == 64 && token.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        let meta = fs::metadata(dir.path().join(TOKEN)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.len(), 64, "no newline");
        assert_eq!(load_or_create(dir.path()).unwrap(), token);
    }

    #[test]
    fn rotation_replaces_it_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let old = load_or_create(dir.path()).unwrap();
        let new = rotate(dir.path()).unwrap();
        assert_ne!(old, new);
        assert_eq!(load(dir.path()).unwrap(), Some(new));
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, [TOKEN]);
    }

    #[test]
    fn readers_trim_and_refuse_an_empty_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(TOKEN), "abc\n").unwrap();
        assert_eq!(load_or_create(dir.path()).unwrap(), "abc");
        fs::write(dir.path().join(TOKEN), "\n").unwrap();
        assert!(load_or_create(dir.path()).is_err());
    }

    #[test]
    fn racing_creators_agree() {
        let dir = tempfile::tempdir().unwrap();
        let tokens: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| load_or_create(dir.path()).unwrap())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(tokens.iter().all(|t| *t == tokens[0]));
    }
}
