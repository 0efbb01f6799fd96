//! The Confluent REST Proxy v3 resources, as Runnel answers them.
//!
//! Every resource has a `kind`, `metadata.self` (its URL, built from the server's public URL) and
//! `metadata.resource_name` (a `crn:///kafka=<cluster>/...` name); collections are
//! `{"kind": "Kafka<Thing>List", "metadata": {"self", "next": null}, "data": [...]}`, and links
//! to other resources are `{"related": url}`. Field names and meanings follow Confluent's
//! `kafka-rest` v3 API. The gateway's handlers build and return these types, so the document
//! describes exactly what is sent; the CLI deserializes the ones it reads.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A link to a related resource.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Related {
    /// URL of the related resource.
    pub related: String,
}

/// Metadata of one resource.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResourceMetadata {
    /// URL of this resource.
    #[serde(rename = "self")]
    pub self_url: String,
    /// `crn:///kafka=<cluster_id>/...`
    pub resource_name: String,
}

/// Metadata of a collection.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CollectionMetadata {
    /// URL of this collection.
    #[serde(rename = "self")]
    pub self_url: String,
    /// URL of the next page; always null (collections are not paged).
    pub next: Option<String>,
}

/// Where a config value comes from (Kafka's `ConfigSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConfigSource {
    DynamicTopicConfig,
    DynamicBrokerLoggerConfig,
    DynamicBrokerConfig,
    DynamicDefaultBrokerConfig,
    StaticBrokerConfig,
    DefaultConfig,
    Unknown,
}

impl ConfigSource {
    /// Kafka's name of the source, as it appears in JSON (`DEFAULT_CONFIG`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            ConfigSource::DynamicTopicConfig => "DYNAMIC_TOPIC_CONFIG",
            ConfigSource::DynamicBrokerLoggerConfig => "DYNAMIC_BROKER_LOGGER_CONFIG",
            ConfigSource::DynamicBrokerConfig => "DYNAMIC_BROKER_CONFIG",
            ConfigSource::DynamicDefaultBrokerConfig => "DYNAMIC_DEFAULT_BROKER_CONFIG",
            ConfigSource::StaticBrokerConfig => "STATIC_BROKER_CONFIG",
            ConfigSource::DefaultConfig => "DEFAULT_CONFIG",
            ConfigSource::Unknown => "UNKNOWN",
        }
    }
}

/// One level's value of a config, highest precedence first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConfigSynonym {
    pub name: String,
    pub value: Option<String>,
    pub source: ConfigSource,
}

/// `KafkaCluster`: this node's cluster.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KafkaCluster {
    #[schema(example = "KafkaCluster")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    /// The controller broker; `null` while the metadata quorum has no leader (an election).
    pub controller: Option<Related>,
    pub acls: Related,
    pub brokers: Related,
    pub broker_configs: Related,
    pub consumer_groups: Related,
    pub topics: Related,
    pub partition_reassignments: Related,
}

/// `KafkaClusterList`: exactly one cluster.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KafkaClusterList {
    #[schema(example = "KafkaClusterList")]
    pub kind: String,
    pub metadata: CollectionMetadata,
    pub data: Vec<KafkaCluster>,
}

/// `KafkaTopic`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KafkaTopic {
    #[schema(example = "KafkaTopic")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub topic_name: String,
    pub is_internal: bool,
    pub replication_factor: u32,
    pub partitions_count: u32,
    pub partitions: Related,
    pub configs: Related,
    pub partition_reassignments: Related,
    pub authorized_operations: Vec<String>,
}

/// `KafkaTopicList`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KafkaTopicList {
    #[schema(example = "KafkaTopicList")]
    pub kind: String,
    pub metadata: CollectionMetadata,
    pub data: Vec<KafkaTopic>,
}

/// `KafkaPartition`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaPartition {
    #[schema(example = "KafkaPartition")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub topic_name: String,
    pub partition_id: u32,
    /// The leader's replica; `null` while the partition is offline (its leader fenced).
    pub leader: Option<Related>,
    pub replicas: Related,
    pub reassignment: Related,
}

/// `KafkaPartitionList`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaPartitionList {
    #[schema(example = "KafkaPartitionList")]
    pub kind: String,
    pub metadata: CollectionMetadata,
    pub data: Vec<KafkaPartition>,
}

/// `KafkaPartitionWithOffsets`: the first offset still in the log and the next to be written.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KafkaPartitionWithOffsets {
    #[schema(example = "KafkaPartitionWithOffsets")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub topic_name: String,
    pub partition_id: u32,
    pub earliest_offset: u64,
    pub latest_offset: u64,
}

/// `KafkaReplica`: one broker's replica of a partition.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaReplica {
    #[schema(example = "KafkaReplica")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub topic_name: String,
    pub partition_id: u32,
    pub broker_id: u32,
    pub is_leader: bool,
    pub is_in_sync: bool,
    pub broker: Related,
}

