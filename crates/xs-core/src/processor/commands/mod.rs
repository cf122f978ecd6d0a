//! The commands of the embedded engine: the store commands of
//! [`crate::nu`] (`xs append`, `xs cat`, `xs last`, `xs get`, `xs remove`,
//! `xs cas`, `xs cas put`, `xs id`, `xs id unpack`, `xs id pack`), the very
//! values the plugin registers, each wrapped in the one engine adapter, so
//! a pipeline behaves the same typed in a shell and run by a handler.
//! Besides them, two engine-only commands: `print`, which goes to the log
//! (the engine's output must never reach the process's stdout, which the
//! plugin protocol may own), and the guard against `exec`.

mod adapter;
mod context;
mod exec;
mod print;

use nu_protocol::engine::Command;

pub(crate) use context::Context;
pub(crate) use exec::NoExec;

/// Every command, bound to `context`.
pub(crate) fn all(context: &Context) -> Vec<Box<dyn Command>> {
    let store_commands = crate::nu::commands().into_iter().map(|command| adapter::Shared::boxed(command, context));
    store_commands.chain([Box::new(print::Print) as Box<dyn Command>]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine registers exactly the shared commands, as they are
    /// written in `crate::nu` (the plugin's tests check the same of the
    /// plugin), so the two front ends offer identical commands.
    #[test]
    fn the_engine_offers_the_shared_commands() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let context = Context { store: crate::Store::new(dir.path())?, outbox: None };
        let engine: Vec<_> = all(&context).into_iter().filter(|c| c.name() != "print").collect();
        let shared = crate::nu::commands();
        assert_eq!(engine.len(), shared.len());
        for (engine, shared) in engine.iter().zip(&shared) {
            assert_eq!(engine.name(), shared.name());
            assert_eq!(engine.description(), shared.description());
            assert_eq!(engine.extra_description(), shared.extra_description());
            assert_eq!(serde_json::to_value(engine.signature())?, serde_json::to_value(shared.signature())?);
            assert_eq!(format!("{:?}", engine.examples()), format!("{:?}", shared.examples()));
        }
        Ok(())
    }
}
