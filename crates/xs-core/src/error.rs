//! The one error type of xs-core.
//!
//! Callers branch on the variant (not found, invalid input, locked, closed,
//! corrupt, storage, io); the message says what happened and, where there is
//! one, what to do about it. Nothing in xs-core panics on bad input or bad
//! bytes: every such case ends up here.

use std::path::PathBuf;

use scru128::Scru128Id;

/// Everything that can go wrong in xs-core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another process (or another `Store` in this one) holds the store open.
    #[error("store {path} is open in another process; connect to its owner instead")]
    Locked {
        /// The store directory.
        path: PathBuf,
    },
    /// An existing, non-empty store directory that other users may read or
    /// enter: it holds every payload, so it is refused rather than tightened
    /// silently.
    #[error(
        "store {path} has mode {mode:03o}, which lets other users at its payloads; run `chmod 700 {path}` and open it again"
    )]
    Unprotected {
        /// The store directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The store was closed while the call was in flight.
    #[error("the store is closed")]
    Closed,
    /// No frame with this id exists (or it expired).
    #[error("no frame with id {0}")]
    NotFound(Scru128Id),
    /// The CAS holds no content for this hash.
    #[error("no content in the CAS for hash {0}")]
    HashNotFound(String),
    /// A topic that breaks the topic rules.
    #[error("invalid topic {topic:?}: {reason}")]
    InvalidTopic {
        /// The rejected topic.
        topic: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A topic under `xs.` that belongs to the runtime (see
    /// [`validate_append_topic`](crate::topic::validate_append_topic)).
    #[error("topic {topic:?} is reserved for the runtime: {reason}")]
    ReservedTopic {
        /// The refused topic.
        topic: String,
        /// Which topics are allowed instead.
        reason: &'static str,
    },
    /// A JetStream message that is not a frame as a mirror publishes it
    /// (see [`crate::nats::wire`]).
    #[error("not an xs frame message: {reason}")]
    NatsMessage {
        /// What is missing or does not parse.
        reason: String,
    },
    /// A write to a replica store, which only its replica writes to.
    #[error(
        "store {path} is a read-only replica: it only takes frames from the NATS stream it copies; promote it (`xs replica --promote`, or `Store::promote`) to append to it"
    )]
    ReadOnlyReplica {
        /// The store directory.
        path: PathBuf,
    },
    /// A store that cannot become (or go on as) a replica of this source.
    #[error("store {path} cannot be a replica of {source_name}: {reason}")]
    NotReplicable {
        /// The store directory.
        path: PathBuf,
        /// The stream and subject prefix asked for.
        source_name: String,
        /// Why not.
        reason: String,
    },
    /// A mirror's config record that cannot run (see `crate::nats::config`).
    #[error("invalid mirror config: {reason}")]
    MirrorConfig {
        /// Which field is wrong and what it should be.
        reason: String,
    },
    /// NATS refused or failed an operation of a mirror or a replica:
    /// connecting, authenticating, a stream or consumer, publishing. Never
    /// holds a credential (URLs are redacted).
    #[error("NATS: {action} failed: {reason}")]
    Nats {
        /// What was being done (with the redacted URL, when it helps).
        action: String,
        /// What NATS (or the connection) said.
        reason: String,
    },
    /// A TTL string that does not parse.
    #[error("invalid TTL {ttl:?}: expected forever, ephemeral, time:<ms> or last:<n> (n >= 1)")]
    InvalidTtl {
        /// The rejected string.
        ttl: String,
    },
    /// A string that is not a scru128 id.
    #[error("invalid id {id:?}: expected a 25-character scru128 id")]
    InvalidId {
        /// The rejected string.
        id: String,
    },
    /// A hash that is not one sha256 SRI digest (see [`crate::hash`]).
    #[error("invalid hash {hash:?}: {reason}; expected one sha256 SRI hash, sha256-<44 base64 characters>")]
    InvalidHash {
        /// The rejected string (its start, when it is long).
        hash: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Frame meta that is not a JSON object.
    #[error("invalid meta: expected a JSON object (a record), got {kind}")]
    InvalidMeta {
        /// What was given instead.
        kind: &'static str,
    },
    /// A frame that cannot be imported with its id.
    #[error("frame {id} cannot be imported: {reason}")]
    NotImportable {
        /// The frame's id.
        id: Scru128Id,
        /// Why not.
        reason: &'static str,
    },
    /// A stored record that does not decode.
    #[error("frame {id} is corrupt on disk: {reason}")]
    Corrupt {
        /// The id of the damaged frame.
        id: Scru128Id,
        /// What failed to decode.
        reason: String,
    },
    /// A write-ahead log whose header does not decode.
    #[error("the write-ahead log {path} is damaged: {reason}")]
    CorruptLog {
        /// The log file.
        path: std::path::PathBuf,
        /// What failed to decode.
        reason: String,
    },
    /// CAS content whose bytes do not match their hash.
    #[error("CAS content for {hash} is damaged: {reason}")]
    CorruptContent {
        /// The hash whose content failed.
        hash: String,
        /// What went wrong.
        reason: String,
    },
    /// The store's owner answered a socket request with an error status.
    #[error("the store's owner refused the request ({status}): {message}")]
    Remote {
        /// The HTTP status of the answer.
        status: u16,
        /// The owner's message.
        message: String,
    },
    /// A script sent to the owner (`POST /eval`) failed before its output
    /// began.
    #[error("the script failed:\n{message}")]
    Script {
        /// Nushell's formatted message, naming the line at fault.
        message: String,
    },
    /// A remote store (`http(s)://host:port`) that could not be reached:
    /// the request was not served. A remote store is never taken over.
    #[error("cannot reach the store at {url}: {reason}; check that its owner serves that address")]
    Unreachable {
        /// The store's URL.
        url: String,
        /// What failed (refused, timed out, unknown host).
        reason: String,
    },
    /// A remote store answered 401: the token is wrong or missing.
    #[error("unauthorized: wrong or missing token for the store at {url}")]
    Unauthorized {
        /// The store's URL.
        url: String,
    },
    /// A remote store whose TLS certificate the client does not trust
    /// (not signed by a trusted root, or not the pinned fingerprint).
    #[error("the store at {url} is not trusted: {reason}")]
    Untrusted {
        /// The store's URL.
        url: String,
        /// Why its certificate was refused.
        reason: String,
    },
    /// A remote store's address or TLS setting that cannot be used.
    #[error("invalid remote store setting {given:?}: {reason}")]
    InvalidRemote {
        /// What was given (a URL, a fingerprint, a CA file).
        given: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The store handed out the largest id there is: nothing more can be
    /// appended to it.
    #[error("the store has used up its id space; export its frames and import them into a new store")]
    IdsExhausted,
    /// A commit panicked: the store refuses every write until it is
    /// reopened, since what the commit left on disk is unknown (reopening
    /// recovers every acknowledged frame).
    #[error("the store stopped taking writes after a commit failed ({reason}); reopen the store")]
    Halted {
        /// What the commit failed with.
        reason: String,
    },
    /// A second processor was started on a store whose processor runs.
    #[error(
        "the store's processor is already running in this process; every server starts one, so do not start another"
    )]
    ProcessorRunning,
    /// A listener address (`--listen`) that does not parse.
    #[error(
        "invalid listener {listen:?}: {reason}; expected tcp://host:port, https://host:port, unix:///absolute/path or iroh://"
    )]
    InvalidListen {
        /// The rejected address.
        listen: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A listener that could not be bound (address in use, no permission, ...).
    #[error("cannot listen on {listen}: {source}")]
    ListenFailed {
        /// The listener's address.
        listen: String,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// `no_auth` (`--no-auth`) asked for on an address other machines can reach.
    #[error(
        "refusing to serve {listen} without authentication: it is reachable from other machines; drop --no-auth (clients then send the store's token) or listen on 127.0.0.1"
    )]
    NoAuthExposed {
        /// The listener's address.
        listen: String,
    },
    /// A TLS certificate or key that cannot be used.
    #[error("TLS set-up failed: {reason}")]
    Tls {
        /// What went wrong, naming the file.
        reason: String,
    },
    /// The storage engine failed.
    #[error("storage error: {0}")]
    Storage(#[from] fjall::Error),
    /// A file-system operation failed.
    #[error("io error: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// True for the "it is not there" variants, which front ends map to a 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_) | Self::HashNotFound(_))
    }

    /// True for errors caused by the caller's input rather than by the store.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::InvalidTopic { .. }
                | Self::ReservedTopic { .. }
                | Self::InvalidTtl { .. }
                | Self::InvalidId { .. }
                | Self::InvalidHash { .. }
                | Self::InvalidMeta { .. }
                | Self::NotImportable { .. }
                | Self::InvalidRemote { .. }
                | Self::InvalidListen { .. }
                | Self::NoAuthExposed { .. }
                | Self::ReadOnlyReplica { .. }
        ) || matches!(self, Self::Remote { status, .. } if (400..500).contains(status))
    }
}

/// Shorthand used across xs-core.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
