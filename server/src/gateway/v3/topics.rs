//! v3 topics (Confluent REST Proxy v3 shapes): `/v3/clusters/{c}/topics` (list, create) and
//! `/v3/clusters/{c}/topics/{t}` (describe, delete, and `PATCH {"partitions_count": N}` to grow
//! the partition count).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use runnel_openapi::{ErrorBody, params, v3 as doc};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_cluster, collection, related, resource};
use crate::broker::Topic;
use crate::gateway::errors::{Api, GatewayError};
use crate::gateway::extract::{Body, Object, Path, parse_json, require_json};
use crate::gateway::state::AppState;

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_topics, create_topic))
        .routes(routes!(get_topic, delete_topic, update_partitions_count))
}

/// The `KafkaTopic` resource.
fn kafka_topic(state: &AppState, t: &Topic, partitions_count: u32) -> doc::KafkaTopic {
    let c = state.broker.cluster_id();
    let base = format!("{}/v3/clusters/{c}/topics/{}", state.public_url, t.name());
    doc::KafkaTopic {
        kind: "KafkaTopic".to_owned(),
        metadata: resource(base.clone(), format!("crn:///kafka={c}/topic={}", t.name())),
        cluster_id: c.to_owned(),
        topic_name: t.name().to_owned(),
        is_internal: t.is_internal(),
        replication_factor: 1,
        partitions_count,
        partitions: related(format!("{base}/partitions")),
        configs: related(format!("{base}/configs")),
        partition_reassignments: related(format!("{base}/partitions/-/reassignment")),
        authorized_operations: Vec::new(),
    }
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
) -> Result<Json<doc::KafkaTopicList>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    let data = state
        .broker
        .topics()
        .iter()
        .map(|t| kafka_topic(&state, t, t.partition_count()))
        .collect();
    Ok(Json(doc::KafkaTopicList {
        kind: "KafkaTopicList".to_owned(),
        metadata: collection(format!(
            "{}/v3/clusters/{cluster_id}/topics",
            state.public_url
        )),
        data,
    }))
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
) -> Result<Json<doc::KafkaTopic>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    let t = state.broker.topic(&topic).map_err(GatewayError::v3)?;
    Ok(Json(kafka_topic(&state, &t, t.partition_count())))
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
    Ok((status, Json(kafka_topic(&state, &topic, count))).into_response())
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

/// Body of `PATCH /v3/clusters/{cluster_id}/topics/{topic}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdatePartitionsCountRequest {
    /// The new partition count: more than the topic has, at most 10000.
    #[schema(minimum = 1, maximum = 10_000)]
    partitions_count: i64,
}

/// Grow a topic's partition count.
///
/// Answers the topic. A count not larger than the current one, or an internal topic, is a 400
/// (40002); nothing changes.
#[utoipa::path(
    patch,
    path = "/v3/clusters/{cluster_id}/topics/{topic}",
    operation_id = "v3_update_partitions_count",
    tag = "v3 topics",
    params(params::TopicPath),
    request_body(content = UpdatePartitionsCountRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The grown topic", body = doc::KafkaTopic),
        (status = 400, description = "Malformed JSON (400); not more partitions, too many, or an internal topic (40002)", body = ErrorBody),
        (status = 404, description = "Unknown cluster (404) or topic (40403)", body = ErrorBody),
        (status = 415, description = "Content-Type is not JSON", body = ErrorBody),
        (status = 422, description = "Empty body or wrong shape", body = ErrorBody),
    ),
)]
pub async fn update_partitions_count(
    State(state): State<AppState>,
    Path((cluster_id, topic)): Path<(String, String)>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Json<doc::KafkaTopic>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    require_json(&headers)?;
    let req: UpdatePartitionsCountRequest = parse_json(&body, Api::V3)?;
    let broker = Arc::clone(&state.broker);
    let grown =
        tokio::task::spawn_blocking(move || broker.add_partitions(&topic, req.partitions_count))
            .await
            .map_err(|e| GatewayError::Internal(e.to_string()))?
            .map_err(GatewayError::v3)?;
    Ok(Json(kafka_topic(&state, &grown, grown.partition_count())))
}

#[cfg(test)]
mod tests {
    use axum::http::{Method, StatusCode};
    use serde_json::json;

    use crate::gateway::testing::TestGateway;

    #[tokio::test]
    async fn patch_grows_partitions_and_survives_reopen() {
        let gw = TestGateway::new().await;
        gw.create_topic("t", 2);
        let c = gw.cluster_id();
        let uri = format!("/v3/clusters/{c}/topics/t");

        let (status, body) = gw
            .call(Method::PATCH, &uri, Some(json!({ "partitions_count": 4 })))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["kind"], "KafkaTopic");
        assert_eq!(body["partitions_count"], 4);

        // The new partitions take records and show up everywhere.
        let (status, _) = gw
            .call(
                Method::POST,
                "/topics/t/partitions/3",
                Some(json!({ "records": [{ "value": 1 }] })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, list) = gw.get(&format!("{uri}/partitions")).await;
        assert_eq!(list["data"].as_array().unwrap().len(), 4);
        let (_, v2) = gw.get("/topics/t/partitions").await;
        assert_eq!(v2.as_array().unwrap().len(), 4);

        // Fewer or as many: Kafka's InvalidPartitionsException, nothing changes.
        let (status, body) = gw
            .call(Method::PATCH, &uri, Some(json!({ "partitions_count": 3 })))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({
                "error_code": 40002,
                "message": "Topic currently has 4 partitions, which is higher than the requested 3.",
            })
        );
        let (status, body) = gw
            .call(Method::PATCH, &uri, Some(json!({ "partitions_count": 4 })))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({ "error_code": 40002, "message": "Topic already has 4 partitions." })
        );
        let (status, body) = gw
            .call(
                Method::PATCH,
                &uri,
                Some(json!({ "partitions_count": 1_000_000 })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error_code"], 40002);
        let (status, body) = gw
            .call(
                Method::PATCH,
                &format!("/v3/clusters/{c}/topics/nope"),
                Some(json!({ "partitions_count": 4 })),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error_code"], 40403);

        // GET and DELETE on the same path still reach this file.
        let (status, body) = gw.get(&uri).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["partitions_count"], 4);

        let gw = gw.reopen().await;
        let (status, body) = gw.get(&uri).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["partitions_count"], 4);
        let (_, offsets) = gw.get("/topics/t/partitions/3/offsets").await;
        assert_eq!(offsets, json!({ "beginning_offset": 0, "end_offset": 1 }));
        let (status, _) = gw.call(Method::DELETE, &uri, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }

    #[tokio::test]
    async fn internal_topics_keep_their_partition_count() {
        let gw = TestGateway::new().await;
        gw.broker
            .create_internal_topic(
                "__internal",
                1,
                std::collections::BTreeMap::new(),
                crate::broker::Spread::Across,
            )
            .unwrap();
        let c = gw.cluster_id();
        let (status, body) = gw
            .call(
                Method::PATCH,
                &format!("/v3/clusters/{c}/topics/__internal"),
                Some(json!({ "partitions_count": 2 })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error_code"], 40002);
        assert_eq!(gw.broker.topic("__internal").unwrap().partition_count(), 1);
    }
}
