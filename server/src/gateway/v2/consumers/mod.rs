//! Confluent REST Proxy v2 consumer instances over HTTP (CONTRACTS.md §1.1):
//! `/consumers/{group}` and `/consumers/{group}/instances/{name}/...`.
//!
//! The handlers parse Confluent's bodies and drive the instance state in
//! [`crate::group::instances`]; the long poll of records is `records.rs`. Every failure is a
//! [`GatewayError`], mapped to Confluent's codes in `errors.rs`.
//!
//! Not owned here: the instance state machine, heartbeats and the reaper (`group/instances.rs`),
//! the group state machine (`group/`).

mod records;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use runnel_openapi::params;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use runnel_schema_registry::registry::Registry as SchemaRegistry;

use crate::clock::{Clock, SystemClock};
use crate::gateway::errors::{Api, ErrorBody, GatewayError};
use crate::gateway::extract::{Body, EmbeddedFormat, Path, kafka_offset, parse_json};
use crate::gateway::links::segment;
use crate::gateway::state::AppState;
use crate::group::instances::{InstanceConfig, InstanceSettings, Instances};
use crate::group::{
    AutoOffsetReset, GroupError, GroupId, OffsetAndMetadata, Subscription, TopicPartition,
};

/// `consumer.request.timeout.ms`: how long a poll waits for records by default.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 1000;
/// `consumer.request.max.bytes`: the most one poll answers.
pub const MAX_REQUEST_BYTES: usize = 64 << 20;
/// The longest wait a poll honours, whatever the client asks.
const MAX_POLL_TIMEOUT_MS: u64 = 30_000;

/// How an instance's records are rendered: chosen at creation, checked against each poll's
/// `Accept`.
#[derive(Debug)]
struct ReadFormat {
    format: EmbeddedFormat,
    /// The schema registry, which the avro format decodes with.
    schemas: Arc<SchemaRegistry>,
}

/// The instances this router serves.
type Registry = Instances<ReadFormat>;

/// Routes of this file; each call has its own registry of instances.
pub fn routes_with(settings: InstanceSettings) -> OpenApiRouter<AppState> {
    routes_with_clock(settings, Arc::new(SystemClock))
}

/// [`routes_with`], with instance idleness measured on `clock`.
fn routes_with_clock(settings: InstanceSettings, clock: Arc<dyn Clock>) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(destroy))
        .routes(routes!(subscribe, get_subscription, unsubscribe))
        .routes(routes!(assign, get_assignments))
        .routes(routes!(records::poll))
        .routes(routes!(commit, get_committed))
        .routes(routes!(seek))
        .routes(routes!(seek_beginning))
        .routes(routes!(seek_end))
        .layer(Extension(Registry::new(settings, clock)))
}

/// A group or instance failure with the v2 codes.
fn v2(e: GroupError) -> GatewayError {
    GatewayError::Group(e, Api::V2)
}

type Result<T, E = GatewayError> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------------------------
// Request and response bodies.

