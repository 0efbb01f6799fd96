//! Tests of the log engine on real files: a model-based property test of whole-log operation
//! sequences, torn-tail and index-corruption recovery, unit tests of reads, time lookups,
//! retention, compaction and truncation, and named regressions for the bugs they found.
//!
//! Every test works in its own `tempfile` directory. Time is a fake clock passed as `now_ms`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod append;
mod compaction;
mod faults;
mod model;
mod read;
mod recovery;
mod retention;
mod truncate;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use bytes::Bytes;
use parking_lot::Mutex;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

use super::batch::{self, BatchHeader, Batches, Compression, TimestampType};
use super::config::{CleanupPolicy, LogConfig};
use super::marker;
use super::record::{Header, NewRecord, Record};
use super::segment::{self, Segment};
use super::{AppendInfo, Error, Log};

const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Small segments and indexes so a handful of batches rolls; nothing is retained by time.
fn small_config() -> LogConfig {
    LogConfig {
        segment_bytes: 4096,
        segment_index_bytes: 1024,
        index_interval_bytes: 128,
        retention_ms: None,
        ..LogConfig::default()
    }
}

fn rec(key: Option<&str>, value: Option<&str>, ts: i64) -> NewRecord {
    NewRecord {
        timestamp: Some(ts),
        key: key.map(|k| Bytes::copy_from_slice(k.as_bytes())),
        value: value.map(|v| Bytes::copy_from_slice(v.as_bytes())),
        headers: vec![],
    }
}

fn append(log: &mut Log, recs: &[NewRecord], codec: Compression, now: i64) -> AppendInfo {
    let bytes = batch::encode_batch(recs, codec, now, log.config().max_batch_bytes()).unwrap();
    log.append(bytes, 0, now).unwrap()
}

/// Appends `n` batches of `per` records `v<offset>` with timestamp `ts0 + offset`.
fn fill(log: &mut Log, n: usize, per: usize, ts0: i64) {
    for _ in 0..n {
        let base = log.log_end_offset();
        let recs: Vec<NewRecord> = (0..per as u64)
            .map(|i| {
                let o = base + i;
                rec(
                    Some(&format!("k{o:04}")),
                    Some(&format!("v{o:04}")),
                    ts0 + o as i64,
                )
            })
            .collect();
        append(log, &recs, Compression::None, ts0);
    }
}

/// Splits a read result into batches, checking it holds whole batches only.
fn decode_batches(bytes: &Bytes, max_batch_bytes: usize) -> Vec<(BatchHeader, usize, Vec<Record>)> {
    let mut out = Vec::new();
    let mut walked = 0;
    for item in Batches::new(bytes.clone(), max_batch_bytes) {
        let (h, batch) = item.unwrap();
        let mut recs = Vec::new();
        batch::decode_batch(&h, &batch, max_batch_bytes, &mut recs).unwrap();
        walked += batch.len();
        out.push((h, h.size, recs));
    }
    assert_eq!(walked, bytes.len(), "a read returns whole batches only");
    let all = batch::decode_all(bytes, max_batch_bytes).unwrap();
    let flat: Vec<Record> = out.iter().flat_map(|(_, _, r)| r.clone()).collect();
    assert_eq!(all, flat);
    out
}

/// Reads every batch from the log start to the log end offset.
fn read_all(log: &Log) -> Vec<(BatchHeader, usize, Vec<Record>)> {
    let max = log.config().max_batch_bytes();
    let mut out: Vec<(BatchHeader, usize, Vec<Record>)> = Vec::new();
    let mut offset = log.log_start_offset();
    loop {
        let bytes = log.read(offset, 3000, log.log_end_offset()).unwrap();
        if bytes.is_empty() {
            break;
        }
        for b in decode_batches(&bytes, max) {
            assert!(b.0.next_offset() > offset, "reads make progress");
            offset = b.0.next_offset();
            out.push(b);
        }
    }
    out
}

fn read_records(log: &Log) -> Vec<Record> {
    read_all(log).into_iter().flat_map(|(_, _, r)| r).collect()
}

fn offsets(records: &[Record]) -> Vec<u64> {
    records.iter().map(|r| r.offset).collect()
}

/// Every batch of a segment file, as `(position, header)`.
fn segment_batches(seg: &Segment) -> Vec<(u64, BatchHeader)> {
    let bytes =
        Segment::read_at(&seg.file().unwrap(), seg.log_path(), 0, seg.size() as usize).unwrap();
    let mut pos = 0u64;
    let mut out = Vec::new();
    for item in Batches::new(bytes, usize::MAX) {
        let (h, _) = item.unwrap();
        out.push((pos, h));
        pos += h.size as u64;
    }
    assert_eq!(
        pos,
        seg.size(),
        "{} holds whole batches only",
        seg.log_path().display()
    );
    out
}

