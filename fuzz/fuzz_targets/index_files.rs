//! One segment directory with fuzzed files, opened with `Log::open` after a clean and after an
//! unclean shutdown, then read from the log start to the end, searched by timestamp and appended
//! to. Nothing may panic.
//!
//! Two kinds of input (`arbitrary` picks):
//! - `Raw`: arbitrary `.log`, `.index` and `.timeindex` bytes (and checkpoint values); the
//!   `.log` optionally goes through `fix_up` so its batches pass the CRC check and recovery keeps
//!   them.
//! - `Valid`: the `.log` is a run of real batches from `batch::encode_batch` of fuzz-chosen
//!   records; only the indexes are fuzzed (missing, exact, perturbed, or raw bytes). Indexes are
//!   hints, so reading must give back exactly the encoded records, and `offset_for_timestamp`
//!   must match a model wherever the indexes were rebuilt or written by the log itself.
//!
//! After a clean shutdown the log trusts indexes that pass its sanity check, so an entry that
//! passes it but points into the middle of a batch misleads reads (seed `valid_entry_mid_batch`).
//! Reads after a clean open are only checked for panics unless `RUNNEL_FUZZ_STRICT_CLEAN=1`.
//! `RUNNEL_FUZZ_DEBUG=1` prints what each input decoded to (see fuzz/README.md).

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use bytes::Bytes;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use runnel::log::batch::{self, Compression};
use runnel::log::segment::file_name;
use runnel::log::{Header, Log, LogConfig, NewRecord, Record};
use runnel_fuzz::{MAX_BATCH, fix_up, next_offset};

const NOW: i64 = 1_700_000_000_000;

#[derive(Arbitrary, Debug)]
enum Input {
    Raw(RawDir),
    Valid(ValidDir),
}

/// Where the segment starts (its file name); Kafka offsets are i64, so at most `i64::MAX`.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Base {
    Zero,
    Small(u16),
    Large(u32),
    NearMax(u16),
}

impl Base {
    fn get(self) -> u64 {
        match self {
            Base::Zero => 0,
            Base::Small(n) => u64::from(n),
            Base::Large(n) => (1 << 40) + u64::from(n),
            Base::NearMax(n) => i64::MAX as u64 - u64::from(n),
        }
    }
}

/// Log settings that change how files are read.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Knobs {
    index_interval: u16,
    /// Bytes per read (0 reads one batch at a time, as KIP-74 allows).
    max_read: u16,
    /// Small segments make the append after opening roll.
    small_segments: bool,
}

impl Knobs {
    fn config(self) -> LogConfig {
        LogConfig {
            segment_bytes: if self.small_segments { 256 } else { 1 << 30 },
            segment_index_bytes: 256,
            index_interval_bytes: usize::from(self.index_interval),
            retention_ms: None,
            max_message_bytes: MAX_BATCH - batch::HEADER_LEN,
            ..LogConfig::default()
        }
    }
}

#[derive(Arbitrary, Debug)]
struct RawDir {
    base: Base,
    knobs: Knobs,
    /// Recompute lengths and CRCs of the `.log` (codec id for `fix_up`, if any).
    fix_log: Option<u8>,
    log: Vec<u8>,
    index: Option<Vec<u8>>,
    timeindex: Option<Vec<u8>>,
    recovery_point: Option<u64>,
    log_start: Option<u64>,
    timestamps: Vec<i64>,
}

#[derive(Arbitrary, Debug)]
struct ValidDir {
    base: Base,
    knobs: Knobs,
    batches: Vec<FuzzBatch>,
    index: IndexSpec,
    timeindex: IndexSpec,
}

#[derive(Arbitrary, Debug)]
struct FuzzBatch {
    /// Offsets skipped before the batch (compaction leaves such gaps).
    gap: u8,
    codec: u8,
    records: Vec<FuzzRecord>,
}

#[derive(Arbitrary, Debug)]
struct FuzzRecord {
    timestamp: Option<i64>,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

/// How an index file of a valid log is made.
#[derive(Arbitrary, Debug)]
enum IndexSpec {
    Missing,
    /// Arbitrary bytes.
    Raw(Vec<u8>),
    /// Correct entries, every `stride`-th batch.
    Exact {
        stride: u8,
    },
    /// Correct entries with some moved: `(entry, offset delta, position or timestamp delta)`.
    Perturbed(Vec<(u8, i8, i16)>),
    /// Correct entries followed by arbitrary bytes.
    Trailing(Vec<u8>),
}

fn strict_clean() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("RUNNEL_FUZZ_STRICT_CLEAN").is_some_and(|v| v == "1"))
}

