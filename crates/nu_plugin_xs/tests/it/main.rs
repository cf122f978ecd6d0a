//! End-to-end tests of the plugin: the real `nu` 0.115.1 loads the built
//! `nu_plugin_xs` with `--plugins` and every result is checked through
//! `to json`. One binary, one module per area (every extra test binary
//! would relink Nushell's crates). Most tests run twice (`both_ways!`,
//! in `common.rs`): on a local store, and on a remote one that this test
//! process serves over TCP.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is a failed test")]

#[macro_use]
mod common;

mod append;
mod bad_input;
mod call;
mod cas;
mod cat;
mod dump;
mod eval;
mod follow;
mod generators;
mod handlers;
mod id;
#[cfg(feature = "iroh")]
mod iroh;
mod last_get_remove;
mod listen;
mod mirror;
// The real nats-server of xs-core's NATS tests, shared rather than copied.
#[path = "../../../xs-core/tests/it/nats/server.rs"]
#[allow(dead_code, reason = "the xs-core harness has more than these tests use")]
mod nats_server;
mod parity;
mod remote;
mod replica;
mod status;
mod two_shells;
