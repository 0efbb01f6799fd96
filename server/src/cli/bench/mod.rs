//! `runnel bench produce|consume`: end-to-end throughput and request latency against a running
//! server, through its public API.
//!
//! A run is: make sure the topic exists (created with `--partitions` if missing), start
//! `--concurrency` workers, let them take records from a shared [`Budget`] (`--duration`, or
//! `--records` in all) and count what they did in a shared [`report::Recorder`], print a
//! progress line every second, then a [`report::Report`]. `consume` first fills an empty topic
//! with `--prefill` records through the produce workers, then gives each reader one partition
//! (reader `i` reads partition `i mod partitions`) from its earliest to its latest offset as
//! found at the start. With `--group`, the readers are instead `--concurrency` members of that
//! consumer group, which share the partitions as the group assigns them and stop once the
//! records there were at the start have been read.
//!
//! # Transports
//! Only the workers know the wire: [`http`] has `produce_worker` and `consume_worker` over v2
//! produce and the stateless read. A WebSocket transport (`/v1/ws/produce`, `/v1/ws/consume`)
//! is the sibling module [`ws`], with workers of the same inputs — a workload, the [`Budget`] to
//! claim records from, the recorder to count them in — selected by `--transport ws` and named
//! in [`report::RunInfo::transport`]. Topic setup, prefill (always HTTP), progress and the
//! report stay as they are.
//!
//! # Other modes
//! Two modes measure something else than throughput, each with its own report (text, or JSON
//! with `--json`):
//! - `bench latency` ([`latency`]): end-to-end latency at a fixed offered rate (`--rate`,
//!   default 10,000 records/s): paced v2 HTTP produce requests whose records carry their send
//!   time, received on one `/v1/ws/consume` socket; p50/p99/p99.9/max from send to arrival per
//!   record and from send to the HTTP response per request. It fails if an acknowledged record
//!   never arrives.
//! - `bench sockets` ([`sockets`]): opens `--connections` idle consume sockets (credit 0),
//!   holds them for `--hold` and closes them; the server's memory per socket is read from
//!   outside while they are held (`scripts/bench-ws.sh` does).
//!
//! Not owned here: HTTP details (`client`), statistics (`report`).

pub mod http;
pub mod latency;
pub mod report;
pub mod sockets;
pub mod ws;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::cli::client::{Acks, Client, Format};
use crate::cli::{BenchCommonArgs, BenchConsumeArgs, BenchProduceArgs};
use http::{ProduceWorkload, ReadRange};
use report::{Recorder, Report, RunInfo};

/// How long `bench produce` runs when neither `--duration` nor `--records` is given.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);
/// Produce connections when `--concurrency` is not given.
const DEFAULT_PRODUCE_CONCURRENCY: u32 = 8;

/// How much work is left: records are claimed before they are sent or counted after they are
/// read, until the deadline passes, the record limit is reached, or [`Budget::stop`] is called
/// (Ctrl-C, a fatal error).
#[derive(Debug)]
pub struct Budget {
    /// When the run started: the deadline counts from here, and so does the reported time, so
    /// a `--duration 2s` run never reports less than 2 s.
    started: Instant,
    deadline: Option<Instant>,
    limit: Option<u64>,
    claimed: AtomicU64,
    stop: CancellationToken,
}

impl Budget {
    /// A budget starting now and ending after `duration`, after `limit` records, or on `stop`,
    /// whichever is first.
    pub fn new(duration: Option<Duration>, limit: Option<u64>) -> Arc<Self> {
        let started = Instant::now();
        Arc::new(Budget {
            started,
            deadline: duration.map(|d| started + d),
            limit,
            claimed: AtomicU64::new(0),
            stop: CancellationToken::new(),
        })
    }

    /// Claims up to `n` records; fewer near the record limit, 0 once the run is over.
    pub fn claim(&self, n: u64) -> u64 {
        if self.is_over() {
            return 0;
        }
        let Some(limit) = self.limit else {
            return n;
        };
        let before = self.claimed.fetch_add(n, Ordering::Relaxed);
        n.min(limit.saturating_sub(before))
    }

    /// Whether the deadline has passed, the limit is used up, or the run was stopped.
    pub fn is_over(&self) -> bool {
        self.stop.is_cancelled()
            || self.deadline.is_some_and(|d| Instant::now() >= d)
            || self
                .limit
                .is_some_and(|l| self.claimed.load(Ordering::Relaxed) >= l)
    }

