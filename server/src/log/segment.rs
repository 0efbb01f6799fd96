//! One segment: a `.log` file of whole batches and its two sparse indexes.
//!
//! Files are named by the 20-digit base offset (`00000000000000000921.log`, `.index`,
//! `.timeindex`). Only the newest segment of a log is active (appended to, indexes mapped
//! writable and preallocated); sealing trims the indexes and adds the final time-index entry.
//! The segment also owns the forward scan that turns an index hit into an exact position, and the
//! validating scan that recovery and compaction use to rebuild indexes.
//!
//! Not owned here: when to roll, flush or delete (`log/mod.rs`, `retention.rs`).

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use super::batch::{self, BatchHeader, Check};
use super::error::{Error, Result};
use super::index::{OffsetIndex, TimeIndex};

/// Bytes read per `pread` when scanning batch headers forward from an index entry.
const SCAN_CHUNK: usize = 16 << 10;

/// File name of a segment file: the base offset padded to 20 digits, and an extension.
pub fn file_name(base_offset: u64, ext: &str) -> String {
    format!("{base_offset:020}.{ext}")
}

/// Parses `00000000000000000921.log` into 921.
pub fn parse_file_name(name: &str, ext: &str) -> Option<u64> {
    let stem = name.strip_suffix(ext)?.strip_suffix('.')?;
    (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()))
        .then(|| stem.parse().ok())
        .flatten()
}

/// How a segment's indexes are sized and spaced (from topic config).
#[derive(Debug, Clone, Copy)]
pub struct IndexConfig {
    /// `segment.index.bytes`: preallocated size of each index of the active segment.
    pub max_index_bytes: usize,
    /// `index.interval.bytes`: log bytes between index entries.
    pub index_interval_bytes: usize,
    /// `max.message.bytes` plus framing: the largest batch the log accepts.
    pub max_batch_bytes: usize,
}

/// Where a batch lies in a segment, for fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub offset_of_batch: u64,
    pub position: u64,
}

/// A segment and its indexes.
#[derive(Debug)]
pub struct Segment {
    base_offset: u64,
    log_path: PathBuf,
    file: Arc<File>,
    size: u64,
    next_offset: u64,
    /// Largest batch max timestamp in the segment and the base offset of that batch.
    max_timestamp: Option<(i64, u64)>,
    /// Max timestamp of the first batch: `segment.ms` counts from it, as Kafka's rolling rule.
    first_batch_timestamp: Option<i64>,
    offset_index: OffsetIndex,
    time_index: TimeIndex,
    bytes_since_index_entry: usize,
    sealed: bool,
    config: IndexConfig,
}

/// Outcome of a validating scan of a segment file.
#[derive(Debug)]
pub struct ScanResult {
    /// Bytes of valid batches from the start of the file.
    pub valid_bytes: u64,
    /// Bytes after them that were not a valid batch (torn tail or corruption).
    pub invalid_bytes: u64,
    pub reason: Option<String>,
}

