//! `xs id pack`: an unpacked id record back to the id, losslessly.

use nu_protocol::{
    Category, Example, PipelineData, ShellError, Signature, Type, Value,
    engine::{Call, Command, EngineState, Stack},
};

use crate::processor::value::id_from_record;

/// `xs id pack`.
#[derive(Clone)]
pub(crate) struct IdPack;

impl Command for IdPack {
    fn name(&self) -> &str {
        "xs id pack"
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .category(Category::Custom("xs".into()))
            .input_output_type(Type::record(), Type::String)
    }

    fn description(&self) -> &str {
        "Turn a {timestamp, counter_hi, counter_lo, entropy} record (from `xs id unpack`) back into the id"
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example { example: "xs id | xs id unpack | xs id pack", description: "Round trip an id", result: None }]
    }

    fn run(
        &self,
        _engine_state: &EngineState,
        _stack: &mut Stack,
        call: &Call,
        input: PipelineData,
    ) -> Result<PipelineData, ShellError> {
        let value = input.into_value(call.head)?;
        let id = id_from_record(value.as_record()?, value.span())?;
        Ok(PipelineData::value(Value::string(id.to_string(), call.head), None))
    }
}
