//! v2 metadata (Confluent REST Proxy v2 shapes): `GET /topics/{t}`, `GET /topics/{t}/partitions`,
//! `GET /topics/{t}/partitions/{p}`, `GET /topics/{t}/partitions/{p}/offsets` and `GET /brokers`.
//!
//! This node leads every partition and is its only replica, always in sync. A topic's `configs`
//! are its effective values (topic override, else broker default, else Kafka's), as strings,
//! as Confluent's proxy reports them from DescribeConfigs. Unknown topics answer 40401, unknown
//! partitions 40402; a partition segment that is not a number matches no resource (generic 404,
//! as JAX-RS answers).
//!
//! `/topics/{t}` and `/topics/{t}/partitions/{p}` are shared with v2 produce (`produce.rs`
//! registers their POSTs): axum's `Router::merge` combines the method routers of one path, so
//! each file registers only its own methods.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use runnel_openapi::{ErrorBody, params};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::errors::GatewayError;
use super::extract::Path;
use super::partitions::path_id;
use super::state::AppState;
use crate::broker::{Partition, Topic};

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_topic))
        .routes(routes!(list_partitions))
        .routes(routes!(get_partition))
        .routes(routes!(get_partition_offsets))
        .routes(routes!(list_brokers))
}

/// A topic as `GET /topics/{t}` answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopicV2 {
    name: String,
    /// Every topic config's effective value, by name.
    #[schema(value_type = BTreeMap<String, String>)]
    configs: BTreeMap<&'static str, String>,
    partitions: Vec<PartitionV2>,
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

/// The brokers of the cluster.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrokersV2 {
    brokers: Vec<u32>,
}

fn partition_v2(state: &AppState, partition: &Partition) -> PartitionV2 {
    let broker = state.broker.broker_id();
    PartitionV2 {
        partition: partition.id(),
        leader: broker,
        replicas: vec![ReplicaV2 {
            broker,
            leader: true,
            in_sync: true,
        }],
    }
}

fn topic(state: &AppState, name: &str) -> Result<Arc<Topic>, GatewayError> {
    state.broker.topic(name).map_err(GatewayError::v2)
}

fn partition(state: &AppState, name: &str, segment: &str) -> Result<Arc<Partition>, GatewayError> {
    let id = path_id(segment)?;
    let t = topic(state, name)?;
    t.partition(id).cloned().map_err(GatewayError::v2)
}

/// Describe a topic: its effective configs and partitions.
#[utoipa::path(
    get,
    path = "/topics/{topic}",
    operation_id = "v2_get_topic",
    tag = "v2 metadata",
    params(params::V2TopicPath),
    responses(
        (status = 200, description = "The topic", body = TopicV2),
        (status = 404, description = "Unknown topic (40401)", body = ErrorBody),
    ),
)]
pub async fn get_topic(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<TopicV2>, GatewayError> {
    let t = topic(&state, &name)?;
    let configs = t
        .config()
        .describe(state.broker.topic_defaults())
        .into_iter()
        .map(|e| (e.name, e.value))
        .collect();
    Ok(Json(TopicV2 {
        name: t.name().to_owned(),
        configs,
        partitions: t
            .partitions()
            .iter()
            .map(|p| partition_v2(&state, p))
            .collect(),
    }))
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
    let (beginning_offset, end_offset) = p.offsets();
    Ok(Json(OffsetsV2 {
        beginning_offset,
        end_offset,
    }))
}

/// List the broker ids: this node's.
#[utoipa::path(
    get,
    path = "/brokers",
    operation_id = "v2_list_brokers",
    tag = "v2 metadata",
    responses((status = 200, description = "The broker ids", body = BrokersV2)),
)]
pub async fn list_brokers(State(state): State<AppState>) -> Json<BrokersV2> {
    Json(BrokersV2 {
        brokers: vec![state.broker.broker_id()],
    })
}

#[cfg(test)]
mod tests {
    use axum::http::{Method, StatusCode};
    use serde_json::json;

    use crate::gateway::testing::TestGateway;

    #[tokio::test]
    async fn topic_metadata_has_effective_configs_and_partitions() {
        let gw =
            TestGateway::with_defaults([("segment.bytes".to_owned(), "1048576".to_owned())].into())
                .await;
        gw.create_topic("orders", 2);
        gw.broker
            .update_topic_config("orders", false, |c| c.set("retention.ms", "1000"))
            .unwrap();

        let (status, body) = gw.get("/topics/orders").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["name"], "orders");
        assert_eq!(body["configs"]["retention.ms"], "1000");
        assert_eq!(body["configs"]["segment.bytes"], "1048576");
        assert_eq!(body["configs"]["cleanup.policy"], "delete");
        assert_eq!(
            body["configs"].as_object().unwrap().len(),
            crate::broker::topic_config::TOPIC_CONFIGS.len()
        );
        let replica = json!([{ "broker": 1, "leader": true, "in_sync": true }]);
        assert_eq!(
            body["partitions"],
            json!([
                { "partition": 0, "leader": 1, "replicas": replica },
                { "partition": 1, "leader": 1, "replicas": replica },
            ])
        );

        let (status, list) = gw.get("/topics/orders/partitions").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list, body["partitions"]);
        let (status, one) = gw.get("/topics/orders/partitions/1").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(one, body["partitions"][1]);
    }

    #[tokio::test]
    async fn unknown_topic_and_partition_codes() {
        let gw = TestGateway::new().await;
        gw.create_topic("t", 1);
        for uri in [
            "/topics/nope",
            "/topics/nope/partitions",
            "/topics/nope/partitions/0",
            "/topics/nope/partitions/0/offsets",
        ] {
            let (status, body) = gw.get(uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(body["error_code"], 40401, "{uri}");
            assert_eq!(body["message"], "Topic 'nope' not found.");
        }
        for uri in ["/topics/t/partitions/1", "/topics/t/partitions/1/offsets"] {
            let (status, body) = gw.get(uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(body["error_code"], 40402, "{uri}");
        }
        let (status, body) = gw.get("/topics/t/partitions/x").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            json!({ "error_code": 404, "message": "HTTP 404 Not Found" })
        );
    }

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

    #[tokio::test]
    async fn brokers_lists_this_node() {
        let gw = TestGateway::new().await;
        let (status, body) = gw.get("/brokers").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({ "brokers": [1] }));
    }
}
