//! `xs`: the plugin's help.

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Type, Value};

use crate::XsPlugin;

/// Bare `xs`.
pub struct Xs;

impl PluginCommand for Xs {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs"
    }

    fn description(&self) -> &str {
        "xs, a local-first event stream store: list its commands"
    }

    fn extra_description(&self) -> &str {
        "A store is a directory holding one append-only stream of frames, with payloads in a \
         content-addressed store (CAS). Every command takes --store; the default is \
         $env.XS_STORE, then $env.config.plugins.xs.store, then ~/.local/share/xs."
    }

    fn signature(&self) -> Signature {
        super::base_signature(self.name()).input_output_type(Type::Nothing, Type::String)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example { example: "xs", description: "List the xs commands", result: None }]
    }

    fn run(
        &self,
        _plugin: &XsPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        _input: PipelineData,
    ) -> Result<PipelineData, LabeledError> {
        Ok(PipelineData::value(Value::string(engine.get_help()?, call.head), None))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_examples() {
        super::super::test_examples(&super::Xs);
    }
}
