//! v3 partitions (Confluent REST Proxy v3 shapes): listing a topic's partitions, a partition's
//! offsets, its replicas and reassignments, and growing a topic's partition count with
//! `PATCH /v3/clusters/{c}/topics/{t}` `{"partitions_count": N}`.
//!
//! This node leads every partition and is its only, always in-sync, replica; there are never
//! reassignments in progress, so the reassignment lists are empty and a single partition's
//! reassignment is the generic 404, as Confluent answers when none is ongoing. Unknown topics and
//! partitions answer 40403; a partition or broker segment that is not a number matches no
//! resource (generic 404, as JAX-RS answers).
//!
//! The PATCH shares its path with admin.rs's GET and DELETE: axum's `Router::merge` combines
//! the method routers of one path.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use runnel_openapi::{ErrorBody, params, v3 as doc};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admin::{check_cluster, related, topic_json};
use super::errors::{Api, GatewayError};
use super::extract::{Body, Path, Query, parse_json, require_json};
use super::state::AppState;
use crate::broker::{Partition, Topic};

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update_partitions_count))
        .routes(routes!(list_partitions))
        .routes(routes!(get_partition))
        .routes(routes!(get_partition_offsets))
        .routes(routes!(list_replicas))
        .routes(routes!(get_replica))
        .routes(routes!(get_reassignment))
        .routes(routes!(list_topic_reassignments))
        .routes(routes!(list_all_reassignments))
}

/// A numeric path segment (a partition or broker id). Anything else matches no resource, which
/// Confluent's JAX-RS answers with the generic 404.
///
/// # Errors
/// [`GatewayError::NotFound`] for anything but a `u32`.
pub(crate) fn path_id(segment: &str) -> Result<u32, GatewayError> {
    segment.parse().map_err(|_| GatewayError::NotFound)
}

fn cluster_url(state: &AppState) -> String {
    format!(
        "{}/v3/clusters/{}",
        state.public_url,
        state.broker.cluster_id()
    )
}

fn partition_url(state: &AppState, topic: &str, partition: u32) -> String {
    format!(
        "{}/topics/{topic}/partitions/{partition}",
        cluster_url(state)
    )
}

/// The `KafkaPartition` resource.
pub(crate) fn partition_json(state: &AppState, topic: &str, partition: u32) -> Value {
    let c = state.broker.cluster_id();
    let url = partition_url(state, topic, partition);
    json!({
        "kind": "KafkaPartition",
        "metadata": {
            "self": url,
            "resource_name": format!("crn:///kafka={c}/topic={topic}/partition={partition}"),
        },
        "cluster_id": c,
        "topic_name": topic,
        "partition_id": partition,
        "leader": related(format!("{url}/replicas/{}", state.broker.broker_id())),
        "replicas": related(format!("{url}/replicas")),
        "reassignment": related(format!("{url}/reassignment")),
    })
}

/// The `KafkaReplica` resource of this broker's replica of a partition.
pub(crate) fn replica_json(state: &AppState, topic: &str, partition: u32) -> Value {
    let c = state.broker.cluster_id();
    let b = state.broker.broker_id();
    json!({
        "kind": "KafkaReplica",
        "metadata": {
            "self": format!("{}/replicas/{b}", partition_url(state, topic, partition)),
            "resource_name":
                format!("crn:///kafka={c}/topic={topic}/partition={partition}/replica={b}"),
        },
        "cluster_id": c,
        "topic_name": topic,
        "partition_id": partition,
        "broker_id": b,
        "is_leader": true,
        "is_in_sync": true,
        "broker": related(format!("{}/brokers/{b}", cluster_url(state))),
    })
}

/// A v3 collection: `{"kind", "metadata": {"self", "next": null}, "data"}`.
pub(crate) fn list_json(kind: &str, self_url: String, data: Vec<Value>) -> Value {
    json!({
        "kind": kind,
        "metadata": { "self": self_url, "next": null },
        "data": data,
    })
}

fn v3_topic(state: &AppState, cluster_id: &str, topic: &str) -> Result<Arc<Topic>, GatewayError> {
    check_cluster(state, cluster_id)?;
    state.broker.topic(topic).map_err(GatewayError::v3)
}

fn v3_partition(
    state: &AppState,
    cluster_id: &str,
    topic: &str,
    segment: &str,
) -> Result<Arc<Partition>, GatewayError> {
    check_cluster(state, cluster_id)?;
    let id = path_id(segment)?;
    state
        .broker
        .topic(topic)
        .and_then(|t| t.partition(id).cloned())
        .map_err(GatewayError::v3)
}

