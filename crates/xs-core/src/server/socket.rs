//! The owner's socket file, `<store>/sock`: created private, never stolen.
//!
//! The socket is bound inside a fresh private directory (mode 0700, e.g.
//! `<store>/.sock-<pid>-<n>/`), made mode 0600 there, then renamed onto
//! `<store>/sock`, and the directory removed. No other user can reach the
//! socket while its mode is still the umask's (they cannot enter the
//! directory), and a stale file left by a dead owner is replaced in one
//! atomic step. A socket that still answers is never replaced. On drop the
//! file is removed, but only if it is still ours.
//!
//! Binding happens with the store lock held, so a `.sock-*` entry found in
//! the store directory is a leftover of a binder that was killed, and goes.

use std::{
    fs,
    io::{self, ErrorKind},
    os::unix::{
        fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt},
        net::{UnixListener, UnixStream},
    },
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

/// The prefix of the private directories a socket is bound in.
const PRIVATE_PREFIX: &str = ".sock";

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

/// Binds a listener on `path` with mode 0600. The caller holds the store
/// lock of `path`'s directory.
///
/// # Errors
///
/// `AddrInUse` when a live server answers on `path`; io errors otherwise.
pub(crate) fn bind(path: &Path) -> io::Result<(UnixListener, SocketFile)> {
    if answers(path) {
        let message = format!("a server already answers on {}", path.display());
        return Err(io::Error::new(ErrorKind::AddrInUse, message));
    }
    let store = path.parent().ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "a socket path needs a parent"))?;
    remove_leftovers(store);
    let private = private_dir(store)?;
    let placed = bind_in(&private, path);
    if let Err(e) = fs::remove_dir_all(&private) {
        tracing::warn!(dir = %private.display(), error = %e, "could not remove the socket's private directory");
    }
    let listener = placed?;
    let meta = fs::symlink_metadata(path)?;
    tracing::debug!(socket = %path.display(), "socket bound");
    Ok((listener, SocketFile { path: path.to_path_buf(), identity: (meta.dev(), meta.ino()) }))
}

/// Binds another socket path (a `unix://` listener), with the umask's
/// mode: requests on it must present the store's token, so its reach is
/// the user's choice. A stale socket file there is replaced; a live one,
/// or any other kind of file, is left alone.
///
/// # Errors
///
/// `AddrInUse` when a server answers on `path`; io errors otherwise.
pub(crate) fn bind_shared(path: &Path) -> io::Result<(UnixListener, SocketFile)> {
    if answers(path) {
        let message = format!("a server already answers on {}", path.display());
        return Err(io::Error::new(ErrorKind::AddrInUse, message));
    }
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    let meta = fs::symlink_metadata(path)?;
    Ok((listener, SocketFile { path: path.to_path_buf(), identity: (meta.dev(), meta.ino()) }))
}

/// Creates `<store>/.sock-<pid>-<n>` with mode 0700 (a fresh name each time:
/// `create` fails rather than reuse a directory someone else made).
fn private_dir(store: &Path) -> io::Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = store.join(format!("{PRIVATE_PREFIX}-{}-{n}", std::process::id()));
    fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}

/// Binds in `private`, sets mode 0600 and moves the socket onto `path`.
fn bind_in(private: &Path, path: &Path) -> io::Result<UnixListener> {
    let temp = private.join("s");
    let listener = UnixListener::bind(&temp)?;
    fs::set_permissions(&temp, fs::Permissions::from_mode(0o600))?;
    fs::rename(&temp, path)?;
    Ok(listener)
}

/// Removes what killed binders left: private directories, and the
/// temporary sockets (`.sock.<pid>`) that earlier versions bound in place.
fn remove_leftovers(store: &Path) {
    let Ok(entries) = fs::read_dir(store) else { return };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(PRIVATE_PREFIX) {
            continue;
        }
        let path = entry.path();
        let removed = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        match removed {
            Ok(()) => tracing::debug!(leftover = %path.display(), "removed a leftover of an earlier bind"),
            Err(e) => tracing::warn!(leftover = %path.display(), error = %e, "could not remove a leftover socket"),
        }
    }
}

impl SocketFile {
    /// The socket's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
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
