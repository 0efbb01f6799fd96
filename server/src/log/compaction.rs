//! Log compaction for `cleanup.policy=compact`: keep the latest record per key.
//!
//! A pass works on the sealed segments only, so it never blocks appends: the log's lock is taken
//! once to snapshot the sealed segments and once to swap the cleaned files in. In between, the
//! cleaner builds a map of key → latest offset over the snapshot and rewrites each segment into
//! `<base>.log.cleaned`: a batch whose records all survive is copied byte for byte, a batch that
//! lost some is re-encoded with the same base offset, codec and offset deltas, an emptied batch is
//! dropped. Tombstones (null values) survive while younger than `delete.retention.ms`.
//!
//! A re-encoded batch keeps its original last offset (`last_offset_delta`), as Kafka's cleaner
//! does, even when its last records went: a read inside it may find only records below the
//! offset asked for, and readers continue at the batch's last offset + 1
//! (`broker::Partition::read`), never at their last record + 1, so the gap is crossed.
//!
//! The swap removes the old indexes, then renames the cleaned file over the log (atomic), then
//! rebuilds the indexes. A crash at any step leaves a valid log and, at worst, missing indexes,
//! which opening rebuilds; leftover `.cleaned` files are deleted on open.
//!
//! Records with a null key cannot be compacted and are kept.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tracing::info;

use super::batch::{self, Check, TimestampType};
use super::error::{Error, Result};
use super::record::RecordRef;
use super::segment::{Segment, file_name};
use super::{Log, checkpoint};

/// What a cleaning pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CompactionStats {
    pub segments: usize,
    pub records_removed: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

#[derive(Debug)]
struct SealedSnapshot {
    base: u64,
    id: u64,
    file: Arc<File>,
    path: PathBuf,
    size: u64,
}

/// Reads a sealed segment batch by batch, in chunks, handing each whole batch to `f`.
fn for_each_batch(
    seg: &SealedSnapshot,
    max_batch_bytes: usize,
    mut f: impl FnMut(&batch::BatchHeader, Bytes) -> Result<()>,
) -> Result<()> {
    let chunk_len = (8usize << 20).max(max_batch_bytes);
    let mut pos = 0u64;
    while pos < seg.size {
        let want = (seg.size - pos).min(chunk_len as u64) as usize;
        let chunk = Segment::read_at(&seg.file, &seg.path, pos, want)?;
        let mut at = 0usize;
        while at < chunk.len() {
            let rest = chunk.slice(at..);
            match batch::check_batch(&rest, max_batch_bytes)? {
                Check::Valid(h) => {
                    f(&h, rest.slice(..h.size))?;
                    at += h.size;
                }
                Check::Incomplete if at == 0 => {
                    return Err(Error::corrupt("sealed segment ends inside a batch"));
                }
                Check::Incomplete => break,
            }
        }
        pos += at as u64;
    }
    Ok(())
}

