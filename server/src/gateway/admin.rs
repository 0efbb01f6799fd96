//! v3 admin resources: clusters and topics (Confluent REST Proxy v3 shapes), plus the v2 topic
//! list.
//!
//! Every v3 object carries `kind`, `metadata.self` and `resource_name`, and links to related
//! resources built from the configured public URL, so they stay right behind a proxy.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use runnel_openapi::{ErrorBody, params, v3 as doc};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::errors::{Api, GatewayError};
use super::extract::{Body, Object, Path, parse_json, require_json};
use super::state::AppState;
use crate::broker::Topic;

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clusters))
        .routes(routes!(get_cluster))
        .routes(routes!(list_topics, create_topic))
        .routes(routes!(get_topic, delete_topic))
        .routes(routes!(list_topics_v2))
}

pub(crate) fn related(url: String) -> Value {
    json!({ "related": url })
}

pub(crate) fn check_cluster(state: &AppState, cluster_id: &str) -> Result<(), GatewayError> {
    if cluster_id == state.broker.cluster_id() {
        Ok(())
    } else {
        Err(GatewayError::NotFound)
    }
}

fn cluster_json(state: &AppState) -> Value {
    let c = state.broker.cluster_id();
    let base = format!("{}/v3/clusters/{c}", state.public_url);
    json!({
        "kind": "KafkaCluster",
        "metadata": { "self": base, "resource_name": format!("crn:///kafka={c}") },
        "cluster_id": c,
        "controller": related(format!("{base}/brokers/{}", state.broker.broker_id())),
        "acls": related(format!("{base}/acls")),
        "brokers": related(format!("{base}/brokers")),
        "broker_configs": related(format!("{base}/broker-configs")),
        "consumer_groups": related(format!("{base}/consumer-groups")),
        "topics": related(format!("{base}/topics")),
        "partition_reassignments": related(format!("{base}/topics/-/partitions/-/reassignment")),
    })
}

/// List the clusters: exactly one, this node's.
#[utoipa::path(
    get,
    path = "/v3/clusters",
    operation_id = "v3_list_clusters",
    tag = "v3 clusters",
    responses((status = 200, description = "The one cluster", body = doc::KafkaClusterList)),
)]
pub async fn list_clusters(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "kind": "KafkaClusterList",
        "metadata": { "self": format!("{}/v3/clusters", state.public_url), "next": null },
        "data": [cluster_json(&state)],
    }))
}

/// Describe the cluster.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}",
    operation_id = "v3_get_cluster",
    tag = "v3 clusters",
    params(params::ClusterPath),
    responses(
        (status = 200, description = "The cluster", body = doc::KafkaCluster),
        (status = 404, description = "Not this cluster's id (404)", body = ErrorBody),
    ),
)]
pub async fn get_cluster(
    State(state): State<AppState>,
    Path(cluster_id): Path<String>,
) -> Result<Json<Value>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    Ok(Json(cluster_json(&state)))
}

/// The `KafkaTopic` resource.
pub fn topic_json(state: &AppState, t: &Topic, partitions_count: u32) -> Value {
    let c = state.broker.cluster_id();
    let base = format!("{}/v3/clusters/{c}/topics/{}", state.public_url, t.name());
    json!({
        "kind": "KafkaTopic",
        "metadata": {
            "self": base,
            "resource_name": format!("crn:///kafka={c}/topic={}", t.name()),
        },
        "cluster_id": c,
        "topic_name": t.name(),
        "is_internal": t.is_internal(),
        "replication_factor": 1,
        "partitions_count": partitions_count,
        "partitions": related(format!("{base}/partitions")),
        "configs": related(format!("{base}/configs")),
        "partition_reassignments": related(format!("{base}/partitions/-/reassignment")),
        "authorized_operations": [],
    })
}

/// List the topics.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/topics",
    operation_id = "v3_list_topics",
    tag = "v3 topics",
    params(params::ClusterPath),
    responses(
        (status = 200, description = "Every topic", body = doc::KafkaTopicList),
        (status = 404, description = "Not this cluster's id (404)", body = ErrorBody),
    ),
)]
pub async fn list_topics(
    State(state): State<AppState>,
    Path(cluster_id): Path<String>,
) -> Result<Json<Value>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    let data: Vec<Value> = state
        .broker
        .topics()
        .iter()
        .map(|t| topic_json(&state, t, t.partition_count()))
        .collect();
    Ok(Json(json!({
        "kind": "KafkaTopicList",
        "metadata": {
            "self": format!("{}/v3/clusters/{cluster_id}/topics", state.public_url),
            "next": null,
        },
        "data": data,
    })))
}

/// Describe a topic.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/topics/{topic}",
    operation_id = "v3_get_topic",
    tag = "v3 topics",
    params(params::TopicPath),
    responses(
        (status = 200, description = "The topic", body = doc::KafkaTopic),
        (status = 404, description = "Unknown cluster (404) or topic (40403)", body = ErrorBody),
    ),
)]
pub async fn get_topic(
    State(state): State<AppState>,
    Path((cluster_id, topic)): Path<(String, String)>,
) -> Result<Json<Value>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    let t = state.broker.topic(&topic).map_err(GatewayError::v3)?;
    Ok(Json(topic_json(&state, &t, t.partition_count())))
}

