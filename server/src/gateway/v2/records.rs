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

use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use runnel_openapi::{ErrorBody, params, v2 as doc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::broker::{Broker, FetchResult, LogError, Partition};
use crate::gateway::errors::{Api, GatewayError};
use crate::gateway::extract::{EmbeddedFormat, Path, Query, accept_format};
use crate::gateway::read::{RecordsJson, held_bytes};
use crate::gateway::read_budget::{self, ReadBudget};
use crate::gateway::slots::{self, RequestSlot};
use crate::gateway::state::AppState;

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
    let mut fetched = read_partition(&state.broker, &p, offset, grant.read_bytes()).await?;
    // Nothing from `offset` to the end (the end itself, or offsets compaction removed): wait for
    // the next record. A read past the end failed above, at once, as Kafka answers such a fetch.
    if fetched.records.is_empty() && timeout > 0 {
        // A waiting read holds no read memory, and takes a long-poll slot, not a request slot
        // (`slots.rs`).
        drop(grant);
        let parked = slots::park(slot.as_deref())?;
        let end = fetched.next_offset;
        // Timing out is the normal empty answer of a long poll.
        let woke = state
            .broker
            .wait_for(&p, end, Duration::from_millis(timeout))
            .await
            > end;
        drop(parked);
        grant = budget.reserve(max_bytes, max_batch).await?;
        if woke {
            fetched = read_partition(&state.broker, &p, end, grant.read_bytes()).await?;
        }
    }
    let records = fetched.records;
    grant.fit(held_bytes(fetched.bytes, &records));
    crate::gateway::metrics::records_out(&topic, records.len(), fetched.bytes);
    let mut json = RecordsJson::new(
        &topic,
        partition,
        records,
        format,
        Arc::clone(&state.registry),
    );
    let first = json.next_chunk()?.unwrap_or_default();
    let body = read_budget::chunked_body(grant, first, move || json.next_chunk().ok().flatten());
    Ok(([(CONTENT_TYPE, format.media_type())], body).into_response())
}

/// One read of the partition, here or at its leader, its errors in the v2 shape.
async fn read_partition(
    broker: &Broker,
    p: &Arc<Partition>,
    offset: u64,
    max_bytes: usize,
) -> Result<FetchResult, GatewayError> {
    broker
        .fetch(p, offset, max_bytes)
        .await
        .map_err(|e| match e {
            LogError::OffsetOutOfRange { .. } => GatewayError::OffsetOutOfRange(e.to_string()),
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
