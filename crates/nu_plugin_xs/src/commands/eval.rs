//! `xs eval`: a script run by the store's owner, its output back here as
//! Nushell values (cross-stream's `xs eval`, through the same route).

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{
    ByteStream, ByteStreamType, Example, LabeledError, ListStream, PipelineData, ShellError, Signals, Signature, Span,
    Spanned, SyntaxShape, Type, Value,
};
use xs_core::{
    client::{Evaluated, Stop},
    nu::{Watch, value::from_json},
};

use crate::{XsPlugin, error, watch::ConsumerWatch};

/// `xs eval [script]`.
pub struct Eval;

impl PluginCommand for Eval {
    type Plugin = XsPlugin;

    fn name(&self) -> &str {
        "xs eval"
    }

    fn description(&self) -> &str {
        "Run a Nushell script in the store owner's engine, with the store commands and the stream's modules, and return its output"
    }

    fn extra_description(&self) -> &str {
        "The owner runs the script as it runs a handler's: Nushell's commands, the store commands \
         (xs append, xs cat, ...) on its store, and every module appended as xs.module.<name> \
         (use <name>). The script is text: it sees none of this shell's variables. A list stream \
         comes back as a stream and bytes as bytes, as the script produces them; any other value \
         comes back through JSON (dates become strings, durations and file sizes numbers). A \
         script error comes back with Nushell's message. Ctrl-C, or a pipeline that stops \
         reading (| first 3), stops the script on the owner. Scripts are at most 1 MiB."
    }

    fn signature(&self) -> Signature {
        super::signature(self.name())
            .optional("script", SyntaxShape::String, "the script (or give it as pipeline input)")
            .input_output_types(vec![(Type::Nothing, Type::Any), (Type::String, Type::Any)])
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "xs eval '1 + 2'",
                description: "Compute on the owner",
                result: Some(Value::test_int(3)),
            },
            Example {
                example: "xs eval '\"hi\" | xs append note | get topic'",
                description: "Append from the owner's engine",
                result: Some(Value::test_string("note")),
            },
            Example {
                example: "'[1 2 3] | each {|n| $n * 2}' | xs eval",
                description: "A script from the pipeline; a list stream comes back as a stream",
                result: Some(Value::test_list(vec![Value::test_int(2), Value::test_int(4), Value::test_int(6)])),
            },
        ]
    }

    fn run(
        &self,
        plugin: &XsPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        input: PipelineData,
    ) -> Result<PipelineData, LabeledError> {
        let script = script(call, input)?;
        let backend = plugin.backend(engine, call)?;
        let signals = engine.signals().clone();
        let streaming = Arc::new(AtomicBool::new(false));
        let output =
            backend.eval(&script.item, stop(&signals, &streaming)).map_err(|e| match signals.interrupted() {
                true => ShellError::Interrupted { span: call.head }.into(),
                false => error::at(script.span)(e),
            })?;
        streaming.store(true, Ordering::Release);
        Ok(pipeline(output, call.head, signals))
    }
}

/// The script: the argument, else the pipeline's string.
fn script(call: &EvaluatedCall, input: PipelineData) -> Result<Spanned<String>, LabeledError> {
    if let Some(script) = call.opt::<Spanned<String>>(0)? {
        return Ok(script);
    }
    let span = input.span().unwrap_or(call.head);
    match input {
        PipelineData::Empty | PipelineData::Value(Value::Nothing { .. }, _) => {
            Err(error::invalid("no script to run", "give a script", call.head)
                .with_help("xs eval '<script>', or pipe the script in as a string"))
        }
        input => Ok(Spanned { item: input.collect_string("", &nu_protocol::Config::default())?, span }),
    }
}

/// Stops the evaluation on Ctrl-C, and once its output streams, when the
/// engine stops reading it (the watch must first be asked on the thread
/// that iterates the stream, so it is asked only from then on).
fn stop(signals: &Signals, streaming: &Arc<AtomicBool>) -> Stop {
    let (signals, streaming) = (signals.clone(), streaming.clone());
    let watch = Mutex::new(ConsumerWatch::new());
    Arc::new(move || {
        signals.interrupted()
            || (streaming.load(Ordering::Acquire) && watch.lock().map_or(true, |mut watch| watch.abandoned()))
    })
}

/// The owner's answer as the command's output.
fn pipeline(output: Evaluated, span: Span, signals: Signals) -> PipelineData {
    match output {
        Evaluated::Nothing => PipelineData::empty(),
        Evaluated::Value(json) => PipelineData::value(from_json(&json, span), None),
        Evaluated::Text(text) => PipelineData::value(Value::string(text, span), None),
        Evaluated::Lines(lines) => {
            let values = lines.map(move |line| match line {
                Ok(json) => from_json(&json, span),
                Err(e) => {
                    Value::error(LabeledError::new(e.to_string()).with_label("the script's output", span).into(), span)
                }
            });
            PipelineData::list_stream(ListStream::new(values, span, signals), None)
        }
        Evaluated::Bytes(bytes) => {
            PipelineData::byte_stream(ByteStream::read(bytes, span, signals, ByteStreamType::Unknown), None)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_examples() {
        super::super::test_examples(&super::Eval);
    }
}
