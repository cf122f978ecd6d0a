//! The one engine `Command` over a shared store command: it evaluates the
//! call's arguments into the form the plugin receives (an
//! [`EvaluatedCall`]) and runs the shared command with this engine as its
//! [`Host`]. Written once, so no command can differ between the plugin
//! and a handler script.

use std::sync::Arc;

use nu_engine::get_eval_expression;
use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{
    Example, LabeledError, PipelineData, ShellError, Signals, Signature, Spanned,
    engine::{Call, Command, EngineState, Stack},
};

use super::Context;
use crate::nu::{Host, StoreAccess, StoreCommand, Watch, error::invalid, host::Never};

/// A shared store command, bound to the engine's context.
#[derive(Clone)]
pub(super) struct Shared {
    command: Arc<dyn StoreCommand>,
    context: Context,
}

impl Shared {
    /// `command` over `context`, boxed for the engine.
    pub(super) fn boxed(command: Arc<dyn StoreCommand>, context: &Context) -> Box<dyn Command> {
        Box::new(Shared { command, context: context.clone() })
    }
}

impl Command for Shared {
    fn name(&self) -> &str {
        self.command.name()
    }

    fn description(&self) -> &str {
        self.command.description()
    }

    fn extra_description(&self) -> &str {
        self.command.extra_description()
    }

    fn signature(&self) -> Signature {
        self.command.signature()
    }

    fn examples(&self) -> Vec<Example<'_>> {
        self.command.examples()
    }

    fn run(
        &self,
        engine_state: &EngineState,
        stack: &mut Stack,
        call: &Call,
        input: PipelineData,
    ) -> Result<PipelineData, ShellError> {
        let call = EvaluatedCall::try_from_call(call, engine_state, stack, get_eval_expression(engine_state))?;
        let host = EngineHost { context: &self.context, engine_state, stack };
        Ok(self.command.run(&host, &call, input)?)
    }
}

/// The engine as a command's host: the store the script runs in.
struct EngineHost<'a> {
    context: &'a Context,
    engine_state: &'a EngineState,
    stack: &'a Stack,
}

impl Host for EngineHost<'_> {
    fn store(&self, call: &EvaluatedCall) -> Result<Box<dyn StoreAccess>, LabeledError> {
        if let Some(path) = call.get_flag::<Spanned<String>>("store")? {
            self.check_store(&path)?;
        }
        Ok(Box::new(self.context.clone()))
    }

    fn signals(&self) -> Signals {
        self.engine_state.signals().clone()
    }

    fn watch(&self) -> Box<dyn Watch> {
        Box::new(Never)
    }
}

impl EngineHost<'_> {
    /// Refuses a `--store` naming another store than the one the script runs in.
    fn check_store(&self, path: &Spanned<String>) -> Result<(), LabeledError> {
        let cwd = self.engine_state.cwd(Some(self.stack))?;
        let given = std::fs::canonicalize(cwd.join(&path.item)).ok();
        if given.is_some() && given == std::fs::canonicalize(self.context.store.path()).ok() {
            return Ok(());
        }
        Err(invalid(format!("{} is not the store this script runs in", path.item), "another store", path.span)
            .with_help("scripts run by the processor use the store that runs them; drop --store"))
    }
}
