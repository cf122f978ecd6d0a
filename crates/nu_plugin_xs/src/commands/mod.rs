//! The plugin's commands: the store commands written once in
//! [`xs_core::nu`] (`xs append`, `xs cat`, ...; the processor's engine
//! offers the same values), each wrapped in [`shared::Shared`], and the
//! plugin's own, one per file, methods in the same order (name,
//! description, signature, examples, run): the `xs` parent, `xs eval`,
//! `xs export`, `xs import`, `xs mirror` (`add`, `list`), `xs replica`, `xs serve`, `xs status`,
//! `xs token` and
//! `xs token rotate`.

mod eval;
mod export;
mod import;
mod mirror;
mod replica;
mod serve;
mod shared;
mod status;
mod token;
mod xs;

use std::path::{Path, PathBuf};

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{LabeledError, Record, Span, Spanned, Value};
use xs_core::nu::commands::{base_signature, signature};

use xs_core::dump::Summary;

use crate::{Backend, XsPlugin, error, location};

/// Every command the plugin offers.
pub fn all() -> Vec<Box<dyn PluginCommand<Plugin = XsPlugin>>> {
    let mut commands: Vec<Box<dyn PluginCommand<Plugin = XsPlugin>>> = vec![Box::new(xs::Xs)];
    commands.extend(
        xs_core::nu::commands()
            .into_iter()
            .map(|command| Box::new(shared::Shared(command)) as Box<dyn PluginCommand<Plugin = XsPlugin>>),
    );
    commands.extend([
        Box::new(eval::Eval) as Box<dyn PluginCommand<Plugin = XsPlugin>>,
        Box::new(export::Export),
        Box::new(import::Import),
        Box::new(mirror::Mirror),
        Box::new(mirror::MirrorAdd),
        Box::new(mirror::MirrorList),
        Box::new(replica::ReplicaCommand),
        Box::new(serve::Serve),
        Box::new(status::Status),
        Box::new(token::Token),
        Box::new(token::Rotate),
    ]);
    commands
}

/// The directory argument at `position`, resolved against the user's
/// current directory, with its span.
fn dir_arg(engine: &EngineInterface, call: &EvaluatedCall, position: usize) -> Result<Spanned<PathBuf>, LabeledError> {
    let dir: Spanned<String> = call.req(position)?;
    Ok(Spanned { item: location::user_path(engine, &dir.item)?, span: dir.span })
}

/// The store's directory, for a command that works on a store on this
/// machine (`xs serve`, `xs token`): a remote store's owner is elsewhere.
fn local_dir<'b>(backend: &'b Backend, command: &str, head: Span) -> Result<&'b Path, LabeledError> {
    backend.path().ok_or_else(|| {
        let message =
            format!("{} is a remote store: {command} works on a store directory on this machine", backend.location());
        error::invalid(message, "not a local store", head)
            .with_help(format!("run {command} on the machine that holds the store, with --store <dir>"))
    })
}

/// `{frames, payloads}` of an export or import.
fn summary_value(summary: &Summary, span: Span) -> Value {
    let count = |n: usize| Value::int(i64::try_from(n).unwrap_or(i64::MAX), span);
    let mut record = Record::new();
    record.push("frames", count(summary.frames));
    record.push("payloads", count(summary.payloads));
    Value::record(record, span)
}

/// A plugin test harness whose `$env.XS_STORE` is a fresh directory.
#[cfg(test)]
fn harness() -> (nu_plugin_test_support::PluginTest, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut test = nu_plugin_test_support::PluginTest::new("xs", XsPlugin::default().into()).expect("the test engine");
    let span = nu_protocol::Span::test_data();
    let state = test.engine_state_mut();
    state.add_env_var("XS_STORE".into(), nu_protocol::Value::string(dir.path().to_string_lossy(), span));
    state.add_env_var("PWD".into(), nu_protocol::Value::string(dir.path().to_string_lossy(), span));
    (test, dir)
}

/// Runs the examples of `command` against a fresh store; they must hold.
#[cfg(test)]
fn test_examples(command: &impl PluginCommand) {
    let (mut test, _store) = harness();
    if let Err(e) = test.test_command_examples(command) {
        panic!("the examples of `{}` fail: {e:?}", command.name());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of every shared store command hold in the plugin.
    #[test]
    fn test_examples_of_the_store_commands() -> Result<(), Box<dyn std::error::Error>> {
        for command in xs_core::nu::commands() {
            let (mut test, _store) = harness();
            test.test_command_examples(&shared::Shared(command))?;
        }
        Ok(())
    }

    /// The plugin registers every shared store command as xs-core writes
    /// it (the processor's tests check the same of the engine), and no
    /// other command of its own under those names.
    #[test]
    fn the_plugin_offers_the_shared_commands() -> Result<(), Box<dyn std::error::Error>> {
        let plugin = all();
        for shared in xs_core::nu::commands() {
            let found: Vec<_> = plugin.iter().filter(|c| c.name() == shared.name()).collect();
            let [registered] = found.as_slice() else {
                panic!("{} is registered {} times", shared.name(), found.len())
            };
            assert_eq!(registered.description(), shared.description());
            assert_eq!(registered.extra_description(), shared.extra_description());
            assert_eq!(serde_json::to_value(registered.signature())?, serde_json::to_value(shared.signature())?);
            assert_eq!(format!("{:?}", registered.examples()), format!("{:?}", shared.examples()));
        }
        Ok(())
    }
}
