//! Connecting a mirror to NATS, with the credentials from its `creds` file.
//!
//! The file is read at connect time and its contents go only to
//! `async-nats`: never into a frame, an error or a log line. Four kinds of
//! file are understood, told apart by their contents: a NATS `.creds` file
//! (a user JWT and its nkey seed), a bare nkey seed (`SU…`), `user:password`
//! on one line, or a token.

use std::{path::Path, time::Duration};

use async_nats::{Client, ConnectOptions};

use crate::{StoreError, error::Result, nats::config::MirrorConfig};

/// How long a connection attempt may take before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A client connected to `config.url`, authenticated as the creds file says.
///
/// # Errors
///
/// [`StoreError::Nats`]: the creds file cannot be read, no server
/// answers, or the server refuses the credentials.
pub async fn connect(config: &MirrorConfig, name: &str) -> Result<Client> {
    let options = ConnectOptions::new().name(format!("xs-mirror-{name}")).connection_timeout(CONNECT_TIMEOUT);
    let options = match &config.creds {
        Some(path) => with_credentials(options, path).await?,
        None => options,
    };
    let urls: Vec<&str> = config.url.split(',').map(str::trim).collect();
    options
        .connect(urls)
        .await
        .map_err(|e| StoreError::Nats { action: format!("connecting to {}", config.url), reason: e.to_string() })
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
