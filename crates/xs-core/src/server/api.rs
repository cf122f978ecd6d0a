//! The socket API's handlers: one store call per route.
//!
//! A request is routed (and rejected with a 4xx if malformed) before its
//! body is read. Store calls that block (appends wait for their fsync) run
//! on the blocking pool, so concurrent appends from many clients reach the
//! writer together and share a sync. Every failure becomes a status and a
//! message; a handler never panics and never takes the connection down.

use std::{convert::Infallible, sync::Arc};

use http_body_util::{BodyExt, Limited};
use hyper::{Request, Response, StatusCode, body::Incoming};
use scru128::Scru128Id;
use ssri::Integrity;
use tokio::sync::watch;

use crate::{
    error::{Result, StoreError},
    frame::Frame,
    read_options::{FollowOption, ReadOptions},
    server::Report,
    server::auth::Keys,
    server::eval::{self, Eval, MAX_SCRIPT},
    server::response::{self, Body},
    server::route::{Reject, Route, route},
    server::upload::{UploadError, Uploaded, upload},
    server::wire::{Format, frame_json},
    store::{Scripts, Store},
    ttl::TTL,
};

/// The largest JSON body (`POST /import`) accepted, whatever the payload limit.
const MAX_JSON: usize = 1024 * 1024;

/// Serves requests against one store.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) store: Store,
    /// The largest payload accepted, in bytes.
    pub(crate) max_body: u64,
    /// Turns true when the server shuts down: streams end.
    pub(crate) stop: watch::Receiver<bool>,
    /// The processor's report, when it runs.
    pub(crate) report: Option<Report>,
    /// The store's token, which `POST /token/rotate` replaces.
    pub(crate) keys: Arc<Keys>,
    /// Serving the private socket, where alone the token may be rotated.
    pub(crate) private: bool,
    /// The processor's evaluator (`POST /eval`), when it runs.
    pub(crate) eval: Option<Eval>,
}

