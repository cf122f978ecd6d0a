//! `xs cas`: a payload out of the CAS, as text when it is UTF-8.

use std::io::{Cursor, Read};

use nu_engine::CallExt;
use nu_protocol::{
    ByteStream, ByteStreamType, Example, PipelineData, ShellError, Signals, Signature, Span, Spanned, SyntaxShape,
    Type, Value,
    engine::{Call, Command, EngineState, Stack},
};

use super::{Context, args};
use crate::processor::error::{at, invalid};

/// Payloads up to this size come back as a value; larger ones as a stream.
const WHOLE_MAX: u64 = 1024 * 1024;

/// `xs cas [hash]`.
#[derive(Clone)]
pub(crate) struct Cas(pub(crate) Context);

impl Command for Cas {
    fn name(&self) -> &str {
        "xs cas"
    }

    fn signature(&self) -> Signature {
        super::signature(self.name())
            .optional("hash", SyntaxShape::String, "the payload's hash (else taken from the input)")
            .input_output_types(vec![
                (Type::Nothing, Type::Any),
                (Type::String, Type::Any),
                (Type::record(), Type::Any),
            ])
    }

    fn description(&self) -> &str {
        "A payload from the CAS: a string if it is UTF-8, binary otherwise"
    }

    fn extra_description(&self) -> &str {
        "The hash is the argument, or comes from the pipeline as a string or as a frame record \
         (`$frame | xs cas`); a frame without a payload gives nothing."
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example { example: "$frame | xs cas", description: "The payload of a frame", result: None }]
    }

    fn run(
        &self,
        engine_state: &EngineState,
        stack: &mut Stack,
        call: &Call,
        input: PipelineData,
    ) -> Result<PipelineData, ShellError> {
        self.0.check_store(engine_state, stack, call)?;
        let arg = match call.opt::<Spanned<String>>(engine_state, stack, 0)? {
            Some(arg) => arg,
            None => match hash_of(input.into_value(call.head)?)? {
                Some(arg) => arg,
                None => return Ok(PipelineData::empty()),
            },
        };
        let hash = args::hash(&arg)?;
        let reader = self.0.store.cas_reader(&hash).map_err(at(arg.span))?;
        content(reader, call.head, engine_state.signals().clone()).map_err(|e| at(arg.span)(e.into()))
    }
}

/// The hash in a string, or a frame's `hash` field; `None` for a frame
/// without a payload.
fn hash_of(value: Value) -> Result<Option<Spanned<String>>, ShellError> {
    let span = value.span();
    let hash = crate::processor::value::hash_in(&value).map_err(|message| no_hash(message, span))?;
    Ok(hash.map(|item| Spanned { item, span }))
}

fn no_hash(message: &str, span: Span) -> ShellError {
    invalid(message, "expected a hash, or a frame record", span)
        .with_help("pass the hash as an argument, or pipe in a hash string or a frame: `$frame | xs cas`")
        .into()
}

/// Small content as a string or binary value; large content as a stream.
fn content(mut reader: Box<dyn Read + Send>, span: Span, signals: Signals) -> std::io::Result<PipelineData> {
    let mut head = Vec::new();
    reader.by_ref().take(WHOLE_MAX + 1).read_to_end(&mut head)?;
    if head.len() as u64 > WHOLE_MAX {
        let stream = ByteStream::read(Cursor::new(head).chain(reader), span, signals, ByteStreamType::Unknown);
        return Ok(PipelineData::byte_stream(stream, None));
    }
    let value = match String::from_utf8(head) {
        Ok(text) => Value::string(text, span),
        Err(e) => Value::binary(e.into_bytes(), span),
    };
    Ok(PipelineData::value(value, None))
}
