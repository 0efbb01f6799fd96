//! The client side of the binary: what `runnel topics|produce|consume|bench` run against a
//! server over its public HTTP and WebSocket API.
//!
//! Layers, each importing only those below it: [`args`] (the command line, clap), [`client`]
//! (a typed HTTP client), [`bench`] (`runnel bench`) and [`commands`] (the subcommands, which
//! dispatch to the bench). `runnel serve` is the server's, not this module's: its flags live in
//! `config` and are only re-exported here.

pub mod args;
pub mod bench;
pub mod client;
pub mod commands;

pub use args::*;
