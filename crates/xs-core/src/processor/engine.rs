//! The embedded Nushell engine.
//!
//! [`Engine`] is built once per processor, on first use (a store with no
//! scripts never pays for it): Nushell's language core (nu-cmd-lang), its
//! standard commands (nu-command with `os` and `network`: `http` over
//! rustls), the standard library (`use std ...`) and a `print` that logs. Every script then gets
//! a [`Runtime`] of its own: a copy of that state with the store commands
//! bound to the script's context, the modules it may `use`, and its own
//! interrupt, so stopping one script never touches another.
//!
//! The process's stdio is off limits (a plugin's stdout is its protocol
//! channel): output that is not the script's result is discarded, `print`
//! goes to the log, and externals get a null stdin and their own pipes,
//! in a session of their own (nu's background-command setup).

use std::sync::{Arc, Mutex, OnceLock, atomic::AtomicBool};

use nu_engine::{ClosureEval, eval_block_with_early_return};
use nu_parser::parse;
use nu_protocol::{
    OutDest, PipelineData, ShellError, Signals, Span, Value,
    ast::Block,
    config::UseAnsiColoring,
    debugger::WithoutDebug,
    engine::{Closure, Command, EngineState, Jobs, Redirection, Stack, StateWorkingSet, ThreadJob, VirtualPath},
    format_cli_error,
};

use super::step::Step;

/// The processor's one engine, built on first use by whichever script
/// (handler, generator or eval) needs it first.
pub(crate) type SharedEngine = Arc<OnceLock<Result<Engine, String>>>;

/// Nushell's standard commands, std and `print`, ready to be copied.
pub(crate) struct Engine {
    base: EngineState,
}

impl Engine {
    /// Builds the shared engine state (a few tens of milliseconds).
    ///
    /// # Errors
    ///
    /// The standard library does not load.
    pub(crate) fn new() -> Result<Engine, String> {
        let mut state = nu_command::add_shell_command_context(nu_cmd_lang::create_default_context());
        let mut config = state.get_config().as_ref().clone();
        // Error messages go into frames: plain text, no colours.
        config.use_ansi_coloring = UseAnsiColoring::False;
        state.set_config(config);
        add_process_env(&mut state);
        // `http` builds its TLS connector from this (even for plain http).
        nu_command::tls::CRYPTO_PROVIDER.default();
        nu_std::load_standard_library(&mut state).map_err(|e| format!("the standard library does not load: {e:?}"))?;
        add_decls(&mut state, vec![Box::new(super::commands::NoExec)])?;
        state.generate_nu_constant();
        Ok(Engine { base: state })
    }

    /// A copy for one script: `commands` (bound to its context), the
    /// `modules` it may `use` (name, source), and `interrupt`, which stops it.
    ///
    /// # Errors
    ///
    /// A command or module that cannot be added (a clash inside Nushell).
    pub(crate) fn runtime(
        &self,
        commands: Vec<Box<dyn Command>>,
        modules: &[(String, String)],
        interrupt: &Interrupt,
    ) -> Result<Runtime, String> {
        let mut state = self.base.clone();
        state.set_signals(interrupt.signals.clone());
        // A background job: externals get no terminal, and are killed with it.
        state.current_job.background_thread_job = Some(interrupt.job.clone());
        // `exit` kills the jobs of its engine: give each script its own table.
        state.jobs = Arc::new(Mutex::new(Jobs::default()));
        add_decls(&mut state, commands)?;
        add_modules(&mut state, modules)?;
        Ok(Runtime { state })
    }
}

/// How a script is stopped: the signals its loops, sleeps and streams
/// check, and the job that also kills the externals it started.
#[derive(Clone)]
pub(crate) struct Interrupt {
    signals: Signals,
    job: ThreadJob,
}

impl Interrupt {
    /// A fresh, untriggered interrupt for the script `name`.
    pub(crate) fn new(name: &str) -> Self {
        let signals = Signals::new(Arc::new(AtomicBool::new(false)));
        let (mail, _) = std::sync::mpsc::channel();
        Interrupt { job: ThreadJob::new(signals.clone(), Some(name.to_string()), mail), signals }
    }

    /// Interrupts the script and kills its externals. Safe to repeat (a
    /// `try` around an interrupted loop clears the signal once).
    pub(crate) fn trigger(&self) {
        // The job kills each external's pid alone; its process group (a
        // pipeline, or what a shell script forked) goes first.
        super::watchdog::kill_groups(&self.job.collect_pids());
        if let Err(e) = self.job.kill() {
            tracing::debug!(error = %e, "could not kill a script's external");
        }
        self.signals.trigger();
    }
}

/// One script's engine state.
pub(crate) struct Runtime {
    state: EngineState,
}

