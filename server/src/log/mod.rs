//! The storage engine: one partition's log of record batches in segment files.
//!
//! A [`Log`] owns the ordered segments of one partition directory
//! (`<data>/topics/<topic>-<partition>/`), assigns consecutive logical offsets at append time,
//! rolls segments on size, age or full indexes, and serves reads as whole stored batches so fetch
//! copies bytes instead of re-encoding records. Everything here is synchronous: callers run it on
//! blocking threads (`spawn_blocking`) and hold the log behind a mutex.
//!
//! Reads are planned under the lock ([`Log::plan_read`]) and executed without it
//! ([`ReadPlan::execute`]): a plan holds an `Arc` of the segment file, so retention or compaction
//! replacing the file underneath does not disturb it. Flushes work the same way
//! ([`Log::flush_plan`]), which lets many appends share one fsync (group commit).
//!
//! Not owned here: partition choice, topic metadata, the flush schedule (`broker/`).

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

pub mod batch;
pub mod checkpoint;
pub mod compaction;
pub mod config;
mod error;
pub mod index;
pub mod marker;
pub mod open_files;
mod read_pool;
pub mod record;
mod recovery;
pub mod retention;
pub mod segment;
pub mod storage;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tracing::{info, warn};

pub use batch::{BatchHeader, Compression, EncodedBatch, TimestampType};
pub use config::{CleanupPolicy, CompressionType, LogConfig};
pub use error::{Error, Result};
pub use record::{Header, NewRecord, Record};
use segment::Segment;
pub use storage::Storage;

const RECOVERY_POINT_FILE: &str = "recovery-point";
const LOG_START_OFFSET_FILE: &str = "log-start-offset";

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    pub base_offset: u64,
    pub last_offset: u64,
    /// The broker's clock when the batch was stamped with log-append time, else `None`.
    pub log_append_time: Option<i64>,
}

/// A read decided under the log's lock, to be executed without it.
#[derive(Debug)]
pub struct ReadPlan {
    file: Option<Arc<File>>,
    path: PathBuf,
    position: u64,
    /// Bytes wanted (`max_bytes`), cut to the readable end.
    len: usize,
    /// Where readable data ends in this segment (high watermark or segment end).
    end: u64,
    max_batch_bytes: usize,
}

impl ReadPlan {
    fn empty() -> Self {
        ReadPlan {
            file: None,
            path: PathBuf::new(),
            position: 0,
            len: 0,
            end: 0,
            max_batch_bytes: 0,
        }
    }

    /// Reads whole batches: as many as fit `max_bytes`, and at least the first one even when it
    /// is larger (Kafka's KIP-74), so a consumer never stalls on a big batch.
    ///
    /// # Errors
    /// I/O errors.
    pub fn execute(self) -> Result<Bytes> {
        let Some(file) = self.file else {
            return Ok(Bytes::new());
        };
        let mut bytes = Segment::read_at(&file, &self.path, self.position, self.len)?;
        let whole = whole_batches_len(&bytes);
        if whole == 0 {
            let size = batch::peek_size(&bytes).unwrap_or(0);
            if size == 0 || size > self.max_batch_bytes || self.position + size as u64 > self.end {
                return Ok(Bytes::new());
            }
            bytes = Segment::read_at(&file, &self.path, self.position, size)?;
        } else {
            bytes.truncate(whole);
        }
        Ok(bytes)
    }
}

/// Length of the prefix of `buf` made of whole batches (by their length fields).
fn whole_batches_len(buf: &[u8]) -> usize {
    let mut at = 0usize;
    while let Some(size) = buf.get(at..).and_then(batch::peek_size) {
        if at + size > buf.len() {
            break;
        }
        at += size;
    }
    at
}

/// Files to fsync to make everything up to `target` durable: open ones, or sealed ones by path
/// (fsync through a new descriptor flushes the same page cache).
#[derive(Debug)]
pub struct FlushPlan {
    files: Vec<(Option<Arc<File>>, PathBuf)>,
    target: u64,
    storage: Storage,
}

impl FlushPlan {
    /// The offset that is durable once [`FlushPlan::sync`] succeeds.
    pub fn target(&self) -> u64 {
        self.target
    }

