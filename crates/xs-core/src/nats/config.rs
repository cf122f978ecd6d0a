//! A mirror's configuration: the meta of its `xs.mirror.<name>.register`
//! frame, checked whole before anything runs.
//!
//! ```text
//! {url: "nats://host:4222", stream: "XS", subject_prefix: "xs",
//!  topics: ["clip.*", "note"], creds: "/path/user.creds",
//!  replicas: 1, retention: "limits"}
//! ```
//!
//! The config lives in the register frame's meta (not its payload) so a
//! plain `xs append` with `--meta` registers a mirror and `xs cat` shows
//! it. It is a frame, so it must never hold a secret: a URL with
//! `user:password@` is refused, and credentials come from the file named
//! by `creds` (read at connect time, see `connect.rs`). A config that does
//! not check out makes the register `.invalid` with the reason; nothing
//! is connected or created for it.

use std::path::PathBuf;

use serde_json::{Map, Value as Json};

use crate::{StoreError, error::Result, topic::TopicFilter};

/// The stream a mirror publishes to unless told otherwise.
pub const DEFAULT_STREAM: &str = "XS";
/// The subject prefix unless told otherwise.
pub const DEFAULT_PREFIX: &str = "xs";
/// The fields a config may have.
const FIELDS: [&str; 8] = ["url", "stream", "subject_prefix", "topics", "creds", "replicas", "retention", "bucket"];

/// What JetStream keeps of the stream (its retention policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    /// Until the stream's limits (age, size, count) drop it.
    Limits,
    /// While some consumer is interested.
    Interest,
    /// Until one consumer acknowledges it.
    WorkQueue,
}

/// A mirror's checked configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirrorConfig {
    /// One server URL or a comma list (a cluster's seeds), without credentials.
    pub url: String,
    /// The JetStream stream.
    pub stream: String,
    /// Subjects are `<subject_prefix>.<topic>`.
    pub subject_prefix: String,
    /// The topics mirrored, as a store read's comma list (`*`: all).
    pub topics: String,
    /// A file holding the credentials: a NATS `.creds` file, an nkey seed,
    /// `user:password`, or a token.
    pub creds: Option<PathBuf>,
    /// The stream's replicas when the mirror creates it.
    pub replicas: usize,
    /// The stream's retention when the mirror creates it.
    pub retention: Retention,
    /// The object-store bucket for payloads too large for a message.
    pub bucket: String,
}

impl MirrorConfig {
    /// Checks a register frame's meta.
    ///
    /// # Errors
    ///
    /// [`StoreError::MirrorConfig`] naming the first field that is wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use xs_core::nats::config::MirrorConfig;
    /// let meta = serde_json::json!({"url": "nats://127.0.0.1:4222", "topics": ["clip.*"]});
    /// let config = MirrorConfig::parse(Some(&meta)).unwrap();
    /// assert_eq!((config.stream.as_str(), config.bucket.as_str()), ("XS", "XS-payloads"));
    /// assert!(MirrorConfig::parse(Some(&serde_json::json!({"url": "nats://u:p@h"}))).is_err());
    /// ```
    pub fn parse(meta: Option<&Json>) -> Result<MirrorConfig> {
        let Some(Json::Object(meta)) = meta else {
            return Err(bad("the register frame's meta must be a record: {url: \"nats://host:4222\", ...}"));
        };
        if let Some(key) = meta.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(bad(&format!("unknown field {key:?}; the fields are {}", FIELDS.join(", "))));
        }
        let url = url(meta)?;
        let stream = text(meta, "stream")?.unwrap_or_else(|| DEFAULT_STREAM.into());
        check_name("stream", &stream)?;
        let subject_prefix = text(meta, "subject_prefix")?.unwrap_or_else(|| DEFAULT_PREFIX.into());
        check_prefix(&subject_prefix)?;
        let bucket = text(meta, "bucket")?.unwrap_or_else(|| format!("{stream}-payloads"));
        check_name("bucket", &bucket)?;
        let creds = text(meta, "creds")?.map(PathBuf::from);
        if let Some(path) = creds.as_ref().filter(|p| !p.is_file()) {
            return Err(bad(&format!("creds: no such file {}", path.display())));
        }
        let (topics, replicas, retention) = (topics(meta)?, replicas(meta)?, retention(meta)?);
        Ok(MirrorConfig { url, stream, subject_prefix, topics, creds, replicas, retention, bucket })
    }

    /// The meta record of a register frame for this config (what `xs mirror add` appends).
    pub fn to_meta(&self) -> Json {
        let mut meta = Map::new();
        meta.insert("url".into(), self.url.clone().into());
        meta.insert("stream".into(), self.stream.clone().into());
        meta.insert("subject_prefix".into(), self.subject_prefix.clone().into());
        meta.insert("topics".into(), self.topics.clone().into());
        if let Some(creds) = &self.creds {
            meta.insert("creds".into(), creds.display().to_string().into());
        }
        meta.insert("replicas".into(), self.replicas.into());
        meta.insert("retention".into(), self.retention.as_str().into());
        meta.insert("bucket".into(), self.bucket.clone().into());
        Json::Object(meta)
    }

    /// The subjects the stream must hold: `<prefix>.>`.
    pub fn subjects(&self) -> String {
        format!("{}.>", self.subject_prefix)
    }
}

