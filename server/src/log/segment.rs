//! One segment: a `.log` file of whole batches and its two sparse indexes.
//!
//! Files are named by the 20-digit base offset (`00000000000000000921.log`, `.index`,
//! `.timeindex`). Only the newest segment of a log is active: it keeps its log file open for
//! appends and its index entries in memory. Sealing writes the indexes (trimmed, with the final
//! time-index entry) and closes everything: a sealed segment costs no descriptor and no map until
//! it is read, when its log file is opened and its indexes mapped through the broker-wide cache
//! of `open_files.rs`, which closes the least recently used ones. The first load of a sealed
//! segment checks its indexes against the log and rebuilds them if they disagree.
//!
//! Not owned here: when to roll, flush or delete (`log/mod.rs`, `retention.rs`); lookups through
//! the indexes (`segment/view.rs`).

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

mod sealed;
mod view;

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use super::batch::{self, BatchHeader, Check};
use super::error::{Error, Result};
use super::index::{OffsetIndex, TimeIndex};
use super::open_files;
use super::storage::Storage;
pub use sealed::SealedFiles;
use sealed::open_with_retry;
use view::View;

/// Each whole MiB appended is handed to the device at once ([`Storage::start_writeback`]):
/// RocksDB's recommended `bytes_per_sync`, large enough that the hint costs one system call per
/// MiB and small enough that a flush waits for at most this much plus what the device is still
/// writing.
const WRITEBACK_CHUNK: u64 = 1 << 20;

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
    /// `segment.index.bytes`: most bytes of entries in each index of a segment.
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

/// The open state of the active segment.
#[derive(Debug)]
struct Active {
    file: Arc<File>,
    offset_index: OffsetIndex,
    time_index: TimeIndex,
    /// Largest batch max timestamp in the segment and the base offset of that batch.
    max_timestamp: Option<(i64, u64)>,
    /// Max timestamp of the first batch: `segment.ms` counts from it, as Kafka's rolling rule.
    first_batch_timestamp: Option<i64>,
    bytes_since_index_entry: usize,
}

#[derive(Debug)]
enum State {
    Active(Box<Active>),
    Sealed {
        /// Known once the segment was sealed here or its time index was loaded.
        max_timestamp: OnceLock<Option<i64>>,
        /// Its index files were written here or passed the check once: they are never written
        /// again, so a reload after eviction skips the check.
        indexes_checked: AtomicBool,
    },
}

/// A segment and its indexes.
#[derive(Debug)]
pub struct Segment {
    /// Key of this instance's files in the cache of open sealed segments.
    id: u64,
    base_offset: u64,
    log_path: PathBuf,
    size: u64,
    /// The offset after the last batch; for a sealed segment opened lazily, the next segment's
    /// base (an upper bound: compaction may have removed the last offsets).
    next_offset: u64,
    config: IndexConfig,
    state: State,
    /// The log's seam for every call that changes a file.
    storage: Storage,
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

fn read_write() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.read(true).write(true);
    o
}

impl Segment {
    fn index_path(&self, ext: &str) -> PathBuf {
        self.log_path.with_extension(ext)
    }

    fn new(
        dir: &Path,
        base_offset: u64,
        size: u64,
        config: IndexConfig,
        state: State,
        storage: &Storage,
    ) -> Self {
        Segment {
            id: open_files::next_id(),
            base_offset,
            log_path: dir.join(file_name(base_offset, "log")),
            size,
            next_offset: base_offset,
            config,
            state,
            storage: storage.clone(),
        }
    }

    /// Creates an empty active segment, with empty index files beside it.
    ///
    /// # Errors
    /// I/O errors; [`Error::TooManyOpenFiles`]. Nothing is left behind on failure.
    pub fn create(
        dir: &Path,
        base_offset: u64,
        config: IndexConfig,
        storage: &Storage,
    ) -> Result<Self> {
        let result = (|| {
            let mut options = read_write();
            options.create(true).truncate(true);
            let log_path = dir.join(file_name(base_offset, "log"));
            let file = open_with_retry(&log_path, || storage.create(&log_path, &options))?;
            let mut indexes = [PathBuf::new(), PathBuf::new()];
            let mut create = OpenOptions::new();
            create.write(true).create(true).truncate(true);
            for (slot, ext) in indexes.iter_mut().zip(["index", "timeindex"]) {
                *slot = dir.join(file_name(base_offset, ext));
                storage
                    .create(slot, &create)
                    .map_err(|e| Error::write(&*slot, e))?;
            }
            let [oi, ti] = &indexes;
            let active = Active {
                file: Arc::new(file),
                offset_index: OffsetIndex::open_active(oi, base_offset, config.max_index_bytes, 0)?,
                time_index: TimeIndex::open_active(ti, base_offset, config.max_index_bytes, 0)?,
                max_timestamp: None,
                first_batch_timestamp: None,
                bytes_since_index_entry: 0,
            };
            Ok(Segment::new(
                dir,
                base_offset,
                0,
                config,
                State::Active(Box::new(active)),
                storage,
            ))
        })();
        if result.is_err() {
            for ext in ["log", "index", "timeindex"] {
                let _ = storage.remove_file(&dir.join(file_name(base_offset, ext)));
            }
        }
        result
    }

