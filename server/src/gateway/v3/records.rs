//! v3 produce: `POST /v3/clusters/{c}/topics/{t}/records` (one record, or Confluent's streaming
//! mode) and `POST .../records:batch` (207 multi-status).
//!
//! Streaming mode — a chunked body of concatenated JSON objects — is served incrementally: a
//! reader task parses objects as their bytes arrive and hands each record to the partition's
//! group-commit appender without waiting for the previous one; a writer task awaits the results
//! in order and streams one delivery report per record back, so a long-lived connection keeps
//! many records in flight and reports stay in request order. Once streaming, the status is 200
//! and each report carries its own `error_code`, as Confluent's proxy does. A body that is not
//! JSON at all ends the stream with an error report, since no later object can be found.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest as _, Request, State};
use axum::http::header::{CONTENT_TYPE, TRANSFER_ENCODING};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use runnel_openapi::v3::DataReport;
use runnel_openapi::{ErrorBody, params, v3 as doc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use runnel_schema_registry::registry::{NewSchema, Registry as SchemaRegistry};

use super::rfc3339::{format_rfc3339_ms, parse_rfc3339_ms};
use crate::broker::{Acks, NewRecord, Topic};
use crate::gateway::avro;
use crate::gateway::errors::{Api, GatewayError, log_message, log_status};
use crate::gateway::extract::{
    Body as LimitedBody, Object, Path, Query, lenient_int, parse_json, require_json,
};
use crate::gateway::ingest::{Ingest, Submitted};
use crate::gateway::state::AppState;
use crate::gateway::wire::{AcksParam, HeaderIn, decode_base64, decode_headers, readable_json};

/// Entries one `records:batch` request may hold (`api.v3.produce.batch.maximum.entries`).
const MAX_BATCH_ENTRIES: usize = 10;
/// Records in flight per streaming connection before the reader waits for reports to drain.
const STREAM_IN_FLIGHT: usize = 1024;

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(produce_records))
        .routes(routes!(produce_batch))
}

/// A v3 record.
#[derive(Debug, Deserialize, ToSchema)]
pub struct V3Record {
    /// The partition; default: by the key's hash, else round-robin.
    #[serde(default, deserialize_with = "lenient_int")]
    partition_id: Option<i64>,
    /// ISO-8601 date-time; default: now.
    #[serde(default)]
    #[schema(format = DateTime)]
    timestamp: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<doc::V3Header>)]
    headers: Vec<Object<HeaderIn>>,
    #[serde(default)]
    #[schema(value_type = Option<V3Data>)]
    key: Option<Object<V3Data>>,
    #[serde(default)]
    #[schema(value_type = Option<V3Data>)]
    value: Option<Object<V3Data>>,
}

/// A key or value: `{"type": "BINARY"|"JSON"|"STRING", "data": ...}`, or Avro
/// (`"type": "AVRO"`, or no `type` with `subject`/`schema_id`/`schema_version`/`schema`):
/// `data` in Avro's JSON encoding, encoded with the schema `schema_id` names, else version
/// `schema_version` of the subject, else the registered version of the schema text `schema`,
/// else the subject's latest. The subject is `subject`, default `<topic>-key`/`<topic>-value`
/// (Confluent's TOPIC_NAME strategy, the only one served).
#[derive(Debug, Deserialize, ToSchema)]
pub struct V3Data {
    #[serde(rename = "type", default)]
    #[schema(value_type = Option<doc::DataType>)]
    data_type: Option<String>,
    /// base64 for `BINARY`, a string for `STRING`, any JSON for `JSON`.
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    schema_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    schema_version: Option<i64>,
    /// An Avro schema's text, already registered under the subject.
    #[serde(default)]
    schema: Option<String>,
    /// Only `TOPIC_NAME` is served.
    #[serde(default)]
    subject_name_strategy: Option<String>,
}

/// A failed record.
#[derive(Debug, Serialize)]
pub struct FailureReport {
    error_code: u32,
    message: String,
}

