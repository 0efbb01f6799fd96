//! `runnel bench sockets`: opens `--connections` idle consume WebSockets, holds them for
//! `--hold`, closes them. What it measures is the server's side (its memory per idle socket,
//! read from outside, e.g. by `scripts/bench-ws.sh`); this reports that every socket opened and
//! stayed open, and how long the handshakes took.
//!
//! Each socket tails every partition of the topic from `latest` with a credit of 0, so the
//! server sends it nothing but pings. At most `--concurrency` handshakes are in flight. The
//! client side is kept small ([`client_config`]: 4 KiB buffers), so ten thousand sockets cost
//! this process tens of MB, not GBs. Each socket is one task reading it, which answers the
//! server's pings; a socket that closes or fails while held counts as dropped.
//!
//! Once all are open (or failed) a line `all N sockets open in S s` goes to stderr, for scripts
//! that measure the server while they are held. A run where any socket failed to open or
//! dropped fails, after the report. Each socket is a file descriptor here: the open-file limit
//! (`ulimit -n`) must be above `--connections`, which is checked first.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

use super::report::{Latency, format_latency, group_digits};
use crate::cli::BenchSocketsArgs;

/// How long one handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long closing one socket may take at the end.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Descriptors this process needs besides the sockets.
const SPARE_FDS: u64 = 64;

/// The client's WebSocket settings: small buffers (an idle socket receives only pings), and a
/// message limit well above any frame the server sends an idle socket.
fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 << 10)
        .write_buffer_size(4 << 10)
        .max_write_buffer_size(64 << 10)
        .max_message_size(Some(1 << 20))
        .max_frame_size(Some(1 << 20))
}

/// The soft open-file limit, from `/proc/self/limits` (`None` when unknown or unlimited).
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `runnel bench sockets`: runs, prints the report, fails if any socket did not open or
/// dropped while held.
///
/// # Errors
/// The open-file limit is too low, the topic cannot be set up; after the report: sockets that
/// failed to open or dropped.
pub async fn run(args: &BenchSocketsArgs) -> anyhow::Result<()> {
    let report = run_sockets(args, true).await?;
    super::emit_text_or_json(&report.to_text(), args.json.then_some(&report))?;
    let failed = report.failed + report.dropped;
    if failed > 0 {
        anyhow::bail!(
            "{} socket{} failed to open, {} dropped while held",
            report.failed,
            if report.failed == 1 { "" } else { "s" },
            report.dropped
        );
    }
    Ok(())
}

/// What the socket tasks share.
#[derive(Debug, Default)]
struct Shared {
    opened: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    first_error: Mutex<Option<String>>,
    /// Woken as each handshake ends.
    settled: Notify,
}

impl Shared {
    fn error(&self, count: &AtomicU64, message: impl FnOnce() -> String) {
        count.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock();
        if first.is_none() {
            *first = Some(message());
        }
    }
}

/// One socket: open it (holding a handshake slot), then read it until `stop` and close it.
async fn socket(
    url: Arc<str>,
    handshakes: Arc<Semaphore>,
    shared: Arc<Shared>,
    stop: CancellationToken,
) -> Option<Duration> {
    let opened = {
        let Ok(_slot) = handshakes.acquire().await else {
            return None;
        };
        let started = Instant::now();
        let connect =
            tokio_tungstenite::connect_async_with_config(&*url, Some(client_config()), false);
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, connect).await {
            Ok(Ok((ws, _))) => Ok((ws, started.elapsed())),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no handshake within {HANDSHAKE_TIMEOUT:?}")),
        }
    };
    let (mut ws, took) = match opened {
        Ok(ok) => {
            shared.opened.fetch_add(1, Ordering::Relaxed);
            shared.settled.notify_one();
            ok
        }
        Err(e) => {
            shared.error(&shared.failed, || format!("cannot open a socket: {e}"));
            shared.settled.notify_one();
            return None;
        }
    };
    loop {
        let message = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            m = ws.next() => m,
        };
        match message {
            // Pings are answered by the library as it reads.
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
            Some(Ok(other)) => {
                shared.error(&shared.dropped, || {
                    format!("an idle socket was sent {other:?}")
                });
                return Some(took);
            }
            Some(Err(e)) => {
                shared.error(&shared.dropped, || format!("a socket failed: {e}"));
                return Some(took);
            }
            None => {
                shared.error(&shared.dropped, || "a socket was closed".into());
                return Some(took);
            }
        }
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        let _ = ws.close(None).await;
        // Read until the server's close frame (or the end), so the close completes.
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    Some(took)
}

