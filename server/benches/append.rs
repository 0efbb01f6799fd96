//! Append throughput of `Log::append_encoded`, the produce path's append (issue targets, compared
//! by `scripts/bench-log.sh`).
//!
//! - `append_durable`: 1 KiB records in batches of 64 (≈ 66 KB per batch), `RUNNEL_BENCH_DURABLE_MIB`
//!   (default 1024) MiB per iteration into a fresh log, then one `Log::flush` (fdatasync).
//!   Target: ≥ 80 % of `dd bs=1M count=<same MiB> conv=fdatasync` on the same disk, same run.
//!   `preencoded` appends batches encoded before the clock starts (the appender hands the log a
//!   finished `EncodedBatch`); `encode_in_loop` also times `EncodedBatch::encode`;
//!   `preencoded_checked` appends the same bytes through the CRC-checking `Log::append` that
//!   bytes from outside the process take.
//! - `append_page_cache`: 100-byte records in batches of 1,000, no fsync; one iteration is one
//!   batch, throughput in records. Target: ≥ 5 million records/s on one core. `preencoded` appends
//!   finished batches; `encode_and_append` times encoding 1,000 `NewRecord`s plus append.
//!
//! Temporary logs live under `RUNNEL_BENCH_DIR` (default the system temp dir; it must be on the
//! disk under test, not tmpfs). Never run while something else writes to the disk (a build).

#[allow(dead_code)]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use runnel::log::{EncodedBatch, LogConfig};

/// Batches of 1,000 × 100 B appended to one fresh log before it is replaced (≈ 22 MB), so the
/// page-cache bench never turns into a writeback bench.
const PAGE_CACHE_BATCHES_PER_LOG: u64 = 200;

fn append_durable(c: &mut Criterion) {
    let config = LogConfig::default();
    let recs = common::records(64, 1024);
    let template = common::encode_here(&recs, &config);
    let batch_len = template.header().size as u64;
    let total = common::env_mib("RUNNEL_BENCH_DURABLE_MIB", 1024);
    let batches = total.div_ceil(batch_len);
    let bytes = batches * batch_len;

    let mut group = c.benchmark_group("append_durable");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(common::measurement_time())
        .throughput(Throughput::Bytes(bytes));

    group.bench_function("preencoded", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let dir = common::tempdir();
                let mut log = common::open_empty(dir.path(), config.clone());
                let input: Vec<EncodedBatch> = (0..batches).map(|_| template.clone()).collect();
                let now = common::now_ms();
                let start = Instant::now();
                for batch in input {
                    black_box(log.append_encoded(batch, 0, now).expect("append"));
                }
                log.flush(now).expect("flush");
                timed += start.elapsed();
            }
            timed
        });
    });

    group.bench_function("preencoded_checked", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let dir = common::tempdir();
                let mut log = common::open_empty(dir.path(), config.clone());
                let input: Vec<_> = (0..batches)
                    .map(|_| template.clone().into_bytes())
                    .collect();
                let now = common::now_ms();
                let start = Instant::now();
                for batch in input {
                    black_box(log.append(batch, 0, now).expect("append"));
                }
                log.flush(now).expect("flush");
                timed += start.elapsed();
            }
            timed
        });
    });

    group.bench_function("encode_in_loop", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let dir = common::tempdir();
                let mut log = common::open_empty(dir.path(), config.clone());
                let now = common::now_ms();
                let start = Instant::now();
                for _ in 0..batches {
                    let batch = common::encode_here(&recs, &config);
                    black_box(log.append_encoded(batch, 0, now).expect("append"));
                }
                log.flush(now).expect("flush");
                timed += start.elapsed();
            }
            timed
        });
    });
    group.finish();
}

/// Runs `iters` timed appends of one batch each, in fresh logs of at most
/// [`PAGE_CACHE_BATCHES_PER_LOG`] batches; `prepare` runs before the clock starts and `append`
/// is timed.
fn page_cache_iters<P, A>(iters: u64, config: &LogConfig, mut prepare: P, mut append: A) -> Duration
where
    P: FnMut(u64) -> Vec<EncodedBatch>,
    A: FnMut(&mut runnel::log::Log, Vec<EncodedBatch>, u64, i64),
{
    let mut timed = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(PAGE_CACHE_BATCHES_PER_LOG);
        left -= n;
        let dir = common::tempdir();
        let mut log = common::open_empty(dir.path(), config.clone());
        let input = prepare(n);
        let now = common::now_ms();
        let start = Instant::now();
        append(&mut log, input, n, now);
        timed += start.elapsed();
    }
    timed
}

fn append_page_cache(c: &mut Criterion) {
    let config = LogConfig::default();
    let recs = common::records(1000, 100);
    let template = common::encode_here(&recs, &config);

    let mut group = c.benchmark_group("append_page_cache");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(common::measurement_time())
        .throughput(Throughput::Elements(recs.len() as u64));

    group.bench_function("preencoded", |b| {
        b.iter_custom(|iters| {
            page_cache_iters(
                iters,
                &config,
                |n| (0..n).map(|_| template.clone()).collect(),
                |log, input, _, now| {
                    for batch in input {
                        black_box(log.append_encoded(batch, 0, now).expect("append"));
                    }
                },
            )
        });
    });

    group.bench_function("encode_and_append", |b| {
        b.iter_custom(|iters| {
            page_cache_iters(
                iters,
                &config,
                |_| Vec::new(),
                |log, _, n, now| {
                    for _ in 0..n {
                        let batch = common::encode_here(black_box(&recs), &config);
                        black_box(log.append_encoded(batch, 0, now).expect("append"));
                    }
                },
            )
        });
    });
    group.finish();
}

criterion_group!(benches, append_page_cache, append_durable);
criterion_main!(benches);
