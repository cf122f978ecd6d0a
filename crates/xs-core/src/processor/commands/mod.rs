//! The store commands inside the embedded engine, under the plugin's names
//! and flags (`xs append`, `xs cat`, `xs last`, `xs get`, `xs remove`,
//! `xs cas`, `xs cas put`, `xs id`, `xs id unpack`, `xs id pack`), so a
//! pipeline behaves the same typed in a shell and run by a handler. Each
//! is an adapter over the same xs-core call the plugin makes, one per
//! file, methods in the same order (name, signature, description,
//! examples, run). `print` is here too: the engine's output must never
//! reach the process's stdout (the plugin protocol may own it), so it
//! goes to the log.

mod append;
mod args;
mod cas;
mod cas_put;
mod cat;
mod exec;
mod get;
mod id;
mod id_pack;
mod id_unpack;
mod last;
mod print;
mod remove;

use std::sync::Arc;

use nu_engine::CallExt;
use nu_protocol::{
    Category, ShellError, Signature, Span, SyntaxShape,
    engine::{Call, Command, EngineState, Stack},
};

pub(crate) use exec::NoExec;

use crate::{
    processor::{error::invalid, outbox::Outbox},
    store::Store,
};

/// What the commands of one engine work on: the store and, inside a
/// handler, its outbox (where `xs append` goes until the input is done).
#[derive(Clone)]
pub(crate) struct Context {
    pub(crate) store: Store,
    pub(crate) outbox: Option<Arc<Outbox>>,
}

impl Context {
    /// Before a read: commits what earlier inputs emitted, so a handler
    /// reads its own finished output.
    fn before_read(&self, span: Span) -> Result<(), ShellError> {
        match &self.outbox {
            Some(outbox) => outbox.commit(Vec::new()).map(drop).map_err(|e| invalid(e, "reading here", span).into()),
            None => Ok(()),
        }
    }

    /// Refuses a `--store` naming another store than the one the engine runs in.
    fn check_store(&self, engine_state: &EngineState, stack: &mut Stack, call: &Call) -> Result<(), ShellError> {
        let Some(path) = call.get_flag::<nu_protocol::Spanned<String>>(engine_state, stack, "store")? else {
            return Ok(());
        };
        let cwd = engine_state.cwd(Some(stack))?;
        let given = std::fs::canonicalize(cwd.join(&path.item)).ok();
        if given.is_some() && given == std::fs::canonicalize(self.store.path()).ok() {
            return Ok(());
        }
        Err(invalid(format!("{} is not the store this script runs in", path.item), "another store", path.span)
            .with_help("scripts run by the processor use the store that runs them; drop --store")
            .into())
    }
}

/// Every command, bound to `context`.
pub(crate) fn all(context: &Context) -> Vec<Box<dyn Command>> {
    vec![
        Box::new(append::Append(context.clone())),
        Box::new(cat::Cat(context.clone())),
        Box::new(last::Last(context.clone())),
        Box::new(get::Get(context.clone())),
        Box::new(remove::Remove(context.clone())),
        Box::new(cas::Cas(context.clone())),
        Box::new(cas_put::CasPut(context.clone())),
        Box::new(id::Id),
        Box::new(id_unpack::IdUnpack),
        Box::new(id_pack::IdPack),
        Box::new(print::Print),
    ]
}

/// The signature every store command starts from: its category and `--store`.
fn signature(name: &str) -> Signature {
    Signature::build(name).category(Category::Custom("xs".into())).named(
        "store",
        SyntaxShape::Filepath,
        "accepted for the plugin's sake: scripts always use the store that runs them",
        None,
    )
}
