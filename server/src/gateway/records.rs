//! The stateless read, Redpanda's shape:
//! `GET /topics/{t}/partitions/{p}/records?offset=&max_bytes=&timeout=`.
//!
//! Answers a bare JSON array of records from `offset` on (each with `timestamp` and `headers`,
//! our extension over Confluent's v2 record), in the embedded format named by `Accept`. Offsets
//! that compaction removed are read past, so a client that continues at its last record's
//! offset + 1 never gets `[]` while records exist further on. When no record exists from
//! `offset` to the log end, it long-polls the partition's high-watermark channel for up to
//! `timeout` ms, so a tailing client gets new records as soon as they are appended; an offset
//! past the end is out of range at once, as in Kafka.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use runnel_openapi::{ErrorBody, params, v2 as doc};
use runnel_schema_registry::registry::Registry;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::errors::{Api, GatewayError};
use super::extract::{EmbeddedFormat, Path, Query, accept_format};
use super::read_budget::{self, ReadBudget};
use super::slots::{self, RequestSlot};
use super::state::AppState;
use crate::broker::{FetchResult, Partition};
use crate::log::Record;

/// Longest a read may wait for data, whatever the client asks: bounds held connections.
const MAX_TIMEOUT_MS: u64 = 30_000;
/// `max_bytes` when the client names none (Kafka's `fetch.max.bytes` per partition, 1 MiB).
const DEFAULT_MAX_BYTES: usize = 1 << 20;

/// Query parameters of the stateless read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadParams {
    /// The first offset to read.
    #[param(value_type = u64, required = true)]
    offset: Option<String>,
    /// Most bytes of record batches to answer (default 1 MiB; at most the broker's
    /// `limits.fetch_max_bytes`, 55 MiB by default, are honoured, and fewer when many reads
    /// are in flight; a first batch larger than this is answered whole).
    #[param(value_type = Option<u64>)]
    max_bytes: Option<String>,
    /// Milliseconds to wait for a record when `offset` is the log end (default 0; at most 30000
    /// are honoured).
    #[param(value_type = Option<u64>)]
    timeout: Option<String>,
}

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read_records))
}
fn parse_param<T: std::str::FromStr>(
    v: Option<&str>,
    name: &str,
) -> Result<Option<T>, GatewayError> {
    v.map(|s| {
        s.parse().map_err(|_| {
            GatewayError::BadRequest(format!(
                "Query parameter '{name}' must be a non-negative integer, got '{s}'."
            ))
        })
    })
    .transpose()
}

/// Appends one key or value: raw JSON text for the json format (validated without building a
/// tree, and refused when readers could not parse it back, see `json_value.rs`), a base64
/// string for the others, `null` for none.
fn write_payload(
    out: &mut Vec<u8>,
    b: Option<&[u8]>,
    format: EmbeddedFormat,
    registry: &Registry,
    offset: u64,
) -> Result<(), GatewayError> {
    let Some(b) = b else {
        out.extend_from_slice(b"null");
        return Ok(());
    };
    match format {
        EmbeddedFormat::Json => {
            let unreadable = |why: &str| {
                GatewayError::InvalidRecord(format!(
                    "The record at offset {offset} {why}; read it with Accept: application/vnd.kafka.binary.v2+json, or skip it."
                ))
            };
            let raw: &serde_json::value::RawValue =
                serde_json::from_slice(b).map_err(|_| unreadable("is not JSON"))?;
            super::json_value::check(raw.get())
                .map_err(|e| unreadable(&format!("is JSON that {e}")))?;
            out.extend_from_slice(raw.get().as_bytes());
        }
        EmbeddedFormat::Avro => {
            super::avro::write_json(out, b, registry, offset)?;
        }
        EmbeddedFormat::Binary | EmbeddedFormat::JsonSchema | EmbeddedFormat::Protobuf => {
            write_base64(out, b);
        }
    }
    Ok(())
}

fn write_base64(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'"');
    let start = out.len();
    let len = base64::encoded_len(b.len(), true).unwrap_or(0);
    out.resize(start + len, 0);
    let written = out
        .get_mut(start..)
        .and_then(|dst| {
            base64::engine::general_purpose::STANDARD
                .encode_slice(b, dst)
                .ok()
        })
        .unwrap_or(0);
    out.truncate(start + written);
    out.push(b'"');
}

