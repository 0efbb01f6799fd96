//! `GET /v1/topics/sizes`: the bytes on disk of every topic and partition this broker holds a
//! log of, read from the logs' segment sizes (no I/O). Confluent's REST API has no size
//! endpoint; Kafka answers the same question with DescribeLogDirs, per broker. Here too each
//! broker knows only its own logs: in a cluster the answer is the answering broker's share, and a
//! follower's log of a partition is empty until replication exists.

use axum::Json;
use axum::extract::State;
use runnel_openapi::sizes::{PartitionSize, TopicSize, TopicSizes};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::gateway::state::AppState;

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(topic_sizes))
}

/// The on-disk size of every topic and partition, as held by the broker that answers.
///
/// Each broker reports only its own logs: in a cluster, ask each broker (or add up their
/// answers) for the whole; a partition led elsewhere shows this broker's copy.
#[utoipa::path(
    get,
    path = "/v1/topics/sizes",
    operation_id = "topic_sizes",
    tag = "cluster",
    responses((status = 200, description = "Sizes of the answering broker's logs, topics by name", body = TopicSizes)),
)]
pub async fn topic_sizes(State(state): State<AppState>) -> Json<TopicSizes> {
    let mut topics: Vec<TopicSize> = state
        .broker
        .topics()
        .iter()
        .map(|t| {
            let partitions: Vec<PartitionSize> = t
                .partitions()
                .iter()
                .map(|p| PartitionSize {
                    partition_id: p.id(),
                    size_bytes: p.size(),
                })
                .collect();
            TopicSize {
                topic_name: t.name().to_owned(),
                size_bytes: partitions.iter().map(|p| p.size_bytes).sum(),
                partitions,
            }
        })
        .collect();
    topics.sort_by(|a, b| a.topic_name.cmp(&b.topic_name));
    Json(TopicSizes {
        broker_id: state.broker.broker_id(),
        topics,
    })
}

#[cfg(test)]
mod tests {
    use axum::http::{Method, StatusCode};
    use serde_json::json;

    use crate::gateway::testing::TestGateway;

    #[tokio::test]
    async fn sizes_grow_with_records_per_partition() {
        let gw = TestGateway::new().await;
        gw.create_topic("empty", 1);
        gw.create_topic("t", 2);
        let records = json!({ "records": [{ "value": "a", "partition": 1 }, { "value": "b", "partition": 1 }] });
        let (status, _) = gw.call(Method::POST, "/topics/t", Some(records)).await;
        assert_eq!(status, StatusCode::OK);

        let (status, body) = gw.get("/v1/topics/sizes").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["broker_id"], 1);
        let topics = body["topics"].as_array().expect("topics");
        let find = |name: &str| {
            topics
                .iter()
                .find(|t| t["topic_name"] == name)
                .unwrap_or_else(|| panic!("{name} listed: {body}"))
        };
        assert_eq!(
            find("empty")["partitions"],
            json!([{ "partition_id": 0, "size_bytes": 0 }])
        );
        let t = find("t");
        assert_eq!(t["partitions"][0]["size_bytes"], 0);
        let written = t["partitions"][1]["size_bytes"].as_u64().expect("a size");
        assert!(written > 0, "two records take bytes: {t}");
        assert_eq!(t["size_bytes"], written);
        let names: Vec<&str> = topics
            .iter()
            .filter_map(|t| t["topic_name"].as_str())
            .collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "topics by name");
    }
}