    /// Fsyncs the files.
    ///
    /// # Errors
    /// The first failed fsync, after which the caller must take the log offline;
    /// [`Error::TooManyOpenFiles`] (retriable, nothing lost) when a sealed file cannot be opened.
    pub fn sync(&self) -> Result<()> {
        for (f, path) in &self.files {
            let opened;
            let file = match f {
                Some(f) => f,
                None => match File::open(path) {
                    Ok(f) => {
                        opened = f;
                        &opened
                    }
                    // Removed by retention or replaced by compaction (which fsyncs what it
                    // writes): nothing of it is left to make durable.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(Error::io(path, e)),
                },
            };
            self.storage
                .sync_data(file, path)
                .map_err(|e| Error::io(path, e))?;
        }
        Ok(())
    }
}

/// One partition's log.
#[derive(Debug)]
pub struct Log {
    dir: PathBuf,
    config: LogConfig,
    /// Segments by base offset; the last one is active.
    segments: BTreeMap<u64, Segment>,
    log_start_offset: u64,
    log_end_offset: u64,
    /// Everything below this offset has been fsynced.
    flushed_offset: u64,
    last_flush_ms: i64,
    /// Set when an fsync or a rollback failed: the log refuses writes until reopened.
    offline: bool,
    /// Set when the log's topic is deleted: writes are refused as to an unknown partition.
    retired: bool,
    /// Compaction has covered every sealed segment below this offset (in memory only: after a
    /// restart the first pass cleans everything again, which is idempotent).
    cleaned_up_to: u64,
    /// Every call that changes a file of this log goes through it (tests inject faults).
    storage: Storage,
}

impl Log {
    /// Opens (or creates) the log in `dir`. Without a clean shutdown, segments from the recovery
    /// point on are scanned, checked and truncated at the first invalid byte.
    ///
    /// # Errors
    /// I/O errors.
    pub fn open(dir: &Path, config: LogConfig, clean_shutdown: bool, now_ms: i64) -> Result<Self> {
        Self::open_with_storage(dir, config, clean_shutdown, now_ms, Storage::real())
    }

    /// [`Self::open`], changing files through `storage` (tests pass one that injects faults).
    ///
    /// # Errors
    /// I/O errors.
    pub fn open_with_storage(
        dir: &Path,
        config: LogConfig,
        clean_shutdown: bool,
        now_ms: i64,
        storage: Storage,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let recovery_point = checkpoint::read(&dir.join(RECOVERY_POINT_FILE)).unwrap_or(0);
        let log_start = checkpoint::read(&dir.join(LOG_START_OFFSET_FILE)).unwrap_or(0);
        let segments = recovery::load_segments(
            dir,
            &config,
            clean_shutdown,
            recovery_point,
            log_start,
            &storage,
        )?;
        let mut log = Log {
            dir: dir.into(),
            config,
            segments,
            log_start_offset: log_start,
            log_end_offset: 0,
            flushed_offset: 0,
            last_flush_ms: now_ms,
            offline: false,
            retired: false,
            cleaned_up_to: 0,
            storage,
        };
        log.log_end_offset = log.active().map_or(log_start, Segment::next_offset);
        let first_base = log.segments.keys().next().copied().unwrap_or(log_start);
        log.log_start_offset = log.log_start_offset.max(first_base).min(log.log_end_offset);
        if clean_shutdown {
            log.flushed_offset = log.log_end_offset;
        } else {
            // What recovery kept past the recovery point may still be only in the page cache
            // (a process crash leaves it there): it stays "unflushed", so the flush policy or
            // the next clean close makes it durable and only then moves the recovery point.
            // Fsyncing it all here would make start-up after a crash as slow as the disk.
            log.flushed_offset = recovery_point.min(log.log_end_offset);
        }
        Ok(log)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn config(&self) -> &LogConfig {
        &self.config
    }
    pub fn log_start_offset(&self) -> u64 {
        self.log_start_offset
    }
    pub fn log_end_offset(&self) -> u64 {
        self.log_end_offset
    }
    /// Everything below it is on disk (fsynced).
    pub fn flushed_offset(&self) -> u64 {
        self.flushed_offset
    }
    pub fn is_offline(&self) -> bool {
        self.offline
    }
    /// Bytes in all segments.
    pub fn size(&self) -> u64 {
        self.segments.values().map(Segment::size).sum()
    }
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }
    /// Base offsets of the segments, oldest first.
    pub fn segment_bases(&self) -> Vec<u64> {
        self.segments.keys().copied().collect()
    }

