//! The plugin protocol's floor: a plugin whose one command, `xs-floor
//! <n>`, streams `n` copies of one frame-shaped record and does nothing
//! else.
//!
//! Why it exists: `xs cat | length` spends most of its time in Nushell's
//! plugin protocol (each record is a MessagePack message the engine decodes
//! and acknowledges), which xs cannot change. `scripts/bench-plugin.nu`
//! times `xs-floor 100000 | length` beside `xs cat | length` (its
//! `plugin-floor` line), so the cat can be read as a multiple of what any
//! plugin pays to hand the engine that many records. The record has a
//! frame's columns and values (`{id, topic, hash, meta: {i}}`, as the
//! benchmark's store holds), built once and cloned per item. It is served
//! as any plugin is, by [`nu_plugin::serve_plugin`], so the figure is the
//! stock protocol's.
//!
//! It is an example, not a command of the `xs` plugin, so users never see
//! it: `cargo build --release -p nu_plugin_xs --example nu_plugin_xs_floor`.

use nu_plugin::{EngineInterface, EvaluatedCall, MsgPackSerializer, Plugin, PluginCommand};
use nu_protocol::{LabeledError, ListStream, PipelineData, Signature, SyntaxShape, Type, Value};
use xs_core::{Frame, nu::value::frame_to_value};

/// The floor plugin.
struct Floor;

impl Plugin for Floor {
    fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").into()
    }

    fn commands(&self) -> Vec<Box<dyn PluginCommand<Plugin = Self>>> {
        vec![Box::new(Records)]
    }
}

/// `xs-floor <n>`: `n` constant frame records, as a list stream.
struct Records;

impl PluginCommand for Records {
    type Plugin = Floor;

    fn name(&self) -> &str {
        "xs-floor"
    }

    fn description(&self) -> &str {
        "Stream n copies of one frame-shaped record: the plugin protocol's cost per record"
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .required("n", SyntaxShape::Int, "how many records")
            .input_output_type(Type::Nothing, Type::list(Type::record()))
    }

    fn run(
        &self,
        _plugin: &Floor,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        _input: PipelineData,
    ) -> Result<PipelineData, LabeledError> {
        let n: i64 = call.req(0)?;
        let record = record(call);
        let items = (0..n.max(0)).map(move |_| record.clone());
        Ok(PipelineData::list_stream(ListStream::new(items, call.head, engine.signals().clone()), None))
    }
}

/// A frame as the benchmark's store holds one: topic `bulk`, no payload,
/// meta `{i: <int>}`, a real id.
fn record(call: &EvaluatedCall) -> Value {
    let frame = Frame::builder("bulk").id(scru128_id()).meta(serde_json::json!({"i": 12345})).build();
    frame_to_value(&frame, false, call.head)
}

fn scru128_id() -> xs_core::id::Scru128Id {
    xs_core::id::Scru128Id::from_u128(0x0364_8a1b_2c3d_4e5f_6a7b_8c9d_0e1f_2a3b)
}

fn main() {
    nu_plugin::serve_plugin(&Floor, MsgPackSerializer);
}
