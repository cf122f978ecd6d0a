//! `xs cas put`: pipeline input into the CAS.

use nu_protocol::{
    Example, PipelineData, ShellError, Signature, Type, Value,
    engine::{Call, Command, EngineState, Stack},
};

use super::Context;
use crate::processor::{error::invalid, payload};

/// `xs cas put`.
#[derive(Clone)]
pub(crate) struct CasPut(pub(crate) Context);

impl Command for CasPut {
    fn name(&self) -> &str {
        "xs cas put"
    }

    fn signature(&self) -> Signature {
        super::signature(self.name()).input_output_types(vec![(Type::Any, Type::String)])
    }

    fn description(&self) -> &str {
        "Store the pipeline input in the CAS and return its hash"
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example { example: r#""hello" | xs cas put"#, description: "Store a string", result: None }]
    }

    fn run(
        &self,
        engine_state: &EngineState,
        stack: &mut Stack,
        call: &Call,
        input: PipelineData,
    ) -> Result<PipelineData, ShellError> {
        self.0.check_store(engine_state, stack, call)?;
        let hash = payload::put(&self.0.store, input, call.head, true)?
            .ok_or_else(|| invalid("the CAS returned no hash", "here", call.head))?;
        Ok(PipelineData::value(Value::string(hash.to_string(), call.head), None))
    }
}