    /// Replaces the configuration; takes effect at the next append, roll or cleanup.
    pub fn set_config(&mut self, config: LogConfig) {
        self.config = config;
    }

    fn active(&self) -> Option<&Segment> {
        self.segments.values().next_back()
    }

    /// Why writes are refused: the topic was deleted, or an earlier failure.
    pub(crate) fn offline_error(&self) -> Error {
        if self.retired {
            Error::Deleted {
                path: self.dir.clone(),
            }
        } else {
            Error::Offline {
                path: self.dir.clone(),
            }
        }
    }

    /// Takes the log offline after an I/O failure whose effect on disk is unknown.
    pub fn set_offline(&mut self) {
        if !self.offline {
            tracing::error!(path = %self.dir.display(), "log taken offline after an i/o failure");
        }
        self.offline = true;
    }

    /// Refuses writes from now on because the log is being deleted (not a failure): they get
    /// [`Error::Deleted`].
    pub fn retire(&mut self) {
        self.retired = true;
        self.offline = true;
    }

    /// Appends one batch whose bytes come from outside this process (a replica's fetch, a
    /// client's raw batch), giving it the next offsets.
    ///
    /// The batch is checked (framing, CRC, `max.message.bytes`) before anything is written; a
    /// failed write is rolled back, so the log never holds part of a batch.
    ///
    /// # Errors
    /// [`Error::BatchTooLarge`], [`Error::Corrupt`], [`Error::ChecksumMismatch`] for a bad batch;
    /// [`Error::DiskFull`] (retriable, nothing written); [`Error::Offline`].
    pub fn append(
        &mut self,
        bytes: BytesMut,
        leader_epoch: i32,
        now_ms: i64,
    ) -> Result<AppendInfo> {
        if self.offline {
            return Err(self.offline_error());
        }
        self.check_size(bytes.len())?;
        let header = match batch::check_batch(&bytes, self.config.max_batch_bytes())? {
            batch::Check::Valid(h) if h.size == bytes.len() && h.records_count > 0 => h,
            batch::Check::Valid(_) => {
                return Err(Error::corrupt(
                    "buffer must hold exactly one non-empty batch",
                ));
            }
            batch::Check::Incomplete => return Err(Error::corrupt("incomplete batch")),
        };
        self.append_checked(bytes, header, leader_epoch, now_ms)
    }

    /// Appends a batch this process encoded (the produce path), giving it the next offsets.
    ///
    /// Its header comes from the encoder, so there is no CRC pass over bytes computed moments
    /// ago; only `max.message.bytes` is checked, as the topic's config may have changed since.
    ///
    /// # Errors
    /// As [`Self::append`], without the corruption cases.
    pub fn append_encoded(
        &mut self,
        batch: EncodedBatch,
        leader_epoch: i32,
        now_ms: i64,
    ) -> Result<AppendInfo> {
        if self.offline {
            return Err(self.offline_error());
        }
        let (bytes, header) = batch.into_parts();
        self.check_size(bytes.len())?;
        self.append_checked(bytes, header, leader_epoch, now_ms)
    }

    fn check_size(&self, size: usize) -> Result<()> {
        let limit = self.config.max_batch_bytes();
        if size > limit {
            return Err(Error::BatchTooLarge { size, limit });
        }
        Ok(())
    }

    /// Writes a batch known to be whole and valid, described by `header`.
    fn append_checked(
        &mut self,
        mut bytes: BytesMut,
        header: BatchHeader,
        leader_epoch: i32,
        now_ms: i64,
    ) -> Result<AppendInfo> {
        let base_offset = self.log_end_offset;
        batch::set_base_offset_and_epoch(&mut bytes, base_offset, leader_epoch);
        let log_append_time =
            (self.config.timestamp_type == TimestampType::LogAppendTime).then(|| {
                batch::set_log_append_time(&mut bytes, now_ms);
                now_ms
            });
        let header = BatchHeader {
            base_offset,
            leader_epoch,
            max_timestamp: log_append_time.unwrap_or(header.max_timestamp),
            timestamp_type: if log_append_time.is_some() {
                TimestampType::LogAppendTime
            } else {
                header.timestamp_type
            },
            ..header
        };
        self.maybe_roll(&header, now_ms)?;
        let dir = self.dir.clone();
        let Some(active) = self.segments.values_mut().next_back() else {
            return Err(Error::Offline { path: dir });
        };
        match active.append(&bytes, &header) {
            Ok(()) => {}
            Err(e @ Error::Offline { .. }) => {
                self.set_offline();
                return Err(e);
            }
            Err(e) => return Err(e),
        }
        self.log_end_offset = header.next_offset();
        Ok(AppendInfo {
            base_offset,
            last_offset: header.last_offset(),
            log_append_time,
        })
    }

