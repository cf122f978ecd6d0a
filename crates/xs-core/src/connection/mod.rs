//! Owner or client, chosen for the caller. `mod.rs` holds [`Connection`]
//! and the choice; `subscription.rs` is a read that survives a change of
//! owner. The folder keeps this invariant: whichever role a process gets,
//! and however often it changes, a caller sees one store, and a
//! subscription delivers each frame once, in order.
//!
//! One interface over "I own the store" and "I am a client of its owner",
//! and the choice between them.
//!
//! [`Connection::open`] connects if `<store>/sock` answers; otherwise it
//! opens the store and serves it, becoming the owner. The store's lock
//! decides races: of two processes that find no owner, the one whose
//! [`Store::new`] succeeds serves, and the other (refused with
//! [`StoreError::Locked`]) waits for the winner's socket and becomes its
//! client. A client whose owner went away (the socket no longer answers)
//! runs the choice again on its next call: takeover. Only a call that could
//! not reach any owner is retried, so a request is never sent twice.
//!
//! A `Connection` is a cheap handle (clone it freely); an owner keeps
//! serving until its last handle, and every [`Subscription`] from it, is dropped.
//!
//! [`Connection::remote`] is a client of a store served at a URL and
//! nothing else: it never tries to own it (that store's directory is on
//! another machine), so a remote store that does not answer is an error
//! ([`StoreError::Unreachable`]); only a read waits for it to come back.

pub(crate) mod subscription;

pub use subscription::Subscription;

use std::{
    io::{self, Read},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use scru128::Scru128Id;
use ssri::Integrity;

use crate::{
    client::{Client, Evaluated, Remote, Stop},
    error::{Result, StoreError},
    frame::Frame,
    read_options::ReadOptions,
    script_state::ScriptState,
    server::socket,
    server::{SOCKET, ServeOptions, Server, ServerHandle},
    store::{Scripts, Store},
};

/// How long a taker waits for another process that holds the store's lock
/// (a starting owner, or one shutting down) before giving up.
const TAKEOVER_WAIT: Duration = Duration::from_secs(15);

/// Which side of the socket this process is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// This process holds the store and serves it on `<store>/sock`.
    Owner,
    /// Another process owns the store; calls go through its socket.
    Client,
}

/// A store reached either directly (owner) or through its owner's socket.
///
/// ```no_run
/// use xs_core::{Frame, ReadOptions, connection::Connection};
/// let connection = Connection::open("/path/to/store")?;
/// connection.append(Frame::builder("note").build(), &b"hi"[..])?;
/// for frame in connection.reader(ReadOptions::default())? {
///     println!("{}", frame?.topic);
/// }
/// # Ok::<(), xs_core::StoreError>(())
/// ```
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
}

struct Shared {
    place: Place,
    /// The current backend and how many times it was chosen.
    backend: Mutex<(u64, Endpoint)>,
}

/// Where the store is, which decides whether it can be taken over.
enum Place {
    /// A directory on this machine, owned by whoever opens it first.
    Local { path: PathBuf, options: ServeOptions },
    /// A store served at a URL: always a client.
    Remote,
}

#[derive(Clone)]
pub(crate) enum Endpoint {
    Owner(Arc<Owner>),
    Client(Client),
}

/// The owning side: the store and its server, stopped in that order.
pub(crate) struct Owner {
    server: Option<ServerHandle>,
    store: Store,
}

impl Owner {
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        // Shut the server down (it closes the store) before our handle goes.
        drop(self.server.take());
    }
}

impl Connection {
    /// Connects to the owner of the store in `path`, or becomes it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Locked`] when another process holds the store but no
    /// owner answers within 15 s; io and storage errors from opening it.
    pub fn open(path: impl Into<PathBuf>) -> Result<Connection> {
        Self::open_with(path, ServeOptions::default())
    }

    /// As [`Connection::open`], with the options to serve with if this
    /// process becomes the owner.
    ///
    /// # Errors
    ///
    /// As [`Connection::open`].
    pub fn open_with(path: impl Into<PathBuf>, options: ServeOptions) -> Result<Connection> {
        let path = path.into();
        let backend = choose(&path, &options)?;
        Ok(Connection::with(Place::Local { path, options }, backend))
    }

    /// A client of the store served at `remote`'s URL; it never becomes
    /// the owner. Nothing is contacted until the first call.
    ///
    /// ```no_run
    /// use xs_core::{Frame, client::Remote, connection::Connection};
    /// let connection = Connection::remote(Remote::new("http://10.0.0.2:3021")?.token("…"))?;
    /// connection.append(Frame::builder("note").build(), &b"hi"[..])?;
    /// # Ok::<(), xs_core::StoreError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::remote`].
    pub fn remote(remote: Remote) -> Result<Connection> {
        let client = Client::remote(remote)?;
        Ok(Connection::with(Place::Remote, Endpoint::Client(client)))
    }

