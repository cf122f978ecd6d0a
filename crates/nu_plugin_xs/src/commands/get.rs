//! `xs get`: one frame by id.

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Spanned, SyntaxShape, Type, Value};
use xs_core::{StoreError, processor::value};

use crate::{XsPlugin, args, error};

/// `xs get <id>`.
pub struct Get;

impl PluginCommand for Get {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs get"
    }

    fn description(&self) -> &str {
        "The frame with this id"
    }

    fn signature(&self) -> Signature {
        super::signature(self.name())
            .required("id", SyntaxShape::String, "the frame's id")
            .switch("detail", "add the frame's ttl and time", Some('d'))
            .input_output_type(Type::Nothing, Type::record())
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example {
            example: "let f = (xs append note --meta {n: 1}); (xs get $f.id).meta",
            description: "Fetch a frame by its id",
            result: Some(Value::test_record(nu_protocol::record! {"n" => Value::test_int(1)})),
        }]
    }

    fn run(
        &self,
        plugin: &XsPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        _input: PipelineData,
    ) -> Result<PipelineData, LabeledError> {
        let arg: Spanned<String> = call.req(0)?;
        let id = args::id(&arg)?;
        let found = plugin.backend(engine, call)?.get(&id).map_err(error::at(arg.span))?;
        let frame = found.ok_or_else(|| error::labeled(StoreError::NotFound(id), arg.span))?;
        Ok(PipelineData::value(value::frame_to_value(&frame, call.has_flag("detail")?, call.head), None))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_examples() {
        super::super::test_examples(&super::Get);
    }
}
