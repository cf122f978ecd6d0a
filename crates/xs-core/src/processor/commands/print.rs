//! `print`, to the log: the processor never writes to the process's
//! stdout or stderr (a plugin's stdout is its protocol channel), so what a
//! script prints becomes a `tracing` event (target `xs::print`, level info;
//! with `--stderr`, warn).

use nu_engine::CallExt;
use nu_protocol::{
    Category, Example, PipelineData, ShellError, Signature, SyntaxShape, Type, Value,
    engine::{Call, Command, EngineState, Stack},
};

/// `print ...rest`.
#[derive(Clone)]
pub(crate) struct Print;

impl Command for Print {
    fn name(&self) -> &str {
        "print"
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .category(Category::Strings)
            .rest("rest", SyntaxShape::Any, "the values to print")
            .switch("no-newline", "accepted for compatibility (each print is one log event)", Some('n'))
            .switch("stderr", "log at warn level instead of info", Some('e'))
            .switch("raw", "accepted for compatibility", Some('r'))
            .input_output_types(vec![(Type::Any, Type::Nothing)])
            .allow_variants_without_examples(true)
    }

    fn description(&self) -> &str {
        "Log the values (or the input) as one event: scripts run by the processor have no terminal"
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example { example: "print $\"handled ($frame.id)\"", description: "Log a line", result: None }]
    }

    fn run(
        &self,
        engine_state: &EngineState,
        stack: &mut Stack,
        call: &Call,
        input: PipelineData,
    ) -> Result<PipelineData, ShellError> {
        let mut values: Vec<Value> = call.rest(engine_state, stack, 0)?;
        if values.is_empty() {
            values.push(input.into_value(call.head)?);
        }
        let config = stack.get_config(engine_state);
        let text = values.iter().map(|v| v.to_expanded_string(" ", &config)).collect::<Vec<_>>().join(" ");
        if call.has_flag(engine_state, stack, "stderr")? {
            tracing::warn!(target: "xs::print", "{text}");
        } else {
            tracing::info!(target: "xs::print", "{text}");
        }
        Ok(PipelineData::empty())
    }
}
