//! When a stream the plugin returns has lost its reader, and when to send
//! what it holds.
//!
//! A follow (`xs cat -f`) polls in short ticks and asks its [`Watch`]
//! between polls (the shared [`FrameStream`](xs_core::nu::frames::FrameStream)
//! checks Ctrl-C itself). The plugin's watch fires when the engine dropped
//! the stream (`| first 3`, seen by [`crate::consumer`] in the protocol), so
//! an abandoned follow of a quiet topic does not keep its thread; and when
//! `nu` exits, since the plugin must then exit too (it may own the store):
//! the plugin is handed to another parent.
//!
//! The watch also asks for its stream to be batched
//! ([`consumer::batch_next_stream`]) and flushes the protocol's output
//! whenever the stream goes idle, which is the promise batching needs.

use nu_plugin::EngineInterface;
use nu_plugin_core::Interface;
use xs_core::nu::Watch;

use crate::consumer::{self, Consumer};

/// The watch on one stream's consumer.
pub struct ConsumerWatch {
    /// The engine's process: the plugin's parent when the stream began.
    parent: u32,
    /// Whether the engine still reads this stream, learnt on the first poll.
    consumer: Known,
    /// The call's interface, flushed when a batched stream goes idle.
    engine: Option<EngineInterface>,
}

/// What is known of the stream's consumer.
enum Known {
    /// Not yet asked: the stream has not been iterated.
    Unknown,
    /// The consumer, if the stream was served with one.
    Known(Option<Consumer>),
}

impl ConsumerWatch {
    /// A watch for a stream about to be returned.
    pub fn new() -> Self {
        ConsumerWatch { parent: std::os::unix::process::parent_id(), consumer: Known::Unknown, engine: None }
    }

    /// A watch for the stream the call about to respond on this thread
    /// returns, which is batched: its stream must tell it when it goes
    /// idle ([`Watch::idle`]), as a `FrameStream` does.
    pub fn batched(engine: &EngineInterface) -> Self {
        consumer::batch_next_stream();
        ConsumerWatch { engine: Some(engine.clone()), ..ConsumerWatch::new() }
    }
}

impl Watch for ConsumerWatch {
    fn abandoned(&mut self) -> bool {
        // nu-plugin iterates a stream on the thread that wrote the response
        // opening it, so the first poll finds its consumer there.
        if matches!(self.consumer, Known::Unknown) {
            self.consumer = Known::Known(Consumer::of_this_thread());
        }
        let dropped = matches!(&self.consumer, Known::Known(Some(consumer)) if consumer.gone());
        dropped || std::os::unix::process::parent_id() != self.parent
    }

    fn idle(&mut self) {
        // A failed flush means the engine is gone: the stream's next write
        // reports that, and the parent check above ends a follow.
        if let Some(engine) = &self.engine {
            let _ = engine.flush();
        }
    }
}
