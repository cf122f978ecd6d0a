//! Scripts sent to the owner (`POST /eval`, cross-stream's `xs eval`):
//! each runs once, on a thread of its own, in the processor's engine with
//! what a handler gets: Nushell's commands, the store commands of
//! [`crate::nu`] (appends are durable at once: there is no outbox) and
//! the stream's modules as of now (`xs.module.<name>`, inert imports left
//! out), so a client can try out what a handler would do.
//!
//! The thread reports [`Piece`]s through a small channel, so output is
//! produced only as fast as the client reads it. A list stream or byte
//! stream is answered once its first item is there, so an error in the
//! first item is still a clean error answer. The evaluation stops when its
//! client goes: a send that finds the channel closed, or the server
//! dropping the [`Evaluation`]'s cancel guard, triggers the script's
//! interrupt (its loops, sleeps and streams stop; its externals are
//! killed).

use std::{
    io::Read,
    panic::{AssertUnwindSafe, catch_unwind},
};

use bytes::Bytes;
use nu_protocol::{ByteStream, ListStream, PipelineData, Value};
use tokio::sync::mpsc;

use crate::{
    nu::value::to_json,
    processor::{
        commands::{self, Context},
        engine::{Interrupt, Runtime, SharedEngine},
        lifecycle::MODULE,
        module::{self, Modules},
    },
    read_options::ReadOptions,
    server::eval::{Evaluation, Kind, Piece},
    store::Store,
};

/// Pieces buffered between the script and its client.
const BUFFERED: usize = 4;
/// Bytes read from a byte stream per piece.
const CHUNK: usize = 64 * 1024;

/// Runs `POST /eval` scripts against one store.
pub(crate) struct Evaluator {
    store: Store,
    engine: SharedEngine,
}

/// Stops an evaluation when dropped.
struct Cancel(Interrupt);

impl Drop for Cancel {
    fn drop(&mut self) {
        self.0.trigger();
    }
}

/// The sending end of an evaluation; a failed send means the client went.
struct Out {
    pieces: mpsc::Sender<Piece>,
    interrupt: Interrupt,
}

/// The client went away: nothing more is produced.
struct Gone;

impl Out {
    fn send(&self, piece: Piece) -> Result<(), Gone> {
        self.pieces.blocking_send(piece).map_err(|_| {
            self.interrupt.trigger();
            Gone
        })
    }
}

impl Evaluator {
    pub(crate) fn new(store: Store, engine: SharedEngine) -> Self {
        Evaluator { store, engine }
    }

