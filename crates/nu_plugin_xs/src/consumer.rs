//! Whether the engine still reads a stream this plugin writes.
//!
//! A follow's iterator waits for frames, and nu-plugin 0.115.1 notices that
//! the engine dropped the stream (`xs cat -f -T quiet | first 1`) only
//! between items: its writer checks a drop flag after `next()` returns one.
//! A follow of a quiet topic would hold its thread until a matching frame
//! came, maybe forever. The plugin API gives the iterator no way to read
//! that flag, so this module watches the protocol itself, around
//! nu-plugin's own serving loop ([`serve`]):
//!
//! - output: each call response that opens a stream registers a
//!   [`Consumer`] for the stream's id, and hands it to the thread that wrote
//!   the response. nu-plugin's runner writes a response and then iterates
//!   its stream on that same thread, so the stream's first `next()` finds
//!   its own consumer there ([`Consumer::of_this_thread`]). The stream's
//!   `End` unregisters it.
//! - input: the engine's `Drop` of a registered stream marks its consumer
//!   gone, which the follow sees within one poll tick.
//!
//! A stream that finds no consumer (not served by [`serve`], as in the
//! examples' test harness) is not watched: it ends on its next item or on
//! Ctrl-C.
//!
//! The output also batches a read's frames. nu-plugin flushes after every
//! item of a stream, one write (and one wake-up of the engine's reader) per
//! frame, which costs a long `xs cat` more than the rest of its work.
//! A command whose stream says when it goes idle asks for batching
//! ([`batch_next_stream`]); the next stream its response opens then
//! flushes only every [`HOLD`] items, when the buffer fills, and when the
//! stream tells its watch it has nothing ready (the watch flushes then), so
//! a follow's frame still leaves at once.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    ffi::OsString,
    io::{BufReader, BufWriter, Write},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use nu_plugin::{MsgPackSerializer, Plugin, PluginEncoder, serve_plugin_io};
use nu_plugin_core::{ClientCommunicationIo, CommunicationMode, PluginRead, PluginWrite};
use nu_plugin_protocol::{PluginCallResponse, PluginInput, PluginOutput, StreamId};
use nu_protocol::ShellError;

/// nu-plugin's buffer size for a local socket.
const BUFFER: usize = 16384;

/// Items of a batched stream that may wait in the buffer for a flush. It
/// stays below nu-plugin's flow-control window (a list stream's writer
/// waits once 100 items are unacknowledged), so a writer never waits for
/// the engine to acknowledge items the engine has not been sent.
const HOLD: usize = 64;

/// The engine's interest in one stream the plugin writes.
#[derive(Clone, Debug, Default)]
pub struct Consumer {
    gone: Arc<AtomicBool>,
}

impl Consumer {
    /// The consumer of the stream this thread's last call response opened,
    /// taken so that no other stream claims it.
    pub fn of_this_thread() -> Option<Consumer> {
        OPENED.with(RefCell::take)
    }

    /// True once the engine dropped the stream.
    pub fn gone(&self) -> bool {
        self.gone.load(Ordering::Acquire)
    }
}

thread_local! {
    /// The consumer of the stream the last response written on this thread opened.
    static OPENED: RefCell<Option<Consumer>> = const { RefCell::new(None) };
    /// This thread's call asked that the stream its response opens be batched.
    static WANTS_BATCH: Cell<bool> = const { Cell::new(false) };
    /// The batched stream this thread writes.
    static BATCHED: Cell<Option<StreamId>> = const { Cell::new(None) };
    /// The last message this thread wrote is an item of its batched stream,
    /// so the flush nu-plugin does next may be held.
    static HOLDING: Cell<bool> = const { Cell::new(false) };
}

/// Asks that the stream this thread's call response opens be batched:
/// flushed every [`HOLD`] items rather than after each. Whoever asks must
/// flush (`EngineInterface`'s flush) whenever the stream has nothing
/// ready, before it waits.
pub fn batch_next_stream() {
    WANTS_BATCH.set(true);
}

/// The streams being written, by id.
static STREAMS: Mutex<Option<HashMap<StreamId, Consumer>>> = Mutex::new(None);

fn streams() -> MutexGuard<'static, Option<HashMap<StreamId, Consumer>>> {
    STREAMS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Registers the stream `id` and hands its consumer to this thread.
fn opened(id: Option<StreamId>) {
    let consumer = id.map(|id| streams().get_or_insert_default().entry(id).or_default().clone());
    OPENED.with(|opened| opened.replace(consumer));
    let wants_batch = WANTS_BATCH.take();
    BATCHED.set(id.filter(|_| wants_batch));
}

fn ended(id: StreamId) {
    if let Some(streams) = streams().as_mut() {
        streams.remove(&id);
    }
    if BATCHED.get() == Some(id) {
        BATCHED.set(None);
    }
}

fn dropped(id: StreamId) {
    if let Some(consumer) = streams().as_mut().and_then(|streams| streams.remove(&id)) {
        consumer.gone.store(true, Ordering::Release);
    }
}

/// The plugin's input, watched for the engine's drops of streams.
struct Input<T>(T);