/// Body of `PATCH /v3/clusters/{cluster_id}/topics/{topic}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdatePartitionsCountRequest {
    /// The new partition count: more than the topic has, at most 10000.
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
) -> Result<Json<Value>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    require_json(&headers)?;
    let req: UpdatePartitionsCountRequest = parse_json(&body, Api::V3)?;
    let broker = Arc::clone(&state.broker);
    let grown =
        tokio::task::spawn_blocking(move || broker.add_partitions(&topic, req.partitions_count))
            .await
            .map_err(|e| GatewayError::Internal(e.to_string()))?
            .map_err(GatewayError::v3)?;
    Ok(Json(topic_json(&state, &grown, grown.partition_count())))
}

/// List a topic's partitions.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/topics/{topic}/partitions",
    operation_id = "v3_list_partitions",
    tag = "v3 partitions",
    params(params::TopicPath),
    responses(
        (status = 200, description = "The partitions", body = doc::KafkaPartitionList),
        (status = 404, description = "Unknown cluster (404) or topic (40403)", body = ErrorBody),
    ),
)]
pub async fn list_partitions(
    State(state): State<AppState>,
    Path((cluster_id, topic)): Path<(String, String)>,
) -> Result<Json<Value>, GatewayError> {
    let t = v3_topic(&state, &cluster_id, &topic)?;
    let data = t
        .partitions()
        .iter()
        .map(|p| partition_json(&state, t.name(), p.id()))
        .collect();
    let url = format!("{}/topics/{}/partitions", cluster_url(&state), t.name());
    Ok(Json(list_json("KafkaPartitionList", url, data)))
}

/// Describe a partition.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}",
    operation_id = "v3_get_partition",
    tag = "v3 partitions",
    params(params::PartitionPath),
    responses(
        (status = 200, description = "The partition", body = doc::KafkaPartition),
        (status = 404, description = "Unknown cluster (404), topic or partition (40403); a partition that is not a number (404)", body = ErrorBody),
    ),
)]
pub async fn get_partition(
    State(state): State<AppState>,
    Path((cluster_id, topic, segment)): Path<(String, String, String)>,
) -> Result<Json<Value>, GatewayError> {
    let p = v3_partition(&state, &cluster_id, &topic, &segment)?;
    Ok(Json(partition_json(&state, p.topic(), p.id())))
}

/// Query of the partition offsets call.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OffsetParams {
    /// The only type served, and the default.
    #[param(inline, value_type = Option<OffsetType>)]
    offset_type: Option<String>,
}

/// `offset_type` values (Confluent serves only this one).
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum OffsetType {
    EarliestAndLatest,
}

/// The only `offset_type` Confluent serves, and its default.
const EARLIEST_AND_LATEST: &str = "earliest_and_latest";

/// A partition's earliest and latest offsets.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/offset",
    operation_id = "v3_get_partition_offsets",
    tag = "v3 partitions",
    params(params::PartitionPath, OffsetParams),
    responses(
        (status = 200, description = "The earliest and latest offsets", body = doc::KafkaPartitionWithOffsets),
        (status = 400, description = "An `offset_type` other than `earliest_and_latest`, or a bad query string (400)", body = ErrorBody),
        (status = 404, description = "Unknown cluster (404), topic or partition (40403); a partition that is not a number (404)", body = ErrorBody),
    ),
)]
pub async fn get_partition_offsets(
    State(state): State<AppState>,
    Path((cluster_id, topic, segment)): Path<(String, String, String)>,
    Query(params): Query<OffsetParams>,
) -> Result<Json<Value>, GatewayError> {
    let offset_type = params.offset_type.as_deref().unwrap_or(EARLIEST_AND_LATEST);
    if offset_type != EARLIEST_AND_LATEST {
        return Err(GatewayError::BadRequest(format!(
            "offset_type:{offset_type} is invalid"
        )));
    }
    let p = v3_partition(&state, &cluster_id, &topic, &segment)?;
    let (earliest, latest) = p.offsets();
    let c = state.broker.cluster_id();
    let (t, id) = (p.topic(), p.id());
    Ok(Json(json!({
        "kind": "KafkaPartitionWithOffsets",
        "metadata": {
            "self": format!("{}/offset", partition_url(&state, t, id)),
            "resource_name": format!(
                "crn:///kafka={c}/topic={t}/partition={id}/offset_type={EARLIEST_AND_LATEST}"
            ),
        },
        "cluster_id": c,
        "topic_name": t,
        "partition_id": id,
        "earliest_offset": earliest,
        "latest_offset": latest,
    })))
}

