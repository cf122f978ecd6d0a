//! An answer from a store's owner, whichever way the request went: over
//! the socket ([`Response`]) or to a remote store ([`HttpResponse`]).
//!
//! [`Client`](crate::client::Client) reads every answer through this one
//! type, so each operation is written once for both ways and they cannot
//! drift apart.

use std::io::Read;

use crate::{
    client::{http::HttpResponse, transport::Response},
    error::Result,
};

/// A response whose body has not been read yet.
pub(crate) enum Answer {
    Socket(Response),
    Http(HttpResponse),
}

impl Answer {
    pub(crate) fn status(&self) -> u16 {
        match self {
            Answer::Socket(response) => response.status,
            Answer::Http(response) => response.status,
        }
    }

    /// The answer's `content-type`, if it has one.
    pub(crate) fn content_type(&self) -> Option<&str> {
        match self {
            Answer::Socket(response) => response.content_type.as_deref(),
            Answer::Http(response) => response.content_type.as_deref(),
        }
    }

    /// Fails with the owner's message unless the status is 2xx.
    pub(crate) fn ok(self) -> Result<Answer> {
        Ok(match self {
            Answer::Socket(response) => Answer::Socket(response.ok()?),
            Answer::Http(response) => Answer::Http(response.ok()?),
        })
    }

    /// The whole body.
    pub(crate) fn bytes(self) -> Result<Vec<u8>> {
        match self {
            Answer::Socket(response) => response.bytes(),
            Answer::Http(response) => response.bytes(),
        }
    }

    /// The whole body as JSON.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(self) -> Result<T> {
        match self {
            Answer::Socket(response) => response.json(),
            Answer::Http(response) => response.json(),
        }
    }

    /// The body as a reader; a transfer cut short is an error.
    pub(crate) fn into_read(self) -> Box<dyn Read + Send> {
        match self {
            Answer::Socket(response) => Box::new(response.body),
            Answer::Http(response) => Box::new(response.body),
        }
    }
}
