//! v3 admin resources: clusters and topics (Confluent REST Proxy v3 shapes), plus the v2 topic
//! list.
//!
//! Every v3 object carries `kind`, `metadata.self` and `resource_name`, and links to related
//! resources built from the configured public URL, so they stay right behind a proxy.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::{Api, GatewayError};
use super::extract::{Body, parse_json, require_json};
use super::state::AppState;
use crate::broker::Topic;

/// Routes of this file.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3/clusters", get(list_clusters))
        .route("/v3/clusters/{cluster_id}", get(get_cluster))
        .route(
            "/v3/clusters/{cluster_id}/topics",
            get(list_topics).post(create_topic),
        )
        .route(
            "/v3/clusters/{cluster_id}/topics/{topic}",
            get(get_topic).delete(delete_topic),
        )
        .route("/topics", get(list_topics_v2))
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

/// `GET /v3/clusters`.
pub async fn list_clusters(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "kind": "KafkaClusterList",
        "metadata": { "self": format!("{}/v3/clusters", state.public_url), "next": null },
        "data": [cluster_json(&state)],
    }))
}

/// `GET /v3/clusters/{cluster_id}`.
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

/// `GET /v3/clusters/{cluster_id}/topics`.
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

/// `GET /v3/clusters/{cluster_id}/topics/{topic}`.
pub async fn get_topic(
    State(state): State<AppState>,
    Path((cluster_id, topic)): Path<(String, String)>,
) -> Result<Json<Value>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    let t = state.broker.topic(&topic).map_err(GatewayError::v3)?;
    Ok(Json(topic_json(&state, &t, t.partition_count())))
}

/// Body of `POST /v3/clusters/{cluster_id}/topics`.
#[derive(Debug, Deserialize)]
pub struct CreateTopicRequest {
    topic_name: String,
    #[serde(default)]
    partitions_count: Option<i64>,
    #[serde(default)]
    replication_factor: Option<i64>,
    #[serde(default)]
    replicas_assignments: Option<BTreeMap<String, Vec<i64>>>,
    #[serde(default)]
    configs: Vec<ConfigIn>,
    #[serde(default)]
    validate_only: bool,
}

/// A `{"name", "value"}` config pair.
#[derive(Debug, Deserialize)]
pub struct ConfigIn {
    name: String,
    value: Option<String>,
}

/// `POST /v3/clusters/{cluster_id}/topics`: 201 with the topic, 200 when `validate_only`.
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
    for c in req.configs {
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

/// `DELETE /v3/clusters/{cluster_id}/topics/{topic}`: 204.
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

/// `GET /topics` (v2): the topic names.
pub async fn list_topics_v2(State(state): State<AppState>) -> Json<Vec<String>> {
    Json(state.broker.topic_names())
}