/// A fresh directory, on tmpfs when there is one: recovery fsyncs, which is slow on a disk.
fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let root = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    tempfile::Builder::new()
        .prefix("runnel-fuzz-")
        .tempdir_in(root)
        .expect("scratch dir")
}

struct Files<'a> {
    base: u64,
    log: &'a [u8],
    index: Option<&'a [u8]>,
    timeindex: Option<&'a [u8]>,
    recovery_point: Option<u64>,
    log_start: Option<u64>,
}

impl Files<'_> {
    fn write(&self, dir: &Path) {
        std::fs::write(dir.join(file_name(self.base, "log")), self.log).expect("write log");
        if let Some(b) = self.index {
            std::fs::write(dir.join(file_name(self.base, "index")), b).expect("write index");
        }
        if let Some(b) = self.timeindex {
            std::fs::write(dir.join(file_name(self.base, "timeindex")), b).expect("write index");
        }
        if let Some(v) = self.recovery_point {
            std::fs::write(dir.join("recovery-point"), format!("0\n{v}\n")).expect("checkpoint");
        }
        if let Some(v) = self.log_start {
            std::fs::write(dir.join("log-start-offset"), format!("0\n{v}\n")).expect("checkpoint");
        }
    }

    /// Opens the files in a new directory.
    fn open(&self, knobs: Knobs, clean: bool) -> (tempfile::TempDir, Option<Log>) {
        let dir = scratch_dir();
        self.write(dir.path());
        let log = Log::open(dir.path(), knobs.config(), clean, NOW).ok();
        (dir, log)
    }
}

/// What reading the whole log gave.
struct ReadBack {
    records: Vec<Record>,
    /// Every read returned whole batches that decoded, up to the log end offset.
    complete: bool,
}

/// Reads from the log start offset to the log end offset the way a consumer does.
fn read_all(log: &Log, max_read: u16) -> ReadBack {
    let mut next = log.log_start_offset();
    let end = log.log_end_offset();
    let mut records = Vec::new();
    let mut complete = true;
    for _ in 0..100_000 {
        if next >= end {
            break;
        }
        let bytes = match log.read(next, usize::from(max_read), u64::MAX) {
            Ok(b) if !b.is_empty() => b,
            _ => {
                complete = false;
                break;
            }
        };
        // Progress from the framing alone, so undecodable batches are still stepped over.
        let mut at = 0;
        let mut progressed = next;
        while let Some(h) = bytes.get(at..).and_then(|r| batch::peek_header(r, r.len())) {
            if at + h.size > bytes.len() {
                break;
            }
            progressed = progressed.max(next_offset(h.base_offset, h.last_offset_delta));
            at += h.size;
        }
        match batch::decode_all(&bytes, MAX_BATCH) {
            Ok(recs) => records.extend(recs.into_iter().filter(|r| r.offset >= next)),
            Err(_) => complete = false,
        }
        if progressed <= next {
            complete = false;
            break;
        }
        next = progressed;
    }
    ReadBack { records, complete }
}

/// Exercises a log that opened: reads, time lookups, an append and a read of it.
fn exercise(log: &mut Log, knobs: Knobs, timestamps: &[i64]) -> ReadBack {
    let back = read_all(log, knobs.max_read);
    for &t in timestamps.iter().take(32) {
        let _ = log.offset_for_timestamp(t);
    }
    back
}

/// Appends one record and reads it back; the log must accept it after any recovery.
fn append_one(log: &mut Log) {
    let rec = NewRecord {
        timestamp: Some(NOW),
        key: Some(Bytes::from_static(b"k")),
        value: Some(Bytes::from_static(b"after-open")),
        headers: vec![],
    };
    let bytes = batch::encode_batch(&[rec], Compression::None, NOW, MAX_BATCH).expect("encode");
    let Ok(info) = log.append(bytes, 0, NOW) else {
        return;
    };
    assert_eq!(info.last_offset, info.base_offset);
    assert_eq!(log.log_end_offset(), info.base_offset + 1);
    if let Ok(b) = log.read(info.base_offset, 1 << 16, u64::MAX)
        && let Ok(recs) = batch::decode_all(&b, MAX_BATCH)
    {
        // The read may start with older batches that decode too; the new record must be last.
        assert_eq!(
            recs.last().map(|r| (r.offset, r.value.as_deref())),
            Some((info.base_offset, Some(&b"after-open"[..])))
        );
    }
}

fuzz_target!(|input: Input| match input {
    Input::Raw(raw) => run_raw(raw),
    Input::Valid(valid) => run_valid(valid),
});