    fn with(place: Place, backend: Endpoint) -> Connection {
        Connection { shared: Arc::new(Shared { place, backend: Mutex::new((0, backend)) }) }
    }

    /// The store's directory (`None` for a remote store).
    pub fn path(&self) -> Option<&Path> {
        match &self.shared.place {
            Place::Local { path, .. } => Some(path),
            Place::Remote => None,
        }
    }

    /// The remote store's URL (`None` for a local one).
    pub fn url(&self) -> Option<String> {
        match self.current().1 {
            Endpoint::Client(client) => client.url().map(String::from),
            Endpoint::Owner(_) => None,
        }
    }

    /// True for a store served at a URL, which this process never owns.
    pub fn is_remote(&self) -> bool {
        matches!(self.shared.place, Place::Remote)
    }

    /// Owner or client, as of now (a client can become the owner later).
    pub fn role(&self) -> Role {
        match self.current().1 {
            Endpoint::Owner(_) => Role::Owner,
            Endpoint::Client(_) => Role::Client,
        }
    }

    /// The store, when this process owns it (to start the processor on it).
    pub fn store(&self) -> Option<Store> {
        match self.current().1 {
            Endpoint::Owner(owner) => Some(owner.store.clone()),
            Endpoint::Client(_) => None,
        }
    }

    /// The process id of the store's owner: this process, or the one
    /// serving the socket (`None` if it does not say).
    ///
    /// # Errors
    ///
    /// As [`Client::owner_pid`].
    pub fn owner_pid(&self) -> Result<Option<u32>> {
        self.call(|backend| match backend {
            Endpoint::Owner(_) => Ok(Some(std::process::id())),
            Endpoint::Client(client) => client.owner_pid(),
        })
    }

    /// Every handler and generator of the owner's processor (this
    /// process's, or the socket's), and where it stands.
    ///
    /// # Errors
    ///
    /// As [`Client::processor_states`].
    pub fn processor_states(&self) -> Result<Vec<ScriptState>> {
        self.call(|backend| match backend {
            Endpoint::Owner(owner) => Ok(owner.server.as_ref().map(ServerHandle::processor_states).unwrap_or_default()),
            Endpoint::Client(client) => client.processor_states(),
        })
    }

    /// Appends `frame` with `payload` as its content (empty: no hash).
    ///
    /// # Errors
    ///
    /// As [`Store::append`] and [`Client::append`].
    pub fn append(&self, frame: Frame, mut payload: impl Read) -> Result<Frame> {
        self.call(|backend| match backend {
            Endpoint::Owner(owner) => {
                let hash = put(&owner.store, &mut payload, false)?;
                owner.store.append(Frame { hash, ..frame.clone() })
            }
            Endpoint::Client(client) => client.append(frame.clone(), &mut payload),
        })
    }

    /// Puts `content` into the CAS and returns its hash, streaming it (it
    /// may be larger than memory).
    ///
    /// # Errors
    ///
    /// Io and storage errors.
    pub fn cas_insert(&self, mut content: impl Read) -> Result<Integrity> {
        let missing = || StoreError::Io(io::Error::other("the CAS returned no hash"));
        self.call(|backend| match backend {
            Endpoint::Owner(owner) => put(&owner.store, &mut content, true)?.ok_or_else(missing),
            Endpoint::Client(client) => client.cas_insert(&mut content),
        })
    }

    /// A reader over the content of `hash`.
    ///
    /// # Errors
    ///
    /// [`StoreError::HashNotFound`]; io errors.
    pub fn cas_reader(&self, hash: &Integrity) -> Result<Box<dyn Read + Send>> {
        self.call(|backend| match backend {
            Endpoint::Owner(owner) => owner.store.cas_reader(hash),
            Endpoint::Client(client) => client.cas_reader(hash),
        })
    }

    /// The content of `hash`.
    ///
    /// # Errors
    ///
    /// As [`Connection::cas_reader`].
    pub fn cas_read(&self, hash: &Integrity) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.cas_reader(hash)?.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// The frame `id`, or `None`.
    ///
    /// # Errors
    ///
    /// Io and storage errors.
    pub fn get(&self, id: &Scru128Id) -> Result<Option<Frame>> {
        self.call(|backend| match backend {
            Endpoint::Owner(owner) => owner.store.get(id),
            Endpoint::Client(client) => client.get(id),
        })
    }

    /// Deletes frame `id`.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when there is no such frame.
    pub fn remove(&self, id: &Scru128Id) -> Result<()> {
        self.call(|backend| match backend {
            Endpoint::Owner(owner) => owner.store.remove(id),
            Endpoint::Client(client) => client.remove(id),
        })
    }

    /// The newest `n` frames matching `topic`, oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidTopic`]; io and storage errors.
    pub fn last(&self, topic: &str, n: usize) -> Result<Vec<Frame>> {
        self.call(|backend| match backend {
            Endpoint::Owner(owner) => owner.store.last(topic, n),
            Endpoint::Client(client) => client.last(topic, n),
        })
    }

