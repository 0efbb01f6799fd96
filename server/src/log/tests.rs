//! Tests of the log engine on real files: a model-based property test of whole-log operation
//! sequences, torn-tail and index-corruption recovery, unit tests of reads, time lookups,
//! retention, compaction and truncation, and named regressions for the bugs they found.
//!
//! Every test works in its own `tempfile` directory. Time is a fake clock passed as `now_ms`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use bytes::Bytes;
use parking_lot::Mutex;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

use super::batch::{self, BatchHeader, Batches, Compression, TimestampType};
use super::compaction;
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
    let mut pos = 0;
    for item in Batches::new(bytes, max_batch_bytes) {
        let (h, _) = item.unwrap();
        let mut recs = Vec::new();
        batch::decode_batch(
            &h,
            &bytes.slice(pos..pos + h.size),
            max_batch_bytes,
            &mut recs,
        )
        .unwrap();
        pos += h.size;
        out.push((h, h.size, recs));
    }
    assert_eq!(pos, bytes.len(), "a read returns whole batches only");
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
    for item in Batches::new(&bytes, usize::MAX) {
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

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/// A record the model expects, with the offsets of the batch it was appended in (compaction keeps
/// a batch's base offset and last offset delta, so these never change).
#[derive(Debug, Clone, PartialEq)]
struct MRec {
    offset: u64,
    timestamp: i64,
    key: Option<Bytes>,
    value: Option<Bytes>,
    headers: Vec<Header>,
    batch: (u64, u64),
}

/// What the log must hold: its surviving records by offset, its bounds, and the offset below
/// which the last compaction pass has cleaned (so the next pass may skip).
///
/// The rules, one per operation (segment boundaries and file sizes come from the log, which
/// rolls by bytes, index space and age; everything else follows from the operations):
/// - append: the records take consecutive offsets from the end offset, one batch, with their
///   create time (or `now` when unset), or `now` on a `LogAppendTime` topic.
/// - `truncate_to(o)`, `o` < end: below the log start everything goes and both bounds become
///   `o`; otherwise every batch whose last offset is ≥ `o` goes, the end becomes the base of a
///   surviving batch across `o` or else `o`, and the start is lowered to the end if above it.
/// - retention: with `delete` in the policy an expired active segment is rolled first; then
///   sealed segments go oldest first while expired by time (max timestamp older than
///   `retention.ms`), not needed by size (the rest is still ≥ `retention.bytes`) or wholly
///   below the log start; the start moves to the first remaining segment's base.
/// - compaction (`compact` in the policy): a pass over the sealed segments keeps a record iff it
///   has no key, or it is the latest of its key among the sealed segments and either has a value
///   or is a tombstone younger than `delete.retention.ms`. Batches keep their base and last
///   offsets; an emptied batch goes. A pass must run when a sealed segment holds a record at or
///   after the previous pass's clean point (reset by a restart, lowered by a truncation).
/// - `DeleteRecords`: the start moves; records before it stay until their segment goes.
/// - flush, clean or unclean reopen: nothing changes.
/// - reads from the start return every batch that ends at or after it, whole, in order.
#[derive(Debug, Default)]
struct Model {
    records: BTreeMap<u64, MRec>,
    log_start: u64,
    log_end: u64,
    clean_point: u64,
}

impl Model {
    /// The batches a read from the log start returns, as `(base, last, records)`: those ending at
    /// or after the start. A batch holding the start is returned whole.
    fn batches(&self) -> Vec<(u64, u64, Vec<&MRec>)> {
        let mut out: Vec<(u64, u64, Vec<&MRec>)> = Vec::new();
        for r in self
            .records
            .values()
            .filter(|r| r.batch.1 >= self.log_start)
        {
            match out.last_mut() {
                Some((b, _, rs)) if *b == r.batch.0 => rs.push(r),
                _ => out.push((r.batch.0, r.batch.1, vec![r])),
            }
        }
        out
    }

    /// `truncate_to`: drop every batch whose last offset is ≥ `offset`; the end offset becomes
    /// the base of a surviving batch that straddles `offset`, else `offset` itself.
    fn truncate(&mut self, offset: u64) {
        if offset >= self.log_end {
            return;
        }
        if offset < self.log_start {
            self.records.clear();
            self.log_start = offset;
            self.log_end = offset;
            self.clean_point = 0;
            return;
        }
        let end = self
            .records
            .values()
            .find(|r| r.batch.1 >= offset)
            .map_or(offset, |r| r.batch.0.min(offset));
        self.records.retain(|o, _| *o < end);
        self.log_end = end;
        // The first removed batch may start below a log start inside it.
        self.log_start = self.log_start.min(end);
        self.clean_point = self.clean_point.min(end);
    }

    /// A compaction pass over the records below `sealed_end` at `now`.
    fn compact(&mut self, sealed_end: u64, now: i64, delete_retention_ms: i64) {
        let mut latest: HashMap<Bytes, u64> = HashMap::new();
        for r in self.records.range(..sealed_end).map(|(_, r)| r) {
            if let Some(k) = &r.key {
                latest.insert(k.clone(), r.offset);
            }
        }
        self.records.retain(|o, r| {
            *o >= sealed_end
                || match &r.key {
                    None => true,
                    Some(k) => {
                        latest.get(k) == Some(o)
                            && (r.value.is_some() || now - r.timestamp < delete_retention_ms)
                    }
                }
        });
        self.clean_point = sealed_end;
    }
}

#[derive(Clone)]
struct GenRecord {
    key: Option<u8>,
    value: Option<GenValue>,
    /// How long before `now` the record was created; `None` lets the encoder stamp `now`.
    age_ms: Option<i64>,
    header: bool,
}

impl std::fmt::Debug for GenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "R({:?}, {:?}, {:?}, {})",
            self.key, self.value, self.age_ms, self.header
        )
    }
}

/// A value of `len` bytes: `byte` repeated (compressible) or a sequence seeded by it.
#[derive(Clone, Copy)]
struct GenValue {
    byte: u8,
    len: usize,
    random: bool,
}

impl std::fmt::Debug for GenValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "V({}, {}, {})", self.byte, self.len, self.random)
    }
}

