//! Backward compatibility: a store written by format version 1 opens and
//! reads as it did (the model is redb's `tests/backward_compatibility.rs`).
//!
//! The bytes below are written out by hand from docs/store-format.md, not
//! produced by today's encoder, so a change of the encoding that a round
//! trip would hide (both sides changed together) fails here. The exact
//! encoder output is pinned beside the code (`store/codec.rs`,
//! `store/wal.rs`); this test pins what an old store on disk means.

use std::os::unix::fs::PermissionsExt;

use xs_core::{Frame, ReadOptions, Store, TTL, id::Scru128Id};

use crate::common::read_all;

/// A v1 frame record: version 1, TTL forever, topic `clip.add`, the hash of
/// the empty content, meta `{"k":"v"}`.
const RECORD: &[u8] = b"\x01\x01\
    \x08clip.add\
    \x33sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\
    \x09\x00\x00\x00{\"k\":\"v\"}";

const ID: &[u8; 16] = b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10";

/// A v1 WAL of epoch 0 holding one commit of that frame: its stream record
/// and its two topic index entries (`clip.add`, `clip.*`), as a crash
/// before fjall's journal reached the disk leaves it.
fn wal() -> Vec<u8> {
    let header: &[u8] = b"xs-wal\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x52\x95\xb4\x14\
        \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    // Record length 322, CRC-32 of epoch 0 (u64 LE) then the record.
    let record_head: &[u8] = b"\x42\x01\x00\x00\x2f\x6e\xfb\x17";
    let put = |table: u8, key: &[u8]| {
        let mut change = vec![table, 0];
        change.extend_from_slice(&(key.len() as u32).to_le_bytes());
        change.extend_from_slice(key);
        change.extend_from_slice(&(RECORD.len() as u32).to_le_bytes());
        change.extend_from_slice(RECORD);
        change
    };
    let mut wal = [header, record_head].concat();
    wal.extend(put(0, ID));
    wal.extend(put(1, &[&b"clip.add\x00"[..], ID].concat()));
    wal.extend(put(1, &[&b"clip.*\x00"[..], ID].concat()));
    wal.resize(1 << 20, 0);
    wal
}

#[test]
fn a_version_1_store_opens_and_reads_its_frames() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(dir.path().join("wal"), wal()).unwrap();

    let store = Store::new(dir.path()).unwrap();
    let id = Scru128Id::from_bytes(*ID);
    let expected = Frame {
        topic: "clip.add".into(),
        id,
        hash: Some("sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".parse().unwrap()),
        meta: Some(serde_json::json!({"k": "v"})),
        ttl: Some(TTL::Forever),
    };
    assert_eq!(store.get(&id).unwrap(), Some(expected.clone()));
    assert_eq!(read_all(&store, ReadOptions::default()), std::slice::from_ref(&expected));
    for topic in ["clip.add", "clip.*"] {
        let options = ReadOptions::builder().topic(topic.to_string()).build();
        assert_eq!(read_all(&store, options), std::slice::from_ref(&expected), "{topic}");
    }
    // New ids come after the old store's newest frame.
    let next = store.append(Frame::builder("clip.add").build()).unwrap();
    assert!(next.id > id);
}
