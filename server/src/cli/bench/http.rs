//! The HTTP transport of `runnel bench`: workers that produce with v2 `POST /topics/{t}` and read
//! with the stateless `GET /topics/{t}/partitions/{p}/records`.
//!
//! A produce worker builds its request body once (`batch` records of random values) and sends it
//! again and again, so the client spends its time on HTTP and not on JSON; only a final partial
//! batch under `--records` gets a body of its own. Each worker is one request at a time, so
//! `--concurrency` workers keep that many connections busy. A read worker decodes only each
//! record's offset and value, to count payload bytes.

use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use rand::Rng as _;
use rand::distr::Alphanumeric;
use serde::Deserialize;
use serde_json::Value;

use super::Budget;
use super::report::Recorder;
use crate::cli::client::{Acks, Client, ClientError, Format, ReadRequest};

/// `max_bytes` of each benchmark read.
pub const READ_MAX_BYTES: usize = 1 << 20;
/// `max_bytes` of a group member's poll, which spans all its partitions.
const GROUP_POLL_MAX_BYTES: usize = 4 << 20;
/// How long a group member's poll waits for records (they come at once while the topic has
/// unread ones; the wait only matters for a member with nothing left).
const GROUP_POLL_TIMEOUT_MS: u64 = 200;

/// What every produce request carries.
#[derive(Debug, Clone, Copy)]
pub struct ProduceWorkload {
    pub format: Format,
    pub record_size: usize,
    pub batch: u32,
    pub acks: Acks,
}

