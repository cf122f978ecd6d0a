//! The one Nushell face of xs: the store commands (`xs append`, `xs cat`,
//! `xs last`, `xs get`, `xs remove`, `xs cas`, `xs cas put`, `xs call`, `xs id`,
//! `xs id unpack`, `xs id pack`) written once, for the plugin (a shell
//! user's `nu`) and for the processor's embedded engine (handler scripts).
//!
//! Why one module: a pipeline must behave the same typed in a shell and run
//! by a handler, and two copies of a command drift apart. Here each command's name, description, signature, examples and
//! behaviour live in one file under [`commands`], the way mini-redis gives
//! client and server one type per command.
//!
//! What a command needs from its front end is the [`Host`] trait: the store
//! the call names (a [`StoreAccess`]), the engine's interrupt signal, and a
//! [`Watch`] that says when a long stream's consumer went away. The plugin
//! implements it over its connection (owner or socket client); the
//! processor over its store and handler outbox. Each front end wraps every
//! [`commands::StoreCommand`] in one generic adapter (a `PluginCommand` in
//! nu_plugin_xs, an engine `Command` in the processor), so the two cannot
//! offer different commands.
//!
//! Alongside: the value conversions ([`value`], [`payload`]), argument
//! parsing ([`args`]), and the one map from [`StoreError`](crate::StoreError)
//! to a labelled Nushell error ([`error`]). This module needs only
//! nu-protocol and nu-plugin-protocol (cargo feature `nu`), so the plugin
//! does not need the embedded engine to turn a frame into a record.

pub mod args;
pub mod commands;
pub mod error;
pub mod frames;
pub mod host;
pub mod payload;
pub mod value;

pub use commands::{StoreCommand, commands};
pub use host::{Appended, Host, Next, Poll, StoreAccess, Watch};
