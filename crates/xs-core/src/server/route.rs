//! The socket API's routes: what a request asks for, checked before any
//! work is done.
//!
//! Everything a request carries in its head (ids, topics, hashes, TTL, read
//! options, the `xs-meta` header) is parsed here, so a malformed request is
//! answered with a 4xx before its body is read or the store is touched.
//! The routes and their parameters are cross-stream 0.13's.

use std::{collections::HashMap, str::FromStr};

use base64::Engine;
use hyper::{HeaderMap, Method, http::request::Parts};
use scru128::Scru128Id;
use ssri::Integrity;

use crate::{
    error::StoreError,
    read_options::ReadOptions,
    server::query::{self, BadParam},
    server::wire::Format,
    store::Scripts,
    topic::validate_append_topic,
    ttl::TTL,
};

/// One request, parsed.
#[derive(Debug)]
pub(crate) enum Route {
    /// `GET /`: stream frames.
    Read { options: ReadOptions, format: Format, with_timestamp: bool },
    /// `GET /last[/<topic>]`: the newest frame(s), or follow them.
    Last { topic: String, n: usize, follow: bool, with_timestamp: bool },
    /// `POST /append/<topic>`: the body is the payload.
    Append { topic: String, ttl: Option<TTL>, meta: Option<serde_json::Value>, with_timestamp: bool },
    /// `GET /cas/<hash>`.
    CasGet(Integrity),
    /// `POST /cas`: the body is the content.
    CasPost,
    /// `GET /<id>`.
    Get { id: Scru128Id, with_timestamp: bool },
    /// `DELETE /<id>`.
    Remove(Scru128Id),
    /// `POST /import[?with_scripts=true]`: the body is one frame's JSON;
    /// scripts are imported inert unless `with_scripts` says otherwise.
    Import(Scripts),
    /// `GET /version`.
    Version,
    /// `GET /processor`: every handler's and generator's state, as JSON.
    Processor,
    /// `POST /token/rotate`: a new token (served on the private socket only).
    TokenRotate,
}

/// Why a request has no route.
#[derive(Debug)]
pub(crate) enum Reject {
    /// No such route (404).
    NotFound,
    /// The route exists but the request is malformed (400).
    BadRequest(String),
}

impl From<BadParam> for Reject {
    fn from(e: BadParam) -> Self {
        Reject::BadRequest(e.to_string())
    }
}

impl From<StoreError> for Reject {
    fn from(e: StoreError) -> Self {
        Reject::BadRequest(e.to_string())
    }
}

/// Parses a request head into its route.
pub(crate) fn route(parts: &Parts) -> Result<Route, Reject> {
    let params = query::params(parts.uri.query());
    let with_timestamp = params.contains_key("with-timestamp");
    let path = parts.uri.path();
    match (&parts.method, path) {
        (&Method::GET, "/version") => Ok(Route::Version),
        (&Method::GET, "/processor") => Ok(Route::Processor),
        (&Method::GET, "/") => read(&params, &parts.headers, with_timestamp),
        (&Method::GET, "/last") => last(None, &params, with_timestamp),
        (&Method::POST, "/cas") => Ok(Route::CasPost),
        (&Method::POST, "/import") => Ok(Route::Import(scripts(&params)?)),
        (&Method::POST, "/token/rotate") => Ok(Route::TokenRotate),
        (&Method::GET, p) if p.starts_with("/last/") => last(Some(segment(p, "/last/")?), &params, with_timestamp),
        (&Method::GET, p) if p.starts_with("/cas/") => Ok(Route::CasGet(hash(&segment(p, "/cas/")?)?)),
        (&Method::POST, p) if p.starts_with("/append/") => {
            append(segment(p, "/append/")?, &params, &parts.headers, with_timestamp)
        }
        (&Method::GET, p) => Ok(Route::Get { id: id(&segment(p, "/")?)?, with_timestamp }),
        (&Method::DELETE, p) => Ok(Route::Remove(id(&segment(p, "/")?)?)),
        _ => Err(Reject::NotFound),
    }
}

fn read(params: &HashMap<String, String>, headers: &HeaderMap, with_timestamp: bool) -> Result<Route, Reject> {
    let options = ReadOptions::from_params(params)?;
    let accept = headers.get(hyper::header::ACCEPT).and_then(|v| v.to_str().ok());
    Ok(Route::Read { options, format: Format::from_accept(accept), with_timestamp })
}

/// `/last` takes `last=<n>` (default 1) and `follow`, like cross-stream.
fn last(topic: Option<String>, params: &HashMap<String, String>, with_timestamp: bool) -> Result<Route, Reject> {
    let n = params.get("last").map(|v| query::parse_count("last", v)).transpose()?.unwrap_or(1);
    let follow = params.get("follow").is_some_and(|v| !matches!(v.as_str(), "false" | "no"));
    let topic = topic.unwrap_or_else(|| "*".to_string());
    Ok(Route::Last { topic, n, follow, with_timestamp })
}

