//! Offset lookup in a large partition, and crash recovery of one (issue targets, compared by
//! `scripts/bench-log.sh`).
//!
//! - `offset_lookup`: a `RUNNEL_BENCH_LOOKUP_MIB` (default 1024) MiB log with
//!   `segment.bytes` = 256 MiB (several segments) and the default `index.interval.bytes` (4096),
//!   once of 16 KiB batches (16 × 1 KiB records) and once of ≈ 200-byte batches (one 128-byte
//!   record each). Random offsets across the whole log are looked up with `Log::plan_read`
//!   (segment choice + sparse index + header scan) and with `Segment::find` on the right segment.
//!   Target: median under 5 µs. Besides criterion's estimate (a median of per-sample means), the
//!   bench prints a per-lookup p50/p99 from individually timed lookups (`runnel-bench:` lines).
//! - `recovery`: a `RUNNEL_BENCH_RECOVERY_MIB` (default 1024) MiB log of 16 KiB batches dropped
//!   without `close` (no clean shutdown, recovery point 0, as after `kill -9`), then timed
//!   `Log::open(dir, cfg, false, now)`: every segment is scanned, CRC-checked, re-indexed and
//!   fsynced. Target: under 3 s. `after_kill9_clean_cache`: the data already reached the disk
//!   and is in the page cache (the same log reopened each iteration, recovery point reset to 0);
//!   `after_kill9_dirty`: a freshly written log whose pages are still dirty, so the open's fsync
//!   writes it out (a restart within seconds of the crash). Cold-cache recovery (data only on
//!   disk) is not measured: that needs dropping the page cache.

#[allow(dead_code)]
mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main};
use runnel::log::segment::{IndexConfig, Segment};
use runnel::log::{Log, LogConfig, Storage};

/// Name of the log's recovery-point checkpoint (private to `runnel::log`; checked after use).
const RECOVERY_POINT_FILE: &str = "recovery-point";
const LOOKUPS: usize = 1 << 16;

fn lookup_config() -> LogConfig {
    LogConfig {
        segment_bytes: 256 << 20,
        ..LogConfig::default()
    }
}

fn index_config(config: &LogConfig) -> IndexConfig {
    IndexConfig {
        max_index_bytes: config.segment_index_bytes,
        index_interval_bytes: config.index_interval_bytes,
        max_batch_bytes: config.max_batch_bytes(),
    }
}

/// Builds a closed log of `template` batches, `bytes` in all; returns its log end offset and
/// segment base offsets.
fn build_closed(
    dir: &Path,
    config: &LogConfig,
    template: &BytesMut,
    bytes: u64,
) -> (u64, Vec<u64>) {
    let mut log = common::open_empty(dir, config.clone());
    common::fill(&mut log, template, bytes);
    log.close(common::now_ms()).expect("close");
    eprintln!(
        "runnel-bench: {} MiB in {} segments, {} records",
        log.size() >> 20,
        log.segment_count(),
        log.log_end_offset()
    );
    (log.log_end_offset(), log.segment_bases())
}

/// Prints p50 and p99 of individually timed calls of `lookup` over `offsets`.
fn per_call_percentiles(name: &str, offsets: &[u64], mut lookup: impl FnMut(u64)) {
    let mut ns: Vec<u128> = offsets
        .iter()
        .map(|&o| {
            let start = Instant::now();
            lookup(o);
            start.elapsed().as_nanos()
        })
        .collect();
    ns.sort_unstable();
    let at = |q: f64| {
        ns.get(((ns.len() as f64 * q) as usize).min(ns.len() - 1))
            .copied()
    };
    eprintln!(
        "runnel-bench: {name}: {} individually timed lookups: p50 {:.2} µs, p99 {:.2} µs",
        ns.len(),
        at(0.50).unwrap_or(0) as f64 / 1e3,
        at(0.99).unwrap_or(0) as f64 / 1e3,
    );
}

