//! A store holds every payload appended to it, so only its owner may read
//! it: its directory is 0700 and refused when it is not, and every file that
//! holds payload bytes (the WAL, the CAS content) is 0600, whatever the umask.

use std::{
    io::Write,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    time::SystemTime,
};

use xs_core::{Frame, Store, StoreError, store::INLINE_MAX};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Every file and directory under `root`, with its size and modification time.
fn tree(root: &Path) -> Vec<(PathBuf, u64, SystemTime)> {
    let mut all = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let metadata = entry.metadata().unwrap();
            if metadata.is_dir() {
                dirs.push(entry.path());
            }
            all.push((entry.path(), metadata.len(), metadata.modified().unwrap()));
        }
    }
    all.sort();
    all
}

/// Opening `dir` fails with [`StoreError::Unprotected`] naming it, its
/// mode and the fix, and leaves everything in it as it was.
fn assert_refused(dir: &Path, expected_mode: u32) {
    let before = tree(dir);
    let err = Store::new(dir).err().expect("a store dir others can read is refused");
    let StoreError::Unprotected { path, mode: refused } = &err else { panic!("expected Unprotected, got {err}") };
    assert_eq!((path.as_path(), *refused), (dir, expected_mode));
    let message = err.to_string();
    assert!(message.contains(&format!("chmod 700 {}", dir.display())), "{message}");
    assert!(message.contains(&format!("{expected_mode:o}")), "{message}");
    assert_eq!(tree(dir), before, "nothing is written into a refused store dir");
    assert_eq!(mode(dir), expected_mode, "its mode is left as it was");
}

/// An empty directory holds no store yet (a fresh temporary dir is 0755
/// under the usual umask): the store is created in it, and it becomes 0700.
#[test]
fn an_empty_dir_others_can_read_becomes_a_0700_store() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("store");
    std::fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o755);
    drop(Store::new(&dir).unwrap());
    assert_eq!(mode(&dir), 0o700);
}

#[test]
fn an_existing_store_others_can_read_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path()).unwrap();
    store.append(Frame::builder("note").build()).unwrap();
    drop(store);
    for open_to in [0o755, 0o750, 0o701] {
        chmod(dir.path(), open_to);
        assert_refused(dir.path(), open_to);
    }
    chmod(dir.path(), 0o700);
    Store::new(dir.path()).expect("opens once it is 0700 again");
}

#[test]
fn a_new_store_dir_is_0700() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("new").join("store");
    drop(Store::new(&dir).unwrap());
    assert_eq!(mode(&dir), 0o700);
}

#[test]
fn files_holding_payloads_are_0600_and_cas_dirs_0700() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path()).unwrap();
    for size in [10, INLINE_MAX, INLINE_MAX + 1, 20 * 1024, 300 * 1024] {
        let mut writer = store.cas_writer();
        writer.write_all(&vec![size as u8; size]).unwrap();
        let hash = writer.commit().unwrap();
        store.append(Frame::builder("payload").hash(hash).build()).unwrap();
    }
    drop(store);
    assert_eq!(mode(&dir.path().join("wal")), 0o600, "the WAL");
    let cas = dir.path().join("cas");
    assert_eq!(mode(&cas), 0o700, "{}", cas.display());
    let mut content = 0;
    for (path, _, _) in tree(&cas) {
        if path.is_dir() {
            assert_eq!(mode(&path), 0o700, "{}", path.display());
        } else {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
            content += 1;
        }
    }
    assert_eq!(content, 3, "the three payloads over INLINE_MAX are CAS files");
}
