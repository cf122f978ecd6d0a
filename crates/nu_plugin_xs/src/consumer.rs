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

use std::{
    cell::RefCell,
    collections::HashMap,
    ffi::OsString,
    io::{BufReader, BufWriter, Write},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

use nu_plugin::{MsgPackSerializer, Plugin, PluginEncoder, serve_plugin_io};
use nu_plugin_core::{ClientCommunicationIo, CommunicationMode, PluginRead, PluginWrite};
use nu_plugin_protocol::{PluginCallResponse, PluginInput, PluginOutput, StreamId};
use nu_protocol::ShellError;

/// nu-plugin's buffer size for a local socket.
const BUFFER: usize = 16384;

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
}

fn ended(id: StreamId) {
    if let Some(streams) = streams().as_mut() {
        streams.remove(&id);
    }
}

fn dropped(id: StreamId) {
    if let Some(consumer) = streams().as_mut().and_then(|streams| streams.remove(&id)) {
        consumer.gone.store(true, Ordering::Release);
    }
}

/// The plugin's input or output, watched for stream lifetimes.
struct Watched<T>(T);

impl<T: PluginRead<PluginInput>> PluginRead<PluginInput> for Watched<T> {
    fn read(&mut self) -> Result<Option<PluginInput>, ShellError> {
        let input = self.0.read()?;
        if let Some(PluginInput::Drop(id)) = input {
            dropped(id);
        }
        Ok(input)
    }
}

impl<T: PluginWrite<PluginOutput>> PluginWrite<PluginOutput> for Watched<T> {
    fn write(&self, output: &PluginOutput) -> Result<(), ShellError> {
        match output {
            PluginOutput::CallResponse(_, PluginCallResponse::PipelineData(header)) => opened(header.stream_id()),
            PluginOutput::CallResponse(..) => opened(None),
            PluginOutput::End(id) => ended(*id),
            _ => {}
        }
        self.0.write(output)
    }

    fn flush(&self) -> Result<(), ShellError> {
        self.0.flush()
    }

    fn is_stdout(&self) -> bool {
        self.0.is_stdout()
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
            let input = move || Watched((stdin.lock(), encoder));
            Ok(serve_plugin_io(plugin, "xs", input, move || Watched((stdout, encoder)))?)
        }),
        Ok(ClientCommunicationIo::LocalSocket { read_in, mut write_out }) => announce(&mut write_out).and_then(|()| {
            let input = move || Watched((BufReader::with_capacity(BUFFER, read_in), encoder));
            let output = move || Watched((Mutex::new(BufWriter::with_capacity(BUFFER, write_out)), encoder));
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
    fn a_response_without_a_stream_leaves_no_consumer() {
        opened(Some(43));
        opened(None);
        assert!(Consumer::of_this_thread().is_none());
    }
}
