//! `xs replica`: own the store and keep it a read-only copy of what one
//! mirror publishes to a NATS JetStream stream, until Ctrl-C; or, with
//! `--promote`, make a replica a normal store again. The work is
//! [`xs_core::nats::Replica`]; this file parses flags and waits.

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Record, Signature, Span, SyntaxShape, Type, Value};
use xs_core::{
    Store,
    nats::Replica,
    trace::{self, Trace},
};

use crate::{Role, XsPlugin, error};

/// `xs replica`.
pub struct ReplicaCommand;

impl PluginCommand for ReplicaCommand {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs replica"
    }

    fn description(&self) -> &str {
        "Own the store and keep it a read-only copy of what a mirror publishes to NATS JetStream, until Ctrl-C"
    }

    fn extra_description(&self) -> &str {
        "The store gets every frame the mirror published to --stream under --subject-prefix, with \
         the same ids, meta, ttl and payload bytes (large payloads come from the stream's \
         object-store bucket), and then each new one as it arrives, through a durable JetStream \
         consumer: stopped and started again, it goes on where it left off. The store must be \
         new (empty) or already a replica of that stream and prefix. It is marked read-only: \
         appends to it (from any shell, or the socket) are refused while it is a replica, and its \
         handlers never run. Other shells read it as usual while it follows. --creds names a NATS \
         creds file; a user and password may also be given in the URL (nats://user:pass@host), \
         and tls:// URLs connect over TLS. Credentials are never logged. --promote makes a \
         replica a normal store again (stop its replica first); it then takes appends, and no \
         replica follows into it any more."
    }

    fn signature(&self) -> Signature {
        super::signature(self.name())
            .named(
                "url",
                SyntaxShape::String,
                "the NATS server (nats:// or tls://), or a comma list of them",
                Some('u'),
            )
            .named("stream", SyntaxShape::String, "the JetStream stream the mirror publishes to (default XS)", None)
            .named("subject-prefix", SyntaxShape::String, "the mirror's subject prefix (default xs)", None)
            .named("creds", SyntaxShape::Filepath, "a NATS creds file", None)
            .switch("promote", "make this replica a normal store again, and return", None)
            .input_output_types(vec![(Type::Nothing, Type::Nothing), (Type::Nothing, Type::record())])
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "xs replica --store ~/desk1 --url nats://127.0.0.1:4222 --subject-prefix desk1",
                description: "Follow what the mirror of desk1 publishes to the stream XS, until Ctrl-C",
                result: None,
            },
            Example {
                example: "xs replica --url tls://nats.example:4222 --stream CLIPS --creds ~/.nats/me.creds",
                description: "Follow the stream CLIPS over TLS, with a creds file",
                result: None,
            },
            Example {
                example: "xs replica --promote",
                description: "Make the store a normal one again: it takes appends",
                result: Some(Value::test_record(nu_protocol::record! { "promoted" => Value::test_bool(false) })),
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
        let backend = plugin.backend(engine, call)?;
        super::local_dir(&backend, self.name(), call.head)?;
        let store = match backend.connection().store() {
            Some(store) if backend.role() == Role::Owner => store,
            _ => return Err(owned_elsewhere(&backend.location(), call.head)),
        };
        if call.has_flag("promote")? {
            let promoted = store.promote().map_err(error::at(call.head))?;
            let mut record = Record::new();
            record.push("promoted", Value::bool(promoted, call.head));
            return Ok(PipelineData::value(Value::record(record, call.head), None));
        }
        follow(engine, call, store)?;
        Ok(PipelineData::empty())
    }
}

/// Follows until Ctrl-C, or until the replica fails.
fn follow(engine: &EngineInterface, call: &EvaluatedCall, store: Store) -> Result<(), LabeledError> {
    let url: nu_protocol::Spanned<String> = call.get_flag("url")?.ok_or_else(|| {
        error::invalid("--url is required", "no --url", call.head).with_help("e.g. --url nats://127.0.0.1:4222")
    })?;
    let creds = match call.get_flag::<String>("creds")? {
        Some(path) => Some(crate::location::user_path(engine, &path)?),
        None => None,
    };
    let replica = Replica::builder()
        .url(url.item)
        .maybe_stream(call.get_flag::<String>("stream")?)
        .maybe_subject_prefix(call.get_flag::<String>("subject-prefix")?)
        .maybe_creds(creds)
        .build();
    let following = replica.spawn(store).map_err(error::at(url.span))?;
    super::serve::wait_for_interrupt_or(engine, &|| following.is_finished())?;
    following.stop().map_err(error::at(url.span))
}

/// The store is served by another process: the replica must own it.
fn owned_elsewhere(location: &str, head: Span) -> LabeledError {
    error::invalid(format!("{location} is owned by another process"), "not the owner", head).with_help(
        "stop that process (xs serve, or the shell whose plugin owns it) first: the replica must own the store",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_examples() {
        super::super::test_examples(&super::ReplicaCommand);
    }
}