    /// Opens an existing segment to rebuild its indexes ([`Self::scan_and_rebuild`] follows):
    /// active, with empty indexes.
    ///
    /// # Errors
    /// I/O errors.
    pub fn open(
        dir: &Path,
        base_offset: u64,
        config: IndexConfig,
        storage: &Storage,
    ) -> Result<Self> {
        let mut seg = Segment::new(
            dir,
            base_offset,
            0,
            config,
            State::Sealed {
                max_timestamp: OnceLock::new(),
                indexes_checked: AtomicBool::new(false),
            },
            storage,
        );
        seg.activate_empty()?;
        Ok(seg)
    }

    /// Opens the newest segment of a cleanly closed log to append to, trusting its indexes once
    /// they pass [`Self::load_next_offset`].
    ///
    /// # Errors
    /// I/O errors.
    pub fn open_active(
        dir: &Path,
        base_offset: u64,
        config: IndexConfig,
        storage: &Storage,
    ) -> Result<Self> {
        let mut seg = Segment::new(
            dir,
            base_offset,
            0,
            config,
            State::Sealed {
                max_timestamp: OnceLock::new(),
                indexes_checked: AtomicBool::new(false),
            },
            storage,
        );
        let file = open_with_retry(&seg.log_path, || read_write().open(&seg.log_path))?;
        seg.size = file
            .metadata()
            .map_err(|e| Error::io(&seg.log_path, e))?
            .len();
        // A damaged file may be any length: entries past `segment.index.bytes` (counted in the
        // smallest entry, 8 bytes) are not loaded; lookups scan a little further and the
        // segment rolls, as a full index makes it.
        let max = config.max_index_bytes;
        let keep = max / 8;
        let active = Active {
            file: Arc::new(file),
            offset_index: OffsetIndex::open_active(
                &seg.index_path("index"),
                base_offset,
                max,
                keep,
            )?,
            time_index: TimeIndex::open_active(
                &seg.index_path("timeindex"),
                base_offset,
                max,
                keep,
            )?,
            max_timestamp: None,
            first_batch_timestamp: None,
            bytes_since_index_entry: config.index_interval_bytes,
        };
        seg.state = State::Active(Box::new(active));
        Ok(seg)
    }

    /// A sealed segment of `size` bytes whose offsets end before `next_offset`, opened only when
    /// first read: opening a log touches nothing below its recovery point.
    pub fn sealed(
        dir: &Path,
        base_offset: u64,
        size: u64,
        next_offset: u64,
        c: IndexConfig,
        storage: &Storage,
    ) -> Self {
        let mut seg = Segment::new(
            dir,
            base_offset,
            size,
            c,
            State::Sealed {
                max_timestamp: OnceLock::new(),
                indexes_checked: AtomicBool::new(false),
            },
            storage,
        );
        seg.next_offset = next_offset.max(base_offset);
        seg
    }

    /// Learns `next_offset` of the active segment by scanning from the last index entry, and
    /// checks the indexes.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the indexes disagree with the log (the caller rebuilds them).
    pub fn load_next_offset(&mut self) -> Result<()> {
        let Some(view) = self.active_view() else {
            return Ok(());
        };
        let next = view.scan_next_offset()?;
        let view = View {
            next_offset: next,
            ..view
        };
        view.check_indexes()?;
        let first = view.header_at(0)?.map(|h| h.max_timestamp);
        let max = self.active_ref().and_then(|a| a.time_index.last());
        self.next_offset = next;
        if let State::Active(a) = &mut self.state {
            a.first_batch_timestamp = first;
            a.max_timestamp = max;
        }
        Ok(())
    }

    fn active_ref(&self) -> Option<&Active> {
        match &self.state {
            State::Active(a) => Some(a),
            State::Sealed { .. } => None,
        }
    }

