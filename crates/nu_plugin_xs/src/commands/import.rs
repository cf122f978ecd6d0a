//! `xs import`: a dump from `xs export` into the store, ids and bytes kept.

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Signature, SyntaxShape, Type};

use xs_core::{dump, store::Scripts};

use crate::{XsPlugin, error};

/// `xs import <dir>`.
pub struct Import;

impl PluginCommand for Import {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs import"
    }

    fn description(&self) -> &str {
        "Store a dump written by `xs export`, keeping every frame's id and payload bytes"
    }

    fn extra_description(&self) -> &str {
        "Frames keep their ids, so the store must be new, or hold only older frames. Every \
         payload is checked against its hash before any frame is stored; frames already in the \
         store unchanged are skipped, so an interrupted import can be run again.\n\n\
         A dump's handlers, generators and modules never run unless --with-scripts is given: \
         they are stored as history the processor ignores. To run one handler from it, append \
         its script again: xs last xs.handler.<name>.register | xs cas | xs append \
         xs.handler.<name>.register"
    }

    fn signature(&self) -> Signature {
        super::signature(self.name())
            .required("dir", SyntaxShape::Filepath, "a directory written by `xs export`")
            .switch(
                "with-scripts",
                "run the dump's handlers, generators and modules (they run as you, with your rights)",
                None,
            )
            .input_output_type(Type::Nothing, Type::record())
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "xs import backup --store restored",
                description: "Restore ./backup into a new store; its scripts are kept but do not run",
                result: None,
            },
            Example {
                example: "xs import my-backup --store restored --with-scripts",
                description: "Restore your own dump, running its handlers and generators again",
                result: None,
            },
        ]
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
        let scripts = if call.has_flag("with-scripts")? { Scripts::Run } else { Scripts::Inert };
        let summary = dump::import(backend.connection(), &dir.item, scripts).map_err(error::at(dir.span))?;
        Ok(PipelineData::value(super::summary_value(&summary, call.head), None))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_examples() {
        super::super::test_examples(&super::Import);
    }
}
