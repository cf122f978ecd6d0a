//! Scripts a store runs for its users: handlers, generators and actions,
//! each on its own thread under a supervisor, with the embedded Nushell engine
//! (the files are in the table below). The folder keeps one invariant: a
//! handler's outputs and its new position are committed together, so each
//! input is handled exactly once across crashes and restarts.
//! Scripts are registered by appending them (DESIGN.md section 8).
//! Mirrors into NATS JetStream (`xs.mirror.<name>.register`, feature
//! `nats`) are supervised here too, with the handlers' lifecycle and the
//! generators' backoff; their work is in [`crate::nats`].
//!
//! A user appends `xs.handler.<name>.register` with a script that
//! evaluates to `{run: {|frame, state| ...}, ...}`; the processor runs
//! `run` on each frame and appends what it returns, exactly once across
//! restarts (its position is committed with its output). Handlers are
//! stopped with `.unregister`, replaced by a newer `.register`, and
//! restored at the next owner start from the lifecycle frames alone.
//! A user appends `xs.generator.<name>.spawn` with `{run: {|| ...}}`; the
//! processor keeps that pipeline running and appends each value it yields
//! on `<name>.recv`. Generators have the same lifecycle and restart rules
//! under a supervisor of their own.
//! A user appends `xs.action.<name>.register` with `{run: {|frame| ...}}`;
//! each `<name>.call` frame then gets exactly one answer,
//! `<name>.response` (what `run` returned) or `<name>.error`, with calls
//! running concurrently. Actions share the handlers' lifecycle.
//!
//! | file | holds |
//! |---|---|
//! | `supervisor.rs` | [`Processor`]: per kind, the lifecycle follow, one instance per name, restore at start |
//! | `states.rs` | the processor's report: each handler's and generator's state ([`Processor::states`]) |
//! | `lifecycle.rs` | lifecycle topics and frames, the restart rules ([`lifecycle::History`]) |
//! | `instance.rs` | a handler's thread and the supervisor's handle on it: go, stop, interrupt |
//! | `handler.rs` | a handler prepared (script → config) and its read–run–commit loop |
//! | `action.rs`, `call.rs` | an action prepared, its call workers; calls, answers and the low-water mark |
//! | `orphan.rs` | calls to a name with no action: answered with `.error` by the supervisor |
//! | `step.rs` | one call of a handler's `run`: the state bound untyped, as cross-stream binds it |
//! | `generator.rs`, `duplex.rs` | a generator prepared, its run–restart loop, its `.send` input |
//! | `watchdog.rs` | generators' externals: marked, killed with their groups, and if the owner dies |
//! | `config.rs`, `output.rs` | the config record; the `{out?, next?}` contract and output frames |
//! | `outbox.rs`, `position.rs` | uncommitted output; the checkpoint committed with it |
//! | `engine.rs` | the embedded Nushell engine and each script's copy of it |
//! | `commands/` | the engine's adapter over [`crate::nu`]'s store commands (`xs append`, `xs cat`, ...), `print`, and the exec guard |
//! | `mirror.rs` | a mirror into NATS JetStream (`xs.mirror.<name>.register`): its runs ([`crate::nats`]) under the generators' backoff and lifecycle |
//! | `module.rs` | `xs.module.<name>` sources, as of a register frame |
//! | `eval.rs` | scripts sent to the owner (`POST /eval`), run once in the same engine with the same commands and modules |
//!
//! What it is not: a scheduler of external jobs. A handler's externals
//! run inside its `run`, and exactly once covers only what the handler
//! appends, not the side effects of what it runs.

mod action;
mod call;
mod commands;
mod config;
mod duplex;
mod engine;
mod error;
pub(crate) mod eval;
mod generator;
mod handler;
mod instance;
mod lifecycle;
#[cfg(feature = "nats")]
mod mirror;
mod module;
mod orphan;
mod outbox;
mod output;
mod position;
pub(crate) mod states;
mod step;
mod supervisor;
mod watchdog;

pub use supervisor::Processor;