/// `KafkaReplicaList`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaReplicaList {
    #[schema(example = "KafkaReplicaList")]
    pub kind: String,
    pub metadata: CollectionMetadata,
    pub data: Vec<KafkaReplica>,
}

/// `KafkaReassignment`: a partition reassignment in progress (Runnel never has one).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaReassignment {
    #[schema(example = "KafkaReassignment")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub topic_name: String,
    pub partition_id: u32,
    pub adding_replicas: Vec<u32>,
    pub removing_replicas: Vec<u32>,
    pub replicas: Related,
}

/// `KafkaReassignmentList`: always empty.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaReassignmentList {
    #[schema(example = "KafkaReassignmentList")]
    pub kind: String,
    pub metadata: CollectionMetadata,
    pub data: Vec<KafkaReassignment>,
}

/// `KafkaTopicConfig`: a topic config's effective value and where it comes from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KafkaTopicConfig {
    #[schema(example = "KafkaTopicConfig")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub topic_name: String,
    pub name: String,
    pub value: Option<String>,
    pub is_default: bool,
    pub is_read_only: bool,
    pub is_sensitive: bool,
    pub source: ConfigSource,
    pub synonyms: Vec<ConfigSynonym>,
}

/// `KafkaTopicConfigList`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KafkaTopicConfigList {
    #[schema(example = "KafkaTopicConfigList")]
    pub kind: String,
    pub metadata: CollectionMetadata,
    pub data: Vec<KafkaTopicConfig>,
}

/// `KafkaBroker`: this node; `host` and `port` are those of its public URL.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaBroker {
    #[schema(example = "KafkaBroker")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub broker_id: u32,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub rack: Option<String>,
    pub configs: Related,
    pub partition_replicas: Related,
}

/// `KafkaBrokerList`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaBrokerList {
    #[schema(example = "KafkaBrokerList")]
    pub kind: String,
    pub metadata: CollectionMetadata,
    pub data: Vec<KafkaBroker>,
}

/// `KafkaBrokerConfig`: a broker config (read-only here: set in the server config).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaBrokerConfig {
    #[schema(example = "KafkaBrokerConfig")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub broker_id: u32,
    pub name: String,
    pub value: Option<String>,
    pub is_default: bool,
    pub is_read_only: bool,
    pub is_sensitive: bool,
    pub source: ConfigSource,
    pub synonyms: Vec<ConfigSynonym>,
}

/// `KafkaBrokerConfigList`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaBrokerConfigList {
    #[schema(example = "KafkaBrokerConfigList")]
    pub kind: String,
    pub metadata: CollectionMetadata,
    pub data: Vec<KafkaBrokerConfig>,
}

/// `KafkaClusterConfig`: a dynamic cluster-wide broker config (Runnel has none).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaClusterConfig {
    #[schema(example = "KafkaClusterConfig")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub config_type: String,
    pub name: String,
    pub value: Option<String>,
    pub is_default: bool,
    pub is_read_only: bool,
    pub is_sensitive: bool,
    pub source: ConfigSource,
    pub synonyms: Vec<ConfigSynonym>,
}

/// `KafkaClusterConfigList`: always empty.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaClusterConfigList {
    #[schema(example = "KafkaClusterConfigList")]
    pub kind: String,
    pub metadata: CollectionMetadata,
    pub data: Vec<KafkaClusterConfig>,
}

/// The `key` or `value` part of a delivery report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DataReport {
    /// `BINARY`, `JSON`, `STRING` or `AVRO`.
    #[serde(rename = "type")]
    pub data_type: String,
    /// Size in bytes as stored.
    pub size: usize,
    /// The subject of Avro data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The schema id of Avro data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<i32>,
    /// The subject version of that schema, for Avro data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<i32>,
}

/// The delivery report of one record produced through v3 `records`. (The operation documents
/// no schema for its 200 answer, since a stream answers several of these concatenated; the
/// skeleton lists this type among the components.)
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryReport {
    /// 200.
    pub error_code: u16,
    pub cluster_id: String,
    pub topic_name: String,
    pub partition_id: u32,
    /// Null with `acks=0`.
    pub offset: Option<u64>,
    /// ISO-8601.
    pub timestamp: String,
    pub key: Option<DataReport>,
    pub value: Option<DataReport>,
}

/// A record of a `records:batch` that was appended.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchSuccess {
    pub id: String,
    pub cluster_id: String,
    pub topic_name: String,
    pub partition_id: u32,
    /// Null with `acks=0`.
    pub offset: Option<u64>,
    /// ISO-8601.
    pub timestamp: String,
    pub key: Option<DataReport>,
    pub value: Option<DataReport>,
}

/// A record of a `records:batch` that failed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchFailure {
    pub id: String,
    pub error_code: u32,
    pub message: String,
}

