//! The plugin's handle on a store, over [`xs_core::connection::Connection`]: this
//! process owns the store (opened it and serves `<store>/sock`) or is a
//! client of the process that does, and takes over when that one goes; or
//! the store is remote (`http(s)://`), and this process is only ever its client.
//!
//! The commands see only [`Backend`], so what the plugin asks of xs-core is
//! listed in this one file.

use std::{io::Read, path::Path};

use xs_core::{
    Frame, ReadOptions, Result,
    client::{Evaluated, Remote, Stop},
    connection::{Connection, Subscription},
    hash::Integrity,
    id::Scru128Id,
    script_state::ScriptState,
    server::ServeOptions,
};

pub use xs_core::connection::Role;

use crate::listen::Reach;

/// The largest payload this process accepts on the socket when it owns the
/// store. Other shells' plugins append through it, and `open --raw big.iso |
/// xs append` must work for files of many gigabytes.
const MAX_BODY: u64 = 1 << 40;

/// The name `xs status` gives a role.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Client => "client",
    }
}

/// A connection to one store. Cheap to clone.
#[derive(Clone)]
pub struct Backend {
    connection: Connection,
    /// The listeners it serves when it owns the store.
    reach: Reach,
}

impl Backend {
    /// Connects to the owner of the store in `path`, or becomes it,
    /// serving `reach` too.
    ///
    /// # Errors
    ///
    /// Io errors when `path` is not a writable directory;
    /// [`xs_core::StoreError::Locked`] when it stays locked with no owner;
    /// the listener errors of [`xs_core::server::Server::bind`].
    pub fn open(path: &Path, reach: Reach) -> Result<Backend> {
        let options = reach.apply(ServeOptions::builder().max_body(MAX_BODY).build());
        Ok(Backend { connection: Connection::open_with(path, options)?, reach })
    }

    /// The listeners this backend serves when it owns the store.
    pub fn reach(&self) -> &Reach {
        &self.reach
    }

    /// A client of the store served at `remote`; nothing is contacted yet.
    ///
    /// # Errors
    ///
    /// As [`Connection::remote`].
    pub fn remote(remote: Remote) -> Result<Backend> {
        Ok(Backend { connection: Connection::remote(remote)?, reach: Reach::default() })
    }

    /// True for a store served at a URL.
    pub fn is_remote(&self) -> bool {
        self.connection.is_remote()
    }

    /// The connection itself, for the xs-core calls that take one
    /// (`xs_core::dump`).
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// This process's role for the store, as of now.
    pub fn role(&self) -> Role {
        self.connection.role()
    }

    /// Every handler and generator, as the owner's processor reports it.
    ///
    /// # Errors
    ///
    /// Io errors asking the owner.
    pub fn processor_states(&self) -> Result<Vec<ScriptState>> {
        self.connection.processor_states()
    }

    /// The process id of the store's owner (this one, or the socket's).
    ///
    /// # Errors
    ///
    /// Io errors asking the owner.
    pub fn owner_pid(&self) -> Result<Option<u32>> {
        self.connection.owner_pid()
    }

    /// The store's directory; `None` for a remote store.
    pub fn path(&self) -> Option<&Path> {
        self.connection.path()
    }

    /// The store's directory, or its URL.
    pub fn location(&self) -> String {
        match self.connection.path() {
            Some(path) => path.display().to_string(),
            None => self.connection.url().unwrap_or_default(),
        }
    }

    /// Appends `frame` with `payload` as its content (empty: no hash).
    ///
    /// # Errors
    ///
    /// As [`Connection::append`]; io errors reading `payload`.
    pub fn append(&self, frame: Frame, payload: &mut dyn Read) -> Result<Frame> {
        self.connection.append(frame, payload)
    }

    /// Puts `content` into the CAS, returning its hash.
    ///
    /// # Errors
    ///
    /// Io errors reading `content`; storage errors.
    pub fn cas_put(&self, content: &mut dyn Read) -> Result<Integrity> {
        self.connection.cas_insert(content)
    }

    /// A reader over the content of `hash`.
    ///
    /// # Errors
    ///
    /// [`xs_core::StoreError::HashNotFound`]; io errors.
    pub fn cas_reader(&self, hash: &Integrity) -> Result<Box<dyn Read + Send>> {
        self.connection.cas_reader(hash)
    }

    /// The frame `id`, or `None`.
    ///
    /// # Errors
    ///
    /// Storage and io errors.
    pub fn get(&self, id: &Scru128Id) -> Result<Option<Frame>> {
        self.connection.get(id)
    }

    /// Deletes frame `id`.
    ///
    /// # Errors
    ///
    /// [`xs_core::StoreError::NotFound`].
    pub fn remove(&self, id: &Scru128Id) -> Result<()> {
        self.connection.remove(id)
    }

    /// The newest `n` frames matching `topic`, oldest first.
    ///
    /// # Errors
    ///
    /// [`xs_core::StoreError::InvalidTopic`]; storage and io errors.
    pub fn last(&self, topic: &str, n: usize) -> Result<Vec<Frame>> {
        self.connection.last(topic, n)
    }

    /// Runs `script` in the owner's engine (this process's, or the
    /// socket's), asking `stop` while it waits.
    ///
    /// # Errors
    ///
    /// As [`Connection::eval`]: [`xs_core::StoreError::Script`] with
    /// Nushell's message when the script fails.
    pub fn eval(&self, script: &str, stop: Stop) -> Result<Evaluated> {
        self.connection.eval(script, stop)
    }

    /// Starts a read: poll it with a timeout ([`xs_core::store::Poll`]) so
    /// callers stay responsive. It survives a change of owner without a gap
    /// or a duplicate.
    ///
    /// # Errors
    ///
    /// [`xs_core::StoreError::InvalidTopic`] for a bad pattern; io errors.
    pub fn read(&self, options: ReadOptions) -> Result<Subscription> {
        self.connection.reader(options)
    }
}
