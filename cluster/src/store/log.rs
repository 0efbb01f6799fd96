//! The Raft log on disk: one append-only file of checksummed entries, plus the vote and the
//! committed and last-purged log ids in atomically replaced files.
//!
//! ```text
//! raft-log:  "RNRAFT01" record*
//! record:    [len: u32 LE][crc32 of payload: u32 LE][payload: postcard(Entry), len bytes]
//! ```
//!
//! `append` writes the records and `sync_data`s before it reports the entries flushed, so an
//! acknowledged entry is on disk. Opening scans every record and cuts the file at the first one
//! that is short or fails its CRC: the torn tail of an append that `kill -9` interrupted (those
//! entries were never reported flushed). `truncate` cuts the file and syncs. `purge` first
//! persists the last-purged id (so a reopened log skips the purged prefix), then, once the dead
//! prefix is as large as the live rest, copies the live records' bytes into a new file that
//! replaces the old one atomically; the copy is of stored bytes, not re-encoded entries.
//!
//! Entries are also kept in memory (the metadata log is small, and snapshots bound it), so
//! readers never touch the file. File I/O runs on blocking threads. After a failed write or
//! fsync the file refuses further writes: what reached the disk is unknown until it is reopened
//! and scanned.
//!
//! Not owned here: the state machine and its snapshots (state_machine.rs).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::ops::RangeBounds;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{LogId, OptionalSend, RaftLogReader, StorageIOError, Vote};
use parking_lot::Mutex;

use super::durable;
use super::{blocking, write_error};
use crate::error::{CorruptReason, Error};
use crate::types::{Entry, NodeId, StorageError, TypeConfig};

/// The log file's name inside the metadata dir.
pub(crate) const LOG_FILE: &str = "raft-log";
/// The first bytes of the log file: what it is, and the record format's version.
const MAGIC: &[u8; 8] = b"RNRAFT01";
/// `MAGIC`'s length as a file position.
const MAGIC_LEN: u64 = 8;
/// Bytes before a record's payload.
const RECORD_HEADER_LEN: u64 = 8;
/// A record longer than this is damage, not an entry: it bounds what a damaged length field
/// can make the scan allocate. Metadata entries are small; 64 MiB is also the cluster port's
/// frame limit, so no entry that arrived over the network is larger.
const MAX_RECORD_LEN: u64 = 64 * 1024 * 1024;
const VOTE_FILE: &str = "vote";
const COMMITTED_FILE: &str = "committed";
const PURGED_FILE: &str = "last-purged";

type Entries = Arc<Mutex<BTreeMap<u64, Entry>>>;

/// The Raft log storage of one node.
#[derive(Debug)]
pub(crate) struct LogStore {
    dir: PathBuf,
    /// Every live entry by index; shared with the readers openraft takes.
    entries: Entries,
    /// The file; only this store writes it, always on a blocking thread.
    file: Arc<Mutex<LogFile>>,
    vote: Option<Vote<NodeId>>,
    committed: Option<LogId<NodeId>>,
    last_purged: Option<LogId<NodeId>>,
}

/// A reader of the in-memory entries, for openraft's replication tasks.
#[derive(Debug, Clone)]
pub(crate) struct LogReader {
    entries: Entries,
}

#[derive(Debug)]
struct LogFile {
    path: PathBuf,
    dir: PathBuf,
    file: File,
    /// The end of the last complete record.
    len: u64,
    /// The byte position of each live entry's record.
    positions: BTreeMap<u64, u64>,
    /// Set when a write or fsync failed: the file's state on disk is unknown.
    failed: bool,
}

impl LogStore {
    /// Opens the log in `dir`, repairing a torn tail.
    ///
    /// # Errors
    ///
    /// `Error::Io` on I/O failures; `Error::Corrupt` for damage that is not a torn tail (a bad
    /// magic, a checksummed entry that does not decode, indexes that are not consecutive).
    pub(crate) fn open(dir: &Path) -> Result<Self, Error> {
        let vote = durable::read(dir, VOTE_FILE)?;
        let committed: Option<Option<LogId<NodeId>>> = durable::read(dir, COMMITTED_FILE)?;
        let last_purged: Option<LogId<NodeId>> = durable::read(dir, PURGED_FILE)?;
        let (file, entries) = LogFile::open(dir, last_purged.map(|l| l.index))?;
        Ok(LogStore {
            dir: dir.to_owned(),
            entries: Arc::new(Mutex::new(entries)),
            file: Arc::new(Mutex::new(file)),
            vote,
            committed: committed.flatten(),
            last_purged,
        })
    }

