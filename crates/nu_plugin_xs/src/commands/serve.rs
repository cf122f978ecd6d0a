//! `xs serve`: own the store in the foreground until Ctrl-C.
//!
//! It is the one command that sets up logging: the owner's log (socket
//! errors, takeovers, the processor's handlers) goes to stderr, which the
//! shell shows, filtered by `XS_LOG` or `RUST_LOG`. Never to stdout, the
//! plugin's protocol channel. Other commands log nowhere: an interactive
//! shell is no place for an owner's chatter.

use std::{sync::mpsc, time::Duration};

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, SignalAction, Signature, Type};
use xs_core::trace::{self, Trace};

use crate::{Role, XsPlugin, error};

/// `xs serve`.
pub struct Serve;

impl PluginCommand for Serve {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs serve"
    }

    fn description(&self) -> &str {
        "Own the store and serve it on <store>/sock until Ctrl-C"
    }

    fn extra_description(&self) -> &str {
        "Any xs command makes the shell's plugin the store's owner when none answers on the \
         socket; `xs serve` does so in the foreground, for a store that must stay served whether \
         or not a shell uses it. It fails when another process already owns the store."
    }

    fn signature(&self) -> Signature {
        super::signature(self.name()).input_output_type(Type::Nothing, Type::Nothing)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example { example: "xs serve --store ~/clips", description: "Serve a store until Ctrl-C", result: None }]
    }

    fn run(
        &self,
        plugin: &XsPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        _input: PipelineData,
    ) -> Result<PipelineData, LabeledError> {
        trace::init(Trace::stderr()).map_err(error::at(call.head))?;
        let backend = plugin.backend(engine, call)?;
        if backend.is_remote() {
            return Err(error::invalid(
                format!("{} is a remote store: xs serve owns a store directory on this machine", backend.location()),
                "not a local store",
                call.head,
            )
            .with_help("run xs serve on the machine that holds the store, with --store <dir>"));
        }
        if backend.role() == Role::Client {
            let owner = backend.owner_pid().map_err(error::at(call.head))?;
            let owner = owner.map_or_else(|| "another process".to_string(), |pid| format!("process {pid}"));
            return Err(error::invalid(
                format!("{} is already served by {owner}", backend.location()),
                "not the owner",
                call.head,
            )
            .with_help("stop that process first; meanwhile this shell uses the store as its client"));
        }
        wait_for_interrupt(engine)?;
        Ok(PipelineData::empty())
    }
}

/// Blocks until Ctrl-C, or until the engine goes away.
fn wait_for_interrupt(engine: &EngineInterface) -> Result<(), LabeledError> {
    let (tx, rx) = mpsc::channel();
    let _guard = engine.register_signal_handler(Box::new(move |action| {
        if matches!(action, SignalAction::Interrupt) {
            let _ = tx.send(());
        }
    }))?;
    let parent = std::os::unix::process::parent_id();
    while !engine.signals().interrupted() && std::os::unix::process::parent_id() == parent {
        if rx.recv_timeout(Duration::from_millis(250)).is_ok() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_examples() {
        super::super::test_examples(&super::Serve);
    }
}
