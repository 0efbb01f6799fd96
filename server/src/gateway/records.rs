//! The stateless read, Redpanda's shape:
//! `GET /topics/{t}/partitions/{p}/records?offset=&max_bytes=&timeout=`.
//!
//! Answers a bare JSON array of records from `offset` on (each with `timestamp` and `headers`,
//! our extension over Confluent's v2 record), in the embedded format named by `Accept`. When
//! nothing at or past `offset` is there yet, it long-polls the partition's high-watermark channel
//! for up to `timeout` ms, so a tailing client gets new records as soon as they are appended.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::errors::{Api, GatewayError};
use super::extract::{EmbeddedFormat, accept_format};
use super::state::AppState;
use crate::log::{Record, batch};

/// Longest a read may wait for data, whatever the client asks: bounds held connections.
const MAX_TIMEOUT_MS: u64 = 30_000;
/// `max_bytes` when the client names none (Kafka's `fetch.max.bytes` per partition, 1 MiB).
const DEFAULT_MAX_BYTES: usize = 1 << 20;
/// The largest `max_bytes` honoured: one read never buffers more than this.
const MAX_MAX_BYTES: usize = 64 << 20;

/// Query parameters of the stateless read.
#[derive(Debug, Deserialize)]
pub struct ReadParams {
    offset: Option<String>,
    max_bytes: Option<String>,
    timeout: Option<String>,
}

/// A record as v2 reads return it, with our `timestamp` and `headers` extension.
#[derive(Debug, Serialize)]
pub struct RecordOut {
    topic: String,
    key: serde_json::Value,
    value: serde_json::Value,
    partition: u32,
    offset: u64,
    timestamp: i64,
    headers: Vec<HeaderOut>,
}

/// A header as read: `{"key": str, "value": base64|null}`.
#[derive(Debug, Serialize)]
pub struct HeaderOut {
    key: String,
    value: Option<String>,
}

/// Routes of this file.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/topics/{topic}/partitions/{partition}/records",
        get(read_records),
    )
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

fn payload_out(
    b: Option<&[u8]>,
    format: EmbeddedFormat,
    offset: u64,
) -> Result<serde_json::Value, GatewayError> {
    let Some(b) = b else {
        return Ok(serde_json::Value::Null);
    };
    match format {
        EmbeddedFormat::Json => serde_json::from_slice(b).map_err(|_| {
            GatewayError::InvalidRecord(format!(
                "The record at offset {offset} is not JSON; read it with Accept: application/vnd.kafka.binary.v2+json."
            ))
        }),
        EmbeddedFormat::Binary
        | EmbeddedFormat::Avro
        | EmbeddedFormat::JsonSchema
        | EmbeddedFormat::Protobuf => Ok(serde_json::Value::String(
            base64::engine::general_purpose::STANDARD.encode(b),
        )),
    }
}

/// Converts decoded records to the v2 JSON shape.
///
/// # Errors
/// 422 when a record is not valid in the requested format.
pub fn records_out(
    topic: &str,
    partition: u32,
    records: &[Record],
    format: EmbeddedFormat,
) -> Result<Vec<RecordOut>, GatewayError> {
    records
        .iter()
        .map(|r| {
            Ok(RecordOut {
                topic: topic.to_owned(),
                key: payload_out(r.key.as_deref(), format, r.offset)?,
                value: payload_out(r.value.as_deref(), format, r.offset)?,
                partition,
                offset: r.offset,
                timestamp: r.timestamp,
                headers: r
                    .headers
                    .iter()
                    .map(|h| HeaderOut {
                        key: h.key.clone(),
                        value: h
                            .value
                            .as_ref()
                            .map(|v| base64::engine::general_purpose::STANDARD.encode(v)),
                    })
                    .collect(),
            })
        })
        .collect()
}

/// `GET /topics/{topic}/partitions/{partition}/records`.
pub async fn read_records(
    State(state): State<AppState>,
    Path((topic, partition)): Path<(String, u32)>,
    Query(params): Query<ReadParams>,
    headers: HeaderMap,
) -> Result<Response, GatewayError> {
    let format = accept_format(
        &headers,
        EmbeddedFormat::Binary,
        &[EmbeddedFormat::Binary, EmbeddedFormat::Json],
    )?;
    let offset: u64 = parse_param(params.offset.as_deref(), "offset")?
        .ok_or_else(|| GatewayError::BadRequest("Query parameter 'offset' is required.".into()))?;
    let max_bytes = parse_param::<usize>(params.max_bytes.as_deref(), "max_bytes")?
        .unwrap_or(DEFAULT_MAX_BYTES)
        .clamp(1, MAX_MAX_BYTES);
    let timeout = parse_param::<u64>(params.timeout.as_deref(), "timeout")?
        .unwrap_or(0)
        .min(MAX_TIMEOUT_MS);
    let p = state
        .broker
        .partition(&topic, partition)
        .map_err(GatewayError::v2)?;

    let (_, high_watermark) = p.offsets();
    if offset >= high_watermark && timeout > 0 {
        let mut rx = p.subscribe();
        let wait = rx.wait_for(|&hw| hw > offset);
        // Timing out is the normal empty answer of a long poll.
        let _ = tokio::time::timeout(Duration::from_millis(timeout), wait).await;
    }
    let reader = p.clone();
    let fetched = tokio::task::spawn_blocking(move || reader.read(offset, max_bytes))
        .await
        .map_err(|e| GatewayError::Internal(e.to_string()))?
        .map_err(|e| match e {
            crate::log::Error::OffsetOutOfRange { .. } => {
                GatewayError::OffsetOutOfRange(e.to_string())
            }
            other => GatewayError::Broker(crate::broker::Error::Log(other), Api::V2),
        })?;
    let topic_meta = state.broker.topic(&topic).map_err(GatewayError::v2)?;
    let max_batch = state.broker.log_config(&topic_meta).max_batch_bytes();
    let records = decode_readable(&fetched.batches, max_batch, offset)?;
    let out = records_out(&topic, partition, &records, format)?;
    super::metrics::records_out(&topic, out.len(), fetched.batches.len());
    Ok(([(CONTENT_TYPE, format.media_type())], Json(out)).into_response())
}

/// Decodes the records at or past `offset`, stopping at the first batch that fails its check
/// (a CRC mismatch, say): the valid batches before the damage are still served, and the next
/// read, starting at the damaged batch, gets the error. A consumer is never stuck behind damage
/// it has not reached yet.
fn decode_readable(
    buf: &bytes::Bytes,
    max_batch: usize,
    offset: u64,
) -> Result<Vec<Record>, crate::log::Error> {
    let mut out = Vec::new();
    let mut pos = 0;
    for item in batch::Batches::new(buf, max_batch) {
        let mut records = Vec::new();
        let decoded = item.and_then(|(h, _)| {
            batch::decode_batch(&h, &buf.slice(pos..pos + h.size), max_batch, &mut records)
                .map(|()| h.size)
        });
        match decoded {
            Ok(size) => {
                pos += size;
                out.extend(records.into_iter().filter(|r| r.offset >= offset));
            }
            Err(e) if out.is_empty() => return Err(e),
            Err(e) => {
                tracing::error!(cause = %e, position = pos, "stopping a read at a damaged batch");
                break;
            }
        }
    }
    Ok(out)
}
