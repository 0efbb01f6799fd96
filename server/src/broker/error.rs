//! The broker's errors: one enum for topics, partitions and their metadata, each variant
//! mapped to one Confluent error code by the gateway (`gateway/errors.rs`).

use std::path::PathBuf;

use super::topic_config::ConfigError;
use super::{FILES_PER_PARTITION, MAX_PARTITIONS, naming};
use crate::log;

/// Broker-level failures, each mapped to one Confluent error code by the gateway.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("Topic '{0}' not found.")]
    UnknownTopic(String),
    #[error("Partition {partition} of topic '{topic}' not found.")]
    UnknownPartition { topic: String, partition: u32 },
    #[error("Topic '{0}' already exists.")]
    TopicExists(String),
    #[error(transparent)]
    InvalidTopicName(#[from] naming::InvalidTopicName),
    #[error(transparent)]
    InvalidConfig(#[from] ConfigError),
    #[error("Number of partitions must be between 1 and {MAX_PARTITIONS}, got {0}.")]
    InvalidPartitions(i64),
    /// More partitions than the process could keep open (its `RLIMIT_NOFILE`).
    #[error(
        "{adding} more partitions would make {total}, and with {FILES_PER_PARTITION} open file \
         each that exceeds this broker's open-file limit of {limit} (ulimit -n, less \
         {reserved} kept for connections and open segments). Raise the limit or use fewer \
         partitions."
    )]
    TooManyPartitions {
        adding: u64,
        total: u64,
        limit: u64,
        reserved: u64,
    },
    /// A replication factor the cluster cannot honour: Kafka's
    /// `InvalidReplicationFactorException` text, or the refusal of factors above 1 until
    /// replication exists.
    #[error("{0}")]
    InvalidReplicationFactor(String),
    #[error("Topic '{0}' is internal and cannot be changed through this call.")]
    InternalTopic(String),
    /// Kafka's wording for a produce to an internal topic (`InvalidTopicException`).
    #[error("Cannot append to internal topic {0}.")]
    CannotAppendToInternalTopic(String),
    /// Kafka's wording (`InvalidRequestException`): the broker creates its own topics.
    #[error("Creation of internal topic {0} is prohibited.")]
    InternalTopicCreation(String),
    #[error("Internal topic {0} cannot be deleted: the broker keeps its state in it.")]
    InternalTopicDeletion(String),
    /// A config change that would let the log delete an internal topic's records.
    #[error(
        "Config '{config}' of internal topic '{topic}' cannot be changed: {topic} must stay \
         compacted and keep every record's latest value."
    )]
    InternalTopicConfig { topic: String, config: String },
    /// An internal topic found at start with a config that lets the log delete its records.
    #[error(
        "Internal topic {topic} has {setting}; it must be compacted (cleanup.policy=compact) \
         with no retention override, or the log deletes its records. Stop the broker and set \
         this topic's \"configs\" to {{\"cleanup.policy\": \"compact\"}} in {}.",
        metadata.display()
    )]
    InternalTopicMisconfigured {
        topic: String,
        setting: String,
        metadata: PathBuf,
    },
    /// Kafka's `Topic.hasCollision`: `.` and `_` are the same character in metric names.
    #[error(
        "Topic '{topic}' collides with existing topic '{existing}': '.' and '_' may not be the \
         only difference between two topic names."
    )]
    TopicCollision { topic: String, existing: String },
    /// A partition-count change that is not an increase; Kafka's `InvalidPartitionsException`
    /// wording.
    #[error("{}", not_increased_message(*current, *requested))]
    PartitionsNotIncreased { current: u32, requested: i64 },
    #[error(transparent)]
    Log(#[from] log::Error),
    /// The metadata quorum could not commit a change (no controller reachable, or this broker
    /// trails it); retriable, and the change may or may not have been made.
    #[error("The cluster metadata change could not be confirmed: {0}. Retry the request.")]
    Quorum(String),
    #[error("metadata file {path}: {reason}")]
    Metadata { path: PathBuf, reason: String },
    #[error(
        "the data directory belongs to cluster {stored}, but the metadata quorum's cluster is \
         {quorum}: start this broker with its own cluster's peers, or with an empty data directory"
    )]
    ForeignCluster { stored: String, quorum: String },
}

fn not_increased_message(current: u32, requested: i64) -> String {
    if requested == i64::from(current) {
        format!("Topic already has {current} partitions.")
    } else {
        format!(
            "Topic currently has {current} partitions, which is higher than the requested {requested}."
        )
    }
}
