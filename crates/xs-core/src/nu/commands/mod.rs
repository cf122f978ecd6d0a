//! The store commands, one per file, each with its methods in nushell's
//! order (name, description, signature, examples, run).
//!
//! A command is a [`StoreCommand`]: everything a Nushell front end shows
//! (name, help, signature, examples) plus a `run` over a [`Host`]. The
//! plugin and the processor's engine each wrap these values in one generic
//! adapter and register [`commands`], so both offer the same commands. The
//! examples are checked against a real store by the plugin's tests.

mod append;
mod call;
mod cas;
mod cas_put;
mod cat;
mod get;
mod id;
mod id_pack;
mod id_unpack;
mod last;
mod remove;

use std::sync::Arc;

use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{Category, Example, LabeledError, PipelineData, Signature, SyntaxShape};

use crate::nu::Host;

/// One store command, written once for every front end.
pub trait StoreCommand: Send + Sync {
    /// The name, e.g. `xs append`.
    fn name(&self) -> &str;

    /// The one-line help.
    fn description(&self) -> &str;

    /// The help's further paragraph, if any.
    fn extra_description(&self) -> &str {
        ""
    }

    /// The arguments, flags and input/output types.
    fn signature(&self) -> Signature;

    /// Examples, with their results where they are checked.
    fn examples(&self) -> Vec<Example<'_>>;

    /// Runs the command.
    ///
    /// # Errors
    ///
    /// A labelled error pointing at the argument at fault.
    fn run(&self, host: &dyn Host, call: &EvaluatedCall, input: PipelineData) -> Result<PipelineData, LabeledError>;
}

/// Every store command, in the order the help lists them.
///
/// ```
/// let names: Vec<String> = xs_core::nu::commands().iter().map(|c| c.name().to_string()).collect();
/// assert_eq!(names[0], "xs append");
/// assert!(names.contains(&"xs id pack".to_string()));
/// ```
pub fn commands() -> Vec<Arc<dyn StoreCommand>> {
    vec![
        Arc::new(append::Append),
        Arc::new(cat::Cat),
        Arc::new(last::Last),
        Arc::new(get::Get),
        Arc::new(remove::Remove),
        Arc::new(cas::Cas),
        Arc::new(cas_put::CasPut),
        Arc::new(call::Call),
        Arc::new(id::Id),
        Arc::new(id_unpack::IdUnpack),
        Arc::new(id_pack::IdPack),
    ]
}

/// The signature every command starts from: the `xs` category.
///
/// ```
/// assert_eq!(xs_core::nu::commands::base_signature("xs id").name, "xs id");
/// ```
pub fn base_signature(name: &str) -> Signature {
    Signature::build(name).category(Category::Custom("xs".into()))
}

/// The signature of a command that uses a store: the base, `--store` (a
/// directory, or the URL of a remote store) and `--token` (a remote
/// store's token).
///
/// ```
/// let signature = xs_core::nu::commands::signature("xs status");
/// assert!(["store", "token"].iter().all(|name| signature.named.iter().any(|flag| flag.long == *name)));
/// ```
pub fn signature(name: &str) -> Signature {
    base_signature(name)
        .named(
            "store",
            SyntaxShape::Filepath,
            "the store directory, or http(s)://host:port of a remote store (default: $env.XS_STORE, then the plugin config, then ~/.local/share/xs)",
            None,
        )
        .named(
            "token",
            SyntaxShape::String,
            "a remote store's token (default: $env.XS_TOKEN, then the plugin config's token)",
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
