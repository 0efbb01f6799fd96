//! `runnel bench latency`: end-to-end latency, from a v2 HTTP produce to the record's arrival on
//! a WebSocket, at a fixed offered rate.
//!
//! A run opens one `/v1/ws/consume` socket on the topic (every partition, `from=latest`, JSON
//! values, a credit of [`CREDIT`]), then offers `--rate` records/s for `--duration` as v2 produce
//! requests of `--batch` records each. Tokio's timers tick about once a millisecond, so each
//! tick starts as many requests as are due by then (`elapsed × rate / batch`, less those
//! already started), each its own task, at most `--concurrency` in flight (past that the sender
//! waits, and the offered rate reported drops below the target).
//!
//! Every record's value is `{"seq":S,"sent_ns":T}`: its number in the run and when its request
//! was sent, in ns since the run started (one clock, this process's). The socket side takes the
//! time as each frame arrives and records `arrival − sent_ns` per record (end to end); each
//! request records send → HTTP response (the ack). Both go into µs HDR histograms.
//!
//! After the last request is answered, the run waits up to `--drain` for every acknowledged
//! record to arrive. An acknowledged record that never does is *lost*, and fails the run, as
//! does any request or socket error (after the report is printed).

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use hdrhistogram::Histogram;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::report::{Latency, format_latency, group_digits};
use crate::cli::BenchLatencyArgs;
use crate::cli::client::{Acks, Client, Format};

/// Records the consume socket grants at the start (the server's largest grant); topped up by
/// what arrived once half of it is used.
pub const CREDIT: u64 = crate::gateway::ws::MAX_CREDIT_GRANT;
/// How often the sender looks at the clock (tokio's timer resolution).
const TICK: Duration = Duration::from_millis(1);
/// How often the end of the run checks for acknowledged records still missing.
const DRAIN_POLL: Duration = Duration::from_millis(5);

