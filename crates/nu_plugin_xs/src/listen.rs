//! The listeners a shell serves when it becomes a store's owner, besides
//! `<store>/sock`: from `xs serve`'s flags, or else from the plugin
//! config, so that an owning shell is reachable as `xs serve` would be:
//!
//! ```nu
//! $env.config.plugins.xs = {
//!     listen: ["tcp://127.0.0.1:3021", "https://0.0.0.0:3022"]
//!     self_signed: true          # or cert: <path>, key: <path>
//! }
//! ```
//!
//! A shell that finds the store already owned uses it as a client, and
//! these only matter if it takes over later.

use std::path::PathBuf;

use nu_plugin::{EngineInterface, EvaluatedCall};
use nu_protocol::{LabeledError, Span, Spanned, Value};
use xs_core::server::{Listen, ServeOptions, Tls};

use crate::{error, location};

/// What an owning shell serves besides its socket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    /// The listeners (`ServeOptions::listen`).
    pub listen: Vec<Listen>,
    /// The `https://` listeners' certificate.
    pub tls: Option<Tls>,
    /// Serve the listeners without the token (loopback only).
    pub no_auth: bool,
}

impl Reach {
    /// `options` serving this reach too.
    pub fn apply(&self, options: ServeOptions) -> ServeOptions {
        ServeOptions { listen: self.listen.clone(), tls: self.tls.clone(), no_auth: self.no_auth, ..options }
    }

    /// The reach `xs serve`'s flags ask for: `--listen` (one address or a
    /// list), `--cert`/`--key`, `--self-signed`, `--no-auth`.
    ///
    /// # Errors
    ///
    /// An address that does not parse, or `--cert` without `--key`,
    /// labelled at the flag.
    pub fn from_flags(engine: &EngineInterface, call: &EvaluatedCall) -> Result<Reach, LabeledError> {
        let listen = match call.get_flag_value("listen") {
            Some(value) => addresses(&value)?,
            None => Vec::new(),
        };
        let cert = path_flag(engine, call, "cert")?;
        let key = path_flag(engine, call, "key")?;
        let tls = tls(cert, key, call.has_flag("self-signed")?, call.head)?;
        Ok(Reach { listen, tls, no_auth: call.has_flag("no-auth")? })
    }

    /// The reach the plugin config asks for (keys `listen`, `cert`, `key`,
    /// `self_signed`); none when it has no `listen`.
    ///
    /// # Errors
    ///
    /// A malformed `listen` value, labelled where the config set it.
    pub fn configured(engine: &EngineInterface) -> Result<Reach, LabeledError> {
        let Some(Value::Record { val: config, .. }) = engine.get_plugin_config()? else {
            return Ok(Reach::default());
        };
        let Some(listen) = config.get("listen") else { return Ok(Reach::default()) };
        let listen = addresses(listen)?;
        let path = |key: &str| -> Result<Option<Spanned<PathBuf>>, LabeledError> {
            let Some(value) = config.get(key) else { return Ok(None) };
            let text = value.coerce_str().map_err(LabeledError::from)?;
            Ok(Some(Spanned { item: location::user_path(engine, &text)?, span: value.span() }))
        };
        let self_signed = config.get("self_signed").is_some_and(|v| v.as_bool().unwrap_or(false));
        let span = config.get("listen").map_or(Span::unknown(), Value::span);
        Ok(Reach { listen, tls: tls(path("cert")?, path("key")?, self_signed, span)?, no_auth: false })
    }
}

/// One address or a list of them.
fn addresses(value: &Value) -> Result<Vec<Listen>, LabeledError> {
    let parse = |v: &Value| -> Result<Listen, LabeledError> {
        let text = v.coerce_str().map_err(LabeledError::from)?;
        text.parse().map_err(error::at(v.span()))
    };
    match value {
        Value::List { vals, .. } => vals.iter().map(parse).collect(),
        single => Ok(vec![parse(single)?]),
    }
}

fn path_flag(
    engine: &EngineInterface,
    call: &EvaluatedCall,
    name: &str,
) -> Result<Option<Spanned<PathBuf>>, LabeledError> {
    let Some(flag) = call.get_flag::<Spanned<String>>(name)? else { return Ok(None) };
    Ok(Some(Spanned { item: location::user_path(engine, &flag.item)?, span: flag.span }))
}

/// The certificate source the flags or config name.
fn tls(
    cert: Option<Spanned<PathBuf>>,
    key: Option<Spanned<PathBuf>>,
    self_signed: bool,
    head: Span,
) -> Result<Option<Tls>, LabeledError> {
    match (cert, key, self_signed) {
        (Some(cert), Some(key), false) => Ok(Some(Tls::Pem { cert: cert.item, key: key.item })),
        (None, None, true) => Ok(Some(Tls::SelfSigned)),
        (None, None, false) => Ok(None),
        (Some(_), Some(_), true) => Err(error::invalid("--self-signed and --cert/--key", "pick one", head)),
        (Some(only), None, _) | (None, Some(only), _) => {
            Err(error::invalid("a certificate needs both its files", "give --cert and --key together", only.span))
        }
    }
}