/// Writes records as the v2 JSON array (with our `timestamp` and `headers`), straight into a
/// byte buffer: reads are the hot path, and building `serde_json::Value`s per record would
/// cost more than the read itself.
///
/// # Errors
/// 422 when a record is not valid in the requested format; `out` then holds a partial array.
pub fn write_records_json(
    out: &mut Vec<u8>,
    topic: &str,
    partition: u32,
    records: &[Record],
    format: EmbeddedFormat,
    registry: &Registry,
) -> Result<(), GatewayError> {
    match write_readable_records_json(out, topic, partition, records, format, registry) {
        (_, None) => Ok(()),
        (_, Some(e)) => Err(e),
    }
}

/// Writes the longest prefix of `records` that renders in `format` as the v2 JSON array, as a
/// Kafka consumer hands out the records before one it cannot deserialize: how many went in,
/// and the error of the record that stopped it. A reader then continues at that record, which
/// fails on its own (naming its offset) until the client skips it, and never costs the records
/// before it.
pub fn write_readable_records_json(
    out: &mut Vec<u8>,
    topic: &str,
    partition: u32,
    records: &[Record],
    format: EmbeddedFormat,
    registry: &Registry,
) -> (usize, Option<GatewayError>) {
    let topic_json = serde_json::to_string(topic).unwrap_or_else(|_| "\"\"".into());
    let mut itoa = itoa::Buffer::new();
    out.push(b'[');
    let mut written = 0;
    let mut failure = None;
    for r in records {
        let start = out.len();
        if written > 0 {
            out.push(b',');
        }
        if let Err(e) = write_record(out, &topic_json, &mut itoa, partition, r, format, registry) {
            out.truncate(start);
            failure = Some(e);
            break;
        }
        written += 1;
    }
    out.push(b']');
    (written, failure)
}

/// Appends one record object of the v2 JSON array.
fn write_record(
    out: &mut Vec<u8>,
    topic_json: &str,
    itoa: &mut itoa::Buffer,
    partition: u32,
    r: &Record,
    format: EmbeddedFormat,
    registry: &Registry,
) -> Result<(), GatewayError> {
    out.extend_from_slice(b"{\"topic\":");
    out.extend_from_slice(topic_json.as_bytes());
    out.extend_from_slice(b",\"key\":");
    write_payload(out, r.key.as_deref(), format, registry, r.offset)?;
    out.extend_from_slice(b",\"value\":");
    write_payload(out, r.value.as_deref(), format, registry, r.offset)?;
    out.extend_from_slice(b",\"partition\":");
    out.extend_from_slice(itoa.format(partition).as_bytes());
    out.extend_from_slice(b",\"offset\":");
    out.extend_from_slice(itoa.format(r.offset).as_bytes());
    out.extend_from_slice(b",\"timestamp\":");
    out.extend_from_slice(itoa.format(r.timestamp).as_bytes());
    out.extend_from_slice(b",\"headers\":[");
    for (k, h) in r.headers.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"key\":");
        let key = serde_json::to_string(&h.key).unwrap_or_else(|_| "\"\"".into());
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b",\"value\":");
        match &h.value {
            Some(v) => write_base64(out, v),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    Ok(())
}

/// A read's records rendered as the v2 JSON array a chunk at a time, so a response waiting on
/// a slow client holds one rendered chunk rather than the whole text (`read_budget.rs`).
struct RecordsJson {
    topic_json: String,
    partition: u32,
    records: std::vec::IntoIter<Record>,
    format: EmbeddedFormat,
    registry: Arc<Registry>,
    itoa: itoa::Buffer,
    /// Whether the first record has been written (a comma goes before every later one).
    started: bool,
    done: bool,
}

