//! A read as a Nushell list stream that stays responsive.
//!
//! The plugin learns that its consumer stopped (`| first 3`) or that the
//! user pressed Ctrl-C only between items, when the iterator returns. So
//! [`FrameStream::next`] never blocks for long: it polls the read with a
//! short timeout, and between polls checks the engine's interrupt signal
//! and ends the stream when it fired. An idle `xs cat -f` thus returns to
//! the prompt within one tick of Ctrl-C.
//!
//! A consumer that stops (`| first 3`) is only noticed when the next frame
//! is handed over, so such a read lingers until a matching frame arrives or
//! Ctrl-C is pressed. One case cannot wait: when `nu` exits, the plugin
//! must too (it may own the store), so the stream also ends once the
//! process that started the plugin is gone.

use std::time::Duration;

use nu_protocol::{ListStream, Signals, Span, Value};
use xs_core::{Frame, Next, PULSE, THRESHOLD};

use crate::{backend::FrameSource, error, frame};

/// The longest a single poll waits before checking for Ctrl-C.
const TICK: Duration = Duration::from_millis(50);

/// Frames of a read, as record values.
pub struct FrameStream {
    source: FrameSource,
    signals: Signals,
    span: Span,
    detail: bool,
    markers: bool,
    done: bool,
    /// The engine's process: the plugin's parent.
    parent: u32,
}

impl FrameStream {
    /// A stream over `source`; `markers` keeps `xs.threshold` / `xs.pulse`.
    pub fn new(source: FrameSource, signals: Signals, span: Span, detail: bool, markers: bool) -> Self {
        let parent = std::os::unix::process::parent_id();
        FrameStream { source, signals, span, detail, markers, done: false, parent }
    }

    /// As a Nushell list stream.
    pub fn into_list_stream(self) -> ListStream {
        let (span, signals) = (self.span, self.signals.clone());
        ListStream::new(self, span, signals)
    }

    /// True once the engine exited (the plugin was handed to another parent).
    fn engine_gone(&self) -> bool {
        std::os::unix::process::parent_id() != self.parent
    }

    fn wanted(&self, frame: &Frame) -> bool {
        self.markers || !(frame.topic == THRESHOLD || frame.topic == PULSE)
    }
}

impl Iterator for FrameStream {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        while !self.done && !self.signals.interrupted() && !self.engine_gone() {
            match self.source.poll(TICK) {
                Ok(Next::Frame(f)) if self.wanted(&f) => return Some(frame::to_value(&f, self.detail, self.span)),
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
