//! `exec`, refused: it would replace the process that owns the store.

use nu_protocol::{
    Category, PipelineData, ShellError, Signature, SyntaxShape, Type,
    engine::{Call, Command, EngineState, Stack},
};

use crate::processor::error::invalid;

/// Shadows nu's `exec` in the embedded engine.
#[derive(Clone)]
pub(crate) struct NoExec;

impl Command for NoExec {
    fn name(&self) -> &str {
        "exec"
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .category(Category::System)
            .rest("command", SyntaxShape::Any, "ignored")
            .allows_unknown_args()
            .input_output_types(vec![(Type::Any, Type::Nothing)])
    }

    fn description(&self) -> &str {
        "Not available to scripts run by the processor: it would replace the store's owner"
    }

    fn run(
        &self,
        _engine_state: &EngineState,
        _stack: &mut Stack,
        call: &Call,
        _input: PipelineData,
    ) -> Result<PipelineData, ShellError> {
        Err(invalid(
            "exec is not available here: it would replace the process that owns the store",
            "not here",
            call.head,
        )
        .with_help("run the external directly (`^cmd ...`)")
        .into())
    }
}
