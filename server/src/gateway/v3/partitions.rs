//! v3 partitions (Confluent REST Proxy v3 shapes): `/v3/clusters/{c}/topics/{t}/partitions/...`
//! — a topic's partitions, a partition's offsets, its replicas and reassignments.
//!
//! This node leads every partition and is its only, always in-sync, replica; there are never
//! reassignments in progress, so the reassignment lists are empty and a single partition's
//! reassignment is the generic 404, as Confluent answers when none is ongoing. Unknown topics and
//! partitions answer 40403; a partition or broker segment that is not a number matches no
//! resource (generic 404, as JAX-RS answers).
//! Growing a topic's partition count is a `PATCH` of the topic (`topics.rs`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use runnel_openapi::{ErrorBody, params, v3 as doc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_cluster, cluster_url, collection, related, resource};
use crate::broker::{Partition, Topic};
use crate::gateway::errors::GatewayError;
use crate::gateway::extract::{Path, Query, path_id};
use crate::gateway::state::AppState;

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_partitions))
        .routes(routes!(get_partition))
        .routes(routes!(get_partition_offsets))
        .routes(routes!(list_replicas))
        .routes(routes!(get_replica))
        .routes(routes!(get_reassignment))
        .routes(routes!(list_topic_reassignments))
        .routes(routes!(list_all_reassignments))
}

fn partition_url(state: &AppState, topic: &str, partition: u32) -> String {
    format!(
        "{}/topics/{topic}/partitions/{partition}",
        cluster_url(state)
    )
}

/// The `KafkaPartition` resource.
fn kafka_partition(state: &AppState, topic: &str, partition: u32) -> doc::KafkaPartition {
    let c = state.broker.cluster_id();
    let url = partition_url(state, topic, partition);
    doc::KafkaPartition {
        kind: "KafkaPartition".to_owned(),
        metadata: resource(
            url.clone(),
            format!("crn:///kafka={c}/topic={topic}/partition={partition}"),
        ),
        cluster_id: c.to_owned(),
        topic_name: topic.to_owned(),
        partition_id: partition,
        leader: state
            .broker
            .placement(topic, partition)
            .leader
            .map(|b| related(format!("{url}/replicas/{b}"))),
        replicas: related(format!("{url}/replicas")),
        reassignment: related(format!("{url}/reassignment")),
    }
}

/// The `KafkaReplica` resource of broker `b`'s replica of a partition.
pub(crate) fn kafka_replica(
    state: &AppState,
    topic: &str,
    partition: u32,
    b: u32,
) -> doc::KafkaReplica {
    let c = state.broker.cluster_id();
    let placement = state.broker.placement(topic, partition);
    doc::KafkaReplica {
        kind: "KafkaReplica".to_owned(),
        metadata: resource(
            format!("{}/replicas/{b}", partition_url(state, topic, partition)),
            format!("crn:///kafka={c}/topic={topic}/partition={partition}/replica={b}"),
        ),
        cluster_id: c.to_owned(),
        topic_name: topic.to_owned(),
        partition_id: partition,
        broker_id: b,
        is_leader: placement.leader == Some(b),
        is_in_sync: placement.isr.contains(&b),
        broker: related(format!("{}/brokers/{b}", cluster_url(state))),
    }
}

/// An empty `KafkaReassignmentList` at `url`: Runnel never has a reassignment in progress.
fn no_reassignments(url: String) -> doc::KafkaReassignmentList {
    doc::KafkaReassignmentList {
        kind: "KafkaReassignmentList".to_owned(),
        metadata: collection(url),
        data: Vec::new(),
    }
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
) -> Result<Json<doc::KafkaPartitionList>, GatewayError> {
    let t = v3_topic(&state, &cluster_id, &topic)?;
    let data = t
        .partitions()
        .iter()
        .map(|p| kafka_partition(&state, t.name(), p.id()))
        .collect();
    let url = format!("{}/topics/{}/partitions", cluster_url(&state), t.name());
    Ok(Json(doc::KafkaPartitionList {
        kind: "KafkaPartitionList".to_owned(),
        metadata: collection(url),
        data,
    }))
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
) -> Result<Json<doc::KafkaPartition>, GatewayError> {
    let p = v3_partition(&state, &cluster_id, &topic, &segment)?;
    Ok(Json(kafka_partition(&state, p.topic(), p.id())))
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
) -> Result<Json<doc::KafkaPartitionWithOffsets>, GatewayError> {
    let offset_type = params.offset_type.as_deref().unwrap_or(EARLIEST_AND_LATEST);
    if offset_type != EARLIEST_AND_LATEST {
        return Err(GatewayError::BadRequest(format!(
            "offset_type:{offset_type} is invalid"
        )));
    }
    let p = v3_partition(&state, &cluster_id, &topic, &segment)?;
    let (earliest, latest) = state
        .broker
        .list_offsets(&p)
        .await
        .map_err(|e| GatewayError::v3(e.into()))?;
    let c = state.broker.cluster_id();
    let (t, id) = (p.topic(), p.id());
    Ok(Json(doc::KafkaPartitionWithOffsets {
        kind: "KafkaPartitionWithOffsets".to_owned(),
        metadata: resource(
            format!("{}/offset", partition_url(&state, t, id)),
            format!("crn:///kafka={c}/topic={t}/partition={id}/offset_type={EARLIEST_AND_LATEST}"),
        ),
        cluster_id: c.to_owned(),
        topic_name: t.to_owned(),
        partition_id: id,
        earliest_offset: earliest,
        latest_offset: latest,
    }))
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
) -> Result<Json<doc::KafkaReplicaList>, GatewayError> {
    let p = v3_partition(&state, &cluster_id, &topic, &segment)?;
    let url = format!("{}/replicas", partition_url(&state, p.topic(), p.id()));
    let data = state
        .broker
        .placement(p.topic(), p.id())
        .replicas
        .into_iter()
        .map(|b| kafka_replica(&state, p.topic(), p.id(), b))
        .collect();
    Ok(Json(doc::KafkaReplicaList {
        kind: "KafkaReplicaList".to_owned(),
        metadata: collection(url),
        data,
    }))
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
) -> Result<Json<doc::KafkaReplica>, GatewayError> {
    let p = v3_partition(&state, &cluster_id, &topic, &segment)?;
    let b = path_id(&broker)?;
    if !state
        .broker
        .placement(p.topic(), p.id())
        .replicas
        .contains(&b)
    {
        return Err(GatewayError::NotFound);
    }
    Ok(Json(kafka_replica(&state, p.topic(), p.id(), b)))
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
) -> Result<Json<doc::KafkaReassignment>, GatewayError> {
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
) -> Result<Json<doc::KafkaReassignmentList>, GatewayError> {
    let t = v3_topic(&state, &cluster_id, &topic)?;
    let url = format!(
        "{}/topics/{}/partitions/-/reassignment",
        cluster_url(&state),
        t.name()
    );
    Ok(Json(no_reassignments(url)))
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
) -> Result<Json<doc::KafkaReassignmentList>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    let url = format!("{}/topics/-/partitions/-/reassignment", cluster_url(&state));
    Ok(Json(no_reassignments(url)))
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
}
