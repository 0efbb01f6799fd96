//! Reading one segment through its indexes: the forward scan that turns an index hit into an
//! exact position, lookups by offset and by timestamp, and the checks that decide whether a
//! segment's indexes can be trusted.
//!
//! A [`View`] borrows whatever files the segment has open at the time (its own while active, a
//! cache entry once sealed), so the same code serves both.
//!
//! Not owned here: opening files, appending, rebuilding indexes (`segment.rs`).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::super::batch::{self, BatchHeader};
use super::super::error::{Error, Result};
use super::super::index::{OffsetIndex, TimeIndex};
use super::Position;

/// Bytes read per `pread` when scanning batch headers forward from an index entry.
const SCAN_CHUNK: usize = 16 << 10;

/// A segment's log file and indexes, borrowed for one lookup.
pub(super) struct View<'a> {
    pub(super) file: &'a File,
    pub(super) path: &'a Path,
    pub(super) base_offset: u64,
    /// Bytes of whole batches in the file.
    pub(super) size: u64,
    /// An upper bound of the offsets in the segment.
    pub(super) next_offset: u64,
    pub(super) offset_index: &'a OffsetIndex,
    pub(super) time_index: &'a TimeIndex,
    pub(super) index_interval_bytes: usize,
}

impl View<'_> {
    /// Reads the framing of the batch at `pos` (without the CRC check, used on trusted data).
    pub(super) fn header_at(&self, pos: u64) -> Result<Option<BatchHeader>> {
        let mut buf = [0u8; batch::HEADER_LEN];
        let avail = self.size.saturating_sub(pos).min(batch::HEADER_LEN as u64) as usize;
        let Some(head) = buf.get_mut(..avail) else {
            return Ok(None);
        };
        self.file
            .read_exact_at(head, pos)
            .map_err(|e| Error::io(self.path, e))?;
        Ok(batch::peek_header(&buf, avail))
    }

    /// Checks the indexes against the log as far as a lookup relies on them: entries grow and
    /// stay inside the log, the last offset entry starts its batch and the last time entry
    /// (the segment's maximum timestamp) matches its batch.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the indexes disagree with the log (the caller rebuilds them).
    pub(super) fn check_indexes(&self) -> Result<()> {
        // A non-empty segment always has entries (its first batch is indexed): empty indexes
        // were lost or never written.
        if self.size > 0 && (self.offset_index.entries() == 0 || self.time_index.entries() == 0) {
            return Err(Error::corrupt(format!(
                "{} has batches but an empty index",
                self.path.display()
            )));
        }
        self.offset_index
            .sanity_check(self.size, self.next_offset)?;
        self.time_index.sanity_check(self.next_offset)?;
        if let Some((offset, pos)) = self.last_offset_entry()
            && self.header_at(pos)?.is_none_or(|h| h.base_offset != offset)
        {
            return Err(Error::corrupt(
                "last offset index entry is not at its batch",
            ));
        }
        if let Some((ts, offset)) = self.time_index.last() {
            let batch = match self.find(offset)? {
                Some(p) if p.offset_of_batch == offset => self.header_at(p.position)?,
                _ => None,
            };
            if batch.is_none_or(|h| h.max_timestamp != ts) {
                return Err(Error::corrupt(
                    "last time index entry does not match its batch",
                ));
            }
        }
        Ok(())
    }

    fn last_offset_entry(&self) -> Option<(u64, u64)> {
        self.offset_index
            .entries()
            .checked_sub(1)
            .and_then(|i| self.offset_index.entry(i))
    }

    /// The offset after the last batch, by walking the headers after the last index entry.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the batches after it do not end exactly at the end of the file.
    pub(super) fn scan_next_offset(&self) -> Result<u64> {
        let (entry_offset, start) = self.last_offset_entry().unwrap_or((self.base_offset, 0));
        let mut pos = start;
        let mut next = self.base_offset;
        while pos < self.size {
            let Some(h) = self.header_at(pos)? else {
                return Err(Error::corrupt(format!(
                    "{} has bytes after its last batch at {pos}",
                    self.path.display()
                )));
            };
            if pos == start && h.base_offset != entry_offset {
                return Err(Error::corrupt(
                    "last offset index entry is not at its batch",
                ));
            }
            next = h.next_offset();
            pos += h.size as u64;
        }
        if pos != self.size {
            return Err(Error::corrupt(
                "last batch runs past the end of the segment",
            ));
        }
        Ok(next)
    }

    /// Position of the first batch whose last offset is ≥ `offset`, or `None` when the segment
    /// holds nothing at or past it.
    pub(super) fn find(&self, offset: u64) -> Result<Option<Position>> {
        if offset >= self.next_offset {
            return Ok(None);
        }
        let Some((entry_offset, start)) = self.offset_index.lookup(offset) else {
            return self.scan_from(0, |h| h.last_offset() >= offset);
        };
        // An index is only a hint: the entry must point at the start of the batch it names, or
        // it is ignored (a damaged index that passed the sanity check must not hide records).
        let mut first = None;
        let found = self.scan_from(start, |h| {
            if first.is_none() {
                first = Some(h.base_offset);
                if h.base_offset != entry_offset {
                    return true;
                }
            }
            h.last_offset() >= offset
        })?;
        if first == Some(entry_offset) {
            return Ok(found);
        }
        tracing::warn!(
            path = %self.path.display(),
            entry_offset,
            position = start,
            "offset index entry does not point at its batch; scanning the segment instead"
        );
        self.scan_from(0, |h| h.last_offset() >= offset)
    }

    /// Walks batch headers from `pos` until `stop` says yes; reads in chunks so a lookup costs one
    /// or two `pread`s, not one per batch.
    fn scan_from(
        &self,
        mut pos: u64,
        mut stop: impl FnMut(&BatchHeader) -> bool,
    ) -> Result<Option<Position>> {
        // The wanted header is usually within one index interval of the entry: read that much
        // first, and whole chunks only if the scan goes on.
        let first_chunk = (self.index_interval_bytes + 2 * batch::HEADER_LEN).min(SCAN_CHUNK);
        let mut chunk_len = first_chunk;
        let mut buf = Vec::new();
        while pos < self.size {
            let want = (self.size - pos).min(chunk_len as u64) as usize;
            chunk_len = SCAN_CHUNK;
            if buf.len() < want {
                buf.resize(want, 0);
            }
            let chunk = buf.get_mut(..want).unwrap_or_default();
            self.file
                .read_exact_at(chunk, pos)
                .map_err(|e| Error::io(self.path, e))?;
            let mut at = 0usize;
            while let Some(h) = chunk
                .get(at..)
                .and_then(|rest| batch::peek_header(rest, rest.len()))
            {
                if stop(&h) {
                    return Ok(Some(Position {
                        offset_of_batch: h.base_offset,
                        position: pos + at as u64,
                    }));
                }
                at += h.size;
            }
            if at == 0 {
                // A header that does not fit the chunk: read it on its own.
                match self.header_at(pos)? {
                    Some(h) if stop(&h) => {
                        return Ok(Some(Position {
                            offset_of_batch: h.base_offset,
                            position: pos,
                        }));
                    }
                    Some(h) => at = h.size,
                    None => return Ok(None),
                }
            }
            pos += at as u64;
        }
        Ok(None)
    }

    /// Position where the first batch with max timestamp ≥ `timestamp` starts, looking only at
    /// batches from byte `from` (a batch boundary) on.
    pub(super) fn find_by_timestamp(&self, timestamp: i64, from: u64) -> Result<Option<Position>> {
        let start = match self.time_index.lookup(timestamp.saturating_sub(1)) {
            Some(offset) => self.find(offset)?.map_or(0, |p| p.position),
            None => 0,
        };
        self.scan_from(start.max(from), |h| h.max_timestamp >= timestamp)
    }
}
