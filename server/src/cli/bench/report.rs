//! Counting and reporting for `runnel bench`: a [`Recorder`] shared by the workers, the live
//! progress line, and the final [`Report`].
//!
//! Workers call [`Recorder::record`] once per request with its latency and how many records and
//! payload bytes it carried. Counts are atomics; latencies go into an HDR histogram (1 µs to
//! 60 s, 3 significant digits) behind a std mutex held only to record one value. Once a second
//! the progress task swaps out that interval's histogram, prints its p99 with the interval's
//! rates, and folds it into the run's total, from which the final percentiles come.
//!
//! Latency is per request (send to full response), not per record.

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// Highest latency the histogram holds, in µs; longer requests are recorded as this.
const MAX_LATENCY_US: u64 = 60_000_000;
/// Significant digits kept by the histogram: 0.1% relative error.
const SIGNIFICANT_DIGITS: u8 = 3;
/// How often the progress line is refreshed.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

fn new_histogram() -> Histogram<u64> {
    #[expect(
        clippy::expect_used,
        reason = "constant bounds that hdrhistogram accepts (1 ≤ low, high ≥ 2·low, digits ≤ 5)"
    )]
    Histogram::new_with_bounds(1, MAX_LATENCY_US, SIGNIFICANT_DIGITS)
        .expect("valid histogram bounds")
}

/// Counts and latencies shared by all workers of one run.
#[derive(Debug)]
pub struct Recorder {
    started: Instant,
    records: AtomicU64,
    bytes: AtomicU64,
    requests: AtomicU64,
    errors: AtomicU64,
    /// Latencies since the last progress tick.
    interval: Mutex<Histogram<u64>>,
    /// Latencies of earlier ticks.
    total: Mutex<Histogram<u64>>,
    first_error: Mutex<Option<String>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            started: Instant::now(),
            records: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            interval: Mutex::new(new_histogram()),
            total: Mutex::new(new_histogram()),
            first_error: Mutex::new(None),
        }
    }
}

impl Recorder {
    /// A recorder whose clock starts now.
    pub fn new() -> Arc<Self> {
        Arc::new(Recorder::default())
    }

    /// One successful request that carried `records` records of `bytes` payload bytes in all.
    pub fn record(&self, latency: Duration, records: u64, bytes: u64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.records.fetch_add(records, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.interval.lock().saturating_record(micros.max(1));
    }

    /// `count` failures (whole requests or single records); the first message is kept.
    pub fn record_errors(&self, count: u64, message: impl FnOnce() -> String) {
        self.errors.fetch_add(count, Ordering::Relaxed);
        let mut first = self.first_error.lock();
        if first.is_none() {
            *first = Some(message());
        }
    }

    /// Records counted so far.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    /// Moves the interval's latencies into the total and returns them.
    fn drain_interval(&self) -> Histogram<u64> {
        let interval = std::mem::replace(&mut *self.interval.lock(), new_histogram());
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.total.lock().add(&interval);
        interval
    }

    /// Prints a progress line to stderr every second until `stop` is cancelled, then clears it.
    /// On a terminal the line is rewritten in place; otherwise one line per second.
    pub async fn progress(self: Arc<Self>, label: String, stop: CancellationToken) {
        let terminal = std::io::stderr().is_terminal();
        let mut ticker = tokio::time::interval(PROGRESS_INTERVAL);
        ticker.tick().await;
        let (mut last_records, mut last_bytes, mut last_at) = (0, 0, Instant::now());
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = ticker.tick() => {}
            }
            let now = Instant::now();
            let secs = now.duration_since(last_at).as_secs_f64().max(1e-9);
            let records = self.records.load(Ordering::Relaxed);
            let bytes = self.bytes.load(Ordering::Relaxed);
            let interval = self.drain_interval();
            let p99 = if interval.is_empty() {
                "-".to_owned()
            } else {
                format_latency(interval.value_at_quantile(0.99))
            };
            let line = format!(
                "{label} [{:>4.0}s] {:>12} records/s {:>9.2} MB/s  p99 {p99}  errors {}",
                now.duration_since(self.started).as_secs_f64(),
                group_digits(((records - last_records) as f64 / secs) as u64),
                (bytes - last_bytes) as f64 / secs / 1e6,
                self.errors.load(Ordering::Relaxed),
            );
            let mut err = std::io::stderr().lock();
            let _ = if terminal {
                write!(err, "\r\x1b[2K{line}")
            } else {
                writeln!(err, "{line}")
            };
            let _ = err.flush();
            (last_records, last_bytes, last_at) = (records, bytes, now);
        }
        if terminal {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }

    /// The final numbers, with `elapsed` measured by the caller from its start to the last
    /// worker's end.
    pub fn finish(&self, run: RunInfo, elapsed: Duration) -> Report {
        self.drain_interval();
        let total = self.total.lock();
        let secs = elapsed.as_secs_f64().max(1e-9);
        let records = self.records.load(Ordering::Relaxed);
        let bytes = self.bytes.load(Ordering::Relaxed);
        let quantile = |q: f64| {
            if total.is_empty() {
                0
            } else {
                total.value_at_quantile(q)
            }
        };
        Report {
            run,
            records,
            bytes,
            requests: self.requests.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            first_error: self.first_error.lock().clone(),
            elapsed_secs: secs,
            records_per_sec: records as f64 / secs,
            mb_per_sec: bytes as f64 / secs / 1e6,
            latency_us: Latency {
                p50: quantile(0.50),
                p99: quantile(0.99),
                p999: quantile(0.999),
                max: total.max(),
                mean: if total.is_empty() { 0.0 } else { total.mean() },
            },
        }
    }
}