/// Body of `POST /consumers/{group}`; every field is optional.
#[derive(Debug, Deserialize, ToSchema)]
struct CreateRequest {
    /// The instance name; default: generated.
    name: Option<String>,
    /// Legacy alias of `name`.
    id: Option<String>,
    /// `binary` (the default), `json` or `avro`; anything else is refused (42204).
    #[schema(pattern = r"^(binary|json|avro)$")]
    format: Option<String>,
    /// `latest` (the default), `earliest` or `none` (Kafka's older `largest` and `smallest`
    /// too); anything else is refused (42204).
    #[serde(rename = "auto.offset.reset")]
    #[schema(pattern = r"^(earliest|latest|none|smallest|largest)$")]
    auto_offset_reset: Option<String>,
    #[serde(rename = "auto.commit.enable")]
    auto_commit_enable: Option<Value>,
    #[serde(rename = "fetch.min.bytes")]
    fetch_min_bytes: Option<Value>,
    #[serde(rename = "consumer.request.timeout.ms")]
    request_timeout_ms: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
struct CreateResponse {
    instance_id: String,
    base_uri: String,
}

/// A subscription: a non-empty `topics` list or a `topic_pattern` (a regex), not both.
#[derive(Debug, Deserialize, ToSchema)]
struct SubscribeRequest {
    topics: Option<Vec<String>>,
    topic_pattern: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct TopicsResponse {
    topics: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize, Clone, ToSchema)]
struct PartitionRef {
    topic: String,
    partition: u32,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
struct PartitionsBody {
    partitions: Vec<PartitionRef>,
}

#[derive(Debug, Deserialize, ToSchema)]
struct OffsetEntry {
    topic: String,
    partition: u32,
    #[serde(deserialize_with = "kafka_offset")]
    offset: u64,
    metadata: Option<String>,
}

/// Offsets to commit: the last *processed* offset of each partition (the next one is stored).
#[derive(Debug, Deserialize, ToSchema)]
struct CommitRequest {
    offsets: Option<Vec<OffsetEntry>>,
    /// Redpanda's name for the same list.
    partitions: Option<Vec<OffsetEntry>>,
}

#[derive(Debug, Serialize, ToSchema)]
struct CommittedEntry {
    topic: String,
    partition: u32,
    offset: u64,
    metadata: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct CommittedResponse {
    offsets: Vec<CommittedEntry>,
}

#[derive(Debug, Deserialize, ToSchema)]
struct SeekOffset {
    topic: String,
    partition: u32,
    #[serde(deserialize_with = "kafka_offset")]
    offset: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
struct SeekTimestamp {
    topic: String,
    partition: u32,
    timestamp: i64,
}

/// Positions to seek to: by `offsets` or by `timestamps`.
#[derive(Debug, Deserialize, ToSchema)]
struct SeekRequest {
    offsets: Option<Vec<SeekOffset>>,
    timestamps: Option<Vec<SeekTimestamp>>,
}

fn config_str(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn config_num(v: Option<&Value>, name: &str) -> Result<Option<u64>> {
    config_str(v)
        .map(|s| {
            s.trim().parse::<u64>().map_err(|_| {
                GatewayError::InvalidConsumerConfig(format!(
                    "Invalid value '{s}' for {name}: expected a non-negative integer."
                ))
            })
        })
        .transpose()
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn tp(p: &PartitionRef) -> TopicPartition {
    TopicPartition::new(p.topic.clone(), p.partition)
}

/// The body parsed as JSON, or `None` when empty.
fn optional_json<T: for<'a> Deserialize<'a>>(body: &[u8]) -> Result<Option<T>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(None)
    } else {
        Ok(Some(parse_json(body, Api::V2)?))
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers.

/// Create a consumer instance in a group (the body may be empty: every setting has a default).
#[utoipa::path(
    post,
    path = "/consumers/{group}",
    operation_id = "v2_create_consumer",
    tag = "v2 consumers",
    params(params::ConsumerGroupPath),
    request_body(content = Option<CreateRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "The instance and its URL", body = CreateResponse),
        (status = 400, description = "Malformed JSON (400); an invalid group id (40002)", body = ErrorBody),
        (status = 404, description = "No such route: a group segment that is not one (404)", body = ErrorBody),
        (status = 409, description = "An instance of that name exists in the group (40902)", body = ErrorBody),
        (status = 422, description = "A bad setting or format (42204); wrong shape (42203)", body = ErrorBody),
    ),
)]
async fn create(
    State(state): State<AppState>,
    Extension(reg): Extension<Arc<Registry>>,
    Path(group): Path<String>,
    Body(body): Body,
) -> Result<Response> {
    let schemas = Arc::clone(&state.registry);
    let req: CreateRequest = optional_json(&body)?.unwrap_or(CreateRequest {
        name: None,
        id: None,
        format: None,
        auto_offset_reset: None,
        auto_commit_enable: None,
        fetch_min_bytes: None,
        request_timeout_ms: None,
    });
    let group_id = GroupId::new(&group).map_err(v2)?;
    let format = match req.format.as_deref().unwrap_or("binary") {
        "binary" => EmbeddedFormat::Binary,
        "json" => EmbeddedFormat::Json,
        "avro" => EmbeddedFormat::Avro,
        f @ ("jsonschema" | "protobuf") => {
            return Err(GatewayError::InvalidConsumerConfig(format!(
                "The '{f}' consumer format is not served here; use binary, json or avro."
            )));
        }
        other => {
            return Err(GatewayError::InvalidConsumerConfig(format!(
                "Invalid consumer format '{other}': expected binary, json, avro, jsonschema or protobuf."
            )));
        }
    };
    let reset = match req.auto_offset_reset.as_deref() {
        None => AutoOffsetReset::Latest,
        Some(s) => s
            .parse()
            .map_err(|e: GroupError| GatewayError::InvalidConsumerConfig(e.to_string()))?,
    };
    let auto_commit = match config_str(req.auto_commit_enable.as_ref()).as_deref() {
        None => true,
        Some(s) if s.eq_ignore_ascii_case("true") => true,
        Some(s) if s.eq_ignore_ascii_case("false") => false,
        Some(s) => {
            return Err(GatewayError::InvalidConsumerConfig(format!(
                "Invalid value '{s}' for auto.commit.enable: expected true or false."
            )));
        }
    };
    let fetch_min_bytes = config_num(req.fetch_min_bytes.as_ref(), "fetch.min.bytes")?
        .map_or(1, |n| usize::try_from(n).unwrap_or(usize::MAX))
        .clamp(1, MAX_REQUEST_BYTES);
    let request_timeout_ms = config_num(
        req.request_timeout_ms.as_ref(),
        "consumer.request.timeout.ms",
    )?
    .unwrap_or(DEFAULT_REQUEST_TIMEOUT_MS)
    .min(MAX_POLL_TIMEOUT_MS);
    let inst = reg
        .create(
            Arc::clone(&state.groups),
            group_id,
            req.name.or(req.id),
            ReadFormat { format, schemas },
            InstanceConfig {
                reset,
                auto_commit,
                fetch_min_bytes,
                request_timeout_ms,
            },
        )
        .map_err(v2)?;
    let base_uri = format!(
        "{}/consumers/{}/instances/{}",
        state.public_url,
        segment(&group),
        segment(inst.name())
    );
    Ok(axum::Json(CreateResponse {
        instance_id: inst.name().to_owned(),
        base_uri,
    })
    .into_response())
}

/// Destroy a consumer instance.
#[utoipa::path(
    delete,
    path = "/consumers/{group}/instances/{name}",
    operation_id = "v2_delete_consumer",
    tag = "v2 consumers",
    params(params::InstancePath),
    responses(
        (status = 204, description = "Destroyed; a subscribed instance leaves its group"),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
    ),
)]
async fn destroy(
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
) -> Result<Response> {
    reg.destroy(&group, &name).await.map_err(v2)?;
    Ok(no_content())
}

/// Subscribe an instance to topics or a topic pattern.
#[utoipa::path(
    post,
    path = "/consumers/{group}/instances/{name}/subscription",
    operation_id = "v2_subscribe",
    tag = "v2 consumers",
    params(params::InstancePath),
    request_body(content = SubscribeRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "Subscribed: the instance joins its group"),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 422, description = "Empty body (42206) or wrong shape (42203)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
        (status = 409, description = "The instance is assigned partitions by hand, or the body names both `topics` and a `topic_pattern` (40903)", body = ErrorBody),
    ),
)]
async fn subscribe(
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response> {
    let inst = reg.get(&group, &name).map_err(v2)?;
    let req: SubscribeRequest = parse_json(&body, Api::V2)?;
    let subscription = match (req.topics, req.topic_pattern) {
        // The Java consumer's IllegalStateException, which Confluent answers 40903.
        (Some(_), Some(_)) => {
            return Err(v2(GroupError::ExclusiveSubscription {
                why: "the request names both 'topics' and a 'topic_pattern'.",
            }));
        }
        (Some(t), None) if !t.is_empty() => Subscription::topics(t),
        (None, Some(p)) => Subscription::pattern(&p).map_err(v2)?,
        (Some(_) | None, None) => {
            return Err(GatewayError::InvalidRecord(
                "A subscription needs either a non-empty 'topics' list or a 'topic_pattern'."
                    .into(),
            ));
        }
    };
    inst.subscribe(subscription).await.map_err(v2)?;
    Ok(no_content())
}

/// The topics an instance is subscribed to.
#[utoipa::path(
    get,
    path = "/consumers/{group}/instances/{name}/subscription",
    operation_id = "v2_get_subscription",
    tag = "v2 consumers",
    params(params::InstancePath),
    responses(
        (status = 200, description = "The subscribed topics", body = TopicsResponse),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
    ),
)]
async fn get_subscription(
    State(state): State<AppState>,
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
) -> Result<Response> {
    let inst = reg.get(&group, &name).map_err(v2)?;
    let existing: BTreeMap<String, u32> = state
        .broker
        .topics()
        .iter()
        .map(|t| (t.name().to_owned(), t.partition_count()))
        .collect();
    let topics = inst.subscribed_topics(&existing).await;
    Ok(axum::Json(TopicsResponse { topics }).into_response())
}

