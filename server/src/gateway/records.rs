//! The stateless read, Redpanda's shape:
//! `GET /topics/{t}/partitions/{p}/records?offset=&max_bytes=&timeout=`.
//!
//! Answers a bare JSON array of records from `offset` on (each with `timestamp` and `headers`,
//! our extension over Confluent's v2 record), in the embedded format named by `Accept`. When
//! nothing at or past `offset` is there yet, it long-polls the partition's high-watermark channel
//! for up to `timeout` ms, so a tailing client gets new records as soon as they are appended.

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use serde::Deserialize;

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

/// Appends one key or value: raw JSON text for the json format (validated without building a
/// tree), a base64 string for the others, `null` for none.
fn write_payload(
    out: &mut Vec<u8>,
    b: Option<&[u8]>,
    format: EmbeddedFormat,
    offset: u64,
) -> Result<(), GatewayError> {
    let Some(b) = b else {
        out.extend_from_slice(b"null");
        return Ok(());
    };
    match format {
        EmbeddedFormat::Json => {
            let raw: &serde_json::value::RawValue = serde_json::from_slice(b).map_err(|_| {
                GatewayError::InvalidRecord(format!(
                    "The record at offset {offset} is not JSON; read it with Accept: application/vnd.kafka.binary.v2+json."
                ))
            })?;
            out.extend_from_slice(raw.get().as_bytes());
        }
        EmbeddedFormat::Binary
        | EmbeddedFormat::Avro
        | EmbeddedFormat::JsonSchema
        | EmbeddedFormat::Protobuf => write_base64(out, b),
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
/// 422 when a record is not valid in the requested format.
pub fn write_records_json(
    out: &mut Vec<u8>,
    topic: &str,
    partition: u32,
    records: &[Record],
    format: EmbeddedFormat,
) -> Result<(), GatewayError> {
    let topic_json = serde_json::to_string(topic).unwrap_or_else(|_| "\"\"".into());
    let mut itoa = itoa::Buffer::new();
    out.push(b'[');
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"topic\":");
        out.extend_from_slice(topic_json.as_bytes());
        out.extend_from_slice(b",\"key\":");
        write_payload(out, r.key.as_deref(), format, r.offset)?;
        out.extend_from_slice(b",\"value\":");
        write_payload(out, r.value.as_deref(), format, r.offset)?;
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
    }
    out.push(b']');
    Ok(())
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
    let mut out = Vec::with_capacity(fetched.batches.len() * 2 + 2);
    write_records_json(&mut out, &topic, partition, &records, format)?;
    super::metrics::records_out(&topic, records.len(), fetched.batches.len());
    Ok(([(CONTENT_TYPE, format.media_type())], out).into_response())
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
