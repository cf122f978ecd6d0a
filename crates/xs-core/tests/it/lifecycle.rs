//! Opening, locking, closing and reopening a store.

use xs_core::{ReadOptions, Store, StoreError};

use crate::common::{append, read_all};

#[test]
fn a_second_open_is_locked_until_the_first_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path()).unwrap();
    let first = append(&store, "t");
    assert!(matches!(Store::new(dir.path()), Err(StoreError::Locked { .. })));
    drop(store);
    let reopened = Store::new(dir.path()).unwrap();
    assert_eq!(read_all(&reopened, ReadOptions::default()), [first]);
}

#[test]
fn ids_keep_increasing_across_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let mut last = None;
    for _ in 0..3 {
        let store = Store::new(dir.path()).unwrap();
        for _ in 0..10 {
            let id = append(&store, "t").id;
            assert!(last < Some(id));
            last = Some(id);
        }
    }
}

#[test]
fn a_path_that_is_a_file_is_an_error() {
    let file = tempfile::NamedTempFile::new().unwrap();
    assert!(matches!(Store::new(file.path()), Err(StoreError::Io(_))));
}

#[test]
fn the_store_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let _store = Store::new(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "mode {mode:o}");
}