impl GenValue {
    fn bytes(self) -> Bytes {
        let mut x = u32::from(self.byte) | 1;
        (0..self.len)
            .map(|_| {
                if self.random {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                } else {
                    self.byte
                }
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Append {
        records: Vec<GenRecord>,
        codec: Compression,
    },
    Roll,
    /// Truncate at a point in `[log_start - 3, log_end + 2]`, in thousandths.
    Truncate {
        at: u16,
    },
    Retention {
        advance_ms: i64,
    },
    Compact {
        advance_ms: i64,
    },
    Advance {
        ms: i64,
    },
    /// Read at a point in `[log_start, log_end]` with a high watermark between it and the end.
    Read {
        at: u16,
        max_bytes: usize,
        hw: u16,
    },
    /// `DeleteRecords` to a point in `[log_start, log_end]`.
    AdvanceStart {
        at: u16,
    },
    Flush,
    CleanReopen,
    CrashReopen,
}

#[derive(Debug, Clone)]
struct Setup {
    segment_bytes: u64,
    segment_index_bytes: usize,
    index_interval_bytes: usize,
    segment_ms: i64,
    policy: CleanupPolicy,
    retention_ms: Option<i64>,
    retention_bytes: Option<u64>,
    delete_retention_ms: i64,
    timestamp_type: TimestampType,
}

impl Setup {
    fn config(&self) -> LogConfig {
        LogConfig {
            segment_bytes: self.segment_bytes,
            segment_ms: self.segment_ms,
            segment_index_bytes: self.segment_index_bytes,
            index_interval_bytes: self.index_interval_bytes,
            retention_ms: self.retention_ms,
            retention_bytes: self.retention_bytes,
            cleanup_policy: self.policy,
            delete_retention_ms: self.delete_retention_ms,
            timestamp_type: self.timestamp_type,
            ..LogConfig::default()
        }
    }
}

fn setup_strategy() -> impl Strategy<Value = Setup> {
    (
        2048u64..=8192,
        prop_oneof![Just(96usize), Just(120), 96usize..=4096],
        0usize..=600,
        prop_oneof![3 => Just(7 * 24 * HOUR), 1 => Just(HOUR)],
        prop_oneof![
            Just(CleanupPolicy::DELETE),
            Just(CleanupPolicy::COMPACT),
            Just(CleanupPolicy {
                delete: true,
                compact: true
            }),
        ],
        prop::option::of(prop_oneof![Just(HOUR), Just(3 * HOUR)]),
        prop::option::weighted(0.4, 4096u64..=24_576),
        prop_oneof![Just(0i64), Just(10 * MINUTE), Just(HOUR)],
        prop_oneof![3 => Just(TimestampType::CreateTime), 1 => Just(TimestampType::LogAppendTime)],
    )
        .prop_map(|(sb, sib, iib, sms, policy, rms, rbytes, drms, tt)| Setup {
            segment_bytes: sb,
            segment_index_bytes: sib,
            index_interval_bytes: iib,
            segment_ms: sms,
            policy,
            retention_ms: rms,
            retention_bytes: rbytes,
            delete_retention_ms: drms,
            timestamp_type: tt,
        })
}

fn record_strategy() -> impl Strategy<Value = GenRecord> {
    (
        prop::option::weighted(0.85, 0u8..6),
        prop::option::weighted(
            0.85,
            (any::<u8>(), 0usize..400, any::<bool>()).prop_map(|(byte, len, random)| GenValue {
                byte,
                len,
                random,
            }),
        ),
        prop::option::weighted(0.9, 0i64..4 * HOUR),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(key, value, age_ms, header)| GenRecord {
            key,
            value,
            age_ms,
            header,
        })
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (
            prop::collection::vec(record_strategy(), 1..12),
            prop_oneof![
                Just(Compression::None),
                Just(Compression::Gzip),
                Just(Compression::Lz4),
                Just(Compression::Zstd),
            ],
        )
            .prop_map(|(records, codec)| Op::Append { records, codec }),
        1 => Just(Op::Roll),
        2 => (0u16..=1000).prop_map(|at| Op::Truncate { at }),
        2 => (0i64..2 * HOUR).prop_map(|advance_ms| Op::Retention { advance_ms }),
        1 => (0i64..2 * HOUR).prop_map(|advance_ms| Op::Compact { advance_ms }),
        1 => (0i64..HOUR).prop_map(|ms| Op::Advance { ms }),
        2 => (0u16..=1000, 0usize..3000, 0u16..=1000)
            .prop_map(|(at, max_bytes, hw)| Op::Read { at, max_bytes, hw }),
        1 => Just(Op::CleanReopen),
        1 => Just(Op::CrashReopen),
        1 => (0u16..=1000).prop_map(|at| Op::AdvanceStart { at }),
        1 => Just(Op::Flush),
    ]
}

/// A log under test next to its model.
struct Harness {
    dir: tempfile::TempDir,
    config: LogConfig,
    log: Option<Log>,
    model: Model,
    now: i64,
    /// Drives the choice of probe offsets in [`Harness::check`].
    probe: u64,
}

impl Harness {
    fn new(config: LogConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path(), config.clone(), false, T0).unwrap();
        Harness {
            dir,
            config,
            log: Some(log),
            model: Model::default(),
            now: T0,
            probe: 0,
        }
    }

    fn log(&self) -> &Log {
        self.log.as_ref().unwrap()
    }

    fn log_mut(&mut self) -> &mut Log {
        self.log.as_mut().unwrap()
    }

    /// `(base, size on disk)` of every segment, oldest first.
    fn layout(&self) -> Vec<(u64, u64)> {
        self.log()
            .segment_bases()
            .into_iter()
            .map(|b| {
                let p = self.dir.path().join(segment::file_name(b, "log"));
                (b, std::fs::metadata(p).unwrap().len())
            })
            .collect()
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Append { records, codec } => self.append(records, *codec),
            Op::Roll => self.log_mut().roll().unwrap(),
            Op::Truncate { at } => {
                let lo = self.model.log_start.saturating_sub(3);
                let hi = self.model.log_end + 2;
                let offset = lo + (hi - lo) * u64::from(*at) / 1000;
                self.log_mut().truncate_to(offset).unwrap();
                self.model.truncate(offset);
            }
            Op::Retention { advance_ms } => {
                self.now += advance_ms;
                self.retention();
            }
            Op::Compact { advance_ms } => {
                self.now += advance_ms;
                self.compact();
            }
            Op::Advance { ms } => self.now += ms,
            Op::Read { at, max_bytes, hw } => {
                let (lo, hi) = (self.model.log_start, self.model.log_end);
                let offset = lo + (hi - lo) * u64::from(*at) / 1000;
                let hw = offset + (hi + 1 - offset) * u64::from(*hw) / 1000;
                self.check_read(offset, *max_bytes, hw);
            }
            Op::CleanReopen => {
                let mut log = self.log.take().unwrap();
                log.close(self.now).unwrap();
                drop(log);
                self.log =
                    Some(Log::open(self.dir.path(), self.config.clone(), true, self.now).unwrap());
                self.model.clean_point = 0;
            }
            Op::AdvanceStart { at } => {
                let (lo, hi) = (self.model.log_start, self.model.log_end);
                let offset = lo + (hi - lo) * u64::from(*at) / 1000;
                self.log_mut().advance_log_start_offset(offset).unwrap();
                self.model.log_start = offset;
            }
            Op::Flush => {
                let now = self.now;
                self.log_mut().flush(now).unwrap();
                self.log().checkpoint().unwrap();
            }
            Op::CrashReopen => {
                drop(self.log.take());
                self.log =
                    Some(Log::open(self.dir.path(), self.config.clone(), false, self.now).unwrap());
                self.model.clean_point = 0;
            }
        }
    }

    fn append(&mut self, records: &[GenRecord], codec: Compression) {
        let now = self.now;
        let new: Vec<NewRecord> = records
            .iter()
            .map(|g| NewRecord {
                timestamp: g.age_ms.map(|a| now - a),
                key: g.key.map(|k| Bytes::from(vec![b'k', k])),
                value: g.value.map(GenValue::bytes),
                headers: if g.header {
                    vec![Header {
                        key: "h".into(),
                        value: Some(Bytes::from_static(b"hv")),
                    }]
                } else {
                    vec![]
                },
            })
            .collect();
        let bytes = batch::encode_batch(&new, codec, now, self.config.max_batch_bytes()).unwrap();
        let info = self.log_mut().append(bytes, 3, now).unwrap();
        let base = self.model.log_end;
        assert_eq!(info.base_offset, base);
        let last = base + new.len() as u64 - 1;
        assert_eq!(info.last_offset, last);
        for (i, r) in new.into_iter().enumerate() {
            let offset = base + i as u64;
            let timestamp = match self.config.timestamp_type {
                TimestampType::LogAppendTime => now,
                TimestampType::CreateTime => r.timestamp.unwrap_or(now),
            };
            self.model.records.insert(
                offset,
                MRec {
                    offset,
                    timestamp,
                    key: r.key,
                    value: r.value,
                    headers: r.headers,
                    batch: (base, last),
                },
            );
        }
        self.model.log_end = last + 1;
    }

