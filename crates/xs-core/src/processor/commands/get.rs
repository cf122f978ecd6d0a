//! `xs get`: one frame by id.

use nu_engine::CallExt;
use nu_protocol::{
    Example, PipelineData, ShellError, Signature, Spanned, SyntaxShape, Type,
    engine::{Call, Command, EngineState, Stack},
};

use super::{Context, args};
use crate::{
    error::StoreError,
    processor::{
        error::{at, store_error},
        value::frame_to_value,
    },
};

/// `xs get <id>`.
#[derive(Clone)]
pub(crate) struct Get(pub(crate) Context);

impl Command for Get {
    fn name(&self) -> &str {
        "xs get"
    }

    fn signature(&self) -> Signature {
        super::signature(self.name())
            .required("id", SyntaxShape::String, "the frame's id")
            .switch("detail", "add the frame's ttl and time", Some('d'))
            .input_output_type(Type::Nothing, Type::record())
    }

    fn description(&self) -> &str {
        "The frame with this id"
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example {
            example: "(xs get $frame.meta.frame_id).topic",
            description: "The topic of a frame",
            result: None,
        }]
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
        let found = self.0.store.get(&id).map_err(at(arg.span))?;
        let frame = found.ok_or_else(|| store_error(StoreError::NotFound(id), arg.span))?;
        let detail = call.has_flag(engine_state, stack, "detail")?;
        Ok(PipelineData::value(frame_to_value(&frame, detail, call.head), None))
    }
}
