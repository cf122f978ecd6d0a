//! Reaching a NATS server: one place that connects (with a creds file, and
//! TLS for `tls://` URLs) and turns the client's errors into
//! [`StoreError::Nats`], with any credentials in the URL redacted, so no
//! password or token ever reaches a frame or a log line.

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_nats::{Client, ConnectErrorKind, ConnectOptions, Event, ServerAddr};

use crate::error::{Result, StoreError};

/// How long a first connection may take before it is reported.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection's URL and the last error its server sent, to explain a
/// failed request: a permissions violation is only reported that way (the
/// request itself just times out).
#[derive(Clone)]
pub(crate) struct Link {
    url: String,
    said: Arc<Mutex<Option<String>>>,
}

impl Link {
    /// [`StoreError::Nats`] for this connection, with what the server said.
    pub(crate) fn failed(&self, reason: impl Into<String>) -> StoreError {
        let said = self.said.lock().ok().and_then(|mut said| said.take());
        match said {
            Some(said) => failed(&self.url, format!("{}; the server said: {said}", reason.into())),
            None => failed(&self.url, reason),
        }
    }
}

/// A client of the server(s) at `url` (a comma list), authenticated by
/// the `creds` file when given.
///
/// # Errors
///
/// [`StoreError::Nats`]: unreachable, credentials refused, TLS failed, or
/// an unreadable creds file.
pub(crate) async fn connect(url: &str, creds: Option<&Path>) -> Result<(Client, Link)> {
    let link = Link { url: url.to_string(), said: Arc::default() };
    let said = link.said.clone();
    let mut options = ConnectOptions::new().connection_timeout(CONNECT_TIMEOUT).event_callback(move |event| {
        if let Event::ServerError(e) = event
            && let Ok(mut said) = said.lock()
        {
            *said = Some(e.to_string());
        }
        async {}
    });
    if let Some(creds) = creds {
        options = options
            .credentials_file(creds)
            .await
            .map_err(|e| failed(url, format!("cannot read the creds file {}: {e}", creds.display())))?;
    }
    let servers = url
        .split(',')
        .map(|u| u.trim().parse::<ServerAddr>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| failed(url, connect_reason(ConnectErrorKind::ServerParse, &e.to_string())))?;
    options = with_url_credentials(options, &servers);
    let client = options.connect(servers).await.map_err(|e| failed(url, connect_reason(e.kind(), &e.to_string())))?;
    Ok((client, link))
}

/// The user and password (or token) of the first URL that has them: the
/// client does not read them from the URL itself.
fn with_url_credentials(options: ConnectOptions, servers: &[ServerAddr]) -> ConnectOptions {
    let Some(server) = servers.iter().find(|s| s.username().is_some()) else { return options };
    let user = server.username().unwrap_or_default().to_string();
    match server.password() {
        Some(password) => options.user_and_password(user, password.to_string()),
        None => options.token(user),
    }
}

/// What a failed connection means, and what to check.
fn connect_reason(kind: ConnectErrorKind, detail: &str) -> String {
    match kind {
        ConnectErrorKind::AuthorizationViolation | ConnectErrorKind::Authentication => {
            "the server refused the credentials (authorization violation); check --creds or the user in the URL".into()
        }
        ConnectErrorKind::Io | ConnectErrorKind::TimedOut | ConnectErrorKind::Dns => {
            format!("cannot connect ({detail}); check that nats-server runs at that address")
        }
        ConnectErrorKind::ServerParse => {
            format!("not a NATS URL ({detail}); expected nats://host:port or tls://host:port")
        }
        _ => format!("cannot connect: {detail}"),
    }
}

/// [`StoreError::Nats`] for `url`, redacted.
pub(crate) fn failed(url: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Nats { url: redact(url), reason: redact_in(url, &reason.into()) }
}

/// `url` with any `user:password@` (or token) replaced, in every entry of
/// a comma list.
pub(crate) fn redact(url: &str) -> String {
    let one = |u: &str| match (u.split_once("://"), u.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://<credentials>@{host}"),
        _ => u.to_string(),
    };
    url.split(',').map(|u| one(u.trim())).collect::<Vec<_>>().join(",")
}

/// `text` with the credentials of `url` taken out, should the client have
/// quoted them.
fn redact_in(url: &str, text: &str) -> String {
    url.split(',')
        .filter_map(|u| u.split_once("://").and_then(|(_, rest)| rest.rsplit_once('@')).map(|(secret, _)| secret))
        .filter(|secret| !secret.is_empty())
        .fold(text.to_string(), |text, secret| text.replace(secret, "<credentials>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_survive_redaction() {
        let url = "nats://ann:s3cret@h1:4222, tls://tok@h2:4222";
        assert_eq!(redact(url), "nats://<credentials>@h1:4222,tls://<credentials>@h2:4222");
        let e = failed(url, "io error at ann:s3cret@h1");
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }
}