    /// Retention as specified: roll an expired active segment, then delete sealed segments
    /// oldest first while they are expired by time, unneeded by size, or below the log start;
    /// the log start moves to the first remaining segment's base.
    fn retention(&mut self) {
        let now = self.now;
        let mut layout = self.layout();
        let delete = self.config.cleanup_policy.delete;
        let max_ts = |m: &Model, from: u64, to: u64| {
            m.records.range(from..to).map(|(_, r)| r.timestamp).max()
        };
        let (active_base, active_size) = *layout.last().unwrap();
        if delete
            && let Some(ms) = self.config.retention_ms
            && active_size > 0
            && max_ts(&self.model, active_base, u64::MAX).is_some_and(|ts| now - ts > ms)
        {
            layout.push((self.model.log_end, 0));
        }
        let mut total: u64 = layout.iter().map(|(_, s)| s).sum();
        let mut deleted = 0;
        let mut new_start = None;
        for w in layout.windows(2) {
            let ((base, size), (next_base, _)) = (w[0], w[1]);
            let max = max_ts(&self.model, base, next_base);
            let next = self
                .model
                .records
                .range(base..next_base)
                .next_back()
                .map_or(base, |(_, r)| r.batch.1 + 1);
            let by_time = delete
                && self
                    .config
                    .retention_ms
                    .is_some_and(|ms| max.is_some_and(|ts| now - ts > ms));
            let by_size = delete
                && self
                    .config
                    .retention_bytes
                    .is_some_and(|limit| total - size >= limit);
            let below_start = next <= self.model.log_start;
            if !(by_time || by_size || below_start) {
                break;
            }
            total -= size;
            deleted += 1;
            new_start = Some(next_base);
        }
        let removed = self.log_mut().apply_retention(now).unwrap();
        assert_eq!(removed, deleted, "segments deleted by retention");
        let expect_bases: Vec<u64> = layout.iter().skip(deleted).map(|(b, _)| *b).collect();
        assert_eq!(self.log().segment_bases(), expect_bases);
        if let Some(s) = new_start {
            self.model.log_start = self.model.log_start.max(s);
            self.model.records = self.model.records.split_off(&s);
        }
    }

    /// A compaction pass must run when sealed segments hold records past the last pass's clean
    /// point; when it runs, the model applies the same cleaning.
    fn compact(&mut self) {
        let now = self.now;
        let layout = self.layout();
        let sealed_end = layout.last().unwrap().0;
        let compact = self.config.cleanup_policy.compact;
        let required = compact
            && layout.len() > 1
            && self
                .model
                .records
                .range(self.model.clean_point.min(sealed_end)..sealed_end)
                .next()
                .is_some();
        let log = Mutex::new(self.log.take().unwrap());
        let stats = compaction::compact(&log, now).unwrap();
        self.log = Some(log.into_inner());
        if !compact {
            assert_eq!(stats, compaction::CompactionStats::default());
            return;
        }
        if required {
            assert!(
                stats.segments > 0,
                "a compaction pass with dirty sealed segments was skipped"
            );
        }
        if stats.segments > 0 {
            self.model
                .compact(sealed_end, now, self.config.delete_retention_ms);
        }
        assert_eq!(
            self.log().segment_bases(),
            self.layout().iter().map(|(b, _)| *b).collect::<Vec<_>>()
        );
    }

    /// A read at `offset` returns the batches from the first one holding an offset ≥ `offset`,
    /// within one segment, below the high watermark, as many as fit `max_bytes` but at least one.
    fn check_read(&self, offset: u64, max_bytes: usize, hw: u64) {
        let log = self.log();
        let got = decode_batches(
            &log.read(offset, max_bytes, hw).unwrap(),
            self.config.max_batch_bytes(),
        );
        let sizes: HashMap<u64, usize> = read_all(log)
            .into_iter()
            .map(|(h, size, _)| (h.base_offset, size))
            .collect();
        let bases = log.segment_bases();
        let segment_of = |o: u64| bases.iter().rev().find(|b| **b <= o).copied();
        let batches = self.model.batches();
        let Some(first) = batches.iter().position(|b| b.1 >= offset) else {
            assert!(got.is_empty(), "read past the last batch at {offset}");
            return;
        };
        let seg = segment_of(batches[first].0);
        let expected: Vec<(u64, usize)> = batches[first..]
            .iter()
            .take_while(|b| b.1 < hw && segment_of(b.0) == seg)
            .map(|b| (b.0, sizes[&b.0]))
            .collect();
        if expected.is_empty() {
            assert!(
                got.is_empty(),
                "read at {offset} crossed the high watermark {hw}"
            );
            return;
        }
        assert!(
            !got.is_empty(),
            "read at {offset} (max {max_bytes}, hw {hw}) returned nothing"
        );
        assert!(got.len() <= expected.len());
        for ((h, size, recs), (base, exp_size)) in got.iter().zip(&expected) {
            assert_eq!((h.base_offset, *size), (*base, *exp_size));
            assert!(recs.iter().all(|r| r.offset < hw));
        }
        let total: usize = got.iter().map(|b| b.1).sum();
        assert!(got.len() == 1 || total <= max_bytes, "read past max_bytes");
        if let Some((_, next)) = expected.get(got.len()) {
            assert!(total + next > max_bytes, "read stopped early");
        }
    }

    /// Everything observable agrees with the model.
    fn check(&mut self) {
        let log = self.log();
        assert_eq!(
            log.log_start_offset(),
            self.model.log_start,
            "log start offset"
        );
        assert_eq!(log.log_end_offset(), self.model.log_end, "log end offset");
        assert_eq!(
            log_files(self.dir.path()),
            log.segment_bases(),
            "segment files on disk"
        );
        let got = read_all(log);
        let expected = self.model.batches();
        let got_shape: Vec<(u64, u64, Vec<u64>)> = got
            .iter()
            .map(|(h, _, r)| (h.base_offset, h.last_offset(), offsets(r)))
            .collect();
        let expected_shape: Vec<(u64, u64, Vec<u64>)> = expected
            .iter()
            .map(|(b, l, r)| (*b, *l, r.iter().map(|r| r.offset).collect()))
            .collect();
        let read: Vec<u64> = got.iter().flat_map(|b| offsets(&b.2)).collect();
        assert!(
            read.windows(2).all(|w| w[0] < w[1]),
            "offsets strictly increase"
        );
        assert_eq!(got_shape, expected_shape, "batches and offsets read back");
        for (got, want) in got
            .iter()
            .flat_map(|b| &b.2)
            .zip(expected.iter().flat_map(|b| &b.2))
        {
            assert_eq!(
                got.timestamp, want.timestamp,
                "timestamp of {}",
                want.offset
            );
            assert_eq!(got.key, want.key, "key of {}", want.offset);
            assert_eq!(got.value, want.value, "value of {}", want.offset);
            assert_eq!(got.headers, want.headers, "headers of {}", want.offset);
        }
        check_indexes(log);
        // A few probes, including reads of at most one byte.
        let span = self.model.log_end - self.model.log_start + 1;
        for _ in 0..3 {
            self.probe = self
                .probe
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let offset = self.model.log_start + (self.probe >> 33) % span;
            let max_bytes = [1, 64, 3000][(self.probe % 3) as usize];
            self.check_read(offset, max_bytes, self.model.log_end);
        }
    }
}

fn run_ops(setup: &Setup, ops: &[Op]) {
    let mut h = Harness::new(setup.config());
    h.check();
    for op in ops {
        h.apply(op);
        h.check();
    }
}

proptest! {
    // 64 cases keep a debug run short; `PROPTEST_CASES=5000` searches deeper.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    /// Random appends, rolls, truncations, retention, compaction and clean or unclean reopens
    /// agree with the in-memory model after every step.
    #[test]
    fn log_matches_model(setup in setup_strategy(), ops in prop::collection::vec(op_strategy(), 1..40)) {
        run_ops(&setup, &ops);
    }
}

// ---------------------------------------------------------------------------------------------
// Torn tails and corrupt files
// ---------------------------------------------------------------------------------------------

type Batch = (BatchHeader, usize, Vec<Record>);

