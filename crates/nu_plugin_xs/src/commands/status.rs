//! `xs status`: which store, who owns it, its token, and what runs in it.

use std::time::Duration;

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Record, Signature, Span, Type, Value};
use xs_core::{
    ReadOptions, Result, StoreError,
    connection::Subscription,
    nu::value,
    script_state::{ScriptKind, ScriptState},
    server::token,
    store::{Next, Poll},
};

use crate::{XsPlugin, backend, error};

/// `xs status`.
pub struct Status;

impl PluginCommand for Status {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs status"
    }

    fn description(&self) -> &str {
        "The store's path, this shell's role (owner or client), the owner's pid, the token, the frame count, every handler, generator and action with its state, and every mirror with its position and lag"
    }

    fn extra_description(&self) -> &str {
        "Handlers, generators and actions are as the owner's processor reports them: their state \
         (registered, active, invalid, failed, done, unregistered, stopped, or inert: imported \
         from a dump without --with-scripts, so it never runs), the register (spawn) frame it is \
         about, and the last error; null when the owner keeps no such report (cross-stream). \
         Mirrors into NATS JetStream also show their position, lag and last error (as `xs \
         mirror list`). \
         Counting frames reads the whole stream. The token (made on first use, in <store>/token) \
         is what clients of the owner's other listeners (xs serve --listen) present; `xs token \
         rotate` replaces it. For a remote store it is null."
    }

    fn signature(&self) -> Signature {
        super::signature(self.name()).input_output_type(Type::Nothing, Type::record())
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example { example: "xs status", description: "Describe the store", result: None },
            Example {
                example: "(xs status).token == (xs token)",
                description: "The token clients of the other listeners present",
                result: Some(Value::test_bool(true)),
            },
            Example {
                example: "xs append a | ignore; (xs status).frames",
                description: "How many frames the store holds",
                result: Some(Value::test_int(1)),
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
        let span = call.head;
        let fail = error::at(span);
        let frames = count(backend.read(ReadOptions::default()).map_err(&fail)?).map_err(&fail)?;
        let mut record = Record::new();
        record.push("store", Value::string(backend.location(), span));
        record.push("role", Value::string(backend::role_name(backend.role()), span));
        let pid = backend.owner_pid().map_err(&fail)?;
        record.push("owner_pid", pid.map_or(Value::nothing(span), |p| Value::int(i64::from(p), span)));
        let token = backend.path().map(token::load_or_create).transpose().map_err(&fail)?;
        record.push("token", token.map_or(Value::nothing(span), |token| Value::string(token, span)));
        record.push("frames", Value::int(i64::try_from(frames).unwrap_or(i64::MAX), span));
        // An owner that keeps no report (cross-stream) answers 404: its
        // scripts' states are unknown, not absent.
        let states = match backend.processor_states() {
            Err(StoreError::Remote { status: 404, .. }) => None,
            states => Some(states.map_err(&fail)?),
        };
        for (kind, column) in
            [(ScriptKind::Handler, "handlers"), (ScriptKind::Generator, "generators"), (ScriptKind::Action, "actions")]
        {
            let listed = states.as_ref().map(|states| {
                let listed = states.iter().filter(|s| s.kind == kind).map(|s| state_value(s, span)).collect();
                Value::list(listed, span)
            });
            record.push(column, listed.unwrap_or(Value::nothing(span)));
        }
        let mirrors = states.as_ref().map(|states| {
            let listed = states.iter().filter(|s| s.kind == ScriptKind::Mirror);
            Value::list(listed.map(|s| super::mirror::mirror_value(s, span)).collect(), span)
        });
        record.push("mirrors", mirrors.unwrap_or(Value::nothing(span)));
        Ok(PipelineData::value(Value::record(record, span), None))
    }
}

fn state_value(state: &ScriptState, span: Span) -> Value {
    let mut record = Record::new();
    record.push("name", Value::string(state.name.clone(), span));
    record.push("state", Value::string(state.state.label(state.kind), span));
    record.push("since", Value::date(value::id_datetime(state.since), span));
    record.push("id", Value::string(state.id.to_string(), span));
    record.push("error", state.error.clone().map_or(Value::nothing(span), |e| Value::string(e, span)));
    Value::record(record, span)
}

/// How many frames a read gives.
fn count(mut source: Subscription) -> Result<usize> {
    let mut n = 0;
    loop {
        match source.poll(Duration::from_secs(1))? {
            Next::Frame(_) => n += 1,
            Next::Idle => {}
            Next::End => return Ok(n),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_examples() {
        super::super::test_examples(&super::Status);
    }
}
