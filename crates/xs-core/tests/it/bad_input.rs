//! Bad input gets a clear error and leaves the store as it was.

use xs_core::{Frame, ReadOptions, Store, StoreError, TTL, id::Scru128Id};

use crate::common::{append, read_all, store};

fn assert_unchanged(store: &Store, before: &[Frame]) {
    assert_eq!(read_all(store, ReadOptions::default()), before);
}

#[test]
fn invalid_topics_are_rejected() {
    let (_dir, store) = store();
    let before = vec![append(&store, "ok")];
    let long = "a".repeat(256);
    for topic in ["", long.as_str(), "1abc", "a..b", "a.", "a b", "a,b", ".a", "a*"] {
        let err = store.append(Frame::builder(topic).build()).unwrap_err();
        assert!(matches!(err, StoreError::InvalidTopic { .. }), "{topic:?}: {err}");
        assert!(err.to_string().contains("invalid topic"), "{err}");
    }
    for pattern in ["a..*", "*.a", "1.*", "a b"] {
        let err = store.reader(ReadOptions::builder().topic(pattern.into()).build()).err();
        assert!(matches!(err, Some(StoreError::InvalidTopic { .. })), "{pattern:?}");
        assert!(store.last(pattern, 1).is_err());
    }
    assert_unchanged(&store, &before);
}

#[test]
fn invalid_ttls_are_rejected() {
    for ttl in ["", "never", "time:", "time:abc", "time:-5", "last:0", "last:-1", "last:many", "ephemeral:1"] {
        let err = ttl.parse::<TTL>().unwrap_err();
        assert!(matches!(err, StoreError::InvalidTtl { .. }), "{ttl:?}");
        assert!(err.to_string().contains("invalid TTL"));
    }
}

#[test]
fn unknown_ids_are_not_found() {
    let (_dir, store) = store();
    let before = vec![append(&store, "t")];
    let unknown = scru128::new();
    assert_eq!(store.get(&unknown).unwrap(), None);
    assert!(matches!(store.remove(&unknown), Err(StoreError::NotFound(id)) if id == unknown));
    assert!("not-an-id".parse::<Scru128Id>().is_err());
    assert_unchanged(&store, &before);
}

#[test]
fn a_missing_hash_is_rejected() {
    let (_dir, store) = store();
    let before = vec![append(&store, "t")];
    let hash = ssri::Integrity::from(b"never stored");
    let err = store.append(Frame::builder("t").hash(hash.clone()).build()).unwrap_err();
    assert!(matches!(err, StoreError::HashNotFound(h) if h == hash.to_string()));
    assert!(matches!(store.cas_read(&hash), Err(StoreError::HashNotFound(_))));
    assert_unchanged(&store, &before);
}

#[test]
fn meta_that_is_not_an_object_is_rejected() {
    let (_dir, store) = store();
    let before = vec![append(&store, "t")];
    for meta in [serde_json::json!(1), serde_json::json!("x"), serde_json::json!([1]), serde_json::Value::Null] {
        let err = store.append(Frame::builder("t").meta(meta).build()).unwrap_err();
        assert!(matches!(err, StoreError::InvalidMeta { .. }), "{err}");
    }
    assert_unchanged(&store, &before);
}

#[test]
fn a_corrupt_record_is_an_error_naming_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let (good, bad) = {
        let store = Store::new(dir.path()).unwrap();
        (append(&store, "t"), append(&store, "t"))
    };
    // A reopen replays the write-ahead log into fjall and empties it, so the
    // damage done below is not overwritten by a replay.
    drop(Store::new(dir.path()).unwrap());
    {
        let db = fjall::Database::builder(dir.path().join("fjall")).open().unwrap();
        let stream = db.keyspace("stream", fjall::KeyspaceCreateOptions::default).unwrap();
        stream.insert(bad.id.to_bytes(), [1u8, 9, 9]).unwrap();
        db.persist(fjall::PersistMode::SyncAll).unwrap();
    }
    let store = Store::new(dir.path()).unwrap();
    assert_eq!(store.get(&good.id).unwrap(), Some(good));
    let err = store.get(&bad.id).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { id, .. } if id == bad.id), "{err}");
    assert!(err.to_string().contains(&bad.id.to_string()));
    let results: Vec<_> = store.reader(ReadOptions::default()).unwrap().collect();
    assert!(matches!(results.last(), Some(Err(StoreError::Corrupt { id, .. })) if *id == bad.id));
}
