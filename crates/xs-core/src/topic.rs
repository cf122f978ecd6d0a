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

use crate::error::{Result, StoreError};

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
/// assert!(xs_core::validate_topic("clip.add").is_ok());
/// assert!(xs_core::validate_topic("clip..add").is_err());
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
    /// use xs_core::TopicFilter;
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
    fn rejects_each_rule() {
        for bad in ["", "1a", "a..b", "a.", "a b", "a,b", ".a", "a/b"] {
            assert!(validate_topic(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(validate_topic(&"a".repeat(256)).is_err());
        assert!(validate_topic(&"a".repeat(255)).is_ok());
        assert!(validate_topic("_x-y.Z9").is_ok());
    }
}
