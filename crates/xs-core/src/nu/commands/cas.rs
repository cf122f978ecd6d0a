//! `xs cas`: a payload out of the CAS, as text when it is UTF-8.

use std::io::{Cursor, Read};

use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{
    ByteStream, ByteStreamType, Example, LabeledError, PipelineData, Signals, Signature, Span, Spanned, SyntaxShape,
    Type, Value,
};

use super::StoreCommand;
use crate::nu::{Host, args, error};

/// Payloads up to this size come back as a value; larger ones as a stream.
const WHOLE_MAX: u64 = 1024 * 1024;

/// `xs cas [hash]`.
pub struct Cas;

impl StoreCommand for Cas {
    fn name(&self) -> &str {
        "xs cas"
    }

    fn description(&self) -> &str {
        "A payload from the CAS: a string if it is UTF-8, binary otherwise"
    }

    fn extra_description(&self) -> &str {
        "The hash is the argument, or comes from the pipeline as a string or as a frame record \
         (`xs last clip | xs cas`); a frame without a payload gives nothing. Payloads over 1 MiB \
         come back as a byte stream."
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

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: r#""hello" | xs append clip | xs cas"#,
                description: "The payload of a frame",
                result: Some(Value::test_string("hello")),
            },
            Example {
                example: "0x[00ff] | xs cas put | xs cas",
                description: "Content that is not UTF-8 comes back as binary",
                result: Some(Value::test_binary(vec![0x00, 0xff])),
            },
            Example {
                example: "xs cas sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
                description: "Content by hash",
                result: None,
            },
        ]
    }

    fn run(&self, host: &dyn Host, call: &EvaluatedCall, input: PipelineData) -> Result<PipelineData, LabeledError> {
        let Some(arg) = hash_arg(call, input)? else { return Ok(PipelineData::empty()) };
        let hash = args::hash(&arg)?;
        let reader = host.store(call)?.cas_reader(&hash).map_err(error::at(arg.span))?;
        content(reader, call.head, host.signals()).map_err(error::at(arg.span))
    }
}

/// The hash from the argument, or from the input (a string, or a frame's
/// `hash` field); `None` for a frame without a payload.
fn hash_arg(call: &EvaluatedCall, input: PipelineData) -> Result<Option<Spanned<String>>, LabeledError> {
    if let Some(arg) = call.opt::<Spanned<String>>(0)? {
        return Ok(Some(arg));
    }
    let value = input.into_value(call.head)?;
    let span = value.span();
    let hash = crate::nu::value::hash_in(&value).map_err(|message| no_hash(message, span))?;
    Ok(hash.map(|item| Spanned { item, span }))
}

fn no_hash(message: &str, span: Span) -> LabeledError {
    error::invalid(message, "expected a hash, or a frame record", span)
        .with_help("pass the hash as an argument, or pipe in a hash string or a frame: `xs last clip | xs cas`")
}

/// Small content as a string or binary value; large content as a stream.
pub(super) fn content(mut reader: Box<dyn Read + Send>, span: Span, signals: Signals) -> crate::Result<PipelineData> {
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