impl Runtime {
    /// Parses and evaluates `source` (named `file` in error messages) and
    /// returns its value.
    ///
    /// # Errors
    ///
    /// Nushell's formatted message (with the line at fault) for a parse,
    /// compile or runtime error.
    pub(crate) fn evaluate(&mut self, file: &str, source: &str) -> Result<Value, String> {
        let block = self.parse(file, source)?;
        let mut stack = stack();
        let result =
            eval_block_with_early_return::<WithoutDebug>(&self.state, &mut stack, &block, PipelineData::empty())
                .and_then(|data| data.body.into_value(Span::unknown()));
        let value = result.map_err(|e| self.format(&e))?;
        self.state.merge_env(&mut stack).map_err(|e| self.format(&e))?;
        Ok(value)
    }

    /// Parses and evaluates `source` without collecting its output: a
    /// list stream stays a stream, and an external's stdout at the end of
    /// the script is piped out as a byte stream (its stderr is discarded).
    ///
    /// # Errors
    ///
    /// As [`Runtime::evaluate`], for what fails before the output begins.
    pub(crate) fn stream(&mut self, file: &str, source: &str) -> Result<PipelineData, String> {
        let block = self.parse(file, source)?;
        let mut stack = Stack::new().suppress_stdin().suppress_output();
        let mut stack = stack.push_redirection(Some(Redirection::Pipe(OutDest::PipeSeparate)), None);
        eval_block_with_early_return::<WithoutDebug>(&self.state, &mut stack, &block, PipelineData::empty())
            .map(|data| data.body)
            .map_err(|e| self.format(&e))
    }

    /// Parses `source` and merges what it defines into the state.
    fn parse(&mut self, file: &str, source: &str) -> Result<Arc<Block>, String> {
        let mut working_set = StateWorkingSet::new(&self.state);
        let block = parse(&mut working_set, Some(file), source.as_bytes(), false);
        if let Some(error) = working_set.parse_errors.first() {
            return Err(format_cli_error(None, &working_set, error, None));
        }
        if let Some(error) = working_set.compile_errors.first() {
            return Err(format_cli_error(None, &working_set, error, None));
        }
        let delta = working_set.render();
        self.state.merge_delta(delta).map_err(|e| self.format(&e))?;
        Ok(block)
    }

    /// Sets the environment variable `name` for the script (and its externals).
    pub(crate) fn set_env(&mut self, name: &str, value: &str) {
        self.state.add_env_var(name.into(), Value::string(value, Span::unknown()));
    }

    /// How many positional parameters `closure` takes, and whether it has a rest parameter.
    pub(crate) fn arity(&self, closure: &Closure) -> (usize, bool) {
        let signature = &self.state.get_block(closure.block_id).signature;
        let positional = signature.required_positional.len() + signature.optional_positional.len();
        (positional, signature.rest_positional.is_some())
    }

    /// The default value of `closure`'s second parameter, if it has one.
    pub(crate) fn state_default(&self, closure: &Closure) -> Option<Value> {
        let signature = &self.state.get_block(closure.block_id).signature;
        let optional = 1usize.checked_sub(signature.required_positional.len())?;
        signature.optional_positional.get(optional)?.default_value.clone()
    }

    /// A reusable evaluator for `closure`.
    pub(crate) fn closure(&self, closure: Closure) -> ClosureEval {
        ClosureEval::new(&self.state, &stack(), closure)
    }

    /// A reusable caller of a handler's `run` closure, whose state is
    /// bound untyped (see `step.rs`).
    pub(crate) fn step(&self, closure: Closure) -> Step {
        Step::new(&self.state, stack(), closure)
    }

    /// Nushell's formatted message for `error`, naming the line at fault.
    pub(crate) fn format(&self, error: &ShellError) -> String {
        let working_set = StateWorkingSet::new(&self.state);
        format_cli_error(None, &working_set, error, None)
    }
}

/// The stack every evaluation starts from: no terminal input, output that
/// is not the result discarded, the result collected as a value.
fn stack() -> Stack {
    Stack::new().suppress_stdin().suppress_output().collect_value()
}

fn add_decls(state: &mut EngineState, decls: Vec<Box<dyn Command>>) -> Result<(), String> {
    let mut working_set = StateWorkingSet::new(state);
    for decl in decls {
        working_set.add_decl(decl);
    }
    let delta = working_set.render();
    state.merge_delta(delta).map_err(|e| e.to_string())
}

/// Makes each module `use`-able by its name, as a virtual file.
fn add_modules(state: &mut EngineState, modules: &[(String, String)]) -> Result<(), String> {
    let mut working_set = StateWorkingSet::new(state);
    for (name, source) in modules {
        let file = working_set.add_file(&format!("{name}.nu"), source.as_bytes());
        let _ = working_set.add_virtual_path(name.clone(), VirtualPath::File(file));
    }
    let delta = working_set.render();
    state.merge_delta(delta).map_err(|e| e.to_string())
}

/// The process's environment, and `PWD`, as the engine's.
fn add_process_env(state: &mut EngineState) {
    for (name, value) in std::env::vars() {
        state.add_env_var(name, Value::string(value, Span::unknown()));
    }
    let cwd = std::env::current_dir().ok().filter(|d| d.is_absolute()).unwrap_or_else(|| "/".into());
    state.add_env_var("PWD".into(), Value::string(cwd.to_string_lossy(), Span::unknown()));
}
