//! Topics and topic patterns.
//!
//! A topic is 1–255 bytes of `[A-Za-z0-9_.-]`, starting with a letter or `_`,
//! with no trailing `.` and no `..`. Dots make a hierarchy, which readers
//! select with patterns: an exact topic, `prefix.*` (every descendant of
//! `prefix`, not `prefix` itself) or `*`.
//!
//! Every pattern a frame can match is also a key prefix of the topic index
//! (see [`index_names`]), so a pattern is always one contiguous, id-ordered
//! range of that index.
//!
//! Topics under `xs.` belong to the runtime. A client (the socket, the
//! plugin, a script, the public Rust API) may append there only the *in*
//! events that ask the processor for something ([`validate_append_topic`]):
//! everything else there is what the runtime says happened (`.active`,
//! `.failed`, …) or a reader's marker (`xs.threshold`, `xs.pulse`), and a
//! forged one would mislead every reader and the restart rules. An import
//! restores history, so it may carry the out events too, but never a
//! marker, which no store holds ([`validate_import_topic`]).

use crate::{
    error::{Result, StoreError},
    store::reader::{PULSE, THRESHOLD},
};

/// The longest topic, in bytes.
pub const MAX_TOPIC_LEN: usize = 255;

/// Checks `topic` against the topic rules.
///
/// # Errors
///
/// [`StoreError::InvalidTopic`] naming the rule it breaks.
///
/// # Examples
///
/// ```
/// assert!(xs_core::topic::validate_topic("clip.add").is_ok());
/// assert!(xs_core::topic::validate_topic("clip..add").is_err());
/// ```
pub fn validate_topic(topic: &str) -> Result<()> {
    let fail = |reason| Err(StoreError::InvalidTopic { topic: topic.to_string(), reason });
    let Some(first) = topic.chars().next() else {
        return fail("a topic cannot be empty");
    };
    if topic.len() > MAX_TOPIC_LEN {
        return fail("a topic is at most 255 bytes");
    }
    if !(first.is_ascii_alphabetic() || first == '_') {
        return fail("a topic starts with a letter or '_'");
    }
    if !topic.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
        return fail("a topic holds only letters, digits, '_', '-' and '.'");
    }
    if topic.ends_with('.') {
        return fail("a topic cannot end with '.'");
    }
    if topic.contains("..") {
        return fail("a topic cannot contain '..'");
    }
    Ok(())
}

/// The root of the runtime's topics.
const RUNTIME: &str = "xs.";

/// Under `xs.`, the kinds whose in events a client appends, and those events.
const IN_EVENTS: [(&str, [&str; 2]); 4] = [
    ("handler.", ["register", "unregister"]),
    ("generator.", ["spawn", "terminate"]),
    ("action.", ["register", "unregister"]),
    ("mirror.", ["register", "unregister"]),
];

/// Under `xs.`, the topics of module sources: `xs.module.<name>`.
const MODULE: &str = "module.";

/// What a refused append under `xs.` is told.
const IN_EVENTS_HELP: &str = "under xs. a client may append only xs.handler.<name>.register|unregister, \
     xs.generator.<name>.spawn|terminate, xs.action.<name>.register|unregister, \
     xs.mirror.<name>.register|unregister and xs.module.<name>";

/// Checks that a client may append to `topic`: it keeps the topic rules,
/// and under `xs.` it is one of the documented in events.
///
/// # Errors
///
/// [`StoreError::InvalidTopic`] naming the rule it breaks;
/// [`StoreError::ReservedTopic`] for any other topic under `xs.`.
///
/// # Examples
///
/// ```
/// use xs_core::topic::validate_append_topic;
/// assert!(validate_append_topic("clip.add").is_ok());
/// assert!(validate_append_topic("xs.handler.sum.register").is_ok());
/// assert!(validate_append_topic("xs.handler.sum.active").is_err());
/// assert!(validate_append_topic("xs.pulse").is_err());
/// ```
pub fn validate_append_topic(topic: &str) -> Result<()> {
    validate_topic(topic)?;
    if is_in_event(topic) {
        return Ok(());
    }
    Err(StoreError::ReservedTopic { topic: topic.to_string(), reason: IN_EVENTS_HELP })
}