impl Segment {
    /// Creates an empty active segment.
    ///
    /// # Errors
    /// I/O errors; [`Error::DiskFull`] when the index preallocation does not fit. Nothing is left
    /// behind on failure.
    pub fn create(dir: &Path, base_offset: u64, config: IndexConfig) -> Result<Self> {
        let log_path = dir.join(file_name(base_offset, "log"));
        let result = (|| {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&log_path)
                .map_err(|e| Error::io(&log_path, e))?;
            let offset_index = OffsetIndex::open_active(
                &dir.join(file_name(base_offset, "index")),
                base_offset,
                config.max_index_bytes,
                0,
            )?;
            let time_index = TimeIndex::open_active(
                &dir.join(file_name(base_offset, "timeindex")),
                base_offset,
                config.max_index_bytes,
                0,
            )?;
            Ok(Segment {
                base_offset,
                log_path: log_path.clone(),
                file: Arc::new(file),
                size: 0,
                next_offset: base_offset,
                max_timestamp: None,
                first_batch_timestamp: None,
                offset_index,
                time_index,
                bytes_since_index_entry: 0,
                sealed: false,
                config,
            })
        })();
        if result.is_err() {
            for ext in ["log", "index", "timeindex"] {
                let _ = std::fs::remove_file(dir.join(file_name(base_offset, ext)));
            }
        }
        result
    }

    /// Opens an existing segment, sealed, trusting its indexes; `open_active` or a rebuild follows
    /// where needed. `next_offset` is learned from the last index entry and a scan after it.
    ///
    /// # Errors
    /// I/O errors.
    pub fn open(dir: &Path, base_offset: u64, config: IndexConfig) -> Result<Self> {
        let log_path = dir.join(file_name(base_offset, "log"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&log_path)
            .map_err(|e| Error::io(&log_path, e))?;
        let size = file.metadata().map_err(|e| Error::io(&log_path, e))?.len();
        let offset_index =
            OffsetIndex::open_sealed(&dir.join(file_name(base_offset, "index")), base_offset)?;
        let time_index =
            TimeIndex::open_sealed(&dir.join(file_name(base_offset, "timeindex")), base_offset)?;
        let mut seg = Segment {
            base_offset,
            log_path,
            file: Arc::new(file),
            size,
            next_offset: base_offset,
            max_timestamp: time_index.last(),
            first_batch_timestamp: None,
            offset_index,
            time_index,
            bytes_since_index_entry: 0,
            sealed: true,
            config,
        };
        seg.first_batch_timestamp = seg.header_at(0)?.map(|h| h.max_timestamp);
        Ok(seg)
    }

    /// Learns `next_offset` by scanning from the last index entry, checking the indexes first.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the indexes disagree with the log (the caller rebuilds them).
    pub fn load_next_offset(&mut self) -> Result<()> {
        let last_entry = self
            .offset_index
            .entries()
            .checked_sub(1)
            .and_then(|i| self.offset_index.entry(i));
        // A non-empty segment always has entries (its first batch is indexed): empty indexes
        // were lost or never written.
        if self.size > 0 && (last_entry.is_none() || self.time_index.entries() == 0) {
            return Err(Error::corrupt(format!(
                "{} has batches but an empty index",
                self.log_path.display()
            )));
        }
        let (entry_offset, start) = last_entry.unwrap_or((self.base_offset, 0));
        let mut pos = start;
        let mut next = self.base_offset;
        while pos < self.size {
            let Some(h) = self.header_at(pos)? else {
                return Err(Error::corrupt(format!(
                    "{} has bytes after its last batch at {pos}",
                    self.log_path.display()
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
        self.next_offset = next;
        self.offset_index.sanity_check(self.size, next)?;
        self.time_index.sanity_check(next)?;
        // The last time-index entry names the batch with the segment's largest timestamp, which
        // becomes `max_timestamp`: check it against that batch.
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

    /// Reads the framing of the batch at `pos` (without the CRC check, used on trusted data).
    fn header_at(&self, pos: u64) -> Result<Option<BatchHeader>> {
        let mut buf = [0u8; batch::HEADER_LEN];
        let avail = self.size.saturating_sub(pos).min(batch::HEADER_LEN as u64) as usize;
        let Some(head) = buf.get_mut(..avail) else {
            return Ok(None);
        };
        self.file
            .read_exact_at(head, pos)
            .map_err(|e| Error::io(&self.log_path, e))?;
        Ok(batch::peek_header(&buf, avail))
    }

    pub fn base_offset(&self) -> u64 {
        self.base_offset
    }
    pub fn next_offset(&self) -> u64 {
        self.next_offset
    }
    pub fn size(&self) -> u64 {
        self.size
    }
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }
    pub fn file(&self) -> &Arc<File> {
        &self.file
    }
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }
    pub fn max_timestamp(&self) -> Option<i64> {
        self.max_timestamp.map(|(ts, _)| ts)
    }
    pub fn first_batch_timestamp(&self) -> Option<i64> {
        self.first_batch_timestamp
    }
    pub fn is_index_full(&self) -> bool {
        self.offset_index.is_full() || self.time_index.is_full()
    }
    /// The offset index, for tests that check every entry against the log.
    #[cfg(test)]
    pub(crate) fn offset_index(&self) -> &OffsetIndex {
        &self.offset_index
    }
    /// The time index, for tests that check every entry against the log.
    #[cfg(test)]
    pub(crate) fn time_index(&self) -> &TimeIndex {
        &self.time_index
    }

    /// Appends a checked batch whose base offset is already set.
    ///
    /// # Errors
    /// [`Error::DiskFull`] after rolling the file back to its old size; other I/O errors as
    /// [`Error::Io`] (also rolled back where possible). [`Error::Offline`] when the rollback
    /// itself failed.
    pub fn append(&mut self, bytes: &[u8], header: &BatchHeader) -> Result<()> {
        if let Err(e) = self.file.write_all_at(bytes, self.size) {
            let full = e.raw_os_error() == Some(rustix::io::Errno::NOSPC.raw_os_error());
            if self.file.set_len(self.size).is_err() {
                return Err(Error::Offline {
                    path: self.log_path.clone(),
                });
            }
            return Err(if full {
                Error::DiskFull {
                    path: self.log_path.clone(),
                }
            } else {
                Error::io(&self.log_path, e)
            });
        }
        self.index_batch(header, self.size);
        self.size += bytes.len() as u64;
        self.next_offset = header.next_offset();
        Ok(())
    }

    /// Adds index entries for a batch at `position`, every `index.interval.bytes`.
    fn index_batch(&mut self, h: &BatchHeader, position: u64) {
        if self.first_batch_timestamp.is_none() {
            self.first_batch_timestamp = Some(h.max_timestamp);
        }
        if self
            .max_timestamp
            .is_none_or(|(ts, _)| h.max_timestamp > ts)
        {
            self.max_timestamp = Some((h.max_timestamp, h.base_offset));
        }
        if position == 0 || self.bytes_since_index_entry >= self.config.index_interval_bytes {
            self.offset_index.append(h.base_offset, position);
            if let Some((ts, o)) = self.max_timestamp {
                self.time_index.maybe_append(ts, o);
            }
            self.bytes_since_index_entry = 0;
        }
        self.bytes_since_index_entry += h.size;
    }

    /// Position of the first batch whose last offset is ≥ `offset`, or `None` when the segment
    /// holds nothing at or past it.
    ///
    /// # Errors
    /// I/O errors.
    pub fn find(&self, offset: u64) -> Result<Option<Position>> {
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
            path = %self.log_path.display(),
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
        let first_chunk =
            (self.config.index_interval_bytes + 2 * batch::HEADER_LEN).min(SCAN_CHUNK);
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
                .map_err(|e| Error::io(&self.log_path, e))?;
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
    ///
    /// # Errors
    /// I/O errors.
    pub fn find_by_timestamp(&self, timestamp: i64, from: u64) -> Result<Option<Position>> {
        if self.max_timestamp().is_none_or(|max| max < timestamp) {
            return Ok(None);
        }
        let start = match self.time_index.lookup(timestamp.saturating_sub(1)) {
            Some(offset) => self.find(offset)?.map_or(0, |p| p.position),
            None => 0,
        };
        self.scan_from(start.max(from), |h| h.max_timestamp >= timestamp)
    }

    /// Reads `len` bytes at `position` (callers keep within `size`).
    ///
    /// # Errors
    /// I/O errors.
    pub fn read_at(file: &File, path: &Path, position: u64, len: usize) -> Result<Bytes> {
        let mut buf = BytesMut::zeroed(len);
        file.read_exact_at(&mut buf, position)
            .map_err(|e| Error::io(path, e))?;
        Ok(buf.freeze())
    }

    /// Fsyncs the log file.
    ///
    /// # Errors
    /// I/O errors: the caller takes the log offline.
    pub fn sync(&self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| Error::io(&self.log_path, e))
    }

    /// Writes the final time-index entry, trims both indexes and makes them read-only.
    ///
    /// # Errors
    /// I/O errors.
    pub fn seal(&mut self) -> Result<()> {
        if self.sealed {
            return Ok(());
        }
        if let Some((ts, o)) = self.max_timestamp {
            self.time_index.maybe_append(ts, o);
        }
        self.offset_index.seal()?;
        self.time_index.seal()?;
        self.sealed = true;
        Ok(())
    }

    /// Makes a sealed segment appendable again (after a truncation made it the newest).
    ///
    /// # Errors
    /// I/O errors, [`Error::DiskFull`].
    pub fn unseal(&mut self) -> Result<()> {
        if !self.sealed {
            return Ok(());
        }
        self.offset_index = OffsetIndex::open_active(
            self.offset_index.path(),
            self.base_offset,
            self.config.max_index_bytes,
            self.offset_index.entries(),
        )?;
        self.time_index = TimeIndex::open_active(
            self.time_index.path(),
            self.base_offset,
            self.config.max_index_bytes,
            self.time_index.entries(),
        )?;
        self.bytes_since_index_entry = self.config.index_interval_bytes;
        self.sealed = false;
        Ok(())
    }

    /// Removes every batch whose last offset is ≥ `offset`; returns the bytes removed.
    ///
    /// # Errors
    /// I/O errors.
    pub fn truncate_to(&mut self, offset: u64) -> Result<u64> {
        let Some(p) = self.find(offset)? else {
            return Ok(0);
        };
        let removed = self.size - p.position;
        self.unseal()?;
        self.truncate_bytes(p.position)?;
        Ok(removed)
    }

    /// Cuts the log file at `position` (a batch boundary) and rebuilds what follows from it.
    fn truncate_bytes(&mut self, position: u64) -> Result<()> {
        self.file
            .set_len(position)
            .map_err(|e| Error::io(&self.log_path, e))?;
        self.size = position;
        self.rebuild_indexes()
    }

    /// Scans the whole file, checking framing, CRC and offset order of every batch, and rebuilds
    /// both indexes from it. Stops at the first invalid byte and reports it; the caller decides
    /// whether to truncate there.
    ///
    /// # Errors
    /// I/O errors.
    pub fn scan_and_rebuild(&mut self) -> Result<ScanResult> {
        self.unseal()?;
        self.offset_index.truncate_to_offset(self.base_offset);
        self.time_index.truncate_to_offset(self.base_offset);
        self.max_timestamp = None;
        self.first_batch_timestamp = None;
        self.bytes_since_index_entry = 0;
        let file_len = self
            .file
            .metadata()
            .map_err(|e| Error::io(&self.log_path, e))?
            .len();
        let chunk_len = (8usize << 20).max(self.config.max_batch_bytes);
        let mut pos = 0u64;
        let mut next = self.base_offset;
        let mut reason = None;
        // Sized by the file, not by `max.message.bytes`, which may allow gigabytes.
        let mut buf = vec![0u8; chunk_len.min(usize::try_from(file_len).unwrap_or(usize::MAX))];
        'outer: while pos < file_len {
            let want = (file_len - pos).min(chunk_len as u64) as usize;
            let chunk = buf.get_mut(..want).unwrap_or_default();
            self.file
                .read_exact_at(chunk, pos)
                .map_err(|e| Error::io(&self.log_path, e))?;
            let mut at = 0usize;
            while let Some(rest) = chunk.get(at..).filter(|r| !r.is_empty()) {
                match batch::check_batch(rest, self.config.max_batch_bytes) {
                    // The base offset is outside the CRC: it must not go back, and the batch
                    // must fit the 32-bit relative offsets of this segment (rolling keeps it so).
                    Ok(Check::Valid(h))
                        if h.base_offset >= next
                            && (h.base_offset - self.base_offset)
                                .checked_add(u64::from(h.last_offset_delta))
                                .is_some_and(|rel| rel <= u64::from(u32::MAX)) =>
                    {
                        self.index_batch(&h, pos + at as u64);
                        next = h.next_offset();
                        at += h.size;
                    }
                    Ok(Check::Valid(h)) => {
                        reason = Some(format!(
                            "batch base offset {} is before {next} or past the segment's range",
                            h.base_offset
                        ));
                        pos += at as u64;
                        break 'outer;
                    }
                    Ok(Check::Incomplete) if want < chunk_len || at == 0 => {
                        // The file ends inside this batch: a torn write.
                        reason = Some("batch runs past the end of the file".into());
                        pos += at as u64;
                        break 'outer;
                    }
                    Ok(Check::Incomplete) => break,
                    Err(e) => {
                        reason = Some(e.to_string());
                        pos += at as u64;
                        break 'outer;
                    }
                }
            }
            pos += at as u64;
        }
        self.size = pos;
        self.next_offset = next;
        Ok(ScanResult {
            valid_bytes: pos,
            invalid_bytes: file_len - pos,
            reason,
        })
    }

    /// Rebuilds the indexes from a log file already known to be valid.
    fn rebuild_indexes(&mut self) -> Result<()> {
        let scan = self.scan_and_rebuild()?;
        if let Some(reason) = scan.reason {
            return Err(Error::corrupt(reason));
        }
        Ok(())
    }

    /// Drops the bytes after the valid prefix found by [`Self::scan_and_rebuild`].
    ///
    /// # Errors
    /// I/O errors.
    pub fn truncate_invalid_tail(&mut self) -> Result<()> {
        self.file
            .set_len(self.size)
            .map_err(|e| Error::io(&self.log_path, e))?;
        self.file
            .sync_all()
            .map_err(|e| Error::io(&self.log_path, e))
    }

    /// Flushes the indexes' maps to disk.
    ///
    /// # Errors
    /// I/O errors.
    pub fn flush_indexes(&self) -> Result<()> {
        self.offset_index.flush()?;
        self.time_index.flush()
    }

    /// Deletes the segment's files.
    ///
    /// # Errors
    /// I/O errors other than a file already gone.
    pub fn delete_files(&self) -> Result<()> {
        for p in [
            self.log_path.as_path(),
            self.offset_index.path(),
            self.time_index.path(),
        ] {
            match std::fs::remove_file(p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(p, e)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn file_names_round_trip() {
        assert_eq!(file_name(921, "log"), "00000000000000000921.log");
        assert_eq!(
            parse_file_name("00000000000000000921.log", "log"),
            Some(921)
        );
        assert_eq!(parse_file_name("0921.log", "log"), None);
        assert_eq!(parse_file_name("00000000000000000921.index", "log"), None);
    }
}
