//! End-to-end tests of the plugin: the real `nu` 0.115.1 loads the built
//! `nu_plugin_xs` with `--plugins` and every result is checked through
//! `to json`. One binary, one module per area (every extra test binary
//! would relink Nushell's crates).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is a failed test")]

mod append;
mod bad_input;
mod cas;
mod cat;
mod common;
mod dump;
mod follow;
mod generators;
mod handlers;
mod id;
mod last_get_remove;
mod listen;
mod status;
mod two_shells;
