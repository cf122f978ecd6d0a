//! Opening a store's directory: it must be private to its owner, and
//! fjall's journal may need repair after a power cut before fjall opens.

use std::path::Path;

use fjall::Database;

use crate::error::{Result, StoreError};

/// Opens fjall in `<store>/fjall`. When its journal ends in a batch that
/// parses but does not check, as a power cut can leave it, the journal is
/// cut there and fjall opened again: the WAL, replayed next, holds every
/// commit the cut takes (see journal.rs).
pub(super) fn open_database(path: &Path) -> Result<Database> {
    let open = || Database::builder(path.join("fjall")).worker_threads(2).manual_journal_persist(true).open();
    let db = match open() {
        Err(fjall::Error::JournalRecovery(reason)) => match crate::store::journal::cut_damaged_tail(path)? {
            Some(_) => open(),
            None => Err(fjall::Error::JournalRecovery(reason)),
        },
        other => other,
    };
    db.map_err(|e| match e {
        fjall::Error::Locked => StoreError::Locked { path: path.to_path_buf() },
        e => e.into(),
    })
}

/// Creates the store directory `path` readable by its owner only (0700), or
/// checks that an existing one is: a store holds every payload appended to
/// it, so one that group or others can reach is refused, not tightened
/// behind its owner's back. An empty directory (a fresh temporary one, say)
/// holds no store yet: it becomes one, 0700, as a new directory does.
pub(super) fn create_private_dir(path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !path.exists() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path)?;
    }
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_dir() {
        return Err(StoreError::Io(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            format!("{} is not a directory", path.display()),
        )));
    }
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    if std::fs::read_dir(path)?.next().is_some() {
        return Err(StoreError::Unprotected { path: path.to_path_buf(), mode });
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(Into::into)
}