fn run_raw(raw: RawDir) {
    let log_bytes = match raw.fix_log {
        Some(codec) => fix_up(&raw.log, [0, 1, 3, 4][usize::from(codec & 3)]),
        None => raw.log.clone(),
    };
    if std::env::var_os("RUNNEL_FUZZ_DEBUG").is_some() {
        eprintln!(
            "raw log: {} bytes, fix {:?}, index {:?} bytes, timeindex {:?} bytes",
            log_bytes.len(),
            raw.fix_log,
            raw.index.as_ref().map(Vec::len),
            raw.timeindex.as_ref().map(Vec::len)
        );
    }
    let files = Files {
        base: raw.base.get(),
        log: &log_bytes,
        index: raw.index.as_deref(),
        timeindex: raw.timeindex.as_deref(),
        recovery_point: raw.recovery_point,
        log_start: raw.log_start,
    };
    let mut timestamps = raw.timestamps.clone();
    timestamps.extend([i64::MIN, -1, 0, NOW, i64::MAX]);
    for clean in [true, false] {
        let (_dir, log) = files.open(raw.knobs, clean);
        let Some(mut log) = log else { continue };
        assert!(log.log_start_offset() <= log.log_end_offset());
        let back = exercise(&mut log, raw.knobs, &timestamps);
        if !clean {
            // Recovery checked framing, CRC and offset order of every kept batch: reading them
            // back reaches the end, though records inside a batch may still fail to decode.
            let _ = back.complete;
        }
        append_one(&mut log);
    }
}

/// The encoded log of a `ValidDir`, with what the log must give back.
struct Built {
    log: Vec<u8>,
    records: Vec<Record>,
    /// `(base offset, position, max timestamp)` of each batch.
    batches: Vec<(u64, u64, i64)>,
    end: u64,
}

fn build(v: &ValidDir) -> Built {
    let base = v.base.get();
    let mut out = Built {
        log: Vec::new(),
        records: Vec::new(),
        batches: Vec::new(),
        end: base,
    };
    let mut next = base;
    for b in v.batches.iter().take(16) {
        let recs: Vec<NewRecord> = b
            .records
            .iter()
            .take(8)
            .map(|r| NewRecord {
                timestamp: r.timestamp,
                key: r.key.clone().map(Bytes::from),
                value: r.value.clone().map(Bytes::from),
                headers: r
                    .headers
                    .iter()
                    .take(4)
                    .map(|(k, v)| Header {
                        key: k.clone(),
                        value: v.clone().map(Bytes::from),
                    })
                    .collect(),
            })
            .collect();
        let codec = [
            Compression::None,
            Compression::Gzip,
            Compression::Lz4,
            Compression::Zstd,
        ][usize::from(b.codec & 3)];
        let Ok(mut bytes) = batch::encode_batch(&recs, codec, NOW, MAX_BATCH) else {
            continue;
        };
        let batch_base = next + u64::from(b.gap);
        batch::set_base_offset_and_epoch(&mut bytes, batch_base, 0);
        let max_ts = recs.iter().map(|r| r.timestamp.unwrap_or(NOW)).max();
        out.batches
            .push((batch_base, out.log.len() as u64, max_ts.unwrap_or(i64::MIN)));
        for (i, r) in recs.into_iter().enumerate() {
            out.records.push(Record {
                offset: batch_base + i as u64,
                timestamp: r.timestamp.unwrap_or(NOW),
                key: r.key,
                value: r.value,
                headers: r.headers,
            });
        }
        out.log.extend_from_slice(&bytes);
        next = batch_base + b.records.len().min(8) as u64;
        out.end = next;
    }
    out
}

/// Offset-index entries `(relative offset, position)` of every batch.
fn exact_offset_entries(built: &Built, base: u64) -> Vec<(i64, i64)> {
    built
        .batches
        .iter()
        .map(|&(o, p, _)| ((o - base) as i64, p as i64))
        .collect()
}

/// Time-index entries `(timestamp, relative offset)` where each batch raises the maximum.
fn exact_time_entries(built: &Built, base: u64) -> Vec<(i64, i64)> {
    let mut max: Option<i64> = None;
    let mut out = Vec::new();
    for &(o, _, ts) in &built.batches {
        if max.is_none_or(|m| ts > m) {
            max = Some(ts);
            out.push((ts, (o - base) as i64));
        }
    }
    out
}

