//! The plugin's commands, one per file, each with its methods in the same
//! order (name, description, signature, examples, run) and its examples
//! checked by a test at the bottom.

mod append;
mod cas;
mod cas_put;
mod cat;
mod export;
mod get;
mod id;
mod id_pack;
mod id_unpack;
mod import;
mod last;
mod remove;
mod serve;
mod status;
mod xs;

use std::path::PathBuf;

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Category, LabeledError, Record, Signature, Span, Spanned, SyntaxShape, Value};

use xs_core::dump::Summary;

use crate::{XsPlugin, location};

/// Every command the plugin offers.
pub fn all() -> Vec<Box<dyn PluginCommand<Plugin = XsPlugin>>> {
    vec![
        Box::new(xs::Xs),
        Box::new(append::Append),
        Box::new(cat::Cat),
        Box::new(last::Last),
        Box::new(get::Get),
        Box::new(remove::Remove),
        Box::new(cas::Cas),
        Box::new(cas_put::CasPut),
        Box::new(id::Id),
        Box::new(id_unpack::IdUnpack),
        Box::new(id_pack::IdPack),
        Box::new(export::Export),
        Box::new(import::Import),
        Box::new(serve::Serve),
        Box::new(status::Status),
    ]
}

/// The signature every command starts from: the `xs` category.
fn base_signature(name: &str) -> Signature {
    Signature::build(name).category(Category::Custom("xs".into()))
}

/// The signature of a command that uses a store: the base and `--store`.
fn signature(name: &str) -> Signature {
    base_signature(name).named(
        "store",
        SyntaxShape::Filepath,
        "the store directory (default: $env.XS_STORE, then the plugin config, then ~/.local/share/xs)",
        None,
    )
}

/// `--detail`, for the commands that return frames.
fn detail_switch(signature: Signature) -> Signature {
    signature.switch("detail", "add each frame's ttl and time", Some('d'))
}

/// The required `id` argument of `xs get` and `xs remove`.
fn id_param(signature: Signature) -> Signature {
    signature.required("id", SyntaxShape::String, "the frame's id")
}

/// The directory argument at `position`, resolved against the user's
/// current directory, with its span.
fn dir_arg(engine: &EngineInterface, call: &EvaluatedCall, position: usize) -> Result<Spanned<PathBuf>, LabeledError> {
    let dir: Spanned<String> = call.req(position)?;
    Ok(Spanned { item: location::user_path(engine, &dir.item)?, span: dir.span })
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
