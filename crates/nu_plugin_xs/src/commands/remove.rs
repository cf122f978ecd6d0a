//! `xs remove`: delete one frame.

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Type, Value};

use crate::{XsPlugin, args, error};

/// `xs remove <id>`.
pub struct Remove;

impl PluginCommand for Remove {
    type Plugin = XsPlugin;

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

    fn run(
        &self,
        plugin: &XsPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        _input: PipelineData,
    ) -> Result<PipelineData, LabeledError> {
        let id = args::id_arg(call, 0)?;
        plugin.backend(engine, call)?.remove(&id.item).map_err(error::at(id.span))?;
        Ok(PipelineData::empty())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_examples() {
        super::super::test_examples(&super::Remove);
    }
}