/// Unsubscribe an instance.
#[utoipa::path(
    delete,
    path = "/consumers/{group}/instances/{name}/subscription",
    operation_id = "v2_unsubscribe",
    tag = "v2 consumers",
    params(params::InstancePath),
    responses(
        (status = 204, description = "Unsubscribed: the instance leaves its group"),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
    ),
)]
async fn unsubscribe(
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
) -> Result<Response> {
    let inst = reg.get(&group, &name).map_err(v2)?;
    inst.unsubscribe().await;
    Ok(no_content())
}

/// Assign partitions to an instance by hand.
#[utoipa::path(
    post,
    path = "/consumers/{group}/instances/{name}/assignments",
    operation_id = "v2_assign",
    tag = "v2 consumers",
    params(params::InstancePath),
    request_body(content = PartitionsBody, content_type = "application/json"),
    responses(
        (status = 204, description = "Assigned"),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 422, description = "Empty body (42206) or wrong shape (42203)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance, topic or partition (40403, 40401, 40402)", body = ErrorBody),
        (status = 409, description = "The instance is subscribed (40903)", body = ErrorBody),
    ),
)]
async fn assign(
    State(state): State<AppState>,
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response> {
    let inst = reg.get(&group, &name).map_err(v2)?;
    let req: PartitionsBody = parse_json(&body, Api::V2)?;
    let partitions: BTreeSet<TopicPartition> = req.partitions.iter().map(tp).collect();
    for p in &partitions {
        state
            .broker
            .partition(&p.topic, p.partition)
            .map_err(GatewayError::v2)?;
    }
    inst.assign(partitions).await.map_err(v2)?;
    Ok(no_content())
}

/// The partitions an instance is assigned.
#[utoipa::path(
    get,
    path = "/consumers/{group}/instances/{name}/assignments",
    operation_id = "v2_get_assignments",
    tag = "v2 consumers",
    params(params::InstancePath),
    responses(
        (status = 200, description = "The partitions the instance reads", body = PartitionsBody),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
    ),
)]
async fn get_assignments(
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
) -> Result<Response> {
    let inst = reg.get(&group, &name).map_err(v2)?;
    let partitions = inst
        .assignment()
        .await
        .into_iter()
        .map(|t| PartitionRef {
            topic: t.topic,
            partition: t.partition,
        })
        .collect();
    Ok(axum::Json(PartitionsBody { partitions }).into_response())
}

