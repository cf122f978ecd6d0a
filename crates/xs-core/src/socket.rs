//! The owner's socket file, `<store>/sock`: created private, never stolen.
//!
//! The socket is bound under a temporary name, made mode 0600, then renamed
//! onto `<store>/sock`: no client ever sees it with looser permissions, and
//! a stale file left by a dead owner is replaced in one atomic step. A
//! socket that still answers is never replaced. On drop the file is
//! removed, but only if it is still ours.

use std::{
    fs,
    io::{self, ErrorKind},
    os::unix::{
        fs::{MetadataExt, PermissionsExt},
        net::{UnixListener, UnixStream},
    },
    path::{Path, PathBuf},
};

/// A bound socket file; removed (if still ours) when dropped.
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
    /// Device and inode of our socket, to recognize it later.
    identity: (u64, u64),
}

/// True when a server answers on `path`.
pub(crate) fn answers(path: &Path) -> bool {
    UnixStream::connect(path).is_ok()
}

/// Binds a listener on `path` with mode 0600.
///
/// # Errors
///
/// `AddrInUse` when a live server answers on `path`; io errors otherwise.
pub(crate) fn bind(path: &Path) -> io::Result<(UnixListener, SocketFile)> {
    if answers(path) {
        let message = format!("a server already answers on {}", path.display());
        return Err(io::Error::new(ErrorKind::AddrInUse, message));
    }
    let temp = path.with_file_name(format!(".sock.{}", std::process::id()));
    remove_if_exists(&temp)?;
    let listener = UnixListener::bind(&temp)?;
    let placed = fs::set_permissions(&temp, fs::Permissions::from_mode(0o600)).and_then(|()| fs::rename(&temp, path));
    if let Err(e) = placed {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    let meta = fs::symlink_metadata(path)?;
    tracing::debug!(socket = %path.display(), "socket bound");
    Ok((listener, SocketFile { path: path.to_path_buf(), identity: (meta.dev(), meta.ino()) }))
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours = fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.identity);
        if ours && let Err(e) = fs::remove_file(&self.path) {
            tracing::warn!(socket = %self.path.display(), error = %e, "could not remove the socket file");
        }
    }
}
