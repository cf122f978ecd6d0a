//! A handler: a register frame's script, prepared, then run over the
//! stream until it finishes, fails or is stopped.
//!
//! The loop reads from where the handler's [`Position`] says (through the
//! topic index when it has `topics`), runs `run` on each frame, and hands
//! what it emitted to its [`Outbox`], which commits outputs and position
//! together. A handler never sees its own output: frames tagged with the
//! id of any version of it, and its own lifecycle frames, are skipped.
//! Its lifecycle frames (`.active` first; `.done`, `.failed`, or the reason
//! it was stopped last) are committed in the same batch as the position,
//! so the stream never says more than the checkpoint holds.

use std::{sync::Arc, time::Duration};

use nu_protocol::{ShellError, Span, Value};
use scru128::Scru128Id;
use ssri::Integrity;

use crate::{
    frame::Frame,
    nu::value::frame_to_value,
    processor::{
        commands::{self, Context},
        config::{Config, Start},
        engine::{Engine, Runtime},
        instance::{Control, Stop},
        lifecycle::{self, Event, Kind},
        module,
        outbox::Outbox,
        output::{out_frame, outcome},
        position::{Position, check_state},
        step::Step,
    },
    read_options::{FollowOption, ReadOptions},
    store::Store,
    store::reader::Reader,
    store::{Next, Poll, THRESHOLD},
};

/// How long an idle handler waits for a frame before checking for a stop.
const TICK: Duration = Duration::from_millis(50);
/// The most inputs one commit covers while a handler works through a backlog.
const BATCH: usize = 1024;
/// The longest a finished input waits for its commit during a backlog.
const LINGER: Duration = Duration::from_millis(50);

/// What the supervisor knows about a handler before it starts.
pub(crate) struct Spec {
    /// A handler or a generator.
    pub(crate) kind: Kind,
    /// Generators: the owner's token, which marks their externals (see `watchdog.rs`).
    pub(crate) owner: Option<String>,
    pub(crate) name: String,
    /// The register frame (its payload is the script).
    pub(crate) register: Frame,
    /// The modules as of the register frame.
    pub(crate) modules: Vec<(String, Integrity)>,
    /// The register ids of every version of this handler so far.
    pub(crate) versions: Vec<Scru128Id>,
    /// Mirrors: the cell their runs report progress in (`xs status`).
    pub(crate) progress: Option<std::sync::Arc<crate::processor::states::Progress>>,
}

/// A prepared handler: its engine, config and outbox.
pub(crate) struct Handler {
    spec: Spec,
    store: Store,
    control: Arc<Control>,
    runtime: Runtime,
    config: Config,
    outbox: Arc<Outbox>,
}

/// Whether the loop goes on.
enum Flow {
    Continue,
    Exit,
}

impl Handler {
    /// Reads the script and evaluates its config in a fresh engine.
    ///
    /// # Errors
    ///
    /// Nushell's formatted message when the script does not parse,
    /// fails, or gives an invalid config; a missing script or module.
    pub(crate) fn prepare(spec: Spec, store: Store, engine: &Engine, control: Arc<Control>) -> Result<Handler, String> {
        let source = script(&store, &spec.register)?;
        let modules = module::load(&store, spec.modules.clone())?;
        let outbox = Arc::new(Outbox::new(store.clone(), spec.register.id));
        let context = Context { store: store.clone(), outbox: Some(outbox.clone()) };
        let mut runtime = engine.runtime(commands::all(&context), &modules, control.interrupt())?;
        let file = lifecycle::topic(Kind::Handler, &spec.name, Event::Register);
        let value = runtime.evaluate(&file, &source)?;
        let config = Config::parse(&value, &spec.name, &runtime)?;
        outbox.discard_current();
        Ok(Handler { spec, store, control, runtime, config, outbox })
    }

    /// Runs until the handler finishes, fails, is stopped, or the store closes.
    pub(crate) fn run(self) {
        let id = self.spec.register.id;
        let position = match self.resume_point() {
            Ok(position) => position,
            Err(e) => return self.fail(None, &e),
        };
        self.outbox.reset(position.clone());
        if let Err(e) = self.outbox.commit(vec![self.lifecycle(Event::Active, &[])]) {
            return tracing::error!(handler = %self.spec.name, %id, error = %e, "could not activate");
        }
        tracing::info!(handler = %self.spec.name, %id, "handler active");
        let reader = match self.store.reader(self.read_options(position.after)) {
            Ok(reader) => reader,
            Err(e) => return self.fail(None, &e.to_string()),
        };
        Runner { step: self.runtime.step(self.config.run.clone()), state: position.state, reader, handler: self }.run();
    }

    /// The stored position, or the first one from the config.
    fn resume_point(&self) -> Result<Position, String> {
        let id = self.spec.register.id;
        if let Some(bytes) = self.store.checkpoint(&Position::key(id)).map_err(|e| e.to_string())? {
            return Position::decode(&bytes);
        }
        let after = match self.config.start {
            Start::New => Some(id),
            Start::First => None,
            Start::After(frame) => Some(frame),
        };
        Ok(Position { after, state: self.config.initial.clone() })
    }

    fn read_options(&self, after: Option<Scru128Id>) -> ReadOptions {
        let follow = self.config.pulse.map_or(FollowOption::On, FollowOption::WithHeartbeat);
        ReadOptions { follow, after, topic: self.config.topics.clone(), ..ReadOptions::default() }
    }

    /// True for frames this handler must not see.
    fn skips(&self, frame: &Frame) -> bool {
        frame.topic == THRESHOLD
            || lifecycle::parse(Kind::Handler, &frame.topic).is_some_and(|(name, _)| name == self.spec.name)
            || handler_id(frame).is_some_and(|id| self.spec.versions.contains(&id))
    }