/// Commit offsets; an empty body commits every position the instance has read to.
#[utoipa::path(
    post,
    path = "/consumers/{group}/instances/{name}/offsets",
    operation_id = "v2_commit_offsets",
    tag = "v2 consumers",
    params(params::InstancePath),
    request_body(content = Option<CommitRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "Committed", body = Vec<Object>),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
        (status = 409, description = "A partition not assigned to the instance, or subscribe and assign mixed (40903)", body = ErrorBody),
        (status = 422, description = "Wrong shape (42203)", body = ErrorBody),
    ),
)]
async fn commit(
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response> {
    let inst = reg.get(&group, &name).map_err(v2)?;
    let req: Option<CommitRequest> = optional_json(&body)?;
    let offsets = match req.and_then(|r| r.offsets.or(r.partitions)) {
        None => None,
        Some(list) => Some(
            list
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                // The committed offset is the next one to read: Kafka's offsets are `int64`,
                // so the last processed offset can be at most one below the largest.
                let next = i64::try_from(e.offset)
                    .ok()
                    .and_then(|o| o.checked_add(1))
                    .and_then(|o| u64::try_from(o).ok())
                    .ok_or_else(|| {
                        GatewayError::InvalidRecord(format!(
                            "offsets[{i}].offset {} is the largest Kafka offset: no offset follows it to commit.",
                            e.offset
                        ))
                    })?;
                Ok((
                    TopicPartition::new(e.topic, e.partition),
                    OffsetAndMetadata {
                        offset: next,
                        metadata: e.metadata.unwrap_or_default(),
                    },
                ))
            })
            .collect::<Result<_>>()?,
        ),
    };
    inst.commit(offsets).await.map_err(v2)?;
    Ok(axum::Json(Vec::<Value>::new()).into_response())
}

