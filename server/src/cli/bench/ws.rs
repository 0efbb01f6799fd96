//! The WebSocket transport of `runnel bench` (`--transport ws`): the same workloads as
//! [`super::http`] over `/v1/ws/produce` and `/v1/ws/consume`.
//!
//! A produce worker is one socket that keeps up to [`WINDOW`] messages of `--batch` records in
//! flight and counts each ack (latency: message sent → its ack; acks come in order). With
//! `--format json` the messages are JSON text frames whose values are JSON strings; with
//! `--format binary` they use the compact binary encoding (`ws_binary.rs`), raw bytes
//! without base64 — the encoding meant for services. A message's body is built once and only
//! its id changes.
//!
//! A consume worker is one socket per reader, tailing its partition from the range's start with
//! a credit of [`CREDIT`] records, topped up as records arrive, until the range's end (latency:
//! the wait for each frame).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use rand::Rng as _;
use rand::distr::Alphanumeric;
use serde::Deserialize;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::Budget;
use super::http::{ProduceWorkload, ReadRange};
use super::report::Recorder;
use crate::cli::client::Format;
use crate::log::NewRecord;
use crate::ws_binary as binary;

/// Produce messages a socket keeps in flight (below the server's default
/// `limits.ws_max_in_flight`, 64).
pub const WINDOW: usize = 32;
/// Records a consume socket has granted at most.
pub const CREDIT: u64 = 100_000;
/// How long a socket may wait for its next frame before the run counts an error.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// How `runnel bench` talks to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Transport {
    /// v2 produce requests and stateless reads
    #[default]
    Http,
    /// `/v1/ws/produce` and `/v1/ws/consume` WebSockets
    Ws,
}