/// List a partition's replicas.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/replicas",
    operation_id = "v3_list_replicas",
    tag = "v3 partitions",
    params(params::PartitionPath),
    responses(
        (status = 200, description = "The replicas: this broker's", body = doc::KafkaReplicaList),
        (status = 404, description = "Unknown cluster (404), topic or partition (40403); a partition that is not a number (404)", body = ErrorBody),
    ),
)]
pub async fn list_replicas(
    State(state): State<AppState>,
    Path((cluster_id, topic, segment)): Path<(String, String, String)>,
) -> Result<Json<Value>, GatewayError> {
    let p = v3_partition(&state, &cluster_id, &topic, &segment)?;
    let url = format!("{}/replicas", partition_url(&state, p.topic(), p.id()));
    let data = vec![replica_json(&state, p.topic(), p.id())];
    Ok(Json(list_json("KafkaReplicaList", url, data)))
}

/// Describe one replica of a partition.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/replicas/{broker_id}",
    operation_id = "v3_get_replica",
    tag = "v3 partitions",
    params(params::ReplicaPath),
    responses(
        (status = 200, description = "The replica", body = doc::KafkaReplica),
        (status = 404, description = "Unknown cluster, broker (404), topic or partition (40403)", body = ErrorBody),
    ),
)]
pub async fn get_replica(
    State(state): State<AppState>,
    Path((cluster_id, topic, segment, broker)): Path<(String, String, String, String)>,
) -> Result<Json<Value>, GatewayError> {
    let p = v3_partition(&state, &cluster_id, &topic, &segment)?;
    if path_id(&broker)? != state.broker.broker_id() {
        return Err(GatewayError::NotFound);
    }
    Ok(Json(replica_json(&state, p.topic(), p.id())))
}

/// A partition's reassignment in progress: there never is one, so 404.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/reassignment",
    operation_id = "v3_get_reassignment",
    tag = "v3 partitions",
    params(params::PartitionPath),
    responses(
        (status = 200, description = "The reassignment in progress (never: Runnel has none)", body = doc::KafkaReassignment),
        (status = 404, description = "No reassignment in progress (404), unknown topic or partition (40403)", body = ErrorBody),
    ),
)]
pub async fn get_reassignment(
    State(state): State<AppState>,
    Path((cluster_id, topic, segment)): Path<(String, String, String)>,
) -> Result<Json<Value>, GatewayError> {
    v3_partition(&state, &cluster_id, &topic, &segment)?;
    Err(GatewayError::NotFound)
}

/// A topic's reassignments in progress: always none.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/topics/{topic}/partitions/-/reassignment",
    operation_id = "v3_list_topic_reassignments",
    tag = "v3 partitions",
    params(params::TopicPath),
    responses(
        (status = 200, description = "Always empty", body = doc::KafkaReassignmentList),
        (status = 404, description = "Unknown cluster (404) or topic (40403)", body = ErrorBody),
    ),
)]
pub async fn list_topic_reassignments(
    State(state): State<AppState>,
    Path((cluster_id, topic)): Path<(String, String)>,
) -> Result<Json<Value>, GatewayError> {
    let t = v3_topic(&state, &cluster_id, &topic)?;
    let url = format!(
        "{}/topics/{}/partitions/-/reassignment",
        cluster_url(&state),
        t.name()
    );
    Ok(Json(list_json("KafkaReassignmentList", url, Vec::new())))
}

/// Every reassignment in progress: always none.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/topics/-/partitions/-/reassignment",
    operation_id = "v3_list_all_reassignments",
    tag = "v3 partitions",
    params(params::ClusterPath),
    responses(
        (status = 200, description = "Always empty", body = doc::KafkaReassignmentList),
        (status = 404, description = "Not this cluster's id (404)", body = ErrorBody),
    ),
)]
pub async fn list_all_reassignments(
    State(state): State<AppState>,
    Path(cluster_id): Path<String>,
) -> Result<Json<Value>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    let url = format!("{}/topics/-/partitions/-/reassignment", cluster_url(&state));
    Ok(Json(list_json("KafkaReassignmentList", url, Vec::new())))
}

#[cfg(test)]
mod tests {
    use axum::http::{Method, StatusCode};
    use serde_json::json;

    use crate::gateway::testing::TestGateway;

