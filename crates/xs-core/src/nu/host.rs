//! What the store commands ask of a front end, as traits: [`Host`] for the
//! call's surroundings, [`StoreAccess`] for the store itself, [`Poll`] for
//! a read in progress and [`Watch`] for a stream's consumer.
//!
//! The plugin reaches its store through a connection (this process owns
//! it, or is a socket client of the process that does); the processor
//! through the store it runs in, committing appends with the handler's
//! output. The commands see only these traits, so what they need of a
//! store is listed here, once.

use std::io::Read;

use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{LabeledError, Signals};

pub use crate::store::{Next, Poll};
use crate::{Frame, ReadOptions, Result, hash::Integrity, id::Scru128Id};

/// The surroundings of one command call.
pub trait Host {
    /// The store the call names (its `--store`, or the default), opened
    /// or connected on first use.
    ///
    /// # Errors
    ///
    /// The store cannot be opened, or (in a handler) `--store` names
    /// another store than the one the script runs in; labelled at `--store`.
    fn store(&self, call: &EvaluatedCall) -> std::result::Result<Box<dyn StoreAccess>, LabeledError>;

    /// The engine's interrupt signal (Ctrl-C, or a script being stopped).
    fn signals(&self) -> Signals;

    /// A watch on the consumer of a stream this call returns.
    fn watch(&self) -> Box<dyn Watch>;
}

/// A store as the commands use it. Every method is one xs-core call.
pub trait StoreAccess {
    /// Puts `payload` in the CAS (empty: no hash), then appends `frame`
    /// pointing at it.
    ///
    /// # Errors
    ///
    /// A reserved or invalid topic; io errors reading `payload`; storage errors.
    fn append(&self, frame: Frame, payload: &mut dyn Read) -> Result<Appended>;

    /// Starts a read.
    ///
    /// # Errors
    ///
    /// An invalid topic pattern; io and storage errors.
    fn read(&self, options: ReadOptions) -> Result<Box<dyn Poll + Send>>;

    /// The newest `n` frames matching `topic`, oldest first.
    ///
    /// # Errors
    ///
    /// An invalid topic pattern; io and storage errors.
    fn last(&self, topic: &str, n: usize) -> Result<Vec<Frame>>;

    /// The frame `id`, or `None`.
    ///
    /// # Errors
    ///
    /// Io and storage errors.
    fn get(&self, id: &Scru128Id) -> Result<Option<Frame>>;

    /// Deletes frame `id`.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`](crate::StoreError::NotFound); io and storage errors.
    fn remove(&self, id: &Scru128Id) -> Result<()>;

    /// A reader over the content of `hash`.
    ///
    /// # Errors
    ///
    /// [`StoreError::HashNotFound`](crate::StoreError::HashNotFound); io errors.
    fn cas_reader(&self, hash: &Integrity) -> Result<Box<dyn Read + Send>>;

    /// Puts `content` into the CAS (the empty content too), returning its hash.
    ///
    /// # Errors
    ///
    /// Io errors reading `content`; storage errors.
    fn cas_put(&self, content: &mut dyn Read) -> Result<Integrity>;
}

/// Where an append went.
#[derive(Debug)]
pub enum Appended {
    /// Stored and durable.
    Durable(Frame),
    /// Queued with a handler's output for the frame it is handling; it is
    /// committed (and gets its id) when the handler finishes that frame.
    Queued(Frame),
}

/// The front end's side of a stream in progress: whether anyone still
/// reads it, and the moment to send what it holds.
///
/// A stream asks it only when it has nothing ready (the engine's interrupt
/// is checked between items besides): while items flow, a front end sees
/// its consumer leave on its own, between items.
pub trait Watch: Send {
    /// True once the stream's consumer is gone.
    fn abandoned(&mut self) -> bool;

    /// The stream has nothing ready and is about to wait. A front end that
    /// holds back items already handed to it (the plugin batches its
    /// protocol's writes) sends them now, so that a follow's frame is not
    /// held until the next one comes.
    fn idle(&mut self) {}
}

/// A watch that never fires: only the interrupt ends the stream.
pub struct Never;

impl Watch for Never {
    fn abandoned(&mut self) -> bool {
        false
    }
}
