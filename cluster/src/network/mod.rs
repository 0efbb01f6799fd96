//! Raft over the cluster port: openraft's network (client.rs) and the listener that hands
//! peers' requests to the local Raft node (server.rs).

mod client;
mod server;

pub(crate) use client::{CallError, Network, Peers};
pub(crate) use server::serve;
