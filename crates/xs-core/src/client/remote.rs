//! A store served over the network: its address (`http(s)://host:port`,
//! or `iroh://<ticket>` with feature `iroh`), the token that opens it, and
//! which TLS certificates the client trusts.
//!
//! A [`Remote`] is only a description; [`Client::remote`](crate::client::Client::remote)
//! turns it into a client. It keeps this invariant: what is sent to the
//! server is decided here, once, so the token is never written where a log
//! or a `Debug` print could show it.

use std::{fmt, path::PathBuf, str::FromStr};

use crate::error::{Result, StoreError};

/// Where a remote store is and how to reach it.
///
/// ```
/// use xs_core::client::{Fingerprint, Remote, Trust};
/// let pin: Fingerprint = "ab".repeat(32).parse()?;
/// let remote = Remote::new("https://store.example:3021")?.token("s3cret").trust(Trust::Fingerprint(pin));
/// assert_eq!(remote.url(), "https://store.example:3021");
/// assert!(!format!("{remote:?}").contains("s3cret"));
/// # Ok::<(), xs_core::StoreError>(())
/// ```
#[derive(Clone)]
pub struct Remote {
    /// `scheme://host[:port]`, no trailing slash: requests append their
    /// path; `iroh://<ticket>` for an iroh store (its requests go to
    /// `http://<endpoint id>` over the ticket's endpoint).
    pub(crate) base: String,
    pub(crate) token: Option<String>,
    pub(crate) trust: Trust,
}

/// Which server certificates an `https://` client accepts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trust {
    /// Certificates that chain to the operating system's roots.
    #[default]
    System,
    /// Certificates that chain to one in this PEM file (a private CA, or a
    /// server's own self-signed certificate).
    Ca(PathBuf),
    /// Exactly the certificate with this SHA-256 fingerprint, whoever
    /// signed it: how a self-signed listener is trusted without a file.
    Fingerprint(Fingerprint),
}

/// The SHA-256 digest of a certificate (its DER bytes).
///
/// Parsed from 64 hex digits, upper or lower case, optionally separated by
/// `:` and optionally prefixed `sha256:`, as `openssl x509 -fingerprint
/// -sha256` and most tools print it; shown as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Remote {
    /// A remote store at `url`: `http://host:port` or `https://host:port`
    /// (a trailing `/` is allowed). A password in the URL
    /// (`https://user:token@host:port`, as cross-stream's CLI takes it) is
    /// the token. With feature `iroh`, `iroh://<ticket>` is the store
    /// whose owner printed that ticket (its `iroh://` listener). Nothing is
    /// contacted yet.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidRemote`] for another scheme, a path, no host,
    /// or a ticket that does not parse (or `iroh://` in a build without
    /// iroh).
    pub fn new(url: &str) -> Result<Remote> {
        let invalid = |reason: &str| StoreError::InvalidRemote { given: redact(url), reason: reason.into() };
        let (scheme, rest) =
            url.split_once("://").ok_or_else(|| invalid("expected http://host:port or https://host:port"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme == "iroh" {
            return ticketed(rest.strip_suffix('/').unwrap_or(rest)).map_err(|reason| invalid(&reason));
        }
        if scheme != "http" && scheme != "https" {
            return Err(invalid("the scheme must be http, https or iroh"));
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(invalid("a store URL has no path: give only scheme://host:port"));
        }
        let (token, host) = match authority.rsplit_once('@') {
            Some((user, host)) => (user.split_once(':').map(|(_, password)| password.to_string()), host),
            None => (None, authority),
        };
        if host.is_empty() || host.starts_with(':') {
            return Err(invalid("no host"));
        }
        Ok(Remote { base: format!("{scheme}://{host}"), token: token.filter(|t| !t.is_empty()), trust: Trust::System })
    }

    /// True when `location` names a remote store (`http://`, `https://`
    /// or `iroh://`) rather than a directory.
    pub fn is_url(location: &str) -> bool {
        let lower = location.get(..8).unwrap_or(location).to_ascii_lowercase();
        ["http://", "https://", "iroh://"].iter().any(|scheme| lower.starts_with(scheme))
    }

    /// Sends `token` (surrounding whitespace trimmed, as `<store>/token`
    /// is read) as `Authorization: Bearer <token>`.
    #[must_use]
    pub fn token(mut self, token: impl AsRef<str>) -> Remote {
        let token = token.as_ref().trim();
        self.token = (!token.is_empty()).then(|| token.to_string());
        self
    }

    /// Which certificates to trust for `https://` (default: the system's roots).
    #[must_use]
    pub fn trust(mut self, trust: Trust) -> Remote {
        self.trust = trust;
        self
    }

    /// The store's URL, `scheme://host:port`, without credentials.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// True for `https://`.
    pub(crate) fn is_tls(&self) -> bool {
        self.base.starts_with("https://")
    }

    /// The ticket of an `iroh://` store.
    #[cfg(feature = "iroh")]
    pub(crate) fn ticket(&self) -> Option<&str> {
        self.base.strip_prefix("iroh://")
    }
}

/// The remote store `iroh://<ticket>`, once the ticket parses.
#[cfg(feature = "iroh")]
fn ticketed(ticket: &str) -> std::result::Result<Remote, String> {
    crate::quic::dialer::parse(ticket)?;
    Ok(Remote { base: format!("iroh://{ticket}"), token: None, trust: Trust::System })
}

#[cfg(not(feature = "iroh"))]
fn ticketed(_ticket: &str) -> std::result::Result<Remote, String> {
    Err("this xs was built without iroh (cargo feature `iroh`)".into())
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let token = self.token.as_ref().map(|_| "<token>");
        f.debug_struct("Remote").field("url", &self.base).field("token", &token).field("trust", &self.trust).finish()
    }
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

/// `url` with any credentials replaced, for error messages.
fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://<credentials>@{host}"),
        _ => url.to_string(),
    }
}

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of(der: &[u8]) -> Fingerprint {
        use sha2::Digest;
        Fingerprint(sha2::Sha256::digest(der).into())
    }
}

