//! Which store a command works on.
//!
//! In order: `--store <path or url>`, `$env.XS_STORE`, the plugin config
//! (`$env.config.plugins.xs.store`), then the platform data dir
//! (`$XDG_DATA_HOME/xs`, else `~/.local/share/xs`). Environment and
//! current directory are the user's, asked of the engine: the plugin
//! process's own are not the shell's. A relative path resolves against the
//! user's current directory.
//!
//! A store given as `http://host:port` or `https://host:port` is remote:
//! its token comes from `--token`, `$env.XS_TOKEN`, or the config's
//! `token`; an `https://` store's certificate is checked against the
//! system's roots, or the PEM file in `$env.XS_CA` (config `ca`), or the
//! SHA-256 fingerprint in `$env.XS_FINGERPRINT` (config `fingerprint`).

use std::path::{Component, Path, PathBuf};

use nu_plugin::{EngineInterface, EvaluatedCall};
use nu_protocol::{LabeledError, Span, Spanned, Value};
use xs_core::client::{Remote, Trust};

use crate::error::{at, invalid};

/// Where a command's store is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    /// A directory on this machine.
    Dir(PathBuf),
    /// A store served at a URL.
    Url(Url),
}

/// A remote store and what it takes to reach it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Url {
    pub url: String,
    pub token: Option<String>,
    pub ca: Option<PathBuf>,
    pub fingerprint: Option<String>,
}

impl Url {
    /// The xs-core description of this store, its trust chosen: a pinned
    /// fingerprint, else a CA file, else the system's roots.
    ///
    /// # Errors
    ///
    /// An invalid URL or fingerprint, labeled at `span`.
    pub fn remote(&self, span: Span) -> Result<Remote, LabeledError> {
        let mut remote = Remote::new(&self.url).map_err(at(span))?;
        if let Some(token) = &self.token {
            remote = remote.token(token);
        }
        let trust = match (&self.fingerprint, &self.ca) {
            (Some(pin), _) => Trust::Fingerprint(pin.parse().map_err(at(span))?),
            (None, Some(ca)) => Trust::Ca(ca.clone()),
            (None, None) => Trust::System,
        };
        Ok(remote.trust(trust))
    }
}

/// The store for `call`, with the span to blame when it is unusable
/// (the `--store` value, or the command when it came from elsewhere).
///
/// # Errors
///
/// When the engine cannot be asked, or no home directory is known.
pub fn store_place(engine: &EngineInterface, call: &EvaluatedCall) -> Result<Spanned<Place>, LabeledError> {
    let (raw, span) = match call.get_flag::<Spanned<String>>("store")? {
        Some(flag) => (flag.item, flag.span),
        None => (configured(engine, call.head)?.to_string_lossy().into_owned(), call.head),
    };
    let item = match url(&raw) {
        Some(url) => Place::Url(remote(engine, call, url)?),
        None => Place::Dir(user_path(engine, &raw)?),
    };
    Ok(Spanned { item, span })
}

/// `raw` as a store URL, if it is one. Nushell expands an unquoted
/// `--store http://h:1` (or `iroh://<ticket>`) as a path, which collapses
/// `//` to `/`: that spelling is taken back.
fn url(raw: &str) -> Option<String> {
    if Remote::is_url(raw) {
        return Some(raw.to_string());
    }
    let (scheme, rest) = raw.split_once(":/")?;
    let scheme = scheme.to_ascii_lowercase();
    (matches!(scheme.as_str(), "http" | "https" | "iroh") && !rest.starts_with('/'))
        .then(|| format!("{scheme}://{rest}"))
}

/// `url` with its token and trust, from the flag, the environment or the config.
fn remote(engine: &EngineInterface, call: &EvaluatedCall, url: String) -> Result<Url, LabeledError> {
    let config = engine.get_plugin_config()?;
    let setting = |env: &str, key: &str| -> Result<Option<String>, LabeledError> {
        Ok(env_string(engine, env)?.or_else(|| config.as_ref().and_then(|c| config_key(c, key))))
    };
    let token = match call.get_flag::<String>("token")? {
        Some(token) => Some(token),
        None => setting("XS_TOKEN", "token")?,
    };
    let ca = setting("XS_CA", "ca")?.map(|ca| user_path(engine, &ca)).transpose()?;
    Ok(Url { url, token, ca, fingerprint: setting("XS_FINGERPRINT", "fingerprint")? })
}

