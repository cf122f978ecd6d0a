//! `xs call`: call an action and wait for its answer.
//!
//! A call is an ordinary frame, `<name>.call` with `meta.args` and the
//! pipeline input as its payload; the owner's action answers it with one
//! `<name>.response` (or its suffix) or `<name>.error` frame whose
//! `meta.frame_id` is the call's id. This command appends the call and
//! follows `<name>.*` from the call on until that answer comes, so it
//! works the same on a local store, through the owner's socket, and
//! against a remote one. Nothing is kept on the caller's side: a call
//! that times out is still answered in the stream, under its id.

use std::time::{Duration, Instant};

use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Span, Spanned, SyntaxShape, Type, Value};
use serde_json::{Map, Value as Json};

use super::StoreCommand;
use crate::{
    FollowOption, Frame, ReadOptions,
    id::Scru128Id,
    nu::{Appended, Host, Next, StoreAccess, args, error, value},
    store::THRESHOLD,
};

/// How often the wait checks for Ctrl-C.
const TICK: Duration = Duration::from_millis(100);

/// `xs call <name> [--args record] [--timeout duration]`.
pub struct Call;

impl StoreCommand for Call {
    fn name(&self) -> &str {
        "xs call"
    }

    fn description(&self) -> &str {
        "Call an action: append <name>.call with the input as its payload, wait for the answer, return it"
    }

    fn extra_description(&self) -> &str {
        "The action registered on xs.action.<name>.register gets the call frame (its meta.args is \
         --args). A response whose value is a record returns that record; any other value is its \
         payload, returned like `xs cas` returns content. An .error answer is an error with the \
         action's message. With --timeout, no answer in time is an error naming the call's id: its \
         answer still comes to the stream (meta.frame_id is the call's id). Inside a handler's run a \
         call cannot be waited for (the handler's appends are committed when it finishes the frame): \
         append <name>.call there instead."
    }

    fn signature(&self) -> Signature {
        super::signature(self.name())
            .required("name", SyntaxShape::String, "the action's name, e.g. fetch")
            .named("args", SyntaxShape::Record(vec![].into()), "the call's arguments (its meta.args)", Some('a'))
            .named("timeout", SyntaxShape::Duration, "how long to wait for the answer (default: forever)", Some('t'))
            .input_output_types(vec![(Type::Any, Type::Any)])
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "xs call fetch --args {url: https://example.com}",
                description: "Call the fetch action (handlers/fetch.nu): {status, hash, bytes}",
                result: None,
            },
            Example {
                example: "\"some text\" | xs call summarise --timeout 30sec",
                description: "Call an action with a payload, waiting at most 30 seconds",
                result: None,
            },
        ]
    }

    fn run(&self, host: &dyn Host, call: &EvaluatedCall, input: PipelineData) -> Result<PipelineData, LabeledError> {
        let name: Spanned<String> = call.req(0)?;
        let topic = format!("{}.call", name.item);
        crate::topic::validate_append_topic(&topic).map_err(error::at(name.span))?;
        let args = call.get_flag_value("args").as_ref().map(args::meta).transpose()?;
        let timeout = call.get_flag_value("timeout").as_ref().map(duration).transpose()?;
        let mut payload = args::payload(input, call.head)?;
        let store = host.store(call)?;
        let meta = Json::Object(Map::from_iter([("args".to_string(), args.unwrap_or(Json::Object(Map::new())))]));
        let template = Frame { topic, meta: Some(meta), ..Frame::default() };
        let id = match store.append(template, &mut payload.item).map_err(error::at(payload.span))? {
            Appended::Durable(frame) => frame.id,
            Appended::Queued(_) => return Err(in_handler(call.head)),
        };
        let wait = Wait { name: &name.item, id, head: call.head, deadline: timeout.map(|t| Instant::now() + t) };
        let answer = wait.answer(store.as_ref(), host)?;
        wait.value(store.as_ref(), host, &answer)
    }
}

/// One call waiting for its answer.
struct Wait<'a> {
    name: &'a str,
    id: Scru128Id,
    head: Span,
    deadline: Option<Instant>,
}

impl Wait<'_> {
    /// Follows `<name>.*` after the call until its answer.
    fn answer(&self, store: &dyn StoreAccess, host: &dyn Host) -> Result<Frame, LabeledError> {
        let topic = format!("{}.*", self.name);
        let options = ReadOptions::builder().follow(FollowOption::On).after(self.id).topic(topic).build();
        let mut reader = store.read(options).map_err(error::at(self.head))?;
        let signals = host.signals();
        loop {
            let left = self.deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                return Err(self.timed_out());
            }
            signals.check(&self.head).map_err(LabeledError::from)?;
            match reader.poll(left.map_or(TICK, |l| l.min(TICK))).map_err(error::at(self.head))? {
                Next::Frame(frame) if frame.topic != THRESHOLD && self.answers(&frame) => return Ok(frame),
                Next::Frame(_) | Next::Idle => {}
                Next::End => {
                    return Err(error::invalid("the store closed before the call was answered", "", self.head));
                }
            }
        }
    }

    /// True for the answer to this call.
    fn answers(&self, frame: &Frame) -> bool {
        let Some(meta) = frame.meta.as_ref() else { return false };
        let is_answer = frame.topic == format!("{}.error", self.name) || meta.get("action_id").is_some();
        is_answer && meta.get("frame_id").and_then(Json::as_str) == Some(self.id.to_string().as_str())
    }

    /// The answer as a value: an error, a payload, the meta record, or nothing.
    fn value(&self, store: &dyn StoreAccess, host: &dyn Host, answer: &Frame) -> Result<PipelineData, LabeledError> {
        let mut meta = match answer.meta.clone() {
            Some(Json::Object(map)) => map,
            _ => Map::new(),
        };
        if answer.topic == format!("{}.error", self.name) {
            let message = meta.get("error").and_then(Json::as_str).unwrap_or("the action failed");
            return Err(LabeledError::new(message.to_string())
                .with_label(format!("the action {} answered call {} with an error", self.name, self.id), self.head));
        }
        if let Some(hash) = &answer.hash {
            let reader = store.cas_reader(hash).map_err(error::at(self.head))?;
            return super::cas::content(reader, self.head, host.signals()).map_err(error::at(self.head));
        }
        meta.remove("action_id");
        meta.remove("frame_id");
        if meta.is_empty() {
            // `run` returned nothing (an empty record reads the same).
            return Ok(PipelineData::value(Value::nothing(self.head), None));
        }
        Ok(PipelineData::value(value::from_json(&Json::Object(meta), self.head), None))
    }

    fn timed_out(&self) -> LabeledError {
        error::invalid(
            format!("no answer to call {} within the timeout", self.id),
            "timed out waiting for the answer",
            self.head,
        )
        .with_help(format!(
            "the answer still comes to the stream: xs cat -T '{}.*' | where meta.frame_id? == '{}'",
            self.name, self.id
        ))
    }
}

/// `--timeout` as a duration.
fn duration(value: &Value) -> Result<Duration, LabeledError> {
    match value {
        Value::Duration { val, .. } if *val >= 0 => Ok(Duration::from_nanos(val.unsigned_abs())),
        other => Err(error::invalid("the timeout must be a positive duration", "e.g. 30sec", other.span())),
    }
}

fn in_handler(head: Span) -> LabeledError {
    error::invalid(
        "xs call cannot wait inside a handler: the call is appended only when the handler finishes this frame",
        "the call is queued, not sent",
        head,
    )
    .with_help("in a handler, append the call (xs append <name>.call --meta {args: ...}) and handle <name>.response")
}
