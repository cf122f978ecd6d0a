//! `xs_core::dump` from Rust: a store exported and imported into another
//! keeps every id and byte; an import checks everything before it stores
//! anything, can be run again, and refuses a dump it cannot trust.

use std::path::{Path, PathBuf};

use xs_core::{
    Frame, ReadOptions, Store, StoreError,
    connection::Connection,
    dump::{self, Summary},
    store::Scripts,
};

use crate::{
    common::read_all,
    processor::common::{append_with, frames, lifecycle, register},
};

/// A store holding frames with and without payloads, one payload twice.
fn source(dir: &Path) -> Store {
    let store = Store::new(dir.join("src")).unwrap();
    append_with(&store, "clip", "a");
    append_with(&store, "clip", "a");
    let big: String = (0..100_000u32).map(|n| char::from(b'a' + (n % 26) as u8)).collect();
    append_with(&store, "big", &big);
    store.append(Frame::builder("none").meta(serde_json::json!({"m": 1})).build()).unwrap();
    store
}

/// Every stored frame with its payload bytes.
fn contents(store: &Store) -> Vec<(Frame, Option<Vec<u8>>)> {
    let frames = read_all(store, ReadOptions::default());
    frames.into_iter().map(|f| (f.clone(), f.hash.as_ref().map(|h| store.cas_read(h).unwrap()))).collect()
}

fn exported(dir: &Path) -> (Store, PathBuf) {
    let store = source(dir);
    let out = dir.join("dump");
    assert_eq!(dump::export(&store, &out, &|| false).unwrap(), Summary { frames: 4, payloads: 2 });
    (store, out)
}

#[test]
fn round_trip_keeps_ids_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (store, out) = exported(dir.path());
    let copy = Store::new(dir.path().join("copy")).unwrap();
    assert_eq!(dump::import(&copy, &out, Scripts::Inert).unwrap(), Summary { frames: 4, payloads: 2 });
    assert_eq!(contents(&copy), contents(&store));
}

#[test]
fn a_connection_exports_and_imports_as_a_store_does() {
    let dir = tempfile::tempdir().unwrap();
    let (store, out) = exported(dir.path());
    let connection = Connection::open(dir.path().join("copy")).unwrap();
    assert_eq!(dump::import(&connection, &out, Scripts::Inert).unwrap(), Summary { frames: 4, payloads: 2 });
    let again = dir.path().join("again");
    assert_eq!(dump::export(&connection, &again, &|| false).unwrap(), Summary { frames: 4, payloads: 2 });
    let frames = |d: &Path| std::fs::read(d.join(dump::FRAMES)).unwrap();
    assert_eq!(frames(&again), frames(&out));
    drop(store);
}

#[test]
fn a_damaged_payload_is_refused_with_no_frame_stored_and_a_rerun_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, out) = exported(dir.path());
    let file = std::fs::read_dir(out.join(dump::CAS)).unwrap().next().unwrap().unwrap().path();
    let saved = std::fs::read(&file).unwrap();
    std::fs::write(&file, b"tampered").unwrap();
    let copy = Store::new(dir.path().join("copy")).unwrap();
    let refused = dump::import(&copy, &out, Scripts::Inert).unwrap_err();
    assert!(matches!(refused, StoreError::CorruptContent { .. }), "{refused}");
    assert!(read_all(&copy, ReadOptions::default()).is_empty());
    std::fs::write(&file, saved).unwrap();
    assert_eq!(dump::import(&copy, &out, Scripts::Inert).unwrap().frames, 4);
    assert_eq!(dump::import(&copy, &out, Scripts::Inert).unwrap().frames, 0, "a rerun skips what is there");
    assert_eq!(read_all(&copy, ReadOptions::default()).len(), 4);
}

#[test]
fn a_dump_with_a_bad_hash_is_refused_before_anything_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, out) = exported(dir.path());
    let lines = std::fs::read_to_string(out.join(dump::FRAMES)).unwrap();
    let copy = Store::new(dir.path().join("copy")).unwrap();
    // A hash that is no sha256 digest, on the last line: the first lines are fine.
    let bad = r#"{"topic":"x","id":"03d4q1qhbiv09ovtuhokw5yxv","hash":"sha256-../../etc/passwd"}"#;
    std::fs::write(out.join(dump::FRAMES), format!("{lines}{bad}\n")).unwrap();
    let refused = dump::import(&copy, &out, Scripts::Inert).unwrap_err();
    assert!(refused.to_string().contains("line 5"), "{refused}");
    // A well-formed hash with no payload file.
    let missing = r#"{"topic":"x","id":"03d4q1qhbiv09ovtuhokw5yxv","hash":"sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="}"#;
    std::fs::write(out.join(dump::FRAMES), format!("{lines}{missing}\n")).unwrap();
    assert!(matches!(dump::import(&copy, &out, Scripts::Inert), Err(StoreError::HashNotFound(_))));
    assert!(read_all(&copy, ReadOptions::default()).is_empty());
}

#[test]
fn an_export_refuses_a_used_directory_and_stops_when_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let (store, out) = exported(dir.path());
    let used = dump::export(&store, &out, &|| false).unwrap_err();
    assert!(used.to_string().contains("not empty"), "{used}");
    let stopped = dump::export(&store, &dir.path().join("stopped"), &|| true);
    assert!(matches!(&stopped, Err(StoreError::Io(e)) if e.kind() == std::io::ErrorKind::Interrupted), "{stopped:?}");
}

#[test]
fn imported_scripts_stay_inert_unless_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("src")).unwrap();
    let processor = xs_core::processor::Processor::spawn(store.clone()).unwrap();
    let script = "{run: {|frame, state| {out: {seen: true}, next: null}}, topics: [t]}";
    let reg = register(&store, "imp", script);
    lifecycle(&store, "imp", "active", reg.id);
    processor.shutdown();
    dump::export(&store, &dir.path().join("dump"), &|| false).unwrap();
    let copy = Store::new(dir.path().join("copy")).unwrap();
    dump::import(&copy, &dir.path().join("dump"), Scripts::Inert).unwrap();
    let imported = frames(&copy, "xs.handler.imp.register");
    assert!(copy.is_inert(&imported[0].id).unwrap());
    let trusted = Store::new(dir.path().join("trusted")).unwrap();
    dump::import(&trusted, &dir.path().join("dump"), Scripts::Run).unwrap();
    assert!(!trusted.is_inert(&imported[0].id).unwrap());
}
