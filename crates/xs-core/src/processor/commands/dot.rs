//! cross-stream's names for the store commands, in scripts only.
//!
//! Scripts written for cross-stream call `.append`, `.cat`, `.last`,
//! `.get`, `.remove`, `.cas`, `.cas-post` and `.id` (with `unpack` and
//! `pack`); xs's commands are `xs append`, `xs cat`, ... with the same
//! arguments (a superset). So that those scripts run unchanged, the engine
//! also offers each one under its cross-stream name: the very same command
//! (the shared one, through the one adapter), renamed, so the two
//! spellings cannot behave differently.
//! The plugin does not offer them: in a shell, `xs ...` is the interface.

use nu_protocol::{
    Example, PipelineData, ShellError, Signature,
    engine::{Call, Command, EngineState, Stack},
};

/// cross-stream's name for each xs command.
const NAMES: [(&str, &str); 10] = [
    (".append", "xs append"),
    (".cat", "xs cat"),
    (".last", "xs last"),
    (".get", "xs get"),
    (".remove", "xs remove"),
    (".cas", "xs cas"),
    (".cas-post", "xs cas put"),
    (".id", "xs id"),
    (".id unpack", "xs id unpack"),
    (".id pack", "xs id pack"),
];

/// A command under another name.
#[derive(Clone)]
struct Dot {
    name: &'static str,
    command: Box<dyn Command>,
}

/// The cross-stream names among `commands`, as commands of their own.
pub(super) fn aliases(commands: &[Box<dyn Command>]) -> Vec<Box<dyn Command>> {
    let named = |xs: &str| commands.iter().find(|c| c.name() == xs);
    NAMES
        .iter()
        .filter_map(|&(name, xs)| named(xs).map(|command| Box::new(Dot { name, command: command.clone() }) as _))
        .collect()
}

impl Command for Dot {
    fn name(&self) -> &str {
        self.name
    }

    fn description(&self) -> &str {
        self.command.description()
    }

    fn extra_description(&self) -> &str {
        self.command.extra_description()
    }

    fn signature(&self) -> Signature {
        Signature { name: self.name.to_string(), ..self.command.signature() }
    }

    fn examples(&self) -> Vec<Example<'_>> {
        Vec::new()
    }

    fn run(
        &self,
        engine_state: &EngineState,
        stack: &mut Stack,
        call: &Call,
        input: PipelineData,
    ) -> Result<PipelineData, ShellError> {
        self.command.run(engine_state, stack, call, input)
    }
}