/// Benches lookups of random offsets in one built log.
fn lookups(group: &mut BenchmarkGroup<'_, WallTime>, label: &str, template: &BytesMut) {
    eprintln!("runnel-bench: offset_lookup/{label}: building the log");
    let config = lookup_config();
    let size = common::env_mib("RUNNEL_BENCH_LOOKUP_MIB", 1024);
    let dir = common::tempdir();
    let (leo, bases) = build_closed(dir.path(), &config, template, size);
    let offsets = common::random_offsets(LOOKUPS, leo, 0x5EED);

    // Segment::find on the sealed segments of the closed log, opened on their own (before a
    // `Log::open` makes the newest one active again and regrows its index).
    let mut segments = BTreeMap::new();
    for base in bases {
        let mut seg = Segment::open(dir.path(), base, index_config(&config), &Storage::real())
            .expect("segment");
        seg.load_next_offset().expect("load segment");
        segments.insert(base, seg);
    }
    let find = |o: u64| {
        let (_, seg) = segments
            .range(..=o)
            .next_back()
            .expect("a segment holds the offset");
        seg.find(o)
            .expect("find")
            .expect("offset is in the segment")
    };
    per_call_percentiles(&format!("segment_find_{label}"), &offsets, |o| {
        black_box(find(o));
    });
    let mut i = 0usize;
    group.bench_function(format!("segment_find_{label}"), |b| {
        b.iter(|| {
            i = (i + 1) % offsets.len();
            find(black_box(offsets[i]))
        });
    });
    drop(segments);

    let log = Log::open(dir.path(), config, true, common::now_ms()).expect("open");
    per_call_percentiles(&format!("plan_read_{label}"), &offsets, |o| {
        black_box(log.plan_read(o, 1 << 20, leo).expect("plan_read"));
    });
    group.bench_function(format!("plan_read_{label}"), |b| {
        b.iter(|| {
            i = (i + 1) % offsets.len();
            log.plan_read(black_box(offsets[i]), 1 << 20, leo)
                .expect("plan_read")
        });
    });
}

fn offset_lookup(c: &mut Criterion) {
    let config = lookup_config();
    let mut group = c.benchmark_group("offset_lookup");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(common::measurement_time());
    lookups(
        &mut group,
        "16KiB_batches",
        &common::encode(&common::records(16, 1024), &config),
    );
    lookups(
        &mut group,
        "200B_batches",
        &common::encode(&common::records(1, 128), &config),
    );
    group.finish();
}

/// Writes a log of `bytes` and drops it without `close` or `flush`: the state `kill -9` leaves.
fn build_crashed(dir: &Path, config: &LogConfig, bytes: u64) -> u64 {
    let template = common::encode(&common::records(16, 1024), config);
    let mut log = common::open_empty(dir, config.clone());
    common::fill(&mut log, &template, bytes);
    let leo = log.log_end_offset();
    drop(log);
    leo
}

/// Puts the recovery point back to 0, so the next open scans everything.
fn reset_recovery_point(dir: &Path) {
    match std::fs::remove_file(dir.join(RECOVERY_POINT_FILE)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("remove the recovery point: {e}"),
    }
}

/// Times one recovering open and checks it recovered everything.
fn timed_recovery(dir: &Path, config: &LogConfig, leo: u64) -> Duration {
    reset_recovery_point(dir);
    let start = Instant::now();
    let log = Log::open(dir, config.clone(), false, common::now_ms()).expect("recover");
    let took = start.elapsed();
    assert_eq!(log.log_end_offset(), leo, "recovery keeps every batch");
    drop(log); // again without close
    took
}

fn recovery(c: &mut Criterion) {
    let config = lookup_config();
    let size = common::env_mib("RUNNEL_BENCH_RECOVERY_MIB", 1024);
    let mut group = c.benchmark_group("recovery");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(common::measurement_time());

    let dir = common::tempdir();
    let leo = build_crashed(dir.path(), &config, size);
    // Get the data to disk outside the clock (the first recovery fsyncs it).
    let first = timed_recovery(dir.path(), &config, leo);
    eprintln!(
        "runnel-bench: recovery: first open of a freshly written {} MiB log took {:.2} s",
        size >> 20,
        first.as_secs_f64()
    );
    group.bench_function("after_kill9_clean_cache", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| timed_recovery(dir.path(), &config, leo))
                .sum()
        });
    });
    drop(dir);

    group.bench_function("after_kill9_dirty", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let dir = common::tempdir();
                    let leo = build_crashed(dir.path(), &config, size);
                    timed_recovery(dir.path(), &config, leo)
                })
                .sum()
        });
    });
    group.finish();
}

criterion_group!(benches, offset_lookup, recovery);
criterion_main!(benches);
