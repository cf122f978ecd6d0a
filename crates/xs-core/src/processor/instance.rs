//! An instance: one register (or spawn) frame's handler, generator or
//! action on a thread of its own, and the supervisor's handle on it.
//!
//! The thread first prepares the handler (reads the script, evaluates its
//! config in a fresh engine) and reports whether it is valid; then it
//! waits until the supervisor lets it go (after stopping the version it
//! replaces, so one name never has two instances running) or cancels it.
//! Stopping interrupts the script wherever it is (an infinite loop, a
//! sleep, an external): the engine's interrupt is triggered, again and
//! again until the thread is gone, since a `try` may swallow one.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, mpsc::Sender},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use scru128::Scru128Id;

use crate::{
    error::Result,
    processor::{
        action::Action,
        engine::{Engine, Interrupt},
        generator::Generator,
        handler::{Handler, Spec},
        lifecycle::{self, Kind},
        supervisor::Event,
    },
    store::Store,
};

#[cfg(feature = "nats")]
use crate::processor::mirror::MirrorInstance;

/// How often a stopping instance is interrupted again while it winds down.
const RETRIGGER: Duration = Duration::from_millis(100);

/// Why an instance is asked to stop: the lifecycle event it records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// A newer version of the handler takes over: `.replaced`.
    Replaced,
    /// A user appended `.unregister`: `.unregistered`.
    Unregistered,
    /// The owner shuts down: `.stopped` (it runs again under the next owner).
    Shutdown,
}

impl Stop {
    /// The lifecycle event this stop is recorded as.
    pub(crate) fn event(self) -> lifecycle::Event {
        match self {
            Stop::Replaced => lifecycle::Event::Replaced,
            Stop::Unregistered => lifecycle::Event::Unregistered,
            Stop::Shutdown => lifecycle::Event::Stopped,
        }
    }
}

/// What an instance tells the supervisor.
#[derive(Debug)]
pub(crate) enum Report {
    /// The script was read and its config checked: valid, or why not.
    Ready { name: String, id: Scru128Id, result: std::result::Result<(), String> },
    /// The thread is finishing (done, failed, stopped, or never started).
    Exited { name: String, id: Scru128Id },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Starting,
    Running,
    Cancelled,
    Stopping(Stop),
    Exited,
}

/// What the thread and the supervisor share.
pub(crate) struct Control {
    phase: Mutex<Phase>,
    changed: Condvar,
    interrupt: Interrupt,
}

impl Control {
    /// The reason to stop, once one is given.
    pub(crate) fn stopping(&self) -> Option<Stop> {
        match *self.lock() {
            Phase::Stopping(stop) => Some(stop),
            _ => None,
        }
    }

