//! Runnel's own topic sizes, `GET /v1/topics/sizes`: the bytes on disk of each topic and
//! partition held by the answering broker, as Kafka's DescribeLogDirs reports them (Confluent's
//! REST API has no size endpoint).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The on-disk sizes of the topics the answering broker holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TopicSizes {
    /// The broker that answered: every size is of its own logs.
    pub broker_id: u32,
    /// Every topic the broker holds a log of, by name.
    pub topics: Vec<TopicSize>,
}

/// One topic's size on the answering broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TopicSize {
    #[schema(example = "orders")]
    pub topic_name: String,
    /// Bytes of all its partitions' segments on this broker.
    pub size_bytes: u64,
    /// Each partition's size, by partition id.
    pub partitions: Vec<PartitionSize>,
}

/// One partition's log on the answering broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PartitionSize {
    pub partition_id: u32,
    /// Bytes of its segments on this broker (record batches as stored, indexes excluded).
    pub size_bytes: u64,
}
