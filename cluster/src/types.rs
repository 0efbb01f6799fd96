//! The Raft type configuration: which types openraft moves around for the metadata quorum.
//!
//! A Raft node id is the broker id (`--node-id`), widened to openraft's `u64`. The per-node
//! information openraft keeps in the membership is the node's cluster-port address, which is
//! all the network layer needs to reach it. Snapshots travel as one in-memory buffer
//! (`Cursor<Vec<u8>>`, openraft's default): the metadata image is small, and openraft's chunked
//! InstallSnapshot sends it over the cluster port.

use std::fmt;
use std::io::Cursor;

use serde::{Deserialize, Serialize};

use crate::metadata::{Command, CommandResult};

/// A Raft node id: the broker id of the node.
pub type NodeId = u64;

/// What the Raft membership records of each node: where its cluster port listens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftNode {
    /// `HOST:PORT` of the node's cluster listener.
    pub cluster_addr: String,
}

impl fmt::Display for RaftNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.cluster_addr)
    }
}

openraft::declare_raft_types!(
    /// The metadata quorum's types: commands in, per-command results out.
    pub TypeConfig:
        D = Command,
        R = CommandResult,
        NodeId = NodeId,
        Node = RaftNode,
        SnapshotData = Cursor<Vec<u8>>,
);

/// The metadata quorum's Raft handle.
pub(crate) type MetadataRaft = openraft::Raft<TypeConfig>;
/// One entry of the metadata log.
pub(crate) type Entry = openraft::Entry<TypeConfig>;
/// openraft's storage error for the metadata quorum.
pub(crate) type StorageError = openraft::StorageError<NodeId>;
