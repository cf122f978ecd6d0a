//! Logging set-up for a program that embeds xs-core (feature `trace`).
//!
//! xs-core reports through `tracing` and installs nothing itself: a library
//! must not decide where its host's logs go. A host that has no logging of
//! its own makes one call, [`init`], and gets `tracing`'s formatter behind
//! an env filter, writing to stderr or to a file. Never to stdout: a Nushell
//! plugin's stdout is its protocol channel, and an app's stdout is its own.
//!
//! The filter is read from `XS_LOG`, else `RUST_LOG` (the usual directives:
//! `debug`, `xs_core=debug,warn`, …), else [`DEFAULT_FILTER`]. A filter
//! that does not parse is not fatal, so a typo in the environment cannot
//! stop a store from being served: the default is used, and the first
//! line logged says what was wrong.

use std::{
    fs::{File, OpenOptions},
    io::IsTerminal,
    os::unix::fs::OpenOptionsExt,
    path::PathBuf,
    sync::Mutex,
};

use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

use crate::error::Result;

/// What is logged when neither `XS_LOG` nor `RUST_LOG` is set: xs's own
/// news, and only warnings from the storage engine underneath (fjall logs
/// each database it creates and each table it writes at `info`).
pub const DEFAULT_FILTER: &str = "info,fjall=warn,lsm_tree=warn";

/// The variables read for the filter, first one set wins.
const FILTER_VARS: [&str; 2] = ["XS_LOG", "RUST_LOG"];

/// Where logs go: build one with [`Trace::stderr`] or [`Trace::file`],
/// then pass it to [`init`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    target: Target,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Stderr,
    File(PathBuf),
}

impl Trace {
    /// Logs to stderr, coloured when it is a terminal.
    pub fn stderr() -> Trace {
        Trace { target: Target::Stderr }
    }

    /// Logs appended to the file `path` (created 0600 if missing: logs name
    /// stores and topics), without colours.
    pub fn file(path: impl Into<PathBuf>) -> Trace {
        Trace { target: Target::File(path.into()) }
    }
}

/// Installs the process's `tracing` subscriber as `trace` says. Returns
/// `false` when one was already installed (by an earlier call, or by the
/// host): the first set-up wins, and this call changes nothing.
///
/// # Errors
///
/// [`StoreError::Io`](crate::StoreError::Io) when the log file cannot be
/// opened.
///
/// # Examples
///
/// ```
/// use xs_core::trace::{Trace, init};
/// # let dir = tempfile::tempdir()?;
/// init(Trace::file(dir.path().join("xs.log")))?;
/// tracing::info!("logged to xs.log, filtered by XS_LOG or RUST_LOG");
/// assert!(!init(Trace::stderr())?, "the first set-up wins");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn init(trace: Trace) -> Result<bool> {
    let (filter, rejected) = filter();
    let installed = match trace.target {
        Target::Stderr => install(filter, std::io::stderr, std::io::stderr().is_terminal()),
        Target::File(path) => install(filter, Mutex::new(open(&path)?), false),
    };
    if let (true, Some((var, error))) = (installed, rejected) {
        tracing::warn!(%error, "{var} is not a valid filter; logging with {DEFAULT_FILTER:?} instead");
    }
    Ok(installed)
}

fn install<W>(filter: EnvFilter, writer: W, ansi: bool) -> bool
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(ansi).try_init().is_ok()
}

/// The filter from the environment, and the variable and error of one
/// that was set but did not parse.
fn filter() -> (EnvFilter, Option<(&'static str, String)>) {
    let set = FILTER_VARS.into_iter().find_map(|var| std::env::var(var).ok().map(|spec| (var, spec)));
    match set.map(|(var, spec)| (var, EnvFilter::try_new(spec))) {
        Some((_, Ok(filter))) => (filter, None),
        Some((var, Err(e))) => (EnvFilter::new(DEFAULT_FILTER), Some((var, e.to_string()))),
        None => (EnvFilter::new(DEFAULT_FILTER), None),
    }
}

fn open(path: &std::path::Path) -> Result<File> {
    Ok(OpenOptions::new().create(true).append(true).mode(0o600).open(path)?)
}
