//! A read as a Nushell list stream that stays responsive.
//!
//! A command learns that its consumer stopped (`| first 3`) or that the
//! user pressed Ctrl-C only between items, when the iterator returns. So
//! [`FrameStream::next`] never blocks for long: it polls the read with a
//! short timeout, and between polls checks the engine's interrupt signal
//! and the front end's [`Watch`] (the plugin's notices a dropped stream and
//! an exited `nu`), and ends the stream when either fired. An idle
//! `xs cat -f` thus returns to the prompt within one tick of Ctrl-C.
//!
//! A frame that is ready is returned at once; the watch is asked only when
//! none is, before waiting, and told that the stream is idle, so a front
//! end may batch what it sends while frames flow (a long `xs cat`) and
//! still send a follow's frame the moment it has no next one.

use std::time::Duration;

use nu_protocol::{ListStream, PipelineData, Signals, Span, Value};

use crate::{
    Frame,
    nu::{Poll, Watch, error, value},
    read_options::{FollowOption, ReadOptions},
    store::{Next, PULSE, THRESHOLD},
    topic::TopicFilter,
};

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
    source: Box<dyn Poll + Send>,
    signals: Signals,
    watch: Box<dyn Watch>,
    span: Span,
    detail: bool,
    markers: Markers,
    done: bool,
}

impl FrameStream {
    /// A stream over `source`, keeping the `markers` asked for, ended by
    /// `signals` or `watch`.
    pub fn new(source: Box<dyn Poll + Send>, signals: Signals, watch: Box<dyn Watch>, span: Span) -> Self {
        FrameStream { source, signals, watch, span, detail: false, markers: Markers::NONE, done: false }
    }

    /// With each frame's ttl and time.
    pub fn detail(mut self, detail: bool) -> Self {
        self.detail = detail;
        self
    }

    /// Keeping these markers.
    pub fn markers(mut self, markers: Markers) -> Self {
        self.markers = markers;
        self
    }

    /// As a command's output: a Nushell list stream.
    pub fn into_pipeline_data(self) -> PipelineData {
        let (span, signals) = (self.span, self.signals.clone());
        PipelineData::list_stream(ListStream::new(self, span, signals), None)
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

    /// The next wanted frame. One ready now is returned without waiting;
    /// when none is, the watch is asked whether the consumer left and told
    /// that the stream is idle, and the read waits a tick at a time.
    fn next(&mut self) -> Option<Value> {
        let mut wait = Duration::ZERO;
        while !self.done && !self.signals.interrupted() {
            match self.source.poll(wait) {
                Ok(Next::Frame(f)) if self.wanted(&f) => {
                    return Some(value::frame_into_value(f, self.detail, self.span));
                }
                Ok(Next::Frame(_)) => {}
                Ok(Next::Idle) if self.watch.abandoned() => self.done = true,
                Ok(Next::Idle) => {
                    self.watch.idle();
                    wait = TICK;
                }
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
