//! Where each handler, generator and action stands, as the processor reports it:
//! the vocabulary shared by the processor (which keeps it), the server
//! (`GET /processor`), the client and the connection (which ask for it).
//!
//! It lives outside `processor/` so that a build without the processor
//! feature can still ask an owner that runs one.

use scru128::Scru128Id;
use serde::{Deserialize, Serialize};

/// Handlers, generators or actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScriptKind {
    /// Registered on `xs.handler.<name>.register`.
    Handler,
    /// Spawned on `xs.generator.<name>.spawn`.
    Generator,
    /// Registered on `xs.action.<name>.register`.
    Action,
    /// Registered on `xs.mirror.<name>.register` (NATS JetStream).
    Mirror,
}

/// The state of one handler (or generator) name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// A register (spawn) frame is being prepared; it is not running yet.
    #[serde(alias = "spawned")]
    Registered,
    /// It runs.
    Active,
    /// Its script did not evaluate to a valid config; it never ran.
    Invalid,
    /// It stopped on an error (see [`ScriptState::error`]).
    Failed,
    /// It ended by itself.
    Done,
    /// An unregister (terminate) frame asked it to stop.
    #[serde(alias = "terminating")]
    Unregistering,
    /// It stopped by request.
    #[serde(alias = "terminated")]
    Unregistered,
    /// The owner that ran it shut down; the next owner runs it again.
    Stopped,
    /// Imported inert from a dump: stored, never run (see
    /// [`Scripts`](crate::store::Scripts)). Append its script again to run it.
    Inert,
}

impl State {
    /// The word for this state: generators say spawned, terminating,
    /// terminated where handlers say registered, unregistering, unregistered.
    pub fn label(self, kind: ScriptKind) -> &'static str {
        match (kind, self) {
            (ScriptKind::Generator, State::Registered) => "spawned",
            (ScriptKind::Generator, State::Unregistering) => "terminating",
            (ScriptKind::Generator, State::Unregistered) => "terminated",
            (_, State::Registered) => "registered",
            (_, State::Active) => "active",
            (_, State::Invalid) => "invalid",
            (_, State::Failed) => "failed",
            (_, State::Done) => "done",
            (_, State::Unregistering) => "unregistering",
            (_, State::Unregistered) => "unregistered",
            (_, State::Stopped) => "stopped",
            (_, State::Inert) => "inert",
        }
    }

    /// True while it runs (a stopped one runs again under the next owner, not this one).
    pub fn is_running(self) -> bool {
        self == State::Active
    }
}

/// One handler, generator or action and where it stands.
///
/// ```
/// use xs_core::script_state::{ScriptKind, State};
/// assert_eq!(State::Unregistered.label(ScriptKind::Generator), "terminated");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptState {
    /// Handler, generator or action.
    pub kind: ScriptKind,
    /// Its name: `<name>` in `xs.handler.<name>.register`.
    pub name: String,
    /// Where it stands.
    pub state: State,
    /// The register (spawn) frame of the version this state is about.
    pub id: Scru128Id,
    /// The frame that put it in this state.
    pub since: Scru128Id,
    /// The last error: why it failed or was invalid (or why a replacement
    /// was invalid while this version kept running).
    pub error: Option<String>,
    /// Mirrors only: how far it has published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<MirrorProgress>,
}

/// How far a mirror has published into JetStream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorProgress {
    /// The newest frame known to be in the stream, with every frame before it.
    pub position: Option<Scru128Id>,
    /// Stored frames on the mirrored topics after the position: not yet acknowledged.
    pub lag: u64,
    /// The last error of a run (kept after recovery; the state says whether it runs).
    pub error: Option<String>,
}
