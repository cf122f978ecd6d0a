//! `xs serve`: own the store in the foreground until Ctrl-C, on its
//! socket and any `--listen` addresses.
//!
//! It is the one command that sets up logging: the owner's log (socket
//! errors, takeovers, the processor's handlers) goes to stderr, which the
//! shell shows, filtered by `XS_LOG` or `RUST_LOG`. Never to stdout, the
//! plugin's protocol channel. Other commands log nowhere: an interactive
//! shell is no place for an owner's chatter.

use std::{sync::mpsc, time::Duration};

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, SignalAction, Signature, SyntaxShape, Type};
use xs_core::trace::{self, Trace};

use crate::{Reach, Role, XsPlugin, error};

/// `xs serve`.
pub struct Serve;

impl PluginCommand for Serve {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs serve"
    }

    fn description(&self) -> &str {
        "Own the store and serve it on <store>/sock, and on --listen addresses, until Ctrl-C"
    }

    fn extra_description(&self) -> &str {
        "Any xs command makes the shell's plugin the store's owner when none answers on the \
         socket; `xs serve` does so in the foreground, for a store that must stay served whether \
         or not a shell uses it. It fails when another process already owns the store.\n\n\
         --listen adds listeners with the same API as the socket: tcp://host:port (plain HTTP), \
         https://host:port (TLS, with --cert and --key PEM files, or --self-signed, which makes a \
         certificate in <store>/tls once and logs its SHA-256 fingerprint), unix:///path, and in a \
         plugin built with the cargo feature iroh, iroh:// (peer-to-peer QUIC; iroh://?relay=off \
         for direct addresses only), which logs its ticket and records it in a frame on \
         xs.listen.iroh (`xs last xs.listen.iroh`); clients use --store iroh://<ticket>. Port 0 \
         picks a free port; each listener logs its address. Their clients send the store's token \
         (`xs status` shows it, `xs token rotate` replaces it) as a Bearer token or as the \
         password of basic auth. --no-auth drops the token, and is refused unless every address \
         is loopback. Without --listen, the plugin config's listen (and cert, key, self_signed) \
         apply."
    }

    fn signature(&self) -> Signature {
        super::signature(self.name())
            .named(
                "listen",
                SyntaxShape::OneOf(vec![SyntaxShape::String, SyntaxShape::List(Box::new(SyntaxShape::String))]),
                "an address to serve too, or a list of them: tcp://host:port, https://host:port, unix:///path, iroh://",
                Some('l'),
            )
            .named("cert", SyntaxShape::Filepath, "the https:// listeners' certificate chain (PEM)", None)
            .named("key", SyntaxShape::Filepath, "the private key of --cert (PEM)", None)
            .switch("self-signed", "serve https:// with a certificate made for the store (kept in <store>/tls)", None)
            .switch("no-auth", "serve the listeners without the token (loopback addresses only)", None)
            .input_output_type(Type::Nothing, Type::Nothing)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example { example: "xs serve --store ~/clips", description: "Serve a store until Ctrl-C", result: None },
            Example {
                example: "xs serve --listen tcp://127.0.0.1:3021",
                description: "Serve it over TCP too; clients send the token `xs status` shows",
                result: None,
            },
            Example {
                example: "xs serve --listen [https://0.0.0.0:3022 unix:///tmp/xs.sock] --self-signed",
                description: "Serve it over TLS with a generated certificate, and on another socket",
                result: None,
            },
        ]
    }

    fn run(
        &self,
        plugin: &XsPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        _input: PipelineData,
    ) -> Result<PipelineData, LabeledError> {
        trace::init(Trace::stderr()).map_err(error::at(call.head))?;
        let asked = Reach::from_flags(engine, call)?;
        let asked = (asked != Reach::default()).then_some(asked);
        let backend = plugin.backend_reaching(engine, call, asked.clone())?;
        super::local_dir(&backend, self.name(), call.head)?;
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
        if let Some(asked) = asked
            && asked != *backend.reach()
        {
            return Err(error::invalid(
                "this shell already owns the store, without these listeners",
                "serves other listeners",
                call.head,
            )
            .with_help("run xs serve in a shell of its own (or after `plugin stop xs`), before other xs commands"));
        }
        wait_for_interrupt(engine)?;
        Ok(PipelineData::empty())
    }
}

/// Blocks until Ctrl-C, or until the engine goes away.
fn wait_for_interrupt(engine: &EngineInterface) -> Result<(), LabeledError> {
    wait_for_interrupt_or(engine, &|| false)
}

/// Blocks until Ctrl-C, the engine goes away, or `done()` (checked every 250 ms).
pub(super) fn wait_for_interrupt_or(engine: &EngineInterface, done: &dyn Fn() -> bool) -> Result<(), LabeledError> {
    let (tx, rx) = mpsc::channel();
    let _guard = engine.register_signal_handler(Box::new(move |action| {
        if matches!(action, SignalAction::Interrupt) {
            let _ = tx.send(());
        }
    }))?;
    let parent = std::os::unix::process::parent_id();
    while !engine.signals().interrupted() && std::os::unix::process::parent_id() == parent && !done() {
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
