//! The processor's own report of its handlers, generators and actions: per name,
//! the state, the version it is about, and the last error.
//!
//! Each supervisor keeps its kind's [`Table`] from the lifecycle frames it
//! follows anyway, after it has decided what they mean: a frame imported
//! inert is a script that never runs ([`State::Inert`]), not the
//! `.active` its dump recorded; a replacement that proved invalid leaves
//! the version that kept running active. [`States::list`] answers as of
//! the newest lifecycle frame stored when it is asked: it waits (briefly)
//! until the supervisors have taken that frame in, so a caller that saw a
//! `.active` frame gets a report that says so.

use std::{
    collections::BTreeMap,
    sync::{Arc, Condvar, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use scru128::Scru128Id;

use crate::{
    frame::Frame,
    processor::lifecycle::{self, Event, Kind},
    read_options::ReadOptions,
    script_state::{MirrorProgress, ScriptKind, ScriptState, State},
    store::Store,
};

/// How long [`States::list`] waits for the supervisors to catch up (one
/// may be busy winding an instance down) before answering with what it has.
const CATCH_UP: Duration = Duration::from_secs(2);

/// Every kind's table and the store they report on. Cheap to clone.
#[derive(Clone)]
pub(crate) struct States {
    store: Store,
    handlers: Arc<Table>,
    generators: Arc<Table>,
    actions: Arc<Table>,
    mirrors: Arc<Table>,
}

impl States {
    pub(crate) fn new(store: Store) -> Self {
        let (handlers, generators, actions, mirrors) = Default::default();
        States { store, handlers, generators, actions, mirrors }
    }

    /// The table a supervisor of `kind` keeps.
    pub(crate) fn table(&self, kind: Kind) -> Arc<Table> {
        match kind {
            Kind::Handler => self.handlers.clone(),
            Kind::Generator => self.generators.clone(),
            Kind::Action => self.actions.clone(),
            Kind::Mirror => self.mirrors.clone(),
        }
    }

    /// Every handler, then every generator, action and mirror, by name,
    /// as of the newest lifecycle frame stored now.
    pub(crate) fn list(&self) -> Vec<ScriptState> {
        let deadline = Instant::now() + CATCH_UP;
        [Kind::Handler, Kind::Generator, Kind::Action, Kind::Mirror]
            .into_iter()
            .flat_map(|kind| self.list_kind(kind, deadline))
            .collect()
    }

    fn list_kind(&self, kind: Kind, deadline: Instant) -> Vec<ScriptState> {
        let newest = match self.store.last(&format!("{}.*", kind.prefix()), 1) {
            Ok(frames) => frames.last().map(|f| f.id),
            Err(e) => {
                tracing::debug!(error = %e, "cannot read the newest lifecycle frame; reporting what is known");
                None
            }
        };
        let table = self.table(kind);
        let mut states = table.list(kind.into(), newest, deadline);
        for state in &mut states {
            state.mirror = table.progress_of(&state.name).map(|p| p.report(&self.store));
        }
        states
    }
}

impl From<Kind> for ScriptKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Handler => ScriptKind::Handler,
            Kind::Generator => ScriptKind::Generator,
            Kind::Action => ScriptKind::Action,
            Kind::Mirror => ScriptKind::Mirror,
        }
    }
}

/// One kind's states, and how far its supervisor has read.
#[derive(Default)]
pub(crate) struct Table {
    book: Mutex<Book>,
    changed: Condvar,
    /// Mirrors only: each name's progress, kept by its running instance.
    progress: Mutex<BTreeMap<String, Arc<Progress>>>,
}

/// A mirror's progress as its runs report it: position, topics, last error.
#[derive(Default)]
pub(crate) struct Progress {
    live: Mutex<Live>,
}

#[derive(Clone, Default)]
struct Live {
    position: Option<Scru128Id>,
    topics: String,
    error: Option<String>,
}

impl Progress {
    pub(crate) fn set_position(&self, position: Option<Scru128Id>) {
        self.lock().position = position;
    }

    /// The topics it mirrors (to count its lag).
    pub(crate) fn set_topics(&self, topics: &str) {
        topics.clone_into(&mut self.lock().topics);
    }

    pub(crate) fn set_error(&self, error: &str) {
        self.lock().error = Some(error.to_string());
    }

    /// The report, the lag counted in `store` now.
    fn report(&self, store: &Store) -> MirrorProgress {
        let live = self.lock().clone();
        let options = ReadOptions::builder().topic(live.topics).maybe_after(live.position).build();
        let lag = match store.reader(options) {
            Ok(reader) => reader.filter(Result::is_ok).count(),
            Err(e) => {
                tracing::debug!(error = %e, "cannot count a mirror's lag");
                0
            }
        };
        MirrorProgress { position: live.position, lag: u64::try_from(lag).unwrap_or(u64::MAX), error: live.error }
    }