/// Runs one cleaning pass over the sealed segments of a compacted log.
///
/// # Errors
/// I/O errors; a corrupt sealed segment (the pass stops and nothing is swapped).
pub fn compact(log: &Mutex<Log>, now_ms: i64) -> Result<CompactionStats> {
    let (snapshot, max_batch_bytes, delete_retention_ms, dir, storage) = {
        let log = log.lock();
        if !log.config.cleanup_policy.compact || log.offline {
            return Ok(CompactionStats::default());
        }
        let sealed: Vec<SealedSnapshot> = log
            .segments
            .values()
            .take(log.segments.len().saturating_sub(1))
            .map(|s| {
                Ok(SealedSnapshot {
                    base: s.base_offset(),
                    id: s.id(),
                    file: s.file()?,
                    path: s.log_path().to_path_buf(),
                    size: s.size(),
                })
            })
            .collect::<Result<_>>()?;
        let dirty_end = log
            .segments
            .values()
            .nth(sealed.len().saturating_sub(1))
            .map_or(0, Segment::next_offset);
        if sealed.is_empty() || dirty_end <= log.cleaned_up_to {
            return Ok(CompactionStats::default());
        }
        (
            sealed,
            log.config.max_batch_bytes(),
            log.config.delete_retention_ms,
            log.dir.clone(),
            log.storage.clone(),
        )
    };

    // Pass 1: the latest offset of every key.
    let mut latest: HashMap<Bytes, u64> = HashMap::new();
    let mut records = Vec::new();
    for seg in &snapshot {
        for_each_batch(seg, max_batch_bytes, |h, bytes| {
            records.clear();
            batch::decode_batch(h, &bytes, max_batch_bytes, &mut records)?;
            for r in &records {
                if let Some(k) = &r.key {
                    // Copy: a slice would pin the whole read chunk in memory.
                    latest.insert(Bytes::copy_from_slice(k), r.offset);
                }
            }
            Ok(())
        })?;
    }

    // Pass 2: rewrite each segment into a `.cleaned` file.
    let mut stats = CompactionStats::default();
    let mut cleaned = Vec::new();
    for seg in &snapshot {
        let path = dir.join(format!("{}.cleaned", file_name(seg.base, "log")));
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        let out = storage
            .create(&path, &options)
            .map_err(|e| Error::io(&path, e))?;
        let mut written = 0u64;
        for_each_batch(seg, max_batch_bytes, |h, bytes| {
            records.clear();
            batch::decode_batch(h, &bytes, max_batch_bytes, &mut records)?;
            let keep: Vec<bool> = records
                .iter()
                .map(|r| match &r.key {
                    None => true,
                    Some(k) => {
                        latest.get(k) == Some(&r.offset)
                            && (r.value.is_some()
                                || now_ms.saturating_sub(r.timestamp) < delete_retention_ms)
                    }
                })
                .collect();
            let kept = keep.iter().filter(|k| **k).count();
            stats.records_removed += (records.len() - kept) as u64;
            let new_bytes = if kept == records.len() {
                bytes
            } else if kept == 0 {
                return Ok(());
            } else {
                reencode(h, &records, &keep, max_batch_bytes)?
            };
            storage
                .write_all(&out, &new_bytes)
                .map_err(|e| Error::io(&path, e))?;
            written += new_bytes.len() as u64;
            Ok(())
        })?;
        storage
            .sync_all(&out, &path)
            .map_err(|e| Error::io(&path, e))?;
        stats.segments += 1;
        stats.bytes_before += seg.size;
        stats.bytes_after += written;
        cleaned.push((seg, path));
    }

    // Swap under the lock, skipping segments that changed meanwhile (truncated or deleted).
    let mut log = log.lock();
    let index_config = log.config.index_config();
    let mut last_next = log.cleaned_up_to;
    for (snap, cleaned_path) in cleaned {
        let unchanged = log
            .segments
            .get(&snap.base)
            .is_some_and(|s| s.id() == snap.id && s.size() == snap.size);
        let is_active = log.segments.keys().next_back() == Some(&snap.base);
        if !unchanged || is_active {
            let _ = storage.remove_file(&cleaned_path);
            continue;
        }
        let log_path = dir.join(file_name(snap.base, "log"));
        for ext in ["index", "timeindex"] {
            let p = dir.join(file_name(snap.base, ext));
            if let Err(e) = storage.remove_file(&p)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                return Err(Error::io(&p, e));
            }
        }
        storage
            .rename(&cleaned_path, &log_path)
            .map_err(|e| Error::io(&log_path, e))?;
        checkpoint::sync_dir(&storage, &dir)?;
        let mut seg = Segment::open(&dir, snap.base, index_config, &storage)?;
        let scan = seg.scan_and_rebuild()?;
        if let Some(reason) = scan.reason {
            log.set_offline();
            return Err(Error::corrupt(format!(
                "cleaned segment is invalid: {reason}"
            )));
        }
        seg.seal()?;
        last_next = last_next.max(seg.next_offset());
        log.segments.insert(snap.base, seg);
    }
    log.cleaned_up_to = last_next;
    info!(
        path = %dir.display(),
        segments = stats.segments,
        records_removed = stats.records_removed,
        bytes_before = stats.bytes_before,
        bytes_after = stats.bytes_after,
        "compaction pass finished"
    );
    Ok(stats)
}

/// Re-encodes the kept records of a batch, keeping its base offset, offset deltas, codec,
/// timestamp type and leader epoch.
fn reencode(
    h: &batch::BatchHeader,
    records: &[super::Record],
    keep: &[bool],
    max_batch_bytes: usize,
) -> Result<Bytes> {
    let kept: Vec<&super::Record> = records
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(r, _)| r)
        .collect();
    let deltas: Vec<u32> = kept
        .iter()
        .map(|r| (r.offset - h.base_offset) as u32)
        .collect();
    let refs = kept.iter().map(|r| {
        (
            r.timestamp,
            RecordRef {
                key: r.key.as_deref(),
                value: r.value.as_deref(),
                headers: &r.headers,
            },
        )
    });
    let mut out = batch::encode_batch_from(
        refs,
        kept.len(),
        h.compression,
        max_batch_bytes,
        Some((&deltas, h.last_offset_delta)),
    )?
    .into_bytes();
    batch::set_base_offset_and_epoch(&mut out, h.base_offset, h.leader_epoch);
    if h.timestamp_type == TimestampType::LogAppendTime {
        batch::set_log_append_time(&mut out, h.max_timestamp);
    }
    Ok(out.freeze())
}
