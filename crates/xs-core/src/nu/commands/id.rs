//! `xs id`: a new scru128 id.

use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Type, Value};

use super::StoreCommand;
use crate::nu::Host;

/// `xs id`.
pub struct Id;

impl StoreCommand for Id {
    fn name(&self) -> &str {
        "xs id"
    }

    fn description(&self) -> &str {
        "A new scru128 id, of the kind frames carry"
    }

    fn signature(&self) -> Signature {
        super::base_signature(self.name()).input_output_type(Type::Nothing, Type::String)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example { example: "(xs id | str length)", description: "A 25-character id", result: None }]
    }

    fn run(&self, _host: &dyn Host, call: &EvaluatedCall, _input: PipelineData) -> Result<PipelineData, LabeledError> {
        Ok(PipelineData::value(Value::string(scru128::new_string(), call.head), None))
    }
}