    /// Ends the run: workers finish their request in flight and claim nothing more.
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

/// `runnel bench produce`: runs, prints the report, fails if any request failed.
///
/// # Errors
/// The topic cannot be set up, or the run had errors (after the report is printed).
pub async fn produce(args: &BenchProduceArgs) -> anyhow::Result<()> {
    let report = run_produce(args, true).await?;
    emit(&report, args.common.json)
}

/// `runnel bench consume`: runs, prints the report, fails if any request failed.
///
/// # Errors
/// The topic cannot be set up or filled, or the run had errors (after the report is printed).
pub async fn consume(args: &BenchConsumeArgs) -> anyhow::Result<()> {
    let report = run_consume(args, true).await?;
    emit(&report, args.common.json)
}

/// Prints the report (JSON on stdout with `--json`, the text on stderr then; the text on stdout
/// otherwise) and turns errors into a failed exit.
fn emit(report: &Report, json: bool) -> anyhow::Result<()> {
    if json {
        eprint!("{}", report.to_text());
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", report.to_text());
    }
    if report.errors > 0 {
        anyhow::bail!(
            "{} error{} during the run",
            report.errors,
            if report.errors == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// Runs the produce benchmark and returns its report; `progress` prints the live line.
///
/// # Errors
/// The server cannot be reached or the topic cannot be created.
pub async fn run_produce(args: &BenchProduceArgs, progress: bool) -> anyhow::Result<Report> {
    let common = &args.common;
    let client = common.server.connect()?;
    let partitions = ensure_topic(&client, common).await?;
    let concurrency = common.concurrency.unwrap_or(DEFAULT_PRODUCE_CONCURRENCY);
    let deadline = match (common.duration, common.records) {
        (Some(d), _) => Some(d),
        (None, Some(_)) => None,
        (None, None) => Some(DEFAULT_DURATION),
    };
    let budget = Budget::new(deadline, common.records);
    let workload = ProduceWorkload {
        format: common.format,
        record_size: common.record_size,
        batch: common.batch,
        acks: args.acks,
    };
    let run = RunInfo {
        mode: "produce",
        transport: common.transport.as_str(),
        topic: common.topic.clone(),
        partitions,
        format: common.format.as_str(),
        acks: Some(args.acks.as_str()),
        record_size: Some(common.record_size),
        batch: Some(common.batch),
        concurrency,
    };
    Ok(produce_with(
        &client,
        common.transport,
        &common.topic,
        workload,
        concurrency,
        budget,
        run,
        progress,
    )
    .await)
}

#[allow(clippy::too_many_arguments)]
async fn produce_with(
    client: &Client,
    transport: ws::Transport,
    topic: &str,
    workload: ProduceWorkload,
    concurrency: u32,
    budget: Arc<Budget>,
    run: RunInfo,
    progress: bool,
) -> Report {
    let topic: Arc<str> = Arc::from(topic);
    let base_url: Arc<str> = Arc::from(client.base_url());
    let recorder = Recorder::new();
    let mut workers = JoinSet::new();
    for _ in 0..concurrency {
        let (topic, budget, recorder) = (
            Arc::clone(&topic),
            Arc::clone(&budget),
            Arc::clone(&recorder),
        );
        match transport {
            ws::Transport::Http => workers.spawn(http::produce_worker(
                client.clone(),
                topic,
                workload,
                budget,
                recorder,
            )),
            ws::Transport::Ws => workers.spawn(ws::produce_worker(
                Arc::clone(&base_url),
                topic,
                workload,
                budget,
                recorder,
            )),
        };
    }
    drive(workers, &budget, &recorder, run, progress).await
}

/// Waits for the workers while showing progress; Ctrl-C stops the budget early.
async fn drive(
    mut workers: JoinSet<()>,
    budget: &Budget,
    recorder: &Arc<Recorder>,
    run: RunInfo,
    progress: bool,
) -> Report {
    let stop_progress = CancellationToken::new();
    let progress_task = progress.then(|| {
        let label = run.mode.to_owned();
        tokio::spawn(Arc::clone(recorder).progress(label, stop_progress.clone()))
    });
    loop {
        tokio::select! {
            joined = workers.join_next() => match joined {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    recorder.record_errors(1, || format!("worker failed: {e}"));
                    budget.stop();
                }
                None => break,
            },
            _ = tokio::signal::ctrl_c(), if progress => budget.stop(),
        }
    }
    let elapsed = budget.started.elapsed();
    stop_progress.cancel();
    if let Some(task) = progress_task {
        let _ = task.await;
    }
    recorder.finish(run, elapsed)
}

/// Runs the consume benchmark (filling an empty topic first) and returns its report.
///
/// # Errors
/// The server cannot be reached, the topic cannot be created or filled.
pub async fn run_consume(args: &BenchConsumeArgs, progress: bool) -> anyhow::Result<Report> {
    let common = &args.common;
    let client = common.server.connect()?;
    let partitions = ensure_topic(&client, common).await?;
    let mut ranges = partition_ranges(&client, &common.topic, partitions, common.format).await?;
    if ranges.iter().all(|r| r.start == r.end) && args.prefill > 0 {
        prefill(&client, common, partitions, args.prefill, progress).await?;
        ranges = partition_ranges(&client, &common.topic, partitions, common.format).await?;
    }
    let concurrency = common.concurrency.unwrap_or(partitions);
    let recorder = Recorder::new();
    let mut workers = JoinSet::new();
    if let Some(group) = &args.group {
        // Members stop when the records there were at the start have all been read.
        let total: u64 = ranges.iter().map(|r| r.end - r.start).sum();
        let limit = common.records.map_or(total, |n| n.min(total));
        let budget = Budget::new(common.duration, Some(limit));
        let (topic, group): (Arc<str>, Arc<str>) =
            (Arc::from(common.topic.as_str()), Arc::from(group.as_str()));
        for _ in 0..concurrency {
            let (topic, group) = (Arc::clone(&topic), Arc::clone(&group));
            let (budget, recorder) = (Arc::clone(&budget), Arc::clone(&recorder));
            match common.transport {
                ws::Transport::Http => workers.spawn(http::group_consume_worker(
                    client.clone(),
                    topic,
                    group,
                    common.format,
                    budget,
                    recorder,
                )),
                ws::Transport::Ws => workers.spawn(ws::group_consume_worker(
                    Arc::from(client.base_url()),
                    topic,
                    group,
                    common.format,
                    budget,
                    recorder,
                )),
            };
        }
        let run = consume_info(common, partitions, concurrency, "consume-group");
        return Ok(drive(workers, &budget, &recorder, run, progress).await);
    }
    let budget = Budget::new(common.duration, common.records);
    for i in 0..concurrency {
        let index = usize::try_from(i % partitions).unwrap_or(0);
        let Some(range) = ranges.get(index) else {
            continue;
        };
        let (range, budget, recorder) = (range.clone(), Arc::clone(&budget), Arc::clone(&recorder));
        match common.transport {
            ws::Transport::Http => workers.spawn(http::consume_worker(
                client.clone(),
                range,
                budget,
                recorder,
            )),
            ws::Transport::Ws => workers.spawn(ws::consume_worker(
                Arc::from(client.base_url()),
                range,
                budget,
                recorder,
            )),
        };
    }
    let run = consume_info(common, partitions, concurrency, "consume");
    Ok(drive(workers, &budget, &recorder, run, progress).await)
}

fn consume_info(
    common: &BenchCommonArgs,
    partitions: u32,
    concurrency: u32,
    mode: &'static str,
) -> RunInfo {
    RunInfo {
        mode,
        transport: common.transport.as_str(),
        topic: common.topic.clone(),
        partitions,
        format: common.format.as_str(),
        acks: None,
        record_size: None,
        batch: None,
        concurrency,
    }
}

/// The topic's partition count, creating it with `--partitions` when it does not exist.
async fn ensure_topic(client: &Client, common: &BenchCommonArgs) -> anyhow::Result<u32> {
    ensure_topic_named(client, &common.topic, common.partitions).await
}

/// `topic`'s partition count, creating it with `partitions` when it does not exist.
async fn ensure_topic_named(client: &Client, topic: &str, partitions: u32) -> anyhow::Result<u32> {
    match client.get_topic(topic).await {
        Ok(t) => Ok(t.partitions_count),
        Err(e) if e.is_unknown_topic() => {
            let t = client
                .create_topic(topic, Some(partitions), &[])
                .await
                .with_context(|| format!("cannot create topic '{topic}'"))?;
            Ok(t.partitions_count)
        }
        Err(e) => Err(e).with_context(|| format!("cannot look up topic '{topic}'")),
    }
}

/// The URL of `/v1/ws/consume` tailing every partition of `topic` from the end, with `credit`
/// records granted, on the server at `base` (an http(s) URL).
fn tail_url(base: &str, topic: &str, credit: u64) -> String {
    ws::ws_url(
        base,
        &format!(
            "/v1/ws/consume?topic={}&from=latest&format=json&credit={credit}",
            ws::query_value(topic)
        ),
    )
}

/// A latency histogram in µs: 1 µs to 60 s, 3 significant digits (as [`report`]'s).
fn latency_histogram() -> hdrhistogram::Histogram<u64> {
    #[expect(
        clippy::expect_used,
        reason = "constant bounds that hdrhistogram accepts (1 ≤ low, high ≥ 2·low, digits ≤ 5)"
    )]
    hdrhistogram::Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// p50/p99/p99.9/max/mean of a µs histogram; zeros when it is empty.
fn latency_summary(h: &hdrhistogram::Histogram<u64>) -> report::Latency {
    if h.is_empty() {
        return report::Latency {
            p50: 0,
            p99: 0,
            p999: 0,
            max: 0,
            mean: 0.0,
        };
    }
    report::Latency {
        p50: h.value_at_quantile(0.50),
        p99: h.value_at_quantile(0.99),
        p999: h.value_at_quantile(0.999),
        max: h.max(),
        mean: h.mean(),
    }
}

/// Prints `text` (to stderr with `--json`, which then prints `json` on stdout; to stdout
/// otherwise).
fn emit_text_or_json<T: serde::Serialize>(text: &str, json: Option<&T>) -> anyhow::Result<()> {
    match json {
        Some(value) => {
            eprint!("{text}");
            println!("{}", serde_json::to_string_pretty(value)?);
        }
        None => print!("{text}"),
    }
    Ok(())
}

async fn partition_ranges(
    client: &Client,
    topic: &str,
    partitions: u32,
    format: Format,
) -> anyhow::Result<Vec<ReadRange>> {
    let topic_name: Arc<str> = Arc::from(topic);
    let mut ranges = Vec::with_capacity(partitions as usize);
    for p in 0..partitions {
        let offsets = client
            .partition_offsets(topic, p)
            .await
            .with_context(|| format!("cannot read offsets of '{topic}' partition {p}"))?;
        ranges.push(ReadRange {
            topic: Arc::clone(&topic_name),
            partition: p,
            start: offsets.earliest_offset,
            end: offsets.latest_offset,
            format,
        });
    }
    Ok(ranges)
}

/// Produces `records` records of the benchmark's size and format into the topic.
async fn prefill(
    client: &Client,
    common: &BenchCommonArgs,
    partitions: u32,
    records: u64,
    progress: bool,
) -> anyhow::Result<()> {
    let run = RunInfo {
        mode: "prefill",
        transport: "http",
        topic: common.topic.clone(),
        partitions,
        format: common.format.as_str(),
        acks: Some(Acks::All.as_str()),
        record_size: Some(common.record_size),
        batch: Some(common.batch),
        concurrency: DEFAULT_PRODUCE_CONCURRENCY,
    };
    let workload = ProduceWorkload {
        format: common.format,
        record_size: common.record_size,
        batch: common.batch,
        acks: Acks::All,
    };
    let budget = Budget::new(None, Some(records));
    // Prefill always uses HTTP: it sets the stage, and is not what is measured.
    let report = produce_with(
        client,
        ws::Transport::Http,
        &common.topic,
        workload,
        DEFAULT_PRODUCE_CONCURRENCY,
        budget,
        run,
        progress,
    )
    .await;
    if report.errors > 0 || report.records < records {
        anyhow::bail!(
            "prefill wrote {} of {records} records ({})",
            report.records,
            report.first_error.as_deref().unwrap_or("stopped early")
        );
    }
    if progress {
        eprintln!(
            "prefilled '{}' with {} records in {:.2} s",
            common.topic,
            report::group_digits(report.records),
            report.elapsed_secs
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_hand_out_exactly_the_record_limit() {
        let budget = Budget::new(None, Some(1_200));
        assert_eq!(budget.claim(500), 500);
        assert_eq!(budget.claim(500), 500);
        assert_eq!(budget.claim(500), 200);
        assert!(budget.is_over());
        assert_eq!(budget.claim(500), 0);
    }

    #[test]
    fn tail_urls_switch_scheme_and_escape_the_topic() {
        assert_eq!(
            tail_url("http://127.0.0.1:8080/", "a b", 0),
            "ws://127.0.0.1:8080/v1/ws/consume?topic=a%20b&from=latest&format=json&credit=0"
        );
        assert!(tail_url("https://h", "t", 5).starts_with("wss://h/v1/ws/consume?topic=t&"));
    }

    #[test]
    fn budgets_end_at_the_deadline_or_on_stop() {
        let past = Budget::new(Some(Duration::ZERO), None);
        assert_eq!(past.claim(10), 0);
        let open = Budget::new(None, None);
        assert_eq!(open.claim(10), 10);
        open.stop();
        assert_eq!(open.claim(10), 0);
    }
}
