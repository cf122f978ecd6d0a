//! A generator: a spawn frame's pipeline, run under the owner, whose
//! values become frames.
//!
//! ```nu
//! {
//!   run: {|| tail -F app.log }    # required: no parameters
//!   duplex: false                 # true: <name>.send payloads become its input
//!   return_options: {suffix: ".recv", ttl: "last:100"}
//! }
//! ```
//!
//! Each value the pipeline yields is appended at once on `<name>.recv`
//! (or the suffix), with `meta.generator_id` (the spawn frame's id): a
//! string is the payload, a record the meta, binary the payload, any other
//! value its JSON text; an external's output is one frame per line (the
//! line without its newline; an empty line is a frame without payload),
//! or, when the stream is typed binary, one frame per chunk read.
//!
//! When the pipeline ends on its own it runs again after a delay that
//! starts at 1 s and doubles up to [`MAX_DELAY`] (back to 1 s after a run
//! that lasted that long). Each restart rewrites one frame,
//! `xs.generator.<name>.restarting` (TTL `last:1`, `meta: {generator_id,
//! attempt, delay_ms}`): visible, and never more than one in the stream.
//! An error ends it with `.failed`. Stopping it (terminate, replace,
//! shutdown) interrupts the pipeline, kills its externals' process groups
//! and then anything still marked as its own (`watchdog.rs`), and records
//! the reason.

use std::{
    io::BufRead,
    sync::Arc,
    time::{Duration, Instant},
};

use nu_protocol::{ByteStream, ByteStreamType, PipelineData, ShellError, Span, Value, engine::Closure};
use serde_json::{Map, Value as Json};

use crate::{
    frame::Frame,
    nu::value::{record_to_json, to_json},
    processor::{
        commands::{self, Context},
        config::{Returns, returns},
        duplex::Sends,
        engine::{Engine, Runtime},
        error::{invalid, store_error},
        handler::{Spec, script},
        instance::{Control, Stop},
        lifecycle::{self, Event, Kind},
        module, watchdog,
    },
    store::Store,
};

/// The first restart delay.
const FIRST_DELAY: Duration = Duration::from_secs(1);
/// The longest restart delay.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(32);
/// The fields of a generator's config.
const FIELDS: [&str; 3] = ["run", "duplex", "return_options"];

/// A generator's validated configuration.
struct Config {
    run: Closure,
    duplex: bool,
    returns: Returns,
}

/// A prepared generator.
pub(crate) struct Generator {
    spec: Spec,
    store: Store,
    control: Arc<Control>,
    runtime: Runtime,
    config: Config,
    /// `XS_GENERATOR` in its externals' environment.
    mark: String,
}

