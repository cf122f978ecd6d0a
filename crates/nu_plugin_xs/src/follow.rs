//! A read as a Nushell list stream that stays responsive.
//!
//! The plugin learns that its consumer stopped (`| first 3`) or that the
//! user pressed Ctrl-C only between items, when the iterator returns. So
//! [`FrameStream::next`] never blocks for long: it polls the read with a
//! short timeout, and between polls checks the engine's interrupt signal
//! and ends the stream when it fired. An idle `xs cat -f` thus returns to
//! the prompt within one tick of Ctrl-C.
//!
//! A consumer that stops (`| first 3`) is noticed the same way: the engine
//! drops the stream, [`crate::consumer`] sees that in the protocol, and the
//! next tick ends the read, so an abandoned follow of a quiet topic does not
//! keep its thread. And when `nu` exits, the plugin must too (it may own the
//! store), so the stream also ends once the process that started the plugin
//! is gone.

use std::time::Duration;

use nu_protocol::{ListStream, PipelineData, Signals, Span, Value};
use xs_core::{
    FollowOption, Frame, ReadOptions,
    processor::value,
    store::{Next, PULSE, Poll, THRESHOLD},
    topic::TopicFilter,
};

use crate::{consumer::Consumer, error};

/// The longest a single poll waits before checking for Ctrl-C.
const TICK: Duration = Duration::from_millis(50);

/// Which of the read's markers reach the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Markers {
    /// `xs.threshold`, the end of history.
    pub threshold: bool,
    /// `xs.pulse`, the heartbeat.
    pub pulse: bool,
}

impl Markers {
    /// None: only stored frames.
    pub const NONE: Markers = Markers { threshold: false, pulse: false };

    /// For `xs cat`: the pulse when asked for; the threshold unless a topic
    /// filter leaves it out (`-T clip` gives clips only; `-T clip,xs.threshold`
    /// keeps it), so `xs cat -f -T clip | first 3` is three clips.
    pub fn for_read(options: &ReadOptions) -> Markers {
        let threshold =
            options.topic.as_deref().is_none_or(|spec| TopicFilter::parse(spec).is_ok_and(|f| f.matches(THRESHOLD)));
        Markers { threshold, pulse: matches!(options.follow, FollowOption::WithHeartbeat(_)) }
    }
}

/// Frames of a read, as record values.
pub struct FrameStream {
    /// Any read (the plugin's is a connection's subscription).
    source: Box<dyn Poll + Send>,
    signals: Signals,
    span: Span,
    detail: bool,
    markers: Markers,
    done: bool,
    /// The engine's process: the plugin's parent.
    parent: u32,
    /// Whether the engine still reads this stream, learnt on the first `next()`.
    consumer: Watch,
}

/// What is known of the stream's consumer.
enum Watch {
    /// Not yet asked: the stream has not been iterated.
    Unknown,
    /// The consumer, if the stream was served with one.
    Known(Option<Consumer>),
}

impl FrameStream {
    /// A stream over `source`, keeping the `markers` asked for.
    pub fn new(
        source: impl Poll + Send + 'static,
        signals: Signals,
        span: Span,
        detail: bool,
        markers: Markers,
    ) -> Self {
        let parent = std::os::unix::process::parent_id();
        let source = Box::new(source);
        FrameStream { source, signals, span, detail, markers, done: false, parent, consumer: Watch::Unknown }
    }

    /// As a command's output: a Nushell list stream.
    pub fn into_pipeline_data(self) -> PipelineData {
        let (span, signals) = (self.span, self.signals.clone());
        PipelineData::list_stream(ListStream::new(self, span, signals), None)
    }

    /// True once nobody waits for the next item: the user pressed Ctrl-C,
    /// the engine dropped the stream, or the engine exited (the plugin was
    /// handed to another parent).
    fn abandoned(&self) -> bool {
        let dropped = matches!(&self.consumer, Watch::Known(Some(consumer)) if consumer.gone());
        self.signals.interrupted() || dropped || std::os::unix::process::parent_id() != self.parent
    }

    /// Learns the consumer on the first `next()`: nu-plugin iterates a
    /// stream on the thread that wrote the response opening it.
    fn watch(&mut self) {
        if matches!(self.consumer, Watch::Unknown) {
            self.consumer = Watch::Known(Consumer::of_this_thread());
        }
    }

    fn wanted(&self, frame: &Frame) -> bool {
        match frame.topic.as_str() {
            THRESHOLD => self.markers.threshold,
            PULSE => self.markers.pulse,
            _ => true,
        }
    }
}

impl Iterator for FrameStream {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        self.watch();
        while !self.done && !self.abandoned() {
            match self.source.poll(TICK) {
                Ok(Next::Frame(f)) if self.wanted(&f) => {
                    return Some(value::frame_to_value(&f, self.detail, self.span));
                }
                Ok(Next::Frame(_) | Next::Idle) => {}
                Ok(Next::End) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Value::error(error::labeled(e, self.span).into(), self.span));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_filter_decides_the_threshold() {
        let read = |topic: Option<&str>| ReadOptions { topic: topic.map(String::from), ..ReadOptions::default() };
        assert!(Markers::for_read(&read(None)).threshold);
        assert!(!Markers::for_read(&read(Some("clip"))).threshold);
        assert!(Markers::for_read(&read(Some("clip,xs.threshold"))).threshold);
        assert!(Markers::for_read(&read(Some("xs.*"))).threshold);
        let pulse = ReadOptions { follow: FollowOption::WithHeartbeat(Duration::from_secs(1)), ..read(Some("clip")) };
        assert_eq!(Markers::for_read(&pulse), Markers { threshold: false, pulse: true });
    }
}
