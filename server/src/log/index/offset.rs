//! Sparse offset index: relative offset → byte position of the batch that starts there.
//!
//! Entries are 8 bytes, `relative_offset: u32 | position: u32`, both big-endian, strictly
//! increasing. A lookup finds the last entry at or before the target offset; the caller then scans
//! forward from its position. Example with base offset 100:
//!
//! | entry | relative offset | position |
//! |------:|----------------:|---------:|
//! | 0     | 0               | 0        |
//! | 1     | 40              | 4_120    |
//! | 2     | 85              | 8_301    |
//!
//! `lookup(100)` → position 0, `lookup(150)` → 4_120, `lookup(1_000)` → 8_301.

use std::path::Path;

use super::file::IndexFile;
use crate::log::error::{Error, Result};
use crate::log::storage::Storage;

const ENTRY: usize = 8;

/// One segment's offset index.
#[derive(Debug)]
pub struct OffsetIndex {
    base_offset: u64,
    file: IndexFile<ENTRY>,
}

fn decode(e: &[u8]) -> (u32, u32) {
    let mut a = [0u8; 4];
    let mut b = [0u8; 4];
    if let (Some(x), Some(y)) = (e.get(..4), e.get(4..8)) {
        a.copy_from_slice(x);
        b.copy_from_slice(y);
    }
    (u32::from_be_bytes(a), u32::from_be_bytes(b))
}

impl OffsetIndex {
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
        Ok(OffsetIndex {
            base_offset,
            file: IndexFile::open_active(path, max_bytes, entries)?,
        })
    }

    /// Maps the trimmed index of a sealed segment read-only.
    ///
    /// # Errors
    /// I/O errors.
    pub fn open_sealed(path: &Path, base_offset: u64) -> Result<Self> {
        Ok(OffsetIndex {
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

    /// `(absolute offset, position)` of entry `i`.
    pub fn entry(&self, i: usize) -> Option<(u64, u64)> {
        self.file.entry(i).map(|e| {
            let (rel, pos) = decode(e);
            (self.base_offset + u64::from(rel), u64::from(pos))
        })
    }

    /// Adds an entry; offsets and positions must grow.
    pub fn append(&mut self, offset: u64, position: u64) {
        let rel = (offset - self.base_offset) as u32;
        let mut e = [0u8; ENTRY];
        e[..4].copy_from_slice(&rel.to_be_bytes());
        e[4..].copy_from_slice(&(position as u32).to_be_bytes());
        self.file.push(e);
    }

    /// The last entry whose offset is ≤ `offset`, as `(offset, position)`; `None` when the
    /// target precedes every entry (scan from the segment start).
    pub fn lookup(&self, offset: u64) -> Option<(u64, u64)> {
        let n = self.entries();
        // partition_point over entry indexes: first entry with offset > target.
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.entry(mid) {
                Some((o, _)) if o <= offset => lo = mid + 1,
                _ => hi = mid,
            }
        }
        lo.checked_sub(1).and_then(|i| self.entry(i))
    }

    /// Drops entries for offsets ≥ `offset`.
    pub fn truncate_to_offset(&mut self, offset: u64) {
        let keep = (0..self.entries())
            .take_while(|&i| self.entry(i).is_some_and(|(o, _)| o < offset))
            .count();
        self.file.truncate(keep);
    }

    /// Checks that entries grow strictly and stay inside the log file.
    ///
    /// # Errors
    /// [`Error::Corrupt`] naming the first bad entry.
    pub fn sanity_check(&self, log_len: u64, next_offset: u64) -> Result<()> {
        let mut prev: Option<(u64, u64)> = None;
        for i in 0..self.entries() {
            let Some((o, p)) = self.entry(i) else {
                return Err(Error::corrupt("index entry missing"));
            };
            let grows = prev.is_none_or(|(po, pp)| o > po && p > pp);
            if !grows || p >= log_len.max(1) || o >= next_offset.max(self.base_offset + 1) {
                return Err(Error::corrupt(format!(
                    "offset index {} entry {i} ({o}, {p}) is out of order or past the log",
                    self.path().display()
                )));
            }
            prev = Some((o, p));
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