/// A crashed log (dropped without `close`): a sealed segment of two batches and an active one of
/// three, in every codec. Returns its directory and its batches.
fn crashed_log(config: &LogConfig) -> (tempfile::TempDir, Vec<Batch>) {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), config.clone(), false, T0).unwrap();
    let codecs = [
        Compression::Gzip,
        Compression::None,
        Compression::Lz4,
        Compression::Zstd,
        Compression::None,
    ];
    for (i, codec) in codecs.into_iter().enumerate() {
        let base = log.log_end_offset();
        let recs: Vec<NewRecord> = (0..2)
            .map(|j| {
                let o = base + j;
                rec(
                    Some(&format!("k{o}")),
                    Some(&"v".repeat(5 + i)),
                    T0 + o as i64,
                )
            })
            .collect();
        append(&mut log, &recs, codec, T0);
        if i == 1 {
            log.roll().unwrap();
        }
    }
    let batches = read_all(&log);
    assert_eq!(batches.len(), 5);
    assert_eq!(log.segment_count(), 2);
    drop(log);
    (dir, batches)
}

/// Copies `template`, damages the active segment's `.log` with `damage`, and checks that
/// recovery keeps exactly the first `keep` batches: end offset, reads and indexes agree, a second
/// recovery changes nothing, and the next append gets the next offset.
fn check_recovery(
    template: &Path,
    config: &LogConfig,
    all: &[Batch],
    keep: usize,
    label: &str,
    damage: impl FnOnce(&Path),
) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(template, dir.path());
    let active = *log_files(dir.path()).last().unwrap();
    damage(&dir.path().join(segment::file_name(active, "log")));
    let end = all[keep - 1].0.next_offset();

    let log = Log::open(dir.path(), config.clone(), false, T0)
        .unwrap_or_else(|e| panic!("{label}: recovery failed: {e}"));
    assert_eq!(log.log_end_offset(), end, "{label}: log end offset");
    assert_eq!(read_all(&log), all[..keep], "{label}: batches kept");
    check_indexes(&log);
    drop(log);

    let sizes = file_sizes(dir.path());
    let mut log = Log::open(dir.path(), config.clone(), false, T0).unwrap();
    assert_eq!(
        file_sizes(dir.path()),
        sizes,
        "{label}: a second recovery changes files"
    );
    assert_eq!(log.log_end_offset(), end, "{label}: second recovery");
    check_indexes(&log);
    let info = append(
        &mut log,
        &[rec(None, Some("after"), T0)],
        Compression::None,
        T0,
    );
    assert_eq!(info.base_offset, end, "{label}: next append");
    assert_eq!(read_all(&log).len(), keep + 1, "{label}");
    check_indexes(&log);
}

/// Where the last batch starts in the active segment file, and its length.
fn last_batch_span(all: &[Batch]) -> (u64, usize) {
    let last = all.last().unwrap().1;
    let active_len: usize = all[2..].iter().map(|b| b.1).sum();
    ((active_len - last) as u64, last)
}

fn edit_file(path: &Path, edit: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(path).unwrap();
    edit(&mut bytes);
    std::fs::write(path, bytes).unwrap();
}

/// Deterministic pseudo-random bytes.
fn noise(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect()
}

#[test]
fn torn_tail_every_cut_point_of_the_last_batch() {
    let config = small_config();
    let (template, all) = crashed_log(&config);
    let (start, len) = last_batch_span(&all);
    for cut in start..start + len as u64 {
        check_recovery(
            template.path(),
            &config,
            &all,
            4,
            &format!("cut at {cut}"),
            |p| {
                let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
                f.set_len(cut).unwrap();
            },
        );
    }
    check_recovery(template.path(), &config, &all, 5, "no damage", |_| {});
}

#[test]
fn torn_tail_bit_flips_in_the_last_batch() {
    let config = small_config();
    let (template, all) = crashed_log(&config);
    let (start, len) = last_batch_span(&all);
    let base = all[4].0.base_offset;
    let mut flips: Vec<(usize, u8)> = Vec::new();
    // Base offset (not under the CRC): flips that move it backwards, or beyond the 32-bit range
    // a segment's relative offsets can hold, are damage. A flip that moves it forwards by less
    // cannot be told from a gap left by compaction, as in Kafka.
    for bit in 0..64u32 {
        if base & (1 << bit) != 0 || bit >= 32 {
            flips.push((7 - bit as usize / 8, 1 << (bit % 8)));
        }
    }
    // Every bit of the length field.
    for byte in 8..12 {
        for bit in 0..8 {
            flips.push((byte, 1 << bit));
        }
    }
    // One bit of every other byte after the leader epoch (which, like the base offset, is
    // outside the CRC and not checked): magic, CRC, attributes, the fixed fields and records.
    for byte in 16..len {
        flips.push((byte, 1 << (byte % 8)));
    }
    for (byte, mask) in flips {
        let label = format!("flip {mask:#04x} at byte {byte}");
        check_recovery(template.path(), &config, &all, 4, &label, |p| {
            edit_file(p, |b| b[start as usize + byte] ^= mask);
        });
    }
    let mut flipped = all.clone();
    flipped[4].0.leader_epoch ^= 0x10 << 16;
    check_recovery(
        template.path(),
        &config,
        &flipped,
        5,
        "a leader epoch flip is kept",
        |p| {
            edit_file(p, |b| b[start as usize + 13] ^= 0x10);
        },
    );
}

#[test]
fn torn_tail_garbage_after_the_last_batch_is_cut() {
    let config = small_config();
    let (template, all) = crashed_log(&config);
    for (seed, len) in [(1, 1), (2, 11), (3, 12), (4, 61), (5, 500), (6, 5000)] {
        check_recovery(
            template.path(),
            &config,
            &all,
            5,
            &format!("{len} bytes of garbage"),
            |p| {
                edit_file(p, |b| b.extend(noise(seed, len)));
            },
        );
    }
    check_recovery(template.path(), &config, &all, 5, "zeros", |p| {
        edit_file(p, |b| b.extend([0u8; 4096]));
    });
    // A copy of the last batch's header alone: a batch that never finished.
    let (start, _) = last_batch_span(&all);
    check_recovery(template.path(), &config, &all, 5, "a lone header", |p| {
        edit_file(p, |b| {
            let head = b[start as usize..start as usize + batch::HEADER_LEN].to_vec();
            b.extend(head);
        });
    });
}

#[test]
fn torn_tail_after_a_clean_shutdown_is_cut_too() {
    let config = small_config();
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), config.clone(), false, T0).unwrap();
    fill(&mut log, 4, 2, T0);
    let all = read_all(&log);
    log.close(T0).unwrap();
    drop(log);
    let path = dir.path().join(segment::file_name(0, "log"));
    edit_file(&path, |b| b.extend(noise(9, 100)));
    let log = Log::open(dir.path(), config, true, T0).unwrap();
    assert_eq!(read_all(&log), all);
    assert_eq!(log.log_end_offset(), 8);
    check_indexes(&log);
}

#[test]
fn torn_tail_length_field_gigabytes_past_the_end() {
    // With the default limit the length is impossible; with a huge limit it is a batch that
    // never finished. Either way it is cut, and nothing of that size is allocated.
    for max_message_bytes in [
        LogConfig::default().max_message_bytes,
        i32::MAX as usize - 100,
    ] {
        let config = LogConfig {
            max_message_bytes,
            ..small_config()
        };
        let (template, all) = crashed_log(&config);
        let (start, _) = last_batch_span(&all);
        for len in [0x4000_0000u32, 0x7fff_0000, u32::MAX] {
            let label = format!("length {len:#x}, limit {max_message_bytes}");
            check_recovery(template.path(), &config, &all, 4, &label, |p| {
                edit_file(p, |b| {
                    b[start as usize + 8..start as usize + 12].copy_from_slice(&len.to_be_bytes());
                });
            });
        }
    }
}

/// A cleanly closed log of four segments; returns its directory and batches.
fn closed_log(config: &LogConfig) -> (tempfile::TempDir, Vec<Batch>) {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), config.clone(), false, T0).unwrap();
    for i in 0..4 {
        fill(&mut log, 6, 3, T0 + i * 1000);
        log.roll().unwrap();
    }
    fill(&mut log, 6, 3, T0 + 5000);
    assert!(log.segment_count() >= 4);
    let all = read_all(&log);
    log.close(T0).unwrap();
    (dir, all)
}

