//! Consumer groups: membership, partition assignment and committed offsets (DESIGN.md §4).
//!
//! Members are server-side — an HTTP consumer instance, a WebSocket connection — so the
//! coordinator computes the assignment itself, as Kafka's KIP-848 server-side assignors do,
//! and there is no client-side SyncGroup. The group still walks Kafka's classic states
//! (`Empty → PreparingRebalance → CompletingRebalance → Stable`, `Dead`) with an eager
//! rebalance: every change first revokes all partitions, waits until every member has let go
//! (or its rebalance timeout passed), then bumps the generation and hands out the new
//! assignment, so two members of a group never hold the same partition.
//!
//! - [`coordinator`]: [`GroupCoordinator`], the state machine of every group on this broker,
//!   its session reaper, and commits with Kafka's generation checks.
//! - [`admin`]: the group-level views and operations: describe, list, lag (and its
//!   `/metrics` gauges), delete, offset reset.
//! - [`member`]: the [`Member`] handle a consumer holds, and what it is told ([`Assignment`]).
//! - [`assignor`]: Kafka's `RangeAssignor` and `RoundRobinAssignor` as pure functions.
//! - [`offsets`]: committed offsets in the compacted topic `__consumer_offsets`.
//! - [`instances`]: the REST Proxy's v2 consumer instances: each one's mode (subscribed or
//!   assigned), fetch positions, heartbeat task, and the reaper of idle ones.
//!
//! # The member loop
//!
//! A consumer (v2 instance, WebSocket task) joins, then follows its assignment watch:
//!
//! ```text
//! let member = coordinator.join(JoinRequest::new(group, client_id, subscription))?;
//! let mut assignments = member.assignments();
//! loop {
//!     match &*assignments.borrow_and_update() {
//!         Assignment::Assigned { generation_id, partitions } => fetch from `partitions`, and
//!             commit with `member.commit(*generation_id, offsets)`,
//!         Assignment::Revoke { generation_id, .. } => stop fetching, commit what was processed
//!             (still accepted under `generation_id`), then `member.rejoin()`,
//!         Assignment::Joining => wait,
//!         Assignment::Removed(reason) => stop; a new `join` is needed,
//!     }
//!     select { assignments.changed(), records, heartbeat tick → member.heartbeat() }
//! }
//! ```
//!
//! Not owned here: HTTP shapes (`gateway/v3/consumer_groups.rs`, `gateway/v2/consumers/`), fetching
//! records, WebSocket group mode (built on this API), and persisting membership — members live in
//! this process, so after a restart a group has only its committed offsets and is `Empty`.

pub mod admin;
pub mod assignor;
pub mod coordinator;
pub mod instances;
pub mod member;
pub mod offsets;
#[cfg(test)]
mod tests;

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::broker;
use crate::log;
pub use admin::{GroupDescription, GroupListing, MemberDescription, PartitionLag, PartitionOwner};
pub use assignor::AssignorKind;
pub use coordinator::{CommitScope, CoordinatorConfig, GroupCoordinator};
pub use member::{Assignment, JoinRequest, Member, RemovalReason, Subscription};
pub use offsets::{AutoOffsetReset, OffsetAndMetadata, OffsetResetSpec, OffsetStore};

/// The longest group id: `__consumer_offsets` keys store it as a Kafka `STRING`, whose length
/// is an `i16`.
pub const MAX_GROUP_ID_BYTES: usize = i16::MAX as usize;

/// A consumer group's id (`group.id`). Any non-empty string, as Kafka allows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId(Arc<str>);

