//! The one `PluginCommand` over xs-core's store commands
//! ([`xs_core::nu::commands`]): the processor's engine wraps the very same
//! values, so `xs append` in a shell and in a handler script cannot differ.

use std::sync::Arc;

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Signature};
use xs_core::nu::StoreCommand;

use crate::{XsPlugin, host::PluginHost};

/// A store command, offered by the plugin.
pub struct Shared(pub Arc<dyn StoreCommand>);

impl PluginCommand for Shared {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        self.0.name()
    }

    fn description(&self) -> &str {
        self.0.description()
    }

    fn extra_description(&self) -> &str {
        self.0.extra_description()
    }

    fn signature(&self) -> Signature {
        self.0.signature()
    }

    fn examples(&self) -> Vec<Example<'_>> {
        self.0.examples()
    }

    fn run(
        &self,
        plugin: &XsPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        input: PipelineData,
    ) -> Result<PipelineData, LabeledError> {
        self.0.run(&PluginHost { plugin, engine }, call, input)
    }
}
