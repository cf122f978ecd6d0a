//! Connecting a mirror to NATS, with the credentials from its `creds` file.
//!
//! The file is read at connect time and its contents go only to
//! `async-nats`: never into a frame, an error or a log line. Four kinds of
//! file are understood, told apart by their contents: a NATS `.creds` file
//! (a user JWT and its nkey seed), a bare nkey seed (`SU…`), `user:password`
//! on one line, or a token.
//!
//! A server refuses some things out of band: a request to a subject the
//! user may not publish to is dropped with an `-ERR 'Permissions
//! Violation …'` on the connection, and the request itself just times
//! out. [`Said`] keeps the server's last such error so the mirror's error
//! can say why ("… timed out; the server said: Permissions Violation for
//! Publish to $JS.API.STREAM.CREATE.XS").

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_nats::{Client, ConnectOptions, Event};

use crate::{StoreError, error::Result, nats::config::MirrorConfig};

/// How long a connection attempt may take before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The last error a server sent on a connection (see the module docs).
#[derive(Clone, Default)]
pub struct Said(Arc<Mutex<Option<String>>>);

impl Said {
    /// A [`StoreError::Nats`] for `action` failing with `error`, with what
    /// the server last said, if anything.
    pub fn error(&self, action: String, error: impl std::fmt::Display) -> StoreError {
        let said = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let reason = match said {
            Some(said) => format!("{error}; the server said: {said}"),
            None => error.to_string(),
        };
        StoreError::Nats { action, reason }
    }

    fn hear(&self, event: Event) {
        if let Event::ServerError(error) = event {
            tracing::warn!(%error, "the NATS server reported an error");
            *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(error.to_string());
        }
    }
}

/// A client connected to `config.url`, authenticated as the creds file
/// says, and what its server says about refused operations.
///
/// # Errors
///
/// [`StoreError::Nats`]: the creds file cannot be read, no server
/// answers, or the server refuses the credentials.
pub async fn connect(config: &MirrorConfig, name: &str) -> Result<(Client, Said)> {
    let said = Said::default();
    let heard = said.clone();
    let options = ConnectOptions::new()
        .name(format!("xs-mirror-{name}"))
        .connection_timeout(CONNECT_TIMEOUT)
        .event_callback(move |event| {
            heard.hear(event);
            std::future::ready(())
        });
    let options = match &config.creds {
        Some(path) => with_credentials(options, path).await?,
        None => options,
    };
    let urls: Vec<&str> = config.url.split(',').map(str::trim).collect();
    let client = options.connect(urls).await;
    let client = client
        .map_err(|e| StoreError::Nats { action: format!("connecting to {}", config.url), reason: e.to_string() })?;
    Ok((client, said))
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
