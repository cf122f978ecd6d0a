//! `xs id pack`: an unpacked id record back to the id, losslessly.

use super::StoreCommand;
use crate::nu::{Host, value::id_from_record};
use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Span, Type, Value};

/// `xs id pack`.
pub struct IdPack;

impl StoreCommand for IdPack {
    fn name(&self) -> &str {
        "xs id pack"
    }

    fn description(&self) -> &str {
        "Turn a {timestamp, counter_hi, counter_lo, entropy} record (from `xs id unpack`) back into the id"
    }

    fn signature(&self) -> Signature {
        super::base_signature(self.name()).input_output_type(Type::record(), Type::String)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example {
            example: "xs id unpack 03amo4vrpq0xs2alqicv0426b | xs id pack",
            description: "Round trip an id",
            result: Some(Value::string("03amo4vrpq0xs2alqicv0426b", Span::unknown())),
        }]
    }

    fn run(&self, _host: &dyn Host, call: &EvaluatedCall, input: PipelineData) -> Result<PipelineData, LabeledError> {
        let value = input.into_value(call.head)?;
        let id = id_from_record(value.as_record()?, value.span())?;
        Ok(PipelineData::value(Value::string(id.to_string(), call.head), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_what_unpack_gives() {
        let record = super::super::id_unpack::example_record();
        let id = id_from_record(record.as_record().unwrap(), Span::test_data()).unwrap();
        assert_eq!(id.to_string(), "03amo4vrpq0xs2alqicv0426b");
    }
}