/// A v2 produce body of `n` keyless records with random values of `record_size` bytes:
/// base64 of random bytes (binary) or a JSON string of random letters and digits (json).
pub fn produce_body(format: Format, record_size: usize, n: u64) -> Bytes {
    let mut rng = rand::rng();
    let values: Vec<Value> = (0..n)
        .map(|_| match format {
            Format::Binary => {
                let mut bytes = vec![0u8; record_size];
                rng.fill(&mut bytes[..]);
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            Format::Json => Value::String(
                (&mut rng)
                    .sample_iter(Alphanumeric)
                    .take(record_size)
                    .map(char::from)
                    .collect(),
            ),
        })
        .collect();
    let records: Vec<Value> = values
        .into_iter()
        .map(|v| serde_json::json!({ "value": v }))
        .collect();
    Bytes::from(serde_json::json!({ "records": records }).to_string())
}

/// Whether an error ends the whole run: the server is gone or refuses the request as such.
/// Timeouts, throttling (429) and server errors are counted and the run goes on.
fn is_fatal(e: &ClientError) -> bool {
    match e {
        ClientError::Api { status, .. } | ClientError::UnexpectedStatus { status, .. } => {
            (400..500).contains(status) && *status != 429
        }
        ClientError::Connect { .. }
        | ClientError::Decode { .. }
        | ClientError::InvalidUrl { .. }
        | ClientError::NoCluster { .. } => true,
        ClientError::Request { .. } => false,
    }
}

/// Consecutive failed requests after which a worker's run is over, even for retriable errors.
const MAX_CONSECUTIVE_FAILURES: u32 = 10;
/// Pause after a retriable failure, so an overloaded server is not hammered.
const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// One worker's failure streak.
#[derive(Debug, Default)]
struct Failures {
    consecutive: u32,
}

impl Failures {
    fn succeeded(&mut self) {
        self.consecutive = 0;
    }

    /// Counts `e`; stops the whole run when it is fatal or the streak is too long.
    async fn failed(&mut self, recorder: &Recorder, budget: &Budget, e: &ClientError) {
        recorder.record_errors(1, || e.to_string());
        self.consecutive += 1;
        if is_fatal(e) || self.consecutive >= MAX_CONSECUTIVE_FAILURES {
            budget.stop();
        } else {
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }
}

/// Sends produce requests until the budget runs out.
pub async fn produce_worker(
    client: Client,
    topic: Arc<str>,
    workload: ProduceWorkload,
    budget: Arc<Budget>,
    recorder: Arc<Recorder>,
) {
    let full = u64::from(workload.batch);
    let full_body = produce_body(workload.format, workload.record_size, full);
    let mut failures = Failures::default();
    loop {
        let n = budget.claim(full);
        if n == 0 {
            return;
        }
        let body = if n == full {
            full_body.clone()
        } else {
            produce_body(workload.format, workload.record_size, n)
        };
        let started = Instant::now();
        let result = client
            .produce_body(&topic, None, workload.format, body, Some(workload.acks))
            .await;
        let latency = started.elapsed();
        match result {
            Ok(response) => {
                failures.succeeded();
                let failed: Vec<_> = response
                    .offsets
                    .iter()
                    .filter(|o| o.error_code.is_some() || o.offset.is_none())
                    .collect();
                let ok = n - failed.len() as u64;
                recorder.record(latency, ok, ok * workload.record_size as u64);
                if let Some(first) = failed.first() {
                    recorder.record_errors(failed.len() as u64, || {
                        format!(
                            "{} ({})",
                            first.error.as_deref().unwrap_or("no offset returned"),
                            first.error_code.unwrap_or_default()
                        )
                    });
                }
            }
            Err(e) => failures.failed(&recorder, &budget, &e).await,
        }
    }
}

/// The fields a read worker looks at.
#[derive(Debug, Deserialize)]
struct BenchRecord {
    offset: u64,
    #[serde(default)]
    value: Value,
}

/// Payload bytes of a value as stored: decoded base64 (binary) or the JSON text (json).
fn stored_size(value: &Value, format: Format) -> u64 {
    let len = match (value, format) {
        (Value::Null, _) => 0,
        (Value::String(s), Format::Binary) => {
            let padding = s.bytes().rev().take_while(|&b| b == b'=').count();
            (s.len() / 4 * 3).saturating_sub(padding)
        }
        (Value::String(s), Format::Json) => s.len() + 2,
        (other, Format::Binary | Format::Json) => other.to_string().len(),
    };
    len as u64
}

/// One partition's range to read, `[start, end)`.
#[derive(Debug, Clone)]
pub struct ReadRange {
    pub topic: Arc<str>,
    pub partition: u32,
    pub start: u64,
    pub end: u64,
    pub format: Format,
}

/// Reads `range` with stateless reads of [`READ_MAX_BYTES`] until its end or the budget's.
pub async fn consume_worker(
    client: Client,
    range: ReadRange,
    budget: Arc<Budget>,
    recorder: Arc<Recorder>,
) {
    let mut offset = range.start;
    let mut failures = Failures::default();
    while offset < range.end && !budget.is_over() {
        let started = Instant::now();
        let result = client
            .read_as::<BenchRecord>(ReadRequest {
                topic: &range.topic,
                partition: range.partition,
                offset,
                max_bytes: READ_MAX_BYTES,
                timeout_ms: 0,
                format: range.format,
            })
            .await;
        let latency = started.elapsed();
        let records = match result {
            Ok(records) => records,
            Err(e) => {
                failures.failed(&recorder, &budget, &e).await;
                continue;
            }
        };
        failures.succeeded();
        let Some(last) = records.last() else {
            return; // The end came early: retention or a truncation.
        };
        offset = last.offset + 1;
        let in_range: Vec<&BenchRecord> = records.iter().filter(|r| r.offset < range.end).collect();
        let granted = budget.claim(in_range.len() as u64);
        let bytes = in_range
            .iter()
            .take(usize::try_from(granted).unwrap_or(usize::MAX))
            .map(|r| stored_size(&r.value, range.format))
            .sum();
        recorder.record(latency, granted, bytes);
        if granted < in_range.len() as u64 {
            return;
        }
    }
}

/// Polls one member of `group` (a v2 consumer instance subscribed to `topic`) until the budget
/// runs out, then deletes the instance.
pub async fn group_consume_worker(
    client: Client,
    topic: Arc<str>,
    group: Arc<str>,
    format: Format,
    budget: Arc<Budget>,
    recorder: Arc<Recorder>,
) {
    let joined = async {
        let instance = client.create_consumer(&group, format, "earliest").await?;
        if let Err(e) = client.subscribe(&instance, &[&topic]).await {
            let _ = client.delete_consumer(&instance).await;
            return Err(e);
        }
        Ok(instance)
    };
    let instance = match joined.await {
        Ok(i) => i,
        Err(e) => {
            failed_to_start(&recorder, &budget, &e);
            return;
        }
    };
    let mut failures = Failures::default();
    while !budget.is_over() {
        let started = Instant::now();
        let records = match client
            .poll::<BenchRecord>(&instance, GROUP_POLL_TIMEOUT_MS, GROUP_POLL_MAX_BYTES)
            .await
        {
            Ok(records) => records,
            Err(e) => {
                failures.failed(&recorder, &budget, &e).await;
                continue;
            }
        };
        failures.succeeded();
        if records.is_empty() {
            continue;
        }
        let latency = started.elapsed();
        let granted = budget.claim(records.len() as u64);
        let bytes = records
            .iter()
            .take(usize::try_from(granted).unwrap_or(usize::MAX))
            .map(|r| stored_size(&r.value, format))
            .sum();
        recorder.record(latency, granted, bytes);
    }
    let _ = client.delete_consumer(&instance).await;
}

fn failed_to_start(recorder: &Recorder, budget: &Budget, e: &ClientError) {
    recorder.record_errors(1, || e.to_string());
    budget.stop();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn produce_bodies_hold_values_of_the_requested_size() {
        for format in [Format::Binary, Format::Json] {
            let body = produce_body(format, 100, 3);
            let parsed: Value = serde_json::from_slice(&body).unwrap();
            let records = parsed["records"].as_array().unwrap();
            assert_eq!(records.len(), 3);
            for r in records {
                assert_eq!(r.as_object().unwrap().len(), 1, "only a value: {r}");
                let stored = stored_size(&r["value"], format);
                let expected = match format {
                    Format::Binary => 100,
                    Format::Json => 102,
                };
                assert_eq!(stored, expected);
            }
        }
    }

    #[test]
    fn stored_sizes_undo_base64_padding() {
        let b64 =
            |n: usize| Value::from(base64::engine::general_purpose::STANDARD.encode(vec![7u8; n]));
        for n in [0, 1, 2, 3, 4, 100] {
            assert_eq!(stored_size(&b64(n), Format::Binary), n as u64);
        }
        assert_eq!(stored_size(&Value::Null, Format::Json), 0);
        assert_eq!(stored_size(&serde_json::json!({"a":1}), Format::Json), 7);
    }

    #[test]
    fn only_request_shaped_failures_end_the_run() {
        let api = |status| ClientError::Api {
            status,
            error_code: i64::from(status) * 100,
            message: String::new(),
        };
        assert!(is_fatal(&api(404)));
        assert!(!is_fatal(&api(429)));
        assert!(!is_fatal(&api(500)));
        assert!(is_fatal(&ClientError::Connect {
            base: "http://x".into(),
            reason: "refused".into()
        }));
        assert!(!is_fatal(&ClientError::Request {
            url: "http://x".into(),
            reason: "timed out".into()
        }));
    }
}