/// Opens a damaged copy of a closed log after a clean shutdown and checks it reads, looks up
/// and appends as the original did.
fn check_clean_open(
    template: &Path,
    config: &LogConfig,
    all: &[Batch],
    label: &str,
    damage: impl FnOnce(&Path, &[u64]),
) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(template, dir.path());
    damage(dir.path(), &log_files(dir.path()));
    // The data directory's marker says the shutdown was clean.
    let data_dir = tempfile::tempdir().unwrap();
    marker::write(data_dir.path()).unwrap();
    let clean = marker::take(data_dir.path()).unwrap();
    assert!(clean);
    let mut log = Log::open(dir.path(), config.clone(), clean, T0)
        .unwrap_or_else(|e| panic!("{label}: open failed: {e}"));
    let end = all.last().unwrap().0.next_offset();
    assert_eq!(log.log_end_offset(), end, "{label}");
    assert_eq!(read_all(&log), all, "{label}: reads");
    check_indexes(&log);
    for (h, _, recs) in all {
        for r in recs {
            let found = log.offset_for_timestamp(r.timestamp).unwrap();
            assert_eq!(found, Some((r.offset, r.timestamp)), "{label}: time lookup");
        }
        // Reads at every offset start at its batch.
        for o in h.base_offset..=h.last_offset() {
            let got = decode_batches(&log.read(o, 1, end).unwrap(), usize::MAX);
            assert_eq!(got[0].0.base_offset, h.base_offset, "{label}: read at {o}");
        }
    }
    let info = append(&mut log, &[rec(None, Some("x"), T0)], Compression::None, T0);
    assert_eq!(info.base_offset, end, "{label}");
    check_indexes(&log);
}

#[test]
fn corrupt_indexes_after_a_clean_shutdown_are_rebuilt() {
    let config = LogConfig {
        index_interval_bytes: 0,
        ..small_config()
    };
    let (template, all) = closed_log(&config);
    let n = log_files(template.path()).len();
    for (which, target) in [("sealed", 1usize), ("active", n - 1), ("first", 0)] {
        let idx =
            |dir: &Path, bases: &[u64], ext: &str| dir.join(segment::file_name(bases[target], ext));
        for ext in ["index", "timeindex"] {
            let label = format!("{which} {ext}: random bytes");
            check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
                let p = idx(dir, bases, ext);
                let len = std::fs::metadata(&p).unwrap().len() as usize;
                std::fs::write(&p, noise(target as u32 + 7, len)).unwrap();
            });
            let label = format!("{which} {ext}: random bytes of another length");
            check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
                std::fs::write(idx(dir, bases, ext), noise(3, 1000)).unwrap();
            });
            let label = format!("{which} {ext}: missing");
            check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
                std::fs::remove_file(idx(dir, bases, ext)).unwrap();
            });
            let label = format!("{which} {ext}: empty");
            check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
                std::fs::write(idx(dir, bases, ext), []).unwrap();
            });
            let label = format!("{which} {ext}: longer than the log");
            check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
                edit_file(&idx(dir, bases, ext), |b| {
                    // Entries that keep growing but point past the log's end.
                    let entry = b.len() - if ext == "index" { 8 } else { 12 };
                    let mut last = b[entry..].to_vec();
                    for _ in 0..4 {
                        for x in last.iter_mut().rev() {
                            *x = x.wrapping_add(0x40);
                            if *x >= 0x40 {
                                break;
                            }
                        }
                        b.extend(&last);
                    }
                });
            });
            let label = format!("{which} {ext}: zero-filled tail");
            check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
                edit_file(&idx(dir, bases, ext), |b| b.extend([0u8; 96]));
            });
        }
        let label = format!("{which} index: last entry inside a batch");
        check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
            edit_file(&idx(dir, bases, "index"), |b| {
                let at = b.len() - 1;
                b[at] = b[at].wrapping_add(1);
            });
        });
        let label = format!("{which} index: an entry names the wrong offset");
        check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
            edit_file(&idx(dir, bases, "index"), |b| {
                let at = b.len() - 5;
                b[at] = b[at].wrapping_add(1);
            });
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Unit tests
// ---------------------------------------------------------------------------------------------

fn open(dir: &Path, config: &LogConfig, clean: bool) -> Log {
    Log::open(dir, config.clone(), clean, T0).unwrap()
}

fn value(v: &str) -> NewRecord {
    rec(None, Some(v), T0)
}

#[test]
fn offset_for_timestamp_with_create_time_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let mut log = open(dir.path(), &config, false);
    let ts = |d: i64| T0 + d;
    let at = |d: i64| rec(None, Some("v"), ts(d));
    append(
        &mut log,
        &[at(100), at(101), at(102)],
        Compression::None,
        T0,
    ); // 0..=2
    append(&mut log, &[at(90), at(150), at(120)], Compression::Gzip, T0); // 3..=5
    log.roll().unwrap();
    append(&mut log, &[at(200), at(201)], Compression::None, T0); // 6..=7
    append(&mut log, &[at(130)], Compression::Zstd, T0); // 8
    let cases = [
        (i64::MIN, Some((0, ts(100)))),
        (ts(0), Some((0, ts(100)))),
        (ts(100), Some((0, ts(100)))),
        (ts(101), Some((1, ts(101)))),
        (ts(103), Some((4, ts(150)))),
        (ts(130), Some((4, ts(150)))),
        (ts(150), Some((4, ts(150)))),
        (ts(151), Some((6, ts(200)))),
        (ts(201), Some((7, ts(201)))),
        (ts(202), None),
        (i64::MAX, None),
    ];
    for (t, want) in cases {
        assert_eq!(log.offset_for_timestamp(t).unwrap(), want, "ts {t}");
    }
    log.close(T0).unwrap();
    let log = open(dir.path(), &config, true);
    for (t, want) in cases {
        assert_eq!(
            log.offset_for_timestamp(t).unwrap(),
            want,
            "after reopen, ts {t}"
        );
    }
}

#[test]
fn offset_for_timestamp_with_log_append_time() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        timestamp_type: TimestampType::LogAppendTime,
        ..small_config()
    };
    let mut log = open(dir.path(), &config, false);
    // Create times are ignored: the broker's clock at append counts.
    let old = |v| rec(None, Some(v), T0 - HOUR);
    append(
        &mut log,
        &[old("a"), old("b")],
        Compression::None,
        T0 + 1000,
    ); // 0..=1
    log.roll().unwrap();
    append(&mut log, &[old("c"), old("d")], Compression::Lz4, T0 + 2000); // 2..=3
    append(&mut log, &[old("e")], Compression::None, T0 + 3000); // 4
    for (t, want) in [
        (T0 - HOUR, Some((0, T0 + 1000))),
        (T0 + 1000, Some((0, T0 + 1000))),
        (T0 + 1001, Some((2, T0 + 2000))),
        (T0 + 2500, Some((4, T0 + 3000))),
        (T0 + 3001, None),
    ] {
        assert_eq!(log.offset_for_timestamp(t).unwrap(), want, "ts {t}");
    }
    assert!(read_records(&log).iter().all(|r| r.timestamp > T0));
}

