//! `xs cat`: stream frames, history then (with `-f`) live appends.

use std::time::Duration;

use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Spanned, SyntaxShape, Type, Value};

use super::StoreCommand;
use crate::{
    FollowOption, ReadOptions,
    nu::{
        Host, args, error,
        frames::{FrameStream, Markers},
    },
};

/// `xs cat`.
pub struct Cat;

impl StoreCommand for Cat {
    fn name(&self) -> &str {
        "xs cat"
    }

    fn description(&self) -> &str {
        "Stream the frames of the store, oldest first; with --follow, keep streaming new ones"
    }

    fn extra_description(&self) -> &str {
        "When following, an ephemeral xs.threshold frame marks the end of history (left out when \
         --topic does not match it), and with --pulse an ephemeral xs.pulse frame arrives every \
         period. A follow runs until Ctrl-C or until its consumer stops (`xs cat -f | first 3`)."
    }

    fn signature(&self) -> Signature {
        super::detail_switch(super::signature(self.name()))
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
            .input_output_type(Type::Nothing, Type::list(Type::record()))
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "xs append a | ignore; xs append b | ignore; (xs cat).topic",
                description: "The topics of every frame, oldest first",
                result: Some(Value::test_list(vec![Value::test_string("a"), Value::test_string("b")])),
            },
            Example {
                example: "for t in [a b c] { xs append $t | ignore }; (xs cat --last 2).topic",
                description: "The newest two frames",
                result: Some(Value::test_list(vec![Value::test_string("b"), Value::test_string("c")])),
            },
            Example {
                example: "xs cat -f -T clip.*",
                description: "Follow the clip.* topics until Ctrl-C",
                result: None,
            },
            Example {
                example: "xs cat -f --new | first 3",
                description: "Wait for the next three frames",
                result: None,
            },
        ]
    }

    fn run(&self, host: &dyn Host, call: &EvaluatedCall, _input: PipelineData) -> Result<PipelineData, LabeledError> {
        let options = read_options(call)?;
        let markers = Markers::for_read(&options);
        let source = host.store(call)?.read(options).map_err(error::at(call.head))?;
        let detail = call.has_flag("detail")?;
        let stream = FrameStream::new(source, host.signals(), host.watch(), call.head).detail(detail).markers(markers);
        Ok(stream.into_pipeline_data())
    }
}

/// The read the flags ask for.
fn read_options(call: &EvaluatedCall) -> Result<ReadOptions, LabeledError> {
    let count = |name| call.get_flag::<Spanned<i64>>(name)?.as_ref().map(args::count).transpose();
    Ok(ReadOptions {
        follow: follow(call)?,
        new: call.has_flag("new")?,
        after: args::id_flag(call, "after")?,
        from: args::id_flag(call, "from")?,
        limit: count("limit")?,
        last: count("last")?,
        topic: call.get_flag_value("topic").as_ref().map(args::topics).transpose()?,
    })
}

/// `-f`, and `--pulse` (which implies it).
fn follow(call: &EvaluatedCall) -> Result<FollowOption, LabeledError> {
    match call.get_flag::<Spanned<i64>>("pulse")? {
        Some(Spanned { item, span }) if item <= 0 => {
            Err(error::invalid("the pulse period must be positive", "not positive", span))
        }
        Some(Spanned { item, .. }) => Ok(FollowOption::WithHeartbeat(Duration::from_nanos(item.unsigned_abs()))),
        None if call.has_flag("follow")? => Ok(FollowOption::On),
        None => Ok(FollowOption::Off),
    }
}