/// What a record's delivery report repeats of it.
#[derive(Debug)]
struct Prepared {
    timestamp: i64,
    key: Option<DataReport>,
    value: Option<DataReport>,
}

/// Bad input in one record: answered 400 in Confluent's words.
fn bad(message: impl std::fmt::Display) -> FailureReport {
    FailureReport {
        error_code: 400,
        message: format!("Bad Request: {message}"),
    }
}

/// Where a record goes and what its schema-based data is checked against.
struct Context<'a> {
    topic: &'a Topic,
    schemas: &'a SchemaRegistry,
}

fn convert_data(
    cx: &Context<'_>,
    d: Option<V3Data>,
    what: &str,
) -> Result<(Option<bytes::Bytes>, Option<DataReport>), FailureReport> {
    let Some(d) = d else {
        return Ok((None, None));
    };
    let data_type = d.data_type.clone().unwrap_or_default().to_ascii_uppercase();
    let schema_based = d.subject.is_some()
        || d.schema_id.is_some()
        || d.schema_version.is_some()
        || d.schema.is_some();
    // Without a type, data is schema-based (CONTRACTS.md: the subject's latest by default).
    let has_data = d.data.as_ref().is_some_and(|v| !v.is_null());
    if data_type == "AVRO" || (data_type.is_empty() && (schema_based || has_data)) {
        return avro_data(cx, d, what);
    }
    if schema_based {
        return Err(bad(format!(
            "{what}: subject, schema_id, schema_version and schema belong to schema-based data, not {data_type}"
        )));
    }
    let bytes = match (data_type.as_str(), d.data) {
        (_, None | Some(Value::Null)) => None,
        ("BINARY", Some(Value::String(s))) => Some(
            decode_base64(&s, what)
                .map_err(|_| bad(format!("data={s} is not a base64 string.")))?,
        ),
        ("BINARY", Some(other)) => {
            return Err(bad(format!("data={other} is not a base64 string.")));
        }
        ("STRING", Some(Value::String(s))) => Some(bytes::Bytes::from(s)),
        ("STRING", Some(other)) => return Err(bad(format!("data={other} is not a string."))),
        ("JSON", Some(v)) => {
            let text = serde_json::to_string(&v).map_err(|e| bad(format!("{what}: {e}")))?;
            readable_json(&text, what).map_err(|e| bad(e.to_string()))?;
            Some(bytes::Bytes::from(text))
        }
        ("JSONSCHEMA" | "PROTOBUF", Some(_)) => {
            return Err(bad(format!(
                "{what}: {data_type} data is not served; use AVRO, JSON, STRING or BINARY"
            )));
        }
        (other, Some(_)) => return Err(bad(format!("{what}: unknown type '{other}'"))),
    };
    let report = DataReport {
        data_type: if data_type.is_empty() {
            "BINARY".into()
        } else {
            data_type
        },
        size: bytes.as_ref().map_or(0, bytes::Bytes::len),
        subject: None,
        schema_id: None,
        schema_version: None,
    };
    Ok((bytes, Some(report)))
}