#[test]
fn read_respects_the_high_watermark_and_returns_a_whole_oversized_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), &small_config(), false);
    fill(&mut log, 4, 3, T0); // batches 0..=2, 3..=5, 6..=8, 9..=11
    let bases = |bytes: Bytes| -> Vec<u64> {
        decode_batches(&bytes, usize::MAX)
            .iter()
            .map(|b| b.0.base_offset)
            .collect()
    };
    let size = read_all(&log)[0].1;
    assert_eq!(bases(log.read(0, 1 << 20, 12).unwrap()), [0, 3, 6, 9]);
    assert_eq!(bases(log.read(0, 1 << 20, 6).unwrap()), [0, 3]);
    assert_eq!(
        bases(log.read(0, 1 << 20, 5).unwrap()),
        [0],
        "a batch across the HW is not read"
    );
    assert_eq!(bases(log.read(0, 1 << 20, 2).unwrap()), Vec::<u64>::new());
    assert_eq!(bases(log.read(0, 1 << 20, 0).unwrap()), Vec::<u64>::new());
    assert_eq!(bases(log.read(4, 1 << 20, 12).unwrap()), [3, 6, 9]);
    assert_eq!(
        bases(log.read(11, 1 << 20, 100).unwrap()),
        [9],
        "max_offset past the end"
    );
    assert_eq!(
        bases(log.read(0, 1, 12).unwrap()),
        [0],
        "at least one whole batch"
    );
    assert_eq!(bases(log.read(0, size - 1, 12).unwrap()), [0]);
    assert_eq!(bases(log.read(0, 2 * size - 1, 12).unwrap()), [0]);
    assert_eq!(bases(log.read(0, 2 * size, 12).unwrap()), [0, 3]);
    assert!(log.read(12, 1 << 20, 12).unwrap().is_empty(), "at the end");
}

#[test]
fn read_out_of_range_below_the_log_start_and_above_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), &small_config(), false);
    fill(&mut log, 2, 3, T0);
    log.roll().unwrap();
    fill(&mut log, 2, 3, T0);
    log.advance_log_start_offset(6).unwrap();
    assert_eq!(log.apply_retention(T0).unwrap(), 1);
    assert_eq!(log.log_start_offset(), 6);
    let out_of_range = |r: super::Result<Bytes>, at: u64| match r {
        Err(Error::OffsetOutOfRange {
            requested,
            log_start_offset: 6,
            log_end_offset: 12,
        }) => assert_eq!(requested, at),
        other => panic!("read at {at}: {other:?}"),
    };
    out_of_range(log.read(5, 100, 12), 5);
    out_of_range(log.read(0, 100, 12), 0);
    out_of_range(log.read(13, 100, 12), 13);
    out_of_range(log.read(u64::MAX, 100, u64::MAX), u64::MAX);
    assert!(log.read(12, 100, 12).unwrap().is_empty());
    assert_eq!(
        decode_batches(&log.read(6, 1, 12).unwrap(), usize::MAX)[0]
            .0
            .base_offset,
        6
    );
    assert!(matches!(
        log.advance_log_start_offset(13),
        Err(Error::OffsetOutOfRange { .. })
    ));
}

/// Segments of one batch each: `n` batches of three records with timestamps `ts`.
fn one_batch_segments(log: &mut Log, n: usize, ts: i64) {
    for _ in 0..n {
        fill(log, 1, 3, ts);
        log.roll().unwrap();
    }
}

#[test]
fn retention_by_bytes_deletes_only_sealed_segments() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), &small_config(), false);
    one_batch_segments(&mut log, 5, T0);
    fill(&mut log, 1, 3, T0); // the active segment
    let size = log.size() / 6;
    assert_eq!(log.size(), 6 * size, "equal segments");
    log.set_config(LogConfig {
        retention_bytes: Some(3 * size + 1),
        ..small_config()
    });
    // 6 segments; keep deleting while what remains is still ≥ the limit.
    assert_eq!(log.apply_retention(T0).unwrap(), 2);
    assert_eq!(log.segment_bases(), [6, 9, 12, 15]);
    assert_eq!(log.log_start_offset(), 6);
    assert_eq!(offsets(&read_records(&log)), (6..18).collect::<Vec<_>>());
    log.set_config(LogConfig {
        retention_bytes: Some(0),
        ..small_config()
    });
    assert_eq!(
        log.apply_retention(T0).unwrap(),
        3,
        "never the active segment"
    );
    assert_eq!(log.segment_bases(), [15]);
    assert_eq!(log.log_start_offset(), 15);
    assert_eq!(offsets(&read_records(&log)), [15, 16, 17]);
    check_indexes(&log);
}

#[test]
fn retention_by_time_deletes_expired_segments_and_rolls_an_expired_active_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        retention_ms: Some(HOUR),
        ..small_config()
    };
    let mut log = open(dir.path(), &config, false);
    one_batch_segments(&mut log, 2, T0 - 3 * HOUR);
    one_batch_segments(&mut log, 1, T0 - 30 * MINUTE);
    one_batch_segments(&mut log, 1, T0 - 3 * HOUR); // older, but behind a young segment
    fill(&mut log, 1, 3, T0);
    assert_eq!(log.apply_retention(T0).unwrap(), 2);
    assert_eq!(log.log_start_offset(), 6);
    assert_eq!(log.segment_bases(), [6, 9, 12]);
    // Later everything has expired: the active segment is rolled and goes too.
    assert_eq!(log.apply_retention(T0 + 2 * HOUR).unwrap(), 3);
    assert_eq!(log.segment_bases(), [15]);
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (15, 15));
    assert!(read_records(&log).is_empty());
    assert_eq!(
        append(&mut log, &[value("x")], Compression::None, T0).base_offset,
        15
    );
    // Compacted topics are not retained by time.
    log.set_config(LogConfig {
        cleanup_policy: CleanupPolicy::COMPACT,
        ..config
    });
    log.roll().unwrap();
    assert_eq!(log.apply_retention(T0 + 10 * HOUR).unwrap(), 0);
}

#[test]
fn compaction_keeps_the_latest_per_key_and_tombstones_until_delete_retention() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        cleanup_policy: CleanupPolicy::COMPACT,
        delete_retention_ms: HOUR,
        ..small_config()
    };
    let mut log = open(dir.path(), &config, false);
    let kv = |k: &str, v: Option<&str>| rec(Some(k), v, T0);
    let none = Compression::None;
    append(
        &mut log,
        &[kv("a", Some("1")), kv("b", Some("1")), kv("c", Some("1"))],
        none,
        T0,
    );
    append(
        &mut log,
        &[kv("a", Some("2")), kv("b", None)],
        Compression::Zstd,
        T0,
    ); // 3, 4
    append(&mut log, &[value("x")], none, T0); // 5: no key
    log.roll().unwrap();
    append(&mut log, &[kv("c", Some("2"))], none, T0); // 6: active, not cleaned
    let log = Mutex::new(log);
    let stats = compaction::compact(&log, T0 + MINUTE).unwrap();
    assert_eq!(stats.records_removed, 2, "{stats:?}");
    let batches = read_all(&log.lock());
    let shape: Vec<(u64, u64, Vec<u64>)> = batches
        .iter()
        .map(|(h, _, r)| (h.base_offset, h.last_offset(), offsets(r)))
        .collect();
    assert_eq!(
        shape,
        [
            (0, 2, vec![2]),
            (3, 4, vec![3, 4]),
            (5, 5, vec![5]),
            (6, 6, vec![6])
        ],
        "batches keep their offsets; the tombstone is still young"
    );
    assert_eq!(batches[1].0.compression, Compression::Zstd);
    // New data rolled; two hours on, the tombstone and the superseded c=1 go.
    append(&mut log.lock(), &[kv("d", Some("1"))], none, T0); // 7
    log.lock().roll().unwrap();
    compaction::compact(&log, T0 + 2 * HOUR).unwrap();
    let mut log = log.into_inner();
    let recs = read_records(&log);
    assert_eq!(offsets(&recs), [3, 5, 6, 7]);
    assert_eq!(recs[0].value.as_deref(), Some(&b"2"[..]));
    check_indexes(&log);
    log.close(T0).unwrap();
    let log = open(dir.path(), &config, true);
    assert_eq!(offsets(&read_records(&log)), [3, 5, 6, 7]);
    assert_eq!(log.log_end_offset(), 8);
}