impl FromStr for Fingerprint {
    type Err = StoreError;

    /// # Errors
    ///
    /// [`StoreError::InvalidRemote`] unless it is 32 bytes of hex.
    fn from_str(text: &str) -> Result<Fingerprint> {
        let invalid = || StoreError::InvalidRemote {
            given: text.to_string(),
            reason: "a fingerprint is 64 hex digits (SHA-256), optionally with ':' between bytes".into(),
        };
        let trimmed = text.trim();
        let hex = trimmed.strip_prefix("sha256:").or_else(|| trimmed.strip_prefix("SHA256:")).unwrap_or(trimmed);
        let digits: Vec<u8> = hex.bytes().filter(|b| *b != b':').collect();
        if digits.len() != 64 {
            return Err(invalid());
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| invalid())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| invalid())?;
        }
        Ok(Fingerprint(bytes))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_store_urls() {
        let remote = Remote::new("HTTPS://user:tok@h:3021/").unwrap();
        assert_eq!((remote.url(), remote.token.as_deref()), ("https://h:3021", Some("tok")));
        assert_eq!(Remote::new("http://127.0.0.1:1").unwrap().url(), "http://127.0.0.1:1");
        for bad in ["ftp://h:1", "h:1", "http://h:1/x", "http://", "http://:1"] {
            assert!(matches!(Remote::new(bad), Err(StoreError::InvalidRemote { .. })), "{bad}");
        }
        assert!(Remote::is_url("http://x") && Remote::is_url("HTTPS://x") && !Remote::is_url("/tmp/s"));
    }

    #[test]
    fn never_shows_the_token() {
        let remote = Remote::new("http://h:1").unwrap().token(" t0ken\n");
        assert_eq!(remote.token.as_deref(), Some("t0ken"));
        assert!(!format!("{remote:?}{remote}").contains("t0ken"));
        let err = Remote::new("ftp://u:t0ken@h").err().unwrap().to_string();
        assert!(!err.contains("t0ken"), "{err}");
    }

    #[test]
    fn parses_fingerprints_in_the_usual_spellings() {
        let hex = "0f".repeat(32);
        let colons = vec!["0F"; 32].join(":");
        let a: Fingerprint = hex.parse().unwrap();
        assert_eq!(a, colons.parse().unwrap());
        assert_eq!(a, format!("sha256:{hex}").parse().unwrap());
        assert_eq!(a.to_string(), hex);
        assert!("0f".parse::<Fingerprint>().is_err() && "zz".repeat(32).parse::<Fingerprint>().is_err());
    }
}