    pub(crate) fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    /// Waits up to `timeout` for a reason to stop (a generator's back-off).
    pub(crate) fn wait_for_stop(&self, timeout: Duration) -> Option<Stop> {
        let deadline = Instant::now() + timeout;
        let mut phase = self.lock();
        loop {
            if let Phase::Stopping(stop) = *phase {
                return Some(stop);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            phase = self.changed.wait_timeout(phase, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Blocks until the supervisor lets the instance run; false if it
    /// was cancelled or stopped first.
    fn wait_for_go(&self) -> bool {
        let mut phase = self.lock();
        while *phase == Phase::Starting {
            phase = self.changed.wait(phase).unwrap_or_else(|p| p.into_inner());
        }
        *phase == Phase::Running
    }

    /// Moves from `from` (any of them) to `to`; false if in another phase.
    fn advance(&self, from: &[Phase], to: Phase) -> bool {
        let mut phase = self.lock();
        let moved = from.contains(&phase);
        if moved {
            *phase = to;
            self.changed.notify_all();
        }
        moved
    }

    fn lock(&self) -> MutexGuard<'_, Phase> {
        // The phase is a plain value: a poisoned lock is taken over.
        self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The supervisor's handle on an instance.
pub(crate) struct Instance {
    pub(crate) id: Scru128Id,
    control: Arc<Control>,
    thread: Option<JoinHandle<()>>,
}

impl Instance {
    /// Starts the thread that prepares `spec` and, once let go, runs it.
    ///
    /// # Errors
    ///
    /// The thread cannot be spawned.
    pub(crate) fn spawn(
        spec: Spec,
        store: Store,
        engine: Arc<OnceLock<std::result::Result<Engine, String>>>,
        events: Sender<Event>,
    ) -> Result<Instance> {
        let id = spec.register.id;
        let interrupt = Interrupt::new(&format!("{}.{}", spec.kind.prefix(), spec.name));
        let control = Arc::new(Control { phase: Mutex::new(Phase::Starting), changed: Condvar::new(), interrupt });
        let shared = control.clone();
        let thread = std::thread::Builder::new()
            .name(format!("{}-{}", spec.kind.prefix(), spec.name))
            .spawn(move || main(spec, store, &engine, &shared, &events))?;
        Ok(Instance { id, control, thread: Some(thread) })
    }

    /// Lets a prepared instance run.
    pub(crate) fn go(&self) {
        self.control.advance(&[Phase::Starting], Phase::Running);
    }

    /// Stops an instance that never ran: it records nothing.
    pub(crate) fn cancel(&self) {
        self.control.advance(&[Phase::Starting], Phase::Cancelled);
        self.control.interrupt.trigger();
    }

    /// Asks the instance to stop for `reason`, interrupting its script.
    pub(crate) fn stop(&self, reason: Stop) {
        if !self.control.advance(&[Phase::Running], Phase::Stopping(reason)) {
            self.cancel();
        }
        self.control.interrupt.trigger();
    }

    /// Interrupts the script without stopping the instance (a config
    /// that takes too long to evaluate then fails, and is reported invalid).
    pub(crate) fn interrupt(&self) {
        self.control.interrupt.trigger();
    }

    /// Waits up to `patience` for the thread to finish (interrupting it
    /// again meanwhile); true once it has.
    pub(crate) fn wait(&mut self, patience: Duration) -> bool {
        let deadline = Instant::now() + patience;
        let mut phase = self.control.lock();
        while *phase != Phase::Exited {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                tracing::warn!(id = %self.id, "an instance did not stop in time; leaving it behind");
                return false;
            };
            phase = self.control.changed.wait_timeout(phase, left.min(RETRIGGER)).unwrap_or_else(|p| p.into_inner()).0;
            if matches!(*phase, Phase::Stopping(_) | Phase::Cancelled) {
                self.control.interrupt.trigger();
            }
        }
        drop(phase);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!(id = %self.id, "an instance thread panicked");
        }
        true
    }
}

/// The thread: prepare, report, wait for the go, run.
fn main(
    spec: Spec,
    store: Store,
    engine: &OnceLock<std::result::Result<Engine, String>>,
    control: &Arc<Control>,
    events: &Sender<Event>,
) {
    let (name, id) = (spec.name.clone(), spec.register.id);
    let _exit = OnExit { name: name.clone(), id, control: control.clone(), events: events.clone() };
    let prepared = catch_unwind(AssertUnwindSafe(|| Prepared::new(spec, store, engine, control.clone())))
        .unwrap_or_else(|_| Err("the script crashed the engine while it was being read".into()));
    let handler = match prepared {
        Ok(handler) => handler,
        Err(e) => return report(events, &name, id, Err(e)),
    };
    report(events, &name, id, Ok(()));
    if control.wait_for_go() && catch_unwind(AssertUnwindSafe(|| handler.run())).is_err() {
        tracing::error!(%name, "an instance panicked; it stops without a lifecycle frame");
    }
}

/// A handler, a generator or an action, ready to run.
enum Prepared {
    Handler(Handler),
    Generator(Generator),
    Action(Action),
    #[cfg(feature = "nats")]
    Mirror(MirrorInstance),
}

impl Prepared {
    /// Prepares `spec`; the engine is built (once, shared) only for the
    /// kinds that run scripts, so a mirror never waits for Nushell.
    fn new(
        spec: Spec,
        store: Store,
        engine: &OnceLock<std::result::Result<Engine, String>>,
        control: Arc<Control>,
    ) -> std::result::Result<Self, String> {
        let engine = || engine.get_or_init(Engine::new).as_ref().map_err(Clone::clone);
        match spec.kind {
            Kind::Handler => Handler::prepare(spec, store, engine()?, control).map(Prepared::Handler),
            Kind::Generator => Generator::prepare(spec, store, engine()?, control).map(Prepared::Generator),
            Kind::Action => Action::prepare(spec, store, engine()?, control).map(Prepared::Action),
            #[cfg(feature = "nats")]
            Kind::Mirror => MirrorInstance::prepare(spec, store, control).map(Prepared::Mirror),
            #[cfg(not(feature = "nats"))]
            Kind::Mirror => Err("this build of xs has no NATS support (the nats feature)".into()),
        }
    }

    fn run(self) {
        match self {
            Prepared::Handler(handler) => handler.run(),
            Prepared::Generator(generator) => generator.run(),
            Prepared::Action(action) => action.run(),
            #[cfg(feature = "nats")]
            Prepared::Mirror(mirror) => mirror.run(),
        }
    }
}

fn report(events: &Sender<Event>, name: &str, id: Scru128Id, result: std::result::Result<(), String>) {
    let _ = events.send(Event::Report(Report::Ready { name: name.to_string(), id, result }));
}

/// Marks the instance exited and tells the supervisor, however the thread ends.
struct OnExit {
    name: String,
    id: Scru128Id,
    control: Arc<Control>,
    events: Sender<Event>,
}

impl Drop for OnExit {
    fn drop(&mut self) {
        {
            let mut phase = self.control.lock();
            *phase = Phase::Exited;
            self.control.changed.notify_all();
        }
        let _ = self.events.send(Event::Report(Report::Exited { name: self.name.clone(), id: self.id }));
    }
}