#[test]
fn truncate_to_various_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let mut log = open(dir.path(), &config, false);
    one_batch_segments(&mut log, 2, T0); // 0..=2 | 3..=5 |
    fill(&mut log, 3, 3, T0); // 6..=8, 9..=11, 12..=14
    log.truncate_to(15).unwrap();
    log.truncate_to(100).unwrap();
    assert_eq!(
        log.log_end_offset(),
        15,
        "at or past the end: nothing to do"
    );
    log.truncate_to(13).unwrap();
    assert_eq!(
        log.log_end_offset(),
        12,
        "a batch across the point goes whole"
    );
    log.truncate_to(9).unwrap();
    assert_eq!(log.log_end_offset(), 9, "at a batch boundary");
    log.truncate_to(6).unwrap();
    assert_eq!(log.log_end_offset(), 6, "at a segment's base");
    assert_eq!(log.segment_bases(), [0, 3]);
    assert_eq!(log_files(dir.path()), [0, 3]);
    check_indexes(&log);
    assert_eq!(
        append(&mut log, &[value("x")], Compression::None, T0).base_offset,
        6
    );
    log.truncate_to(4).unwrap();
    assert_eq!(log.log_end_offset(), 3);
    assert_eq!(
        append(&mut log, &[value("y")], Compression::None, T0).base_offset,
        3
    );
    assert_eq!(offsets(&read_records(&log)), [0, 1, 2, 3]);
    check_indexes(&log);
    drop(log);
    let mut log = open(dir.path(), &config, false);
    assert_eq!(log.log_end_offset(), 4);
    log.truncate_to(0).unwrap();
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (0, 0));
    assert!(read_records(&log).is_empty());
    // Below the log start offset the log restarts empty at the given offset.
    one_batch_segments(&mut log, 3, T0);
    log.advance_log_start_offset(6).unwrap();
    log.apply_retention(T0).unwrap();
    log.truncate_to(2).unwrap();
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (2, 2));
    assert_eq!(log.segment_bases(), [2]);
    assert_eq!(log_files(dir.path()), [2]);
    assert_eq!(
        append(&mut log, &[value("z")], Compression::None, T0).base_offset,
        2
    );
    drop(log);
    let log = open(dir.path(), &config, false);
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (2, 3));
    assert_eq!(offsets(&read_records(&log)), [2]);
}

#[test]
fn a_failed_roll_leaves_the_old_segment_active() {
    // Permissions mean nothing to root, so a directory where the new segment's file must go
    // makes creating it fail.
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let mut log = open(dir.path(), &config, false);
    fill(&mut log, 2, 3, T0);
    let blocker = dir.path().join(segment::file_name(6, "log"));
    std::fs::create_dir(&blocker).unwrap();
    assert!(log.roll().is_err());
    assert_eq!(log.segment_bases(), [0]);
    assert!(!log.is_offline());
    // An append that must roll fails without writing anything.
    log.set_config(LogConfig {
        segment_bytes: 1,
        ..config.clone()
    });
    assert!(
        log.append(
            batch::encode_batch(&[value("x")], Compression::None, T0, 1 << 20).unwrap(),
            0,
            T0
        )
        .is_err()
    );
    assert_eq!(log.log_end_offset(), 6);
    assert_eq!(offsets(&read_records(&log)), (0..6).collect::<Vec<_>>());
    assert!(!dir.path().join(segment::file_name(6, "index")).exists());
    // The old segment still takes appends.
    log.set_config(config.clone());
    assert_eq!(
        append(&mut log, &[value("y")], Compression::None, T0).base_offset,
        6
    );
    check_indexes(&log);
    std::fs::remove_dir(&blocker).unwrap();
    log.roll().unwrap();
    assert_eq!(log.segment_bases(), [0, 7]);
    assert_eq!(
        append(&mut log, &[value("z")], Compression::None, T0).base_offset,
        7
    );
    drop(log);
    let log = open(dir.path(), &config, false);
    assert_eq!(offsets(&read_records(&log)), (0..8).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------------------------
// Regressions
// ---------------------------------------------------------------------------------------------

/// Found by `log_matches_model`: a read with `max_bytes` below the 12-byte length prefix
/// returned nothing instead of the first whole batch, so a consumer with a tiny fetch size
/// stalled forever.
#[test]
fn regression_read_smaller_than_length_field_returns_first_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), small_config(), false, T0).unwrap();
    fill(&mut log, 2, 3, T0);
    for max_bytes in [0, 1, 11, 12, 13, 60] {
        let got = decode_batches(&log.read(0, max_bytes, 6).unwrap(), usize::MAX);
        assert_eq!(got.len(), 1, "max_bytes {max_bytes}");
        assert_eq!(offsets(&got[0].2), [0, 1, 2]);
    }
}

/// Found by `log_matches_model`: retention moved the log start offset to the deleted segment's
/// next offset. After compaction
/// emptied the end of that segment this lay below the next segment's base, so the start offset
/// pointed into a gap and jumped forward on the next reopen (which derives it from the first
/// segment's base).
#[test]
fn regression_retention_after_compaction_moves_log_start_to_next_segment() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        cleanup_policy: CleanupPolicy::COMPACT,
        ..small_config()
    };
    let mut log = Log::open(dir.path(), config.clone(), false, T0).unwrap();
    let a = |v: &str| rec(Some("a"), Some(v), T0);
    append(&mut log, &[a("1"), a("2"), a("3")], Compression::None, T0);
    log.roll().unwrap();
    append(&mut log, &[a("4")], Compression::None, T0);
    log.roll().unwrap();
    let log = Mutex::new(log);
    compaction::compact(&log, T0).unwrap();
    let mut log = log.into_inner();
    assert_eq!(log.segment_bases(), [0, 3, 4]);
    assert_eq!(
        log.apply_retention(T0).unwrap(),
        1,
        "the emptied segment goes"
    );
    assert_eq!(log.log_start_offset(), 3);
    assert_eq!(offsets(&read_records(&log)), [3]);
    log.close(T0).unwrap();
    let log = Log::open(dir.path(), config, true, T0).unwrap();
    assert_eq!(log.log_start_offset(), 3);
}

/// Found by `log_matches_model`: truncating into a compacted segment whose last batches had been
/// cleaned away set the log end offset to the end of the surviving data, below the truncation point, so offsets that had
/// already been handed out (and that a leader still holds) were assigned again.
#[test]
fn regression_truncate_into_compacted_gap_keeps_end_offset() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        cleanup_policy: CleanupPolicy::COMPACT,
        delete_retention_ms: 0,
        ..small_config()
    };
    let mut log = Log::open(dir.path(), config.clone(), false, T0).unwrap();
    append(&mut log, &[rec(None, Some("x"), T0)], Compression::None, T0);
    append(&mut log, &[rec(Some("a"), None, T0)], Compression::None, T0);
    append(&mut log, &[rec(Some("a"), None, T0)], Compression::None, T0);
    log.roll().unwrap();
    append(&mut log, &[rec(None, Some("y"), T0)], Compression::None, T0);
    let log = Mutex::new(log);
    compaction::compact(&log, T0).unwrap();
    let mut log = log.into_inner();
    // Offsets 1 and 2 were tombstones, cleaned away.
    assert_eq!(offsets(&read_records(&log)), [0, 3]);
    log.truncate_to(3).unwrap();
    assert_eq!(log.log_end_offset(), 3);
    assert_eq!(
        append(&mut log, &[rec(None, Some("z"), T0)], Compression::None, T0).base_offset,
        3
    );
    log.truncate_to(2).unwrap();
    assert_eq!(log.log_end_offset(), 2);
    drop(log);
    let mut log = Log::open(dir.path(), config, false, T0).unwrap();
    assert_eq!(log.log_end_offset(), 2, "the end offset survives a restart");
    assert_eq!(
        append(&mut log, &[rec(None, Some("z"), T0)], Compression::None, T0).base_offset,
        2
    );
    assert_eq!(offsets(&read_records(&log)), [0, 2]);
}

