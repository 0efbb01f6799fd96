//! Sparse time index: timestamp → the first offset whose batch reaches that timestamp.
//!
//! Entries are 12 bytes, `timestamp: i64 | relative_offset: u32`, big-endian. An entry is added
//! only when a batch raises the segment's maximum timestamp, so timestamps grow strictly. A lookup
//! finds the last entry with timestamp ≤ target, and the caller scans batches from that offset for
//! the first whose max timestamp is ≥ target (Kafka's `offsetsForTimes`).

use std::path::Path;

use super::file::IndexFile;
use crate::log::error::{Error, Result};
use crate::log::storage::Storage;

const ENTRY: usize = 12;

/// One segment's time index.
#[derive(Debug)]
pub struct TimeIndex {
    base_offset: u64,
    file: IndexFile<ENTRY>,
}

fn decode(e: &[u8]) -> (i64, u32) {
    let mut a = [0u8; 8];
    let mut b = [0u8; 4];
    if let (Some(x), Some(y)) = (e.get(..8), e.get(8..12)) {
        a.copy_from_slice(x);
        b.copy_from_slice(y);
    }
    (i64::from_be_bytes(a), u32::from_be_bytes(b))
}

impl TimeIndex {
    /// Loads the index of an active segment into memory, keeping its first `entries` entries.
    ///
    /// # Errors
    /// I/O errors.
    pub fn open_active(
        path: &Path,
        base_offset: u64,
        max_bytes: usize,
        entries: usize,
    ) -> Result<Self> {
        Ok(TimeIndex {
            base_offset,
            file: IndexFile::open_active(path, max_bytes, entries)?,
        })
    }

    /// Maps the trimmed index of a sealed segment read-only.
    ///
    /// # Errors
    /// I/O errors.
    pub fn open_sealed(path: &Path, base_offset: u64) -> Result<Self> {
        Ok(TimeIndex {
            base_offset,
            file: IndexFile::open_sealed(path)?,
        })
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    pub fn entries(&self) -> usize {
        self.file.entries()
    }

    pub fn is_full(&self) -> bool {
        self.file.is_full()
    }

    /// `(timestamp, absolute offset)` of entry `i`.
    pub fn entry(&self, i: usize) -> Option<(i64, u64)> {
        self.file.entry(i).map(|e| {
            let (ts, rel) = decode(e);
            (ts, self.base_offset + u64::from(rel))
        })
    }

    /// The newest entry, which holds the segment's largest indexed timestamp.
    pub fn last(&self) -> Option<(i64, u64)> {
        self.entries().checked_sub(1).and_then(|i| self.entry(i))
    }

    /// Adds an entry when `timestamp` is newer than the last one.
    pub fn maybe_append(&mut self, timestamp: i64, offset: u64) {
        if self.last().is_some_and(|(ts, _)| ts >= timestamp) {
            return;
        }
        let mut e = [0u8; ENTRY];
        e[..8].copy_from_slice(&timestamp.to_be_bytes());
        e[8..].copy_from_slice(&((offset - self.base_offset) as u32).to_be_bytes());
        self.file.push(e);
    }

    /// The offset to start scanning from for `timestamp`: the last entry with an older or equal
    /// timestamp, or `None` to scan from the segment start.
    pub fn lookup(&self, timestamp: i64) -> Option<u64> {
        let (mut lo, mut hi) = (0usize, self.entries());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.entry(mid) {
                Some((ts, _)) if ts <= timestamp => lo = mid + 1,
                _ => hi = mid,
            }
        }
        lo.checked_sub(1)
            .and_then(|i| self.entry(i))
            .map(|(_, o)| o)
    }

    /// Drops entries for offsets ≥ `offset`.
    pub fn truncate_to_offset(&mut self, offset: u64) {
        let keep = (0..self.entries())
            .take_while(|&i| self.entry(i).is_some_and(|(_, o)| o < offset))
            .count();
        self.file.truncate(keep);
    }

    /// Checks that timestamps and offsets grow and offsets stay below `next_offset`.
    ///
    /// # Errors
    /// [`Error::Corrupt`] naming the first bad entry.
    pub fn sanity_check(&self, next_offset: u64) -> Result<()> {
        let mut prev: Option<(i64, u64)> = None;
        for i in 0..self.entries() {
            let Some((ts, o)) = self.entry(i) else {
                return Err(Error::corrupt("index entry missing"));
            };
            let grows = prev.is_none_or(|(pt, po)| ts > pt && o >= po);
            if !grows || o >= next_offset.max(self.base_offset + 1) {
                return Err(Error::corrupt(format!(
                    "time index {} entry {i} ({ts}, {o}) is out of order or past the log",
                    self.path().display()
                )));
            }
            prev = Some((ts, o));
        }
        Ok(())
    }

    /// Writes the entries of an active index to its file and fsyncs it.
    ///
    /// # Errors
    /// I/O errors, [`Error::DiskFull`].
    pub fn flush(&mut self, storage: &Storage) -> Result<()> {
        self.file.flush(storage)
    }

    /// Writes the file trimmed to its entries and maps it read-only.
    ///
    /// # Errors
    /// I/O errors, [`Error::DiskFull`].
    pub fn seal(&mut self, storage: &Storage) -> Result<()> {
        self.file.seal(storage)
    }
}