/// `raw`, a path the user typed, made absolute against their directory.
///
/// # Errors
///
/// When the engine cannot be asked.
pub fn user_path(engine: &EngineInterface, raw: &str) -> Result<PathBuf, LabeledError> {
    let home = env_string(engine, "HOME")?;
    let cwd = PathBuf::from(engine.get_current_dir()?);
    Ok(absolute(&cwd, &expand_tilde(raw, home.as_deref())))
}

/// The path from the environment, the plugin config, or the data dir.
fn configured(engine: &EngineInterface, head: Span) -> Result<PathBuf, LabeledError> {
    if let Some(path) = env_string(engine, "XS_STORE")? {
        return Ok(PathBuf::from(path));
    }
    if let Some(path) = engine.get_plugin_config()?.as_ref().and_then(config_store) {
        return Ok(PathBuf::from(path));
    }
    if let Some(data) = env_string(engine, "XDG_DATA_HOME")? {
        return Ok(Path::new(&data).join("xs"));
    }
    match env_string(engine, "HOME")? {
        Some(home) => Ok(Path::new(&home).join(".local/share/xs")),
        None => Err(invalid("no store given and no home directory", "which store?", head)
            .with_help("pass --store <path> or set $env.XS_STORE")),
    }
}

/// `store` from the plugin's config record (or the config itself, as a string).
fn config_store(config: &Value) -> Option<String> {
    match config {
        Value::String { val, .. } => Some(val.clone()),
        _ => config_key(config, "store"),
    }
}

/// The string at `key` of the plugin's config record.
fn config_key(config: &Value, key: &str) -> Option<String> {
    match config {
        Value::Record { val, .. } => val.get(key).and_then(|v| v.as_str().ok()).map(String::from),
        _ => None,
    }
}

fn env_string(engine: &EngineInterface, name: &str) -> Result<Option<String>, LabeledError> {
    let value = engine.get_env_var(name)?;
    Ok(value.and_then(|v| v.coerce_into_string().ok()).filter(|s| !s.is_empty()))
}

/// `~` and `~/…` against the user's home, as Nushell expands paths it parses.
fn expand_tilde(path: &str, home: Option<&str>) -> PathBuf {
    match (path.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => PathBuf::from(format!("{home}{rest}")),
        _ => PathBuf::from(path),
    }
}

/// `path` against `cwd`, with `.` and `..` resolved lexically, as Nushell
/// resolves the paths it expands.
fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in cwd.join(path).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nu_protocol::record;

    #[test]
    fn relative_paths_resolve_against_the_users_cwd() {
        assert_eq!(absolute(Path::new("/home/u"), Path::new("s")), PathBuf::from("/home/u/s"));
        assert_eq!(absolute(Path::new("/home/u"), Path::new("/s")), PathBuf::from("/s"));
        assert_eq!(absolute(Path::new("/home/u/a"), Path::new("../s/./t")), PathBuf::from("/home/u/s/t"));
    }

    #[test]
    fn tilde_means_the_users_home() {
        assert_eq!(expand_tilde("~/s", Some("/home/u")), PathBuf::from("/home/u/s"));
        assert_eq!(expand_tilde("~", Some("/home/u")), PathBuf::from("/home/u"));
        assert_eq!(expand_tilde("~x/s", Some("/home/u")), PathBuf::from("~x/s"));
    }

    #[test]
    fn urls_are_remote_stores_even_when_expanded_as_paths() {
        assert_eq!(url("http://h:1"), Some("http://h:1".into()));
        assert_eq!(url("https:/h:1"), Some("https://h:1".into()));
        assert_eq!(url("/srv/store"), None);
        assert_eq!(url("http:rel"), None);
    }

    #[test]
    fn config_takes_a_record_or_a_string() {
        let record = Value::test_record(record! {"store" => Value::test_string("/x")});
        assert_eq!(config_store(&record), Some("/x".into()));
        assert_eq!(config_store(&Value::test_string("/y")), Some("/y".into()));
        assert_eq!(config_store(&Value::test_int(1)), None);
    }
}
