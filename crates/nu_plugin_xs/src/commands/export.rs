//! `xs export`: a portable dump of the store in a directory.

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Signature, SyntaxShape, Type, Value};

use xs_core::dump;

use crate::{XsPlugin, error};

/// `xs export <dir>`.
pub struct Export;

impl PluginCommand for Export {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs export"
    }

    fn description(&self) -> &str {
        "Write every stored frame and its payload to a directory, for `xs import`"
    }

    fn extra_description(&self) -> &str {
        "The directory must be new or empty. It gets frames.jsonl (one frame a line, oldest \
         first) and cas/<algorithm>-<hex> (each payload once). Returns how many of each."
    }

    fn signature(&self) -> Signature {
        super::signature(self.name())
            .required("dir", SyntaxShape::Filepath, "the directory to write (new or empty)")
            .input_output_type(Type::Nothing, Type::record())
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example {
            example: r#""hi" | xs append note | ignore; xs export backup"#,
            description: "Dump the store into ./backup",
            result: Some(Value::test_record(nu_protocol::record! {
                "frames" => Value::test_int(1),
                "payloads" => Value::test_int(1),
            })),
        }]
    }

    fn run(
        &self,
        plugin: &XsPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        _input: PipelineData,
    ) -> Result<PipelineData, LabeledError> {
        let dir = super::dir_arg(engine, call, 0)?;
        let backend = plugin.backend(engine, call)?;
        let signals = engine.signals();
        let summary =
            dump::export(backend.connection(), &dir.item, &|| signals.interrupted()).map_err(error::at(dir.span))?;
        Ok(PipelineData::value(super::summary_value(&summary, call.head), None))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_examples() {
        super::super::test_examples(&super::Export);
    }
}
