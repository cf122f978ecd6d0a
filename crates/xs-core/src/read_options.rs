//! What a read asks for.
//!
//! The option names and meanings are the socket API's query parameters
//! (`follow`, `new`, `after`, `from`, `limit`, `last`, `topic`), shared by
//! every front end.

use std::time::Duration;

use scru128::Scru128Id;

/// Whether a read keeps going after history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FollowOption {
    /// Replay history and stop.
    #[default]
    Off,
    /// Replay history, emit `xs.threshold`, then stream live frames.
    On,
    /// As [`FollowOption::On`], plus an ephemeral `xs.pulse` frame every period.
    WithHeartbeat(Duration),
}

impl FollowOption {
    /// True unless [`FollowOption::Off`].
    pub fn is_on(self) -> bool {
        self != Self::Off
    }
}

/// The options of a read. All optional; the default replays every stored
/// frame once, oldest first.
///
/// ```
/// use xs_core::{FollowOption, ReadOptions};
/// let options = ReadOptions::builder()
///     .follow(FollowOption::On)
///     .topic("clip.*".to_string())
///     .last(10)
///     .build();
/// assert_eq!(options.last, Some(10));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, bon::Builder)]
pub struct ReadOptions {
    /// Keep streaming after history.
    #[builder(default)]
    pub follow: FollowOption,
    /// Skip history: only frames appended from now on.
    #[builder(default)]
    pub new: bool,
    /// Start after this id (exclusive).
    pub after: Option<Scru128Id>,
    /// Start at this id (inclusive).
    pub from: Option<Scru128Id>,
    /// At most this many frames in all, history and live together
    /// (the `xs.threshold` and `xs.pulse` markers are not counted).
    pub limit: Option<usize>,
    /// Only the newest n matching frames of history, oldest first.
    pub last: Option<usize>,
    /// A comma list of topic patterns: `topic`, `prefix.*`, `*`.
    pub topic: Option<String>,
}
