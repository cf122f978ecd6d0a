//! Importing a dump never runs its scripts unless asked: handlers,
//! generators and modules from elsewhere are stored inert, live and at
//! every later owner start; `Scripts::Run` (`?with_scripts=true`) trusts
//! them. Markers are never imported.

use xs_core::{Frame, ReadOptions, Store, StoreError, store::Scripts};

use crate::{
    common::{append, read_all, store},
    processor::common::{Owner, append_with, frames, lifecycle, meta_str, register, settle, wait_for},
    server::{http, serve},
};

/// Emits `{seen}` for every `t` frame, and keeps running.
const SCRIPT: &str = "{run: {|frame, state| {out: {seen: $frame.id}, next: null}}, topics: [t]}";

/// A frame and its payload, as a dump holds them.
type Dump = Vec<(Frame, Option<Vec<u8>>)>;

/// A dump of a store where handler `imp` ran (register, `.active`,
/// `.stopped`), and the id of its register frame.
fn dump_of_a_running_handler() -> (Dump, xs_core::id::Scru128Id) {
    let owner = Owner::start();
    let reg = register(&owner.store, "imp", SCRIPT);
    lifecycle(&owner.store, "imp", "active", reg.id);
    let dir = owner.stop();
    let store = Store::new(dir.path()).unwrap();
    let dump = read_all(&store, ReadOptions::default())
        .into_iter()
        .map(|f| {
            let payload = f.hash.as_ref().map(|h| store.cas_read(h).unwrap());
            (f, payload)
        })
        .collect();
    (dump, reg.id)
}

fn restore(store: &Store, dump: &Dump, scripts: Scripts) {
    for (frame, payload) in dump {
        if let Some(bytes) = payload {
            let mut writer = store.cas_writer();
            std::io::Write::write_all(&mut writer, bytes).unwrap();
            writer.commit().unwrap();
        }
        store.import_with(frame.clone(), scripts).unwrap();
    }
}

/// Registers `ctl` (the same script) and waits until it is active: the
/// processor takes lifecycle frames in id order, so it has then seen the
/// imported ones.
fn control(store: &Store) -> Frame {
    let reg = register(store, "ctl", SCRIPT);
    lifecycle(store, "ctl", "active", reg.id);
    reg
}

/// Appends a `t` frame and waits for `ctl` to handle it (its `n`th output).
fn poke(store: &Store, n: usize) {
    append(store, "t");
    settle(store, "ctl.out", n);
}

#[test]
fn an_imported_handler_never_runs_live_or_after_a_restart() {
    let (dump, imported) = dump_of_a_running_handler();
    let owner = Owner::start();
    restore(&owner.store, &dump, Scripts::Inert);
    assert!(owner.store.is_inert(&imported).unwrap());
    control(&owner.store);
    poke(&owner.store, 1);
    assert!(frames(&owner.store, "imp.out").is_empty(), "the imported handler ran");
    assert_eq!(frames(&owner.store, "xs.handler.imp.active").len(), 1, "only the dump's own .active");

    let dir = owner.stop();
    let owner = Owner::reopen(dir);
    let before = owner.store.last("*", 1).unwrap()[0].id;
    wait_for(&owner.store, "xs.handler.ctl.active", Some(before), |_| true);
    poke(&owner.store, 2);
    assert!(frames(&owner.store, "imp.out").is_empty(), "the imported handler ran after a restart");
    assert_eq!(frames(&owner.store, "xs.handler.imp.active").len(), 1);

    // The documented way to run it: append its script again.
    let register = owner.store.last("xs.handler.imp.register", 1).unwrap().remove(0);
    let script = String::from_utf8(owner.store.cas_read(register.hash.as_ref().unwrap()).unwrap()).unwrap();
    let again = append_with(&owner.store, "xs.handler.imp.register", &script);
    lifecycle(&owner.store, "imp", "active", again.id);
    append(&owner.store, "t");
    settle(&owner.store, "imp.out", 1);
}

#[test]
fn with_scripts_an_imported_handler_runs() {
    let (dump, imported) = dump_of_a_running_handler();
    let owner = Owner::start();
    let before = owner.store.last("*", 1).unwrap().first().map(|f| f.id);
    restore(&owner.store, &dump, Scripts::Run);
    assert!(!owner.store.is_inert(&imported).unwrap());
    let active = wait_for(&owner.store, "xs.handler.imp.active", before, |f| !dump.iter().any(|(d, _)| d.id == f.id));
    assert_eq!(meta_str(&active, "handler_id"), Some(imported.to_string()));
    append(&owner.store, "t");
    settle(&owner.store, "imp.out", 1);
}

#[test]
fn an_imported_module_is_not_used() {
    let owner = Owner::start();
    let source = "export def hello [] { 'from the dump' }";
    let hash = {
        let mut writer = owner.store.cas_writer();
        std::io::Write::write_all(&mut writer, source.as_bytes()).unwrap();
        writer.commit().unwrap()
    };
    let frame = Frame::builder("xs.module.greet").id(scru128::new()).hash(hash);
    owner.store.import(frame.build()).unwrap();
    let reg = register(&owner.store, "g", "use greet\n{run: {|frame, state| {out: {says: (greet hello)}}}}");
    let invalid = lifecycle(&owner.store, "g", "invalid", reg.id);
    assert!(meta_str(&invalid, "error").unwrap().contains("greet"), "{invalid:?}");
}

#[test]
fn markers_are_never_imported_but_lifecycle_history_is() {
    let (_dir, store) = store();
    for topic in ["xs.threshold", "xs.pulse"] {
        for scripts in [Scripts::Inert, Scripts::Run] {
            let refused = store.import_with(Frame::builder(topic).id(scru128::new()).build(), scripts);
            assert!(matches!(refused, Err(StoreError::ReservedTopic { .. })), "{topic}: {refused:?}");
        }
    }
    assert!(read_all(&store, ReadOptions::default()).is_empty());
    let history =
        Frame::builder("xs.handler.x.stopped").id(scru128::new()).meta(serde_json::json!({"handler_id": "x"}));
    store.import(history.build()).unwrap();
}

#[test]
fn the_socket_imports_inert_unless_with_scripts() {
    let served = serve();
    let hash = {
        let mut writer = served.store.cas_writer();
        std::io::Write::write_all(&mut writer, SCRIPT.as_bytes()).unwrap();
        writer.commit().unwrap()
    };
    let inert = Frame::builder("xs.handler.a.register").id(scru128::new()).hash(hash.clone()).build();
    let trusted = Frame::builder("xs.handler.b.register").id(scru128::new()).hash(hash).build();
    let answer = http(&served.socket(), "POST /import", &serde_json::to_vec(&inert).unwrap());
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = http(&served.socket(), "POST /import?with_scripts=true", &serde_json::to_vec(&trusted).unwrap());
    assert_eq!(answer.status, 200, "{}", answer.text());
    lifecycle(&served.store, "b", "active", trusted.id);
    append(&served.store, "t");
    settle(&served.store, "b.out", 1);
    assert!(served.store.is_inert(&inert.id).unwrap());
    assert!(frames(&served.store, "a.out").is_empty() && frames(&served.store, "xs.handler.a.active").is_empty());
    let refused = http(
        &served.socket(),
        "POST /import",
        &serde_json::to_vec(&Frame::builder("xs.pulse").id(scru128::new()).build()).unwrap(),
    );
    assert_eq!(refused.status, 400, "{}", refused.text());
}
