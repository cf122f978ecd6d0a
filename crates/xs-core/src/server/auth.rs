//! Who may use a listener other than the private socket: whoever presents
//! the store's token ([`token`](crate::server::token)).
//!
//! A request carries it as `Authorization: Bearer <token>`, or as the
//! password of HTTP basic auth with any user name (how cross-stream's CLI
//! sends the credentials of an `https://user:pass@host` URL). It is
//! compared in constant time; a missing or wrong one gets `401` with an
//! empty body and `WWW-Authenticate: Bearer`, nothing that tells a guesser
//! how close it came. The private `<store>/sock` asks for nothing: its
//! peers are the owner's user already (`gate.rs`).
//!
//! [`Keys`] holds the token in force and announces each change, so a
//! rotation does not only refuse new requests: every connection made on
//! an authenticated listener watches it and closes when it changes, live
//! follows included. Changes come from `POST /token/rotate` on the
//! private socket (at once) or from the token file, re-read every
//! [`RELOAD`](crate::server::token::RELOAD) (a rotation by another process).

use std::{
    convert::Infallible,
    path::{Path, PathBuf},
    sync::Arc,
};

use base64::Engine;
use hyper::{
    HeaderMap, Request, Response, StatusCode,
    body::Incoming,
    header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE},
};
use subtle::ConstantTimeEq;
use tokio::sync::watch;

use crate::{
    error::Result,
    server::{
        api::Api,
        response::{self, Body},
        token,
    },
};

/// The token in force for one store, and its changes.
pub(crate) struct Keys {
    dir: PathBuf,
    /// `None` until a listener needs it ([`Keys::load`]): then no request
    /// is allowed, and no token file is made for a store that never needs one.
    current: watch::Sender<Option<Arc<str>>>,
}

impl Keys {
    pub(crate) fn new(dir: &Path) -> Arc<Keys> {
        Arc::new(Keys { dir: dir.to_path_buf(), current: watch::Sender::new(None) })
    }

    /// Loads the token, creating it if the store has none.
    pub(crate) fn load(&self) -> Result<()> {
        let token = token::load_or_create(&self.dir)?;
        self.publish(token);
        Ok(())
    }

    /// Writes a new token and cuts every connection made with the old one.
    pub(crate) fn rotate(&self) -> Result<String> {
        let token = token::rotate(&self.dir)?;
        self.publish(token.clone());
        Ok(token)
    }

    /// Re-reads the token file (once loaded): another process may have
    /// rotated it. A file gone or unreadable keeps the token in force.
    pub(crate) fn reload(&self) {
        if self.current.borrow().is_none() {
            return;
        }
        match token::load(&self.dir) {
            Ok(Some(token)) => self.publish(token),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not re-read the token file; the token in force stays"),
        }
    }

    /// Announces `token` if it differs from the one in force.
    fn publish(&self, token: String) {
        let changed = self.current.send_if_modified(|current| {
            let changed = current.as_deref() != Some(token.as_str());
            if changed {
                *current = Some(token.into());
            }
            changed
        });
        if changed {
            tracing::debug!("the token in force changed");
        }
    }

    /// Tells when the token changes (from now on).
    pub(crate) fn subscribe(&self) -> watch::Receiver<Option<Arc<str>>> {
        self.current.subscribe()
    }

    /// True when `headers` present the token in force.
    pub(crate) fn allows(&self, headers: &HeaderMap) -> bool {
        let current = self.current.borrow();
        match (current.as_deref(), presented(headers)) {
            (Some(token), Some(given)) => bool::from(token.as_bytes().ct_eq(&given)),
            _ => false,
        }
    }
}

/// The token a request presents: a Bearer token, or a basic-auth password.
fn presented(headers: &HeaderMap) -> Option<Vec<u8>> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credentials) = value.split_once(' ')?;
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(credentials.as_bytes().to_vec());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::prelude::BASE64_STANDARD.decode(credentials).ok()?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    Some(decoded[colon + 1..].to_vec())
}

/// Answers `request` with `api` if it presents the token (or `keys` is
/// `None`: a listener that needs none), else `401`.
pub(crate) async fn guarded(
    keys: Option<Arc<Keys>>,
    peer: Arc<str>,
    api: Api,
    request: Request<Incoming>,
) -> std::result::Result<Response<Body>, Infallible> {
    if let Some(keys) = keys
        && !keys.allows(request.headers())
    {
        tracing::warn!(%peer, method = %request.method(), path = request.uri().path(), "a request without the token: answered 401");
        drain(request.into_body()).await;
        return Ok(unauthorized());
    }
    api.handle(request).await
}

/// How much of a refused request's body is read (and dropped) before the
/// `401`, and for how long at most.
const DRAIN: (usize, std::time::Duration) = (64 * 1024, std::time::Duration::from_secs(1));

/// Reads a refused request's body up to [`DRAIN`]: a client still writing
/// a small payload then reads the `401` instead of a broken pipe. A larger
/// or slower one is cut off, as before.
async fn drain(body: Incoming) {
    use http_body_util::BodyExt;
    let _ = tokio::time::timeout(DRAIN.1, http_body_util::Limited::new(body, DRAIN.0).collect()).await;
}

/// `401`, empty, with the scheme to use.
fn unauthorized() -> Response<Body> {
    let mut response = response::empty(StatusCode::UNAUTHORIZED);
    response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn bearer_or_basic_password_only() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::new(dir.path());
        assert!(!keys.allows(&headers("Bearer x")), "nothing is allowed before the token is loaded");
        keys.load().unwrap();
        let token = token::load(dir.path()).unwrap().unwrap();
        let basic = |user_pass: &str| format!("Basic {}", base64::prelude::BASE64_STANDARD.encode(user_pass));
        assert!(keys.allows(&headers(&format!("Bearer {token}"))));
        assert!(keys.allows(&headers(&format!("bearer  {token} "))));
        assert!(keys.allows(&headers(&basic(&format!("anyone:{token}")))));
        assert!(keys.allows(&headers(&basic(&format!(":{token}")))));
        for wrong in [
            format!("Bearer {}", &token[1..]),
            format!("Bearer {token}x"),
            basic(&format!("{token}:nope")),
            basic(&token),
            format!("Token {token}"),
            token.clone(),
        ] {
            assert!(!keys.allows(&headers(&wrong)), "{wrong}");
        }
        assert!(!keys.allows(&HeaderMap::new()));
    }

    #[test]
    fn rotation_is_announced_and_the_old_token_refused() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::new(dir.path());
        keys.load().unwrap();
        let old = token::load(dir.path()).unwrap().unwrap();
        let changes = keys.subscribe();
        keys.reload();
        assert!(!changes.has_changed().unwrap(), "re-reading an unchanged file announces nothing");
        let new = token::rotate(dir.path()).unwrap();
        keys.reload();
        assert!(changes.has_changed().unwrap());
        assert!(!keys.allows(&headers(&format!("Bearer {old}"))));
        assert!(keys.allows(&headers(&format!("Bearer {new}"))));
    }
}
