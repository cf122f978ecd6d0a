//! `xs id unpack`: an id's fields, its timestamp as a datetime.

use super::StoreCommand;
use crate::{
    id::Scru128Id,
    nu::{Host, args, value::id_to_record},
};
use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Span, Spanned, SyntaxShape, Type, Value};

/// `xs id unpack [id]`.
pub struct IdUnpack;

impl StoreCommand for IdUnpack {
    fn name(&self) -> &str {
        "xs id unpack"
    }

    fn description(&self) -> &str {
        "Split an id into {timestamp, counter_hi, counter_lo, entropy}; `xs id pack` reverses it"
    }

    fn signature(&self) -> Signature {
        super::base_signature(self.name())
            .optional("id", SyntaxShape::String, "the id (else taken from the input)")
            .input_output_types(vec![(Type::Nothing, Type::record()), (Type::String, Type::record())])
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "xs id unpack 03amo4vrpq0xs2alqicv0426b",
                description: "The fields of an id",
                result: Some(example_record()),
            },
            Example { example: "(xs id | xs id unpack).timestamp", description: "When an id was made", result: None },
        ]
    }

    fn run(&self, _host: &dyn Host, call: &EvaluatedCall, input: PipelineData) -> Result<PipelineData, LabeledError> {
        let arg = match call.opt::<Spanned<String>>(0)? {
            Some(arg) => arg,
            None => {
                let value = input.into_value(call.head)?;
                Spanned { span: value.span(), item: value.coerce_into_string()? }
            }
        };
        let id = args::id(&arg)?;
        Ok(PipelineData::value(Value::record(id_to_record(id, call.head), call.head), None))
    }
}

/// The record of the id in the examples, `03amo4vrpq0xs2alqicv0426b`.
pub fn example_record() -> Value {
    let id = Scru128Id::from_u128((1_700_000_000_000 << 80) | (1 << 56) | (2 << 32) | 3);
    Value::record(id_to_record(id, Span::unknown()), Span::unknown())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_a_known_id() {
        let record = example_record();
        let record = record.as_record().unwrap();
        assert_eq!(record.get("counter_hi").unwrap().as_int().unwrap(), 1);
        assert_eq!(record.get("entropy").unwrap().as_int().unwrap(), 3);
        assert_eq!(record.get("timestamp").unwrap().as_date().unwrap().timestamp_millis(), 1_700_000_000_000);
    }
}
