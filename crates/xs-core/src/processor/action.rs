//! An action: a register frame's stateless script, run once per call and
//! answered once.
//!
//! ```nu
//! {
//!   run: {|frame| ... }          # required: one parameter, the call frame
//!   return_options: {suffix: ".response", ttl: "last:10", target: "cas"}
//!   concurrency: 4               # calls run at once (default: the number of cores)
//! }
//! ```
//!
//! The instance's thread reads `<name>.*` from the action's low-water
//! mark (see `call.rs`; the first version's mark is its register frame,
//! committed with its `.active`), first the history (collecting which calls are
//! already answered), then live; each unanswered `<name>.call` goes on a
//! queue that `concurrency` workers take calls from, each with its own
//! evaluator over the one engine state. A worker answers through the
//! [`Ledger`], which commits the answer with the mark.
//!
//! Stopping interrupts every running call. Replaced or shut down, an
//! interrupted or queued call is left unanswered, so the next version (or
//! the next owner) runs it; unregistered, every call taken and every call
//! stored before the stop gets an `.error` answer saying so, since no
//! action will answer it any more.

use std::{
    sync::{
        Arc, Mutex,
        mpsc::{self, Receiver, Sender},
    },
    thread::JoinHandle,
    time::Duration,
};

use nu_engine::ClosureEval;
use nu_protocol::{PipelineData, ShellError, Span, Value, engine::Closure};
use serde_json::Value as Json;

use crate::{
    frame::Frame,
    nu::value::frame_to_value,
    processor::{
        call::{self, Ledger, Pending},
        commands::{self, Context},
        config::{Returns, returns},
        engine::{Engine, Runtime},
        error::invalid,
        handler::{Spec, script},
        instance::{Control, Stop},
        lifecycle::{self, Event, Kind},
        module,
    },
    read_options::{FollowOption, ReadOptions},
    store::{Next, Poll, Store, THRESHOLD, reader::Reader},
};

/// How long the reader waits for a frame before checking for a stop.
const TICK: Duration = Duration::from_millis(50);
/// The fields of an action's config.
const FIELDS: [&str; 3] = ["run", "return_options", "concurrency"];

/// An action's validated configuration.
struct Config {
    run: Closure,
    returns: Returns,
    concurrency: usize,
}

/// A prepared action.
pub(crate) struct Action {
    spec: Spec,
    store: Store,
    control: Arc<Control>,
    runtime: Runtime,
    config: Config,
}

/// What the workers share.
struct Shared {
    name: String,
    action_id: scru128::Scru128Id,
    store: Store,
    control: Arc<Control>,
    runtime: Runtime,
    run: Closure,
    returns: Returns,
    ledger: Ledger,
    queue: Mutex<Receiver<Frame>>,
}

impl Action {
    /// Reads the script and evaluates its config in a fresh engine.
    ///
    /// # Errors
    ///
    /// Nushell's formatted message when the script does not parse, fails,
    /// or gives an invalid config; a missing script or module.
    pub(crate) fn prepare(spec: Spec, store: Store, engine: &Engine, control: Arc<Control>) -> Result<Self, String> {
        let source = script(&store, &spec.register)?;
        let modules = module::load(&store, spec.modules.clone())?;
        let context = Context { store: store.clone(), outbox: None };
        let mut runtime = engine.runtime(commands::all(&context), &modules, control.interrupt())?;
        let file = lifecycle::topic(Kind::Action, &spec.name, Event::Register);
        let value = runtime.evaluate(&file, &source)?;
        let config = Config::parse(&value, &spec.name, &runtime).map_err(|e| runtime.format(&e))?;
        Ok(Action { spec, store, control, runtime, config })
    }

    /// Answers calls until stopped or the store closes.
    pub(crate) fn run(self) {
        let Action { spec, store, control, runtime, config } = self;
        let name = spec.name.clone();
        let low = match call::resume(&store, &name) {
            Ok(low) => low.unwrap_or(spec.register.id),
            Err(e) => return record(&store, &spec, Event::Failed, &[("error", e.to_string().into())]),
        };
        let options = ReadOptions {
            follow: FollowOption::On,
            after: Some(low),
            topic: Some(format!("{name}.*")),
            ..ReadOptions::default()
        };
        let reader = match store.reader(options) {
            Ok(reader) => reader,
            Err(e) => return record(&store, &spec, Event::Failed, &[("error", e.to_string().into())]),
        };
        let ledger = Ledger::new(store.clone(), &name, low);
        let active = lifecycle::frame(Kind::Action, &name, Event::Active, spec.register.id, &[]);
        if let Err(e) = ledger.open(active) {
            return tracing::error!(action = %name, error = %e, "could not activate");
        }
        tracing::info!(action = %name, id = %spec.register.id, "action active");
        let (queue, inbox) = mpsc::channel();
        let (run, returns, concurrency) = (config.run, config.returns, config.concurrency);
        let shared = Arc::new(Shared {
            name,
            action_id: spec.register.id,
            store: store.clone(),
            control: control.clone(),
            runtime,
            run,
            returns,
            ledger,
            queue: Mutex::new(inbox),
        });
        let workers = (0..concurrency).filter_map(|n| shared.clone().spawn(n)).collect();
        let mut dispatcher = Dispatcher { shared, queue: Some(queue), workers, pending: Some(Pending::default()) };
        let reason = dispatcher.read(reader);
        dispatcher.finish(reason, &spec);
    }
}