    async fn write_durable<T>(&self, name: &'static str, value: T) -> Result<(), Error>
    where
        T: serde::Serialize + Send + 'static,
    {
        let dir = self.dir.clone();
        blocking(move || durable::write(&dir, name, &value)).await
    }
}

impl LogFile {
    fn open(dir: &Path, purged: Option<u64>) -> Result<(Self, BTreeMap<u64, Entry>), Error> {
        let path = dir.join(LOG_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io(&path, e))?;
        let mut log = LogFile {
            path,
            dir: dir.to_owned(),
            file,
            len: 0,
            positions: BTreeMap::new(),
            failed: false,
        };
        if !bytes.starts_with(MAGIC) {
            // Empty, or cut while the magic itself was written: a log that never held an entry.
            if !MAGIC.starts_with(&bytes) {
                return Err(Error::Corrupt {
                    path: log.path,
                    position: 0,
                    reason: CorruptReason::BadMagic,
                });
            }
            log.write_at(MAGIC, 0)?;
            log.sync()?;
            durable::sync_dir(dir)?;
            log.len = MAGIC_LEN;
            return Ok((log, BTreeMap::new()));
        }
        let entries = log.scan(&bytes, purged)?;
        Ok((log, entries))
    }

    /// Reads every record after the magic; cuts the file at a torn tail.
    fn scan(&mut self, bytes: &[u8], purged: Option<u64>) -> Result<BTreeMap<u64, Entry>, Error> {
        let mut entries = BTreeMap::new();
        let mut position = MAGIC_LEN;
        let mut previous: Option<u64> = None;
        let file_len = bytes.len() as u64;
        while let Some((payload, next)) = record_at(bytes, position) {
            let entry: Entry = postcard::from_bytes(payload).map_err(|e| Error::Corrupt {
                path: self.path.clone(),
                position,
                reason: CorruptReason::Undecodable(e.to_string()),
            })?;
            let index = entry.log_id.index;
            if purged.is_none_or(|purged| index > purged) {
                if let Some(previous) = previous
                    && index != previous + 1
                {
                    return Err(Error::Corrupt {
                        path: self.path.clone(),
                        position,
                        reason: CorruptReason::NotConsecutive {
                            previous,
                            got: index,
                        },
                    });
                }
                previous = Some(index);
                self.positions.insert(index, position);
                entries.insert(index, entry);
            }
            position = next;
        }
        self.len = position;
        if position < file_len {
            tracing::warn!(
                path = %self.path.display(),
                position,
                bytes = file_len - position,
                "truncating the torn tail of the Raft log"
            );
            self.set_len(position)?;
            self.sync()?;
        }
        Ok(entries)
    }

    fn append(&mut self, records: &Records) -> Result<(), Error> {
        self.check_writable()?;
        self.write_at(&records.bytes, self.len)?;
        self.sync()?;
        for (index, offset) in &records.offsets {
            self.positions.insert(*index, self.len + offset);
        }
        self.len += records.bytes.len() as u64;
        Ok(())
    }

    /// Removes the records of entries `index..`.
    fn truncate(&mut self, index: u64) -> Result<(), Error> {
        self.check_writable()?;
        let removed = self.positions.split_off(&index);
        let Some(position) = removed.values().next().copied() else {
            return Ok(());
        };
        self.set_len(position)?;
        self.sync()?;
        self.len = position;
        Ok(())
    }

    /// Forgets the records of entries `..=index`; rewrites the file when the dead prefix has
    /// grown as large as the live records, so the file stays within twice the live log.
    fn purge(&mut self, index: u64) -> Result<(), Error> {
        self.check_writable()?;
        self.positions = self.positions.split_off(&index.saturating_add(1));
        let live_start = self.positions.values().next().copied().unwrap_or(self.len);
        let dead = live_start - MAGIC_LEN;
        if dead == 0 || dead < self.len - live_start {
            return Ok(());
        }
        self.rewrite_from(live_start)
    }

    fn rewrite_from(&mut self, live_start: u64) -> Result<(), Error> {
        let live_len = usize::try_from(self.len - live_start)
            .map_err(|_| Error::TooLarge { len: self.len })?;
        let mut live = vec![0u8; live_len];
        self.file
            .read_exact_at(&mut live, live_start)
            .map_err(|e| Error::io(&self.path, e))?;
        let tmp = self.dir.join(format!("{LOG_FILE}.tmp"));
        let mut copy = Vec::with_capacity(MAGIC.len() + live.len());
        copy.extend_from_slice(MAGIC);
        copy.extend_from_slice(&live);
        let new_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .and_then(|f| {
                f.write_all_at(&copy, 0)?;
                f.sync_data()?;
                Ok(f)
            })
            .map_err(|e| Error::io(&tmp, e))?;
        fs::rename(&tmp, &self.path).map_err(|e| self.fail(e))?;
        durable::sync_dir(&self.dir).inspect_err(|_| self.failed = true)?;
        let shift = live_start - MAGIC_LEN;
        for position in self.positions.values_mut() {
            *position -= shift;
        }
        self.file = new_file;
        self.len -= shift;
        Ok(())
    }

    fn check_writable(&self) -> Result<(), Error> {
        if self.failed {
            return Err(self.fail_error(io::Error::other(
                "an earlier write or fsync of the Raft log failed; reopen to recover",
            )));
        }
        Ok(())
    }

    fn write_at(&mut self, bytes: &[u8], position: u64) -> Result<(), Error> {
        self.file
            .write_all_at(bytes, position)
            .map_err(|e| self.fail(e))
    }

