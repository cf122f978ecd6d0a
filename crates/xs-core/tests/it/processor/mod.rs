//! The processor: handlers, generators, actions and their lifecycle, run in an
//! owner with the real embedded engine.

pub mod action;
mod action_crash;
pub mod common;
mod crash;
mod engine;
mod eval;
pub mod generator;
mod generator_restart;
mod generator_scripts;
mod generator_stop;
mod handler;
mod lifecycle;
mod owner;
mod restart;
mod scripts;
mod states;
