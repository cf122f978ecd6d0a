//! `xs cas put`: pipeline input into the CAS.

use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Type, Value};

use super::StoreCommand;
use crate::nu::{Host, args, error};

/// `xs cas put`.
pub struct CasPut;

impl StoreCommand for CasPut {
    fn name(&self) -> &str {
        "xs cas put"
    }

    fn description(&self) -> &str {
        "Store the pipeline input in the CAS and return its hash"
    }

    fn extra_description(&self) -> &str {
        "Input as for `xs append`: a string, binary, a byte stream (streamed), or a record or list \
         (stored as JSON). Content no frame references is swept after a grace period."
    }

    fn signature(&self) -> Signature {
        super::signature(self.name()).input_output_types(vec![(Type::Any, Type::String)])
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example {
            example: r#""hello" | xs cas put"#,
            description: "Store a string",
            result: Some(Value::test_string("sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")),
        }]
    }

    fn run(&self, host: &dyn Host, call: &EvaluatedCall, input: PipelineData) -> Result<PipelineData, LabeledError> {
        let mut payload = args::payload(input, call.head)?;
        let store = host.store(call)?;
        let hash = store.cas_put(&mut payload.item).map_err(error::at(payload.span))?;
        Ok(PipelineData::value(Value::string(hash.to_string(), call.head), None))
    }
}
