//! The cluster metadata image: what every broker knows once it has applied the metadata log.
//!
//! Brokers (addresses, registration epoch, fenced flag), topics (id, Kafka-named configs,
//! per-partition replicas, leader, leader epoch, ISR), and the maps ACLs and quotas will fill.
//! The image is plain data with `BTreeMap`s, so it serializes the same way on every node (the
//! snapshot of one node is installed on another) and iterates in a deterministic order.
//!
//! Not owned here: how a command changes the image (command.rs), deciding placements or
//! leaders (the controller proposes commands that already carry them), storage (store/).

mod command;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use command::{
    Applied, Command, CommandError, CommandResult, PartitionAssignment, ReplicaProblem,
};

/// A broker's id (Kafka's `broker.id`; also its Raft node id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BrokerId(pub u32);

impl fmt::Display for BrokerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A broker's registration epoch: the metadata-log index of the entry that registered it, as
/// KRaft does. A re-registration (a restarted broker) gets a larger one, so a message carrying
/// an older epoch is recognisably from the previous incarnation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BrokerEpoch(pub u64);

/// A partition's leader epoch (KIP-101): bumped on every leader change.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct LeaderEpoch(pub u32);

/// A topic's id, chosen by the controller when it proposes the creation (apply cannot draw
/// random numbers: every node must reach the same image).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TopicId(pub String);

/// The replicated cluster metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterMetadata {
    /// The cluster's id (Kafka's `cluster.id`), set once by the first `InitCluster` applied.
    pub cluster_id: Option<String>,
    /// Registered brokers by id.
    pub brokers: BTreeMap<BrokerId, BrokerRegistration>,
    /// Topics by name.
    pub topics: BTreeMap<String, TopicMetadata>,
    /// ACL bindings by resource pattern (`Topic:LITERAL:orders`); filled by the ACL work.
    pub acls: BTreeMap<String, Vec<AclBinding>>,
    /// Client quotas by entity (`user=alice,client-id=app`), each a map of Kafka's quota names
    /// (`producer_byte_rate`, …) to values; filled by the quota work.
    pub quotas: BTreeMap<String, BTreeMap<String, f64>>,
}

/// One broker as registered with the controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerRegistration {
    /// `HOST:PORT` (or URL) clients use for the broker's HTTP API.
    pub http_addr: String,
    /// `HOST:PORT` of the broker's cluster port; empty for a one-node cluster without one.
    pub cluster_addr: String,
    /// The epoch of the current registration.
    pub epoch: BrokerEpoch,
    /// A fenced broker leads nothing and is left out of new placements; a registration starts
    /// fenced and the controller unfences the broker once it has caught up (KRaft's rule).
    pub fenced: bool,
}

/// One topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicMetadata {
    /// The topic's id.
    pub topic_id: TopicId,
    /// Topic-level configs by Kafka name (`retention.ms`, `cleanup.policy`); values as the
    /// user wrote them, already validated by the broker that proposed them.
    pub configs: BTreeMap<String, String>,
    /// Partition `p` is `partitions[p]`.
    pub partitions: Vec<PartitionState>,
}

/// Replicas, leadership and ISR of one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionState {
    /// The replica list in preference order (the first is the preferred leader).
    pub replicas: Vec<BrokerId>,
    /// The leader; `None` is Kafka's `-1`: the partition is offline.
    pub leader: Option<BrokerId>,
    /// Bumped on every leader change, offline included.
    pub leader_epoch: LeaderEpoch,
    /// The in-sync replicas; always a subset of `replicas`, and contains the leader if any.
    pub isr: Vec<BrokerId>,
}

/// One ACL entry, in Kafka's terms (`kafka-acls`): who may do what from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclBinding {
    /// `User:alice`.
    pub principal: String,
    /// The client host, `*` for any.
    pub host: String,
    /// `Read`, `Write`, `Describe`, …
    pub operation: String,
    /// `Allow` or `Deny`.
    pub permission: String,
}

impl ClusterMetadata {
    /// The brokers that may lead partitions and receive new placements.
    pub fn unfenced_brokers(&self) -> impl Iterator<Item = BrokerId> + '_ {
        self.brokers
            .iter()
            .filter(|(_, b)| !b.fenced)
            .map(|(id, _)| *id)
    }

    /// Partitions whose leader is offline, as `(topic, partition)`.
    pub fn offline_partitions(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.topics.iter().flat_map(|(name, t)| {
            t.partitions
                .iter()
                .zip(0u32..)
                .filter(|(p, _)| p.leader.is_none())
                .map(move |(_, i)| (name.as_str(), i))
        })
    }

    fn is_unfenced(&self, broker: BrokerId) -> bool {
        self.brokers.get(&broker).is_some_and(|b| !b.fenced)
    }
}

#[cfg(test)]
mod tests;
