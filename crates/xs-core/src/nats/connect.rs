//! Reaching a NATS server, for mirrors and replicas alike: one place that
//! connects (with credentials, and TLS for `tls://` URLs) and turns the
//! client's errors into [`StoreError::Nats`] with any credentials in the
//! URL redacted, so no password or token ever reaches a frame or a log line.
//!
//! Credentials come from a file (`creds`), read at connect time, its
//! contents going only to `async-nats`. Four kinds of file are understood,
//! told apart by their contents: a NATS `.creds` file (a user JWT and its
//! nkey seed), a bare nkey seed (`SU…`), `user:password` on one line, or a
//! token. A replica's URL may also carry `user:password@` (a mirror's may
//! not: its URL is stored in a frame); the client does not read them from
//! the URL itself, so they are applied here.
//!
//! A server refuses some things out of band: a request to a subject the
//! user may not publish to is dropped with an `-ERR 'Permissions
//! Violation …'` on the connection, and the request itself just times
//! out. [`Link`] keeps the server's last such error so an error can say why
//! ("… timed out; the server said: Permissions Violation for Publish to
//! $JS.API.STREAM.CREATE.XS").

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_nats::{Client, ConnectErrorKind, ConnectOptions, Event, ServerAddr};

use crate::error::{Result, StoreError};

/// How long a first connection may take before it is reported.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection's URL and the last error its server sent (see the module
/// docs), to explain a failed request.
#[derive(Clone)]
pub struct Link {
    url: String,
    said: Arc<Mutex<Option<String>>>,
}

impl Link {
    /// A [`StoreError::Nats`] for `action` failing with `error`, with what
    /// the server last said, if anything.
    pub fn error(&self, action: String, error: impl std::fmt::Display) -> StoreError {
        let said = self.said.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let reason = match said {
            Some(said) => format!("{error}; the server said: {said}"),
            None => error.to_string(),
        };
        StoreError::Nats { action, reason: redact_in(&self.url, &reason) }
    }

    /// A [`StoreError::Nats`] for using this connection, with what the
    /// server last said.
    pub(crate) fn failed(&self, reason: impl Into<String>) -> StoreError {
        self.error(format!("using {}", redact(&self.url)), reason.into())
    }

    fn hear(&self, event: Event) {
        if let Event::ServerError(error) = event {
            tracing::warn!(%error, "the NATS server reported an error");
            *self.said.lock().unwrap_or_else(|p| p.into_inner()) = Some(error.to_string());
        }
    }
}

/// A client of the server(s) at `url` (a comma list), named `name` on the
/// server, authenticated by the `creds` file or the URL's credentials.
///
/// # Errors
///
/// [`StoreError::Nats`]: unreachable, credentials refused, TLS failed, or
/// an unreadable creds file.
pub async fn connect(url: &str, creds: Option<&Path>, name: String) -> Result<(Client, Link)> {
    let link = Link { url: url.to_string(), said: Arc::default() };
    let heard = link.clone();
    let options = ConnectOptions::new().name(name).connection_timeout(CONNECT_TIMEOUT).event_callback(move |event| {
        heard.hear(event);
        std::future::ready(())
    });
    let mut options = match creds {
        Some(path) => with_credentials(options, path).await?,
        None => options,
    };
    let connecting = || format!("connecting to {}", redact(url));
    let servers = url
        .split(',')
        .map(|u| u.trim().parse::<ServerAddr>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| link.error(connecting(), connect_reason(ConnectErrorKind::ServerParse, &e.to_string())))?;
    options = with_url_credentials(options, &servers);
    let client = options.connect(servers).await;
    let client = client.map_err(|e| link.error(connecting(), connect_reason(e.kind(), &e.to_string())))?;
    Ok((client, link))
}

/// `options` with the credentials of the file at `path`.
async fn with_credentials(options: ConnectOptions, path: &Path) -> Result<ConnectOptions> {
    let unreadable = |e: std::io::Error| StoreError::Nats {
        action: format!("reading the creds file {}", path.display()),
        reason: e.kind().to_string(),
    };
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    if text.contains("BEGIN NATS USER JWT") {
        return options.credentials_file(path).await.map_err(unreadable);
    }
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default().to_string();
    Ok(if line.starts_with("SU") && !line.contains(':') {
        options.nkey(line)
    } else if let Some((user, password)) = line.split_once(':') {
        options.user_and_password(user.to_string(), password.to_string())
    } else {
        options.token(line)
    })
}

/// The user and password (or token) of the first URL that has them.
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
            "the server refused the credentials (authorization violation); check the creds file or the user in the URL"
                .into()
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
        let link = Link { url: url.into(), said: Arc::default() };
        let e = link.failed("io error at ann:s3cret@h1");
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }
}
