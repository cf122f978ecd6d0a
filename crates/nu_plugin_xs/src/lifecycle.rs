//! What `xs status` reports about handlers and generators, read from their
//! lifecycle frames (`xs.handler.<name>.<event>`, `xs.generator.<name>.<event>`).
//!
//! The state of a name is its newest event, read through the topic index.
//! `.replaced` is left out: it is about the instance a newer
//! register/spawn took over from, not about the newest one.

use std::{collections::BTreeMap, time::Duration};

use xs_core::{
    ReadOptions, Result,
    connection::Subscription,
    id::Scru128Id,
    store::{Next, Poll},
};

use crate::backend::Backend;

/// Handlers or generators.
#[derive(Clone, Copy)]
pub enum Kind {
    /// `xs.handler.*`
    Handler,
    /// `xs.generator.*`
    Generator,
}

impl Kind {
    /// The column `xs status` lists them under.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Handler => "handlers",
            Kind::Generator => "generators",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Kind::Handler => "xs.handler",
            Kind::Generator => "xs.generator",
        }
    }
}

/// One handler or generator and where it stands.
#[derive(Debug, PartialEq, Eq)]
pub struct State {
    /// Its name.
    pub name: String,
    /// Its newest event, as a state: registered, active, failed, ...
    pub state: String,
    /// The id of the frame that said so.
    pub since: Scru128Id,
}

/// Every handler (or generator) named in the stream, by name.
///
/// # Errors
///
/// Store errors reading the lifecycle frames.
pub fn states(backend: &Backend, kind: Kind) -> Result<Vec<State>> {
    let options = ReadOptions::builder().topic(format!("{}.*", kind.prefix())).build();
    let mut newest = BTreeMap::new();
    drain(backend.read(options)?, |frame| {
        // `replaced` is about an older version; `restarting` marks a pause
        // between runs of a generator that is still active.
        if let Some((name, event)) = split(&frame.topic, kind.prefix())
            && !matches!(event, "replaced" | "restarting")
        {
            newest.insert(name.to_string(), State { name: name.to_string(), state: state_of(event), since: frame.id });
        }
    })?;
    Ok(newest.into_values().collect())
}

/// How many frames a read gives.
///
/// # Errors
///
/// Store errors.
pub fn count(source: Subscription) -> Result<usize> {
    let mut n = 0;
    drain(source, |_| n += 1)?;
    Ok(n)
}

/// Runs `each` on every frame of a read that does not follow.
fn drain(mut source: Subscription, mut each: impl FnMut(xs_core::Frame)) -> Result<()> {
    loop {
        match source.poll(Duration::from_secs(1))? {
            Next::Frame(frame) => each(frame),
            Next::Idle => {}
            Next::End => return Ok(()),
        }
    }
}

/// `xs.handler.clip.sum.active` → (`clip.sum`, `active`).
fn split<'t>(topic: &'t str, prefix: &str) -> Option<(&'t str, &'t str)> {
    let rest = topic.strip_prefix(prefix)?.strip_prefix('.')?;
    rest.rsplit_once('.')
}

/// The state an event leaves its subject in.
fn state_of(event: &str) -> String {
    match event {
        "register" => "registered",
        "unregister" => "unregistering",
        "spawn" => "spawned",
        "terminate" => "terminating",
        other => other,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_may_hold_dots() {
        assert_eq!(split("xs.handler.clip.sum.active", "xs.handler"), Some(("clip.sum", "active")));
        assert_eq!(split("xs.handler.x", "xs.handler"), None);
        assert_eq!(split("xs.generatorx.a.b", "xs.generator"), None);
        assert_eq!(state_of("register"), "registered");
        assert_eq!(state_of("failed"), "failed");
    }
}
