//! The content-addressed store: hash in, identical bytes out, for every size.

use std::{
    io::{Read, Write},
    time::Duration,
};

use xs_core::{Frame, StoreError, store::INLINE_MAX};

use crate::common::store;

#[tokio::test]
async fn every_size_round_trips() {
    let (_dir, store) = store();
    for size in [0, 1, INLINE_MAX, INLINE_MAX + 1, 3 * 1024 * 1024] {
        let bytes: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
        let hash = store.cas_insert(&bytes).await.unwrap();
        assert_eq!(hash, ssri::Integrity::from(&bytes), "size {size}");
        assert_eq!(store.cas_read(&hash).unwrap(), bytes, "size {size}");
        let mut streamed = Vec::new();
        store.cas_reader(&hash).unwrap().read_to_end(&mut streamed).unwrap();
        assert_eq!(streamed, bytes, "size {size}");
    }
}

#[test]
fn a_streamed_payload_matches_the_bytes_written() {
    let (_dir, store) = store();
    let mut writer = store.cas_writer();
    let chunk = vec![42u8; 64 * 1024];
    for _ in 0..32 {
        writer.write_all(&chunk).unwrap();
    }
    let hash = writer.commit().unwrap();
    let expected = vec![42u8; 32 * 64 * 1024];
    assert_eq!(hash, ssri::Integrity::from(&expected));
    assert_eq!(store.cas_read(&hash).unwrap(), expected);
}

#[test]
fn damaged_content_is_an_error_not_wrong_bytes() {
    let (dir, store) = store();
    let mut writer = store.cas_writer();
    writer.write_all(&vec![1u8; INLINE_MAX * 2]).unwrap();
    let hash = writer.commit().unwrap();
    let (_, hex) = hash.to_hex();
    let path = dir.path().join("cas/content-v2/sha256").join(&hex[..2]).join(&hex[2..4]).join(&hex[4..]);
    std::fs::write(&path, b"tampered").unwrap();
    assert!(matches!(store.cas_read(&hash), Err(StoreError::CorruptContent { .. })));
}

#[tokio::test]
async fn sweep_removes_only_unreferenced_content_past_the_grace_period() {
    let (_dir, store) = store();
    let big = vec![7u8; INLINE_MAX + 10];
    let kept_small = store.cas_insert("referenced").await.unwrap();
    let kept_big = store.cas_insert(&big).await.unwrap();
    let orphan_small = store.cas_insert("orphan").await.unwrap();
    let orphan_big = store.cas_insert(vec![8u8; INLINE_MAX + 10]).await.unwrap();
    for hash in [&kept_small, &kept_big] {
        store.append(Frame::builder("t").hash(hash.clone()).build()).unwrap();
    }
    assert_eq!(store.cas_sweep(Duration::from_secs(3600)).unwrap(), 0, "within the grace period nothing goes");
    assert_eq!(store.cas_sweep(Duration::ZERO).unwrap(), 2);
    assert!(store.cas_contains(&kept_small).unwrap() && store.cas_contains(&kept_big).unwrap());
    assert!(!store.cas_contains(&orphan_small).unwrap() && !store.cas_contains(&orphan_big).unwrap());
    assert!(matches!(store.append(Frame::builder("t").hash(orphan_small).build()), Err(StoreError::HashNotFound(_))));
}