    /// Rolls to a new segment when the batch would not fit the active one.
    fn maybe_roll(&mut self, next: &BatchHeader, now_ms: i64) -> Result<()> {
        let needs_roll = match self.active() {
            None => true,
            Some(a) if a.is_empty() => false,
            Some(a) => {
                a.size() + next.size as u64 > self.config.segment_bytes
                    || a.is_index_full()
                    || a.first_batch_timestamp()
                        .is_some_and(|ts| now_ms.saturating_sub(ts) >= self.config.segment_ms)
                    || next.next_offset() - a.base_offset() > u64::from(u32::MAX)
                    || a.size() + next.size as u64 > u64::from(u32::MAX)
            }
        };
        if !needs_roll {
            return Ok(());
        }
        self.roll()
    }

    /// Seals the active segment and starts a new one at the log end offset.
    ///
    /// # Errors
    /// I/O errors; [`Error::DiskFull`] leaves the old segment active.
    pub fn roll(&mut self) -> Result<()> {
        let base = self.log_end_offset;
        if self.active().is_some_and(|a| a.base_offset() == base) {
            return Ok(());
        }
        // Create first: if the disk is full the old segment simply stays active.
        let new = Segment::create(&self.dir, base, self.config.index_config(), &self.storage)?;
        if let Some(old) = self.segments.values_mut().next_back()
            && let Err(e) = old.seal()
        {
            let _ = new.delete_files();
            // Writing the old indexes failed for want of space or descriptors: it stays active.
            if !e.is_retriable() {
                self.set_offline();
            }
            return Err(e);
        }
        checkpoint::sync_dir(&self.storage, &self.dir)?;
        self.segments.insert(base, new);
        Ok(())
    }

    /// Plans a read of whole batches starting at the batch that holds `offset`, at most
    /// `max_bytes` (but at least one batch), and never including offsets ≥ `max_offset` (the high
    /// watermark, exclusive).
    ///
    /// # Errors
    /// [`Error::OffsetOutOfRange`] outside `[log_start_offset, log_end_offset]`; I/O errors.
    pub fn plan_read(&self, offset: u64, max_bytes: usize, max_offset: u64) -> Result<ReadPlan> {
        if offset < self.log_start_offset || offset > self.log_end_offset {
            return Err(Error::OffsetOutOfRange {
                requested: offset,
                log_start_offset: self.log_start_offset,
                log_end_offset: self.log_end_offset,
            });
        }
        let max_offset = max_offset.min(self.log_end_offset);
        if offset >= max_offset {
            return Ok(ReadPlan::empty());
        }
        let floor = self
            .segments
            .range(..=offset)
            .next_back()
            .map_or(0, |(b, _)| *b);
        for seg in self.segments.range(floor..).map(|(_, s)| s) {
            let Some(start) = seg.find(offset)? else {
                continue;
            };
            if start.offset_of_batch >= max_offset {
                return Ok(ReadPlan::empty());
            }
            let end = if max_offset < seg.next_offset() {
                seg.find(max_offset)?.map_or(seg.size(), |p| p.position)
            } else {
                seg.size()
            };
            let avail = end.saturating_sub(start.position);
            return Ok(ReadPlan {
                file: Some(seg.file()?),
                path: seg.log_path().to_path_buf(),
                position: start.position,
                // At least a length field, so `execute` can size the first batch.
                len: avail.min(max_bytes.max(batch::LOG_OVERHEAD) as u64) as usize,
                end,
                max_batch_bytes: self.config.max_batch_bytes(),
            });
        }
        Ok(ReadPlan::empty())
    }

