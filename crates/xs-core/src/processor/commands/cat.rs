//! `xs cat`: stream frames, history then (with `-f`) live appends.

use std::time::Duration;

use nu_engine::CallExt;
use nu_protocol::{
    Example, ListStream, PipelineData, ShellError, Signals, Signature, Span, Spanned, SyntaxShape, Type, Value,
    engine::{Call, Command, EngineState, Stack},
};

use super::{Context, args};
use crate::{
    processor::{
        error::{at, invalid, store_error},
        value::frame_to_value,
    },
    read_options::{FollowOption, ReadOptions},
    store::reader::Reader,
    store::{Next, PULSE, Poll, THRESHOLD},
};

/// The longest a follow waits before checking for an interrupt.
const TICK: Duration = Duration::from_millis(50);

/// `xs cat`.
#[derive(Clone)]
pub(crate) struct Cat(pub(crate) Context);

impl Command for Cat {
    fn name(&self) -> &str {
        "xs cat"
    }

    fn signature(&self) -> Signature {
        super::signature(self.name())
            .switch("follow", "keep streaming frames as they are appended", Some('f'))
            .named("pulse", SyntaxShape::Duration, "while following, emit an xs.pulse frame this often", None)
            .switch("new", "skip history: only frames appended from now on", Some('n'))
            .named("after", SyntaxShape::String, "start after this frame id (exclusive)", None)
            .named("from", SyntaxShape::String, "start at this frame id (inclusive)", None)
            .named("limit", SyntaxShape::Int, "at most this many frames in all", None)
            .named("last", SyntaxShape::Int, "only the newest n frames of history", None)
            .named(
                "topic",
                SyntaxShape::OneOf(vec![SyntaxShape::List(Box::new(SyntaxShape::String)), SyntaxShape::String]),
                "topic patterns: exact, prefix.* or *; a comma string or a list",
                Some('T'),
            )
            .switch("detail", "add each frame's ttl and time", Some('d'))
            .input_output_type(Type::Nothing, Type::list(Type::record()))
    }

    fn description(&self) -> &str {
        "Stream the frames of the store, oldest first; with --follow, keep streaming new ones"
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example { example: "xs cat -T clip.* --last 10", description: "The newest ten clips", result: None }]
    }

    fn run(
        &self,
        engine_state: &EngineState,
        stack: &mut Stack,
        call: &Call,
        _input: PipelineData,
    ) -> Result<PipelineData, ShellError> {
        self.0.check_store(engine_state, stack, call)?;
        let options = read_options(engine_state, stack, call)?;
        let detail = call.has_flag(engine_state, stack, "detail")?;
        self.0.before_read(call.head)?;
        let reader = self.0.store.reader(options).map_err(at(call.head))?;
        let frames = Frames::new(reader, engine_state.signals().clone(), call.head, detail, true);
        Ok(PipelineData::list_stream(frames.into_list_stream(), None))
    }
}

/// The read the flags ask for.
fn read_options(engine_state: &EngineState, stack: &mut Stack, call: &Call) -> Result<ReadOptions, ShellError> {
    let mut count = |name| -> Result<Option<usize>, ShellError> {
        call.get_flag::<Spanned<i64>>(engine_state, stack, name)?.as_ref().map(args::count).transpose()
    };
    let (limit, last) = (count("limit")?, count("last")?);
    let topic = call.get_flag::<Value>(engine_state, stack, "topic")?;
    Ok(ReadOptions {
        follow: follow(engine_state, stack, call)?,
        new: call.has_flag(engine_state, stack, "new")?,
        after: args::id_flag(engine_state, stack, call, "after")?,
        from: args::id_flag(engine_state, stack, call, "from")?,
        limit,
        last,
        topic: topic.as_ref().map(args::topics).transpose()?,
    })
}

/// `-f`, and `--pulse` (which implies it).
fn follow(engine_state: &EngineState, stack: &mut Stack, call: &Call) -> Result<FollowOption, ShellError> {
    match call.get_flag::<Spanned<i64>>(engine_state, stack, "pulse")? {
        Some(Spanned { item, span }) if item <= 0 => {
            Err(invalid("the pulse period must be positive", "not positive", span).into())
        }
        Some(Spanned { item, .. }) => Ok(FollowOption::WithHeartbeat(Duration::from_nanos(item.unsigned_abs()))),
        None if call.has_flag(engine_state, stack, "follow")? => Ok(FollowOption::On),
        None => Ok(FollowOption::Off),
    }
}

/// The frames of a read as record values. A follow polls in short ticks
/// so an interrupt (unregister, shutdown, Ctrl-C) ends it promptly.
pub(super) struct Frames {
    reader: Reader,
    signals: Signals,
    span: Span,
    detail: bool,
    markers: bool,
    done: bool,
}

impl Frames {
    /// The frames of `reader`; `markers` keeps `xs.threshold` / `xs.pulse`.
    pub(super) fn new(reader: Reader, signals: Signals, span: Span, detail: bool, markers: bool) -> Self {
        Frames { reader, signals, span, detail, markers, done: false }
    }

    pub(super) fn into_list_stream(self) -> ListStream {
        let (span, signals) = (self.span, self.signals.clone());
        ListStream::new(self, span, signals)
    }
}

impl Iterator for Frames {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        while !self.done && !self.signals.interrupted() {
            match self.reader.poll(TICK) {
                Ok(Next::Frame(f)) if self.markers || !(f.topic == THRESHOLD || f.topic == PULSE) => {
                    return Some(frame_to_value(&f, self.detail, self.span));
                }
                Ok(Next::Frame(_) | Next::Idle) => {}
                Ok(Next::End) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Value::error(store_error(e, self.span), self.span));
                }
            }
        }
        None
    }
}