    fn lock(&self) -> MutexGuard<'_, Live> {
        // Plain values: a poisoned lock is taken over.
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Default)]
struct Book {
    names: BTreeMap<String, Entry>,
    /// The newest lifecycle frame taken in.
    seen: Option<Scru128Id>,
    /// Past the replay of history: the table is complete up to `seen`.
    live: bool,
    /// The supervisor stopped: nothing more will be taken in.
    ended: bool,
}

impl Book {
    /// Nothing to wait for: the supervisor has taken in `newest` (or stopped).
    fn caught_up(&self, newest: Option<Scru128Id>) -> bool {
        self.ended || (self.live && self.seen >= newest)
    }
}

#[derive(Clone)]
struct Entry {
    state: State,
    id: Scru128Id,
    since: Scru128Id,
    error: Option<String>,
    /// The version running, as far as the frames say.
    running: Option<Scru128Id>,
}

impl Table {
    /// Takes in one frame of the supervisor's follow (lifecycle or module);
    /// `inert` when it was imported inert.
    pub(crate) fn take(&self, kind: Kind, frame: &Frame, inert: bool) {
        let mut book = self.lock();
        if let Some((name, event)) = lifecycle::parse(kind, &frame.topic) {
            let entry = book.names.get(name).cloned();
            if let Some(next) = next(entry, event, frame, kind, inert) {
                book.names.insert(name.to_string(), next);
            }
        }
        book.seen = book.seen.max(Some(frame.id));
        self.changed.notify_all();
    }

    /// The progress cell of the mirror `name` (one per name, kept across versions' runs).
    pub(crate) fn progress(&self, name: &str) -> Arc<Progress> {
        let mut cells = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        cells.entry(name.to_string()).or_default().clone()
    }

    fn progress_of(&self, name: &str) -> Option<Arc<Progress>> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    /// History is replayed: from now on the table is as current as `seen`.
    pub(crate) fn go_live(&self) {
        self.lock().live = true;
        self.changed.notify_all();
    }

    /// The supervisor stopped.
    pub(crate) fn end(&self) {
        self.lock().ended = true;
        self.changed.notify_all();
    }

    /// Every name's state once the table has taken in `newest` (or at `deadline`).
    fn list(&self, kind: ScriptKind, newest: Option<Scru128Id>, deadline: Instant) -> Vec<ScriptState> {
        let mut book = self.lock();
        while !book.caught_up(newest) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                tracing::warn!(?kind, "the processor is behind its lifecycle frames; its report may be stale");
                break;
            };
            book = self.changed.wait_timeout(book, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        book.names.iter().map(|(name, e)| e.report(kind, name)).collect()
    }

    fn lock(&self) -> MutexGuard<'_, Book> {
        // Plain values: a poisoned lock is taken over.
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What `event` (in `frame`) makes of a name's `entry`; `None` leaves it.
fn next(entry: Option<Entry>, event: Event, frame: &Frame, kind: Kind, inert: bool) -> Option<Entry> {
    if inert {
        // A dump's script never runs: it shows only where nothing else does.
        return (entry.is_none() && event == Event::Register).then(|| Entry::new(State::Inert, frame.id, frame.id));
    }
    let running = entry.as_ref().and_then(|e| e.running);
    match event {
        Event::Register => Some(Entry { running, ..Entry::new(State::Registered, frame.id, frame.id) }),
        // Only a version running or starting is stopped (and reports how);
        // anything else keeps its state, and an unknown name stays unknown.
        Event::Unregister => {
            let entry = entry?;
            let stopping = running.is_some() || entry.state == State::Registered;
            Some(if stopping {
                Entry { running, ..Entry::new(State::Unregistering, entry.id, frame.id) }
            } else {
                entry
            })
        }
        _ => outcome(entry, event, frame, lifecycle::subject(kind, frame)?),
    }
}

/// An out event about version `id`.
fn outcome(entry: Option<Entry>, event: Event, frame: &Frame, id: Scru128Id) -> Option<Entry> {
    let mut running = entry.as_ref().and_then(|e| e.running);
    let error = frame.meta.as_ref().and_then(|m| m.get("error")).and_then(|e| e.as_str()).map(str::to_string);
    let state = match event {
        Event::Active => {
            running = Some(id);
            State::Active
        }
        // A replacement that proved invalid: the version running keeps running.
        Event::Invalid if running.is_some_and(|r| r != id) => {
            let entry = entry?;
            return Some(Entry { state: State::Active, id: running?, since: entry.since, error, running });
        }
        Event::Invalid => State::Invalid,
        Event::Failed => State::Failed,
        Event::Done => State::Done,
        Event::Unregistered => State::Unregistered,
        Event::Stopped => State::Stopped,
        // About an older version: the newer one's state stands.
        Event::Replaced => {
            let entry = entry?;
            let running = entry.running.filter(|r| *r != id);
            return Some(Entry { running, ..entry });
        }
        Event::Register | Event::Unregister => return entry,
    };
    if running == Some(id) && state != State::Active {
        running = None;
    }
    Some(Entry { error, running, ..Entry::new(state, id, frame.id) })
}

impl Entry {
    fn new(state: State, id: Scru128Id, since: Scru128Id) -> Self {
        Entry { state, id, since, error: None, running: None }
    }