/// After a truncation below the point compaction had cleaned to, new data rolled into sealed
/// segments below that point was never compacted: the pass was skipped as already clean.
#[test]
fn regression_compaction_after_truncation_cleans_new_data() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        cleanup_policy: CleanupPolicy::COMPACT,
        ..small_config()
    };
    let mut log = Log::open(dir.path(), config, false, T0).unwrap();
    for i in 0..6 {
        append(
            &mut log,
            &[rec(Some(&format!("k{i}")), Some("v"), T0)],
            Compression::None,
            T0,
        );
        log.roll().unwrap();
    }
    let log = Mutex::new(log);
    assert!(compaction::compact(&log, T0).unwrap().segments > 0);
    let mut log = log.into_inner();
    log.truncate_to(2).unwrap();
    append(
        &mut log,
        &[rec(Some("a"), Some("1"), T0)],
        Compression::None,
        T0,
    );
    append(
        &mut log,
        &[rec(Some("a"), Some("2"), T0)],
        Compression::None,
        T0,
    );
    log.roll().unwrap();
    let log = Mutex::new(log);
    let stats = compaction::compact(&log, T0).unwrap();
    assert_eq!(stats.records_removed, 1, "{stats:?}");
    assert_eq!(offsets(&read_records(&log.lock())), [0, 1, 3]);
}

/// Opening a log after a crash counted every preallocated slot of the active segment's indexes
/// as an entry and reserved room for one more, so each unclean restart grew both index files.
#[test]
fn regression_unclean_reopen_does_not_grow_index_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let mut log = open(dir.path(), &config, false);
    fill(&mut log, 3, 2, T0);
    drop(log);
    drop(open(dir.path(), &config, false));
    let sizes = file_sizes(dir.path());
    for _ in 0..3 {
        drop(open(dir.path(), &config, false));
        assert_eq!(file_sizes(dir.path()), sizes);
    }
}

/// After a clean shutdown a missing or emptied index passed the sanity check, so the segment
/// had no offset-index entries and no maximum timestamp: time lookups skipped it and time
/// retention never deleted it.
#[test]
fn regression_missing_time_index_is_rebuilt_after_a_clean_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        retention_ms: Some(HOUR),
        ..small_config()
    };
    let mut log = open(dir.path(), &config, false);
    one_batch_segments(&mut log, 1, T0 - 2 * HOUR);
    fill(&mut log, 1, 3, T0);
    log.close(T0).unwrap();
    std::fs::remove_file(dir.path().join(segment::file_name(0, "timeindex"))).unwrap();
    std::fs::remove_file(dir.path().join(segment::file_name(0, "index"))).unwrap();
    let mut log = open(dir.path(), &config, true);
    assert_eq!(
        log.offset_for_timestamp(T0 - 3 * HOUR).unwrap(),
        Some((0, T0 - 2 * HOUR))
    );
    check_indexes(&log);
    assert_eq!(log.apply_retention(T0).unwrap(), 1);
}

/// The base offset is not covered by the CRC. A flipped high bit made recovery accept the last
/// batch at an offset billions past the log, and the log end offset jumped with it.
#[test]
fn regression_recovery_rejects_a_base_offset_past_the_segment_range() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let mut log = open(dir.path(), &config, false);
    fill(&mut log, 2, 2, T0);
    let second = read_all(&log)[0].1;
    drop(log);
    edit_file(&dir.path().join(segment::file_name(0, "log")), |b| {
        b[second + 3] ^= 1
    });
    let log = open(dir.path(), &config, false);
    assert_eq!(log.log_end_offset(), 2);
}

/// `offset_for_timestamp` gave up on a segment when the batch it found lay wholly below the log
/// start offset (after `DeleteRecords`), skipping that segment's later batches.
#[test]
fn regression_offset_for_timestamp_skips_batches_below_the_log_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), &small_config(), false);
    let at = |d: i64| rec(None, Some("v"), T0 + d);
    append(&mut log, &[at(0), at(1)], Compression::None, T0);
    append(&mut log, &[at(2), at(3)], Compression::None, T0);
    log.roll().unwrap();
    append(&mut log, &[at(4)], Compression::None, T0);
    log.advance_log_start_offset(2).unwrap();
    assert_eq!(log.offset_for_timestamp(T0).unwrap(), Some((2, T0 + 2)));
    log.advance_log_start_offset(3).unwrap();
    assert_eq!(log.offset_for_timestamp(T0).unwrap(), Some((3, T0 + 3)));
}

/// Recovery sized its read buffer by `max.message.bytes` rather than by the file, so a log
/// configured for huge messages allocated that much for every segment it scanned.
#[test]
fn regression_recovery_buffer_is_bounded_by_the_file() {
    let config = LogConfig {
        max_message_bytes: 1 << 40,
        ..small_config()
    };
    let (template, all) = crashed_log(&config);
    let (start, _) = last_batch_span(&all);
    check_recovery(template.path(), &config, &all, 4, "huge limit", |p| {
        edit_file(p, |b| {
            b[start as usize + 8..start as usize + 12]
                .copy_from_slice(&0x7fff_0000u32.to_be_bytes());
        });
    });
}

/// Found by `log_matches_model`: after `DeleteRecords` moved the log start offset inside a batch,
/// truncating inside that batch removed it whole and left the log end offset below the log
/// start offset, so every read and the next append's offset were out of range.
#[test]
fn regression_truncate_below_a_log_start_inside_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let mut log = open(dir.path(), &config, false);
    append(&mut log, &[value("a")], Compression::None, T0);
    append(
        &mut log,
        &[value("b"), value("c"), value("d")],
        Compression::None,
        T0,
    );
    log.advance_log_start_offset(2).unwrap();
    append(&mut log, &[value("e")], Compression::None, T0);
    log.truncate_to(3).unwrap();
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (1, 1));
    assert!(read_records(&log).is_empty());
    assert_eq!(
        append(&mut log, &[value("f")], Compression::None, T0).base_offset,
        1
    );
    assert_eq!(offsets(&read_records(&log)), [1]);
    drop(log);
    let log = open(dir.path(), &config, false);
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (1, 2));
}

/// Opening a cleanly closed log opens only its active segment; a sealed one is opened (through
/// the shared cache) by the first read that needs it.
#[test]
fn sealed_segments_are_opened_on_first_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let mut log = open(dir.path(), &config, false);
    for _ in 0..3 {
        fill(&mut log, 2, 2, T0);
        log.roll().unwrap();
    }
    log.close(T0).unwrap();
    let log = open(dir.path(), &config, true);
    let cache = super::open_files::sealed();
    let sealed: Vec<&Segment> = log
        .segments
        .values()
        .take(log.segment_count() - 1)
        .collect();
    assert!(sealed.len() >= 2, "the log rolled");
    assert!(sealed.iter().all(|s| cache.get(s.id()).is_none()));
    assert!(!log.read(0, 1, u64::MAX).unwrap().is_empty());
    assert!(cache.get(sealed[0].id()).is_some(), "opened by the read");
    assert!(cache.get(sealed[1].id()).is_none(), "not needed by it");
}

/// A read planned while its sealed segment was open keeps working after the cache closed it.
#[test]
fn a_read_planned_before_its_segment_is_evicted_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), &small_config(), false);
    fill(&mut log, 6, 2, T0);
    log.roll().unwrap();
    let expected = log.read(0, usize::MAX, u64::MAX).unwrap();
    let plan = log.plan_read(0, usize::MAX, u64::MAX).unwrap();
    let first = log.segments.values().next().unwrap();
    super::open_files::sealed().remove(first.id());
    assert_eq!(plan.execute().unwrap(), expected);
}

/// Running out of descriptors is retriable and leaves the log usable.
#[test]
fn out_of_descriptors_is_a_retriable_error() {
    for errno in [rustix::io::Errno::MFILE, rustix::io::Errno::NFILE] {
        let e = Error::io(
            "x.log",
            std::io::Error::from_raw_os_error(errno.raw_os_error()),
        );
        assert!(matches!(e, Error::TooManyOpenFiles { .. }), "{e}");
        assert!(e.is_retriable());
    }
    let e = Error::io("x.log", std::io::Error::from_raw_os_error(5));
    assert!(!e.is_retriable());
}
