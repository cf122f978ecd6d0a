//! A handler's configuration: the record its register script evaluates to.
//!
//! ```nu
//! {
//!   run: {|frame, state| ... }   # required: exactly two parameters
//!   initial: 0                   # the first state (else run's default for state, else null)
//!   start: "new"                 # "new" (default) | "first" | a frame id (start after it)
//!   topics: ["clip.*"]           # which frames reach run (a list or a comma string)
//!   pulse: 1sec                  # also run on an xs.pulse frame this often (a duration, or ms)
//!   return_options: {suffix: ".out", ttl: "last:10", target: "cas"}
//! }
//! ```
//!
//! Every check names the value at fault with its line in the script, in
//! Nushell's error format: the message becomes `meta.error` of `.invalid`.

use std::time::Duration;

use nu_protocol::{Record, ShellError, Span, Value, engine::Closure};
use scru128::Scru128Id;

use crate::{
    StoreError,
    processor::{engine::Runtime, error::invalid, position::check_state},
    topic::{TopicFilter, validate_append_topic, validate_topic},
    ttl::TTL,
};

const FIELDS: [&str; 6] = ["run", "initial", "start", "topics", "pulse", "return_options"];

/// Where a handler starts reading the first time it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// After its register frame (the default).
    New,
    /// At the beginning of the stream.
    First,
    /// After this frame.
    After(Scru128Id),
}

/// How `out` becomes a frame.
#[derive(Clone, Debug)]
pub(crate) struct Returns {
    /// Appended to the handler's name to make the output topic.
    pub(crate) suffix: String,
    /// The output frames' TTL.
    pub(crate) ttl: Option<TTL>,
    /// Store `out` as the payload (any value) instead of as meta (a record).
    pub(crate) cas: bool,
}

/// A handler's validated configuration.
pub(crate) struct Config {
    pub(crate) run: Closure,
    pub(crate) initial: Value,
    pub(crate) start: Start,
    pub(crate) topics: Option<String>,
    pub(crate) pulse: Option<Duration>,
    pub(crate) returns: Returns,
}

impl Config {
    /// Checks the value a register script of handler `name` evaluated to.
    ///
    /// # Errors
    ///
    /// Nushell's formatted message naming the field at fault.
    pub(crate) fn parse(value: &Value, name: &str, runtime: &Runtime) -> Result<Config, String> {
        Self::fields(value, name, runtime).map_err(|e| runtime.format(&e))
    }

    fn fields(value: &Value, name: &str, runtime: &Runtime) -> Result<Config, ShellError> {
        let Value::Record { val: record, .. } = value else {
            return Err(wrong(value, "the script must evaluate to a record: {run: {|frame, state| ...}}"));
        };
        if let Some((key, v)) = record.iter().find(|(k, _)| !FIELDS.contains(&k.as_str())) {
            return Err(wrong(v, &format!("unknown field {key:?}; a handler's fields are {}", FIELDS.join(", "))));
        }
        let (run, default_state) = run(record, value.span(), runtime)?;
        let initial = match record.get("initial") {
            Some(v) => v.clone(),
            None => default_state,
        };
        check_state(&initial).map_err(|e| wrong(&initial, &e))?;
        Ok(Config {
            run,
            initial,
            start: field(record, "start", start)?.unwrap_or(Start::New),
            topics: field(record, "topics", topics)?,
            pulse: field(record, "pulse", pulse)?,
            returns: returns(record.get("return_options"), name, ".out", value.span())?,
        })
    }
}

/// `run`, and the default of its state parameter.
fn run(record: &Record, span: Span, runtime: &Runtime) -> Result<(Closure, Value), ShellError> {
    let value = record.get("run").ok_or_else(|| {
        invalid("the config has no run closure", "no run field here", span).with_help("add run: {|frame, state| ... }")
    })?;
    let Value::Closure { val: closure, .. } = value else {
        return Err(wrong(value, "run must be a closure: {|frame, state| ... }"));
    };
    let (count, rest) = runtime.arity(closure);
    if count != 2 || rest {
        let got = if rest { "a rest parameter".to_string() } else { format!("{count} parameter(s)") };
        return Err(wrong(value, &format!("run must take exactly two parameters, frame and state; it takes {got}")));
    }
    Ok((closure.as_ref().clone(), runtime.state_default(closure).unwrap_or_else(|| Value::nothing(span))))
}

/// `key` of `record` through `parse`, if present and not null.
fn field<T>(record: &Record, key: &str, parse: fn(&Value) -> Result<T, ShellError>) -> Result<Option<T>, ShellError> {
    match record.get(key) {
        None | Some(Value::Nothing { .. }) => Ok(None),
        Some(v) => parse(v).map(Some),
    }
}