/// Avro data: the schema as [`V3Data`] says, the JSON encoded in Confluent's framing.
fn avro_data(
    cx: &Context<'_>,
    d: V3Data,
    what: &str,
) -> Result<(Option<bytes::Bytes>, Option<DataReport>), FailureReport> {
    let schemas = cx.schemas;
    if let Some(strategy) = d.subject_name_strategy.as_deref()
        && !strategy.eq_ignore_ascii_case("TOPIC_NAME")
    {
        return Err(bad(format!(
            "{what}: subject_name_strategy {strategy} is not served; name the subject, or use TOPIC_NAME"
        )));
    }
    let subject = d
        .subject
        .clone()
        .unwrap_or_else(|| format!("{}-{what}", cx.topic.name()));
    let schema_error = |e: GatewayError| bad(format!("{what}: {e}"));
    let side = if let Some(id) = d.schema_id {
        avro::by_id(schemas, id).map_err(schema_error)?
    } else if let Some(v) = d.schema_version {
        let v = i32::try_from(v).map_err(|_| bad(format!("{what}: no schema version {v}")))?;
        avro::by_subject(schemas, &subject, Some(v)).map_err(schema_error)?
    } else if let Some(text) = d.schema.as_deref() {
        let found = schemas
            .lookup(&subject, &NewSchema::avro(text), false, false)
            .map_err(|e| {
                bad(format!(
                    "{what}: the schema is not registered under '{subject}' ({e}); register it first"
                ))
            })?;
        avro::by_id(schemas, i64::from(found.id)).map_err(schema_error)?
    } else {
        avro::by_subject(schemas, &subject, None).map_err(schema_error)?
    };
    let version = schemas
        .id_versions(side.id, Some(&subject), true)
        .ok()
        .and_then(|vs| vs.into_iter().map(|(_, v)| v).max());
    let bytes = match d.data {
        None => None,
        Some(data) => {
            let text = data.to_string();
            Some(avro::encode(&text, &side, what).map_err(|e| bad(e.to_string()))?)
        }
    };
    let report = DataReport {
        data_type: "AVRO".into(),
        size: bytes.as_ref().map_or(0, bytes::Bytes::len),
        subject: Some(subject),
        schema_id: Some(side.id),
        schema_version: version,
    };
    Ok((bytes, Some(report)))
}

/// Converts a record's wire form (data types, schemas, headers, timestamp): 400 in Confluent's
/// words when it is not valid.
fn prepare(
    topic: &Topic,
    schemas: &SchemaRegistry,
    r: V3Record,
) -> Result<(Option<i64>, NewRecord, Prepared), FailureReport> {
    let cx = Context { topic, schemas };
    let (key, key_report) = convert_data(&cx, r.key.map(|Object(d)| d), "key")?;
    let (value, value_report) = convert_data(&cx, r.value.map(|Object(d)| d), "value")?;
    let headers = decode_headers(r.headers.into_iter().map(|Object(h)| h).collect())
        .map_err(|e| bad(e.to_string()))?;
    let timestamp = match r.timestamp.as_deref() {
        Some(ts) => parse_rfc3339_ms(ts).map_err(|e| bad(format!("timestamp '{ts}' {e}.")))?,
        None => crate::broker::now_ms(),
    };
    let record = NewRecord {
        timestamp: Some(timestamp),
        key,
        value,
        headers,
    };
    let prepared = Prepared {
        timestamp,
        key: key_report,
        value: value_report,
    };
    Ok((r.partition_id, record, prepared))
}

/// A fault of the ingest pipeline as one record's failure, with the v3 code it maps to.
fn failure(e: &GatewayError) -> FailureReport {
    FailureReport {
        error_code: e.status_and_code().1,
        message: e.to_string(),
    }
}

/// What a record's report waits for.
type Pending = Result<(Prepared, Submitted), FailureReport>;

/// One record (one request, for the sticky partition) through the ingest pipeline.
async fn produce_one(state: &AppState, topic: &Arc<Topic>, r: V3Record, acks: Acks) -> Pending {
    let (partition, record, prepared) = prepare(topic, &state.registry, r)?;
    let mut ingest = Ingest::to(&state.broker, Arc::clone(topic), Api::V3);
    ingest.add(0, partition, record).map_err(|e| failure(&e))?;
    Ok((prepared, ingest.submit(acks).await))
}