    fn report(&self, kind: ScriptKind, name: &str) -> ScriptState {
        let (state, id, since, error) = (self.state, self.id, self.since, self.error.clone());
        ScriptState { kind, name: name.to_string(), state, id, since, error, mirror: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processor::lifecycle::{frame, topic};

    fn register(table: &Table, inert: bool) -> Scru128Id {
        let register =
            Frame { id: scru128::new(), ..Frame::builder(topic(Kind::Handler, "h", Event::Register)).build() };
        table.take(Kind::Handler, &register, inert);
        register.id
    }

    fn event(table: &Table, event: Event, id: Scru128Id, error: Option<&str>) {
        let extra: Vec<_> = error.map(|e| ("error", e.into())).into_iter().collect();
        let frame = Frame { id: scru128::new(), ..frame(Kind::Handler, "h", event, id, &extra) };
        table.take(Kind::Handler, &frame, false);
    }

    fn state(table: &Table) -> (State, Scru128Id, Option<String>) {
        table.go_live();
        let listed = table.list(ScriptKind::Handler, None, Instant::now());
        (listed[0].state, listed[0].id, listed[0].error.clone())
    }

    #[test]
    fn an_inert_register_shows_inert_and_its_dumped_events_are_ignored() {
        let table = Table::default();
        let a = register(&table, true);
        let dumped = Frame { id: scru128::new(), ..frame(Kind::Handler, "h", Event::Active, a, &[]) };
        table.take(Kind::Handler, &dumped, true);
        assert_eq!(state(&table), (State::Inert, a, None));
        let b = register(&table, false);
        event(&table, Event::Active, b, None);
        assert_eq!(state(&table), (State::Active, b, None));
    }

    #[test]
    fn an_invalid_replacement_leaves_the_running_version_active() {
        let table = Table::default();
        let a = register(&table, false);
        event(&table, Event::Active, a, None);
        let b = register(&table, false);
        assert_eq!(state(&table).0, State::Registered);
        event(&table, Event::Invalid, b, Some("no run"));
        assert_eq!(state(&table), (State::Active, a, Some("no run".into())));
        event(&table, Event::Failed, a, Some("boom"));
        assert_eq!(state(&table), (State::Failed, a, Some("boom".into())));
    }

    #[test]
    fn a_replaced_version_leaves_the_new_ones_state() {
        let table = Table::default();
        let a = register(&table, false);
        event(&table, Event::Active, a, None);
        let b = register(&table, false);
        event(&table, Event::Replaced, a, None);
        event(&table, Event::Active, b, None);
        assert_eq!(state(&table), (State::Active, b, None));
        event(&table, Event::Unregistered, b, None);
        assert_eq!(state(&table), (State::Unregistered, b, None));
    }

    #[test]
    fn an_unregister_of_nothing_running_leaves_the_state() {
        let table = Table::default();
        let unknown =
            Frame { id: scru128::new(), ..Frame::builder(topic(Kind::Handler, "h", Event::Unregister)).build() };
        table.take(Kind::Handler, &unknown, false);
        table.go_live();
        assert!(table.list(ScriptKind::Handler, None, Instant::now()).is_empty(), "an unknown name appeared");
        let a = register(&table, false);
        event(&table, Event::Active, a, None);
        event(&table, Event::Failed, a, Some("boom"));
        table.take(Kind::Handler, &unknown, false);
        assert_eq!(state(&table), (State::Failed, a, Some("boom".into())));
        let b = register(&table, false);
        event(&table, Event::Active, b, None);
        table.take(Kind::Handler, &unknown, false);
        assert_eq!(state(&table).0, State::Unregistering);
    }
}
