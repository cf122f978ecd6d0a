//! `xs append`: pipeline input into the CAS, then a frame pointing at it.

use super::StoreCommand;
use crate::{
    Frame,
    nu::{Appended, Host, args, error, value},
};
use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Span, Spanned, SyntaxShape, Type, Value, record};

/// `xs append <topic>`.
pub struct Append;

impl StoreCommand for Append {
    fn name(&self) -> &str {
        "xs append"
    }

    fn description(&self) -> &str {
        "Append a frame to the stream, with the pipeline input as its payload"
    }

    fn extra_description(&self) -> &str {
        "The input may be nothing (no payload), a string, binary, a byte stream (streamed into the \
         CAS in constant memory, e.g. `open --raw big.iso | xs append iso`), or a record or list \
         (stored as JSON). Returns the frame once it is durable. Inside a handler the frame is \
         queued and committed with the handler's output for the frame it handles, so its id is null."
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

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: r#"("hello" | xs append clip.add).hash"#,
                description: "Append a clip; its payload goes to the CAS",
                result: Some(Value::test_string("sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")),
            },
            Example {
                example: "(xs append clip.add --meta {source: keyboard}).meta",
                description: "Append a frame with meta and no payload",
                result: Some(Value::test_record(record! {"source" => Value::test_string("keyboard")})),
            },
            Example {
                example: "xs append presence --ttl 1hr",
                description: "Append a frame that expires after an hour",
                result: None,
            },
            Example {
                example: "open --raw big.iso | xs append iso --ttl last:1",
                description: "Stream a large file into the CAS, keeping only the newest iso frame",
                result: None,
            },
        ]
    }

    fn run(&self, host: &dyn Host, call: &EvaluatedCall, input: PipelineData) -> Result<PipelineData, LabeledError> {
        let topic: Spanned<String> = call.req(0)?;
        crate::topic::validate_append_topic(&topic.item).map_err(error::at(topic.span))?;
        let meta = call.get_flag_value("meta").as_ref().map(args::meta).transpose()?;
        let ttl = call.get_flag_value("ttl").as_ref().map(args::ttl).transpose()?;
        let mut payload = args::payload(input, call.head)?;
        let store = host.store(call)?;
        let template = Frame { topic: topic.item, meta, ttl, ..Frame::default() };
        let appended = store.append(template, &mut payload.item).map_err(error::at(payload.span))?;
        Ok(PipelineData::value(appended_value(appended, call.head), None))
    }
}

/// The frame as a record; a queued frame (inside a handler) has no id yet.
fn appended_value(appended: Appended, head: Span) -> Value {
    match appended {
        Appended::Durable(frame) => value::frame_to_value(&frame, false, head),
        Appended::Queued(frame) => {
            let mut value = value::frame_to_value(&frame, false, head);
            if let Value::Record { val, .. } = &mut value {
                val.to_mut().insert("id", Value::nothing(head));
            }
            value
        }
    }
}