/// Awaits a record's offset: its delivery report, or why it failed.
async fn report(
    state: &AppState,
    topic: &str,
    pending: Pending,
) -> Result<doc::DeliveryReport, FailureReport> {
    let (p, partition, offset) = match pending {
        Err(f) => return Err(f),
        Ok((p, submitted)) => match submitted.outcomes().await.pop() {
            Some((partition, Ok(offset))) => (p, partition, offset),
            Some((_, Err(e))) => {
                return Err(FailureReport {
                    error_code: log_status(&e).1,
                    message: log_message(&e),
                });
            }
            None => {
                return Err(failure(&GatewayError::Internal(
                    "a submitted record had no outcome".into(),
                )));
            }
        },
    };
    Ok(doc::DeliveryReport {
        error_code: 200,
        cluster_id: state.broker.cluster_id().to_owned(),
        topic_name: topic.to_owned(),
        partition_id: partition,
        offset,
        timestamp: format_rfc3339_ms(p.timestamp),
        key: p.key,
        value: p.value,
    })
}

/// Awaits a record's offset and renders its report, with the HTTP status single mode answers.
async fn finish(state: &AppState, topic: &str, pending: Pending) -> (StatusCode, Bytes) {
    match report(state, topic, pending).await {
        Ok(report) => (StatusCode::OK, to_bytes(&report)),
        Err(f) => {
            let status = u16::try_from(f.error_code / if f.error_code > 999 { 100 } else { 1 })
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, to_bytes(&f))
        }
    }
}

fn to_bytes(v: &impl Serialize) -> Bytes {
    Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

fn json_response(status: StatusCode, body: Bytes) -> Response {
    (status, [(CONTENT_TYPE, "application/json")], body).into_response()
}

/// Produce a record, or a stream of records.
///
/// One JSON object is one record: the answer is its delivery report, or its error with its own
/// HTTP status. Several concatenated objects (Confluent's streaming mode, usually with
/// `Transfer-Encoding: chunked`) are answered 200 with one report per record, concatenated in
/// request order, each with its own `error_code`.
#[utoipa::path(
    post,
    path = "/v3/clusters/{cluster_id}/topics/{topic}/records",
    operation_id = "v3_produce",
    tag = "v3 produce",
    params(params::TopicPath, crate::gateway::wire::AcksParam),
    request_body(content = V3Record, content_type = "application/json"),
    responses(
        (status = 200, content_type = "application/json", description = "One record: its delivery report (`DeliveryReport`). Several records (a stream): one JSON object per record, concatenated in request order with nothing between them — a sequence of JSON documents, not one — each the record's `DeliveryReport` or, for a record that failed, its `{\"error_code\", \"message\"}` (`ErrorBody`). No schema is given here because a stream is not a single JSON document; both shapes are in `components/schemas`."),
        (status = 400, description = "Malformed JSON, a bad `acks`, or a bad record (400)", body = ErrorBody),
        (status = 404, description = "Unknown cluster (404), topic or partition (40403)", body = ErrorBody),
        (status = 413, description = "A record larger than the topic's `max.message.bytes` (413)", body = ErrorBody),
        (status = 415, description = "Content-Type is not JSON", body = ErrorBody),
        (status = 422, description = "Empty body (422); a record without a key for a compacted topic (42203)", body = ErrorBody),
        (status = 500, description = "The append failed (50002, or 50003 when the disk is full)", body = ErrorBody),
    ),
)]
pub async fn produce_records(
    State(state): State<AppState>,
    Path((cluster_id, topic_name)): Path<(String, String)>,
    Query(acks): Query<AcksParam>,
    axum::Extension(limits): axum::Extension<crate::gateway::Limits>,
    request: Request,
) -> Result<Response, GatewayError> {
    if cluster_id != state.broker.cluster_id() {
        return Err(GatewayError::NotFound);
    }
    require_json(request.headers())?;
    let acks = acks.parse()?;
    let topic = state
        .broker
        .topic_for_produce(&topic_name)
        .map_err(GatewayError::v3)?;
    let chunked = request
        .headers()
        .get(TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        return Ok(stream(state, topic, acks, request.into_body()));
    }
    // Read through the extractor so the router's body limit applies (413 past it).
    let LimitedBody(bytes) = LimitedBody::from_request(request, &()).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(GatewayError::EmptyBody(Api::V3));
    }
    let mut values = serde_json::Deserializer::from_slice(&bytes).into_iter::<Value>();
    let first = values
        .next()
        .transpose()
        .map_err(|e| GatewayError::MalformedJson(format!("Malformed JSON: {e}")))?
        .ok_or(GatewayError::EmptyBody(Api::V3))?;
    let rest: Vec<_> = values.collect();
    if rest.len() >= limits.max_records_per_request {
        return Err(GatewayError::PayloadTooLarge(format!(
            "The request has {} records; at most {} are allowed (limits.max_records_per_request).",
            rest.len() + 1,
            limits.max_records_per_request
        )));
    }
    if rest.is_empty() {
        // One record: failures answer with their own HTTP status.
        let pending = match serde_json::from_value::<Object<V3Record>>(first) {
            Ok(Object(r)) => produce_one(&state, &topic, r, acks).await,
            Err(e) => Err(bad(e)),
        };
        let (status, body) = finish(&state, &topic_name, pending).await;
        return Ok(json_response(status, body));
    }
    // Several concatenated objects in a plain body: the streaming answer, all at once.
    let mut out = Vec::new();
    for v in std::iter::once(Ok(first)).chain(rest) {
        let pending = match v {
            Ok(v) => match serde_json::from_value::<Object<V3Record>>(v) {
                Ok(Object(r)) => produce_one(&state, &topic, r, acks).await,
                Err(e) => Err(bad(e)),
            },
            Err(e) => {
                out.push(to_bytes(&bad(format!("Malformed JSON: {e}"))));
                break;
            }
        };
        out.push(finish(&state, &topic_name, pending).await.1);
    }
    Ok(json_response(StatusCode::OK, Bytes::from(out.concat())))
}