/// Body of `POST /v3/clusters/{cluster_id}/topics`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTopicRequest {
    /// Letters, digits, `.`, `_` and `-`, at most 249 characters (`.` and `..` alone are not
    /// names).
    #[schema(pattern = r"^[a-zA-Z0-9._-]{1,249}$")]
    topic_name: String,
    /// Default: the server's `num_partitions`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10_000)]
    partitions_count: Option<i64>,
    /// 1 (or -1, the default) on this single-node cluster.
    #[serde(default)]
    replication_factor: Option<i64>,
    /// Broker ids by partition (`{"0": [1]}`); fixes the partition count.
    #[serde(default)]
    replicas_assignments: Option<BTreeMap<String, Vec<i64>>>,
    /// Topic config overrides.
    #[serde(default)]
    #[schema(value_type = Vec<ConfigIn>)]
    configs: Vec<Object<ConfigIn>>,
    /// Check the request without creating the topic.
    #[serde(default)]
    validate_only: bool,
}

/// A `{"name", "value"}` config pair.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConfigIn {
    name: String,
    value: Option<String>,
}

/// Create a topic.
///
/// Answers 201 with the topic, or 200 when `validate_only` (nothing is created). A name that is
/// taken or invalid, a bad partition count, replication factor or config is a 400 (40002).
#[utoipa::path(
    post,
    path = "/v3/clusters/{cluster_id}/topics",
    operation_id = "v3_create_topic",
    tag = "v3 topics",
    params(params::ClusterPath),
    request_body(content = CreateTopicRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = doc::KafkaTopic),
        (status = 200, description = "Valid (`validate_only`): nothing created", body = doc::KafkaTopic),
        (status = 400, description = "Malformed JSON (400); topic exists, invalid name, partitions, replication factor or config (40002)", body = ErrorBody),
        (status = 404, description = "Not this cluster's id (404)", body = ErrorBody),
        (status = 415, description = "Content-Type is not JSON", body = ErrorBody),
        (status = 422, description = "Empty body or wrong shape", body = ErrorBody),
    ),
)]
pub async fn create_topic(
    State(state): State<AppState>,
    Path(cluster_id): Path<String>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    require_json(&headers)?;
    let req: CreateTopicRequest = parse_json(&body, Api::V3)?;
    let mut partitions = req.partitions_count;
    let mut replication = req.replication_factor;
    if let Some(assign) = &req.replicas_assignments {
        // Explicit assignments fix both counts; on one node every replica list must be [id].
        partitions = partitions.or(Some(assign.len() as i64));
        if let Some(r) = assign.values().find(|r| r.len() != 1) {
            replication = Some(r.len() as i64);
        }
    }
    let mut configs = BTreeMap::new();
    for Object(c) in req.configs {
        let Some(value) = c.value else {
            return Err(GatewayError::BadRequest(format!(
                "Config '{}' needs a value.",
                c.name
            )));
        };
        configs.insert(c.name, value);
    }
    let broker = state.broker.clone();
    let name = req.topic_name.clone();
    let validate_only = req.validate_only;
    let topic = tokio::task::spawn_blocking(move || {
        broker.create_topic(&name, partitions, replication, configs, validate_only)
    })
    .await
    .map_err(|e| GatewayError::Internal(e.to_string()))?
    .map_err(GatewayError::v3)?;
    let count = partitions.map_or(topic.partition_count(), |p| p as u32);
    let status = if validate_only {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(topic_json(&state, &topic, count))).into_response())
}

/// Delete a topic and its data.
#[utoipa::path(
    delete,
    path = "/v3/clusters/{cluster_id}/topics/{topic}",
    operation_id = "v3_delete_topic",
    tag = "v3 topics",
    params(params::TopicPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "An internal topic (40002)", body = ErrorBody),
        (status = 404, description = "Unknown cluster (404) or topic (40403)", body = ErrorBody),
    ),
)]
pub async fn delete_topic(
    State(state): State<AppState>,
    Path((cluster_id, topic)): Path<(String, String)>,
) -> Result<StatusCode, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    let broker = state.broker.clone();
    tokio::task::spawn_blocking(move || broker.delete_topic(&topic))
        .await
        .map_err(|e| GatewayError::Internal(e.to_string()))?
        .map_err(GatewayError::v3)?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the topic names.
#[utoipa::path(
    get,
    path = "/topics",
    operation_id = "v2_list_topics",
    tag = "v2 metadata",
    responses((status = 200, description = "Topic names", body = Vec<String>, example = json!(["orders", "payments"]))),
)]
pub async fn list_topics_v2(State(state): State<AppState>) -> Json<Vec<String>> {
    Json(state.broker.topic_names())
}
