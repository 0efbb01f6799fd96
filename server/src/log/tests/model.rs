//! The model-based property test: random sequences of appends, rolls, truncations,
//! retention, compaction and reopens checked against an in-memory model after every step.

use super::*;
use crate::log::compaction;

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
///   `retention.ms`), not needed by size (the rest is still ≥ `retention.bytes`) or holding
///   nothing at or after the log start (so a segment compaction emptied goes, before and after
///   a restart); the start moves to the first remaining segment's base.
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
            // Nothing at or after the start: no record left (compaction emptied it), or the
            // last one's batch ends at or before the start.
            let below_start = self
                .model
                .records
                .range(base..next_base)
                .next_back()
                .is_none_or(|(_, r)| r.batch.1 < self.model.log_start);
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

/// Found by the property test: compaction empties the first segment (a lone tombstone past
/// `delete.retention.ms`). Retention removes it as holding nothing at or after the log start,
/// also after a clean reopen, where the sealed segment's end comes from its successor's name.
#[test]
fn an_emptied_segment_goes_also_after_a_reopen() {
    let setup = Setup {
        segment_bytes: 2048,
        segment_index_bytes: 96,
        index_interval_bytes: 0,
        segment_ms: 7 * 24 * HOUR,
        policy: CleanupPolicy::COMPACT,
        retention_ms: None,
        retention_bytes: None,
        delete_retention_ms: 0,
        timestamp_type: TimestampType::CreateTime,
    };
    let r = |key: Option<u8>, v: bool| GenRecord {
        key,
        value: v.then_some(GenValue {
            byte: 1,
            len: 10,
            random: false,
        }),
        age_ms: None,
        header: false,
    };
    let app = |records: Vec<GenRecord>| Op::Append {
        records,
        codec: Compression::None,
    };
    let ops = vec![
        app(vec![r(Some(0), false)]),
        Op::Roll,
        app(vec![r(None, true)]),
        app(vec![r(None, true)]),
        app(vec![r(None, true)]),
        Op::Flush,
        app(vec![r(None, true)]),
        app(vec![r(None, true)]),
        app(vec![r(None, true)]),
        app(vec![r(None, true)]),
        app(vec![r(None, true)]),
        Op::Compact { advance_ms: 0 },
        Op::CleanReopen,
        Op::Retention { advance_ms: 0 },
    ];
    run_ops(&setup, &ops);
}
