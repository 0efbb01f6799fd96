//! The cluster port's connections: openraft's network and data-plane calls (client.rs), and
//! the listener that hands peers' requests to the local Raft node or the server's data
//! service (server.rs).

mod client;
mod server;

pub(crate) use client::{CallError, Network, Peers};
pub(crate) use server::{DataSlot, serve};
