//! Runnel's OpenAPI 3.1 document: its skeleton and the schema types the gateway's handlers share.
//!
//! The document is assembled in the server, not here: each handler carries its own
//! `#[utoipa::path]`, and the gateway registers handlers with `utoipa-axum`'s `OpenApiRouter`, so
//! the routes it serves and the paths it documents are one list. This crate holds what does not
//! belong to any one handler:
//!
//! - [`skeleton`]: `info` (title, version, description), `servers` and the `tags` every operation
//!   is filed under ([`tags`]);
//! - [`ErrorBody`]: Confluent's `{"error_code", "message"}`, the body of every 4xx and 5xx;
//! - [`v3`]: the Confluent REST Proxy v3 resources (`KafkaTopic`, `KafkaPartition`, ...) the
//!   admin handlers answer with, and [`v2`]: the records the stateless read answers with, the
//!   produce requests and the produce answer;
//! - [`cluster`]: Runnel's own cluster status (`GET /v1/cluster`), which the CLI reads back;
//! - [`audit`]: the delivery audit's windows, summary and client reports (`/v1/audit`);
//! - [`sizes`]: the on-disk sizes of the topics a broker holds (`GET /v1/topics/sizes`);
//! - `openapi.json` beside this crate: the generated document, committed. A test in the server
//!   (`gateway::openapi_doc`) fails when it differs from what the code generates.
//!
//! The gateway answers with these types and the CLI (`server/src/cli/client`) reads them back,
//! so the document, the server and the client share one definition. `server` depends on this
//! crate, never the reverse.

pub mod audit;
pub mod cluster;
pub mod params;
pub mod sizes;
pub mod v2;
pub mod v3;

use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

/// The tags operations are filed under, in the order the skeleton lists them.
pub mod tags {
    pub const V2_METADATA: &str = "v2 metadata";
    pub const V2_PRODUCE: &str = "v2 produce";
    pub const V2_CONSUMERS: &str = "v2 consumers";
    pub const RECORDS: &str = "stateless read";
    pub const V3_CLUSTERS: &str = "v3 clusters";
    pub const V3_TOPICS: &str = "v3 topics";
    pub const V3_PARTITIONS: &str = "v3 partitions";
    pub const V3_CONFIGS: &str = "v3 configs";
    pub const V3_BROKERS: &str = "v3 brokers";
    pub const V3_PRODUCE: &str = "v3 produce";
    pub const V3_GROUPS: &str = "v3 consumer groups";
    pub const CLUSTER: &str = "cluster";
    pub const AUDIT: &str = "audit";
    pub const OPERATIONS: &str = "operations";
}

/// Media types of the Confluent REST Proxy v2 embedded formats.
pub mod media {
    pub const JSON: &str = "application/json";
    pub const V2_JSON: &str = "application/vnd.kafka.json.v2+json";
    pub const V2_BINARY: &str = "application/vnd.kafka.binary.v2+json";
}

/// The body of every error: Confluent's envelope. `error_code` is the HTTP status times 100
/// plus a sub-code (40401 topic not found, 42206 empty body, ...), or the bare HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({ "error_code": 40401, "message": "Topic 'orders' not found." }))]
pub struct ErrorBody {
    pub error_code: u32,
    pub message: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Runnel",
        description = "Runnel is a partitioned commit log with an HTTP gateway that speaks the \
            Confluent REST Proxy API: v2 metadata, produce and consumers (embedded formats \
            `json`, `binary` and `avro`), v3 clusters, brokers, topics, configs, partitions and produce, and a \
            stateless read of a partition (Redpanda's shape), WebSocket produce and consume, and \
            the Confluent Schema Registry API. Every error answers \
            `{\"error_code\", \"message\"}` with Confluent's codes.\n\n\
            Any operation may answer 429 when `limits.max_concurrent_requests` requests are \
            already in flight, and any request body larger than `limits.max_request_body` \
            is refused with 413."
    ),
    servers((url = "/", description = "The server that serves this document")),
    tags(
        (name = "v2 metadata", description = "Confluent REST Proxy v2: topics, partitions, offsets and brokers."),
        (name = "v2 produce", description = "Confluent REST Proxy v2 produce, embedded formats `json`, `binary` and `avro`."),
        (name = "v2 consumers", description = "Confluent REST Proxy v2 consumer instances: subscribe or assign, poll records, commit and seek."),
        (name = "stateless read", description = "Read a partition from an offset without a consumer (Redpanda's HTTP proxy shape)."),
        (name = "v3 clusters", description = "Confluent REST Proxy v3: the cluster (always exactly one)."),
        (name = "v3 topics", description = "Confluent REST Proxy v3: create, list, describe, grow and delete topics."),
        (name = "v3 partitions", description = "Confluent REST Proxy v3: partitions, their offsets, replicas and reassignments."),
        (name = "v3 configs", description = "Confluent REST Proxy v3: describe and alter topic configs."),
        (name = "v3 brokers", description = "Confluent REST Proxy v3: brokers, their configs and replicas."),
        (name = "v3 produce", description = "Confluent REST Proxy v3 produce: one record, a stream of records, or a batch."),
        (name = "v3 consumer groups", description = "Confluent REST Proxy v3: consumer groups, their members, assignments and lag; resetting their offsets."),
        (name = "cluster", description = "Runnel's own view of the cluster: the controller, the metadata log and every registered broker, fenced or not; the on-disk sizes of the topics a broker holds."),
        (name = "audit", description = "The delivery audit: per topic and window of record time, each tier's count and checksum (client reports, the gateway, the log, each consumer group) and the auditor's verdict."),
        (name = "operations", description = "Health, readiness, metrics and this document."),
    ),
    components(schemas(ErrorBody, v3::DeliveryReport))
)]
struct Skeleton;

/// The document before any path is added: info, servers, tags, the shared [`ErrorBody`] and
/// [`v3::DeliveryReport`] (which the streaming `records` answer names but cannot reference).
pub fn skeleton() -> utoipa::openapi::OpenApi {
    Skeleton::openapi()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeleton_lists_every_tag_constant() {
        let doc = skeleton();
        let names: Vec<String> = doc
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.name)
            .collect();
        let constants = [
            tags::V2_METADATA,
            tags::V2_PRODUCE,
            tags::V2_CONSUMERS,
            tags::RECORDS,
            tags::V3_CLUSTERS,
            tags::V3_TOPICS,
            tags::V3_PARTITIONS,
            tags::V3_CONFIGS,
            tags::V3_BROKERS,
            tags::V3_PRODUCE,
            tags::V3_GROUPS,
            tags::CLUSTER,
            tags::AUDIT,
            tags::OPERATIONS,
        ];
        assert_eq!(names, constants);
        assert_eq!(doc.info.title, "Runnel");
    }
}
