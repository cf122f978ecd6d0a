//! Hashes: only one sha256 digest in normal form enters the store, at
//! every entry point, and a bad one never reaches a commit.

use std::time::{Duration, Instant};

use xs_core::{Frame, ReadOptions, Store, StoreError};

use crate::{
    common::{append, read_all, store},
    server::{http, serve},
};

const GOOD: &str = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

/// Strings ssri parses into an `Integrity` that the store cannot use.
fn unusable() -> Vec<String> {
    vec![
        "sha256-!!!".into(),
        "sha256-AAAA".into(),
        "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=".into(),
        [GOOD; 6].join(" "),
        format!("{GOOD} sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk="),
        format!("{GOOD} {}", "sha256-".to_string() + &"A".repeat(300)),
    ]
}

#[test]
fn the_rust_api_refuses_unusable_hashes_before_touching_the_store() {
    let (_dir, store) = store();
    let before = vec![append(&store, "t")];
    for text in unusable() {
        let hash: ssri::Integrity = text.parse().expect("ssri parses it");
        let frame = Frame::builder("t").hash(hash.clone()).build();
        for result in [store.append(frame.clone()).map(drop), store.import(frame).map(drop)] {
            assert!(matches!(result, Err(StoreError::InvalidHash { .. })), "{text:?}: {result:?}");
        }
        assert!(matches!(store.cas_read(&hash), Err(StoreError::InvalidHash { .. })), "{text:?}");
        assert!(matches!(store.cas_contains(&hash), Err(StoreError::InvalidHash { .. })), "{text:?}");
        assert!(store.cas_reader(&hash).is_err(), "{text:?}");
    }
    assert_eq!(read_all(&store, ReadOptions::default()), before);
}

#[test]
fn a_stored_hash_is_in_normal_form() {
    let (_dir, store) = store();
    let hash = futures_executor(store.cas_insert(b""));
    assert_eq!(hash.to_string(), GOOD);
    let frame = store.append(Frame::builder("t").hash(xs_core::hash::parse(&format!("  {GOOD}\n")).unwrap()).build());
    assert_eq!(frame.unwrap().hash.map(|h| h.to_string()).as_deref(), Some(GOOD));
}

#[test]
fn a_frame_in_json_with_a_bad_hash_does_not_deserialize() {
    for text in unusable().into_iter().chain(["".to_string(), format!("{GOOD}-x")]) {
        let json = serde_json::json!({"topic": "t", "hash": text});
        let parsed = serde_json::from_value::<Frame>(json);
        let error = parsed.expect_err(&text).to_string();
        assert!(error.contains("invalid hash"), "{text:?}: {error}");
    }
}

/// The malformed import that used to panic the committing thread, and
/// wedge every later append, is refused; the next append completes at once.
#[test]
fn a_malformed_import_over_the_socket_is_refused_and_wedges_nothing() {
    let served = serve();
    let sock = served.socket();
    let mut texts = unusable();
    texts.push(String::new());
    for (n, text) in texts.iter().enumerate() {
        let id = xs_core::id::Scru128Id::from_u128(1000 + n as u128);
        let body = serde_json::json!({"topic": "imported", "id": id.to_string(), "hash": text}).to_string();
        let answer = http(&sock, "POST /import", body.as_bytes());
        assert_eq!(answer.status, 400, "{text:?}: {}", answer.text());
        assert!(answer.text().contains("invalid hash"), "{}", answer.text());
        let started = Instant::now();
        let appended = http(&sock, "POST /append/after", b"x");
        assert_eq!(appended.status, 200, "{}", appended.text());
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the append after a bad import took {:?}",
            started.elapsed()
        );
    }
    let cas = http(&sock, &format!("GET /cas/{}", percent_encode("sha256-!!!")), b"");
    assert_eq!(cas.status, 400, "{}", cas.text());
    assert!(served.store.last("imported", 1).unwrap().is_empty(), "a bad import was stored");
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn futures_executor<T>(future: impl std::future::Future<Output = xs_core::Result<T>>) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(future).unwrap()
}

#[test]
fn a_reopened_store_reads_the_hashes_it_stored() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = Store::new(dir.path()).unwrap();
        let hash = store.cas_writer().commit().unwrap();
        store.append(Frame::builder("t").hash(hash).build()).unwrap().id
    };
    let store = Store::new(dir.path()).unwrap();
    assert_eq!(store.get(&id).unwrap().and_then(|f| f.hash).map(|h| h.to_string()).as_deref(), Some(GOOD));
}
