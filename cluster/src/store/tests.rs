//! The storage's tests: openraft's own suite, and what `kill -9` leaves behind.

use std::fs::{self, OpenOptions};

use openraft::storage::{RaftLogStorage, RaftLogStorageExt, RaftStateMachine};
use openraft::testing::{StoreBuilder, Suite, blank_ent, log_id};
use openraft::{RaftLogReader, Vote};
use tempfile::TempDir;

use super::log::LOG_FILE;
use super::*;
use crate::types::{Entry, TypeConfig};

/// Gives every test of the suite a store in a fresh temp dir; the dir lives as long as the
/// test (the suite holds the guard).
struct TempDirStores;

impl StoreBuilder<TypeConfig, LogStore, StateMachineStore, TempDir> for TempDirStores {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachineStore), StorageError> {
        let dir = tempfile::tempdir().map_err(|e| StorageIOError::write(&e))?;
        let (log, state_machine) = open(dir.path(), 1).map_err(|e| StorageIOError::read(&e))?;
        Ok((dir, log, state_machine))
    }
}

#[test]
fn openraft_storage_suite_passes() {
    Suite::test_all(TempDirStores).unwrap();
}

fn entries(range: std::ops::RangeInclusive<u64>) -> Vec<Entry> {
    range.map(|i| blank_ent::<TypeConfig>(1, 1, i)).collect()
}

async fn stored_indexes(dir: &Path) -> Vec<u64> {
    let (mut log, _) = open(dir, 1).unwrap();
    log.try_get_log_entries(..)
        .await
        .unwrap()
        .iter()
        .map(|e| e.log_id.index)
        .collect()
}

#[tokio::test]
async fn recovery_truncates_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LOG_FILE);
    {
        let (mut log, _) = open(dir.path(), 1).unwrap();
        log.blocking_append(entries(1..=5)).await.unwrap();
    }
    let full = fs::metadata(&path).unwrap().len();
    // Cut the last record in the middle, as a crash during its write would.
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(full - 3)
        .unwrap();

    assert_eq!(stored_indexes(dir.path()).await, vec![1, 2, 3, 4]);
    let repaired = fs::metadata(&path).unwrap().len();
    assert!(repaired < full - 3, "the torn record is cut off the file");

    // The repaired log takes the lost entry again, and keeps it.
    {
        let (mut log, _) = open(dir.path(), 1).unwrap();
        let state = log.get_log_state().await.unwrap();
        assert_eq!(state.last_log_id, Some(log_id(1, 1, 4)));
        log.blocking_append(entries(5..=5)).await.unwrap();
    }
    assert_eq!(stored_indexes(dir.path()).await, vec![1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn recovery_truncates_garbage_after_the_last_record() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut log, _) = open(dir.path(), 1).unwrap();
        log.blocking_append(entries(1..=3)).await.unwrap();
    }
    let path = dir.path().join(LOG_FILE);
    let mut bytes = fs::read(&path).unwrap();
    // A length field that claims far more than the file holds, then noise.
    bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4, 5, 6]);
    fs::write(&path, bytes).unwrap();

    assert_eq!(stored_indexes(dir.path()).await, vec![1, 2, 3]);
}

#[tokio::test]
async fn flipped_bit_in_the_last_record_ends_the_log_there() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut log, _) = open(dir.path(), 1).unwrap();
        log.blocking_append(entries(1..=3)).await.unwrap();
    }
    let path = dir.path().join(LOG_FILE);
    let mut bytes = fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    fs::write(&path, bytes).unwrap();

    assert_eq!(stored_indexes(dir.path()).await, vec![1, 2]);
}

#[tokio::test]
async fn truncate_and_purge_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut log, _) = open(dir.path(), 1).unwrap();
        log.blocking_append(entries(1..=10)).await.unwrap();
        log.truncate(log_id(1, 1, 9)).await.unwrap();
        // Purging 1..=3 leaves a dead prefix smaller than the live rest: no rewrite yet.
        log.purge(log_id(1, 1, 3)).await.unwrap();
    }
    assert_eq!(stored_indexes(dir.path()).await, vec![4, 5, 6, 7, 8]);
    let before = fs::metadata(dir.path().join(LOG_FILE)).unwrap().len();
    {
        let (mut log, _) = open(dir.path(), 1).unwrap();
        // Now the dead prefix outweighs the rest: the file is rewritten with 7 and 8 only.
        log.purge(log_id(1, 1, 6)).await.unwrap();
        log.blocking_append(entries(9..=9)).await.unwrap();
        let state = log.get_log_state().await.unwrap();
        assert_eq!(state.last_purged_log_id, Some(log_id(1, 1, 6)));
    }
    assert!(fs::metadata(dir.path().join(LOG_FILE)).unwrap().len() < before);
    assert_eq!(stored_indexes(dir.path()).await, vec![7, 8, 9]);
}

#[tokio::test]
async fn purge_past_the_last_entry_then_append_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut log, _) = open(dir.path(), 1).unwrap();
        log.blocking_append(entries(1..=3)).await.unwrap();
        log.purge(log_id(1, 1, 20)).await.unwrap();
        log.blocking_append(entries(21..=22)).await.unwrap();
    }
    assert_eq!(stored_indexes(dir.path()).await, vec![21, 22]);
}

#[tokio::test]
async fn vote_and_committed_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut log, _) = open(dir.path(), 1).unwrap();
        log.save_vote(&Vote::new(7, 2)).await.unwrap();
        log.save_committed(Some(log_id(7, 2, 40))).await.unwrap();
    }
    let (mut log, _) = open(dir.path(), 1).unwrap();
    assert_eq!(log.read_vote().await.unwrap(), Some(Vote::new(7, 2)));
    assert_eq!(log.read_committed().await.unwrap(), Some(log_id(7, 2, 40)));
}

#[tokio::test]
async fn snapshot_restores_the_image_on_reopen() {
    use crate::metadata::{BrokerId, Command};
    use openraft::RaftSnapshotBuilder;

    let dir = tempfile::tempdir().unwrap();
    let expected = {
        let (_, mut sm) = open(dir.path(), 1).unwrap();
        let mut entry = blank_ent::<TypeConfig>(1, 1, 1);
        entry.payload = openraft::EntryPayload::Normal(Command::RegisterBroker {
            broker: BrokerId(1),
            http_addr: "127.0.0.1:8080".into(),
            cluster_addr: "127.0.0.1:9090".into(),
        });
        sm.apply([entry]).await.unwrap();
        sm.get_snapshot_builder()
            .await
            .build_snapshot()
            .await
            .unwrap();
        sm.subscribe().borrow().clone()
    };
    assert_eq!(expected.applied_index, Some(1));
    let (_, sm) = open(dir.path(), 1).unwrap();
    assert_eq!(*sm.subscribe().borrow(), expected);
}

#[test]
fn a_data_dir_of_another_node_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path(), 1).unwrap());
    assert!(matches!(
        open(dir.path(), 2),
        Err(Error::WrongNode {
            node_id: 2,
            found: 1,
            ..
        })
    ));
    assert!(open(dir.path(), 1).is_ok());
}
