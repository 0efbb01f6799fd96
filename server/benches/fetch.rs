//! Sequential fetch of stored batches from the page cache (issue target, compared by
//! `scripts/bench-log.sh`).
//!
//! A log of `RUNNEL_BENCH_FETCH_MIB` (default 512) MiB of 64-record × 1 KiB batches in one
//! segment is written, closed (fsynced, so no writeback runs underneath) and read once to warm
//! it. One iteration reads the whole log as a consumer does: `Log::read(offset, 1 MiB, leo)` in
//! a loop, continuing after the last whole batch returned.
//! Target: ≥ 50 % of `dd if=<segment> of=/dev/null bs=1M` on the same warm file.
//! `pread_1MiB_baseline` is that dd loop in-process (1 MiB `pread`s into one reused buffer).
//!
//! With `RUNNEL_BENCH_FETCH_DIR` set, the log is built there and left behind so the script can
//! run the real `dd` on the same segment file; otherwise it lives in a temporary directory under
//! `RUNNEL_BENCH_DIR`.

#[allow(dead_code)]
mod common;

use std::fs::File;
use std::hint::black_box;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use runnel::log::{Log, LogConfig};

const READ_BYTES: usize = 1 << 20;
/// Marks a `RUNNEL_BENCH_FETCH_DIR` as written by this bench, so a rerun may delete it.
const MARKER: &str = ".runnel-bench-fetch";

/// Reads the whole log with 1 MiB fetches; returns the bytes read.
fn read_all(log: &Log) -> u64 {
    let leo = log.log_end_offset();
    let mut offset = log.log_start_offset();
    let mut total = 0u64;
    while offset < leo {
        let bytes = log.read(offset, READ_BYTES, leo).expect("read");
        offset = common::next_offset_after(&bytes).expect("a read returns whole batches");
        total += bytes.len() as u64;
        black_box(bytes);
    }
    total
}

/// Reads `path` like `dd bs=1M of=/dev/null`; returns the bytes read.
fn pread_all(file: &File, buf: &mut [u8]) -> u64 {
    let mut pos = 0u64;
    loop {
        let n = file.read_at(buf, pos).expect("pread");
        if n == 0 {
            return pos;
        }
        black_box(&buf[..n]);
        pos += n as u64;
    }
}

/// The largest `.log` file in `dir` (the segment `dd` reads).
fn segment_path(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .expect("read the log directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .max_by_key(|p| p.metadata().map_or(0, |m| m.len()))
        .expect("a segment file")
}

fn fetch(c: &mut Criterion) {
    let config = LogConfig::default();
    let size = common::env_mib("RUNNEL_BENCH_FETCH_MIB", 512);
    assert!(
        size < config.segment_bytes,
        "the fetch log must fit one segment so dd reads the same bytes"
    );

    let kept = std::env::var_os("RUNNEL_BENCH_FETCH_DIR").map(PathBuf::from);
    let temp = kept.is_none().then(common::tempdir);
    let dir = kept.clone().unwrap_or_else(|| {
        temp.as_ref()
            .map(|t| t.path().to_path_buf())
            .unwrap_or_default()
    });
    if kept.is_some() && dir.exists() {
        // Only ever delete a directory this bench made.
        let ours = dir.join(MARKER).exists();
        let empty = std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_none());
        assert!(
            ours || empty,
            "RUNNEL_BENCH_FETCH_DIR={} holds files this bench did not write",
            dir.display()
        );
        std::fs::remove_dir_all(&dir).expect("empty RUNNEL_BENCH_FETCH_DIR");
    }
    std::fs::create_dir_all(&dir).expect("create the fetch log directory");
    std::fs::write(dir.join(MARKER), b"").expect("mark the fetch log directory");
    {
        let mut log = common::open_empty(&dir, config.clone());
        let template = common::encode(&common::records(64, 1024), &config);
        common::fill(&mut log, &template, size);
        log.close(common::now_ms()).expect("close");
    }
    let log = Log::open(&dir, config, true, common::now_ms()).expect("reopen");
    assert_eq!(log.segment_count(), 1);
    let stored = log.size();
    assert_eq!(read_all(&log), stored, "warm-up read covers the log");

    let file = File::open(segment_path(&dir)).expect("open the segment");
    let mut buf = vec![0u8; READ_BYTES];
    assert_eq!(pread_all(&file, &mut buf), stored);

    let mut group = c.benchmark_group("fetch_page_cache");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(common::measurement_time())
        .throughput(Throughput::Bytes(stored));
    group.bench_function("log_read_1MiB", |b| b.iter(|| read_all(&log)));
    group.bench_function("pread_1MiB_baseline", |b| {
        b.iter(|| pread_all(&file, &mut buf));
    });
    group.finish();
    if let Some(kept) = &kept {
        eprintln!("fetch log kept in {}", kept.display());
    }
}

criterion_group!(benches, fetch);
criterion_main!(benches);