impl Retention {
    /// The name used in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            Retention::Limits => "limits",
            Retention::Interest => "interest",
            Retention::WorkQueue => "workqueue",
        }
    }
}

fn bad(reason: &str) -> StoreError {
    StoreError::MirrorConfig { reason: reason.to_string() }
}

/// An optional string field.
fn text(meta: &Map<String, Json>, key: &str) -> Result<Option<String>> {
    match meta.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        Some(_) => Err(bad(&format!("{key} must be a non-empty string"))),
    }
}

/// The server URL(s): required, a known scheme, and no credentials in it.
fn url(meta: &Map<String, Json>) -> Result<String> {
    let url = text(meta, "url")?.ok_or_else(|| bad("url is required: url: \"nats://host:4222\""))?;
    for one in url.split(',').map(str::trim) {
        let rest = match one.split_once("://") {
            Some((scheme, rest)) if ["nats", "tls", "ws", "wss"].contains(&scheme) => rest,
            Some((scheme, _)) => {
                return Err(bad(&format!("url: unknown scheme {scheme:?}; use nats://, tls://, ws:// or wss://")));
            }
            None => one,
        };
        if rest.contains('@') {
            return Err(bad(
                "url: credentials in a URL would be stored in the register frame; put them in a file and name it in creds",
            ));
        }
        if rest.is_empty() {
            return Err(bad("url: no host"));
        }
    }
    Ok(url)
}

/// A stream or bucket name: JetStream's rules (no spaces, dots, wildcards).
fn check_name(field: &str, name: &str) -> Result<()> {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Ok(());
    }
    Err(bad(&format!("{field} {name:?}: use letters, digits, - and _")))
}

/// A subject prefix: dot-separated tokens, no wildcards.
fn check_prefix(prefix: &str) -> Result<()> {
    let token = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if prefix.split('.').all(token) {
        return Ok(());
    }
    Err(bad(&format!("subject_prefix {prefix:?}: dot-separated tokens of letters, digits, - and _")))
}

/// The topic patterns: a comma list or a list of strings; all by default.
fn topics(meta: &Map<String, Json>) -> Result<String> {
    let specs: Vec<String> = match meta.get("topics") {
        None | Some(Json::Null) => return Ok("*".into()),
        Some(Json::String(s)) => vec![s.clone()],
        Some(Json::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("topics must be a string (a comma list) or a list of strings"))?,
        Some(_) => return Err(bad("topics must be a string (a comma list) or a list of strings")),
    };
    let joined = specs.join(",");
    TopicFilter::parse(&joined).map_err(|e| bad(&format!("topics: {e}")))?;
    Ok(if joined.trim().is_empty() { "*".into() } else { joined })
}

fn replicas(meta: &Map<String, Json>) -> Result<usize> {
    match meta.get("replicas") {
        None | Some(Json::Null) => Ok(1),
        Some(Json::Number(n)) => match n.as_u64() {
            Some(r @ 1..=5) => usize::try_from(r).map_err(|_| bad("replicas: out of range")),
            _ => Err(bad("replicas must be 1 to 5")),
        },
        Some(_) => Err(bad("replicas must be a number, 1 to 5")),
    }
}

fn retention(meta: &Map<String, Json>) -> Result<Retention> {
    match text(meta, "retention")?.as_deref() {
        None | Some("limits") => Ok(Retention::Limits),
        Some("interest") => Ok(Retention::Interest),
        Some("workqueue") => Ok(Retention::WorkQueue),
        Some(other) => Err(bad(&format!("retention {other:?}: use limits, interest or workqueue"))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_fill_in_and_a_list_of_topics_joins() {
        let config = MirrorConfig::parse(Some(&json!({"url": "nats://h:1", "topics": ["a.*", "b"]}))).unwrap();
        assert_eq!(config.topics, "a.*,b");
        assert_eq!((config.replicas, config.retention), (1, Retention::Limits));
        assert_eq!(config.subjects(), "xs.>");
        assert_eq!(MirrorConfig::parse(Some(&config.to_meta())).unwrap(), config);
    }

    #[test]
    fn each_wrong_field_is_named() {
        let cases = [
            (json!({}), "url is required"),
            (json!({"url": "nats://a:b@h"}), "credentials"),
            (json!({"url": "http://h"}), "scheme"),
            (json!({"url": "nats://h", "stream": "a.b"}), "stream"),
            (json!({"url": "nats://h", "subject_prefix": "a.*"}), "subject_prefix"),
            (json!({"url": "nats://h", "replicas": 7}), "replicas"),
            (json!({"url": "nats://h", "retention": "forever"}), "retention"),
            (json!({"url": "nats://h", "creds": "/no/such/file"}), "creds"),
            (json!({"url": "nats://h", "topics": ["bad topic"]}), "topics"),
            (json!({"url": "nats://h", "colour": 1}), "unknown field"),
        ];
        for (meta, expected) in cases {
            let error = MirrorConfig::parse(Some(&meta)).unwrap_err().to_string();
            assert!(error.contains(expected), "{meta}: {error}");
        }
    }
}
