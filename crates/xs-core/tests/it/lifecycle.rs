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

/// An id a day ahead of the clock: what the store holds after the clock steps back a day.
fn tomorrow() -> xs_core::id::Scru128Id {
    xs_core::id::Scru128Id::try_from_fields(scru128::new().timestamp() + 86_400_000, 0, 0, 0).unwrap()
}

/// Writes `value` at `key` of keyspace `name`, behind the store's back.
fn plant(dir: &std::path::Path, name: &str, key: impl AsRef<[u8]>, value: &[u8]) {
    let db = fjall::Database::builder(dir.join("fjall")).open().unwrap();
    db.keyspace(name, fjall::KeyspaceCreateOptions::default).unwrap().insert(key.as_ref(), value).unwrap();
    db.persist(fjall::PersistMode::SyncAll).unwrap();
}

#[test]
fn ids_are_clamped_above_a_stored_id_from_the_future() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::new(dir.path()).unwrap());
    let future = tomorrow();
    // A version-1 record of topic "t" with no ttl, hash or meta.
    plant(dir.path(), "stream", future.to_bytes(), &[1, 0, 1, b't', 0, 0, 0, 0, 0]);
    let store = Store::new(dir.path()).unwrap();
    let (a, b) = (append(&store, "t").id, append(&store, "t").id);
    assert!(future < a && a < b, "{future} {a} {b}");
}

#[test]
fn ids_are_clamped_above_the_highest_id_ever_issued() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::new(dir.path()).unwrap());
    let future = tomorrow();
    plant(dir.path(), "meta", "last_id", &future.to_bytes());
    let store = Store::new(dir.path()).unwrap();
    let next = append(&store, "t").id;
    assert!(next > future, "{future} {next}");
    store.remove(&next).unwrap();
    drop(store);
    let store = Store::new(dir.path()).unwrap();
    assert!(append(&store, "t").id > next, "a removed newest id is never reissued");
}

#[test]
fn an_ephemeral_newest_id_is_never_reissued() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::new(dir.path()).unwrap());
    plant(dir.path(), "meta", "last_id", &tomorrow().to_bytes());
    let store = Store::new(dir.path()).unwrap();
    let ephemeral = store.append(xs_core::Frame::builder("t").ttl(xs_core::TTL::Ephemeral).build()).unwrap().id;
    drop(store);
    let store = Store::new(dir.path()).unwrap();
    assert!(append(&store, "t").id > ephemeral, "nothing stored holds the ephemeral id; the high-water mark must");
}