impl Generator {
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
        let mark = watchdog::mark(spec.owner.as_deref().unwrap_or("unowned"), &spec.register.id.to_string());
        runtime.set_env(watchdog::MARK, &mark);
        let file = lifecycle::topic(Kind::Generator, &spec.name, Event::Register);
        let value = runtime.evaluate(&file, &source)?;
        let config = Config::parse(&value, &spec.name, &runtime).map_err(|e| runtime.format(&e))?;
        Ok(Generator { spec, store, control, runtime, config, mark })
    }

    /// Runs the pipeline, again and again, until it fails or is stopped.
    pub(crate) fn run(self) {
        let sends = match self.config.duplex.then(|| Sends::start(&self.store, self.topic(".send"))).transpose() {
            Ok(sends) => sends,
            Err(e) => return self.record(Event::Failed, &[("error", e.to_string().into())]),
        };
        self.record(Event::Active, &[]);
        tracing::info!(generator = %self.spec.name, id = %self.spec.register.id, "generator active");
        let mut backoff = Backoff::default();
        loop {
            let started = Instant::now();
            let result = self.once(sends.as_ref());
            watchdog::kill_marked(&self.mark);
            if let Some(reason) = self.control.stopping() {
                return self.stop(reason);
            }
            if let Err(e) = result {
                let error = self.runtime.format(&e);
                tracing::warn!(generator = %self.spec.name, error, "generator failed");
                return self.record(Event::Failed, &[("error", error.into())]);
            }
            let delay = backoff.next(started.elapsed());
            self.restarting(backoff.attempt, delay);
            if let Some(reason) = self.control.wait_for_stop(delay) {
                return self.stop(reason);
            }
        }
    }

    /// One run of the pipeline, every value it yields appended.
    fn once(&self, sends: Option<&Sends>) -> Result<(), ShellError> {
        let input = sends.map_or(PipelineData::empty(), Sends::input);
        let data = self.runtime.closure(self.config.run.clone()).run_with_input(input)?;
        match data {
            PipelineData::Empty => Ok(()),
            PipelineData::Value(Value::List { vals, .. }, _) => vals.into_iter().try_for_each(|v| self.value(v)),
            PipelineData::Value(value, _) => self.value(value),
            PipelineData::ListStream(stream, _) => stream.into_iter().try_for_each(|v| self.value(v)),
            PipelineData::ByteStream(stream, _) => self.bytes(stream),
        }
    }

    /// Appends one value the pipeline yielded.
    fn value(&self, value: Value) -> Result<(), ShellError> {
        let span = value.span();
        match value {
            Value::Error { error, .. } => Err(*error),
            Value::Nothing { .. } => Ok(()),
            Value::Record { val, .. } => self.emit(None, record_to_json(&val)?, span),
            Value::String { val, .. } => self.emit(Some(val.as_bytes()), Map::new(), span),
            Value::Binary { val, .. } => self.emit(Some(&val), Map::new(), span),
            other => self.emit(Some(to_json(&other)?.to_string().as_bytes()), Map::new(), span),
        }
    }

    /// An external's output: a frame per line, or per chunk when binary.
    fn bytes(&self, stream: ByteStream) -> Result<(), ShellError> {
        let span = stream.span();
        let binary = stream.type_() == ByteStreamType::Binary;
        let Some(mut reader) = stream.reader() else { return Ok(()) };
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = if binary { chunk(&mut reader, &mut line) } else { reader.read_until(b'\n', &mut line) };
            if read.map_err(|e| io_error(e, span))? == 0 {
                return Ok(());
            }
            if !binary {
                trim_newline(&mut line);
            }
            self.emit(Some(&line), Map::new(), span)?;
        }
    }

    /// Appends a frame on `<name>.recv`: `payload` (none if empty) and `meta` with `generator_id`.
    fn emit(&self, payload: Option<&[u8]>, mut meta: Map<String, Json>, span: Span) -> Result<(), ShellError> {
        meta.insert("generator_id".into(), self.spec.register.id.to_string().into());
        let mut frame =
            Frame { topic: self.topic(&self.config.returns.suffix), ttl: self.config.returns.ttl, ..Frame::default() };
        frame.meta = Some(Json::Object(meta));
        if let Some(bytes) = payload.filter(|b| !b.is_empty()) {
            let mut writer = self.store.cas_writer();
            std::io::Write::write_all(&mut writer, bytes).map_err(|e| io_error(e, span))?;
            frame.hash = Some(writer.commit().map_err(|e| store_error(e, span))?);
        }
        self.store.append(frame).map(drop).map_err(|e| store_error(e, span))
    }

    fn topic(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.spec.name)
    }

    /// Rewrites the one `.restarting` frame of this generator.
    fn restarting(&self, attempt: u32, delay: Duration) {
        tracing::info!(generator = %self.spec.name, attempt, ?delay, "generator ended; restarting");
        self.append(lifecycle::restarting(
            Kind::Generator,
            &self.spec.name,
            self.spec.register.id,
            attempt,
            delay,
            None,
        ));
    }

    /// Ends because the supervisor said so.
    fn stop(&self, reason: Stop) {
        let event = reason.event();
        tracing::info!(generator = %self.spec.name, event = event.as_str(), "generator stopped");
        self.record(event, &[]);
    }

    fn record(&self, event: Event, extra: &[(&str, Json)]) {
        self.append(lifecycle::frame(Kind::Generator, &self.spec.name, event, self.spec.register.id, extra));
    }

    /// Records a lifecycle (or `.restarting`) frame: the runtime's own,
    /// under `xs.`, where clients may not write.
    fn append(&self, frame: Frame) {
        if let Err(e) = self.store.append_runtime(frame) {
            tracing::error!(generator = %self.spec.name, error = %e, "could not append a lifecycle frame");
        }
    }
}

