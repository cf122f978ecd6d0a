//! `xs last`: the newest frame of a topic, or the newest n.

use super::StoreCommand;
use crate::{
    FollowOption, ReadOptions,
    nu::{Host, args, error, frames::FrameStream, value},
};
use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Spanned, SyntaxShape, Type, Value};

/// `xs last [topic] [n]`.
pub struct Last;

impl StoreCommand for Last {
    fn name(&self) -> &str {
        "xs last"
    }

    fn description(&self) -> &str {
        "The newest frame (a record, or nothing), or with n a list of the newest n, oldest first"
    }

    fn extra_description(&self) -> &str {
        "With --follow, stream the newest frame(s) and then every new one as it is appended."
    }

    fn signature(&self) -> Signature {
        super::detail_switch(super::signature(self.name()))
            .optional("topic", SyntaxShape::String, "a topic pattern: exact, prefix.* or * (default *)")
            .optional("n", SyntaxShape::Int, "how many frames: returns a list")
            .switch("follow", "then stream every new matching frame", Some('f'))
            .input_output_types(vec![
                (Type::Nothing, Type::record()),
                (Type::Nothing, Type::Nothing),
                (Type::Nothing, Type::list(Type::record())),
            ])
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "xs append clip --meta {n: 1} | ignore; xs append clip --meta {n: 2} | ignore; (xs last clip).meta.n",
                description: "The newest clip",
                result: Some(Value::test_int(2)),
            },
            Example {
                example: "for n in [1 2 3] { xs append clip --meta {n: $n} | ignore }; (xs last clip 2).meta.n",
                description: "The newest two clips, oldest first",
                result: Some(Value::test_list(vec![Value::test_int(2), Value::test_int(3)])),
            },
            Example {
                example: "xs last nothing.here",
                description: "No frame: nothing",
                result: Some(Value::test_nothing()),
            },
            Example { example: "xs last clip -f", description: "The newest clip, then every new one", result: None },
        ]
    }

    fn run(&self, host: &dyn Host, call: &EvaluatedCall, _input: PipelineData) -> Result<PipelineData, LabeledError> {
        let topic = call.opt::<Spanned<String>>(0)?;
        let topic_span = topic.as_ref().map_or(call.head, |t| t.span);
        let topic = topic.map_or_else(|| "*".to_string(), |t| t.item);
        crate::topic::TopicFilter::parse(&topic).map_err(error::at(topic_span))?;
        let n = call.opt::<Spanned<i64>>(1)?.as_ref().map(args::count).transpose()?;
        let detail = call.has_flag("detail")?;
        let store = host.store(call)?;
        if call.has_flag("follow")? {
            let options = ReadOptions::builder().follow(FollowOption::On).topic(topic).last(n.unwrap_or(1)).build();
            let source = store.read(options).map_err(error::at(call.head))?;
            let stream = FrameStream::new(source, host.signals(), host.watch(), call.head).detail(detail);
            return Ok(stream.into_pipeline_data());
        }
        let frames = store.last(&topic, n.unwrap_or(1)).map_err(error::at(topic_span))?;
        let mut values = frames.iter().map(|f| value::frame_to_value(f, detail, call.head));
        let value = match n {
            Some(_) => Value::list(values.collect(), call.head),
            None => values.next().unwrap_or(Value::nothing(call.head)),
        };
        Ok(PipelineData::value(value, None))
    }
}