    /// Reads under the caller's lock: [`Self::plan_read`] then [`ReadPlan::execute`].
    ///
    /// # Errors
    /// As both.
    pub fn read(&self, offset: u64, max_bytes: usize, max_offset: u64) -> Result<Bytes> {
        self.plan_read(offset, max_bytes, max_offset)?.execute()
    }

    /// The first offset whose record timestamp is ≥ `timestamp`, with that timestamp; `None`
    /// when every record is older (Kafka's `ListOffsets` by time).
    ///
    /// # Errors
    /// I/O errors, or a stored batch that fails to decode.
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Result<Option<(u64, i64)>> {
        for seg in self.segments.values() {
            let mut from = 0;
            while let Some(pos) = seg.find_by_timestamp(timestamp, from)? {
                let file = seg.file()?;
                let bytes = Segment::read_at(
                    &file,
                    seg.log_path(),
                    pos.position,
                    batch::HEADER_LEN.min((seg.size() - pos.position) as usize),
                )?;
                let size = batch::peek_size(&bytes)
                    .ok_or_else(|| Error::corrupt("stored batch has an impossible length"))?;
                let bytes = Segment::read_at(&file, seg.log_path(), pos.position, size)?;
                let records = batch::decode_all(&bytes, self.config.max_batch_bytes())?;
                if let Some(r) = records
                    .iter()
                    .find(|r| r.timestamp >= timestamp && r.offset >= self.log_start_offset)
                {
                    return Ok(Some((r.offset, r.timestamp)));
                }
                // Only records below the log start offset matched: later batches may still.
                from = pos.position + size as u64;
            }
        }
        Ok(None)
    }

    /// Removes every batch whose last offset is ≥ `offset` (replication's truncation to a
    /// leader's epoch end; always at a batch boundary). Below the log start offset the log is
    /// emptied and restarts at `offset`.
    ///
    /// # Errors
    /// I/O errors (the log goes offline).
    pub fn truncate_to(&mut self, offset: u64) -> Result<()> {
        if self.offline {
            return Err(self.offline_error());
        }
        if offset >= self.log_end_offset {
            return Ok(());
        }
        let result = if offset < self.log_start_offset {
            self.truncate_fully(offset)
        } else {
            self.truncate_segments(offset)
        };
        // Whatever is appended from the new end on has not been cleaned.
        self.cleaned_up_to = self.cleaned_up_to.min(self.log_end_offset);
        if result.is_err() {
            self.set_offline();
        }
        result
    }

    fn truncate_segments(&mut self, offset: u64) -> Result<()> {
        // Segments based at or after `offset` hold only doomed batches; the first segment stays
        // (emptied) so the log always has an active segment.
        let first = self.segments.keys().next().copied().unwrap_or(offset);
        let doomed: Vec<u64> = self
            .segments
            .range(offset..)
            .map(|(b, _)| *b)
            .filter(|&b| b != first)
            .collect();
        for base in doomed.into_iter().rev() {
            if let Some(seg) = self.segments.remove(&base) {
                seg.delete_files()?;
            }
        }
        // The new end: the base of a batch that straddles `offset`, else `offset` itself.
        let mut end = offset;
        if let Some(seg) = self.segments.values_mut().next_back() {
            end = seg
                .find(offset)?
                .map_or(offset, |p| p.offset_of_batch.min(offset));
            seg.truncate_to(offset)?;
            seg.unseal()?;
            self.log_end_offset = seg.next_offset();
        }
        if self.log_end_offset < end {
            // Compaction removed the last batches below `end`: those offsets were handed out and
            // must not be reused. A new segment at `end` keeps the end offset across a restart.
            self.log_end_offset = end;
            self.roll()?;
        }
        // The removed batch may have held a log start offset set inside it (`DeleteRecords`).
        self.log_start_offset = self.log_start_offset.min(self.log_end_offset);
        self.flushed_offset = self.flushed_offset.min(self.log_end_offset);
        checkpoint::sync_dir(&self.storage, &self.dir)?;
        self.checkpoint()
    }

    fn truncate_fully(&mut self, offset: u64) -> Result<()> {
        for (_, seg) in std::mem::take(&mut self.segments) {
            seg.delete_files()?;
        }
        let seg = Segment::create(&self.dir, offset, self.config.index_config(), &self.storage)?;
        self.segments.insert(offset, seg);
        self.log_start_offset = offset;
        self.log_end_offset = offset;
        self.flushed_offset = offset;
        checkpoint::sync_dir(&self.storage, &self.dir)?;
        self.checkpoint()
    }

