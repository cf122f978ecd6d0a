//! `xs get`: one frame by id.

use super::StoreCommand;
use crate::{
    StoreError,
    nu::{Host, args, error, value},
};
use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Type, Value};

/// `xs get <id>`.
pub struct Get;

impl StoreCommand for Get {
    fn name(&self) -> &str {
        "xs get"
    }

    fn description(&self) -> &str {
        "The frame with this id"
    }

    fn signature(&self) -> Signature {
        super::detail_switch(super::id_param(super::signature(self.name())))
            .input_output_type(Type::Nothing, Type::record())
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example {
            example: "let f = (xs append note --meta {n: 1}); (xs get $f.id).meta",
            description: "Fetch a frame by its id",
            result: Some(Value::test_record(nu_protocol::record! {"n" => Value::test_int(1)})),
        }]
    }

    fn run(&self, host: &dyn Host, call: &EvaluatedCall, _input: PipelineData) -> Result<PipelineData, LabeledError> {
        let id = args::id_arg(call, 0)?;
        let found = host.store(call)?.get(&id.item).map_err(error::at(id.span))?;
        let frame = found.ok_or_else(|| error::labeled(StoreError::NotFound(id.item), id.span))?;
        Ok(PipelineData::value(value::frame_to_value(&frame, call.has_flag("detail")?, call.head), None))
    }
}
