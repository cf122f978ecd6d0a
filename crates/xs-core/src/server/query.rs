//! Read options as URL query parameters: the socket API's wire form.
//!
//! The server parses what cross-stream 0.13's clients send (`follow`,
//! `follow=<ms>`, `new`, `after`, `from`, `limit`, `last`, `topic`) and the
//! client encodes exactly what the server parses, so the two cannot drift:
//! `ReadOptions::from_query(&options.to_query())` gives `options` back.
//! Unknown parameters are ignored, as cross-stream does; a known one with a
//! bad value is an error naming it.

use std::{collections::HashMap, time::Duration};

use scru128::Scru128Id;

use crate::read_options::{FollowOption, ReadOptions};

/// A query parameter with a value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid query parameter {name}={value:?}: {expected}")]
pub(crate) struct BadParam {
    name: &'static str,
    value: String,
    expected: &'static str,
}

/// The parameters of a query string, percent-decoded; the last of a repeated name wins.
pub(crate) fn params(query: Option<&str>) -> HashMap<String, String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect()
}

impl ReadOptions {
    /// Parses the query parameters of `GET /`.
    pub(crate) fn from_params(params: &HashMap<String, String>) -> Result<Self, BadParam> {
        let get = |name: &str| params.get(name).map(String::as_str);
        Ok(ReadOptions {
            follow: get("follow").map(parse_follow).transpose()?.unwrap_or_default(),
            new: get("new").is_some_and(|v| !matches!(v, "false" | "no" | "0")),
            after: get("after").map(|v| parse_id("after", v)).transpose()?,
            from: get("from").map(|v| parse_id("from", v)).transpose()?,
            limit: get("limit").map(|v| parse_count("limit", v)).transpose()?,
            last: get("last").map(|v| parse_count("last", v)).transpose()?,
            topic: get("topic").map(str::to_string),
        })
    }

    /// The query string for these options (empty for the defaults).
    pub(crate) fn to_query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        let follow = match self.follow {
            FollowOption::Off => None,
            FollowOption::On => Some("true".to_string()),
            FollowOption::WithHeartbeat(d) => Some(d.as_millis().to_string()),
        };
        if let Some(follow) = follow {
            query.append_pair("follow", &follow);
        }
        if self.new {
            query.append_pair("new", "true");
        }
        let ids = [("after", self.after), ("from", self.from)];
        for (name, id) in ids.iter().filter_map(|(n, id)| id.map(|id| (n, id))) {
            query.append_pair(name, &id.to_string());
        }
        let counts = [("limit", self.limit), ("last", self.last)];
        for (name, n) in counts.iter().filter_map(|(name, n)| n.map(|n| (name, n))) {
            query.append_pair(name, &n.to_string());
        }
        if let Some(topic) = &self.topic {
            query.append_pair("topic", topic);
        }
        query.finish()
    }
}

/// `follow`: on (`""`, `yes`, `true`), off (`false`, `no`) or a heartbeat in ms.
fn parse_follow(value: &str) -> Result<FollowOption, BadParam> {
    match value {
        "" | "yes" | "true" => Ok(FollowOption::On),
        "false" | "no" => Ok(FollowOption::Off),
        ms => match ms.parse::<u64>() {
            Ok(ms) if ms > 0 => Ok(FollowOption::WithHeartbeat(Duration::from_millis(ms))),
            _ => Err(bad("follow", value, "expected true, false or a heartbeat period of at least 1 ms")),
        },
    }
}

fn parse_id(name: &'static str, value: &str) -> Result<Scru128Id, BadParam> {
    value.parse().map_err(|_| bad(name, value, "expected a 25-character scru128 id"))
}

pub(crate) fn parse_count(name: &'static str, value: &str) -> Result<usize, BadParam> {
    value.parse().map_err(|_| bad(name, value, "expected a non-negative integer"))
}

pub(crate) fn bad(name: &'static str, value: &str, expected: &'static str) -> BadParam {
    BadParam { name, value: value.to_string(), expected }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<ReadOptions, BadParam> {
        ReadOptions::from_params(&params(Some(query)))
    }

    #[test]
    fn reads_cross_stream_forms() {
        assert_eq!(parse("follow").unwrap().follow, FollowOption::On);
        assert_eq!(parse("follow=yes").unwrap().follow, FollowOption::On);
        assert_eq!(parse("follow=250").unwrap().follow, FollowOption::WithHeartbeat(Duration::from_millis(250)));
        assert!(parse("new").unwrap().new && !parse("new=no").unwrap().new);
        assert_eq!(parse("topic=a.*%2Cb&foo=bar").unwrap().topic.as_deref(), Some("a.*,b"));
    }

    #[test]
    fn round_trips() {
        let options = ReadOptions::builder()
            .follow(FollowOption::WithHeartbeat(Duration::from_millis(5)))
            .new(true)
            .after(scru128::new())
            .limit(3)
            .last(0)
            .topic("x.*,y".to_string())
            .build();
        assert_eq!(parse(&options.to_query()).unwrap(), options);
        assert_eq!(ReadOptions::default().to_query(), "");
    }

    #[test]
    fn rejects_bad_values() {
        for query in ["follow=0", "follow=maybe", "after=123", "from=x", "limit=-1", "last=many"] {
            assert!(parse(query).is_err(), "{query} should be rejected");
        }
    }
}
