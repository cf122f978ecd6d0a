//! The processor: one supervisor thread per owner and kind (handlers,
//! generators, actions, mirrors) that reads the lifecycle and module topics and
//! keeps, per name, at most one instance running. The action supervisor
//! also answers calls that no action takes (`orphan.rs`).
//!
//! Everything reaches the supervisor as an [`Event`] on one channel: the
//! frames of `xs.handler.*` and `xs.module.*` (from a follow through the
//! topic index, so a store of a million other frames starts as fast as an
//! empty one), what instances report (ready, exited), and shutdown. Until
//! the follow's `xs.threshold` the frames only build the [`History`]; at
//! the threshold the supervisor restores what the history says was
//! running ([`History::plan`]), and from then on acts on each new frame.
//! The supervisor never runs a script itself: preparing one (which may
//! loop forever) happens on the instance's thread, so a bad script can
//! only ever stall itself.
//!
//! Frames imported inert (a dump's scripts, see
//! [`Store::import`](crate::Store::import)) are dropped before they reach
//! the history or the modules: what a dump holds never runs unless its
//! import was asked to trust it.
//!
//! Each supervisor also keeps its kind's part of the processor's report
//! ([`Processor::states`], see `states.rs`) from the same frames, after
//! deciding what they mean (inert or not).

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc::{self, Receiver, RecvTimeoutError, Sender},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use scru128::Scru128Id;

use crate::{
    error::Result,
    frame::Frame,
    processor::{
        call,
        engine::SharedEngine,
        eval::Evaluator,
        handler::Spec,
        instance::{Instance, Report, Stop},
        lifecycle::{self, Event as Lifecycle, History, Kind, MODULE},
        module::Modules,
        orphan::{self, Orphans},
        states::{States, Table},
        watchdog::Watchdog,
    },
    read_options::{FollowOption, ReadOptions},
    script_state::ScriptState,
    store::Store,
    store::{Next, Poll, THRESHOLD},
};

/// How long a register script may take to evaluate its config.
const PREPARE: Duration = Duration::from_secs(30);
/// How long a stopping handler may take to wind down.
const PATIENCE: Duration = Duration::from_secs(10);
/// How often the lifecycle follow checks whether the processor is stopping.
const TICK: Duration = Duration::from_millis(100);

/// What the supervisor reacts to.
#[derive(Debug)]
pub(crate) enum Event {
    /// A lifecycle or module frame, or the follow's `xs.threshold`.
    Frame(Frame),
    /// News from an instance.
    Report(Report),
    /// A `<name>.call` frame (to the action supervisor only).
    Call(Frame),
    /// The store closed: nothing more can be written.
    Closed,
    /// The processor is shutting down.
    Shutdown,
}

/// The processor of a store: runs its handlers until shut down.
///
/// Every owner runs one: [`Server::run`](crate::server::Server::run) starts it
/// (unless [`ServeOptions::processor`](crate::server::ServeOptions) is off) and
/// stops it before closing the store. A program that owns a store without
/// serving it starts its own:
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let store = xs_core::Store::new(dir.path())?;
/// let processor = xs_core::processor::Processor::spawn(store.clone())?;
/// // ... append `xs.handler.<name>.register` frames; handlers run ...
/// processor.shutdown(); // running handlers record `.stopped` and resume under the next owner
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Processor {
    store: Store,
    /// One supervisor per kind.
    events: Vec<Sender<Event>>,
    stop_follow: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    states: States,
    /// The one engine of handlers, generators and evals.
    engine: SharedEngine,
}

impl Processor {
    /// Starts the processor of `store` on background threads and returns
    /// at once: replaying the lifecycle topics, building the engine (on
    /// first use) and starting handlers all happen off the caller's thread.
    ///
    /// # Errors
    ///
    /// [`StoreError::ProcessorRunning`](crate::StoreError::ProcessorRunning)
    /// when this store's processor already runs (a server started it);
    /// [`StoreError::Io`](crate::StoreError::Io) when a thread cannot be
    /// started.
    pub fn spawn(store: Store) -> Result<Processor> {
        if !store.claim_processor() {
            return Err(crate::StoreError::ProcessorRunning);
        }
        Self::start(store.clone()).inspect_err(|_| store.release_processor())
    }