impl Transport {
    pub const fn as_str(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Ws => "ws",
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// `ws://` (or `wss://`) URL of `path_and_query` on the server at `base` (an http(s) URL).
pub(super) fn ws_url(base: &str, path_and_query: &str) -> String {
    let base = base.trim_end_matches('/');
    let rest = base
        .strip_prefix("https://")
        .map(|r| format!("wss://{r}"))
        .or_else(|| base.strip_prefix("http://").map(|r| format!("ws://{r}")))
        .unwrap_or_else(|| base.to_owned());
    format!("{rest}{path_and_query}")
}

/// `s` percent-encoded for a query string (everything but RFC 3986's unreserved characters).
pub(super) fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Opens a socket, or records why not and ends the run.
async fn connect_or_stop(url: &str, recorder: &Recorder, budget: &Budget) -> Option<Socket> {
    match connect(url).await {
        Ok(ws) => Some(ws),
        Err(e) => {
            recorder.record_errors(1, || e);
            budget.stop();
            None
        }
    }
}

/// Grants the records received since the last grant once they reach half of [`CREDIT`];
/// false (the run stopped) when the socket failed.
async fn top_up(
    ws: &mut Socket,
    unacknowledged: &mut u64,
    recorder: &Recorder,
    budget: &Budget,
) -> bool {
    if *unacknowledged < CREDIT / 2 {
        return true;
    }
    let grant = format!(r#"{{"type":"credit","records":{unacknowledged}}}"#);
    if let Err(e) = ws.send(Message::text(grant)).await {
        recorder.record_errors(1, || e.to_string());
        budget.stop();
        return false;
    }
    *unacknowledged = 0;
    true
}

async fn connect(url: &str) -> Result<Socket, String> {
    let config = WebSocketConfig::default().max_message_size(Some(64 << 20));
    tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| format!("cannot open {url}: {e}"))
}

/// A produce message's body, built once: everything but the id.
enum Body {
    /// `{"type":"produce","id":` + id + this.
    Json(String),
    /// The records of a binary request, re-encoded with each id.
    Binary(Vec<NewRecord>),
}

impl Body {
    fn new(format: Format, record_size: usize, n: u64) -> Self {
        let mut rng = rand::rng();
        match format {
            Format::Json => {
                let records: Vec<Value> = (0..n)
                    .map(|_| {
                        let v: String = (&mut rng)
                            .sample_iter(Alphanumeric)
                            .take(record_size)
                            .map(char::from)
                            .collect();
                        serde_json::json!({ "value": v })
                    })
                    .collect();
                Body::Json(format!(r#","records":{}}}"#, Value::Array(records)))
            }
            Format::Binary => Body::Binary(
                (0..n)
                    .map(|_| {
                        let mut value = vec![0u8; record_size];
                        rng.fill(&mut value[..]);
                        NewRecord {
                            value: Some(Bytes::from(value)),
                            ..NewRecord::default()
                        }
                    })
                    .collect(),
            ),
        }
    }

    fn message(&self, id: u64) -> Message {
        match self {
            Body::Json(rest) => Message::text(format!(r#"{{"type":"produce","id":{id}{rest}"#)),
            Body::Binary(records) => {
                let refs: Vec<(Option<u32>, &NewRecord)> =
                    records.iter().map(|r| (None, r)).collect();
                Message::binary(binary::encode_produce(id.to_string().as_bytes(), &refs))
            }
        }
    }
}

/// What a reply says: how many records were acked, or why the message failed.
fn read_reply(m: &Message) -> Result<u64, String> {
    #[derive(Deserialize)]
    struct Reply {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        offsets: Vec<serde::de::IgnoredAny>,
        #[serde(default)]
        message: Option<String>,
    }
    match m {
        Message::Text(t) => {
            let r: Reply = serde_json::from_str(t).map_err(|e| format!("bad reply: {e}"))?;
            match r.kind.as_str() {
                "ack" => Ok(r.offsets.len() as u64),
                _ => Err(r.message.unwrap_or(r.kind)),
            }
        }
        Message::Binary(b) => match binary::decode_reply(b) {
            Ok(binary::Reply::Ack { offsets, .. }) => Ok(offsets.len() as u64),
            Ok(binary::Reply::Error {
                error_code,
                message,
                ..
            }) => Err(format!("{message} ({error_code})")),
            Err(e) => Err(format!("bad reply: {e}")),
        },
        Message::Close(f) => Err(format!("closed: {f:?}")),
        other => Err(format!("unexpected {other:?}")),
    }
}

/// The next data or close message, answering nothing else.
async fn next(ws: &mut Socket) -> Result<Message, String> {
    loop {
        match tokio::time::timeout(REPLY_TIMEOUT, ws.next()).await {
            Err(_) => return Err("no reply in time".into()),
            Ok(None) => return Err("connection closed".into()),
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)))) => {}
            Ok(Some(Ok(m))) => return Ok(m),
        }
    }
}

/// Produces over one socket until the budget runs out.
pub async fn produce_worker(
    base_url: Arc<str>,
    topic: Arc<str>,
    workload: ProduceWorkload,
    budget: Arc<Budget>,
    recorder: Arc<Recorder>,
) {
    let url = ws_url(
        &base_url,
        &format!(
            "/v1/ws/produce?topic={}&acks={}",
            query_value(&topic),
            workload.acks.as_str()
        ),
    );
    let Some(mut ws) = connect_or_stop(&url, &recorder, &budget).await else {
        return;
    };
    let full = u64::from(workload.batch);
    let full_body = Body::new(workload.format, workload.record_size, full);
    let mut in_flight: VecDeque<(Instant, u64)> = VecDeque::with_capacity(WINDOW);
    let mut id = 0u64;
    loop {
        let mut sent = false;
        while in_flight.len() < WINDOW {
            let n = budget.claim(full);
            if n == 0 {
                break;
            }
            id += 1;
            let message = if n == full {
                full_body.message(id)
            } else {
                Body::new(workload.format, workload.record_size, n).message(id)
            };
            if let Err(e) = ws.feed(message).await {
                recorder.record_errors(1, || e.to_string());
                budget.stop();
                return;
            }
            in_flight.push_back((Instant::now(), n));
            sent = true;
        }
        if sent && let Err(e) = ws.flush().await {
            recorder.record_errors(1, || e.to_string());
            budget.stop();
            return;
        }
        let Some((started, n)) = in_flight.pop_front() else {
            break;
        };
        match next(&mut ws).await.and_then(|m| read_reply(&m)) {
            Ok(acked) => recorder.record(
                started.elapsed(),
                acked,
                acked * workload.record_size as u64,
            ),
            Err(e) => {
                recorder.record_errors(n, || e);
                budget.stop();
                return;
            }
        }
    }
    let _ = ws.close(None).await;
}

/// The fields a consume worker looks at.
#[derive(Debug, Deserialize)]
struct Frame {
    #[serde(default)]
    records: Vec<FrameRecord>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FrameRecord {
    offset: u64,
    #[serde(default)]
    value: Value,
}

/// Payload bytes of a value as stored: decoded base64 (binary) or the JSON text (json).
fn stored_size(value: &Value, format: Format) -> u64 {
    let len = match (value, format) {
        (Value::Null, _) => 0,
        (Value::String(s), Format::Binary) => base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_or(0, |b| b.len()),
        (Value::String(s), Format::Json) => s.len() + 2,
        (other, Format::Binary | Format::Json) => other.to_string().len(),
    };
    len as u64
}

/// Tails `range` over one socket until its end or the budget's.
pub async fn consume_worker(
    base_url: Arc<str>,
    range: ReadRange,
    budget: Arc<Budget>,
    recorder: Arc<Recorder>,
) {
    if range.start >= range.end {
        return;
    }
    let url = ws_url(
        &base_url,
        &format!(
            "/v1/ws/consume?topic={}&partition={}&from={}&format={}&credit={CREDIT}",
            query_value(&range.topic),
            range.partition,
            range.start,
            range.format.as_str()
        ),
    );
    let Some(mut ws) = connect_or_stop(&url, &recorder, &budget).await else {
        return;
    };
    let mut unacknowledged = 0u64;
    let mut offset = range.start;
    while offset < range.end && !budget.is_over() {
        let started = Instant::now();
        let frame = match next(&mut ws).await {
            Ok(Message::Text(t)) => serde_json::from_str::<Frame>(&t)
                .map_err(|e| e.to_string())
                .and_then(|f| {
                    if f.kind == "records" {
                        Ok(f)
                    } else {
                        Err(f.message.unwrap_or(f.kind))
                    }
                }),
            Ok(other) => Err(format!("unexpected {other:?}")),
            Err(e) => Err(e),
        };
        let frame = match frame {
            Ok(f) => f,
            Err(e) => {
                recorder.record_errors(1, || e);
                budget.stop();
                break;
            }
        };
        let latency = started.elapsed();
        let Some(last) = frame.records.last() else {
            break;
        };
        offset = last.offset + 1;
        let in_range: Vec<&FrameRecord> = frame
            .records
            .iter()
            .filter(|r| r.offset < range.end)
            .collect();
        let granted = budget.claim(in_range.len() as u64);
        let bytes = in_range
            .iter()
            .take(usize::try_from(granted).unwrap_or(usize::MAX))
            .map(|r| stored_size(&r.value, range.format))
            .sum();
        recorder.record(latency, granted, bytes);
        if granted < in_range.len() as u64 {
            break;
        }
        // Top the credit up once half of it is used.
        unacknowledged += frame.records.len() as u64;
        if !top_up(&mut ws, &mut unacknowledged, &recorder, &budget).await {
            break;
        }
    }
    let _ = ws.close(None).await;
}

/// Reads as one socket member of `group` on `topic` until the budget runs out: records go to
/// whichever member owns their partition, so members share the work as the group assigns it.
pub async fn group_consume_worker(
    base_url: Arc<str>,
    topic: Arc<str>,
    group: Arc<str>,
    format: Format,
    budget: Arc<Budget>,
    recorder: Arc<Recorder>,
) {
    let url = ws_url(
        &base_url,
        &format!(
            "/v1/ws/consume?topic={}&group={}&from=earliest&format={}&credit={CREDIT}",
            query_value(&topic),
            query_value(&group),
            format.as_str()
        ),
    );
    let Some(mut ws) = connect_or_stop(&url, &recorder, &budget).await else {
        return;
    };
    let mut unacknowledged = 0u64;
    let mut started = Instant::now();
    while !budget.is_over() {
        // Wake now and then to notice the end of a run whose records went to other members.
        let Ok(message) = tokio::time::timeout(Duration::from_millis(200), next(&mut ws)).await
        else {
            continue;
        };
        let frame = match message {
            Ok(Message::Text(t)) => serde_json::from_str::<Frame>(&t).map_err(|e| e.to_string()),
            Ok(other) => Err(format!("unexpected {other:?}")),
            Err(e) => Err(e),
        };
        let frame = match frame {
            Ok(f) if f.kind == "records" => f,
            Ok(f) if f.kind == "assignment" || f.kind == "committed" => continue,
            other => {
                let e = match other {
                    Ok(f) => f.message.unwrap_or(f.kind),
                    Err(e) => e,
                };
                recorder.record_errors(1, || e);
                budget.stop();
                break;
            }
        };
        let latency = started.elapsed();
        started = Instant::now();
        let granted = budget.claim(frame.records.len() as u64);
        let bytes = frame
            .records
            .iter()
            .take(usize::try_from(granted).unwrap_or(usize::MAX))
            .map(|r| stored_size(&r.value, format))
            .sum();
        recorder.record(latency, granted, bytes);
        unacknowledged += frame.records.len() as u64;
        if !top_up(&mut ws, &mut unacknowledged, &recorder, &budget).await {
            break;
        }
    }
    let _ = ws.close(None).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_switch_scheme_and_escape_the_topic() {
        assert_eq!(
            ws_url("http://127.0.0.1:8080/", "/v1/ws/produce?topic=a"),
            "ws://127.0.0.1:8080/v1/ws/produce?topic=a"
        );
        assert_eq!(ws_url("https://h", "/x"), "wss://h/x");
        assert_eq!(query_value("a b&c"), "a%20b%26c");
    }

    #[test]
    fn json_bodies_are_produce_messages() {
        let body = Body::new(Format::Json, 10, 3);
        let Message::Text(t) = body.message(42) else {
            panic!("not text")
        };
        let v: Value = serde_json::from_str(&t).unwrap();
        assert_eq!(v["type"], "produce");
        assert_eq!(v["id"], 42);
        assert_eq!(v["records"].as_array().unwrap().len(), 3);
    }
}