/// A handler's failure, as it will be answered.
enum Failure {
    Store(StoreError),
    Upload(UploadError),
    Status(StatusCode, String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl From<UploadError> for Failure {
    fn from(e: UploadError) -> Self {
        Failure::Upload(e)
    }
}

type Handled = std::result::Result<Response<Body>, Failure>;

impl Api {
    /// Answers one request.
    pub(crate) async fn handle(self, request: Request<Incoming>) -> std::result::Result<Response<Body>, Infallible> {
        let (parts, body) = request.into_parts();
        tracing::debug!(method = %parts.method, uri = %parts.uri, "request");
        let handled = match route(&parts) {
            Ok(route) => self.dispatch(route, body).await,
            Err(Reject::NotFound) => Err(Failure::Status(
                StatusCode::NOT_FOUND,
                format!("no route for {} {}", parts.method, parts.uri.path()),
            )),
            Err(Reject::BadRequest(message)) => Err(Failure::Status(StatusCode::BAD_REQUEST, message)),
        };
        Ok(handled.unwrap_or_else(answer))
    }

    async fn dispatch(&self, route: Route, body: Incoming) -> Handled {
        match route {
            Route::Version => Ok(version()),
            Route::Read { options, format, with_timestamp } => self.read(options, format, with_timestamp).await,
            Route::Last { topic, n, follow: true, with_timestamp } => {
                let options = ReadOptions::builder().topic(topic).last(n).follow(FollowOption::On).build();
                self.read(options, Format::Ndjson, with_timestamp).await
            }
            Route::Last { topic, n, follow: false, with_timestamp } => self.last(topic, n, with_timestamp).await,
            Route::Append { topic, ttl, meta, with_timestamp } => {
                self.append(Frame::builder(topic).maybe_ttl(ttl).maybe_meta(meta).build(), body, with_timestamp).await
            }
            Route::CasGet(hash) => self.cas_get(hash).await,
            Route::CasPost => self.cas_post(body).await,
            Route::Get { id, with_timestamp } => self.get(id, with_timestamp).await,
            Route::Remove(id) => self.remove(id).await,
            Route::Import(scripts) => self.import(body, scripts).await,
            Route::Processor => self.processor().await,
            Route::TokenRotate => self.rotate_token().await,
            Route::Eval { json } => self.eval(body, json).await,
        }
    }

    async fn read(&self, options: ReadOptions, format: Format, with_timestamp: bool) -> Handled {
        let store = self.store.clone();
        let reader = blocking(move || store.reader(options)).await?;
        Ok(response::frames(reader, format, with_timestamp, self.stop.clone()))
    }

    /// cross-stream's `/last`: 404 when nothing matches; one JSON object for
    /// `last=1`, NDJSON otherwise (even when fewer frames exist).
    async fn last(&self, topic: String, n: usize, with_timestamp: bool) -> Handled {
        let store = self.store.clone();
        let frames = blocking(move || store.last(&topic, n)).await?;
        match frames.as_slice() {
            [] => Err(Failure::Status(StatusCode::NOT_FOUND, "no frame matches".into())),
            [frame] if n == 1 => Ok(json(frame, with_timestamp)),
            _ => {
                let lines: Vec<u8> = frames.iter().flat_map(|f| Format::Ndjson.encode(f, with_timestamp)).collect();
                Ok(response::whole(StatusCode::OK, Format::Ndjson.content_type(), lines))
            }
        }
    }

    /// Stores a small payload and its frame.
    async fn append(&self, frame: Frame, body: Incoming, with_timestamp: bool) -> Handled {
        let uploaded = upload(&self.store, body, self.max_body).await?;
        let store = self.store.clone();
        let alone = matches!(uploaded, Uploaded::Held(_)) && self.store.commit_idle();
        let append = move || {
            let hash = uploaded.store(&store, false)?;
            store.append(Frame { hash, ..frame })
        };
        // A lone append (no commit under way, a payload small enough to be
        // held) commits right here: one sync, which costs this worker less
        // than handing it off (on a VM, each thread wake-up costs tens of
        // µs). Under concurrent appends, or for spilled uploads, the worker
        // steps aside as for any blocking call, so the others can queue
        // up behind the commit and share its sync.
        let frame = if alone { append() } else { blocking(append).await }?;
        Ok(json(&frame, with_timestamp))
    }

    async fn cas_get(&self, hash: Integrity) -> Handled {
        let store = self.store.clone();
        let source = blocking(move || store.cas_reader(&hash)).await?;
        Ok(response::content(source))
    }

    /// Unlike cross-stream (400), an empty body is valid content: its hash.
    async fn cas_post(&self, body: Incoming) -> Handled {
        let uploaded = upload(&self.store, body, self.max_body).await?;
        let store = self.store.clone();
        let hash = blocking(move || uploaded.store(&store, true)).await?;
        let hash = hash.map(|h| h.to_string()).unwrap_or_default();
        Ok(response::whole(StatusCode::OK, "text/plain", hash))
    }

    async fn get(&self, id: Scru128Id, with_timestamp: bool) -> Handled {
        let store = self.store.clone();
        match blocking(move || store.get(&id)).await? {
            Some(frame) => Ok(json(&frame, with_timestamp)),
            None => Err(StoreError::NotFound(id).into()),
        }
    }

    /// 204; a 404 for an unknown id (cross-stream answers 204 there too:
    /// we tell the caller, as the store itself does).
    async fn remove(&self, id: Scru128Id) -> Handled {
        let store = self.store.clone();
        blocking(move || store.remove(&id)).await?;
        Ok(response::empty(StatusCode::NO_CONTENT))
    }

    /// The processor's report: a JSON array, empty when no processor runs.
    async fn processor(&self) -> Handled {
        let report = self.report.clone();
        let states = blocking(move || Ok(report.map(|r| r()).unwrap_or_default())).await?;
        let body = serde_json::to_vec(&states).map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
        Ok(response::whole(StatusCode::OK, "application/json", body))
    }

    /// A new token, answered as text; only the private socket's peers (the
    /// owner's user, who can read the token file anyway) may ask.
    async fn rotate_token(&self) -> Handled {
        if !self.private {
            let message = "the token is rotated on the owner's socket only (xs token rotate on its machine)";
            return Err(Failure::Status(StatusCode::FORBIDDEN, message.into()));
        }
        let keys = self.keys.clone();
        let token = blocking(move || keys.rotate()).await?;
        Ok(response::whole(StatusCode::OK, "text/plain", token))
    }

    /// Runs the body as a script in the processor's engine (`eval.rs`):
    /// 501 when no processor runs.
    async fn eval(&self, body: Incoming, json: bool) -> Handled {
        let Some(eval) = &self.eval else { return Ok(eval::unavailable()) };
        let bytes = Limited::new(body, MAX_SCRIPT).collect().await.map_err(|e| {
            Failure::Status(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the script failed or exceeds {MAX_SCRIPT} bytes: {e}"),
            )
        })?;
        let script = String::from_utf8(bytes.to_bytes().to_vec())
            .map_err(|_| Failure::Status(StatusCode::BAD_REQUEST, "the script is not UTF-8 text".into()))?;
        Ok(eval::answer(eval(script, json)).await)
    }

    async fn import(&self, body: Incoming, scripts: Scripts) -> Handled {
        let bytes = match Limited::new(body, MAX_JSON).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) => {
                return Err(Failure::Status(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the import body failed or exceeds {MAX_JSON} bytes: {e}"),
                ));
            }
        };
        let frame: Frame = serde_json::from_slice(&bytes)
            .map_err(|e| Failure::Status(StatusCode::BAD_REQUEST, format!("Invalid frame JSON: {e}")))?;
        if frame.ttl == Some(TTL::Ephemeral) {
            return Err(Failure::Status(StatusCode::BAD_REQUEST, "an ephemeral frame cannot be imported".into()));
        }
        let store = self.store.clone();
        let frame = blocking(move || store.import_with(frame, scripts)).await?;
        Ok(json(&frame, false))
    }
}

fn version() -> Response<Body> {
    // The pid tells clients which process owns the store (`xs status`).
    let body = serde_json::json!({ "version": env!("CARGO_PKG_VERSION"), "pid": std::process::id() }).to_string();
    response::whole(StatusCode::OK, "application/json", body)
}

fn json(frame: &Frame, with_timestamp: bool) -> Response<Body> {
    response::whole(StatusCode::OK, "application/json", frame_json(frame, with_timestamp))
}

fn answer(failure: Failure) -> Response<Body> {
    match failure {
        Failure::Store(e) | Failure::Upload(UploadError::Store(e)) => response::store_error(&e),
        Failure::Upload(e @ UploadError::TooLarge { .. }) => {
            response::message(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
        }
        Failure::Upload(e @ UploadError::Body(_)) => response::message(StatusCode::BAD_REQUEST, e.to_string()),
        Failure::Status(status, message) => response::message(status, message),
    }
}

/// Runs a blocking store call without stalling the runtime: in place on a
/// multi-thread runtime (its other tasks move to another worker; no thread
/// hand-off, which would double a small request's latency), else on the
/// blocking pool.
async fn blocking<T: Send + 'static>(call: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
        return tokio::task::block_in_place(call);
    }
    tokio::task::spawn_blocking(call).await.map_err(|e| StoreError::Io(std::io::Error::other(e)))?
}