/// The plugin's output: watched, and holding back a batched stream's
/// flushes.
struct Output<T> {
    inner: T,
    /// Items written since the last flush that went through.
    held: AtomicUsize,
}

impl<T> Output<T> {
    fn new(inner: T) -> Self {
        Output { inner, held: AtomicUsize::new(0) }
    }
}

impl<T: PluginRead<PluginInput>> PluginRead<PluginInput> for Input<T> {
    fn read(&mut self) -> Result<Option<PluginInput>, ShellError> {
        let input = self.0.read()?;
        if let Some(PluginInput::Drop(id)) = input {
            dropped(id);
        }
        Ok(input)
    }
}

impl<T: PluginWrite<PluginOutput>> PluginWrite<PluginOutput> for Output<T> {
    fn write(&self, output: &PluginOutput) -> Result<(), ShellError> {
        match output {
            PluginOutput::CallResponse(_, PluginCallResponse::PipelineData(header)) => opened(header.stream_id()),
            PluginOutput::CallResponse(..) => opened(None),
            PluginOutput::End(id) => ended(*id),
            _ => {}
        }
        HOLDING.set(matches!(output, PluginOutput::Data(id, _) if BATCHED.get() == Some(*id)));
        self.inner.write(output)
    }

    /// Flushes, unless the message just written is an item of this
    /// thread's batched stream and fewer than [`HOLD`] wait.
    fn flush(&self) -> Result<(), ShellError> {
        if HOLDING.take() && self.held.fetch_add(1, Ordering::Relaxed) + 1 < HOLD {
            return Ok(());
        }
        self.held.store(0, Ordering::Relaxed);
        self.inner.flush()
    }

    fn is_stdout(&self) -> bool {
        self.inner.is_stdout()
    }
}

/// Serves `plugin` as [`nu_plugin::serve_plugin`] does, with MessagePack,
/// its input and output watched (see the module docs).
///
/// It stays whole to mirror nu-plugin's own `serve_plugin`: the modes it
/// accepts (`--stdio`, `--local-socket <name>`), the encoding announced
/// first, and the exit status on error. Any other arguments (`--help`, none)
/// go to `serve_plugin`, which prints the help or the usage error.
pub fn serve(plugin: &impl Plugin) {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mode = match args.as_slice() {
        [flag] if flag == "--stdio" => CommunicationMode::Stdio,
        [flag, name] if flag == "--local-socket" => CommunicationMode::LocalSocket(name.clone()),
        _ => return nu_plugin::serve_plugin(plugin, MsgPackSerializer),
    };
    let encoder = MsgPackSerializer;
    let served = match mode.connect_as_client() {
        Ok(ClientCommunicationIo::Stdio(stdin, mut stdout)) => announce(&mut stdout).and_then(|()| {
            let input = move || Input((stdin.lock(), encoder));
            Ok(serve_plugin_io(plugin, "xs", input, move || Output::new((stdout, encoder)))?)
        }),
        Ok(ClientCommunicationIo::LocalSocket { read_in, mut write_out }) => announce(&mut write_out).and_then(|()| {
            let input = move || Input((BufReader::with_capacity(BUFFER, read_in), encoder));
            let output = move || Output::new((Mutex::new(BufWriter::with_capacity(BUFFER, write_out)), encoder));
            Ok(serve_plugin_io(plugin, "xs", input, output)?)
        }),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = served {
        // The engine may be gone: stderr is the one place left to say why.
        eprintln!("Plugin `xs` error: {e}");
        std::process::exit(1);
    }
}

/// Tells the engine the encoding: its name's length in one byte, then the name.
fn announce(out: &mut impl Write) -> Result<(), Box<dyn std::error::Error>> {
    let name = MsgPackSerializer.name();
    out.write_all(&[u8::try_from(name.len())?])?;
    out.write_all(name.as_bytes())?;
    Ok(out.flush()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drop_reaches_the_consumer_its_response_opened() {
        opened(Some(41));
        let consumer = Consumer::of_this_thread().expect("a consumer for stream 41");
        assert!(Consumer::of_this_thread().is_none(), "taken once");
        dropped(40);
        assert!(!consumer.gone());
        dropped(41);
        assert!(consumer.gone());
    }

    #[test]
    fn an_ended_stream_is_forgotten() {
        opened(Some(42));
        let consumer = Consumer::of_this_thread().expect("a consumer for stream 42");
        ended(42);
        dropped(42);
        assert!(!consumer.gone(), "a drop after the end is for no one");
    }

    #[test]
    fn only_the_asked_for_stream_is_batched() {
        opened(Some(44));
        assert_eq!(BATCHED.get(), None, "not asked for");
        batch_next_stream();
        opened(Some(45));
        assert_eq!(BATCHED.get(), Some(45));
        ended(44);
        assert_eq!(BATCHED.get(), Some(45), "another stream's end");
        ended(45);
        assert_eq!(BATCHED.get(), None);
        batch_next_stream();
        opened(None);
        opened(Some(46));
        assert_eq!(BATCHED.get(), None, "the ask was for a response without a stream");
    }

    #[test]
    fn a_response_without_a_stream_leaves_no_consumer() {
        opened(Some(43));
        opened(None);
        assert!(Consumer::of_this_thread().is_none());
    }
}