/// Streaming mode: parse objects as they arrive, report each in order.
fn stream(state: AppState, topic: Arc<Topic>, acks: Acks, body: Body) -> Response {
    let (pending_tx, mut pending_rx) = mpsc::channel::<Pending>(STREAM_IN_FLIGHT);
    let (out_tx, out_rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    let max_object = state
        .broker
        .log_config(&topic)
        .max_message_bytes
        .saturating_mul(2)
        + 4096;
    let reader_state = state.clone();
    let reader_topic = Arc::clone(&topic);
    tokio::spawn(async move {
        let mut buf: Vec<u8> = Vec::new();
        let mut data = body.into_data_stream();
        'read: loop {
            let Some(Ok(chunk)) = data.next().await else {
                break;
            };
            buf.extend_from_slice(&chunk);
            loop {
                let mut it = serde_json::Deserializer::from_slice(&buf).into_iter::<Value>();
                match it.next() {
                    Some(Ok(v)) => {
                        let used = it.byte_offset();
                        buf.drain(..used);
                        let pending = match serde_json::from_value::<Object<V3Record>>(v) {
                            Ok(Object(r)) => {
                                produce_one(&reader_state, &reader_topic, r, acks).await
                            }
                            Err(e) => Err(bad(e)),
                        };
                        if pending_tx.send(pending).await.is_err() {
                            break 'read;
                        }
                    }
                    Some(Err(e)) if e.is_eof() => {
                        if buf.len() > max_object {
                            let _ = pending_tx
                                .send(Err(bad("a record is larger than the request limit")))
                                .await;
                            break 'read;
                        }
                        break;
                    }
                    Some(Err(e)) => {
                        let _ = pending_tx
                            .send(Err(bad(format!("Malformed JSON: {e}"))))
                            .await;
                        break 'read;
                    }
                    None => {
                        buf.clear();
                        break;
                    }
                }
            }
        }
    });
    let topic_name = topic.name().to_owned();
    tokio::spawn(async move {
        while let Some(p) = pending_rx.recv().await {
            let (_, report) = finish(&state, &topic_name, p).await;
            if out_tx.send(Ok(report)).await.is_err() {
                break;
            }
        }
    });
    let stream = tokio_stream_from(out_rx);
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response()
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Body of `records:batch`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchRequest {
    /// 1 to 10 entries.
    #[schema(min_items = 1, max_items = 10)]
    entries: Vec<BatchEntry>,
}

/// One entry: a record with a client id.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchEntry {
    /// 1 to 80 characters, distinct within the batch.
    #[schema(value_type = String, min_length = 1, max_length = 80)]
    id: Value,
    #[serde(flatten)]
    record: V3Record,
}

