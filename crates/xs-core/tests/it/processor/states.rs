//! The processor's own report of its handlers and generators
//! (`Processor::states`, `ServerHandle::processor_states`, `GET /processor`):
//! an imported-inert handler is not running, and active, failed,
//! invalid and unregistered handlers say so, with their errors.

use xs_core::{
    Frame,
    client::Client,
    id::Scru128Id,
    script_state::{ScriptKind, ScriptState, State},
    store::Scripts,
};

use crate::{
    processor::common::{Owner, append_with, lifecycle, register, unregister},
    server::serve,
};

const IDLE: &str = "{run: {|frame, state| {next: $state}}, topics: [never]}";

/// The (state, register id) of handler `name`.
fn state_of(states: &[ScriptState], name: &str) -> (State, Scru128Id) {
    let found = states.iter().find(|s| s.kind == ScriptKind::Handler && s.name == name);
    let found = found.unwrap_or_else(|| panic!("{name} missing from {states:?}"));
    (found.state, found.id)
}

#[test]
fn an_imported_inert_handler_is_not_running() {
    let owner = Owner::start();
    let processor = owner.processor.as_ref().unwrap();
    // A dump's register and the `.active` it recorded elsewhere, imported inert.
    let reg = Frame { id: scru128::new(), ..Frame::builder("xs.handler.imp.register").build() };
    let meta = serde_json::json!({"handler_id": reg.id.to_string()});
    let active = Frame { id: scru128::new(), ..Frame::builder("xs.handler.imp.active").meta(meta).build() };
    for frame in [reg.clone(), active] {
        owner.store.import_with(frame, Scripts::Inert).unwrap();
    }
    let states = processor.states();
    assert_eq!(state_of(&states, "imp"), (State::Inert, reg.id));
    assert!(!states[0].state.is_running());
}

#[test]
fn active_failed_invalid_and_unregistered_handlers_say_so() {
    let owner = Owner::start();
    let (store, processor) = (&owner.store, owner.processor.as_ref().unwrap());
    let idle = register(store, "idle", IDLE);
    lifecycle(store, "idle", "active", idle.id);
    assert_eq!(state_of(&processor.states(), "idle"), (State::Active, idle.id));

    let bad = register(store, "bad", "{run: {|frame, state| error make {msg: boom}}, topics: [t]}");
    lifecycle(store, "bad", "active", bad.id);
    append_with(store, "t", "x");
    lifecycle(store, "bad", "failed", bad.id);
    let states = processor.states();
    let failed = states.iter().find(|s| s.name == "bad").unwrap();
    assert_eq!((failed.state, failed.id), (State::Failed, bad.id));
    assert!(failed.error.as_deref().unwrap_or_default().contains("boom"), "{failed:?}");

    // A replacement that proves invalid: the running version stays active.
    let broken = register(store, "idle", "{not: a handler}");
    lifecycle(store, "idle", "invalid", broken.id);
    let states = processor.states();
    assert_eq!(state_of(&states, "idle"), (State::Active, idle.id));

    unregister(store, "idle");
    lifecycle(store, "idle", "unregistered", idle.id);
    assert_eq!(state_of(&processor.states(), "idle"), (State::Unregistered, idle.id));
}

#[test]
fn a_client_asks_the_owner_over_the_socket() {
    let served = serve();
    let client = Client::new(served.dir.path());
    assert_eq!(client.processor_states().unwrap(), []);
    let reg = register(&served.store, "idle", IDLE);
    lifecycle(&served.store, "idle", "active", reg.id);
    let states = client.processor_states().unwrap();
    assert_eq!(state_of(&states, "idle"), (State::Active, reg.id));
    assert_eq!(states, served.server.processor_states());
}