/// Runs the sockets benchmark and returns its report; `show` prints the "all open" line and
/// handles Ctrl-C (which ends the hold early).
///
/// # Errors
/// The open-file limit is below what `--connections` needs, the server cannot be reached, the
/// topic cannot be created.
pub async fn run_sockets(args: &BenchSocketsArgs, show: bool) -> anyhow::Result<SocketsReport> {
    let n = u64::from(args.connections);
    if let Some(limit) = open_file_limit()
        && limit < n + SPARE_FDS
    {
        anyhow::bail!(
            "the open-file limit ({limit}) is too low for {n} sockets: raise it to at least {} \
             (ulimit -n)",
            n + SPARE_FDS
        );
    }
    let client = args.server.connect()?;
    let partitions = super::ensure_topic_named(&client, &args.topic, args.partitions).await?;
    let url: Arc<str> = Arc::from(super::tail_url(client.base_url(), &args.topic, 0));

    let shared = Arc::new(Shared::default());
    let handshakes = Arc::new(Semaphore::new(args.concurrency as usize));
    let stop = CancellationToken::new();
    let started = Instant::now();
    let mut sockets = JoinSet::new();
    for _ in 0..n {
        sockets.spawn(socket(
            Arc::clone(&url),
            Arc::clone(&handshakes),
            Arc::clone(&shared),
            stop.clone(),
        ));
    }
    // Wait for every handshake to end.
    loop {
        let settled = shared.settled.notified();
        let done = shared.opened.load(Ordering::Relaxed) + shared.failed.load(Ordering::Relaxed);
        if done >= n {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(100), settled).await;
    }
    let open_secs = started.elapsed().as_secs_f64();
    let opened = shared.opened.load(Ordering::Relaxed);
    if show {
        let failed = shared.failed.load(Ordering::Relaxed);
        if failed == 0 {
            eprintln!(
                "all {n} sockets open in {open_secs:.2} s; holding them for {:?}",
                args.hold
            );
        } else {
            eprintln!(
                "{opened} of {n} sockets open in {open_secs:.2} s ({failed} failed); holding \
                 them for {:?}",
                args.hold
            );
        }
    }
    let hold_start = Instant::now();
    tokio::select! {
        () = tokio::time::sleep(args.hold) => {}
        _ = tokio::signal::ctrl_c(), if show => {}
    }
    let held_secs = hold_start.elapsed().as_secs_f64();
    // Dropped while held: counted before closing, so the close itself is not counted.
    let dropped = shared.dropped.load(Ordering::Relaxed);
    stop.cancel();
    let mut handshake = super::latency_histogram();
    while let Some(joined) = sockets.join_next().await {
        if let Ok(Some(took)) = joined {
            let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
            handshake.saturating_record(micros.max(1));
        }
    }
    Ok(SocketsReport {
        mode: "sockets",
        topic: args.topic.clone(),
        partitions,
        connections: n,
        concurrency: args.concurrency,
        opened,
        failed: shared.failed.load(Ordering::Relaxed),
        dropped,
        open_secs,
        held_secs,
        handshake_latency_us: super::latency_summary(&handshake),
        first_error: shared.first_error.lock().clone(),
    })
}

/// The summary of a sockets run (`--json` prints it as is).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SocketsReport {
    /// `sockets`.
    pub mode: &'static str,
    pub topic: String,
    pub partitions: u32,
    /// `--connections`.
    pub connections: u64,
    /// Handshakes in flight at most.
    pub concurrency: u32,
    /// Sockets that opened.
    pub opened: u64,
    /// Sockets that did not open.
    pub failed: u64,
    /// Sockets closed or failed while held.
    pub dropped: u64,
    /// From the first handshake to the last one's end.
    pub open_secs: f64,
    pub held_secs: f64,
    /// Per handshake (TCP connect + upgrade), µs.
    pub handshake_latency_us: Latency,
    pub first_error: Option<String>,
}

impl SocketsReport {
    /// The human summary, several lines.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "sockets tailing '{}' ({} partition{}): {} of {} open in {:.2} s, held {:.1} s \
             (≤ {} handshakes at once)",
            self.topic,
            self.partitions,
            if self.partitions == 1 { "" } else { "s" },
            group_digits(self.opened),
            group_digits(self.connections),
            self.open_secs,
            self.held_secs,
            self.concurrency
        );
        let l = &self.handshake_latency_us;
        let _ = writeln!(
            s,
            "  handshake   p50 {}  p99 {}  p99.9 {}  max {}",
            format_latency(l.p50),
            format_latency(l.p99),
            format_latency(l.p999),
            format_latency(l.max)
        );
        let _ = write!(
            s,
            "  errors      {} failed to open, {} dropped while held",
            self.failed, self.dropped
        );
        if let Some(e) = &self.first_error {
            let _ = write!(s, " (first: {e})");
        }
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_file_limit_is_read_from_proc() {
        // Linux always has one; "unlimited" would read as None.
        if std::path::Path::new("/proc/self/limits").exists() {
            assert!(open_file_limit().is_some_and(|n| n > 0));
        }
    }

    #[test]
    fn the_client_config_is_small_and_valid() {
        let c = client_config();
        assert!(c.read_buffer_size <= 4 << 10);
        assert!(c.max_write_buffer_size > c.write_buffer_size);
    }
}
