//! `xs remove`: delete one frame.

use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Type, Value};

use super::StoreCommand;
use crate::nu::{Host, args, error};

/// `xs remove <id>`.
pub struct Remove;

impl StoreCommand for Remove {
    fn name(&self) -> &str {
        "xs remove"
    }

    fn description(&self) -> &str {
        "Delete the frame with this id"
    }

    fn signature(&self) -> Signature {
        super::id_param(super::signature(self.name())).input_output_type(Type::Nothing, Type::Nothing)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example {
            example: "let f = (xs append note); xs remove $f.id; xs last note",
            description: "Remove a frame",
            result: Some(Value::test_nothing()),
        }]
    }

    fn run(&self, host: &dyn Host, call: &EvaluatedCall, _input: PipelineData) -> Result<PipelineData, LabeledError> {
        let id = args::id_arg(call, 0)?;
        host.store(call)?.remove(&id.item).map_err(error::at(id.span))?;
        Ok(PipelineData::empty())
    }
}