    fn start(store: Store) -> Result<Processor> {
        let stop_follow = Arc::new(AtomicBool::new(false));
        let states = States::new(store.clone());
        let engine = SharedEngine::default();
        let mut processor =
            Processor { store: store.clone(), events: Vec::new(), stop_follow, threads: Vec::new(), states, engine };
        for kind in [Kind::Handler, Kind::Generator, Kind::Action, Kind::Mirror] {
            let table = processor.states.table(kind);
            let engine = processor.engine.clone();
            let (events, threads) = Self::supervise(&store, kind, &processor.stop_follow, table, engine)?;
            if kind == Kind::Action {
                processor.threads.push(orphan::follow(&store, events.clone(), processor.stop_follow.clone())?);
            }
            processor.events.push(events);
            processor.threads.extend(threads);
        }
        Ok(processor)
    }

    /// Starts the follow and the supervisor of one kind.
    fn supervise(
        store: &Store,
        kind: Kind,
        stop: &Arc<AtomicBool>,
        table: Arc<Table>,
        engine: SharedEngine,
    ) -> Result<(Sender<Event>, [JoinHandle<()>; 2])> {
        let (events, inbox) = mpsc::channel();
        let topics = format!("{}.*,{MODULE}.*", kind.prefix());
        let options = ReadOptions::builder().follow(FollowOption::On).topic(topics).build();
        let mut reader = store.reader(options)?;
        let (feed, stop) = (events.clone(), stop.clone());
        let follow = std::thread::Builder::new().name(format!("xs-{}-follow", kind.prefix())).spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let event = match reader.poll(TICK) {
                    Ok(Next::Frame(frame)) => Event::Frame(frame),
                    Ok(Next::Idle) => continue,
                    Ok(Next::End) => Event::Closed,
                    Err(e) => {
                        tracing::error!(error = %e, "the processor cannot read the lifecycle topics");
                        Event::Closed
                    }
                };
                let closed = matches!(event, Event::Closed);
                if feed.send(event).is_err() || closed {
                    break;
                }
            }
        })?;
        let supervisor = Supervisor::new(kind, store.clone(), events.clone(), table, engine);
        let run =
            std::thread::Builder::new().name(format!("xs-{}", kind.prefix())).spawn(move || supervisor.run(&inbox))?;
        Ok((events, [follow, run]))
    }

    /// Every handler, then every generator, then every action, by name: where it stands
    /// (active, invalid, failed, done, unregistered, stopped, inert, ...),
    /// the register (spawn) frame of that version, and its last error.
    ///
    /// It answers as of the newest lifecycle frame stored when called: a
    /// caller that saw a handler's `.active` frame sees it active. (It
    /// waits up to 2 s for the processor to take that frame in.)
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let store = xs_core::Store::new(dir.path())?;
    /// let processor = xs_core::processor::Processor::spawn(store.clone())?;
    /// assert!(processor.states().is_empty()); // nothing registered yet
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn states(&self) -> Vec<ScriptState> {
        self.states.list()
    }

    /// What runs `POST /eval` scripts in this processor's engine (the server's).
    pub(crate) fn evaluator(&self) -> Evaluator {
        Evaluator::new(self.store.clone(), self.engine.clone())
    }

    /// A handle on [`Processor::states`] that outlives this borrow (the server's).
    pub(crate) fn report(&self) -> States {
        self.states.clone()
    }

    /// Stops every handler (each records `.stopped` after committing what
    /// it finished) and waits for the processor's threads.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.stop_follow.store(true, Ordering::SeqCst);
        for events in &self.events {
            let _ = events.send(Event::Shutdown);
        }
        if self.threads.is_empty() {
            return;
        }
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::error!("a processor thread panicked");
            }
        }
        self.store.release_processor();
    }
}

