//! Every owner runs the processor, and a store has one processor at most.

use xs_core::{
    Store, StoreError,
    connection::{Connection, Role},
    processor::Processor,
    server::{ServeOptions, Server},
};

use crate::processor::common::{frames, lifecycle, register};

const IDLE: &str = "{run: {|frame, state| {next: $state}}, topics: [nothing]}";

#[test]
fn a_connection_that_becomes_the_owner_runs_the_handlers() {
    let dir = tempfile::tempdir().unwrap();
    let connection = Connection::open(dir.path()).unwrap();
    assert_eq!(connection.role(), Role::Owner);
    let store = connection.store().unwrap();
    let reg = register(&store, "h", IDLE);
    lifecycle(&store, "h", "active", reg.id);
    drop(store);
    drop(connection);
    // The owner shut down in order: the handler recorded `.stopped`.
    let store = Store::new(dir.path()).unwrap();
    assert_eq!(frames(&store, "xs.handler.h.stopped").len(), 1);
}

#[test]
fn a_server_runs_the_processor_unless_told_not_to() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path()).unwrap();
    let server = Server::bind(store.clone(), ServeOptions::default()).unwrap().spawn().unwrap();
    assert!(matches!(Processor::spawn(store.clone()), Err(StoreError::ProcessorRunning)));
    let reg = register(&store, "h", IDLE);
    lifecycle(&store, "h", "active", reg.id);
    drop(store);
    server.shutdown();

    let store = Store::new(dir.path()).unwrap();
    let relay = ServeOptions::builder().processor(false).build();
    let server = Server::bind(store.clone(), relay).unwrap().spawn().unwrap();
    let processor = Processor::spawn(store.clone()).expect("no processor runs: one may start");
    processor.shutdown();
    let again = Processor::spawn(store.clone()).expect("a processor that stopped frees the store");
    drop(again);
    drop(store);
    server.shutdown();
}
