//! Prometheus metrics of the gateway, served as text at `/metrics`.
//!
//! Counters and histograms live in one process-wide registry (as the `metrics` facade does):
//! every layer can record without threading a handle through, and the numbers describe the
//! process anyway. Recording takes a short uncontended lock; rendering copies under the same
//! locks. Names follow Prometheus conventions (`_total`, `_seconds`, `_bytes`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;

/// Upper bounds of the latency buckets, in seconds: 100 µs to 10 s.
const BUCKETS: [f64; 14] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b)
            && let Some(c) = self.counts.get_mut(i)
        {
            *c += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (b, c) in BUCKETS.iter().zip(self.counts) {
            cumulative += c;
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cumulative}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Flow {
    records: u64,
    bytes: u64,
}

#[derive(Debug, Default)]
struct Registry {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    durations: Mutex<BTreeMap<String, Histogram>>,
    produce_latency: Mutex<Histogram>,
    fetch_latency: Mutex<Histogram>,
    topic_in: Mutex<BTreeMap<String, Flow>>,
    topic_out: Mutex<BTreeMap<String, Flow>>,
    connections: AtomicI64,
    active_requests: AtomicI64,
    waiting_polls: AtomicI64,
    read_memory: AtomicI64,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::default);

pub(crate) fn connection_opened() {
    REGISTRY.connections.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn connection_closed() {
    REGISTRY.connections.fetch_sub(1, Ordering::Relaxed);
}

/// A request took an active slot (`slots.rs`).
pub(crate) fn request_started() {
    REGISTRY.active_requests.fetch_add(1, Ordering::Relaxed);
}

/// A request gave its active slot back: it finished, or parked as a long-poll.
pub(crate) fn request_finished() {
    REGISTRY.active_requests.fetch_sub(1, Ordering::Relaxed);
}

/// A long-poll took a waiting slot.
pub(crate) fn poll_parked() {
    REGISTRY.waiting_polls.fetch_add(1, Ordering::Relaxed);
}

/// A long-poll gave its waiting slot back.
pub(crate) fn poll_unparked() {
    REGISTRY.waiting_polls.fetch_sub(1, Ordering::Relaxed);
}

/// Read-response memory taken from (`taken`) or given back to the budget (`read_budget.rs`).
pub(crate) fn read_memory_held(bytes: usize, taken: bool) {
    let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
    if taken {
        REGISTRY.read_memory.fetch_add(bytes, Ordering::Relaxed);
    } else {
        REGISTRY.read_memory.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// Records accepted into a topic.
pub(crate) fn records_in(topic: &str, records: usize, bytes: usize) {
    add(&REGISTRY.topic_in, topic, records, bytes);
}

/// Records delivered from a topic.
pub(crate) fn records_out(topic: &str, records: usize, bytes: usize) {
    add(&REGISTRY.topic_out, topic, records, bytes);
}

fn add(map: &Mutex<BTreeMap<String, Flow>>, topic: &str, records: usize, bytes: usize) {
    let mut m = map.lock();
    if let Some(f) = m.get_mut(topic) {
        f.records += records as u64;
        f.bytes += bytes as u64;
    } else {
        m.insert(
            topic.to_owned(),
            Flow {
                records: records as u64,
                bytes: bytes as u64,
            },
        );
    }
}

/// Middleware: counts requests by method, route and status, and times them.
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let seconds = start.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    *REGISTRY
        .requests
        .lock()
        .entry((method.clone(), route.clone(), status))
        .or_default() += 1;
    let is_records = route.ends_with("/records") || route.ends_with("/records:batch");
    if method == "POST" && (is_records || route.starts_with("/topics/")) {
        REGISTRY.produce_latency.lock().observe(seconds);
    } else if method == "GET" && is_records {
        REGISTRY.fetch_latency.lock().observe(seconds);
    }
    REGISTRY
        .durations
        .lock()
        .entry(route)
        .or_default()
        .observe(seconds);
    response
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition text.
pub fn render() -> String {
    let mut out = String::new();
    let r = &*REGISTRY;
    out.push_str("# HELP runnel_http_requests_total HTTP requests by method, route and status.\n");
    out.push_str("# TYPE runnel_http_requests_total counter\n");
    for ((method, route, status), n) in r.requests.lock().iter() {
        let _ = writeln!(
            out,
            "runnel_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
            escape(route)
        );
    }
    out.push_str("# HELP runnel_http_request_duration_seconds Request latency by route.\n");
    out.push_str("# TYPE runnel_http_request_duration_seconds histogram\n");
    for (route, h) in r.durations.lock().iter() {
        h.render(
            &mut out,
            "runnel_http_request_duration_seconds",
            &format!("route=\"{}\"", escape(route)),
        );
    }
    out.push_str("# HELP runnel_produce_latency_seconds Produce request latency (v2 and v3).\n");
    out.push_str("# TYPE runnel_produce_latency_seconds histogram\n");
    r.produce_latency
        .lock()
        .render(&mut out, "runnel_produce_latency_seconds", "");
    out.push_str("# HELP runnel_fetch_latency_seconds Fetch (record read) latency.\n");
    out.push_str("# TYPE runnel_fetch_latency_seconds histogram\n");
    r.fetch_latency
        .lock()
        .render(&mut out, "runnel_fetch_latency_seconds", "");
    for (map, dir) in [(&r.topic_in, "in"), (&r.topic_out, "out")] {
        let flows = map.lock().clone();
        for (what, pick) in [
            ("records", (|f: &Flow| f.records) as fn(&Flow) -> u64),
            ("bytes", |f: &Flow| f.bytes),
        ] {
            let name = format!("runnel_topic_{what}_{dir}_total");
            let _ = writeln!(out, "# HELP {name} {what} {dir} per topic.");
            let _ = writeln!(out, "# TYPE {name} counter");
            for (topic, f) in &flows {
                let _ = writeln!(out, "{name}{{topic=\"{}\"}} {}", escape(topic), pick(f));
            }
        }
    }
    out.push_str("# HELP runnel_http_open_connections Open HTTP connections.\n");
    out.push_str("# TYPE runnel_http_open_connections gauge\n");
    let _ = writeln!(
        out,
        "runnel_http_open_connections {}",
        r.connections.load(Ordering::Relaxed)
    );
    for (name, help, value) in [
        (
            "runnel_http_active_requests",
            "Requests holding an active slot (limits.max_concurrent_requests).",
            &r.active_requests,
        ),
        (
            "runnel_http_waiting_polls",
            "Long-polls waiting for records (limits.max_waiting_polls).",
            &r.waiting_polls,
        ),
        (
            "runnel_read_memory_bytes",
            "Memory held by read responses in flight (limits.read_memory).",
            &r.read_memory,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
    }
    out
}

/// Prometheus metrics, in the text exposition format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "operations",
    responses((
        status = 200,
        description = "Request counts and latencies, per-topic flows, open connections, consumer lag, the cluster's controller and brokers",
        body = String,
        content_type = "text/plain; version=0.0.4; charset=utf-8",
    )),
)]
pub async fn metrics_handler(
    axum::extract::State(state): axum::extract::State<super::AppState>,
) -> Response {
    let mut text = render();
    state.groups.render_lag_metrics(&mut text).await;
    state.cluster.render_metrics(&mut text);
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response()
}