/// Produce up to 10 records, each with a client id: one multi-status answer.
#[utoipa::path(
    post,
    path = "/v3/clusters/{cluster_id}/topics/{topic}/records:batch",
    operation_id = "v3_produce_batch",
    tag = "v3 produce",
    params(params::TopicPath, crate::gateway::wire::AcksParam),
    request_body(content = BatchRequest, content_type = "application/json"),
    responses(
        (status = 207, description = "Each entry's delivery report or error, by id", body = doc::BatchResponse),
        (status = 400, description = "Malformed JSON or a bad `acks` (400)", body = ErrorBody),
        (status = 404, description = "Unknown cluster (404) or topic (40403)", body = ErrorBody),
        (status = 415, description = "Content-Type is not JSON", body = ErrorBody),
        (status = 422, description = "Empty body (422); an empty or too long batch, or ids that are not 1-80 characters or not distinct (42208); wrong shape (42203)", body = ErrorBody),
    ),
)]
pub async fn produce_batch(
    State(state): State<AppState>,
    Path((cluster_id, topic_name)): Path<(String, String)>,
    Query(acks): Query<AcksParam>,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Result<Response, GatewayError> {
    if cluster_id != state.broker.cluster_id() {
        return Err(GatewayError::NotFound);
    }
    require_json(&headers)?;
    let acks = acks.parse()?;
    let topic = state
        .broker
        .topic_for_produce(&topic_name)
        .map_err(GatewayError::v3)?;
    let req: BatchRequest = parse_json(&body, Api::V3)?;
    if req.entries.is_empty() {
        return Err(GatewayError::BatchError("The batch is empty.".into()));
    }
    if req.entries.len() > MAX_BATCH_ENTRIES {
        return Err(GatewayError::BatchError(format!(
            "The batch has {} entries; at most {MAX_BATCH_ENTRIES} are allowed.",
            req.entries.len()
        )));
    }
    let mut seen = BTreeMap::new();
    for e in &req.entries {
        let Value::String(id) = &e.id else {
            return Err(GatewayError::BatchError(format!(
                "Entry id {} must be a string.",
                e.id
            )));
        };
        if id.is_empty() || id.chars().count() > 80 {
            return Err(GatewayError::BatchError(format!(
                "Entry id '{id}' must be 1 to 80 characters."
            )));
        }
        if seen.insert(id.clone(), ()).is_some() {
            return Err(GatewayError::BatchError(format!(
                "Entry ids are not distinct: '{id}' appears twice."
            )));
        }
    }
    let mut pendings = Vec::with_capacity(req.entries.len());
    for e in req.entries {
        let id = e.id.as_str().unwrap_or_default().to_owned();
        let pending = produce_one(&state, &topic, e.record, acks).await;
        pendings.push((id, pending));
    }
    let mut answer = doc::BatchResponse {
        successes: Vec::new(),
        failures: Vec::new(),
    };
    for (id, pending) in pendings {
        match report(&state, &topic_name, pending).await {
            Ok(r) => answer.successes.push(doc::BatchSuccess {
                id,
                cluster_id: r.cluster_id,
                topic_name: r.topic_name,
                partition_id: r.partition_id,
                offset: r.offset,
                timestamp: r.timestamp,
                key: r.key,
                value: r.value,
            }),
            Err(f) => answer.failures.push(doc::BatchFailure {
                id,
                error_code: f.error_code,
                message: f.message,
            }),
        }
    }
    Ok((StatusCode::MULTI_STATUS, Json(answer)).into_response())
}