impl Drop for Processor {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The per-name slots and what they are built from.
struct Supervisor {
    kind: Kind,
    store: Store,
    events: Sender<Event>,
    engine: SharedEngine,
    history: History,
    /// This kind's part of the processor's report.
    table: Arc<Table>,
    modules: Modules,
    slots: HashMap<String, Slot>,
    /// Cancelled or stopped instances whose threads are still winding down.
    retired: Vec<Instance>,
    live: bool,
    /// Generators only: kills their externals if this process dies.
    watchdog: Option<Watchdog>,
    /// Actions only: calls to decide whether any action takes.
    orphans: Option<Orphans>,
}

/// One handler name: what runs, and what is being prepared to replace it.
#[derive(Default)]
struct Slot {
    running: Option<Instance>,
    starting: Option<Starting>,
}

struct Starting {
    instance: Instance,
    /// Register frames to try, in order, if this one proves invalid.
    fallbacks: Vec<Frame>,
    /// The version the last owner was running (marked `.replaced` if another runs).
    was_running: Option<Scru128Id>,
    deadline: Instant,
    timed_out: bool,
}

impl Supervisor {
    fn new(kind: Kind, store: Store, events: Sender<Event>, table: Arc<Table>, engine: SharedEngine) -> Self {
        Supervisor {
            kind,
            events,
            engine,
            history: History::new(kind),
            table,
            modules: Modules::default(),
            slots: HashMap::new(),
            retired: Vec::new(),
            live: false,
            watchdog: None,
            orphans: (kind == Kind::Action).then(|| Orphans::new(store.clone())),
            store,
        }
    }