/// The instance's thread: reads calls and queues them for the workers.
struct Dispatcher {
    shared: Arc<Shared>,
    queue: Option<Sender<Frame>>,
    workers: Vec<JoinHandle<()>>,
    /// The history being read: calls and answers (none once live).
    pending: Option<Pending>,
}

impl Dispatcher {
    /// Reads until stopped; `None` when the store closed or failed.
    fn read(&mut self, mut reader: Reader) -> Option<(Stop, Reader)> {
        loop {
            if let Some(reason) = self.shared.control.stopping() {
                return Some((reason, reader));
            }
            match reader.poll(TICK) {
                Ok(Next::Frame(frame)) => self.frame(frame),
                Ok(Next::Idle) => {}
                Ok(Next::End) => return None,
                Err(e) => {
                    tracing::error!(action = %self.shared.name, error = %e, "an action cannot read its calls");
                    return None;
                }
            }
        }
    }

    fn frame(&mut self, frame: Frame) {
        let name = &self.shared.name;
        if frame.topic == THRESHOLD {
            let history = self.pending.take().unwrap_or_default();
            history.unanswered().into_iter().for_each(|call| self.queue(call));
        } else if let Some(pending) = self.pending.as_mut() {
            pending.take(frame, name);
        } else if frame.topic == call::call_topic(name) {
            self.queue(frame);
        }
    }

    fn queue(&self, call: Frame) {
        self.shared.ledger.take(call.id);
        if let Some(queue) = &self.queue {
            let _ = queue.send(call);
        }
    }

    /// Lets the workers finish, answers what an unregister leaves, and
    /// records how the action ended.
    fn finish(mut self, reason: Option<(Stop, Reader)>, spec: &Spec) {
        drop(self.queue.take());
        for worker in self.workers.drain(..) {
            if worker.join().is_err() {
                tracing::error!(action = %self.shared.name, "an action worker panicked");
            }
        }
        let Some((reason, reader)) = reason else { return };
        if reason == Stop::Unregistered {
            self.refuse_rest(reader);
        }
        let event = reason.event();
        tracing::info!(action = %self.shared.name, event = event.as_str(), "action stopped");
        record(&self.shared.store, spec, event, &[]);
    }

    /// Unregistered: every call stored by now that this action has not
    /// taken gets its `.error` answer (nothing else would answer it).
    fn refuse_rest(&mut self, mut reader: Reader) {
        let name = self.shared.name.clone();
        let mut rest = self.pending.take().unwrap_or_default();
        loop {
            match reader.poll(Duration::ZERO) {
                Ok(Next::Frame(frame)) if frame.topic != THRESHOLD => rest.take(frame, &name),
                Ok(Next::Frame(_)) => {}
                Ok(Next::Idle | Next::End) => break,
                Err(e) => return tracing::error!(action = %name, error = %e, "cannot read the last calls"),
            }
        }
        // Calls read now are taken here; queued ones were taken when queued.
        let rest = rest.unanswered();
        rest.iter().for_each(|call| self.shared.ledger.take(call.id));
        let queue = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        for call in queue.try_iter().chain(rest) {
            self.shared.refuse(&call);
        }
    }
}

impl Shared {
    /// Starts worker `n`; `None` (logged) if its thread cannot start.
    fn spawn(self: Arc<Self>, n: usize) -> Option<JoinHandle<()>> {
        let (action, thread) = (self.name.clone(), format!("{}.{}-{n}", Kind::Action.prefix(), self.name));
        std::thread::Builder::new()
            .name(thread)
            .spawn(move || self.work())
            .inspect_err(|e| tracing::error!(%action, error = %e, "could not start an action worker"))
            .ok()
    }