    fn set_len(&mut self, len: u64) -> Result<(), Error> {
        self.file.set_len(len).map_err(|e| self.fail(e))
    }

    fn sync(&mut self) -> Result<(), Error> {
        self.file.sync_data().map_err(|e| self.fail(e))
    }

    fn fail(&mut self, e: io::Error) -> Error {
        self.failed = true;
        self.fail_error(e)
    }

    fn fail_error(&self, e: io::Error) -> Error {
        Error::io(&self.path, e)
    }
}

/// The payload of the complete, checksum-valid record at `position` and the position after it;
/// `None` at the end of the records (the end of the file, or a torn or damaged record).
fn record_at(bytes: &[u8], position: u64) -> Option<(&[u8], u64)> {
    let start = usize::try_from(position).ok()?;
    let header: &[u8; 8] = bytes.get(start..)?.first_chunk()?;
    let (len, crc) = durable::le_words(header);
    if u64::from(len) > MAX_RECORD_LEN {
        return None;
    }
    let payload_start = start + 8;
    let payload =
        bytes.get(payload_start..payload_start.checked_add(usize::try_from(len).ok()?)?)?;
    if crc32fast::hash(payload) != crc {
        return None;
    }
    Some((payload, position + RECORD_HEADER_LEN + u64::from(len)))
}

/// Entries encoded as records, ready to be appended.
#[derive(Debug)]
struct Records {
    bytes: Vec<u8>,
    /// Each entry's index and its record's offset in `bytes`.
    offsets: Vec<(u64, u64)>,
}

fn encode_records(entries: &[Entry]) -> Result<Records, Error> {
    let mut records = Vec::new();
    let mut indexes = Vec::with_capacity(entries.len());
    for entry in entries {
        let payload = postcard::to_stdvec(entry).map_err(|source| Error::Encode { source })?;
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|len| u64::from(*len) <= MAX_RECORD_LEN)
            .ok_or(Error::TooLarge {
                len: payload.len() as u64,
            })?;
        indexes.push((entry.log_id.index, records.len() as u64));
        records.extend_from_slice(&len.to_le_bytes());
        records.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        records.extend_from_slice(&payload);
    }
    Ok(Records {
        bytes: records,
        offsets: indexes,
    })
}

fn read_range<RB: RangeBounds<u64>>(entries: &Entries, range: RB) -> Vec<Entry> {
    entries
        .lock()
        .range(range)
        .map(|(_, entry)| entry.clone())
        .collect()
}

impl RaftLogReader<TypeConfig> for LogReader {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(read_range(&self.entries, range))
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(read_range(&self.entries, range))
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogReader;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last = self
            .entries
            .lock()
            .last_key_value()
            .map(|(_, entry)| entry.log_id);
        Ok(LogState {
            last_purged_log_id: self.last_purged,
            last_log_id: last.or(self.last_purged),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        LogReader {
            entries: Arc::clone(&self.entries),
        }
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError> {
        self.write_durable(VOTE_FILE, *vote)
            .await
            .map_err(|e| StorageIOError::write_vote(&e))?;
        self.vote = Some(*vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError> {
        Ok(self.vote)
    }

    /// Persisted so that a restarted node re-applies its committed entries before it hears
    /// from a leader, and serves the metadata it had.
    async fn save_committed(
        &mut self,
        committed: Option<LogId<NodeId>>,
    ) -> Result<(), StorageError> {
        self.write_durable(COMMITTED_FILE, committed)
            .await
            .map_err(|e| StorageIOError::write(&e))?;
        self.committed = committed;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, StorageError> {
        Ok(self.committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let records = encode_records(&entries).map_err(|e| StorageIOError::write_logs(&e))?;
        // In memory first: openraft may read what it appended before the flush completes.
        {
            let mut map = self.entries.lock();
            for entry in entries {
                map.insert(entry.log_id.index, entry);
            }
        }
        let file = Arc::clone(&self.file);
        let result = blocking(move || file.lock().append(&records)).await;
        match result {
            Ok(()) => {
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                callback.log_io_completed(Err(io::Error::other(e.to_string())));
                Err(write_error(&e))
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError> {
        tracing::debug!(from = log_id.index, "truncating the Raft log");
        let file = Arc::clone(&self.file);
        blocking(move || file.lock().truncate(log_id.index))
            .await
            .map_err(|e| write_error(&e))?;
        self.entries.lock().split_off(&log_id.index);
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError> {
        tracing::debug!(upto = log_id.index, "purging the Raft log");
        self.write_durable(PURGED_FILE, log_id)
            .await
            .map_err(|e| write_error(&e))?;
        self.last_purged = Some(log_id);
        {
            let mut map = self.entries.lock();
            *map = map.split_off(&log_id.index.saturating_add(1));
        }
        let file = Arc::clone(&self.file);
        blocking(move || file.lock().purge(log_id.index))
            .await
            .map_err(|e| write_error(&e))?;
        Ok(())
    }
}
