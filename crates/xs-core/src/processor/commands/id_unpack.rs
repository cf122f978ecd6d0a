//! `xs id unpack`: an id's fields, its timestamp as a datetime.

use nu_engine::CallExt;
use nu_protocol::{
    Category, Example, PipelineData, ShellError, Signature, Spanned, SyntaxShape, Type, Value,
    engine::{Call, Command, EngineState, Stack},
};

use super::args;
use crate::processor::value::id_to_record;

/// `xs id unpack [id]`.
#[derive(Clone)]
pub(crate) struct IdUnpack;

impl Command for IdUnpack {
    fn name(&self) -> &str {
        "xs id unpack"
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .category(Category::Custom("xs".into()))
            .optional("id", SyntaxShape::String, "the id (else taken from the input)")
            .input_output_types(vec![(Type::Nothing, Type::record()), (Type::String, Type::record())])
    }

    fn description(&self) -> &str {
        "Split an id into {timestamp, counter_hi, counter_lo, entropy}; `xs id pack` reverses it"
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example { example: "(xs id | xs id unpack).timestamp", description: "When an id was made", result: None }]
    }

    fn run(
        &self,
        engine_state: &EngineState,
        stack: &mut Stack,
        call: &Call,
        input: PipelineData,
    ) -> Result<PipelineData, ShellError> {
        let arg = match call.opt::<Spanned<String>>(engine_state, stack, 0)? {
            Some(arg) => arg,
            None => {
                let value = input.into_value(call.head)?;
                Spanned { span: value.span(), item: value.coerce_into_string()? }
            }
        };
        let id = args::id(&arg)?;
        Ok(PipelineData::value(Value::record(id_to_record(id, call.head), call.head), None))
    }
}
