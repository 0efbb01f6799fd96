//! v2 topics (Confluent REST Proxy v2 shapes): `GET /topics` (the names), `GET /topics/{t}` and
//! `POST /topics/{t}` (produce, parsed by `produce.rs`).
//!
//! This node leads every partition and is its only replica, always in sync. A topic's `configs`
//! are its effective values (topic override, else broker default, else Kafka's), as strings,
//! as Confluent's proxy reports them from DescribeConfigs. Unknown topics answer 40401.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use runnel_openapi::{ErrorBody, params, v2 as doc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::partitions::{PartitionV2, partition_v2};
use super::produce::{ProduceAnswer, Target, produce};
use crate::broker::Topic;
use crate::gateway::Limits;
use crate::gateway::errors::GatewayError;
use crate::gateway::extract::{Body, Path, Query};
use crate::gateway::state::AppState;
use crate::gateway::wire::AcksParam;

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_topics))
        .routes(routes!(get_topic, produce_to_topic))
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

pub(super) fn topic(state: &AppState, name: &str) -> Result<Arc<Topic>, GatewayError> {
    state.broker.topic(name).map_err(GatewayError::v2)
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

/// List the topic names.
#[utoipa::path(
    get,
    path = "/topics",
    operation_id = "v2_list_topics",
    tag = "v2 metadata",
    responses((status = 200, description = "Topic names", body = Vec<String>, example = json!(["orders", "payments"]))),
)]
pub async fn list_topics(State(state): State<AppState>) -> Json<Vec<String>> {
    Json(state.broker.topic_names())
}

/// Produce records to a topic.
///
/// A record goes to its own `partition` if it names one, else to the partition its key hashes
/// to, else round-robin. The whole request is checked before anything is written. A partition
/// whose append fails reports the error on each of its records, with HTTP 200.
#[utoipa::path(
    post,
    path = "/topics/{topic}",
    operation_id = "v2_produce",
    tag = "v2 produce",
    params(params::V2TopicPath, AcksParam),
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
        (status = 404, description = "Unknown topic (40401) or a record's unknown partition (40402)", body = ErrorBody),
    ),
)]
pub async fn produce_to_topic(
    State(state): State<AppState>,
    Extension(limits): Extension<Limits>,
    Path(topic): Path<String>,
    Query(acks): Query<AcksParam>,
    headers: HeaderMap,
    body: Body,
) -> Result<ProduceAnswer, GatewayError> {
    let target = Target {
        topic,
        partition: None,
    };
    produce(state, limits, target, acks.parse()?, headers, body).await
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
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
}
