//! Runnel's cluster foundation: the metadata quorum on openraft.
//!
//! Cluster metadata (brokers, topics, partition assignments, leaders, ISR, configs) is a
//! replicated state machine, as in Kafka's KRaft: commands are entries of a Raft log agreed by
//! the voters, whose leader is the controller, and every node applies the committed log to its
//! own copy of the image and serves metadata from it.
//!
//! # Layout
//!
//! - `metadata/`: the image (`ClusterMetadata`) and the commands that change it, applied
//!   deterministically; a command that does not fit is refused with a `CommandError`.
//! - `store/`: the Raft log, vote and snapshots on disk (openraft's `RaftLogStorage` and
//!   `RaftStateMachine`), durable across `kill -9`.
//! - `node.rs`: `MetadataNode`, what the server runs: storage, Raft, the cluster port,
//!   cluster formation, proposals (forwarded to the leader), reads of the applied image.
//! - `placement.rs`: where the replicas of new partitions go (Kafka's round-robin rule).
//! - `controller.rs`: broker liveness: heartbeats to the controller, fencing and unfencing.
//! - `protocol.rs`: the cluster port's versioned frames.
//! - `data.rs`: the data plane's messages (client requests one broker sends another) and the
//!   trait the server serves them with.
//! - `network/`: Raft RPCs over the cluster port, client and server side.
//! - `types.rs`: openraft's type configuration.
//! - `error.rs`: the crate's error type.
//!
//! Everything here reads bytes from disk or from peers, so panicking shortcuts are denied
//! crate-wide (tests excepted, through clippy.toml).

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

mod controller;
pub mod data;
mod error;
pub mod metadata;
mod network;
mod node;
pub mod placement;
pub mod protocol;
mod store;
mod types;

pub use error::{CorruptReason, Error};
pub use node::{Committed, MetadataNode, NodeConfig, ProposeError};
pub use store::AppliedMetadata;
pub use types::{NodeId, RaftNode, TypeConfig};

/// openraft's metrics of a metadata node (state, term, leader, log indexes).
pub type RaftMetricsOf = openraft::RaftMetrics<NodeId, RaftNode>;
