//! `xs last`: the newest frame of a topic, or the newest n.

use nu_engine::CallExt;
use nu_protocol::{
    Example, PipelineData, ShellError, Signature, Spanned, SyntaxShape, Type, Value,
    engine::{Call, Command, EngineState, Stack},
};

use super::{Context, args, cat::Frames};
use crate::{
    processor::{error::at, value::frame_to_value},
    read_options::{FollowOption, ReadOptions},
    topic::TopicFilter,
};

/// `xs last [topic] [n]`.
#[derive(Clone)]
pub(crate) struct Last(pub(crate) Context);

impl Command for Last {
    fn name(&self) -> &str {
        "xs last"
    }

    fn signature(&self) -> Signature {
        super::signature(self.name())
            .optional("topic", SyntaxShape::String, "a topic pattern: exact, prefix.* or * (default *)")
            .optional("n", SyntaxShape::Int, "how many frames: returns a list")
            .switch("follow", "then stream every new matching frame", Some('f'))
            .switch("detail", "add each frame's ttl and time", Some('d'))
            .input_output_types(vec![
                (Type::Nothing, Type::record()),
                (Type::Nothing, Type::Nothing),
                (Type::Nothing, Type::list(Type::record())),
            ])
    }

    fn description(&self) -> &str {
        "The newest frame (a record, or nothing), or with n a list of the newest n, oldest first"
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example { example: "(xs last clip).meta", description: "The meta of the newest clip", result: None }]
    }

    fn run(
        &self,
        engine_state: &EngineState,
        stack: &mut Stack,
        call: &Call,
        _input: PipelineData,
    ) -> Result<PipelineData, ShellError> {
        self.0.check_store(engine_state, stack, call)?;
        let topic = call.opt::<Spanned<String>>(engine_state, stack, 0)?;
        let topic_span = topic.as_ref().map_or(call.head, |t| t.span);
        let topic = topic.map_or_else(|| "*".to_string(), |t| t.item);
        TopicFilter::parse(&topic).map_err(at(topic_span))?;
        let n = call.opt::<Spanned<i64>>(engine_state, stack, 1)?.as_ref().map(args::count).transpose()?;
        let detail = call.has_flag(engine_state, stack, "detail")?;
        self.0.before_read(call.head)?;
        if call.has_flag(engine_state, stack, "follow")? {
            let options = ReadOptions::builder().follow(FollowOption::On).topic(topic).last(n.unwrap_or(1)).build();
            let reader = self.0.store.reader(options).map_err(at(call.head))?;
            let frames = Frames::new(reader, engine_state.signals().clone(), call.head, detail, false);
            return Ok(PipelineData::list_stream(frames.into_list_stream(), None));
        }
        let frames = self.0.store.last(&topic, n.unwrap_or(1)).map_err(at(topic_span))?;
        let mut values = frames.iter().map(|f| frame_to_value(f, detail, call.head));
        let value = match n {
            Some(_) => Value::list(values.collect(), call.head),
            None => values.next().unwrap_or(Value::nothing(call.head)),
        };
        Ok(PipelineData::value(value, None))
    }
}