/// Every index entry points at a batch start with that offset, time-index entries name the batch
/// that raised the maximum, and the segment's bookkeeping matches its batches.
fn check_indexes(log: &Log) {
    let active = log.segments.keys().next_back().copied();
    for seg in log.segments.values() {
        let batches = segment_batches(seg);
        let by_pos: HashMap<u64, BatchHeader> = batches.iter().copied().collect();
        let by_offset: HashMap<u64, (u64, BatchHeader)> = batches
            .iter()
            .map(|(p, h)| (h.base_offset, (*p, *h)))
            .collect();
        seg.with_indexes(|oi, ti| {
            check_segment_indexes(seg, &batches, &by_pos, &by_offset, oi, ti, active)
        });
        let next = batches
            .last()
            .map_or(seg.base_offset(), |(_, h)| h.next_offset());
        // A sealed segment opened lazily knows the next segment's base, an upper bound.
        if Some(seg.base_offset()) == active {
            assert_eq!(seg.next_offset(), next);
        } else {
            assert!(seg.next_offset() >= next);
        }
        assert!(
            batches
                .first()
                .is_none_or(|(_, h)| h.base_offset >= seg.base_offset())
        );
    }
}

/// The index half of [`check_indexes`] for one segment.
#[allow(clippy::too_many_arguments)]
fn check_segment_indexes(
    seg: &Segment,
    batches: &[(u64, BatchHeader)],
    by_pos: &HashMap<u64, BatchHeader>,
    by_offset: &HashMap<u64, (u64, BatchHeader)>,
    oi: &crate::log::index::OffsetIndex,
    ti: &crate::log::index::TimeIndex,
    active: Option<u64>,
) {
    if seg.size() > 0 {
        assert!(
            oi.entries() > 0,
            "{}: non-empty segment without index entries",
            seg.log_path().display()
        );
        assert_eq!(oi.entry(0).unwrap().1, 0);
    }
    let mut prev = None;
    for i in 0..oi.entries() {
        let (o, p) = oi.entry(i).unwrap();
        let h = by_pos
            .get(&p)
            .unwrap_or_else(|| panic!("index entry {i} ({o}, {p}) is not at a batch start"));
        assert_eq!(h.base_offset, o, "index entry {i} names the wrong offset");
        assert!(prev.is_none_or(|(po, pp)| o > po && p > pp));
        prev = Some((o, p));
        let found = seg.find(o).unwrap().unwrap();
        assert_eq!((found.offset_of_batch, found.position), (o, p));
    }
    let mut prev_ts = None;
    for i in 0..ti.entries() {
        let (ts, o) = ti.entry(i).unwrap();
        let (_, h) = by_offset
            .get(&o)
            .unwrap_or_else(|| panic!("time index entry {i} ({ts}, {o}) is not a batch"));
        assert_eq!(
            h.max_timestamp, ts,
            "time index entry {i} disagrees with its batch"
        );
        assert!(prev_ts.is_none_or(|p| ts > p));
        prev_ts = Some(ts);
    }
    let max = batches.iter().map(|(_, h)| h.max_timestamp).max();
    assert_eq!(
        seg.max_timestamp().unwrap(),
        max,
        "{} max timestamp",
        seg.log_path().display()
    );
    if Some(seg.base_offset()) != active {
        // Sealing adds the final entry, which reopening reads the maximum back from.
        assert_eq!(
            ti.entries()
                .checked_sub(1)
                .and_then(|i| ti.entry(i))
                .map(|e| e.0),
            max
        );
    }
}

/// Base offsets of the `.log` files in `dir`, sorted.
fn log_files(dir: &Path) -> Vec<u64> {
    let mut bases: Vec<u64> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| segment::parse_file_name(e.unwrap().file_name().to_str()?, "log"))
        .collect();
    bases.sort_unstable();
    bases
}

/// Name and length of every file in `dir`.
fn file_sizes(dir: &Path) -> BTreeMap<String, u64> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn open(dir: &Path, config: &LogConfig, clean: bool) -> Log {
    Log::open(dir, config.clone(), clean, T0).unwrap()
}

fn value(v: &str) -> NewRecord {
    rec(None, Some(v), T0)
}

/// Segments of one batch each: `n` batches of three records with timestamps `ts`.
fn one_batch_segments(log: &mut Log, n: usize, ts: i64) {
    for _ in 0..n {
        fill(log, 1, 3, ts);
        log.roll().unwrap();
    }
}
