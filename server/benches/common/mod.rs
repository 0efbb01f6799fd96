//! Helpers shared by the log benches: where temporary data goes, knobs from the environment,
//! record and batch builders, and a log filler.
//!
//! Knobs (all optional):
//! - `RUNNEL_BENCH_DIR`: parent of the temporary logs (default `std::env::temp_dir()`); must be
//!   on the disk being measured, never tmpfs.
//! - `RUNNEL_BENCH_SECS`: criterion measurement time per bench, in seconds (default 3).
//! - per-bench sizes in MiB, documented in each bench file.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use runnel::log::{Compression, EncodedBatch, Log, LogConfig, NewRecord, batch};
use tempfile::TempDir;

const MIB: u64 = 1 << 20;

/// The directory temporary logs are created in.
pub(crate) fn bench_root() -> PathBuf {
    let root = std::env::var_os("RUNNEL_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    std::fs::create_dir_all(&root).expect("create RUNNEL_BENCH_DIR");
    root
}

/// A fresh temporary directory under [`bench_root`], removed on drop.
pub(crate) fn tempdir() -> TempDir {
    tempfile::Builder::new()
        .prefix("runnel-bench-")
        .tempdir_in(bench_root())
        .expect("create a temporary directory")
}

/// A number from the environment, or `default`.
pub(crate) fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// Bytes from an environment variable given in MiB.
pub(crate) fn env_mib(name: &str, default_mib: u64) -> u64 {
    env_u64(name, default_mib) * MIB
}

/// Criterion's measurement time (`RUNNEL_BENCH_SECS`, default 3 s).
pub(crate) fn measurement_time() -> Duration {
    Duration::from_secs(env_u64("RUNNEL_BENCH_SECS", 3).max(1))
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `count` records with a `value_len`-byte value each, no key, no headers, as a producer sends.
pub(crate) fn records(count: usize, value_len: usize) -> Vec<NewRecord> {
    // Not all zeros, so nothing downstream can shortcut on the content.
    let value: Bytes = (0..value_len).map(|i| (i % 251) as u8).collect();
    (0..count)
        .map(|_| NewRecord {
            timestamp: Some(now_ms()),
            key: None,
            value: Some(value.clone()),
            headers: Vec::new(),
        })
        .collect()
}

/// One uncompressed batch of `recs`, as bytes from outside the process reach [`Log::append`].
pub(crate) fn encode(recs: &[NewRecord], config: &LogConfig) -> BytesMut {
    encode_here(recs, config).into_bytes()
}

/// One uncompressed batch of `recs`, as the produce path hands it to [`Log::append_encoded`].
pub(crate) fn encode_here(recs: &[NewRecord], config: &LogConfig) -> EncodedBatch {
    EncodedBatch::encode(recs, Compression::None, now_ms(), config.max_batch_bytes())
        .expect("encode a batch")
}

/// Opens an empty log in `dir`.
pub(crate) fn open_empty(dir: &Path, config: LogConfig) -> Log {
    Log::open(dir, config, true, now_ms()).expect("open a log")
}

/// Appends copies of `template` until the log holds at least `bytes`; no fsync.
pub(crate) fn fill(log: &mut Log, template: &BytesMut, bytes: u64) {
    let now = now_ms();
    while log.size() < bytes {
        log.append(template.clone(), 0, now).expect("append");
    }
}

/// The offset after the last batch in `buf` (a read result of whole batches), if any.
pub(crate) fn next_offset_after(buf: &[u8]) -> Option<u64> {
    let mut at = 0usize;
    let mut last = None;
    while let Some(size) = buf.get(at..).and_then(batch::peek_size) {
        if at + size > buf.len() {
            break;
        }
        last = Some(at);
        at += size;
    }
    let rest = buf.get(last?..)?;
    batch::peek_header(rest, rest.len()).map(|h| h.next_offset())
}

/// Deterministic pseudo-random numbers (splitmix64), so every run looks up the same offsets.
pub(crate) fn random_offsets(n: usize, below: u64, seed: u64) -> Vec<u64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) % below.max(1)
        })
        .collect()
}
