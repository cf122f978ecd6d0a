//! The `iroh://` listener and remote (feature `iroh`): an owner's endpoint
//! and a client's endpoint on one machine with relays off, so the ticket
//! carries direct addresses only. Every operation goes through one QUIC
//! stream per HTTP connection, with the store's token; the ticket is
//! recorded in a frame and survives a restart; a follow resumes across
//! that restart; a ticket that answers nowhere is `Unreachable`.

use std::{path::Path, time::Duration};

use xs_core::{
    FollowOption, Frame, ReadOptions, Store, StoreError,
    client::{Client, Remote},
    connection::{Connection, Role},
    server::{IROH_TICKET_TOPIC, Listen, ServeOptions, Server, ServerHandle, token},
    store::{Next, Poll},
};

use crate::common::take;

/// Serves the store in `dir` on `iroh://?relay=off`; returns its ticket.
fn serve(dir: &Path) -> (Store, ServerHandle, String) {
    let store = Store::new(dir).unwrap();
    let options = ServeOptions::builder().listen(vec!["iroh://?relay=off".parse().unwrap()]).build();
    let server = Server::bind(store.clone(), options).unwrap().spawn().unwrap();
    let ticket = server.listening().iter().find_map(Listen::ticket).expect("an iroh listener's ticket").to_string();
    (store, server, ticket)
}

fn client(ticket: &str, token: &str) -> Client {
    Client::remote(Remote::new(&format!("iroh://{ticket}")).unwrap().token(token)).unwrap()
}

#[test]
fn an_iroh_client_appends_reads_and_uses_the_cas() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _server, ticket) = serve(dir.path());
    let client = client(&ticket, &token::load_or_create(dir.path()).unwrap());
    assert_eq!(client.url(), Some(format!("iroh://{ticket}").as_str()));
    assert_eq!(client.version().unwrap(), env!("CARGO_PKG_VERSION"));
    let meta = serde_json::json!({"via": "iroh"});
    let frame = client.append(Frame::builder("p2p").meta(meta.clone()).build(), &b"over quic"[..]).unwrap();
    assert_eq!(store.get(&frame.id).unwrap(), Some(frame.clone()), "stored by the owner");
    assert_eq!(client.get(&frame.id).unwrap(), Some(frame.clone()));
    assert_eq!(client.last("p2p", 1).unwrap(), vec![frame.clone()]);
    assert_eq!(client.cas_read(frame.hash.as_ref().unwrap()).unwrap(), b"over quic");
    // A streamed payload larger than any one buffer on the way.
    let big = vec![7u8; 3 << 20];
    let hash = client.cas_insert(&big[..]).unwrap();
    assert_eq!(store.cas_read(&hash).unwrap(), big);
    client.remove(&frame.id).unwrap();
    assert_eq!(store.get(&frame.id).unwrap(), None);
}

#[test]
fn an_iroh_follow_sees_live_frames() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _server, ticket) = serve(dir.path());
    let client = client(&ticket, &token::load_or_create(dir.path()).unwrap());
    let mut follow =
        client.reader(ReadOptions::builder().follow(FollowOption::On).topic("live".into()).build()).unwrap();
    assert_eq!(take(&mut follow, 1)[0].topic, "xs.threshold");
    assert!(matches!(follow.poll(Duration::from_millis(50)).unwrap(), Next::Idle), "a quiet follow is idle");
    let frame = store.append(Frame::builder("live").build()).unwrap();
    assert_eq!(take(&mut follow, 1), vec![frame]);
}

#[test]
fn an_iroh_request_without_the_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _server, ticket) = serve(dir.path());
    let anonymous = Client::remote(Remote::new(&format!("iroh://{ticket}")).unwrap()).unwrap();
    let err = anonymous.append(Frame::builder("p2p").build(), &b"no"[..]).unwrap_err();
    assert!(matches!(err, StoreError::Unauthorized { .. }), "{err:?}");
    let err = client(&ticket, "wrong").version().unwrap_err();
    assert!(matches!(err, StoreError::Unauthorized { .. }), "{err:?}");
    assert!(store.last("p2p", 1).unwrap().is_empty(), "nothing was appended");
}

/// The ticket is in a frame the owner wrote; a restarted owner has the
/// same ticket, and a follow made before the restart resumes after it
/// without a gap or a duplicate.
#[test]
fn the_ticket_is_recorded_and_outlives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (store, server, ticket) = serve(dir.path());
    let recorded = store.last(IROH_TICKET_TOPIC, 1).unwrap().pop().expect("the ticket's frame");
    assert_eq!(recorded.meta.as_ref().unwrap()["ticket"], ticket.as_str());
    assert_eq!(recorded.meta.as_ref().unwrap()["relay"], false);
    let token = token::load_or_create(dir.path()).unwrap();
    let remote = Remote::new(&format!("iroh://{ticket}")).unwrap().token(&token);
    let connection = Connection::remote(remote).unwrap();
    let mut follow =
        connection.reader(ReadOptions::builder().follow(FollowOption::On).topic("clip".into()).build()).unwrap();
    assert_eq!(take(&mut follow, 1)[0].topic, "xs.threshold");
    let a = store.append(Frame::builder("clip").build()).unwrap();
    assert_eq!(take(&mut follow, 1), vec![a]);
    drop((server, store));
    let offline = Store::new(dir.path()).unwrap();
    let b = offline.append(Frame::builder("clip").build()).unwrap();
    offline.close();
    drop(offline);
    let (store, _server, again) = serve(dir.path());
    assert_eq!(again, ticket, "same key, same port: same ticket");
    let c = store.append(Frame::builder("clip").build()).unwrap();
    assert_eq!(take(&mut follow, 2), vec![b, c], "no gap, no duplicate, no second threshold");
    assert_eq!(connection.role(), Role::Client);
}

#[test]
fn a_ticket_that_answers_nowhere_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, server, ticket) = serve(dir.path());
    drop(server);
    let started = std::time::Instant::now();
    let err = client(&ticket, "any").version().unwrap_err();
    assert!(matches!(&err, StoreError::Unreachable { url, .. } if url.contains(&ticket)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(30), "bounded by the connect timeout");
}

#[test]
fn iroh_addresses_parse_and_bad_tickets_are_refused() {
    assert!(matches!(Remote::new("iroh://not-a-ticket"), Err(StoreError::InvalidRemote { .. })));
    assert!(Remote::is_url("iroh://x"));
    let store_dir = tempfile::tempdir().unwrap();
    let store = Store::new(store_dir.path()).unwrap();
    let options = ServeOptions::builder().listen(vec!["iroh://".parse().unwrap()]).no_auth(true).build();
    assert!(
        matches!(Server::bind(store, options), Err(StoreError::NoAuthExposed { .. })),
        "iroh always needs the token"
    );
}
