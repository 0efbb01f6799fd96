//! The metadata state machine: applies committed entries to the image, builds, stores and
//! installs snapshots, and publishes each new image to the node's readers.
//!
//! A snapshot is the image serialized (`[format: u8][postcard(ClusterMetadata)]`), stored with
//! openraft's snapshot metadata in the atomically replaced file `snapshot`. Opening restores the
//! image and the applied log id from it; openraft then re-applies the committed entries after it
//! from the log (the committed id is persisted by the log store), so a restarted node has its
//! applied state back before it hears from a leader.
//!
//! Readers get the image through a `watch` channel: every applied batch publishes a new
//! `Arc<AppliedMetadata>`, so a reader holds a consistent image without locking the state
//! machine, and a subscriber wakes on change.
//!
//! Not owned here: what a command does to the image (metadata/command.rs).

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    EntryPayload, LogId, OptionalSend, RaftSnapshotBuilder, SnapshotMeta, StorageIOError,
    StoredMembership,
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::{blocking, durable};
use crate::error::{CorruptReason, Error};
use crate::metadata::{Applied, ClusterMetadata, CommandResult};
use crate::types::{Entry, NodeId, RaftNode, StorageError, TypeConfig};

const SNAPSHOT_FILE: &str = "snapshot";
/// The snapshot data's format; a node refuses a snapshot of a format it does not know.
const SNAPSHOT_FORMAT: u8 = 1;

/// The image as of a log index, as readers see it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppliedMetadata {
    /// The index of the last applied metadata-log entry (`None` before the first).
    pub applied_index: Option<u64>,
    /// The image.
    pub metadata: ClusterMetadata,
}

/// A snapshot as stored: openraft's metadata and the serialized image.
#[derive(Debug, Serialize, Deserialize)]
struct StoredSnapshot {
    meta: SnapshotMeta<NodeId, RaftNode>,
    data: Vec<u8>,
}

/// The state machine of one node.
#[derive(Debug)]
pub(crate) struct StateMachineStore {
    dir: PathBuf,
    applied: Option<LogId<NodeId>>,
    membership: StoredMembership<NodeId, RaftNode>,
    metadata: ClusterMetadata,
    published: watch::Sender<Arc<AppliedMetadata>>,
}

/// Builds one snapshot from the image as of the moment it was created.
#[derive(Debug)]
pub(crate) struct SnapshotBuilder {
    dir: PathBuf,
    applied: Option<LogId<NodeId>>,
    membership: StoredMembership<NodeId, RaftNode>,
    metadata: ClusterMetadata,
}

impl StateMachineStore {
    /// Opens the state machine in `dir`, restoring the image from the latest snapshot.
    ///
    /// # Errors
    ///
    /// `Error::Io` or `Error::Corrupt` when the snapshot file cannot be read or decoded.
    pub(crate) fn open(dir: &Path) -> Result<Self, Error> {
        let stored: Option<StoredSnapshot> = durable::read(dir, SNAPSHOT_FILE)?;
        let (applied, membership, metadata) = match stored {
            Some(s) => {
                let metadata = decode_image(&s.data).map_err(|reason| Error::Corrupt {
                    path: dir.join(SNAPSHOT_FILE),
                    position: 0,
                    reason,
                })?;
                (s.meta.last_log_id, s.meta.last_membership, metadata)
            }
            None => Default::default(),
        };
        let (published, _) = watch::channel(Arc::new(AppliedMetadata {
            applied_index: applied.map(|l| l.index),
            metadata: metadata.clone(),
        }));
        Ok(StateMachineStore {
            dir: dir.to_owned(),
            applied,
            membership,
            metadata,
            published,
        })
    }

    /// A receiver of every image this state machine publishes.
    pub(crate) fn subscribe(&self) -> watch::Receiver<Arc<AppliedMetadata>> {
        self.published.subscribe()
    }

    fn publish(&self) {
        self.published.send_replace(Arc::new(AppliedMetadata {
            applied_index: self.applied.map(|l| l.index),
            metadata: self.metadata.clone(),
        }));
    }
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let data =
            encode_image(&self.metadata).map_err(|e| StorageIOError::write_snapshot(None, &e))?;
        // openraft wants ids that differ between snapshots of the same log id (one taken after
        // a restart, say); the time does that.
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let snapshot_id = match self.applied {
            Some(last) => format!("{}-{}-{micros}", last.leader_id, last.index),
            None => format!("none-{micros}"),
        };
        let meta = SnapshotMeta {
            last_log_id: self.applied,
            last_membership: self.membership.clone(),
            snapshot_id,
        };
        let stored = StoredSnapshot {
            meta: meta.clone(),
            data: data.clone(),
        };
        let dir = self.dir.clone();
        blocking(move || durable::write(&dir, SNAPSHOT_FILE, &stored))
            .await
            .map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
        tracing::info!(last_log_id = ?meta.last_log_id, "built a metadata snapshot");
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachineStore {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<NodeId>>, StoredMembership<NodeId, RaftNode>), StorageError> {
        Ok((self.applied, self.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<CommandResult>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut results = Vec::new();
        for entry in entries {
            self.applied = Some(entry.log_id);
            let result = match entry.payload {
                EntryPayload::Blank => Ok(Applied::Done),
                EntryPayload::Normal(command) => {
                    let result = self.metadata.apply(entry.log_id.index, command);
                    if let Err(e) = &result {
                        tracing::debug!(index = entry.log_id.index, error = %e, "command refused");
                    }
                    result
                }
                EntryPayload::Membership(membership) => {
                    self.membership = StoredMembership::new(Some(entry.log_id), membership);
                    Ok(Applied::Done)
                }
            };
            results.push(result);
        }
        self.publish();
        Ok(results)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder {
            dir: self.dir.clone(),
            applied: self.applied,
            membership: self.membership.clone(),
            metadata: self.metadata.clone(),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, RaftNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data = snapshot.into_inner();
        let metadata = decode_image(&data)
            .map_err(|reason| StorageIOError::read_snapshot(Some(meta.signature()), &reason))?;
        let stored = StoredSnapshot {
            meta: meta.clone(),
            data,
        };
        let dir = self.dir.clone();
        blocking(move || durable::write(&dir, SNAPSHOT_FILE, &stored))
            .await
            .map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
        self.applied = meta.last_log_id;
        self.membership = meta.last_membership.clone();
        self.metadata = metadata;
        self.publish();
        tracing::info!(last_log_id = ?meta.last_log_id, "installed a metadata snapshot");
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let dir = self.dir.clone();
        let stored: Option<StoredSnapshot> = blocking(move || durable::read(&dir, SNAPSHOT_FILE))
            .await
            .map_err(|e| StorageIOError::read_snapshot(None, &e))?;
        Ok(stored.map(|s| Snapshot {
            meta: s.meta,
            snapshot: Box::new(Cursor::new(s.data)),
        }))
    }
}

fn encode_image(metadata: &ClusterMetadata) -> Result<Vec<u8>, Error> {
    let mut data = vec![SNAPSHOT_FORMAT];
    postcard::to_io(metadata, &mut data).map_err(|source| Error::Encode { source })?;
    Ok(data)
}

fn decode_image(data: &[u8]) -> Result<ClusterMetadata, CorruptReason> {
    match data.split_first() {
        Some((&SNAPSHOT_FORMAT, image)) => {
            postcard::from_bytes(image).map_err(|e| CorruptReason::Undecodable(e.to_string()))
        }
        Some((format, _)) => Err(CorruptReason::Undecodable(format!(
            "unknown snapshot format {format}"
        ))),
        None => Err(CorruptReason::Truncated),
    }
}
