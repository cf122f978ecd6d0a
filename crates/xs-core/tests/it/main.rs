//! The one integration-test binary of xs-core (every extra test binary
//! would relink everything): each module is one area of the contract.

mod bad_input;
mod cas;
mod common;
mod concurrency;
mod crash;
mod lifecycle;
mod read;
mod ttl;