    #[tokio::test]
    async fn partition_resources_have_confluent_shapes() {
        let gw = TestGateway::new().await;
        gw.create_topic("t", 2);
        let (c, v3) = (gw.cluster_id(), gw.v3());
        let p1 = format!("{v3}/topics/t/partitions/1");

        let (status, body) = gw
            .get(&format!("/v3/clusters/{c}/topics/t/partitions/1"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let partition = json!({
            "kind": "KafkaPartition",
            "metadata": {
                "self": p1,
                "resource_name": format!("crn:///kafka={c}/topic=t/partition=1"),
            },
            "cluster_id": c,
            "topic_name": "t",
            "partition_id": 1,
            "leader": { "related": format!("{p1}/replicas/1") },
            "replicas": { "related": format!("{p1}/replicas") },
            "reassignment": { "related": format!("{p1}/reassignment") },
        });
        assert_eq!(body, partition);

        let (status, list) = gw
            .get(&format!("/v3/clusters/{c}/topics/t/partitions"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["kind"], "KafkaPartitionList");
        assert_eq!(
            list["metadata"],
            json!({ "self": format!("{v3}/topics/t/partitions"), "next": null })
        );
        assert_eq!(list["data"].as_array().unwrap().len(), 2);
        assert_eq!(list["data"][1], partition);

        let replica = json!({
            "kind": "KafkaReplica",
            "metadata": {
                "self": format!("{p1}/replicas/1"),
                "resource_name": format!("crn:///kafka={c}/topic=t/partition=1/replica=1"),
            },
            "cluster_id": c,
            "topic_name": "t",
            "partition_id": 1,
            "broker_id": 1,
            "is_leader": true,
            "is_in_sync": true,
            "broker": { "related": format!("{v3}/brokers/1") },
        });
        let (status, body) = gw
            .get(&format!(
                "/v3/clusters/{c}/topics/t/partitions/1/replicas/1"
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, replica);
        let (status, body) = gw
            .get(&format!("/v3/clusters/{c}/topics/t/partitions/1/replicas"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["kind"], "KafkaReplicaList");
        assert_eq!(body["data"], json!([replica]));
        let (status, _) = gw
            .get(&format!(
                "/v3/clusters/{c}/topics/t/partitions/1/replicas/2"
            ))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn offsets_and_offset_type() {
        let gw = TestGateway::new().await;
        gw.create_topic("t", 1);
        let c = gw.cluster_id();
        let records = json!({ "records": [{ "value": "a" }, { "value": "b" }] });
        let (status, _) = gw.call(Method::POST, "/topics/t", Some(records)).await;
        assert_eq!(status, StatusCode::OK);

        let uri = format!("/v3/clusters/{c}/topics/t/partitions/0/offset");
        let expected = json!({
            "kind": "KafkaPartitionWithOffsets",
            "metadata": {
                "self": format!("{}/topics/t/partitions/0/offset", gw.v3()),
                "resource_name":
                    format!("crn:///kafka={c}/topic=t/partition=0/offset_type=earliest_and_latest"),
            },
            "cluster_id": c,
            "topic_name": "t",
            "partition_id": 0,
            "earliest_offset": 0,
            "latest_offset": 2,
        });
        for query in ["", "?offset_type=earliest_and_latest"] {
            let (status, body) = gw.get(&format!("{uri}{query}")).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, expected);
        }
        let (status, body) = gw.get(&format!("{uri}?offset_type=latest")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({ "error_code": 400, "message": "offset_type:latest is invalid" })
        );
    }

    #[tokio::test]
    async fn unknown_cluster_topic_and_partition() {
        let gw = TestGateway::new().await;
        gw.create_topic("t", 1);
        let c = gw.cluster_id();
        let (status, body) = gw.get("/v3/clusters/other/topics/t/partitions").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            json!({ "error_code": 404, "message": "HTTP 404 Not Found" })
        );
        for uri in [
            format!("/v3/clusters/{c}/topics/nope/partitions"),
            format!("/v3/clusters/{c}/topics/nope/partitions/0"),
            format!("/v3/clusters/{c}/topics/t/partitions/5"),
            format!("/v3/clusters/{c}/topics/t/partitions/5/offset"),
            format!("/v3/clusters/{c}/topics/t/partitions/5/replicas"),
            format!("/v3/clusters/{c}/topics/nope/partitions/-/reassignment"),
        ] {
            let (status, body) = gw.get(&uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(body["error_code"], 40403, "{uri}");
        }
        let (_, body) = gw
            .get(&format!("/v3/clusters/{c}/topics/t/partitions/x"))
            .await;
        assert_eq!(body["error_code"], 404);
    }

    #[tokio::test]
    async fn reassignments_are_empty() {
        let gw = TestGateway::new().await;
        gw.create_topic("t", 1);
        let (c, v3) = (gw.cluster_id(), gw.v3());
        let (status, body) = gw
            .get(&format!(
                "/v3/clusters/{c}/topics/-/partitions/-/reassignment"
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({
                "kind": "KafkaReassignmentList",
                "metadata": {
                    "self": format!("{v3}/topics/-/partitions/-/reassignment"),
                    "next": null,
                },
                "data": [],
            })
        );
        let (status, body) = gw
            .get(&format!(
                "/v3/clusters/{c}/topics/t/partitions/-/reassignment"
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"], json!([]));
        let (status, body) = gw
            .get(&format!(
                "/v3/clusters/{c}/topics/t/partitions/0/reassignment"
            ))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error_code"], 404);
    }

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

        // GET and DELETE on the same path still reach admin.rs.
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
            .create_internal_topic("__internal", 1, std::collections::BTreeMap::new())
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
