//! nu_plugin_xs: xs, the local-first event stream store, as Nushell commands.
//!
//! A thin adapter over [`xs_core`]: the store commands are written once in
//! [`xs_core::nu`] (the processor's engine offers the same ones) and run
//! here over a [`Backend`] (the private module `host` is that glue);
//! [`commands`] adds the plugin's own (`xs eval`, `xs serve`, `xs status`,
//! `xs export`, `xs import`). [`XsPlugin`] holds the plugin's state: one
//! backend per store, opened on first use. Nothing is opened at start-up: Nushell
//! starts a plugin more than once while loading it, and runs calls on
//! several threads at once.
//!
//! What it is not: a store. Everything durable happens in xs-core.

mod backend;
pub mod commands;
mod consumer;
mod error;
mod host;
mod listen;
mod location;
mod watch;

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

pub use backend::{Backend, Role};
pub use consumer::serve;
pub use listen::Reach;
use location::Place;
use nu_plugin::{EngineInterface, EvaluatedCall, Plugin, PluginCommand};
use nu_protocol::{LabeledError, Spanned};

/// The plugin: its commands, and the stores it has connected to.
#[derive(Default)]
pub struct XsPlugin {
    backends: Mutex<HashMap<Place, Backend>>,
    /// Set once this process owns a store and told the engine to keep it alive.
    kept_alive: AtomicBool,
}

impl Plugin for XsPlugin {
    fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").into()
    }

    fn commands(&self) -> Vec<Box<dyn PluginCommand<Plugin = Self>>> {
        commands::all()
    }
}

impl XsPlugin {
    /// The backend for the store `call` names, connecting on first use.
    ///
    /// Once this process owns a store it keeps itself alive (no plugin GC):
    /// other shells reach the store through it. A client that took over
    /// during a call is kept alive from its next call.
    ///
    /// # Errors
    ///
    /// The store cannot be opened (not a directory, not writable, locked),
    /// labeled at `--store` when it was given.
    pub fn backend(&self, engine: &EngineInterface, call: &EvaluatedCall) -> Result<Backend, LabeledError> {
        self.backend_reaching(engine, call, None)
    }

    /// As [`XsPlugin::backend`]; if this call opens the store, it serves
    /// `reach` when it becomes the owner (else the plugin config's
    /// `listen`). A store already open keeps what it serves: compare
    /// [`Backend::reach`].
    ///
    /// # Errors
    ///
    /// As [`XsPlugin::backend`]; a listener that cannot be served.
    pub fn backend_reaching(
        &self,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        reach: Option<Reach>,
    ) -> Result<Backend, LabeledError> {
        let place = location::store_place(engine, call)?;
        let backend = self.connect(&place, || reach.map_or_else(|| Reach::configured(engine), Ok))?;
        if backend.role() == Role::Owner && !self.kept_alive.swap(true, Ordering::SeqCst) {
            engine.set_gc_disabled(true)?;
        }
        Ok(backend)
    }

    /// The cached backend for `place`, or a new one. Opening happens under
    /// the lock, so concurrent calls on one store share one connection.
    fn connect(
        &self,
        place: &Spanned<Place>,
        reach: impl FnOnce() -> Result<Reach, LabeledError>,
    ) -> Result<Backend, LabeledError> {
        let mut backends = self.backends.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(backend) = backends.get(&place.item) {
            return Ok(backend.clone());
        }
        let backend = match &place.item {
            Place::Dir(path) => Backend::open(path, reach()?).map_err(|e| error::opening(e, path, place.span))?,
            Place::Url(url) => Backend::remote(url.remote(place.span)?)
                .map_err(|e| error::opening(e, std::path::Path::new(&url.url), place.span))?,
        };
        backends.insert(place.item.clone(), backend.clone());
        Ok(backend)
    }
}
