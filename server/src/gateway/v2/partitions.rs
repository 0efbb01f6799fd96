//! v2 partitions (Confluent REST Proxy v2 shapes): `GET /topics/{t}/partitions`,
//! `GET /topics/{t}/partitions/{p}`, `POST /topics/{t}/partitions/{p}` (produce, parsed by
//! `produce.rs`) and `GET /topics/{t}/partitions/{p}/offsets`. The records of a partition are
//! `records.rs`.
//!
//! This node leads every partition and is its only replica, always in sync. Unknown topics
//! answer 40401, unknown partitions 40402; a partition segment that is not a number matches no
//! resource (generic 404, as JAX-RS answers).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use runnel_openapi::{ErrorBody, params, v2 as doc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::produce::{ProduceAnswer, Target, produce};
use super::topics::topic;
use crate::broker::Partition;
use crate::gateway::Limits;
use crate::gateway::errors::GatewayError;
use crate::gateway::extract::{Body, Path, Query, path_id};
use crate::gateway::state::AppState;
use crate::gateway::wire::AcksParam;

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_partitions))
        .routes(routes!(get_partition, produce_to_partition))
        .routes(routes!(get_partition_offsets))
}

/// A partition and its replicas.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartitionV2 {
    partition: u32,
    /// The leader's broker id.
    leader: u32,
    replicas: Vec<ReplicaV2>,
}

/// One replica of a partition.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplicaV2 {
    broker: u32,
    leader: bool,
    in_sync: bool,
}

/// A partition's offsets: the first offset still in the log and the next one to be written.
#[derive(Debug, Serialize, ToSchema)]
pub struct OffsetsV2 {
    beginning_offset: u64,
    end_offset: u64,
}

pub(super) fn partition_v2(state: &AppState, partition: &Partition) -> PartitionV2 {
    let placement = state.broker.placement(partition.topic(), partition.id());
    PartitionV2 {
        partition: partition.id(),
        // Kafka's -1 for an offline partition does not fit the u32 field: 0 names no broker.
        leader: placement.leader.unwrap_or(0),
        replicas: placement
            .replicas
            .iter()
            .map(|&broker| ReplicaV2 {
                broker,
                leader: placement.leader == Some(broker),
                in_sync: placement.isr.contains(&broker),
            })
            .collect(),
    }
}

fn partition(state: &AppState, name: &str, segment: &str) -> Result<Arc<Partition>, GatewayError> {
    let id = path_id(segment)?;
    let t = topic(state, name)?;
    t.partition(id).cloned().map_err(GatewayError::v2)
}

/// List a topic's partitions.
#[utoipa::path(
    get,
    path = "/topics/{topic}/partitions",
    operation_id = "v2_list_partitions",
    tag = "v2 metadata",
    params(params::V2TopicPath),
    responses(
        (status = 200, description = "The partitions", body = Vec<PartitionV2>),
        (status = 404, description = "Unknown topic (40401)", body = ErrorBody),
    ),
)]
pub async fn list_partitions(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Vec<PartitionV2>>, GatewayError> {
    let t = topic(&state, &name)?;
    Ok(Json(
        t.partitions()
            .iter()
            .map(|p| partition_v2(&state, p))
            .collect(),
    ))
}

/// Describe a partition.
#[utoipa::path(
    get,
    path = "/topics/{topic}/partitions/{partition}",
    operation_id = "v2_get_partition",
    tag = "v2 metadata",
    params(params::V2PartitionPath),
    responses(
        (status = 200, description = "The partition", body = PartitionV2),
        (status = 404, description = "Unknown topic (40401) or partition (40402); a partition that is not a number (404)", body = ErrorBody),
    ),
)]
pub async fn get_partition(
    State(state): State<AppState>,
    Path((name, segment)): Path<(String, String)>,
) -> Result<Json<PartitionV2>, GatewayError> {
    let p = partition(&state, &name, &segment)?;
    Ok(Json(partition_v2(&state, &p)))
}

