//! `xs id`: a new scru128 id.

use nu_protocol::{
    Category, Example, PipelineData, ShellError, Signature, Type, Value,
    engine::{Call, Command, EngineState, Stack},
};

/// `xs id`.
#[derive(Clone)]
pub(crate) struct Id;

impl Command for Id {
    fn name(&self) -> &str {
        "xs id"
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .category(Category::Custom("xs".into()))
            .input_output_type(Type::Nothing, Type::String)
    }

    fn description(&self) -> &str {
        "A new scru128 id, of the kind frames carry"
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example { example: "xs id | str length", description: "A 25-character id", result: None }]
    }

    fn run(
        &self,
        _engine_state: &EngineState,
        _stack: &mut Stack,
        call: &Call,
        _input: PipelineData,
    ) -> Result<PipelineData, ShellError> {
        Ok(PipelineData::value(Value::string(scru128::new_string(), call.head), None))
    }
}