fn start(value: &Value) -> Result<Start, ShellError> {
    let text = value.as_str().map_err(|_| wrong(value, "start must be \"new\", \"first\" or a frame id"))?;
    match text {
        "new" => Ok(Start::New),
        "first" => Ok(Start::First),
        id => id
            .parse()
            .map(Start::After)
            .map_err(|_| wrong(value, &format!("start must be \"new\", \"first\" or a frame id, not {id:?}"))),
    }
}

fn topics(value: &Value) -> Result<String, ShellError> {
    let spec = match value {
        Value::List { vals, .. } => vals
            .iter()
            .map(|v| v.as_str().map(str::to_string).map_err(|_| wrong(v, "topics must be strings")))
            .collect::<Result<Vec<_>, _>>()?
            .join(","),
        Value::String { val, .. } => val.clone(),
        other => return Err(wrong(other, "topics must be a list of topic patterns, or a comma string")),
    };
    TopicFilter::parse(&spec).map_err(|e| wrong(value, &e.to_string()))?;
    Ok(spec)
}

fn pulse(value: &Value) -> Result<Duration, ShellError> {
    let period = match value {
        Value::Duration { val, .. } => u64::try_from(*val).ok().map(Duration::from_nanos),
        Value::Int { val, .. } => u64::try_from(*val).ok().map(Duration::from_millis),
        _ => None,
    };
    period
        .filter(|p| !p.is_zero())
        .ok_or_else(|| wrong(value, "pulse must be a positive duration (1sec), or milliseconds"))
}

/// `return_options` (absent: `default_suffix`, no TTL, out as meta). The
/// output topic (`<name><suffix>`) must be one a client may append to: a
/// handler named `xs.handler.x` with the suffix `.active` would otherwise
/// forge lifecycle events (errors point at `span`, the config, when the
/// options are absent).
pub(crate) fn returns(
    value: Option<&Value>,
    name: &str,
    default_suffix: &str,
    span: Span,
) -> Result<Returns, ShellError> {
    let value = value.filter(|v| !v.is_nothing());
    let returns = return_options(value, name, default_suffix)?;
    let topic = format!("{name}{}", returns.suffix);
    validate_append_topic(&topic).map_err(|e| {
        let label = match e {
            StoreError::ReservedTopic { .. } => "output topic reserved",
            _ => "invalid output topic",
        };
        let message = format!("invalid return_options: the output {e}");
        ShellError::from(invalid(message, label, value.map_or(span, Value::span)))
    })?;
    Ok(returns)
}

fn return_options(value: Option<&Value>, name: &str, default_suffix: &str) -> Result<Returns, ShellError> {
    let mut returns = Returns { suffix: default_suffix.into(), ttl: None, cas: false };
    let Some(value) = value else { return Ok(returns) };
    let Value::Record { val: record, .. } = value else {
        return Err(wrong(value, "return_options must be a record: {suffix?, ttl?, target?}"));
    };
    for (key, v) in record.iter() {
        match key.as_str() {
            "suffix" => returns.suffix = suffix(v, name)?,
            "ttl" => returns.ttl = Some(ttl(v)?),
            "target" => returns.cas = target(v)?,
            other => return Err(wrong(v, &format!("unknown return option {other:?}; they are suffix, ttl, target"))),
        }
    }
    Ok(returns)
}

fn suffix(value: &Value, name: &str) -> Result<String, ShellError> {
    let suffix = value.as_str().map_err(|_| wrong(value, "suffix must be a string, e.g. \".out\""))?;
    validate_topic(&format!("{name}{suffix}")).map_err(|e| wrong(value, &e.to_string()))?;
    Ok(suffix.to_string())
}

fn ttl(value: &Value) -> Result<TTL, ShellError> {
    match value {
        Value::Duration { val, .. } if *val >= 0 => Ok(TTL::Time(Duration::from_nanos(val.unsigned_abs()))),
        Value::String { val, .. } => val.parse().map_err(|e: StoreError| wrong(value, &e.to_string())),
        _ => Err(wrong(value, "ttl must be forever, ephemeral, time:<ms>, last:<n>, or a duration")),
    }
}

fn target(value: &Value) -> Result<bool, ShellError> {
    match value.as_str() {
        Ok("cas") => Ok(true),
        _ => Err(wrong(value, "target must be \"cas\" (store out as the payload), or absent")),
    }
}

/// An error pointing at `value` in the script.
fn wrong(value: &Value, message: &str) -> ShellError {
    invalid(format!("invalid handler config: {message}"), message.to_string(), value.span()).into()
}