/// What was run, echoed in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunInfo {
    /// `produce` or `consume`.
    pub mode: &'static str,
    /// `http` or `ws` (`--transport`).
    pub transport: &'static str,
    pub topic: String,
    pub partitions: u32,
    pub format: &'static str,
    /// Produce only.
    pub acks: Option<&'static str>,
    /// Value size of produced records; consume reports what it read instead.
    pub record_size: Option<usize>,
    pub batch: Option<u32>,
    pub concurrency: u32,
}

/// Request latency percentiles, in µs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

/// The final summary of a run (`--json` prints it as is).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub run: RunInfo,
    pub records: u64,
    /// Payload bytes: values only, as stored.
    pub bytes: u64,
    pub requests: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed_secs: f64,
    pub records_per_sec: f64,
    /// Payload megabytes (10^6) per second.
    pub mb_per_sec: f64,
    pub latency_us: Latency,
}

impl Report {
    /// The human summary, several lines.
    pub fn to_text(&self) -> String {
        let r = &self.run;
        let mut settings = vec![
            format!(
                "{} connection{}",
                r.concurrency,
                if r.concurrency == 1 { "" } else { "s" }
            ),
            format!(
                "{} partition{}",
                r.partitions,
                if r.partitions == 1 { "" } else { "s" }
            ),
        ];
        if let Some(batch) = r.batch {
            settings.push(format!("batch {batch}"));
        }
        if let Some(size) = r.record_size {
            settings.push(format!("{size} B records"));
        }
        if let Some(acks) = r.acks {
            settings.push(format!("acks {acks}"));
        }
        settings.push(r.format.to_owned());
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} over {} to '{}': {} records in {:.2} s ({})",
            r.mode,
            r.transport,
            r.topic,
            group_digits(self.records),
            self.elapsed_secs,
            settings.join(", ")
        );
        let _ = writeln!(
            s,
            "  throughput  {} records/s  {:.2} MB/s  ({} requests)",
            group_digits(self.records_per_sec as u64),
            self.mb_per_sec,
            group_digits(self.requests)
        );
        let l = &self.latency_us;
        let _ = writeln!(
            s,
            "  latency     p50 {}  p99 {}  p99.9 {}  max {}  (per request)",
            format_latency(l.p50),
            format_latency(l.p99),
            format_latency(l.p999),
            format_latency(l.max)
        );
        let _ = write!(s, "  errors      {}", self.errors);
        if let Some(e) = &self.first_error {
            let _ = write!(s, " (first: {e})");
        }
        s.push('\n');
        s
    }
}

/// `850 µs`, `12.3 ms`, `1.50 s`.
pub fn format_latency(micros: u64) -> String {
    match micros {
        0..1_000 => format!("{micros} µs"),
        1_000..1_000_000 => format!("{:.1} ms", micros as f64 / 1e3),
        _ => format!("{:.2} s", micros as f64 / 1e6),
    }
}

/// `1234567` → `1,234,567`.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_info() -> RunInfo {
        RunInfo {
            mode: "produce",
            transport: "http",
            topic: "t".into(),
            partitions: 1,
            format: "binary",
            acks: Some("all"),
            record_size: Some(100),
            batch: Some(500),
            concurrency: 8,
        }
    }

    #[test]
    fn numbers_are_formatted_for_people() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1_000), "1,000");
        assert_eq!(group_digits(1_234_567), "1,234,567");
        assert_eq!(format_latency(850), "850 µs");
        assert_eq!(format_latency(12_345), "12.3 ms");
        assert_eq!(format_latency(1_500_000), "1.50 s");
    }

    #[test]
    fn reports_compute_rates_and_percentiles() {
        let recorder = Recorder::new();
        for ms in 1..=100u64 {
            recorder.record(Duration::from_millis(ms), 10, 1_000);
        }
        recorder.record_errors(2, || "first".to_owned());
        recorder.record_errors(1, || "second".to_owned());
        let report = recorder.finish(run_info(), Duration::from_secs(2));
        assert_eq!(report.records, 1_000);
        assert_eq!(report.requests, 100);
        assert_eq!(report.errors, 3);
        assert_eq!(report.first_error.as_deref(), Some("first"));
        assert!((report.records_per_sec - 500.0).abs() < 1e-6);
        assert!((report.mb_per_sec - 0.05).abs() < 1e-9);
        // 3 significant digits: within 0.1% of the exact value.
        assert!(report.latency_us.p50.abs_diff(50_000) <= 50);
        assert!(report.latency_us.p99.abs_diff(99_000) <= 100);
        assert!(report.latency_us.max.abs_diff(100_000) <= 100);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["mode"], "produce");
        assert_eq!(json["latency_us"]["p999"], report.latency_us.p999);
        assert!(report.to_text().contains("1,000 records in 2.00 s"));
    }

    #[test]
    fn an_empty_run_reports_zeros() {
        let report = Recorder::new().finish(run_info(), Duration::ZERO);
        assert_eq!(report.records, 0);
        assert_eq!(report.latency_us.p99, 0);
        assert_eq!(report.latency_us.mean, 0.0);
    }
}