fn append(
    topic: String,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    with_timestamp: bool,
) -> Result<Route, Reject> {
    validate_append_topic(&topic)?;
    let ttl = params.get("ttl").map(|v| TTL::from_str(v)).transpose()?;
    let meta = headers.get("xs-meta").map(|v| meta(v.as_bytes())).transpose()?;
    Ok(Route::Append { topic, ttl, meta, with_timestamp })
}

/// `with_scripts` of `/import`: `true` (or no value) runs imported scripts;
/// absent or `false` imports them inert.
fn scripts(params: &HashMap<String, String>) -> Result<Scripts, Reject> {
    match params.get("with_scripts").map(String::as_str) {
        None | Some("false") => Ok(Scripts::Inert),
        Some("true" | "") => Ok(Scripts::Run),
        Some(other) => {
            Err(Reject::BadRequest(format!("invalid query parameter with_scripts={other:?}: expected true or false")))
        }
    }
}

/// The `xs-meta` header: base64 of a JSON object.
fn meta(header: &[u8]) -> Result<serde_json::Value, Reject> {
    let bad = |what: &str, e: &dyn std::fmt::Display| Reject::BadRequest(format!("xs-meta isn't valid {what}: {e}"));
    let decoded = base64::prelude::BASE64_STANDARD.decode(header).map_err(|e| bad("Base64", &e))?;
    let text = String::from_utf8(decoded).map_err(|e| bad("UTF-8", &e))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad("JSON", &e))?;
    match json_kind(&value) {
        None => Ok(value),
        Some(kind) => Err(StoreError::InvalidMeta { kind }.into()),
    }
}

/// What a JSON value is, unless it is an object (the only valid meta).
pub(crate) fn json_kind(value: &serde_json::Value) -> Option<&'static str> {
    use serde_json::Value;
    match value {
        Value::Object(_) => None,
        Value::Null => Some("null"),
        Value::Bool(_) => Some("a boolean"),
        Value::Number(_) => Some("a number"),
        Value::String(_) => Some("a string"),
        Value::Array(_) => Some("a list"),
    }
}

/// The percent-decoded rest of `path` after `prefix`.
fn segment(path: &str, prefix: &str) -> Result<String, Reject> {
    let raw = path.strip_prefix(prefix).unwrap_or_default();
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Reject::BadRequest(format!("path segment {raw:?} is not UTF-8")))
}

fn id(text: &str) -> Result<Scru128Id, Reject> {
    text.parse().map_err(|_| StoreError::InvalidId { id: text.to_string() }.into())
}

/// One sha256 SRI hash (see [`crate::hash`]).
pub(crate) fn hash(text: &str) -> Result<Integrity, Reject> {
    crate::hash::parse(text).map_err(Reject::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(method: Method, uri: &str) -> Result<Route, Reject> {
        let (parts, ()) = hyper::Request::builder().method(method).uri(uri).body(()).unwrap().into_parts();
        route(&parts)
    }

    #[test]
    fn routes_cross_stream_paths() {
        assert!(
            matches!(parse(Method::GET, "/last/a.*?last=3&follow=true"), Ok(Route::Last { topic, n: 3, follow: true, .. }) if topic == "a.*")
        );
        assert!(matches!(parse(Method::GET, "/last"), Ok(Route::Last { n: 1, follow: false, .. })));
        assert!(matches!(
            parse(Method::POST, "/append/a.b?ttl=last:2"),
            Ok(Route::Append { ttl: Some(TTL::Last(2)), .. })
        ));
        assert!(matches!(parse(Method::GET, &format!("/{}", scru128::new())), Ok(Route::Get { .. })));
        assert!(matches!(parse(Method::PUT, "/"), Err(Reject::NotFound)));
        assert!(matches!(parse(Method::GET, "/processor"), Ok(Route::Processor)));
        assert!(matches!(parse(Method::POST, "/token/rotate"), Ok(Route::TokenRotate)));
        assert!(matches!(parse(Method::POST, "/import"), Ok(Route::Import(Scripts::Inert))));
        assert!(matches!(parse(Method::POST, "/import?with_scripts=true"), Ok(Route::Import(Scripts::Run))));
    }

    #[test]
    fn rejects_malformed_heads() {
        for (method, uri) in [
            (Method::GET, "/nope"),
            (Method::DELETE, "/x"),
            (Method::POST, "/append/a..b"),
            (Method::POST, "/append/a?ttl=soon"),
            (Method::GET, "/cas/sha256-%%%"),
            (Method::GET, "/?limit=x"),
            (Method::POST, "/append/xs.pulse"),
            (Method::POST, "/append/xs.handler.h.active"),
            (Method::POST, "/import?with_scripts=maybe"),
        ] {
            assert!(matches!(parse(method, uri), Err(Reject::BadRequest(_))), "{uri}");
        }
    }

    #[test]
    fn meta_must_be_base64_json_object() {
        assert!(meta(b"eyJhIjoxfQ==").is_ok());
        for bad in [&b"%%"[..], b"bm90IGpzb24=", b"WzFd"] {
            assert!(meta(bad).is_err());
        }
    }
}