/// Checks that a frame on `topic` may be imported: it keeps the topic
/// rules and is not a reader's marker (those are never stored).
///
/// # Errors
///
/// [`StoreError::InvalidTopic`]; [`StoreError::ReservedTopic`] for
/// `xs.threshold` and `xs.pulse`.
pub fn validate_import_topic(topic: &str) -> Result<()> {
    validate_topic(topic)?;
    if topic == THRESHOLD || topic == PULSE {
        let reason = "xs.threshold and xs.pulse are markers readers emit, never stored frames";
        return Err(StoreError::ReservedTopic { topic: topic.to_string(), reason });
    }
    Ok(())
}

/// True for topics outside `xs.`, and for the in events under it.
fn is_in_event(topic: &str) -> bool {
    let Some(rest) = topic.strip_prefix(RUNTIME) else { return true };
    if rest.strip_prefix(MODULE).is_some_and(|name| !name.is_empty()) {
        return true;
    }
    IN_EVENTS.iter().any(|(kind, events)| {
        let named = rest.strip_prefix(kind).and_then(|r| r.rsplit_once('.'));
        named.is_some_and(|(name, event)| !name.is_empty() && events.contains(&event))
    })
}

/// True for the topics the processor acts on (lifecycles of handlers,
/// generators and actions, and modules, in and out events alike): what an
/// import marks inert unless asked to run scripts.
pub(crate) fn is_script_topic(topic: &str) -> bool {
    let Some(rest) = topic.strip_prefix(RUNTIME) else { return false };
    rest.starts_with(MODULE) || IN_EVENTS.iter().any(|(kind, _)| rest.starts_with(kind))
}

/// One topic pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// Exactly this topic.
    Exact(String),
    /// Every topic below this prefix (`prefix.*`), not the prefix itself.
    /// Holds the prefix without the `.*`.
    Prefix(String),
}

impl Pattern {
    /// Parses `topic`, `prefix.*` (not `*`: that is [`TopicFilter::All`]).
    fn parse(spec: &str) -> Result<Self> {
        match spec.strip_suffix(".*") {
            Some(prefix) => validate_topic(prefix).map(|()| Self::Prefix(prefix.to_string())),
            None => validate_topic(spec).map(|()| Self::Exact(spec.to_string())),
        }
    }

    /// Does `topic` match this pattern?
    pub fn matches(&self, topic: &str) -> bool {
        match self {
            Self::Exact(t) => t == topic,
            Self::Prefix(p) => {
                topic.len() > p.len() + 1 && topic.starts_with(p.as_str()) && topic.as_bytes()[p.len()] == b'.'
            }
        }
    }

    /// The name of this pattern's range in the topic index.
    pub(crate) fn index_name(&self) -> String {
        match self {
            Self::Exact(t) => t.clone(),
            Self::Prefix(p) => format!("{p}.*"),
        }
    }
}

/// Which topics a read selects.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum TopicFilter {
    /// Every topic.
    #[default]
    All,
    /// Topics matching any of these patterns (no duplicates, never empty).
    Patterns(Vec<Pattern>),
}

impl TopicFilter {
    /// Parses a comma list of patterns (`clip.add,note.*`); `*` anywhere, or
    /// an empty list, selects everything.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidTopic`] for a pattern that breaks the topic rules.
    ///
    /// # Examples
    ///
    /// ```
    /// use xs_core::topic::TopicFilter;
    /// let filter = TopicFilter::parse("clip.*, note").unwrap();
    /// assert!(filter.matches("clip.add") && filter.matches("note"));
    /// assert!(!filter.matches("clip"));
    /// ```
    pub fn parse(spec: &str) -> Result<Self> {
        Self::from_patterns(spec.split(','))
    }

