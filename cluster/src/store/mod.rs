//! Durable Raft storage for the metadata quorum, under one directory.
//!
//! ```text
//! <dir>/raft-log      the Raft log: checksummed entries, appended (log.rs)
//! <dir>/node-id       the node the directory belongs to ┐
//! <dir>/vote          the last vote                     │
//! <dir>/committed     the last committed id             │ replaced atomically
//! <dir>/last-purged   the last purged id                │ (durable.rs)
//! <dir>/snapshot      the latest snapshot               ┘ (state_machine.rs)
//! ```
//!
//! Everything here survives `kill -9`: a vote is on disk before `save_vote` returns, appended
//! entries before `append` reports them flushed, a snapshot before it is used.

mod durable;
mod log;
mod state_machine;

use std::fs;
use std::path::Path;

use openraft::StorageIOError;

use crate::error::Error;
use crate::types::{NodeId, StorageError};

pub(crate) use log::LogStore;
pub use state_machine::AppliedMetadata;
pub(crate) use state_machine::StateMachineStore;

const NODE_ID_FILE: &str = "node-id";

/// Opens (or creates) the Raft log and the state machine stored in `dir` for node `node_id`.
///
/// # Errors
///
/// `Error::WrongNode` when another node's id is recorded in `dir` (its vote and log are that
/// node's, and reusing them would corrupt the quorum); `Error::Io` when the directory or a file
/// cannot be read or written; `Error::Corrupt` for damage other than a torn log tail (which is
/// repaired).
pub(crate) fn open(dir: &Path, node_id: NodeId) -> Result<(LogStore, StateMachineStore), Error> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    match durable::read::<NodeId>(dir, NODE_ID_FILE)? {
        Some(found) if found != node_id => {
            return Err(Error::WrongNode {
                dir: dir.to_owned(),
                node_id,
                found,
            });
        }
        Some(_) => {}
        None => durable::write(dir, NODE_ID_FILE, &node_id)?,
    }
    let log = LogStore::open(dir)?;
    let state_machine = StateMachineStore::open(dir)?;
    Ok((log, state_machine))
}

/// Runs blocking file I/O off the async threads.
async fn blocking<T, F>(f: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, Error> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|source| Error::TaskFailed { source })?
}

fn write_error(e: &Error) -> StorageError {
    StorageIOError::write_logs(e).into()
}

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;