    /// Stores `frame` with its id (the other half of an export); scripts
    /// are stored inert (see [`Store::import`]).
    ///
    /// # Errors
    ///
    /// As [`Store::import`] and [`Client::import`].
    pub fn import(&self, frame: Frame) -> Result<Frame> {
        self.import_with(frame, Scripts::Inert)
    }

    /// [`Connection::import`], choosing whether imported scripts may run.
    ///
    /// # Errors
    ///
    /// As [`Connection::import`].
    pub fn import_with(&self, frame: Frame, scripts: Scripts) -> Result<Frame> {
        self.call(|backend| match backend {
            Endpoint::Owner(owner) => owner.store.import_with(frame.clone(), scripts),
            Endpoint::Client(client) => client.import_with(frame.clone(), scripts),
        })
    }

    /// Runs `script` in the owner's engine: see [`Client::eval`]. An owning
    /// process asks its own socket, so the answer, and how dropping it
    /// stops the script, are the same on both sides.
    ///
    /// # Errors
    ///
    /// As [`Client::eval`].
    pub fn eval(&self, script: &str, stop: Stop) -> Result<Evaluated> {
        self.call(|backend| match backend {
            // An owner is always local: a remote store has no owner here.
            Endpoint::Owner(owner) => Client::new(owner.store.path()).eval(script, stop.clone()),
            Endpoint::Client(client) => client.eval(script, stop.clone()),
        })
    }

    /// A read that survives a change of owner: see [`Subscription`].
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidTopic`]; io errors.
    pub fn reader(&self, options: ReadOptions) -> Result<Subscription> {
        Subscription::start(self.clone(), options)
    }

    /// The current backend and its generation.
    pub(crate) fn current(&self) -> (u64, Endpoint) {
        lock(&self.shared.backend).clone()
    }

    /// Runs `op`; if it found no owner to talk to, takes over and runs it again.
    pub(crate) fn call<T>(&self, mut op: impl FnMut(&Endpoint) -> Result<T>) -> Result<T> {
        let (generation, backend) = self.current();
        match op(&backend) {
            Err(e) if matches!(backend, Endpoint::Client(_)) && !self.is_remote() && unreachable(&e) => {
                op(&self.takeover(generation)?)
            }
            result => result,
        }
    }

    /// Runs the choice again, unless someone already did since `generation`
    /// (a remote store has no choice: its client stays).
    pub(crate) fn takeover(&self, generation: u64) -> Result<Endpoint> {
        let mut current = lock(&self.shared.backend);
        if let (Place::Local { path, options }, true) = (&self.shared.place, current.0 == generation) {
            tracing::info!(store = %path.display(), "the owner went away: choosing again");
            *current = (generation + 1, choose(path, options)?);
        }
        Ok(current.1.clone())
    }
}

/// True for the errors of a call that reached no owner at all (and so
/// did nothing): no socket file, or nobody listening on it.
pub(crate) fn unreachable(e: &StoreError) -> bool {
    matches!(e, StoreError::Io(e) if matches!(e.kind(), io::ErrorKind::ConnectionRefused | io::ErrorKind::NotFound))
}

/// Connect if the socket answers, else own the store; when another
/// process holds the lock, wait for its socket (it is starting or stopping).
fn choose(path: &Path, options: &ServeOptions) -> Result<Endpoint> {
    let deadline = Instant::now() + TAKEOVER_WAIT;
    let mut pause = Duration::from_millis(2);
    loop {
        if socket::answers(&path.join(SOCKET)) {
            return Ok(Endpoint::Client(Client::new(path)));
        }
        match Store::new(path) {
            Ok(store) => return own(store, options),
            Err(StoreError::Locked { .. }) if Instant::now() < deadline => {}
            Err(e) => return Err(e),
        }
        // Waiting on another process's lock or socket: nothing to await but time.
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Serves `store`; if a server answers on the socket after all (one that
/// does not hold this store's lock), closes it and becomes that server's client.
fn own(store: Store, options: &ServeOptions) -> Result<Endpoint> {
    match Server::bind(store.clone(), options.clone()) {
        Ok(server) => {
            let server = Some(server.spawn()?);
            tracing::info!(store = %store.path().display(), "serving as the store's owner");
            Ok(Endpoint::Owner(Arc::new(Owner { server, store })))
        }
        Err(StoreError::Io(e)) if e.kind() == io::ErrorKind::AddrInUse => {
            store.close();
            Ok(Endpoint::Client(Client::new(store.path())))
        }
        Err(e) => Err(e),
    }
}

/// Streams `content` into the CAS; an empty one gives `None` unless `keep_empty`.
fn put(store: &Store, content: &mut dyn Read, keep_empty: bool) -> Result<Option<Integrity>> {
    let mut writer = store.cas_writer();
    let n = io::copy(content, &mut writer)?;
    if n == 0 && !keep_empty {
        return Ok(None);
    }
    writer.commit().map(Some)
}

/// The backend lock guards a plain value swap: a poisoned lock is taken over.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
