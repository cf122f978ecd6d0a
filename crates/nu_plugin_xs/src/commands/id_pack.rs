//! `xs id pack`: an unpacked id record back to the id, losslessly.

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Category, Example, LabeledError, PipelineData, Record, Signature, Span, Type, Value};
use xs_core::Scru128Id;

use crate::{XsPlugin, error};

/// `xs id pack`.
pub struct IdPack;

impl PluginCommand for IdPack {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs id pack"
    }

    fn description(&self) -> &str {
        "Turn a {timestamp, counter_hi, counter_lo, entropy} record (from `xs id unpack`) back into the id"
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .category(Category::Custom("xs".into()))
            .input_output_type(Type::record(), Type::String)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example {
            example: "xs id unpack 03amo4vrpq0xs2alqicv0426b | xs id pack",
            description: "Round trip an id",
            result: Some(Value::string("03amo4vrpq0xs2alqicv0426b", Span::unknown())),
        }]
    }

    fn run(
        &self,
        _plugin: &XsPlugin,
        _engine: &EngineInterface,
        call: &EvaluatedCall,
        input: PipelineData,
    ) -> Result<PipelineData, LabeledError> {
        let value = input.into_value(call.head)?;
        let id = pack(value.as_record()?, value.span())?;
        Ok(PipelineData::value(Value::string(id.to_string(), call.head), None))
    }
}

/// The id whose fields `record` holds.
fn pack(record: &Record, span: Span) -> Result<Scru128Id, LabeledError> {
    let field = |name: &str| {
        record.get(name).ok_or_else(|| {
            error::invalid(format!("the record has no {name} field"), "expected an unpacked id", span)
                .with_help("records from `xs id unpack` have timestamp, counter_hi, counter_lo and entropy")
        })
    };
    let timestamp = field("timestamp")?.as_date()?.timestamp_millis();
    let int = |name: &str| -> Result<u32, LabeledError> {
        let value = field(name)?;
        u32::try_from(value.as_int()?).map_err(|_| out_of_range(name, value.span()))
    };
    let timestamp = u64::try_from(timestamp).map_err(|_| out_of_range("timestamp", span))?;
    Scru128Id::try_from_fields(timestamp, int("counter_hi")?, int("counter_lo")?, int("entropy")?)
        .map_err(|_| out_of_range("a field", span))
}

fn out_of_range(name: &str, span: Span) -> LabeledError {
    error::invalid(format!("{name} is out of range for a scru128 id"), "out of range", span)
        .with_help("timestamp: 48 bits of ms since 1970; counter_hi, counter_lo: 24 bits; entropy: 32 bits")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_what_unpack_gives() {
        let record = super::super::id_unpack::example_record();
        let id = pack(record.as_record().unwrap(), Span::test_data()).unwrap();
        assert_eq!(id.to_string(), "03amo4vrpq0xs2alqicv0426b");
    }

    #[test]
    fn test_examples() {
        super::super::test_examples(&IdPack);
    }
}
