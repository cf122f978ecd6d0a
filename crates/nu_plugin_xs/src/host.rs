//! The plugin as the [`Host`] of xs-core's store commands: the store is the
//! [`Backend`] the call's `--store` names (this process owns it, or is a
//! client of the owner's socket), the signals are the engine's, and a
//! stream's consumer is watched through the protocol ([`ConsumerWatch`]).

use std::io::Read;

use nu_plugin::{EngineInterface, EvaluatedCall};
use nu_protocol::{LabeledError, Signals};
use xs_core::{
    Frame, ReadOptions, Result,
    hash::Integrity,
    id::Scru128Id,
    nu::{Appended, Host, Poll, StoreAccess, Watch},
};

use crate::{XsPlugin, backend::Backend, watch::ConsumerWatch};

/// One call's surroundings: the plugin and the engine that called it.
pub struct PluginHost<'a> {
    pub plugin: &'a XsPlugin,
    pub engine: &'a EngineInterface,
}

impl Host for PluginHost<'_> {
    fn store(&self, call: &EvaluatedCall) -> std::result::Result<Box<dyn StoreAccess>, LabeledError> {
        Ok(Box::new(self.plugin.backend(self.engine, call)?))
    }

    fn signals(&self) -> Signals {
        self.engine.signals().clone()
    }

    fn watch(&self) -> Box<dyn Watch> {
        Box::new(ConsumerWatch::batched(self.engine))
    }
}

impl StoreAccess for Backend {
    fn append(&self, frame: Frame, payload: &mut dyn Read) -> Result<Appended> {
        Backend::append(self, frame, payload).map(Appended::Durable)
    }

    fn read(&self, options: ReadOptions) -> Result<Box<dyn Poll + Send>> {
        Ok(Box::new(Backend::read(self, options)?))
    }

    fn last(&self, topic: &str, n: usize) -> Result<Vec<Frame>> {
        Backend::last(self, topic, n)
    }

    fn get(&self, id: &Scru128Id) -> Result<Option<Frame>> {
        Backend::get(self, id)
    }

    fn remove(&self, id: &Scru128Id) -> Result<()> {
        Backend::remove(self, id)
    }

    fn cas_reader(&self, hash: &Integrity) -> Result<Box<dyn Read + Send>> {
        Backend::cas_reader(self, hash)
    }

    fn cas_put(&self, content: &mut dyn Read) -> Result<Integrity> {
        Backend::cas_put(self, content)
    }
}