    /// Moves the log start offset forward (Kafka's `DeleteRecords`); whole segments below it are
    /// removed by the next retention pass.
    ///
    /// # Errors
    /// [`Error::OffsetOutOfRange`] past the log end; checkpoint I/O errors.
    pub fn advance_log_start_offset(&mut self, offset: u64) -> Result<()> {
        if offset > self.log_end_offset {
            return Err(Error::OffsetOutOfRange {
                requested: offset,
                log_start_offset: self.log_start_offset,
                log_end_offset: self.log_end_offset,
            });
        }
        if offset > self.log_start_offset {
            // Checkpoint first: a failed call changes nothing, and memory never runs ahead of
            // what a restart will read.
            checkpoint::write(&self.storage, &self.dir.join(LOG_START_OFFSET_FILE), offset)?;
            self.log_start_offset = offset;
        }
        Ok(())
    }

    /// Whether the flush policy (`flush.messages`, `flush.ms`) asks for an fsync now.
    pub fn should_flush(&self, now_ms: i64) -> bool {
        let unflushed = self.log_end_offset.saturating_sub(self.flushed_offset);
        unflushed > 0
            && (unflushed >= self.config.flush_messages
                || now_ms.saturating_sub(self.last_flush_ms) >= self.config.flush_ms)
    }

    /// The files holding unflushed data, to fsync without holding the log's lock.
    pub fn flush_plan(&self) -> FlushPlan {
        let files = self
            .segments
            .values()
            .filter(|s| s.next_offset() > self.flushed_offset && !s.is_empty())
            .map(|s| (s.open_file(), s.log_path().to_path_buf()))
            .collect();
        FlushPlan {
            files,
            target: self.log_end_offset,
            storage: self.storage.clone(),
        }
    }

    /// Records that a [`FlushPlan`] succeeded.
    pub fn mark_flushed(&mut self, target: u64, now_ms: i64) {
        self.flushed_offset = self.flushed_offset.max(target.min(self.log_end_offset));
        self.last_flush_ms = now_ms;
    }

    /// Fsyncs everything appended so far, under the caller's lock.
    ///
    /// # Errors
    /// A failed fsync takes the log offline and is returned.
    pub fn flush(&mut self, now_ms: i64) -> Result<()> {
        if self.offline {
            return Err(self.offline_error());
        }
        let plan = self.flush_plan();
        if let Err(e) = plan.sync() {
            if !e.is_retriable() {
                self.set_offline();
            }
            return Err(e);
        }
        self.mark_flushed(plan.target, now_ms);
        Ok(())
    }

    /// Writes the recovery point (the flushed offset) and log start offset checkpoints.
    ///
    /// # Errors
    /// I/O errors.
    pub fn checkpoint(&self) -> Result<()> {
        checkpoint::write(
            &self.storage,
            &self.dir.join(RECOVERY_POINT_FILE),
            self.flushed_offset,
        )?;
        checkpoint::write(
            &self.storage,
            &self.dir.join(LOG_START_OFFSET_FILE),
            self.log_start_offset,
        )
    }

    /// Flushes, trims the active segment's indexes and writes checkpoints: after this the log
    /// opens without recovery.
    ///
    /// # Errors
    /// I/O errors.
    pub fn close(&mut self, now_ms: i64) -> Result<()> {
        self.flush(now_ms)?;
        if let Some(active) = self.segments.values_mut().next_back() {
            active.seal()?;
        }
        self.checkpoint()?;
        info!(path = %self.dir.display(), log_end_offset = self.log_end_offset, "log closed");
        Ok(())
    }

    /// Deletes every file of the log and its directory.
    ///
    /// # Errors
    /// I/O errors.
    pub fn delete(self) -> Result<()> {
        std::fs::remove_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))
    }

    /// Removes a segment (retention); never the active one.
    fn delete_segment(&mut self, base: u64) -> Result<()> {
        if self.segments.keys().next_back() == Some(&base) {
            return Ok(());
        }
        if let Some(seg) = self.segments.remove(&base)
            && let Err(e) = seg.delete_files()
        {
            warn!(path = %seg.log_path().display(), cause = %e, "could not delete segment");
            self.segments.insert(base, seg);
            return Err(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
