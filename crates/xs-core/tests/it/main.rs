//! The one integration-test binary of xs-core (every extra test binary
//! would relink everything): each module is one area of the contract.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is a failed test")]

mod api;
mod bad_input;
mod cas;
mod child;
mod client;
mod common;
mod concurrency;
mod crash;
mod cross_stream_examples;
mod dump;
mod format;
mod hash;
mod ids;
mod import;
mod import_trust;
#[cfg(feature = "iroh")]
mod iroh;
mod lifecycle;
mod listen;
#[cfg(feature = "nats")]
mod nats;
mod permissions;
mod processor;
mod read;
mod remote;
mod reserved;
mod server;
mod server_limits;
mod takeover;
mod ttl;