    /// Starts `script` on a thread of its own; `json` answers single
    /// values as JSON rather than text.
    pub(crate) fn start(&self, script: String, json: bool) -> Evaluation {
        let (pieces, receiver) = mpsc::channel(BUFFERED);
        let interrupt = Interrupt::new("eval");
        let out = Out { pieces, interrupt: interrupt.clone() };
        let (store, engine) = (self.store.clone(), self.engine.clone());
        let spawned = std::thread::Builder::new().name("xs-eval".into()).spawn(move || {
            let ran = catch_unwind(AssertUnwindSafe(|| run(&store, &engine, &script, json, &out)));
            if ran.is_err() {
                let _ = out.send(Piece::Failed("the script crashed the engine".into()));
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start an eval thread");
        }
        Evaluation { pieces: receiver, cancel: Box::new(Cancel(interrupt)) }
    }
}

/// Evaluates `script` and sends its output.
fn run(store: &Store, engine: &SharedEngine, script: &str, json: bool, out: &Out) -> Result<(), Gone> {
    let mut runtime = match runtime(store, engine, &out.interrupt) {
        Ok(runtime) => runtime,
        Err(message) => return out.send(Piece::Failed(message)),
    };
    match runtime.stream("eval", script) {
        Ok(data) => answer(&runtime, data, json, out),
        Err(message) => out.send(Piece::Failed(message)),
    }
}

/// A runtime with the store commands and the stream's modules.
fn runtime(store: &Store, engine: &SharedEngine, interrupt: &Interrupt) -> Result<Runtime, String> {
    let engine = engine.get_or_init(crate::processor::engine::Engine::new).as_ref().map_err(String::clone)?;
    let modules = module::load(store, modules(store)?)?;
    let context = Context { store: store.clone(), outbox: None };
    engine.runtime(commands::all(&context), &modules, interrupt)
}

/// The stream's modules as of now, read through the topic index.
fn modules(store: &Store) -> Result<Vec<(String, crate::hash::Integrity)>, String> {
    let options = ReadOptions::builder().topic(format!("{MODULE}.*")).build();
    let mut modules = Modules::default();
    for frame in store.reader(options).map_err(|e| e.to_string())? {
        let frame = frame.map_err(|e| e.to_string())?;
        if !store.is_inert(&frame.id).map_err(|e| e.to_string())? {
            modules.apply(&frame);
        }
    }
    Ok(modules.latest())
}

/// Sends `data` in the form its kind calls for (see `server/eval.rs`).
fn answer(runtime: &Runtime, data: PipelineData, json: bool, out: &Out) -> Result<(), Gone> {
    match data {
        PipelineData::Empty => out.send(Piece::Head(Kind::Empty)),
        PipelineData::Value(value, _) => value_answer(runtime, value, json, out),
        PipelineData::ListStream(stream, _) => lines(runtime, stream, out),
        PipelineData::ByteStream(stream, _) => bytes(stream, out),
    }
}

/// One value: text, JSON or bytes, whole.
fn value_answer(runtime: &Runtime, value: Value, json: bool, out: &Out) -> Result<(), Gone> {
    let (kind, body) = match value {
        Value::Error { error, .. } => return out.send(Piece::Failed(runtime.format(&error))),
        Value::Binary { val, .. } => (Kind::Bytes, val.into_owned()),
        Value::String { val, .. } if !json => (Kind::Text, val.into_bytes()),
        Value::Int { .. } | Value::Float { .. } | Value::Bool { .. } if !json => {
            (Kind::Text, value.coerce_into_string().unwrap_or_default().into_bytes())
        }
        value => match to_json(&value) {
            Ok(json) => (Kind::Json, json.to_string().into_bytes()),
            Err(error) => return out.send(Piece::Failed(runtime.format(&error))),
        },
    };
    out.send(Piece::Head(kind))?;
    out.send(Piece::Data(body.into()))
}

/// A list stream as NDJSON, one line per item as it comes. The head waits
/// for the first item, so a stream that fails at once is an error answer.
fn lines(runtime: &Runtime, stream: ListStream, out: &Out) -> Result<(), Gone> {
    let mut head = Some(Kind::Ndjson);
    for item in stream {
        let line = match &item {
            Value::Error { error, .. } => Err(runtime.format(error)),
            value => to_json(value).map_err(|e| runtime.format(&e)),
        };
        match line {
            Ok(json) => {
                if let Some(kind) = head.take() {
                    out.send(Piece::Head(kind))?;
                }
                out.send(Piece::Data(Bytes::from(format!("{json}\n"))))?;
            }
            Err(message) => return out.send(Piece::Failed(message)),
        }
    }
    match head {
        Some(kind) => out.send(Piece::Head(kind)),
        None => Ok(()),
    }
}

/// A byte stream, chunk by chunk as it comes. The head waits for the
/// first chunk, so an external that fails at once is an error answer.
fn bytes(stream: ByteStream, out: &Out) -> Result<(), Gone> {
    let Some(mut reader) = stream.reader() else { return out.send(Piece::Head(Kind::Bytes)) };
    let mut head = Some(Kind::Bytes);
    let mut buf = vec![0u8; CHUNK];
    loop {
        let piece = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => Piece::Data(Bytes::copy_from_slice(&buf[..n])),
            Err(e) => return out.send(Piece::Failed(e.to_string())),
        };
        if let Some(kind) = head.take() {
            out.send(Piece::Head(kind))?;
        }
        out.send(piece)?;
    }
    match head {
        Some(kind) => out.send(Piece::Head(kind)),
        None => Ok(()),
    }
}