/// Index file bytes from a spec; `time` selects the 12-byte time-index layout.
fn index_bytes(spec: &IndexSpec, exact: Vec<(i64, i64)>, time: bool) -> Option<Vec<u8>> {
    let encode = |entries: &[(i64, i64)]| {
        let mut out = Vec::new();
        for &(a, b) in entries {
            if time {
                out.extend_from_slice(&a.to_be_bytes());
                out.extend_from_slice(&(b as u32).to_be_bytes());
            } else {
                out.extend_from_slice(&(a as u32).to_be_bytes());
                out.extend_from_slice(&(b as u32).to_be_bytes());
            }
        }
        out
    };
    match spec {
        IndexSpec::Missing => None,
        IndexSpec::Raw(b) => Some(b.clone()),
        IndexSpec::Exact { stride } => {
            let stride = usize::from(*stride).max(1);
            let kept: Vec<_> = exact.into_iter().step_by(stride).collect();
            Some(encode(&kept))
        }
        IndexSpec::Perturbed(moves) => {
            let mut e = exact;
            for &(i, d_first, d_second) in moves.iter().take(8) {
                let n = e.len();
                if let Some(entry) = e.get_mut(usize::from(i) % n.max(1)) {
                    // The offset is the first field of the offset index, the second of the time index.
                    if time {
                        entry.0 = entry.0.wrapping_add(i64::from(d_second));
                        entry.1 = entry.1.wrapping_add(i64::from(d_first));
                    } else {
                        entry.0 = entry.0.wrapping_add(i64::from(d_first));
                        entry.1 = entry.1.wrapping_add(i64::from(d_second));
                    }
                }
            }
            Some(encode(&e))
        }
        IndexSpec::Trailing(tail) => {
            let mut b = encode(&exact);
            b.extend_from_slice(tail);
            Some(b)
        }
    }
}

/// `Log::offset_for_timestamp` as specified: the first batch whose max timestamp reaches `t`,
/// and in it the first record that does.
fn model_offset_for_timestamp(built: &Built, t: i64) -> Option<(u64, i64)> {
    let (base, _, _) = built.batches.iter().find(|&&(_, _, max)| max >= t)?;
    built
        .records
        .iter()
        .find(|r| r.offset >= *base && r.timestamp >= t)
        .map(|r| (r.offset, r.timestamp))
}

fn check_timestamps(log: &Log, built: &Built, when: &str) {
    let mut ts: Vec<i64> = vec![i64::MIN, i64::MAX, 0, NOW];
    for r in built.records.iter().take(32) {
        ts.extend([
            r.timestamp,
            r.timestamp.saturating_sub(1),
            r.timestamp.saturating_add(1),
        ]);
    }
    for t in ts {
        let got = log
            .offset_for_timestamp(t)
            .expect("offset_for_timestamp on a valid log");
        assert_eq!(
            got,
            model_offset_for_timestamp(built, t),
            "timestamp {t} {when}"
        );
    }
}

fn check_read(log: &Log, knobs: Knobs, built: &Built, when: &str) {
    assert_eq!(log.log_end_offset(), built.end, "log end offset {when}");
    let back = read_all(log, knobs.max_read);
    assert!(back.complete, "read stopped early {when}");
    assert!(back.records == built.records, "records differ {when}");
}

fn run_valid(v: ValidDir) {
    let base = v.base.get();
    let built = build(&v);
    if std::env::var_os("RUNNEL_FUZZ_DEBUG").is_some() {
        eprintln!(
            "valid log: {} batches, {} records, index {:?}, max_read {}",
            built.batches.len(),
            built.records.len(),
            v.index,
            v.knobs.max_read
        );
    }
    let index = index_bytes(&v.index, exact_offset_entries(&built, base), false);
    let timeindex = index_bytes(&v.timeindex, exact_time_entries(&built, base), true);
    let files = Files {
        base,
        log: &built.log,
        index: index.as_deref(),
        timeindex: timeindex.as_deref(),
        recovery_point: None,
        log_start: None,
    };
    let timestamps: Vec<i64> = built.records.iter().map(|r| r.timestamp).collect();

    // Clean: the fuzzed indexes may be trusted.
    {
        let (_dir, log) = files.open(v.knobs, true);
        let mut log = log.expect("a valid log opens");
        if strict_clean() {
            check_read(&log, v.knobs, &built, "after a clean open");
        } else {
            exercise(&mut log, v.knobs, &timestamps);
        }
        append_one(&mut log);
    }

    // Unclean: every index is rebuilt from the log, so reads and time lookups are exact; and so
    // they are after closing and opening again cleanly with the indexes the log wrote itself.
    let (dir, log) = files.open(v.knobs, false);
    let mut log = log.expect("a valid log recovers");
    check_read(&log, v.knobs, &built, "after recovery");
    check_timestamps(&log, &built, "after recovery");
    log.close(NOW).expect("close");
    drop(log);
    let mut log = Log::open(dir.path(), v.knobs.config(), true, NOW).expect("reopen");
    check_read(&log, v.knobs, &built, "after close and clean reopen");
    check_timestamps(&log, &built, "after close and clean reopen");
    append_one(&mut log);
}
