//! `xs mirror add` and `xs mirror list`: mirrors of the store into NATS
//! JetStream (`xs_core::nats`).
//!
//! Adding one appends its register frame, `xs.mirror.<name>.register`,
//! with the config as meta, after checking the config here with the same
//! code the owner's processor checks it with, so a wrong flag is an error
//! at the flag rather than an `.invalid` frame later. Listing asks the
//! owner's processor, as `xs status` does.

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Record, Signature, Span, Spanned, SyntaxShape, Type, Value};
use xs_core::{
    Frame,
    nats::config::MirrorConfig,
    nu::value,
    script_state::{ScriptKind, ScriptState},
};

use crate::{XsPlugin, error, location};

/// Bare `xs mirror`: its subcommands.
pub struct Mirror;

/// `xs mirror add`.
pub struct MirrorAdd;

/// `xs mirror list`.
pub struct MirrorList;

impl PluginCommand for Mirror {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs mirror"
    }

    fn description(&self) -> &str {
        "Mirrors of the store into NATS JetStream: list the mirror commands"
    }

    fn signature(&self) -> Signature {
        super::base_signature(self.name()).input_output_type(Type::Nothing, Type::String)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example { example: "xs mirror", description: "List the mirror commands", result: None }]
    }

    fn run(
        &self,
        _plugin: &XsPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        _input: PipelineData,
    ) -> Result<PipelineData, LabeledError> {
        Ok(PipelineData::value(Value::string(engine.get_help()?, call.head), None))
    }
}

impl PluginCommand for MirrorAdd {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs mirror add"
    }

    fn description(&self) -> &str {
        "Mirror the store into a NATS JetStream stream: append xs.mirror.<name>.register"
    }

    fn extra_description(&self) -> &str {
        "The owner publishes every stored frame on the chosen topics (all by default; never \
         ephemeral ones), in id order, to the subject <subject-prefix>.<topic> of the stream \
         (created if missing, with --replicas and --retention), exactly once across restarts \
         and kills. Payloads too large for one message go into the object store \
         <stream>-payloads. Credentials never go in the URL (it is stored in the register \
         frame): --creds names a file holding a NATS .creds file, an nkey seed, user:password, \
         or a token. Registering the same name again replaces the mirror; `xs append \
         xs.mirror.<name>.unregister` stops it. Returns the register frame."
    }

    fn signature(&self) -> Signature {
        super::signature(self.name())
            .input_output_type(Type::Nothing, Type::record())
            .required("name", SyntaxShape::String, "the mirror's name")
            .named(
                "url",
                SyntaxShape::String,
                "the server, or a comma list of a cluster's servers (nats://, tls://)",
                None,
            )
            .named("stream", SyntaxShape::String, "the JetStream stream (default XS)", None)
            .named("subject-prefix", SyntaxShape::String, "subjects are <prefix>.<topic> (default xs)", None)
            .named("topics", SyntaxShape::Any, "topic patterns to mirror: a comma list or a list (default all)", None)
            .named("creds", SyntaxShape::Filepath, "a file with the credentials", None)
            .named("replicas", SyntaxShape::Int, "the stream's replicas when created (default 1)", None)
            .named("retention", SyntaxShape::String, "limits, interest or workqueue (default limits)", None)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "xs mirror add desk --url nats://127.0.0.1:4222",
                description: "Mirror every frame into the stream XS under xs.<topic>",
                result: None,
            },
            Example {
                example: "xs mirror add clips --url nats://a:4222,nats://b:4222,nats://c:4222 --stream DESKS --subject-prefix desk1 --topics [clip.*] --replicas 3 --creds ~/.nats/desk1.creds",
                description: "Mirror the clip topics into an R3 stream of a cluster, as one of several stores",
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
        let name: Spanned<String> = call.req(0)?;
        let head = call.head;
        let meta = value::to_json(&Value::record(config(engine, call)?, head)).map_err(LabeledError::from)?;
        MirrorConfig::parse(Some(&meta)).map_err(|e| {
            error::invalid(e.to_string(), "this mirror's config", head).with_help("see `help xs mirror add`")
        })?;
        let frame = Frame::builder(format!("xs.mirror.{}.register", name.item)).meta(meta).build();
        let backend = plugin.backend(engine, call)?;
        let frame = backend.append(frame, &mut std::io::empty()).map_err(error::at(name.span))?;
        Ok(PipelineData::value(value::frame_to_value(&frame, false, head), None))
    }
}

/// The config record from the flags (the creds path made absolute), as
/// the register frame's meta.
fn config(engine: &EngineInterface, call: &EvaluatedCall) -> Result<Record, LabeledError> {
    let mut meta = Record::new();
    let flags =
        [("url", "url"), ("stream", "stream"), ("subject-prefix", "subject_prefix"), ("retention", "retention")];
    for (flag, key) in flags {
        if let Some(text) = call.get_flag::<Value>(flag)? {
            meta.push(key, text);
        }
    }
    if let Some(topics) = call.get_flag::<Value>("topics")? {
        meta.push("topics", topics);
    }
    if let Some(creds) = call.get_flag::<Spanned<String>>("creds")? {
        let path = location::user_path(engine, &creds.item)?.display().to_string();
        meta.push("creds", Value::string(path, creds.span));
    }
    if let Some(replicas) = call.get_flag::<Value>("replicas")? {
        meta.push("replicas", replicas);
    }
    Ok(meta)
}

impl PluginCommand for MirrorList {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs mirror list"
    }

    fn description(&self) -> &str {
        "The store's mirrors into NATS JetStream: state, position, lag and last error"
    }

    fn extra_description(&self) -> &str {
        "As the owner's processor reports them: the state (registered, active, invalid, \
         unregistered, stopped, ...), the register frame, the position (the newest frame known \
         to be in the stream with all before it), the lag (stored frames on its topics after \
         the position) and the last error of a run (kept after it recovers; the state says \
         whether it runs)."
    }

    fn signature(&self) -> Signature {
        super::signature(self.name()).input_output_type(Type::Nothing, Type::table())
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example { example: "xs mirror list", description: "Every mirror and where it stands", result: None },
            Example {
                example: "xs mirror list | where lag > 0",
                description: "The mirrors with frames still to publish",
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
        let backend = plugin.backend(engine, call)?;
        let states = backend.processor_states().map_err(error::at(call.head))?;
        let mirrors = states.iter().filter(|s| s.kind == ScriptKind::Mirror).map(|s| mirror_value(s, call.head));
        Ok(PipelineData::value(Value::list(mirrors.collect(), call.head), None))
    }
}

/// One mirror as a record: its state and its progress.
pub fn mirror_value(state: &ScriptState, span: Span) -> Value {
    let mut record = Record::new();
    record.push("name", Value::string(state.name.clone(), span));
    record.push("state", Value::string(state.state.label(state.kind), span));
    record.push("since", Value::date(value::id_datetime(state.since), span));
    record.push("id", Value::string(state.id.to_string(), span));
    let progress = state.mirror.clone().unwrap_or_default();
    let position = progress.position.map(|p| Value::string(p.to_string(), span));
    record.push("position", position.unwrap_or(Value::nothing(span)));
    record.push("lag", Value::int(i64::try_from(progress.lag).unwrap_or(i64::MAX), span));
    let error = progress.error.or_else(|| state.error.clone());
    record.push("error", error.map_or(Value::nothing(span), |e| Value::string(e, span)));
    Value::record(record, span)
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_examples() {
        super::super::test_examples(&super::MirrorList);
    }
}