/// Produce records to one partition of a topic (a record's own `partition` still wins).
#[utoipa::path(
    post,
    path = "/topics/{topic}/partitions/{partition}",
    operation_id = "v2_produce_to_partition",
    tag = "v2 produce",
    params(params::V2PartitionPath, AcksParam),
    request_body(
        description = "Records; the embedded format comes from Content-Type (no type or `application/json` is `json`)",
        content(
            (doc::JsonProduceRequest = "application/vnd.kafka.json.v2+json"),
            (doc::BinaryProduceRequest = "application/vnd.kafka.binary.v2+json"),
            (doc::AvroProduceRequest = "application/vnd.kafka.avro.v2+json"),
            (doc::JsonProduceRequest = "application/json"),
        ),
    ),
    responses(
        (status = 200, description = "Each record's partition and offset", body = doc::ProduceResponse),
        (status = 400, description = "Malformed JSON or a bad `acks` (400)", body = ErrorBody),
        (status = 415, description = "Content-Type is not a v2 JSON type, or names a format not served (jsonschema, protobuf)", body = ErrorBody),
        (status = 422, description = "Empty body or no records (42206); a record that is not valid in the format (bad base64, Avro JSON that does not fit its schema), or schema fields outside avro (42203); keys or values without a schema (42201, 42202); an invalid, incompatible or unknown schema (42205)", body = ErrorBody),
        (status = 500, description = "The schema registry's store failed (50001)", body = ErrorBody),
        (status = 404, description = "Unknown topic (40401) or partition (40402); a partition that is not a number (404)", body = ErrorBody),
    ),
)]
pub async fn produce_to_partition(
    State(state): State<AppState>,
    Extension(limits): Extension<Limits>,
    Path((topic, partition)): Path<(String, u32)>,
    Query(acks): Query<AcksParam>,
    headers: HeaderMap,
    body: Body,
) -> Result<ProduceAnswer, GatewayError> {
    let target = Target {
        topic,
        partition: Some(partition),
    };
    produce(state, limits, target, acks.parse()?, headers, body).await
}

/// A partition's beginning and end offsets.
#[utoipa::path(
    get,
    path = "/topics/{topic}/partitions/{partition}/offsets",
    operation_id = "v2_get_partition_offsets",
    tag = "v2 metadata",
    params(params::V2PartitionPath),
    responses(
        (status = 200, description = "The offsets", body = OffsetsV2),
        (status = 404, description = "Unknown topic (40401) or partition (40402); a partition that is not a number (404)", body = ErrorBody),
    ),
)]
pub async fn get_partition_offsets(
    State(state): State<AppState>,
    Path((name, segment)): Path<(String, String)>,
) -> Result<Json<OffsetsV2>, GatewayError> {
    let p = partition(&state, &name, &segment)?;
    let (beginning_offset, end_offset) = state
        .broker
        .list_offsets(&p)
        .await
        .map_err(|e| GatewayError::v2(e.into()))?;
    Ok(Json(OffsetsV2 {
        beginning_offset,
        end_offset,
    }))
}

#[cfg(test)]
mod tests {
    use axum::http::{Method, StatusCode};
    use serde_json::json;

    use crate::gateway::testing::TestGateway;

    #[tokio::test]
    async fn offsets_follow_produce_on_the_shared_paths() {
        let gw = TestGateway::new().await;
        gw.create_topic("t", 2);
        let (status, body) = gw.get("/topics/t/partitions/1/offsets").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({ "beginning_offset": 0, "end_offset": 0 }));

        // POST on the same paths still reaches produce.
        let records = json!({ "records": [{ "value": 1 }, { "value": 2 }, { "value": 3 }] });
        let (status, _) = gw
            .call(Method::POST, "/topics/t/partitions/1", Some(records))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = gw
            .call(
                Method::POST,
                "/topics/t",
                Some(json!({ "records": [{ "value": 1, "partition": 0 }] })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);

        let (_, body) = gw.get("/topics/t/partitions/1/offsets").await;
        assert_eq!(body, json!({ "beginning_offset": 0, "end_offset": 3 }));
        let (_, body) = gw.get("/topics/t/partitions/0/offsets").await;
        assert_eq!(body, json!({ "beginning_offset": 0, "end_offset": 1 }));
    }
}
