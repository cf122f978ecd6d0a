//! `xs append`: pipeline input into the CAS, then a frame pointing at it.
//! Inside a handler the frame is queued and committed with the handler's
//! output for the input being handled (its id is null until then).

use nu_engine::CallExt;
use nu_protocol::{
    Example, PipelineData, ShellError, Signature, Spanned, SyntaxShape, Type, Value,
    engine::{Call, Command, EngineState, Stack},
};

use super::{Context, args};
use crate::{
    frame::Frame,
    processor::{error::at, payload, value::frame_to_value},
    topic::validate_append_topic,
};

/// `xs append <topic>`.
#[derive(Clone)]
pub(crate) struct Append(pub(crate) Context);

impl Command for Append {
    fn name(&self) -> &str {
        "xs append"
    }

    fn signature(&self) -> Signature {
        super::signature(self.name())
            .required("topic", SyntaxShape::String, "the frame's topic, e.g. clip.add")
            .named("meta", SyntaxShape::Record(vec![].into()), "a record stored inline with the frame", None)
            .named(
                "ttl",
                SyntaxShape::OneOf(vec![SyntaxShape::Duration, SyntaxShape::String]),
                "retention: forever (default), ephemeral, time:<ms>, last:<n>, or a duration",
                None,
            )
            .input_output_types(vec![(Type::Any, Type::record())])
    }

    fn description(&self) -> &str {
        "Append a frame to the stream, with the pipeline input as its payload"
    }

    fn extra_description(&self) -> &str {
        "Inside a handler's run closure the frame is committed together with the handler's output \
         for the frame being handled (it is tagged with meta.handler_id and meta.frame_id, and its \
         id is null until then)."
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example {
            example: r#""hello" | xs append clip.add"#,
            description: "Append a clip; its payload goes to the CAS",
            result: None,
        }]
    }

    fn run(
        &self,
        engine_state: &EngineState,
        stack: &mut Stack,
        call: &Call,
        input: PipelineData,
    ) -> Result<PipelineData, ShellError> {
        self.0.check_store(engine_state, stack, call)?;
        let topic: Spanned<String> = call.req(engine_state, stack, 0)?;
        validate_append_topic(&topic.item).map_err(at(topic.span))?;
        let meta = call.get_flag::<Value>(engine_state, stack, "meta")?.as_ref().map(args::meta).transpose()?;
        let ttl = call.get_flag::<Value>(engine_state, stack, "ttl")?.as_ref().map(args::ttl).transpose()?;
        let input_span = input.span().unwrap_or(call.head);
        let hash = payload::put(&self.0.store, input, call.head, false)?;
        let frame = Frame { topic: topic.item, hash, meta, ttl, ..Frame::default() };
        let frame = match &self.0.outbox {
            Some(outbox) => {
                outbox.queue(frame.clone());
                let mut value = frame_to_value(&frame, false, call.head);
                if let Value::Record { val, .. } = &mut value {
                    val.to_mut().insert("id", Value::nothing(call.head));
                }
                return Ok(PipelineData::value(value, None));
            }
            None => self.0.store.append(frame).map_err(at(input_span))?,
        };
        Ok(PipelineData::value(frame_to_value(&frame, false, call.head), None))
    }
}