    fn run(mut self, inbox: &Receiver<Event>) {
        loop {
            let event = match self.deadline() {
                Some(at) => inbox.recv_timeout(at.saturating_duration_since(Instant::now())),
                None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match event {
                Ok(Event::Frame(frame)) => self.frame(frame),
                Ok(Event::Report(report)) => self.report(report),
                Ok(Event::Call(call)) => self.call(call),
                Err(RecvTimeoutError::Timeout) => {
                    self.expire();
                    self.settle();
                }
                Ok(Event::Closed | Event::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.shutdown();
    }

    fn frame(&mut self, frame: Frame) {
        if frame.topic == THRESHOLD {
            if !std::mem::replace(&mut self.live, true) {
                self.table.go_live();
                self.restore();
            }
            return self.settle();
        }
        if let Some(orphans) = self.orphans.as_mut() {
            orphans.saw(frame.id);
        }
        self.lifecycle(frame);
        self.settle();
    }

    fn lifecycle(&mut self, frame: Frame) {
        let inert = self.inert(&frame);
        self.table.take(self.kind, &frame, inert);
        if inert {
            return;
        }
        if self.modules.apply(&frame) {
            return;
        }
        let Some((name, event)) = lifecycle::parse(self.kind, &frame.topic) else { return };
        let name = name.to_string();
        self.history.apply(&frame);
        match event {
            Lifecycle::Register if self.live => self.start(&name, frame, Vec::new(), None),
            Lifecycle::Unregister if self.live => self.unregister(&name),
            _ => {}
        }
    }

    /// True for a frame imported inert ([`Store::import`]): a script from a
    /// dump never runs, so it counts as if it had never been appended
    /// (its register, module and out events alike).
    fn inert(&self, frame: &Frame) -> bool {
        self.store.is_inert(&frame.id).unwrap_or_else(|e| {
            tracing::error!(id = %frame.id, error = %e, "cannot tell whether a frame was imported inert; ignoring it");
            true
        })
    }

    /// At the end of history: confirms what was stopped by request, and
    /// starts what was running.
    fn restore(&mut self) {
        for plan in self.history.plan() {
            if let Some(id) = plan.unregistered {
                self.append(lifecycle::frame(self.kind, &plan.name, Lifecycle::Unregistered, id, &[]));
            }
            let mut candidates = plan.candidates.into_iter();
            if let Some(first) = candidates.next() {
                self.start(&plan.name, first, candidates.collect(), plan.running);
            }
        }
    }

    /// Prepares the handler registered by `register` (a newer register
    /// supersedes one still being prepared).
    fn start(&mut self, name: &str, register: Frame, fallbacks: Vec<Frame>, mut was_running: Option<Scru128Id>) {
        if let Some(stale) = self.slot(name).starting.take() {
            stale.instance.cancel();
            // A version being restored that a new register supersedes is still replaced by it.
            was_running = was_running.or(stale.was_running);
            self.retired.push(stale.instance);
        }
        let id = register.id;
        let owner = self.owner();
        let spec = Spec {
            kind: self.kind,
            owner,
            name: name.to_string(),
            modules: self.modules.as_of(id),
            versions: self.history.versions(name),
            progress: (self.kind == Kind::Mirror).then(|| self.table.progress(name)),
            register,
        };
        match Instance::spawn(spec, self.store.clone(), self.engine.clone(), self.events.clone()) {
            Ok(instance) => {
                let deadline = Instant::now() + PREPARE;
                let starting = Starting { instance, fallbacks, was_running, deadline, timed_out: false };
                self.slot(name).starting = Some(starting);
            }
            Err(e) => tracing::error!(kind = ?self.kind, name, error = %e, "could not start an instance thread"),
        }
    }

    fn report(&mut self, report: Report) {
        match report {
            Report::Ready { name, id, result } => self.ready(&name, id, result),
            Report::Exited { name, id } => self.exited(&name, id),
        }
    }

    /// A prepared instance: valid ones replace what runs; invalid ones are
    /// recorded, and the next fallback (if any) is tried.
    fn ready(&mut self, name: &str, id: Scru128Id, result: std::result::Result<(), String>) {
        let slot = self.slot(name);
        if slot.starting.as_ref().is_none_or(|s| s.instance.id != id) {
            return; // superseded meanwhile
        }
        let Some(starting) = slot.starting.take() else { return };
        match result {
            Ok(()) => self.promote(name, starting),
            Err(error) => {
                let error = if starting.timed_out {
                    format!("the script did not finish evaluating within {}s: {error}", PREPARE.as_secs())
                } else {
                    error
                };
                tracing::warn!(kind = ?self.kind, name, %id, "invalid script");
                self.append(lifecycle::frame(self.kind, name, Lifecycle::Invalid, id, &[("error", error.into())]));
                self.retired.push(starting.instance);
                let mut fallbacks = starting.fallbacks.into_iter();
                if let Some(next) = fallbacks.next() {
                    self.start(name, next, fallbacks.collect(), starting.was_running);
                } else {
                    self.nobody_answers(name, id, "is invalid");
                }
            }
        }
    }

    /// Stops what runs under `name` (it records `.replaced`), then lets `starting` run.
    fn promote(&mut self, name: &str, starting: Starting) {
        let id = starting.instance.id;
        if let Some(mut old) = self.slot(name).running.take() {
            old.stop(Stop::Replaced);
            old.wait(PATIENCE);
        } else if let Some(previous) = starting.was_running.filter(|r| *r != id) {
            self.append(lifecycle::frame(self.kind, name, Lifecycle::Replaced, previous, &[]));
        }
        starting.instance.go();
        self.slot(name).running = Some(starting.instance);
    }

    fn exited(&mut self, name: &str, id: Scru128Id) {
        let slot = self.slot(name);
        if slot.running.as_ref().is_some_and(|r| r.id == id)
            && let Some(mut instance) = slot.running.take()
        {
            instance.wait(PATIENCE);
        }
        if let Some(at) = self.retired.iter().position(|r| r.id == id) {
            self.retired.swap_remove(at).wait(PATIENCE);
        }
    }

    /// `.unregister`: stops the running version (it records
    /// `.unregistered`), and any version being prepared.
    fn unregister(&mut self, name: &str) {
        let slot = self.slot(name);
        let starting = slot.starting.take();
        let running = slot.running.take();
        if let Some(starting) = starting {
            starting.instance.cancel();
            if running.is_none() {
                let id = starting.instance.id;
                self.append(lifecycle::frame(self.kind, name, Lifecycle::Unregistered, id, &[]));
                self.nobody_answers(name, id, "was unregistered");
            }
            self.retired.push(starting.instance);
        }
        if let Some(mut running) = running {
            running.stop(Stop::Unregistered);
            running.wait(PATIENCE);
        }
    }

    /// The earliest deadline of a script still being prepared (or of deferred calls).
    fn deadline(&self) -> Option<Instant> {
        let starting = self.slots.values().filter_map(|s| s.starting.as_ref()).filter(|s| !s.timed_out);
        let retry = self.orphans.as_ref().and_then(Orphans::retry_at);
        starting.map(|s| s.deadline).chain(retry).min()
    }

    /// A call: decided once this supervisor has caught up.
    fn call(&mut self, call: Frame) {
        if let Some(orphans) = self.orphans.as_mut() {
            orphans.defer(call);
        }
        self.settle();
    }

    /// Answers the deferred calls that no action takes, once live and caught up.
    fn settle(&mut self) {
        let Some(ready) = self.orphans.as_mut().filter(|_| self.live).map(Orphans::ready) else { return };
        for call in ready {
            let Some(name) = call::callee(&call.topic) else { continue };
            let saved = !self.covers(name, &call) && orphan::refuse(&self.store, name, &call);
            if let Some(orphans) = self.orphans.as_mut() {
                orphans.decided(call.id, saved);
            }
        }
    }

    /// True when an action of `name` runs (or is being prepared) that
    /// will read `call`: it was registered before the call, or it resumes
    /// from a mark an earlier version left.
    fn covers(&self, name: &str, call: &Frame) -> bool {
        let Some(slot) = self.slots.get(name) else { return false };
        let ids = slot.running.as_ref().map(|r| r.id).into_iter().chain(slot.starting.as_ref().map(|s| s.instance.id));
        let first = ids.min();
        first.is_some_and(|id| id < call.id || call::resume(&self.store, name).is_ok_and(|mark| mark.is_some()))
    }

    /// Interrupts scripts that took too long to prepare; they report invalid.
    fn expire(&mut self) {
        let now = Instant::now();
        for starting in self.slots.values_mut().filter_map(|s| s.starting.as_mut()) {
            if !starting.timed_out && starting.deadline <= now {
                starting.timed_out = true;
                starting.instance.interrupt();
            }
        }
    }

    /// Stops everything: running handlers record `.stopped`.
    fn shutdown(&mut self) {
        if let Some(orphans) = self.orphans.as_mut() {
            orphans.save();
        }
        let mut all: Vec<Instance> = std::mem::take(&mut self.retired);
        for (_, slot) in self.slots.drain() {
            if let Some(starting) = slot.starting {
                starting.instance.cancel();
                all.push(starting.instance);
            }
            if let Some(running) = slot.running {
                running.stop(Stop::Shutdown);
                all.push(running);
            }
        }
        for mut instance in all {
            instance.wait(PATIENCE);
        }
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.release();
        }
        self.table.end();
    }

    /// The token a generator's externals carry in their environment (the
    /// watchdog's, started with the first generator); none for handlers.
    fn owner(&mut self) -> Option<String> {
        if self.kind != Kind::Generator {
            return None;
        }
        if self.watchdog.is_none() {
            match Watchdog::start() {
                Ok(watchdog) => self.watchdog = Some(watchdog),
                Err(e) => {
                    tracing::error!(error = %e, "no watchdog: a killed owner may leave generators' externals behind")
                }
            }
        }
        let token = self.watchdog.as_ref().map(|w| w.token().to_string());
        Some(token.unwrap_or_else(|| format!("{}-unwatched", std::process::id())))
    }

    /// Actions: the version registered by `id` never ran and nothing runs
    /// under `name`, so the calls since `id` get their `.error` answer here.
    fn nobody_answers(&self, name: &str, id: Scru128Id, why: &str) {
        let running = self.slots.get(name).is_some_and(|s| s.running.is_some());
        if self.kind == Kind::Action && !running {
            call::refuse_since(&self.store, name, id, &format!("the action {name} {why}; it answers no calls"));
        }
    }

    fn slot(&mut self, name: &str) -> &mut Slot {
        self.slots.entry(name.to_string()).or_default()
    }

    /// Records a lifecycle out event: the runtime's own, under `xs.`,
    /// where clients may not write.
    fn append(&self, frame: Frame) {
        if let Err(e) = self.store.append_runtime(frame) {
            tracing::error!(error = %e, "could not append a lifecycle frame");
        }
    }
}
