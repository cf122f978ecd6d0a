//! `xs status`: which store, who owns it, and what runs in it.

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Record, Signature, Span, Type, Value};
use xs_core::{ReadOptions, nu::value};

use crate::{XsPlugin, backend, error, lifecycle};

/// `xs status`.
pub struct Status;

impl PluginCommand for Status {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs status"
    }

    fn description(&self) -> &str {
        "The store's path, this shell's role (owner or client), the owner's pid, the frame count, and every handler and generator with its state"
    }

    fn extra_description(&self) -> &str {
        "A handler's or generator's state is its newest lifecycle event (registered, active, \
         failed, done, ...), read from its xs.handler.<name>.* / xs.generator.<name>.* frames. \
         Counting frames reads the whole stream."
    }

    fn signature(&self) -> Signature {
        super::signature(self.name()).input_output_type(Type::Nothing, Type::record())
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example { example: "xs status", description: "Describe the store", result: None },
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
        let frames = lifecycle::count(backend.read(ReadOptions::default()).map_err(&fail)?).map_err(&fail)?;
        let mut record = Record::new();
        record.push("store", Value::string(backend.path().to_string_lossy(), span));
        record.push("role", Value::string(backend::role_name(backend.role()), span));
        let pid = backend.owner_pid().map_err(&fail)?;
        record.push("owner_pid", pid.map_or(Value::nothing(span), |p| Value::int(i64::from(p), span)));
        record.push("frames", Value::int(i64::try_from(frames).unwrap_or(i64::MAX), span));
        for kind in [lifecycle::Kind::Handler, lifecycle::Kind::Generator] {
            let states = lifecycle::states(&backend, kind).map_err(&fail)?;
            record.push(kind.plural(), Value::list(states.iter().map(|s| state_value(s, span)).collect(), span));
        }
        Ok(PipelineData::value(Value::record(record, span), None))
    }
}

fn state_value(state: &lifecycle::State, span: Span) -> Value {
    let mut record = Record::new();
    record.push("name", Value::string(state.name.clone(), span));
    record.push("state", Value::string(state.state.clone(), span));
    record.push("since", Value::date(value::id_datetime(state.since), span));
    Value::record(record, span)
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_examples() {
        super::super::test_examples(&super::Status);
    }
}