/// `runnel bench latency`: runs, prints the report, fails on errors or lost records.
///
/// # Errors
/// The topic or the socket cannot be set up; after the report: any request or socket error,
/// or acknowledged records that never arrived.
pub async fn run(args: &BenchLatencyArgs) -> anyhow::Result<()> {
    let report = run_latency(args, true).await?;
    super::emit_text_or_json(&report.to_text(), args.json.then_some(&report))?;
    if report.errors > 0 || report.lost > 0 {
        anyhow::bail!(
            "{} error{} and {} lost record{} during the run",
            report.errors,
            if report.errors == 1 { "" } else { "s" },
            report.lost,
            if report.lost == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// Sequence numbers seen, as a growable bitset.
#[derive(Debug, Default)]
struct Seen {
    words: Vec<u64>,
    count: u64,
}

impl Seen {
    /// Marks `seq`; whether it was new.
    fn insert(&mut self, seq: u64) -> bool {
        let (word, bit) = (usize::try_from(seq / 64).unwrap_or(usize::MAX), seq % 64);
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        let new = self.words[word] & (1 << bit) == 0;
        self.words[word] |= 1 << bit;
        self.count += u64::from(new);
        new
    }

    /// How many of these are not in `other`.
    fn missing_from(&self, other: &Seen) -> u64 {
        self.words
            .iter()
            .enumerate()
            .map(|(i, w)| u64::from((w & !other.words.get(i).copied().unwrap_or(0)).count_ones()))
            .sum()
    }
}

/// What the sender tasks and the socket share.
#[derive(Debug)]
struct Shared {
    /// The clock every `sent_ns` counts from.
    start: Instant,
    requests: AtomicU64,
    sent: AtomicU64,
    failed: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
    acked: Mutex<Seen>,
    /// Send → HTTP response, per request.
    ack_latency: Mutex<Histogram<u64>>,
    received: Mutex<Seen>,
    duplicates: AtomicU64,
    /// Records on the topic that are not this run's.
    foreign: AtomicU64,
    /// Send → arrival on the socket, per record.
    e2e_latency: Mutex<Histogram<u64>>,
}

impl Shared {
    fn new() -> Self {
        Shared {
            start: Instant::now(),
            requests: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            first_error: Mutex::new(None),
            acked: Mutex::new(Seen::default()),
            ack_latency: Mutex::new(super::latency_histogram()),
            received: Mutex::new(Seen::default()),
            duplicates: AtomicU64::new(0),
            foreign: AtomicU64::new(0),
            e2e_latency: Mutex::new(super::latency_histogram()),
        }
    }

    fn ns_since_start(&self, at: Instant) -> u64 {
        u64::try_from(at.duration_since(self.start).as_nanos()).unwrap_or(u64::MAX)
    }

    fn error(&self, message: impl FnOnce() -> String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock();
        if first.is_none() {
            *first = Some(message());
        }
    }

    /// Acknowledged records not received (yet).
    fn missing(&self) -> u64 {
        let acked = self.acked.lock();
        acked.missing_from(&self.received.lock())
    }
}

/// A produce body of `n` records stamped with sequence numbers from `seq` and `sent_ns`.
fn stamped_body(seq: u64, n: u32, sent_ns: u64) -> Bytes {
    let mut body = String::with_capacity(16 + 48 * n as usize);
    body.push_str(r#"{"records":["#);
    for i in 0..u64::from(n) {
        if i > 0 {
            body.push(',');
        }
        let _ = write!(
            body,
            r#"{{"value":{{"seq":{},"sent_ns":{sent_ns}}}}}"#,
            seq + i
        );
    }
    body.push_str("]}");
    Bytes::from(body)
}

/// One produce request of `n` records starting at `seq`; the permit is its place in flight.
async fn send(
    client: Client,
    topic: Arc<str>,
    seq: u64,
    n: u32,
    acks: Acks,
    shared: Arc<Shared>,
    permit: OwnedSemaphorePermit,
) {
    let sent_at = Instant::now();
    let body = stamped_body(seq, n, shared.ns_since_start(sent_at));
    shared.requests.fetch_add(1, Ordering::Relaxed);
    shared.sent.fetch_add(u64::from(n), Ordering::Relaxed);
    let result = client
        .produce_body(&topic, None, Format::Json, body, Some(acks))
        .await;
    let ack = sent_at.elapsed();
    // The permit is dropped at the end: once all are back, every answer is counted.
    let _permit = permit;
    match result {
        Ok(response) => {
            let micros = u64::try_from(ack.as_micros()).unwrap_or(u64::MAX);
            shared.ack_latency.lock().saturating_record(micros.max(1));
            let mut failed = 0u64;
            let mut first = None;
            {
                let mut acked = shared.acked.lock();
                for (i, o) in (0..u64::from(n)).zip(&response.offsets) {
                    if o.error_code.is_none() && o.offset.is_some() {
                        acked.insert(seq + i);
                    } else {
                        failed += 1;
                        first.get_or_insert_with(|| {
                            format!(
                                "{} ({})",
                                o.error.as_deref().unwrap_or("no offset returned"),
                                o.error_code.unwrap_or_default()
                            )
                        });
                    }
                }
            }
            let missing = u64::from(n).saturating_sub(response.offsets.len() as u64);
            if failed + missing > 0 {
                shared.failed.fetch_add(failed + missing, Ordering::Relaxed);
                shared.error(|| first.unwrap_or_else(|| "fewer offsets than records".into()));
            }
        }
        Err(e) => {
            shared.failed.fetch_add(u64::from(n), Ordering::Relaxed);
            shared.error(|| e.to_string());
        }
    }
}

/// The fields of a consume frame the socket side looks at.
#[derive(Debug, Deserialize)]
struct Frame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    records: Vec<FrameRecord>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FrameRecord {
    #[serde(default)]
    value: Option<Value>,
}

/// A record value: this run's stamp, or anything else.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Value {
    Stamp { seq: u64, sent_ns: u64 },
    Other(serde::de::IgnoredAny),
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reads the consume socket until `stop`, recording each stamped record's latency.
async fn receive(mut ws: Socket, shared: Arc<Shared>, stop: CancellationToken) {
    let mut used = 0u64;
    loop {
        let message = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            m = ws.next() => m,
        };
        let arrived = shared.ns_since_start(Instant::now());
        let text = match message {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(other)) => {
                shared.error(|| format!("the consume socket sent {other:?}"));
                return;
            }
            Some(Err(e)) => {
                shared.error(|| format!("the consume socket failed: {e}"));
                return;
            }
            None => {
                shared.error(|| "the consume socket closed".into());
                return;
            }
        };
        let frame: Frame = match serde_json::from_str(&text) {
            Ok(f) => f,
            Err(e) => {
                shared.error(|| format!("bad frame on the consume socket: {e}"));
                return;
            }
        };
        if frame.kind != "records" {
            shared.error(|| {
                format!(
                    "the consume socket sent {}: {}",
                    frame.kind,
                    frame.message.as_deref().unwrap_or("")
                )
            });
            return;
        }
        {
            let mut received = shared.received.lock();
            let mut e2e = shared.e2e_latency.lock();
            for r in &frame.records {
                match r.value {
                    Some(Value::Stamp { seq, sent_ns }) => {
                        if received.insert(seq) {
                            let micros = arrived.saturating_sub(sent_ns) / 1_000;
                            e2e.saturating_record(micros.max(1));
                        } else {
                            shared.duplicates.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Some(Value::Other(_)) | None => {
                        shared.foreign.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        used += frame.records.len() as u64;
        if used >= CREDIT / 2 {
            let grant = format!(r#"{{"type":"credit","records":{used}}}"#);
            if let Err(e) = ws.send(Message::text(grant)).await {
                shared.error(|| format!("cannot grant credit: {e}"));
                return;
            }
            used = 0;
        }
    }
    let _ = ws.close(None).await;
}

/// Prints the send and arrival rates once a second until `stop`.
async fn progress(shared: Arc<Shared>, stop: CancellationToken) {
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    let (mut last_sent, mut last_received) = (0, 0);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let sent = shared.sent.load(Ordering::Relaxed);
        let received = shared.received.lock().count;
        eprintln!(
            "latency [{:>4.0}s] sent {:>9} records/s  received {:>9} records/s  errors {}",
            shared.start.elapsed().as_secs_f64(),
            group_digits(sent - last_sent),
            group_digits(received.saturating_sub(last_received)),
            shared.errors.load(Ordering::Relaxed)
        );
        (last_sent, last_received) = (sent, received);
    }
}

/// Runs the latency benchmark and returns its report; `progress` prints a line a second.
///
/// # Errors
/// The server cannot be reached, the topic cannot be created, the socket cannot be opened.
pub async fn run_latency(args: &BenchLatencyArgs, show: bool) -> anyhow::Result<LatencyReport> {
    let client = args.server.connect()?;
    let partitions = super::ensure_topic_named(&client, &args.topic, args.partitions).await?;
    let url = super::tail_url(client.base_url(), &args.topic, CREDIT);
    let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .with_context(|| format!("cannot open {url}"))?;

    let shared = Arc::new(Shared::new());
    let stop_socket = CancellationToken::new();
    let receiver = tokio::spawn(receive(ws, Arc::clone(&shared), stop_socket.clone()));
    let stop_progress = CancellationToken::new();
    let progress_task =
        show.then(|| tokio::spawn(progress(Arc::clone(&shared), stop_progress.clone())));

    // Send: at each tick, every request due by then.
    let topic: Arc<str> = Arc::from(args.topic.as_str());
    let in_flight = Arc::new(Semaphore::new(args.concurrency as usize));
    let requests_per_sec = args.rate as f64 / f64::from(args.batch);
    let total = ((args.duration.as_secs_f64() * requests_per_sec) as u64).max(1);
    let mut started = 0u64;
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let send_start = Instant::now();
    let mut interrupted = false;
    'send: while started < total {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = tokio::signal::ctrl_c(), if show => { interrupted = true; break 'send; }
        }
        let due = ((send_start.elapsed().as_secs_f64() * requests_per_sec) as u64 + 1).min(total);
        while started < due {
            let permit = tokio::select! {
                p = Arc::clone(&in_flight).acquire_owned() => p?,
                _ = tokio::signal::ctrl_c(), if show => { interrupted = true; break 'send; }
            };
            tokio::spawn(send(
                client.clone(),
                Arc::clone(&topic),
                started * u64::from(args.batch),
                args.batch,
                args.acks,
                Arc::clone(&shared),
                permit,
            ));
            started += 1;
        }
    }
    // Every request answered.
    drop(in_flight.acquire_many(args.concurrency).await?);
    let send_secs = send_start.elapsed().as_secs_f64();

    // Drain: acknowledged records still on their way.
    let drain_deadline = Instant::now() + args.drain;
    while !interrupted && shared.missing() > 0 && Instant::now() < drain_deadline {
        if receiver.is_finished() {
            break;
        }
        tokio::time::sleep(DRAIN_POLL).await;
    }
    stop_socket.cancel();
    let _ = receiver.await;
    stop_progress.cancel();
    if let Some(task) = progress_task {
        let _ = task.await;
    }

    let sent = shared.sent.load(Ordering::Relaxed);
    let acked = shared.acked.lock().count;
    let received = shared.received.lock().count;
    let report = LatencyReport {
        mode: "latency",
        transport: "http+ws",
        topic: args.topic.clone(),
        partitions,
        acks: args.acks.as_str(),
        batch: args.batch,
        concurrency: args.concurrency,
        target_rate: args.rate,
        offered_rate: sent as f64 / send_secs.max(1e-9),
        elapsed_secs: shared.start.elapsed().as_secs_f64(),
        requests: shared.requests.load(Ordering::Relaxed),
        records_sent: sent,
        records_acked: acked,
        records_failed: shared.failed.load(Ordering::Relaxed),
        records_received: received,
        lost: shared.missing(),
        duplicates: shared.duplicates.load(Ordering::Relaxed),
        foreign: shared.foreign.load(Ordering::Relaxed),
        errors: shared.errors.load(Ordering::Relaxed),
        first_error: shared.first_error.lock().clone(),
        e2e_latency_us: super::latency_summary(&shared.e2e_latency.lock()),
        ack_latency_us: super::latency_summary(&shared.ack_latency.lock()),
    };
    Ok(report)
}

/// The summary of a latency run (`--json` prints it as is).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyReport {
    /// `latency`.
    pub mode: &'static str,
    /// `http+ws`: produced over HTTP, received on a WebSocket.
    pub transport: &'static str,
    pub topic: String,
    pub partitions: u32,
    pub acks: &'static str,
    /// Records per request.
    pub batch: u32,
    /// Requests in flight at most.
    pub concurrency: u32,
    /// `--rate`, records/s.
    pub target_rate: u64,
    /// Records sent per second of the sending phase.
    pub offered_rate: f64,
    pub elapsed_secs: f64,
    pub requests: u64,
    pub records_sent: u64,
    pub records_acked: u64,
    /// Records whose request failed or that came back with an error.
    pub records_failed: u64,
    /// Distinct records of this run received on the socket.
    pub records_received: u64,
    /// Acknowledged records never received.
    pub lost: u64,
    pub duplicates: u64,
    /// Records on the topic that were not this run's (another producer).
    pub foreign: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Send → arrival on the socket, per record, µs.
    pub e2e_latency_us: Latency,
    /// Send → HTTP response, per request, µs.
    pub ack_latency_us: Latency,
}

impl LatencyReport {
    /// The human summary, several lines.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "latency over HTTP produce → WebSocket on '{}': {} records offered at {} records/s \
             (target {}; batch {}, acks {}, {} partition{}, ≤ {} requests in flight)",
            self.topic,
            group_digits(self.records_sent),
            group_digits(self.offered_rate as u64),
            group_digits(self.target_rate),
            self.batch,
            self.acks,
            self.partitions,
            if self.partitions == 1 { "" } else { "s" },
            self.concurrency
        );
        let line = |l: &Latency| {
            format!(
                "p50 {}  p99 {}  p99.9 {}  max {}",
                format_latency(l.p50),
                format_latency(l.p99),
                format_latency(l.p999),
                format_latency(l.max)
            )
        };
        let _ = writeln!(
            s,
            "  end to end  {}  (send → received on the socket, per record)",
            line(&self.e2e_latency_us)
        );
        let _ = writeln!(
            s,
            "  ack         {}  (send → HTTP response, per request)",
            line(&self.ack_latency_us)
        );
        let _ = writeln!(
            s,
            "  records     sent {}  acknowledged {}  received {}  lost {}  duplicates {}",
            group_digits(self.records_sent),
            group_digits(self.records_acked),
            group_digits(self.records_received),
            group_digits(self.lost),
            group_digits(self.duplicates)
        );
        let _ = write!(s, "  errors      {}", self.errors);
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
    fn bodies_carry_a_stamp_per_record() {
        let body = stamped_body(10, 3, 1_234);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let records = v["records"].as_array().unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[2]["value"]["seq"], 12);
        assert_eq!(records[0]["value"]["sent_ns"], 1_234);
    }

    #[test]
    fn frames_tell_stamps_from_other_values() {
        let frame: Frame = serde_json::from_str(
            r#"{"type":"records","records":[{"offset":0,"value":{"seq":1,"sent_ns":2}},
                {"offset":1,"value":"x"},{"offset":2,"value":null}]}"#,
        )
        .unwrap();
        assert!(matches!(
            frame.records[0].value,
            Some(Value::Stamp { seq: 1, sent_ns: 2 })
        ));
        assert!(matches!(frame.records[1].value, Some(Value::Other(_))));
        assert!(frame.records[2].value.is_none());
    }

    #[test]
    fn seen_sets_count_what_is_missing() {
        let (mut acked, mut received) = (Seen::default(), Seen::default());
        for seq in [0, 5, 64, 200] {
            assert!(acked.insert(seq));
        }
        assert!(!acked.insert(5));
        assert_eq!(acked.count, 4);
        received.insert(5);
        received.insert(64);
        received.insert(1_000);
        assert_eq!(acked.missing_from(&received), 2);
        assert_eq!(received.missing_from(&acked), 1);
    }
}