impl GroupId {
    /// # Errors
    /// [`GroupError::InvalidGroupId`] for the empty string, one longer than
    /// [`MAX_GROUP_ID_BYTES`], and `.` or `..`: a group id is a path segment of the REST API,
    /// and URL parsers resolve those two (even percent-encoded) instead of sending them, so a
    /// link to such a group could never reach it.
    pub fn new(id: impl AsRef<str>) -> Result<Self, GroupError> {
        let id = id.as_ref();
        if id.is_empty() || id.len() > MAX_GROUP_ID_BYTES || id == "." || id == ".." {
            return Err(GroupError::InvalidGroupId);
        }
        Ok(GroupId(Arc::from(id)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Borrow<str> for GroupId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// A member's id within its group: `<client_id>-<uuid>` unless the joiner chose one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberId(Arc<str>);

impl MemberId {
    pub fn new(id: impl AsRef<str>) -> Self {
        MemberId(Arc::from(id.as_ref()))
    }

    /// `<client_id>-<random UUID v4>`, Kafka's form of a coordinator-chosen member id.
    pub fn generate(client_id: &str) -> Self {
        let mut b: [u8; 16] = rand::random();
        // Version 4, variant RFC 4122.
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let uuid = format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        );
        MemberId(Arc::from(format!("{client_id}-{uuid}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Borrow<str> for MemberId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// A group's generation: bumped by every completed rebalance, and carried by commits so a
/// member that missed a rebalance cannot overwrite the new owner's offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GenerationId(pub i32);

impl fmt::Display for GenerationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One partition of one topic. Orders by topic, then partition: the order assignors use.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: u32,
}

impl TopicPartition {
    pub fn new(topic: impl Into<String>, partition: u32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// Kafka's group states (`org.apache.kafka.common.ConsumerGroupState`, classic protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupState {
    /// No members; the group may still have committed offsets.
    Empty,
    /// A rebalance started: members are revoking their partitions and rejoining.
    PreparingRebalance,
    /// Every member rejoined; the new generation's assignment is being computed. The
    /// coordinator assigns in the same step, so this state is never observed from outside;
    /// it stays for Kafka's vocabulary and its commit rule (commits get
    /// [`GroupError::RebalanceInProgress`]).
    CompletingRebalance,
    /// Every member has its assignment for the current generation.
    Stable,
    /// The group was deleted (or never existed).
    Dead,
}

impl GroupState {
    /// The name the Confluent v3 API uses (`STABLE`, `PREPARING_REBALANCE`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Empty => "EMPTY",
            GroupState::PreparingRebalance => "PREPARING_REBALANCE",
            GroupState::CompletingRebalance => "COMPLETING_REBALANCE",
            GroupState::Stable => "STABLE",
            GroupState::Dead => "DEAD",
        }
    }
}

impl fmt::Display for GroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Consumer-group failures. The membership and commit variants are Kafka's error codes of the
/// same names, so the gateway can map each to one Confluent code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// Kafka's `INVALID_GROUP_ID`.
    #[error(
        "The group id must be between 1 and {MAX_GROUP_ID_BYTES} bytes long, and not '.' or '..'."
    )]
    InvalidGroupId,
    /// Kafka's `GROUP_ID_NOT_FOUND`.
    #[error("Consumer group '{0}' not found.")]
    GroupIdNotFound(GroupId),
    /// Kafka's `UNKNOWN_MEMBER_ID`: the member left, was evicted, or never joined.
    #[error("Member '{member_id}' is not in consumer group '{group}'.")]
    UnknownMemberId { group: GroupId, member_id: String },
    /// A join with a member id that another live member of the group already uses.
    #[error("Member '{member_id}' already exists in consumer group '{group}'.")]
    MemberIdInUse { group: GroupId, member_id: MemberId },
    /// Kafka's `ILLEGAL_GENERATION`: a commit from a generation the group has moved past.
    #[error(
        "Generation {generation_id} of consumer group '{group}' is not current (current: {current})."
    )]
    IllegalGeneration {
        group: GroupId,
        generation_id: GenerationId,
        current: GenerationId,
    },
    /// Kafka's `REBALANCE_IN_PROGRESS`.
    #[error("Consumer group '{group}' is rebalancing.")]
    RebalanceInProgress { group: GroupId },
    /// Kafka's `INCONSISTENT_GROUP_PROTOCOL`: a joiner asks for another assignor than the
    /// group's members use.
    #[error("Consumer group '{group}' uses the '{current}' assignor, not '{requested}'.")]
    InconsistentGroupProtocol {
        group: GroupId,
        current: AssignorKind,
        requested: AssignorKind,
    },
    /// Kafka's `INVALID_SESSION_TIMEOUT`.
    #[error(
        "Session timeout {requested:?} is outside the allowed range [{min:?}, {max:?}] \
         (group.min.session.timeout.ms, group.max.session.timeout.ms)."
    )]
    InvalidSessionTimeout {
        requested: Duration,
        min: Duration,
        max: Duration,
    },
    /// Kafka's `NON_EMPTY_GROUP`: the operation needs a group without members.
    #[error("Consumer group '{group}' is not empty (state {state}); stop its consumers first.")]
    NonEmptyGroup { group: GroupId, state: GroupState },
    /// Kafka's `GROUP_SUBSCRIBED_TO_TOPIC`: offsets of a topic that members consume cannot be
    /// deleted.
    #[error("Consumer group '{group}' is subscribed to topic '{topic}'.")]
    GroupSubscribedToTopic { group: GroupId, topic: String },
    /// Kafka's `UNKNOWN_TOPIC_OR_PARTITION`.
    #[error("This server does not host this topic-partition: {0}.")]
    UnknownTopicOrPartition(TopicPartition),
    /// Kafka's `OFFSET_METADATA_TOO_LARGE` (`offset.metadata.max.bytes`).
    #[error("Offset metadata of {size} bytes is larger than the {max} allowed.")]
    OffsetMetadataTooLarge { size: usize, max: usize },
    /// `auto.offset.reset=none` and the partition has no usable committed offset (the Java
    /// client's `NoOffsetForPartitionException`).
    #[error("Undefined offset with no reset policy for partition: {0}")]
    NoOffsetForPartition(TopicPartition),
    /// An `auto.offset.reset` other than `earliest`, `latest` or `none`.
    #[error("Invalid value {0:?} for auto.offset.reset: expected earliest, latest or none.")]
    InvalidOffsetReset(String),
    /// A `topic_pattern` that is not a valid regular expression.
    #[error("Invalid topic pattern: {0}")]
    InvalidPattern(#[source] regex::Error),
    /// A v2 consumer instance that does not exist (never created, destroyed, or expired).
    #[error("Consumer instance '{instance}' not found in group '{group}'.")]
    UnknownInstance { group: String, instance: String },
    /// A v2 consumer instance created under a name its group already has.
    #[error("Consumer with id '{instance}' already exists in group '{group}'.")]
    InstanceExists { group: String, instance: String },
    /// A v2 consumer instance name that cannot be a path segment.
    #[error("The consumer name must not be empty, '.' or '..'.")]
    InvalidInstanceName,
    /// A poll of an instance that neither subscribed nor was assigned partitions (the Java
    /// consumer's `IllegalStateException`).
    #[error("Consumer is not subscribed to any topics or assigned any partitions.")]
    NotSubscribed,
    /// Subscribing and assigning by hand mixed, or a subscription to both topics and a
    /// pattern (the Java consumer's `IllegalStateException`).
    #[error("Subscription to topics, partitions and pattern are mutually exclusive: {why}")]
    ExclusiveSubscription { why: &'static str },
    /// A seek of a partition the consumer is not assigned (the Java consumer's
    /// `IllegalStateException`).
    #[error("No current assignment for partition {0}.")]
    PartitionNotAssigned(TopicPartition),
    /// A commit of fetched positions by a subscribed consumer that has had no assignment yet.
    #[error("The consumer has no partitions assigned yet; poll first.")]
    NoGeneration,
    /// A fetch position outside the log with `auto.offset.reset=none` (Kafka's
    /// `OFFSET_OUT_OF_RANGE` reaching a consumer without a reset policy).
    #[error(
        "Offsets out of range with no configured reset policy for partitions: \
         {partition}={position} (log start {log_start}, log end {log_end}); seek to a valid offset."
    )]
    OffsetOutOfRange {
        partition: TopicPartition,
        position: u64,
        log_start: u64,
        log_end: u64,
    },
    /// A blocking task the operation ran on panicked or was cancelled (runtime shutdown).
    #[error("a background task failed: {0}")]
    TaskFailed(#[source] tokio::task::JoinError),
    #[error(transparent)]
    Broker(#[from] broker::Error),
    #[error(transparent)]
    Log(#[from] log::Error),
}

/// Result alias for this module.
pub type Result<T, E = GroupError> = std::result::Result<T, E>;