    /// A lifecycle frame about this handler.
    fn lifecycle(&self, event: Event, extra: &[(&str, serde_json::Value)]) -> Frame {
        lifecycle::frame(Kind::Handler, &self.spec.name, event, self.spec.register.id, extra)
    }

    /// Commits what is finished, with `frame` last.
    fn close(&self, frame: Frame) {
        if let Err(e) = self.outbox.commit(vec![frame]) {
            tracing::error!(handler = %self.spec.name, error = %e, "could not record how the handler ended");
        }
    }

    /// Ends with `.failed`: `error`, and the frame being handled.
    fn fail(&self, input: Option<Scru128Id>, error: &str) {
        tracing::warn!(handler = %self.spec.name, error, "handler failed");
        self.outbox.discard_current();
        let mut extra = vec![("error", error.into())];
        extra.extend(input.map(|id| ("frame_id", id.to_string().into())));
        self.close(self.lifecycle(Event::Failed, &extra));
    }

    /// Ends because the supervisor said so.
    fn stop(&self, reason: Stop) {
        let event = reason.event();
        tracing::info!(handler = %self.spec.name, event = event.as_str(), "handler stopped");
        self.close(self.lifecycle(event, &[]));
    }
}

/// The read loop of a running handler.
struct Runner {
    handler: Handler,
    step: Step,
    state: Value,
    reader: Reader,
}

impl Runner {
    fn run(mut self) {
        while let Flow::Continue = self.step() {}
    }

    /// Waits for (at most) one frame and handles it; commits when the
    /// backlog is done or big enough.
    fn step(&mut self) -> Flow {
        if let Some(reason) = self.handler.control.stopping() {
            self.handler.stop(reason);
            return Flow::Exit;
        }
        let (finished, since) = self.handler.outbox.backlog();
        let wait = if finished == 0 { TICK } else { Duration::ZERO };
        let flow = match self.reader.poll(wait) {
            Ok(Next::Frame(frame)) if self.handler.skips(&frame) => Flow::Continue,
            Ok(Next::Frame(frame)) => self.handle(&frame),
            Ok(Next::Idle) => return self.commit(finished > 0),
            // The store closed under us: the next owner carries on.
            Ok(Next::End) => return Flow::Exit,
            Err(e) => {
                self.handler.fail(None, &e.to_string());
                return Flow::Exit;
            }
        };
        let due = finished + 1 >= BATCH || since.is_some_and(|s| s.elapsed() >= LINGER);
        match flow {
            Flow::Continue => self.commit(due),
            Flow::Exit => Flow::Exit,
        }
    }

    /// Commits the finished inputs when `due`.
    fn commit(&self, due: bool) -> Flow {
        if !due {
            return Flow::Continue;
        }
        match self.handler.outbox.commit(Vec::new()) {
            Ok(_) => Flow::Continue,
            Err(e) => {
                self.handler.fail(None, &e.to_string());
                Flow::Exit
            }
        }
    }

    /// Runs the closure on `frame` and records what it asked for.
    fn handle(&mut self, frame: &Frame) -> Flow {
        self.handler.outbox.discard_current();
        let result = self.call(frame);
        if let Some(reason) = self.handler.control.stopping().filter(|_| result.is_err()) {
            // Interrupted mid-frame: the frame is not finished; the next owner handles it.
            self.handler.outbox.discard_current();
            self.handler.stop(reason);
            return Flow::Exit;
        }
        match result.and_then(|value| self.record(frame, value)) {
            Ok(flow) => flow,
            Err(e) => {
                let message = self.handler.runtime.format(&e);
                self.handler.fail(Some(frame.id), &message);
                Flow::Exit
            }
        }
    }

    fn call(&mut self, frame: &Frame) -> Result<Value, ShellError> {
        let input = frame_to_value(frame, false, Span::unknown());
        self.step.call(input, self.state.clone())
    }

    /// Queues the output of a finished frame; ends the handler when it is done.
    fn record(&mut self, frame: &Frame, value: Value) -> Result<Flow, ShellError> {
        let outcome = outcome(value)?;
        let handler = &self.handler;
        let topic = format!("{}{}", handler.spec.name, handler.config.returns.suffix);
        let out = outcome.out.map(|out| out_frame(&handler.store, topic, out, &handler.config.returns)).transpose()?;
        let done = outcome.next.is_none();
        if let Some(next) = outcome.next {
            check_state(&next).map_err(|e| crate::processor::error::invalid(e, "the next state", next.span()))?;
            self.state = next;
        }
        let position = (frame.topic != crate::store::reader::PULSE).then_some(frame.id);
        handler.outbox.finish(frame.id, out, position, self.state.clone());
        if done {
            tracing::info!(handler = %handler.spec.name, "handler done");
            handler.close(handler.lifecycle(Event::Done, &[("frame_id", frame.id.to_string().into())]));
            return Ok(Flow::Exit);
        }
        Ok(Flow::Continue)
    }
}

/// The script a register frame carries.
pub(crate) fn script(store: &Store, register: &Frame) -> Result<String, String> {
    let hash = register.hash.as_ref().ok_or("the register frame has no script: append the script as its payload")?;
    let bytes = store.cas_read(hash).map_err(|e| format!("the script cannot be read: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "the script is not UTF-8 text".to_string())
}

/// `meta.handler_id` of a frame, if it has one.
fn handler_id(frame: &Frame) -> Option<Scru128Id> {
    frame.meta.as_ref()?.get("handler_id")?.as_str()?.parse().ok()
}