/// The 207 answer of `records:batch`: each entry lands in exactly one of the lists.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResponse {
    pub successes: Vec<BatchSuccess>,
    pub failures: Vec<BatchFailure>,
}

/// A record header as v3 produce takes it: `value` is base64, or null for none. (`key` is
/// accepted for `name`, as in v2.)
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V3Header {
    pub name: String,
    #[schema(format = Byte)]
    pub value: Option<String>,
}

/// The `type` of a v3 key or value. Without one, data is schema-based.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum DataType {
    /// `data` is a base64 string.
    Binary,
    /// `data` is any JSON.
    Json,
    /// `data` is a string.
    String,
    /// `data` is Avro's JSON encoding of the schema the other fields name.
    Avro,
    /// Not served yet (400).
    Jsonschema,
    /// Not served yet (400).
    Protobuf,
}

/// `KafkaConsumerGroup`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KafkaConsumerGroup {
    #[schema(example = "KafkaConsumerGroup")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub consumer_group_id: String,
    pub is_simple: bool,
    /// The assignor the members chose, or `""` without members.
    pub partition_assignor: String,
    /// `UNKNOWN`, `PREPARING_REBALANCE`, `COMPLETING_REBALANCE`, `STABLE`, `DEAD` or `EMPTY`.
    pub state: String,
    /// Always `CLASSIC`.
    #[serde(rename = "type")]
    pub group_type: String,
    pub is_mixed_consumer_group: bool,
    pub coordinator: Related,
    pub consumers: Related,
    pub lag_summary: Related,
}

/// `KafkaConsumerGroupList`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KafkaConsumerGroupList {
    #[schema(example = "KafkaConsumerGroupList")]
    pub kind: String,
    pub metadata: CollectionMetadata,
    pub data: Vec<KafkaConsumerGroup>,
}

/// `KafkaConsumer`: a member of a group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaConsumer {
    #[schema(example = "KafkaConsumer")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub consumer_group_id: String,
    pub consumer_id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub assignments: Related,
}

/// `KafkaConsumerList`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaConsumerList {
    #[schema(example = "KafkaConsumerList")]
    pub kind: String,
    pub metadata: CollectionMetadata,
    pub data: Vec<KafkaConsumer>,
}

/// `KafkaConsumerAssignment`: a partition assigned to a member.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaConsumerAssignment {
    #[schema(example = "KafkaConsumerAssignment")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub consumer_group_id: String,
    pub consumer_id: String,
    pub topic_name: String,
    pub partition_id: u32,
    pub partition: Related,
    pub lag: Related,
}

/// `KafkaConsumerAssignmentList`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaConsumerAssignmentList {
    #[schema(example = "KafkaConsumerAssignmentList")]
    pub kind: String,
    pub metadata: CollectionMetadata,
    pub data: Vec<KafkaConsumerAssignment>,
}

/// `KafkaConsumerLag`: a partition's committed offset against its end. `consumer_id` and
/// `client_id` are `""` for a partition nobody owns now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaConsumerLag {
    #[schema(example = "KafkaConsumerLag")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub consumer_group_id: String,
    pub topic_name: String,
    pub partition_id: u32,
    pub consumer_id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub current_offset: u64,
    pub log_end_offset: u64,
    pub lag: u64,
}

/// `KafkaConsumerLagList`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaConsumerLagList {
    #[schema(example = "KafkaConsumerLagList")]
    pub kind: String,
    pub metadata: CollectionMetadata,
    pub data: Vec<KafkaConsumerLag>,
}

/// `KafkaConsumerLagSummary`: the largest lag and the total. Without committed offsets the
/// `max_lag_*` fields are null and the lags 0.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KafkaConsumerLagSummary {
    #[schema(example = "KafkaConsumerLagSummary")]
    pub kind: String,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub consumer_group_id: String,
    pub max_lag_consumer_id: Option<String>,
    pub max_lag_instance_id: Option<String>,
    pub max_lag_client_id: Option<String>,
    pub max_lag_topic_name: Option<String>,
    pub max_lag_partition_id: Option<u32>,
    pub max_lag: u64,
    pub total_lag: u64,
    pub max_lag_consumer: Option<Related>,
    pub max_lag_partition: Option<Related>,
}

/// Where `offsets:reset` moves a group's offsets.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ResetTo {
    /// `"earliest"` or `"latest"`.
    Named(ResetNamed),
    /// The first offset at or after this time (ms since the epoch).
    Timestamp { timestamp: i64 },
    /// This offset.
    Offset { offset: u64 },
}

/// A named reset target.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResetNamed {
    Earliest,
    Latest,
}

/// A partition's offset after `offsets:reset`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResetOffset {
    pub topic_name: String,
    pub partition_id: u32,
    pub offset: u64,
}

/// The answer of `offsets:reset`: the new offsets.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResetOffsetsResponse {
    pub cluster_id: String,
    pub consumer_group_id: String,
    pub offsets: Vec<ResetOffset>,
}
