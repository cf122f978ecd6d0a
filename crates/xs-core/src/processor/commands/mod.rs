//! The commands of the embedded engine: the store commands of
//! [`crate::nu`] (`xs append`, `xs cat`, `xs last`, `xs get`, `xs remove`,
//! `xs cas`, `xs cas put`, `xs call`, `xs id`, `xs id unpack`, `xs id pack`), the very
//! values the plugin registers, each wrapped in the one engine adapter, so
//! a pipeline behaves the same typed in a shell and run by a handler.
//! Besides them, two engine-only commands: `print`, which goes to the log
//! (the engine's output must never reach the process's stdout, which the
//! plugin protocol may own), and the guard against `exec`; and the same
//! store commands once more under cross-stream's names (`.append`, `.cat`,
//! ...), so its scripts run unchanged.

mod adapter;
mod context;
mod dot;
mod exec;
mod print;

use nu_protocol::engine::Command;

pub(crate) use context::Context;
pub(crate) use exec::NoExec;

/// Every command, bound to `context`.
pub(crate) fn all(context: &Context) -> Vec<Box<dyn Command>> {
    let store_commands: Vec<_> =
        crate::nu::commands().into_iter().map(|command| adapter::Shared::boxed(command, context)).collect();
    let dots = dot::aliases(&store_commands);
    store_commands.into_iter().chain(dots).chain([Box::new(print::Print) as Box<dyn Command>]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nu_protocol::Value;

    /// The engine registers exactly the shared commands, as they are
    /// written in `crate::nu` (the plugin's tests check the same of the
    /// plugin), so the two front ends offer identical commands.
    #[test]
    fn the_engine_offers_the_shared_commands() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let context = Context { store: crate::Store::new(dir.path())?, outbox: None };
        let engine: Vec<_> = all(&context).into_iter().filter(|c| c.name().starts_with("xs ")).collect();
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

    /// A script's store command runs the shared code: a bad id gets the
    /// same labelled error, with its help line, as in the plugin, and a
    /// `--topic` that leaves out `xs.threshold` leaves it out of a follow.
    #[test]
    fn a_script_gets_the_shared_behaviour() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let context = Context { store: crate::Store::new(dir.path())?, outbox: None };
        let engine = crate::processor::engine::Engine::new()?;
        let interrupt = crate::processor::engine::Interrupt::new("test");
        let mut runtime = engine.runtime(all(&context), &[], &interrupt)?;
        let error = runtime.evaluate("t.nu", "xs get nope").expect_err("a bad id fails");
        assert!(error.contains("invalid id") && error.contains("25-character scru128"), "{error}");
        let topics =
            runtime.evaluate("t.nu", "xs append clip | ignore; xs cat --pulse 10ms -T clip | first 2 | get topic")?;
        let topics = topics.into_list()?.into_iter().map(|v| v.coerce_into_string()).collect::<Result<Vec<_>, _>>();
        assert_eq!(topics?, ["clip", "xs.pulse"]);
        Ok(())
    }

    /// cross-stream's names reach the same commands: a frame appended with
    /// `.append` is read back by `.last`, and `.cas-post` and `.cas` round
    /// trip a payload.
    #[test]
    fn a_script_may_use_cross_stream_names() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let context = Context { store: crate::Store::new(dir.path())?, outbox: None };
        let engine = crate::processor::engine::Engine::new()?;
        let interrupt = crate::processor::engine::Interrupt::new("test");
        let mut runtime = engine.runtime(all(&context), &[], &interrupt)?;
        let script = r#".append sale --meta {amount: 1} | ignore; [(.last sale | get meta.amount), ("hi" | .cas-post | .cas $in)]"#;
        let value = runtime.evaluate("t.nu", script)?;
        let expected = Value::test_list(vec![Value::test_int(1), Value::test_string("hi")]);
        assert_eq!(value, expected);
        Ok(())
    }
}