/// The group's committed offsets of some partitions (named in the body, as Confluent's API has it).
#[utoipa::path(
    get,
    path = "/consumers/{group}/instances/{name}/offsets",
    operation_id = "v2_get_committed_offsets",
    tag = "v2 consumers",
    params(params::InstancePath),
    request_body(content = PartitionsBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The committed offsets", body = CommittedResponse),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 422, description = "Empty body (42206) or wrong shape (42203)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
    ),
)]
async fn get_committed(
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response> {
    let inst = reg.get(&group, &name).map_err(v2)?;
    let req: Option<PartitionsBody> = optional_json(&body)?;
    let committed = inst.committed_offsets();
    let wanted: Option<Vec<TopicPartition>> = req.map(|r| r.partitions.iter().map(tp).collect());
    let offsets = match wanted {
        Some(list) => list
            .into_iter()
            .filter_map(|t| {
                committed.get(&t).map(|c| CommittedEntry {
                    topic: t.topic.clone(),
                    partition: t.partition,
                    offset: c.offset,
                    metadata: c.metadata.clone(),
                })
            })
            .collect(),
        None => committed
            .into_iter()
            .map(|(t, c)| CommittedEntry {
                topic: t.topic,
                partition: t.partition,
                offset: c.offset,
                metadata: c.metadata,
            })
            .collect(),
    };
    Ok(axum::Json(CommittedResponse { offsets }).into_response())
}

/// Move positions to offsets or to the first offset at a timestamp.
#[utoipa::path(
    post,
    path = "/consumers/{group}/instances/{name}/positions",
    operation_id = "v2_seek",
    tag = "v2 consumers",
    params(params::InstancePath),
    request_body(content = SeekRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "The positions moved"),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 422, description = "Empty body (42206) or wrong shape (42203)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance (40403), topic or partition (40401, 40402)", body = ErrorBody),
        (status = 409, description = "A partition not assigned to the instance, or subscribe and assign mixed (40903)", body = ErrorBody),
    ),
)]
async fn seek(
    State(state): State<AppState>,
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response> {
    let inst = reg.get(&group, &name).map_err(v2)?;
    let req: SeekRequest = parse_json(&body, Api::V2)?;
    let mut targets = Vec::new();
    for o in req.offsets.unwrap_or_default() {
        targets.push((TopicPartition::new(o.topic, o.partition), o.offset));
    }
    for t in req.timestamps.unwrap_or_default() {
        let p = state
            .broker
            .partition(&t.topic, t.partition)
            .map_err(GatewayError::v2)?;
        let ts = t.timestamp;
        let broker = Arc::clone(&state.broker);
        let off = tokio::task::spawn_blocking(move || {
            crate::group::offsets::reset_target(
                &broker,
                &p,
                crate::group::OffsetResetSpec::Timestamp(ts),
            )
        })
        .await
        .map_err(|e| GatewayError::Internal(e.to_string()))?
        .map_err(v2)?;
        targets.push((TopicPartition::new(t.topic, t.partition), off));
    }
    inst.seek(targets).await.map_err(v2)?;
    Ok(no_content())
}

async fn seek_edge(
    state: AppState,
    reg: Arc<Registry>,
    group: String,
    name: String,
    body: &[u8],
    end: bool,
) -> Result<Response> {
    let inst = reg.get(&group, &name).map_err(v2)?;
    let req: PartitionsBody = parse_json(body, Api::V2)?;
    let parts: Vec<TopicPartition> = req.partitions.iter().map(tp).collect();
    inst.seek_with(parts, |t| {
        let (start, hw) = state.broker.partition(&t.topic, t.partition)?.offsets();
        Ok(if end { hw } else { start })
    })
    .await
    .map_err(v2)?;
    Ok(no_content())
}

/// Move positions to the log start.
#[utoipa::path(
    post,
    path = "/consumers/{group}/instances/{name}/positions/beginning",
    operation_id = "v2_seek_to_beginning",
    tag = "v2 consumers",
    params(params::InstancePath),
    request_body(content = PartitionsBody, content_type = "application/json"),
    responses(
        (status = 204, description = "The positions moved"),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 422, description = "Empty body (42206) or wrong shape (42203)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance (40403), topic or partition (40401, 40402)", body = ErrorBody),
        (status = 409, description = "A partition not assigned to the instance, or subscribe and assign mixed (40903)", body = ErrorBody),
    ),
)]
async fn seek_beginning(
    State(state): State<AppState>,
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response> {
    seek_edge(state, reg, group, name, &body, false).await
}

/// Move positions to the log end.
#[utoipa::path(
    post,
    path = "/consumers/{group}/instances/{name}/positions/end",
    operation_id = "v2_seek_to_end",
    tag = "v2 consumers",
    params(params::InstancePath),
    request_body(content = PartitionsBody, content_type = "application/json"),
    responses(
        (status = 204, description = "The positions moved"),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 422, description = "Empty body (42206) or wrong shape (42203)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance (40403), topic or partition (40401, 40402)", body = ErrorBody),
        (status = 409, description = "A partition not assigned to the instance, or subscribe and assign mixed (40903)", body = ErrorBody),
    ),
)]
async fn seek_end(
    State(state): State<AppState>,
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response> {
    seek_edge(state, reg, group, name, &body, true).await
}

#[cfg(test)]
mod tests;