impl Config {
    /// Checks the value a spawn script evaluated to.
    fn parse(value: &Value, name: &str, runtime: &Runtime) -> Result<Config, ShellError> {
        let Value::Record { val: record, .. } = value else {
            return Err(wrong(value, "the script must evaluate to a record: {run: {|| ...}}"));
        };
        if let Some((key, v)) = record.iter().find(|(k, _)| !FIELDS.contains(&k.as_str())) {
            return Err(wrong(v, &format!("unknown field {key:?}; a generator's fields are {}", FIELDS.join(", "))));
        }
        let run = match record.get("run") {
            Some(closure @ Value::Closure { val, .. }) => {
                if runtime.arity(val) != (0, false) {
                    return Err(wrong(closure, "run takes no parameters: {|| ...} (its input is the .send payloads)"));
                }
                val.as_ref().clone()
            }
            Some(other) => return Err(wrong(other, "run must be a closure: {|| ...}")),
            None => {
                return Err(invalid("the config has no run closure", "no run field here", value.span())
                    .with_help("add run: {|| ... }")
                    .into());
            }
        };
        let duplex = match record.get("duplex") {
            None | Some(Value::Nothing { .. }) => false,
            Some(Value::Bool { val, .. }) => *val,
            Some(other) => return Err(wrong(other, "duplex must be true or false")),
        };
        let options = record.get("return_options");
        let returns = returns(options, name, ".recv", value.span())?;
        if let Some(options) = options.filter(|_| returns.cas) {
            return Err(wrong(options, "a generator has no target: strings and bytes are payloads, records meta"));
        }
        Ok(Config { run, duplex, returns })
    }
}

/// An error pointing at `value` in the script.
fn wrong(value: &Value, message: &str) -> ShellError {
    invalid(format!("invalid generator config: {message}"), message.to_string(), value.span()).into()
}

/// The restart delays: 1 s, 2 s, 4 s, ... up to [`MAX_DELAY`].
#[derive(Default)]
pub(crate) struct Backoff {
    pub(crate) attempt: u32,
}

impl Backoff {
    /// The delay before the next run, given how long the last one lasted.
    pub(crate) fn next(&mut self, lasted: Duration) -> Duration {
        if lasted >= MAX_DELAY {
            self.attempt = 0;
        }
        let delay = FIRST_DELAY.saturating_mul(1 << self.attempt.min(16)).min(MAX_DELAY);
        self.attempt += 1;
        delay
    }
}

/// Whatever the reader has now (at least one byte, or none at the end).
fn chunk(reader: &mut impl BufRead, into: &mut Vec<u8>) -> std::io::Result<usize> {
    let available = reader.fill_buf()?;
    let n = available.len();
    into.extend_from_slice(available);
    reader.consume(n);
    Ok(n)
}

fn trim_newline(line: &mut Vec<u8>) {
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
}

/// An I/O error of the output stream (nushell's own errors come through whole).
fn io_error(error: std::io::Error, span: Span) -> ShellError {
    match nu_protocol::shell_error::bridge::ShellErrorBridge::try_from(error) {
        Ok(bridge) => bridge.0,
        Err(error) => invalid(error.to_string(), "reading the pipeline's output", span).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_to_a_cap_and_resets_after_a_long_run() {
        let mut backoff = Backoff::default();
        let short = Duration::from_millis(10);
        let delays: Vec<u64> = (0..8).map(|_| backoff.next(short).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 32, 32]);
        assert_eq!(backoff.next(MAX_DELAY).as_secs(), 1);
    }
}