impl RecordsJson {
    /// The next chunk of about [`read_budget::CHUNK`] bytes; `None` once the array is closed.
    ///
    /// A record that cannot be written ends the array before it, as a Kafka consumer hands
    /// out the records before one it cannot deserialize: the client gets the records before it
    /// and its next read, starting there, fails on it alone. Only when it is the read's first
    /// record (in the first chunk, before the status is sent) does the read fail (422, naming
    /// its offset).
    fn next_chunk(&mut self) -> Result<Option<Bytes>, GatewayError> {
        if self.done {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(read_budget::CHUNK + 1024);
        if !self.started {
            out.push(b'[');
        }
        while out.len() < read_budget::CHUNK {
            let Some(r) = self.records.next() else {
                out.push(b']');
                self.done = true;
                break;
            };
            let mark = out.len();
            if self.started {
                out.push(b',');
            }
            let written = write_record(
                &mut out,
                &self.topic_json,
                &mut self.itoa,
                self.partition,
                &r,
                self.format,
                &self.registry,
            );
            match written {
                Ok(()) => self.started = true,
                Err(e) if !self.started => return Err(e),
                Err(e) => {
                    tracing::debug!(cause = %e, offset = r.offset, "ending a streamed read before a record it cannot write");
                    out.truncate(mark);
                    out.push(b']');
                    self.done = true;
                    break;
                }
            }
        }
        Ok(Some(Bytes::from(out)))
    }
}

/// Read a partition from an offset, without a consumer.
///
/// Answers the records at or past `offset` (up to `max_bytes`), in the embedded format `Accept`
/// names (`binary` by default). With `timeout`, a read at the log end waits that long for a
/// record. An offset before the log start or past its end is a 400 (40002), at once.
#[utoipa::path(
    get,
    path = "/topics/{topic}/partitions/{partition}/records",
    operation_id = "read_records",
    tag = "stateless read",
    params(params::V2PartitionPath, ReadParams),
    responses(
        (status = 200, description = "The records, possibly none", content(
            (Vec<doc::BinaryRecord> = "application/vnd.kafka.binary.v2+json"),
            (Vec<doc::JsonRecord> = "application/vnd.kafka.json.v2+json"),
            (Vec<doc::JsonRecord> = "application/vnd.kafka.avro.v2+json"),
        )),
        (status = 400, description = "A missing or bad query parameter (400); an offset out of range (40002)", body = ErrorBody),
        (status = 404, description = "Unknown topic (40401) or partition (40402); a partition that is not a number (404)", body = ErrorBody),
        (status = 406, description = "`Accept` names no format this read serves (json, binary, avro)", body = ErrorBody),
        (status = 422, description = "A record is not JSON and `json` was asked for, or not framed Avro of a registered schema and `avro` was (42203)", body = ErrorBody),
        (status = 500, description = "The log is damaged at `offset` (50002)", body = ErrorBody),
    ),
)]
pub async fn read_records(
    State(state): State<AppState>,
    Extension(budget): Extension<ReadBudget>,
    slot: Option<Extension<RequestSlot>>,
    Path((topic, partition)): Path<(String, u32)>,
    Query(params): Query<ReadParams>,
    headers: HeaderMap,
) -> Result<Response, GatewayError> {
    let served = &[
        EmbeddedFormat::Binary,
        EmbeddedFormat::Json,
        EmbeddedFormat::Avro,
    ];
    let format = accept_format(&headers, EmbeddedFormat::Binary, served)?;
    let offset: u64 = parse_param(params.offset.as_deref(), "offset")?
        .ok_or_else(|| GatewayError::BadRequest("Query parameter 'offset' is required.".into()))?;
    let max_bytes = parse_param::<usize>(params.max_bytes.as_deref(), "max_bytes")?
        .unwrap_or(DEFAULT_MAX_BYTES)
        .clamp(1, budget.fetch_max_bytes());
    let timeout = parse_param::<u64>(params.timeout.as_deref(), "timeout")?
        .unwrap_or(0)
        .min(MAX_TIMEOUT_MS);
    let p = state
        .broker
        .partition(&topic, partition)
        .map_err(GatewayError::v2)?;

    let topic_meta = state.broker.topic(&topic).map_err(GatewayError::v2)?;
    let max_batch = state.broker.log_config(&topic_meta).max_batch_bytes();
    // Room in the read-memory budget first: a short budget answers fewer bytes, or waits.
    let mut grant = budget.reserve(max_bytes, max_batch).await?;
    let mut fetched = read_partition(&p, offset, grant.read_bytes()).await?;
    // Nothing from `offset` to the end (the end itself, or offsets compaction removed): wait for
    // the next record. A read past the end failed above, at once, as Kafka answers such a fetch.
    if fetched.records.is_empty() && timeout > 0 {
        // A waiting read holds no read memory, and takes a long-poll slot, not a request slot
        // (`slots.rs`).
        drop(grant);
        let parked = slots::park(slot.as_deref())?;
        let end = fetched.next_offset;
        let mut rx = p.subscribe();
        let wait = rx.wait_for(|&hw| hw > end);
        // Timing out is the normal empty answer of a long poll.
        let woke = tokio::time::timeout(Duration::from_millis(timeout), wait)
            .await
            .is_ok();
        drop(parked);
        grant = budget.reserve(max_bytes, max_batch).await?;
        if woke {
            fetched = read_partition(&p, end, grant.read_bytes()).await?;
        }
    }
    let records = fetched.records;
    grant.fit(held_bytes(fetched.bytes, &records));
    super::metrics::records_out(&topic, records.len(), fetched.bytes);
    let mut json = RecordsJson {
        topic_json: serde_json::to_string(&topic).unwrap_or_else(|_| "\"\"".into()),
        partition,
        records: records.into_iter(),
        format,
        registry: Arc::clone(&state.registry),
        itoa: itoa::Buffer::new(),
        started: false,
        done: false,
    };
    let first = json.next_chunk()?.unwrap_or_default();
    let body = read_budget::chunked_body(grant, first, move || json.next_chunk().ok().flatten());
    Ok(([(CONTENT_TYPE, format.media_type())], body).into_response())
}

