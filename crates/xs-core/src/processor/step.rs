//! One call of a handler's `run`: the frame and the state bound to its two
//! parameters, the way cross-stream binds them.
//!
//! Nushell types a parameter by its default: in `{|frame, sum = 0| ...}`,
//! `sum` is an `int`, and a call through [`nu_engine::ClosureEval`] refuses
//! any other value for it ("can't convert float to int"). A state is not an
//! argument a caller chooses, though: it is whatever the previous frame's
//! `next` was, and the default only supplies the first one. cross-stream
//! puts the state on the closure's stack without that check, so its
//! scripts (the "Actor State" tutorial's `{|frame, sum = 0| ...}` that
//! carries a float) rely on it. A [`Step`] binds the state parameter as
//! untyped and keeps Nushell's check for the frame.

use std::{borrow::Cow, sync::Arc};

use nu_engine::{CallEval, get_eval_block_with_early_return};
use nu_protocol::{
    PipelineData, ShellError, Signature, Span, SyntaxShape, Value,
    ast::Block,
    engine::{Closure, EngineState, Stack},
};

/// A reusable caller of a handler's `run` closure.
pub(crate) struct Step {
    engine_state: EngineState,
    block: Arc<Block>,
    /// `run`'s signature with the state parameter untyped: what the
    /// arguments are bound against.
    signature: Signature,
    /// The stack the closure was made in: its environment.
    stack: Stack,
    call: CallEval,
}

impl Step {
    /// A caller of `closure`, evaluated in `engine_state` from `stack`.
    pub(crate) fn new(engine_state: &EngineState, stack: Stack, closure: Closure) -> Step {
        let engine_state = engine_state.clone();
        let block = engine_state.get_block(closure.block_id).clone();
        let callee_stack = stack.captures_to_stack(closure.captures);
        let span = block.span.unwrap_or(Span::unknown());
        let call = CallEval::new(callee_stack, Span::unknown(), span, get_eval_block_with_early_return(&engine_state));
        let signature = untyped_state(&block.signature);
        Step { engine_state, block, signature, stack, call }
    }

    /// Runs `run` on `frame` with `state`.
    ///
    /// # Errors
    ///
    /// A frame its parameter's type refuses; whatever the closure raises.
    pub(crate) fn call(&mut self, frame: Value, state: Value) -> Result<Value, ShellError> {
        self.call.add_positional(&self.signature, Cow::Owned(frame))?;
        self.call.add_positional(&self.signature, Cow::Owned(state))?;
        self.call
            .with_env(&self.stack.env_vars, &self.stack.env_hidden)
            .run(&self.engine_state, &self.block, PipelineData::empty())?
            .into_value(Span::unknown())
    }
}

/// `signature` with its second positional parameter (the state) typed `any`.
fn untyped_state(signature: &Signature) -> Signature {
    let mut signature = signature.clone();
    let required = signature.required_positional.len();
    let state = match required {
        0 => signature.optional_positional.get_mut(1),
        1 => signature.optional_positional.get_mut(0),
        _ => signature.required_positional.get_mut(1),
    };
    if let Some(state) = state {
        state.shape = SyntaxShape::Any;
    }
    signature
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processor::engine::{Engine, Interrupt};

    /// Calls `run` of `script` twice, with `first` and then `second` as the state.
    fn twice(script: &str, first: Value, second: Value) -> Result<(Value, Value), Box<dyn std::error::Error>> {
        let engine = Engine::new()?;
        let mut runtime = engine.runtime(Vec::new(), &[], &Interrupt::new("test"))?;
        let Value::Closure { val, .. } = runtime.evaluate("t.nu", script)? else { panic!("not a closure") };
        let mut step = runtime.step(*val);
        let frame = || Value::test_record(nu_protocol::record! {"topic" => Value::test_string("sale")});
        Ok((step.call(frame(), first)?, step.call(frame(), second)?))
    }

    #[test]
    fn a_default_types_only_the_first_state() -> Result<(), Box<dyn std::error::Error>> {
        let (a, b) = twice("{|frame, sum = 0| $sum + 1.5 }", Value::test_int(0), Value::test_float(1.5))?;
        assert_eq!((a, b), (Value::test_float(1.5), Value::test_float(3.0)));
        let (a, b) = twice("{|frame, s| $s }", Value::test_string("x"), Value::test_int(2))?;
        assert_eq!((a, b), (Value::test_string("x"), Value::test_int(2)));
        Ok(())
    }

    #[test]
    fn the_frame_keeps_its_type() -> Result<(), Box<dyn std::error::Error>> {
        let result = twice("{|frame: string, state| 1 }", Value::test_nothing(), Value::test_nothing());
        assert!(result.is_err_and(|e| e.to_string().contains("convert")));
        Ok(())
    }
}
