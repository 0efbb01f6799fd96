//! The crate's error type: storage, start-up and shutdown failures of the metadata node.
//!
//! Proposal outcomes have their own types (`ProposeError`, and `CommandError` for commands the
//! state machine refused), since the server answers each of those differently; this type is
//! for the failures an operator has to look at.

use std::io;
use std::path::{Path, PathBuf};

use crate::types::{NodeId, RaftNode};

/// A failure of the metadata node or its storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is damaged at byte {position}: {reason}", path.display())]
    Corrupt {
        path: PathBuf,
        position: u64,
        reason: CorruptReason,
    },
    #[error("could not encode a value for storage: {source}")]
    Encode {
        #[source]
        source: postcard::Error,
    },
    #[error("a stored record of {len} bytes is larger than the 4 GiB a record may be")]
    TooLarge { len: u64 },
    #[error("a background task failed: {source}")]
    TaskFailed {
        #[source]
        source: tokio::task::JoinError,
    },
    #[error("cannot listen on the cluster port {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: io::Error,
    },
    #[error("{} holds the metadata of node {found}, not of node {node_id}", dir.display())]
    WrongNode {
        dir: PathBuf,
        node_id: NodeId,
        found: NodeId,
    },
    #[error("the peer list must name this node ({node_id})")]
    NotAPeer { node_id: NodeId },
    #[error("cannot join the cluster: {reason}")]
    Join { reason: String },
    #[error("invalid Raft configuration: {source}")]
    RaftConfig {
        #[source]
        source: Box<openraft::ConfigError>,
    },
    #[error("the Raft node stopped: {source}")]
    Raft {
        #[source]
        source: Box<openraft::error::Fatal<NodeId>>,
    },
    #[error("could not initialize the cluster membership: {source}")]
    Initialize {
        #[source]
        source: Box<openraft::error::InitializeError<NodeId, RaftNode>>,
    },
}

/// What exactly is wrong with a damaged file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CorruptReason {
    #[error("the record ends early")]
    Truncated,
    #[error("the CRC does not match")]
    ChecksumMismatch,
    #[error("the record does not decode: {0}")]
    Undecodable(String),
    #[error("the file does not start with the Raft log's magic bytes")]
    BadMagic,
    #[error("entry {got} follows entry {previous}")]
    NotConsecutive { previous: u64, got: u64 },
}

impl Error {
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        Error::Io {
            path: path.to_owned(),
            source,
        }
    }
}

impl From<openraft::error::Fatal<NodeId>> for Error {
    fn from(source: openraft::error::Fatal<NodeId>) -> Self {
        Error::Raft {
            source: Box::new(source),
        }
    }
}