    fn view_of<'a>(&'a self, file: &'a File, oi: &'a OffsetIndex, ti: &'a TimeIndex) -> View<'a> {
        View {
            file,
            path: &self.log_path,
            base_offset: self.base_offset,
            size: self.size,
            next_offset: self.next_offset,
            offset_index: oi,
            time_index: ti,
            index_interval_bytes: self.config.index_interval_bytes,
        }
    }

    fn active_view(&self) -> Option<View<'_>> {
        self.active_ref()
            .map(|a| self.view_of(&a.file, &a.offset_index, &a.time_index))
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
    /// The instance's identity: a segment replaced on disk gets a new one.
    pub fn id(&self) -> u64 {
        self.id
    }
    /// The log file, opened now if the segment is sealed and not in the cache.
    ///
    /// # Errors
    /// I/O errors, [`Error::TooManyOpenFiles`].
    pub fn file(&self) -> Result<Arc<File>> {
        match &self.state {
            State::Active(a) => Ok(Arc::clone(&a.file)),
            State::Sealed { .. } => Ok(Arc::clone(&self.sealed_files()?.file)),
        }
    }
    /// The log file if it is open now, without opening it.
    pub fn open_file(&self) -> Option<Arc<File>> {
        match &self.state {
            State::Active(a) => Some(Arc::clone(&a.file)),
            State::Sealed { .. } => open_files::sealed()
                .get(self.id)
                .map(|f| Arc::clone(&f.file)),
        }
    }
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }
    /// The largest batch timestamp; reads a sealed segment's time index the first time.
    ///
    /// # Errors
    /// I/O errors opening a sealed segment.
    pub fn max_timestamp(&self) -> Result<Option<i64>> {
        match &self.state {
            State::Active(a) => Ok(a.max_timestamp.map(|(ts, _)| ts)),
            State::Sealed { max_timestamp, .. } => {
                if let Some(ts) = max_timestamp.get() {
                    return Ok(*ts);
                }
                let ts = self.sealed_files()?.time_index.last().map(|(ts, _)| ts);
                Ok(*max_timestamp.get_or_init(|| ts))
            }
        }
    }
    /// The first batch's timestamp of the active segment (`segment.ms` counts from it).
    pub fn first_batch_timestamp(&self) -> Option<i64> {
        self.active_ref().and_then(|a| a.first_batch_timestamp)
    }
    pub fn is_index_full(&self) -> bool {
        self.active_ref()
            .is_none_or(|a| a.offset_index.is_full() || a.time_index.is_full())
    }
    /// Both indexes, loaded as a read would, for tests that check every entry against the log.
    #[cfg(test)]
    pub(crate) fn with_indexes<R>(&self, f: impl FnOnce(&OffsetIndex, &TimeIndex) -> R) -> R {
        match &self.state {
            State::Active(a) => f(&a.offset_index, &a.time_index),
            State::Sealed { .. } => {
                let files = self.sealed_files().unwrap_or_else(|e| panic!("{e}"));
                f(&files.offset_index, &files.time_index)
            }
        }
    }

    /// Appends a checked batch whose base offset is already set.
    ///
    /// # Errors
    /// [`Error::DiskFull`] after rolling the file back to its old size; other I/O errors as
    /// [`Error::Io`] (also rolled back where possible). [`Error::Offline`] when the rollback
    /// itself failed or the segment is sealed.
    pub fn append(&mut self, bytes: &[u8], header: &BatchHeader) -> Result<()> {
        let State::Active(a) = &mut self.state else {
            return Err(Error::Offline {
                path: self.log_path.clone(),
            });
        };
        if let Err(e) = self.storage.write_all_at(&a.file, bytes, self.size) {
            // Cut what part of the batch reached the file, so no reader or recovery sees it.
            if self.storage.set_len(&a.file, self.size).is_err() {
                return Err(Error::Offline {
                    path: self.log_path.clone(),
                });
            }
            return Err(Error::write(&self.log_path, e));
        }
        a.index_batch(header, self.size, self.config.index_interval_bytes);
        let done = self.size / WRITEBACK_CHUNK * WRITEBACK_CHUNK;
        self.size += bytes.len() as u64;
        let full = self.size / WRITEBACK_CHUNK * WRITEBACK_CHUNK;
        if full > done {
            self.storage.start_writeback(&a.file, done, full - done);
        }
        self.next_offset = header.next_offset();
        Ok(())
    }

    /// Position of the first batch whose last offset is ≥ `offset`, or `None` when the segment
    /// holds nothing at or past it.
    ///
    /// # Errors
    /// I/O errors, [`Error::TooManyOpenFiles`] opening a sealed segment.
    pub fn find(&self, offset: u64) -> Result<Option<Position>> {
        if offset >= self.next_offset {
            return Ok(None);
        }
        if let Some(view) = self.active_view() {
            return view.find(offset);
        }
        let f = self.sealed_files()?;
        self.view_of(&f.file, &f.offset_index, &f.time_index)
            .find(offset)
    }

    /// Position where the first batch with max timestamp ≥ `timestamp` starts, looking only at
    /// batches from byte `from` (a batch boundary) on.
    ///
    /// # Errors
    /// I/O errors.
    pub fn find_by_timestamp(&self, timestamp: i64, from: u64) -> Result<Option<Position>> {
        if self.max_timestamp()?.is_none_or(|max| max < timestamp) {
            return Ok(None);
        }
        if let Some(view) = self.active_view() {
            return view.find_by_timestamp(timestamp, from);
        }
        let f = self.sealed_files()?;
        self.view_of(&f.file, &f.offset_index, &f.time_index)
            .find_by_timestamp(timestamp, from)
    }

    /// Reads `len` bytes at `position` (callers keep within `size`).
    ///
    /// # Errors
    /// I/O errors.
    pub fn read_at(file: &File, path: &Path, position: u64, len: usize) -> Result<Bytes> {
        // Straight into uninitialised capacity: zeroing a multi-MiB buffer that `pread` then
        // overwrites cost as much as the copy out of the page cache on the stateless read. The
        // buffer comes from, and goes back to, the read pool.
        let mut buf = super::read_pool::take(len);
        while buf.len() < len {
            let at = position + buf.len() as u64;
            match rustix::io::pread(file, rustix::buffer::spare_capacity(&mut buf), at) {
                Ok(0) => {
                    let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
                    return Err(Error::io(path, eof));
                }
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(Error::io(path, e.into())),
            }
        }
        buf.truncate(len);
        Ok(super::read_pool::freeze(buf))
    }

    /// Writes the final time-index entry and both indexes, trimmed, then closes the segment's
    /// files. On failure the segment stays active and unchanged.
    ///
    /// # Errors
    /// I/O errors, [`Error::DiskFull`], [`Error::TooManyOpenFiles`].
    pub fn seal(&mut self) -> Result<()> {
        let State::Active(a) = &mut self.state else {
            return Ok(());
        };
        if let Some((ts, o)) = a.max_timestamp {
            a.time_index.maybe_append(ts, o);
        }
        a.offset_index.flush(&self.storage)?;
        a.time_index.flush(&self.storage)?;
        let max_timestamp = OnceLock::new();
        let _ = max_timestamp.set(a.max_timestamp.map(|(ts, _)| ts));
        self.state = State::Sealed {
            max_timestamp,
            indexes_checked: AtomicBool::new(true),
        };
        open_files::sealed().remove(self.id);
        Ok(())
    }

    /// Makes a sealed segment appendable again (after a truncation made it the newest).
    ///
    /// # Errors
    /// I/O errors.
    pub fn unseal(&mut self) -> Result<()> {
        if self.active_ref().is_some() {
            return Ok(());
        }
        let (oi, ti) = {
            let f = self.sealed_files()?;
            (f.offset_index.entries(), f.time_index.entries())
        };
        let file = open_with_retry(&self.log_path, || read_write().open(&self.log_path))?;
        let max = self.config.max_index_bytes;
        let mut active = Active {
            file: Arc::new(file),
            offset_index: OffsetIndex::open_active(
                &self.index_path("index"),
                self.base_offset,
                max,
                oi,
            )?,
            time_index: TimeIndex::open_active(
                &self.index_path("timeindex"),
                self.base_offset,
                max,
                ti,
            )?,
            max_timestamp: None,
            first_batch_timestamp: None,
            bytes_since_index_entry: self.config.index_interval_bytes,
        };
        active.max_timestamp = active.time_index.last();
        let view = self.view_of(&active.file, &active.offset_index, &active.time_index);
        active.first_batch_timestamp = view.header_at(0)?.map(|h| h.max_timestamp);
        open_files::sealed().remove(self.id);
        self.state = State::Active(Box::new(active));
        Ok(())
    }

    /// Makes the segment active with empty indexes, without reading them (a rebuild follows).
    fn activate_empty(&mut self) -> Result<()> {
        if let State::Active(a) = &mut self.state {
            a.offset_index.truncate_to_offset(self.base_offset);
            a.time_index.truncate_to_offset(self.base_offset);
            return Ok(());
        }
        let file = open_with_retry(&self.log_path, || read_write().open(&self.log_path))?;
        let max = self.config.max_index_bytes;
        let active = Active {
            file: Arc::new(file),
            offset_index: OffsetIndex::open_active(
                &self.index_path("index"),
                self.base_offset,
                max,
                0,
            )?,
            time_index: TimeIndex::open_active(
                &self.index_path("timeindex"),
                self.base_offset,
                max,
                0,
            )?,
            max_timestamp: None,
            first_batch_timestamp: None,
            bytes_since_index_entry: 0,
        };
        open_files::sealed().remove(self.id);
        self.state = State::Active(Box::new(active));
        Ok(())
    }

    /// Removes every batch whose last offset is ≥ `offset`; returns the bytes removed.
    ///
    /// # Errors
    /// I/O errors.
    pub fn truncate_to(&mut self, offset: u64) -> Result<u64> {
        let Some(p) = self.find(offset)? else {
            // Nothing stored here reaches `offset`, but the segment's end may lie above what it
            // stores: compaction removed its last batches, and after a restart a sealed segment
            // ends at its successor's base. It becomes the active segment, whose end is what it
            // stores; the log keeps the offsets handed out below `offset`
            // (`Log::truncate_segments`).
            self.unseal()?;
            self.load_next_offset()?;
            return Ok(0);
        };
        let removed = self.size - p.position;
        self.unseal()?;
        self.truncate_bytes(p.position)?;
        Ok(removed)
    }

    /// Cuts the log file at `position` (a batch boundary) and rebuilds what follows from it.
    fn truncate_bytes(&mut self, position: u64) -> Result<()> {
        self.set_file_len(position)?;
        self.size = position;
        self.rebuild_indexes()
    }

    fn set_file_len(&self, len: u64) -> Result<()> {
        let State::Active(a) = &self.state else {
            return Err(Error::Offline {
                path: self.log_path.clone(),
            });
        };
        self.storage
            .set_len(&a.file, len)
            .map_err(|e| Error::io(&self.log_path, e))
    }

    /// Scans the whole file, checking framing, CRC and offset order of every batch, and rebuilds
    /// both indexes from it. Stops at the first invalid byte and reports it; the caller decides
    /// whether to truncate there.
    ///
    /// # Errors
    /// I/O errors.
    pub fn scan_and_rebuild(&mut self) -> Result<ScanResult> {
        self.activate_empty()?;
        let State::Active(a) = &mut self.state else {
            return Err(Error::Offline {
                path: self.log_path.clone(),
            });
        };
        a.max_timestamp = None;
        a.first_batch_timestamp = None;
        a.bytes_since_index_entry = 0;
        let file = Arc::clone(&a.file);
        let file_len = file
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
            file.read_exact_at(chunk, pos)
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
                        a.index_batch(&h, pos + at as u64, self.config.index_interval_bytes);
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
        self.set_file_len(self.size)?;
        if let State::Active(a) = &self.state {
            self.storage
                .sync_all(&a.file, &self.log_path)
                .map_err(|e| Error::io(&self.log_path, e))?;
        }
        Ok(())
    }

    /// Deletes the segment's files.
    ///
    /// # Errors
    /// I/O errors other than a file already gone.
    pub fn delete_files(&self) -> Result<()> {
        open_files::sealed().remove(self.id);
        for p in [
            self.log_path.clone(),
            self.index_path("index"),
            self.index_path("timeindex"),
        ] {
            match self.storage.remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&p, e)),
            }
        }
        Ok(())
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        // Only this instance can ever use its cache entry.
        if matches!(self.state, State::Sealed { .. }) {
            open_files::sealed().remove(self.id);
        }
    }
}

impl Active {
    /// Adds index entries for a batch at `position`, every `index.interval.bytes`.
    fn index_batch(&mut self, h: &BatchHeader, position: u64, interval: usize) {
        if self.first_batch_timestamp.is_none() {
            self.first_batch_timestamp = Some(h.max_timestamp);
        }
        if self
            .max_timestamp
            .is_none_or(|(ts, _)| h.max_timestamp > ts)
        {
            self.max_timestamp = Some((h.max_timestamp, h.base_offset));
        }
        if position == 0 || self.bytes_since_index_entry >= interval {
            self.offset_index.append(h.base_offset, position);
            if let Some((ts, o)) = self.max_timestamp {
                self.time_index.maybe_append(ts, o);
            }
            self.bytes_since_index_entry = 0;
        }
        self.bytes_since_index_entry += h.size;
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