/// What a decoded read holds until its answer is written: uncompressed records are slices of
/// the batches, compressed ones own their decompressed bytes, which outweigh the batches.
fn held_bytes(batch_bytes: usize, records: &[Record]) -> usize {
    let payload: usize = records
        .iter()
        .map(|r| {
            r.key.as_ref().map_or(0, bytes::Bytes::len)
                + r.value.as_ref().map_or(0, bytes::Bytes::len)
        })
        .sum();
    batch_bytes.max(payload)
}

/// One read of the partition on a blocking thread, its errors in the v2 shape.
async fn read_partition(
    p: &Arc<Partition>,
    offset: u64,
    max_bytes: usize,
) -> Result<FetchResult, GatewayError> {
    let reader = Arc::clone(p);
    tokio::task::spawn_blocking(move || reader.read(offset, max_bytes))
        .await
        .map_err(|e| GatewayError::Internal(e.to_string()))?
        .map_err(|e| match e {
            crate::log::Error::OffsetOutOfRange { .. } => {
                GatewayError::OffsetOutOfRange(e.to_string())
            }
            other => GatewayError::Broker(crate::broker::Error::Log(other), Api::V2),
        })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::{Method, StatusCode};
    use serde_json::json;

    use crate::gateway::testing::TestGateway;

    /// A read past the log end is out of range at once, whatever `timeout` asks: only a read
    /// at the end waits. (Found by schemathesis: such reads held connections for 30 s.)
    #[tokio::test]
    async fn only_a_read_at_the_log_end_waits() {
        let gw = TestGateway::new().await;
        gw.create_topic("t", 1);
        let records = json!({ "records": [{ "value": 1 }] });
        let (status, _) = gw.call(Method::POST, "/topics/t", Some(records)).await;
        assert_eq!(status, StatusCode::OK);

        let past_end = gw.get("/topics/t/partitions/0/records?offset=5&timeout=600000");
        let (status, body) = tokio::time::timeout(Duration::from_secs(10), past_end)
            .await
            .expect("answered without waiting");
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error_code"], 40002);

        // At the end, the wait ends with the next record.
        let at_end = gw.get("/topics/t/partitions/0/records?offset=1&timeout=30000");
        let produce = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            gw.call(
                Method::POST,
                "/topics/t",
                Some(json!({ "records": [{ "value": 2 }] })),
            )
            .await
        };
        let ((status, body), _) = tokio::join!(at_end, produce);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body[0]["offset"], 1);
    }
}

#[cfg(test)]
#[path = "read_path_tests.rs"]
mod read_path_tests;
