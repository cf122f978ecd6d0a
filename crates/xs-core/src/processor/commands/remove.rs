//! `xs remove`: delete one frame (at once, also inside a handler).

use nu_engine::CallExt;
use nu_protocol::{
    Example, PipelineData, ShellError, Signature, Spanned, SyntaxShape, Type,
    engine::{Call, Command, EngineState, Stack},
};

use super::{Context, args};
use crate::processor::error::at;

/// `xs remove <id>`.
#[derive(Clone)]
pub(crate) struct Remove(pub(crate) Context);

impl Command for Remove {
    fn name(&self) -> &str {
        "xs remove"
    }

    fn signature(&self) -> Signature {
        super::signature(self.name())
            .required("id", SyntaxShape::String, "the frame's id")
            .input_output_type(Type::Nothing, Type::Nothing)
    }

    fn description(&self) -> &str {
        "Delete the frame with this id"
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example { example: "xs remove $frame.id", description: "Remove a frame", result: None }]
    }

    fn run(
        &self,
        engine_state: &EngineState,
        stack: &mut Stack,
        call: &Call,
        _input: PipelineData,
    ) -> Result<PipelineData, ShellError> {
        self.0.check_store(engine_state, stack, call)?;
        let arg: Spanned<String> = call.req(engine_state, stack, 0)?;
        let id = args::id(&arg)?;
        self.0.store.remove(&id).map_err(at(arg.span))?;
        Ok(PipelineData::empty())
    }
}