    /// Takes calls off the queue until it closes; stops taking them once stopping.
    fn work(&self) {
        let mut eval = self.runtime.closure(self.run.clone());
        loop {
            if self.control.stopping().is_some() {
                return;
            }
            let next = self.queue.lock().unwrap_or_else(|p| p.into_inner()).recv_timeout(TICK);
            match next {
                Ok(call) => self.answer(&mut eval, &call),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Runs `call` and commits its answer (none if a replace or shutdown interrupted it).
    fn answer(&self, eval: &mut ClosureEval, call: &Frame) {
        let result = run(eval, call).and_then(|value| call::response(&self.store, &self.name, &self.returns, value));
        let answer = match result {
            Ok(response) => response,
            Err(_) if self.control.stopping() == Some(Stop::Unregistered) => return self.refuse(call),
            // Interrupted: the next version or owner runs it again.
            Err(_) if self.control.stopping().is_some() => return,
            Err(e) => call::error(&self.name, &self.runtime.format(&e)),
        };
        self.commit(call, answer);
    }

    /// Answers `call` with the action's unregistering.
    fn refuse(&self, call: &Frame) {
        let message = format!("the action {} was unregistered before it answered this call", self.name);
        self.commit(call, call::error(&self.name, &message));
    }

    fn commit(&self, call: &Frame, answer: Frame) {
        let answer = call::tag(answer, call.id, Some(self.action_id));
        if let Err(e) = self.ledger.answer(call.id, answer) {
            tracing::error!(action = %self.name, call = %call.id, error = %e, "could not answer a call");
        }
    }
}

/// The value `run` gives for `call`, its output collected.
fn run(eval: &mut ClosureEval, call: &Frame) -> Result<Value, ShellError> {
    let input = frame_to_value(call, false, Span::unknown());
    eval.add_arg(input)?.run_with_input(PipelineData::empty())?.into_value(Span::unknown())
}

/// Records a lifecycle event of the action `spec` registered.
fn record(store: &Store, spec: &Spec, event: Event, extra: &[(&str, Json)]) {
    let frame = lifecycle::frame(Kind::Action, &spec.name, event, spec.register.id, extra);
    if let Err(e) = store.append_runtime(frame) {
        tracing::error!(action = %spec.name, error = %e, "could not append a lifecycle frame");
    }
}

impl Config {
    /// Checks the value a register script evaluated to.
    fn parse(value: &Value, name: &str, runtime: &Runtime) -> Result<Config, ShellError> {
        let Value::Record { val: record, .. } = value else {
            return Err(wrong(value, "the script must evaluate to a record: {run: {|frame| ...}}"));
        };
        if let Some((key, v)) = record.iter().find(|(k, _)| !FIELDS.contains(&k.as_str())) {
            return Err(wrong(v, &format!("unknown field {key:?}; an action's fields are {}", FIELDS.join(", "))));
        }
        let run = match record.get("run") {
            Some(closure @ Value::Closure { val, .. }) => {
                if runtime.arity(val) != (1, false) {
                    return Err(wrong(closure, "run takes one parameter, the call frame: {|frame| ...}"));
                }
                val.as_ref().clone()
            }
            Some(other) => return Err(wrong(other, "run must be a closure: {|frame| ...}")),
            None => {
                return Err(invalid("the config has no run closure", "no run field here", value.span())
                    .with_help("add run: {|frame| ... }")
                    .into());
            }
        };
        let options = record.get("return_options");
        let returns = returns(options, name, ".response", value.span())?;
        if !returns.suffix.starts_with('.') || [".call", ".error"].contains(&returns.suffix.as_str()) {
            let at = options.unwrap_or(value);
            return Err(wrong(at, "the suffix starts with '.' and is neither .call nor .error (e.g. \".response\")"));
        }
        Ok(Config { run, returns, concurrency: concurrency(record.get("concurrency"))? })
    }
}

/// `concurrency`, or the number of cores.
fn concurrency(value: Option<&Value>) -> Result<usize, ShellError> {
    match value {
        None | Some(Value::Nothing { .. }) => Ok(std::thread::available_parallelism().map_or(1, usize::from)),
        Some(v @ Value::Int { val, .. }) => usize::try_from(*val)
            .ok()
            .filter(|n| (1..=1024).contains(n))
            .ok_or_else(|| wrong(v, "concurrency must be between 1 and 1024")),
        Some(other) => Err(wrong(other, "concurrency must be an int: how many calls run at once")),
    }
}

/// An error pointing at `value` in the script.
fn wrong(value: &Value, message: &str) -> ShellError {
    invalid(format!("invalid action config: {message}"), message.to_string(), value.span()).into()
}
