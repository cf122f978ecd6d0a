//! One way to wait for the next frame of a read, whoever serves it.
//!
//! A read comes from the store itself ([`Reader`](crate::Reader)), from
//! its owner over the socket
//! ([`RemoteReader`](crate::client::RemoteReader)), or from a connection
//! that switches between the two when the owner changes
//! ([`Subscription`](crate::connection::Subscription)). A front end that
//! must stay responsive (a Nushell command checking for Ctrl-C, a UI
//! loop) waits on any of them the same way, a bounded time at once, so it
//! is written once over [`Poll`] and not once per source.

use std::time::Duration;

use crate::{error::Result, frame::Frame};

/// What [`Poll::poll`] found.
#[derive(Debug)]
pub enum Next {
    /// A frame (or an `xs.threshold` / `xs.pulse` marker).
    Frame(Frame),
    /// Nothing yet; the read is still live.
    Idle,
    /// The read is over.
    End,
}

/// A read that can be waited on for a bounded time: the one reader trait
/// of xs-core, implemented by [`Reader`](crate::Reader),
/// [`RemoteReader`](crate::client::RemoteReader) and
/// [`Subscription`](crate::connection::Subscription). Each is also an
/// `Iterator` of frames, for callers that may block.
///
/// ```
/// use std::time::Duration;
/// use xs_core::{Frame, ReadOptions, Store, store::{Next, Poll}};
/// # let dir = tempfile::tempdir()?;
/// let store = Store::new(dir.path())?;
/// store.append(Frame::builder("clip").build())?;
/// let mut read: Box<dyn Poll> = Box::new(store.reader(ReadOptions::default())?);
/// assert!(matches!(read.poll(Duration::from_secs(1))?, Next::Frame(f) if f.topic == "clip"));
/// assert!(matches!(read.poll(Duration::from_secs(1))?, Next::End));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Poll {
    /// The next frame, waiting at most about `timeout` for one
    /// ([`Next::Idle`] when none came).
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`](crate::StoreError::Corrupt) for a damaged
    /// record, or a storage error; for a remote read,
    /// [`StoreError::Io`](crate::StoreError::Io) when the connection fails
    /// or is cut mid-response.
    fn poll(&mut self, timeout: Duration) -> Result<Next>;
}