    /// Parses a list of patterns, each of which may itself be a comma list.
    ///
    /// # Errors
    ///
    /// As [`TopicFilter::parse`].
    pub fn from_patterns<'a>(specs: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let mut patterns: Vec<Pattern> = Vec::new();
        for spec in specs.into_iter().flat_map(|s| s.split(',')).map(str::trim) {
            match spec {
                "" => continue,
                "*" => return Ok(Self::All),
                _ => {
                    let pattern = Pattern::parse(spec)?;
                    if !patterns.contains(&pattern) {
                        patterns.push(pattern);
                    }
                }
            }
        }
        Ok(if patterns.is_empty() { Self::All } else { Self::Patterns(patterns) })
    }

    /// Does `topic` pass this filter?
    pub fn matches(&self, topic: &str) -> bool {
        match self {
            Self::All => true,
            Self::Patterns(ps) => ps.iter().any(|p| p.matches(topic)),
        }
    }
}

/// The index ranges a frame of `topic` belongs to: the topic itself and one
/// `prefix.*` for each ancestor (`a.b.c` → `a.b.c`, `a.*`, `a.b.*`).
pub(crate) fn index_names(topic: &str) -> impl Iterator<Item = String> + '_ {
    let ancestors = topic.match_indices('.').map(|(at, _)| format!("{}.*", &topic[..at]));
    std::iter::once(topic.to_string()).chain(ancestors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_matches_descendants_only() {
        let p = Pattern::parse("a.*").unwrap();
        assert!(p.matches("a.b") && p.matches("a.b.c"));
        assert!(!p.matches("a") && !p.matches("ab") && !p.matches("ab.c"));
    }

    #[test]
    fn index_names_cover_every_ancestor() {
        let names: Vec<_> = index_names("a.b.c").collect();
        assert_eq!(names, ["a.b.c", "a.*", "a.b.*"]);
    }

    #[test]
    fn clients_append_only_in_events_under_xs() {
        let allowed = [
            "clip",
            "xs",
            "xsx.pulse",
            "xs.handler.sum.register",
            "xs.handler.a.b.unregister",
            "xs.generator.w.spawn",
            "xs.generator.w.terminate",
            "xs.action.go.register",
            "xs.action.go.unregister",
            "xs.module.util",
            "xs.module.a.b",
        ];
        for topic in allowed {
            assert!(validate_append_topic(topic).is_ok(), "{topic} should be allowed");
        }
        let refused = [
            "xs.threshold",
            "xs.pulse",
            "xs.handler.x.active",
            "xs.handler.x.invalid",
            "xs.handler.x.failed",
            "xs.handler.x.done",
            "xs.handler.x.unregistered",
            "xs.handler.x.replaced",
            "xs.handler.x.stopped",
            "xs.generator.x.terminated",
            "xs.generator.x.register",
            "xs.generator.x.restarting",
            "xs.handler.register",
            "xs.module",
            "xs.other",
        ];
        for topic in refused {
            assert!(
                matches!(validate_append_topic(topic), Err(StoreError::ReservedTopic { .. })),
                "{topic} should be refused"
            );
        }
        assert!(matches!(validate_append_topic("xs..pulse"), Err(StoreError::InvalidTopic { .. })));
    }

    #[test]
    fn imports_restore_lifecycles_but_never_markers() {
        assert!(validate_import_topic("xs.handler.x.active").is_ok());
        assert!(validate_import_topic("xs.generator.x.restarting").is_ok());
        assert!(validate_import_topic("xs.threshold").is_err() && validate_import_topic("xs.pulse").is_err());
        assert!(is_script_topic("xs.handler.x.register") && is_script_topic("xs.module.m"));
        assert!(is_script_topic("xs.action.a.register") && is_script_topic("xs.generator.g.stopped"));
        assert!(!is_script_topic("xs.pulse") && !is_script_topic("clip.xs.handler"));
    }

    #[test]
    fn rejects_each_rule() {
        for bad in ["", "1a", "a..b", "a.", "a b", "a,b", ".a", "a/b"] {
            assert!(validate_topic(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(validate_topic(&"a".repeat(256)).is_err());
        assert!(validate_topic(&"a".repeat(255)).is_ok());
        assert!(validate_topic("_x-y.Z9").is_ok());
    }
}
