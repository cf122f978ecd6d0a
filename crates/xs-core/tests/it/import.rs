//! `Store::import`: a frame stored with its own id (the other half of an
//! export), only above every id the store has issued.

use xs_core::{FollowOption, Frame, ReadOptions, StoreError, TTL};

use crate::common::{append, read_all, store, take};

#[test]
fn keeps_ids_and_payloads_and_ids_keep_rising() {
    let (_src_dir, src) = store();
    let hash = src.cas_writer().commit().unwrap();
    let a = src.append(Frame::builder("a").hash(hash.clone()).meta(serde_json::json!({"k": 1})).build()).unwrap();
    let b = src.append(Frame::builder("b").ttl(TTL::Last(3)).build()).unwrap();

    let (_dir, dst) = store();
    let mut follower = dst.reader(ReadOptions::builder().follow(FollowOption::On).build()).unwrap();
    take(&mut follower, 1); // xs.threshold
    dst.cas_writer().commit().unwrap();
    assert_eq!(dst.import(a.clone()).unwrap(), a);
    assert_eq!(dst.import(b.clone()).unwrap(), b);
    assert_eq!(read_all(&dst, ReadOptions::default()), vec![a.clone(), b.clone()]);
    assert_eq!(take(&mut follower, 2), vec![a, b.clone()]);
    assert!(append(&dst, "c").id > b.id);
}

#[test]
fn refuses_ids_not_above_the_newest() {
    let (_dir, store) = store();
    let older = Frame::builder("old").id(scru128::new()).build();
    let newest = append(&store, "new");
    for frame in [older, newest.clone()] {
        assert!(matches!(store.import(frame), Err(StoreError::NotImportable { .. })));
    }
    assert_eq!(read_all(&store, ReadOptions::default()), vec![newest]);
}

#[test]
fn refuses_ephemeral_frames_and_missing_payloads() {
    let (_dir, store) = store();
    let ephemeral = Frame::builder("e").id(scru128::new()).ttl(TTL::Ephemeral).build();
    assert!(matches!(store.import(ephemeral), Err(StoreError::NotImportable { .. })));
    let hash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".parse().unwrap();
    let orphan = Frame::builder("o").id(scru128::new()).hash(hash).build();
    assert!(matches!(store.import(orphan), Err(StoreError::HashNotFound(_))));
    assert!(read_all(&store, ReadOptions::default()).is_empty());
}
