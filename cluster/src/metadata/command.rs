//! Metadata commands (the metadata log's entries) and how each one changes the image.
//!
//! `ClusterMetadata::apply` runs on every node for every committed command, so it is a pure
//! function of the image, the command and the entry's log index: no clock, no randomness, no
//! I/O. Anything chosen (topic ids, placements, new leaders) is chosen by the controller before
//! it proposes and travels inside the command. A command that does not fit the image is not a
//! failure of the log: apply leaves the image untouched and records a `CommandError`, which the
//! proposer gets back. Apply never panics on a command.
//!
//! Heartbeats are deliberately not commands: as in KRaft, the controller keeps each broker's
//! last heartbeat in memory and writes only the decisions (`FenceBroker`, `UnfenceBroker`),
//! so the log does not grow with time.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{
    BrokerEpoch, BrokerId, BrokerRegistration, ClusterMetadata, LeaderEpoch, PartitionState,
    TopicId, TopicMetadata,
};

/// Kafka's limit on a topic name's length.
const MAX_TOPIC_NAME_LEN: usize = 249;

/// A change to the cluster metadata, proposed to the Raft leader and applied by every node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Sets the cluster id unless one is set already; either way the answer carries the id in
    /// force, so every broker adopts the first one proposed.
    InitCluster { cluster_id: String },
    /// A broker (re)registers; its epoch becomes this entry's log index and it starts fenced.
    RegisterBroker {
        broker: BrokerId,
        http_addr: String,
        cluster_addr: String,
    },
    /// The controller fences a broker (missed its session timeout): its partitions lose it as
    /// leader and, where others remain, as an ISR member.
    FenceBroker {
        broker: BrokerId,
        epoch: BrokerEpoch,
    },
    /// The controller unfences a caught-up broker: offline partitions it is in sync for get it
    /// back as leader.
    UnfenceBroker {
        broker: BrokerId,
        epoch: BrokerEpoch,
    },
    /// Create a topic with the placement the controller chose.
    CreateTopic {
        name: String,
        topic_id: TopicId,
        configs: BTreeMap<String, String>,
        assignments: Vec<PartitionAssignment>,
    },
    /// Delete a topic.
    DeleteTopic { name: String },
    /// Set and remove topic-level configs (values already validated by the proposer).
    AlterTopicConfigs {
        name: String,
        set: BTreeMap<String, String>,
        delete: BTreeSet<String>,
    },
    /// Append partitions to a topic, placed by the controller.
    CreatePartitions {
        name: String,
        assignments: Vec<PartitionAssignment>,
    },
    /// The controller's leader election for one partition: new leader (or offline) and ISR.
    /// The leader epoch is bumped when the leader changes.
    ChangeLeader {
        topic: String,
        partition: u32,
        leader: Option<BrokerId>,
        isr: Vec<BrokerId>,
    },
    /// A partition leader's ISR change (KIP-497's AlterPartition), valid only from the current
    /// leader at the current leader epoch.
    AlterPartition {
        topic: String,
        partition: u32,
        leader: BrokerId,
        leader_epoch: LeaderEpoch,
        isr: Vec<BrokerId>,
    },
}

/// The replicas of one new partition, preferred leader first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionAssignment {
    pub replicas: Vec<BrokerId>,
}

/// What a successfully applied entry reports back to its proposer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    /// The entry changed the image (or was a Raft-internal entry); nothing more to report.
    Done,
    /// The broker's new registration epoch.
    BrokerRegistered { epoch: BrokerEpoch },
    /// The cluster id in force after an `InitCluster`.
    ClusterId { cluster_id: String },
}

/// The per-entry result of applying the metadata log.
pub type CommandResult = Result<Applied, CommandError>;

/// Why a command was not applied. Deterministic: every node records the same error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CommandError {
    #[error("broker {broker} is not registered")]
    UnknownBroker { broker: BrokerId },
    #[error("broker {broker} has registration epoch {current:?}, the command names {got:?}")]
    StaleBrokerEpoch {
        broker: BrokerId,
        current: BrokerEpoch,
        got: BrokerEpoch,
    },
    #[error("broker {broker} registered with an empty address")]
    EmptyBrokerAddress { broker: BrokerId },
    #[error("a cluster id must not be empty")]
    EmptyClusterId,
    #[error("topic name {name:?} is not a legal Kafka topic name")]
    InvalidTopicName { name: String },
    #[error("topic {name:?} already exists")]
    TopicExists { name: String },
    #[error("topic id {topic_id:?} is already in use")]
    TopicIdInUse { topic_id: TopicId },
    #[error("topic {name:?} does not exist")]
    UnknownTopic { name: String },
    #[error("topic {topic:?} has no partition {partition}")]
    UnknownPartition { topic: String, partition: u32 },
    #[error("a topic needs at least one partition")]
    NoPartitions,
    #[error("topic {topic:?} would have more partitions than {max}", max = u32::MAX)]
    TooManyPartitions { topic: String },
    #[error("partition {partition} of {topic:?}: {problem}")]
    InvalidReplicas {
        topic: String,
        partition: u32,
        problem: ReplicaProblem,
    },
    #[error("partition {partition} of {topic:?}: leader {leader} is not an unfenced ISR member")]
    IneligibleLeader {
        topic: String,
        partition: u32,
        leader: BrokerId,
    },
    #[error("partition {partition} of {topic:?} is led by {leader:?}, not by {got}")]
    NotLeader {
        topic: String,
        partition: u32,
        leader: Option<BrokerId>,
        got: BrokerId,
    },
    #[error("partition {partition} of {topic:?} is at leader epoch {current:?}, not {got:?}")]
    StaleLeaderEpoch {
        topic: String,
        partition: u32,
        current: LeaderEpoch,
        got: LeaderEpoch,
    },
}

/// What is wrong with a replica list or an ISR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ReplicaProblem {
    #[error("the list is empty")]
    Empty,
    #[error("broker {0} appears twice")]
    Duplicate(BrokerId),
    #[error("broker {0} is not registered")]
    UnknownBroker(BrokerId),
    #[error("broker {0} is not a replica of the partition")]
    NotAReplica(BrokerId),
    #[error("the leader {0} is not in the ISR")]
    LeaderNotInIsr(BrokerId),
}

impl ClusterMetadata {
    /// Apply one committed command; `log_index` is its entry's index in the metadata log.
    ///
    /// # Errors
    ///
    /// A `CommandError` when the command does not fit the image; the image is then unchanged.
    pub fn apply(&mut self, log_index: u64, command: Command) -> CommandResult {
        match command {
            Command::InitCluster { cluster_id } => {
                if cluster_id.is_empty() {
                    return Err(CommandError::EmptyClusterId);
                }
                let cluster_id = self.cluster_id.get_or_insert(cluster_id).clone();
                Ok(Applied::ClusterId { cluster_id })
            }
            Command::RegisterBroker {
                broker,
                http_addr,
                cluster_addr,
            } => {
                // An empty cluster address is a one-node cluster without a cluster port.
                if http_addr.is_empty() {
                    return Err(CommandError::EmptyBrokerAddress { broker });
                }
                let epoch = BrokerEpoch(log_index);
                self.brokers.insert(
                    broker,
                    BrokerRegistration {
                        http_addr,
                        cluster_addr,
                        epoch,
                        fenced: true,
                    },
                );
                Ok(Applied::BrokerRegistered { epoch })
            }
            Command::FenceBroker { broker, epoch } => {
                self.registration_mut(broker, epoch)?.fenced = true;
                self.fence_partitions(broker);
                Ok(Applied::Done)
            }
            Command::UnfenceBroker { broker, epoch } => {
                self.registration_mut(broker, epoch)?.fenced = false;
                self.unfence_partitions(broker);
                Ok(Applied::Done)
            }
            Command::CreateTopic {
                name,
                topic_id,
                configs,
                assignments,
            } => self.create_topic(name, topic_id, configs, &assignments),
            Command::DeleteTopic { name } => match self.topics.remove(&name) {
                Some(_) => Ok(Applied::Done),
                None => Err(CommandError::UnknownTopic { name }),
            },
            Command::AlterTopicConfigs { name, set, delete } => {
                let Some(topic) = self.topics.get_mut(&name) else {
                    return Err(CommandError::UnknownTopic { name });
                };
                topic.configs.retain(|k, _| !delete.contains(k));
                topic.configs.extend(set);
                Ok(Applied::Done)
            }
            Command::CreatePartitions { name, assignments } => {
                self.create_partitions(name, &assignments)
            }
            Command::ChangeLeader {
                topic,
                partition,
                leader,
                isr,
            } => self.change_leader(topic, partition, leader, isr),
            Command::AlterPartition {
                topic,
                partition,
                leader,
                leader_epoch,
                isr,
            } => self.alter_partition(topic, partition, leader, leader_epoch, isr),
        }
    }

    fn registration_mut(
        &mut self,
        broker: BrokerId,
        epoch: BrokerEpoch,
    ) -> Result<&mut BrokerRegistration, CommandError> {
        let registration = self
            .brokers
            .get_mut(&broker)
            .ok_or(CommandError::UnknownBroker { broker })?;
        if registration.epoch != epoch {
            return Err(CommandError::StaleBrokerEpoch {
                broker,
                current: registration.epoch,
                got: epoch,
            });
        }
        Ok(registration)
    }

    /// The broker leaves every ISR it is not the last member of, and every partition it led
    /// gets the first remaining unfenced ISR member (replica order) or goes offline.
    fn fence_partitions(&mut self, broker: BrokerId) {
        let unfenced: BTreeSet<BrokerId> = self.unfenced_brokers().collect();
        for partition in self.topics.values_mut().flat_map(|t| &mut t.partitions) {
            if partition.isr.len() > 1 {
                partition.isr.retain(|b| *b != broker);
            }
            if partition.leader == Some(broker) {
                partition.leader = partition.preferred_in_isr(&unfenced);
                partition.leader_epoch = next_epoch(partition.leader_epoch);
            }
        }
    }

    /// Offline partitions whose ISR holds the broker elect again, now that it is unfenced.
    fn unfence_partitions(&mut self, broker: BrokerId) {
        let unfenced: BTreeSet<BrokerId> = self.unfenced_brokers().collect();
        for partition in self.topics.values_mut().flat_map(|t| &mut t.partitions) {
            if partition.leader.is_none() && partition.isr.contains(&broker) {
                partition.leader = partition.preferred_in_isr(&unfenced);
                partition.leader_epoch = next_epoch(partition.leader_epoch);
            }
        }
    }

    fn create_topic(
        &mut self,
        name: String,
        topic_id: TopicId,
        configs: BTreeMap<String, String>,
        assignments: &[PartitionAssignment],
    ) -> CommandResult {
        if !is_legal_topic_name(&name) {
            return Err(CommandError::InvalidTopicName { name });
        }
        if self.topics.contains_key(&name) {
            return Err(CommandError::TopicExists { name });
        }
        if self.topics.values().any(|t| t.topic_id == topic_id) {
            return Err(CommandError::TopicIdInUse { topic_id });
        }
        if assignments.is_empty() {
            return Err(CommandError::NoPartitions);
        }
        let partitions = self.new_partitions(&name, 0, assignments)?;
        self.topics.insert(
            name,
            TopicMetadata {
                topic_id,
                configs,
                partitions,
            },
        );
        Ok(Applied::Done)
    }

    fn create_partitions(
        &mut self,
        name: String,
        assignments: &[PartitionAssignment],
    ) -> CommandResult {
        let Some(existing) = self.topics.get(&name).map(|t| t.partitions.len()) else {
            return Err(CommandError::UnknownTopic { name });
        };
        if assignments.is_empty() {
            return Err(CommandError::NoPartitions);
        }
        let first = u32::try_from(existing).map_err(|_| CommandError::TooManyPartitions {
            topic: name.clone(),
        })?;
        let mut partitions = self.new_partitions(&name, first, assignments)?;
        if let Some(topic) = self.topics.get_mut(&name) {
            topic.partitions.append(&mut partitions);
        }
        Ok(Applied::Done)
    }

    /// Checks the placements and builds the partitions: every replica in sync (a new partition
    /// is empty), the first unfenced replica leads.
    fn new_partitions(
        &self,
        topic: &str,
        first: u32,
        assignments: &[PartitionAssignment],
    ) -> Result<Vec<PartitionState>, CommandError> {
        let unfenced: BTreeSet<BrokerId> = self.unfenced_brokers().collect();
        let mut partitions = Vec::with_capacity(assignments.len());
        for (assignment, offset) in assignments.iter().zip(0u32..) {
            let partition =
                first
                    .checked_add(offset)
                    .ok_or_else(|| CommandError::TooManyPartitions {
                        topic: topic.to_owned(),
                    })?;
            self.check_replicas(&assignment.replicas)
                .map_err(|problem| CommandError::InvalidReplicas {
                    topic: topic.to_owned(),
                    partition,
                    problem,
                })?;
            let state = PartitionState {
                replicas: assignment.replicas.clone(),
                leader: None,
                leader_epoch: LeaderEpoch::default(),
                isr: assignment.replicas.clone(),
            };
            partitions.push(PartitionState {
                leader: state.preferred_in_isr(&unfenced),
                ..state
            });
        }
        Ok(partitions)
    }

    /// A replica list is non-empty, without duplicates, and names registered brokers.
    fn check_replicas(&self, replicas: &[BrokerId]) -> Result<(), ReplicaProblem> {
        check_distinct(replicas)?;
        match replicas.iter().find(|b| !self.brokers.contains_key(b)) {
            Some(unknown) => Err(ReplicaProblem::UnknownBroker(*unknown)),
            None => Ok(()),
        }
    }

    fn partition_mut(
        &mut self,
        topic: &str,
        partition: u32,
    ) -> Result<&mut PartitionState, CommandError> {
        let state = self
            .topics
            .get_mut(topic)
            .ok_or_else(|| CommandError::UnknownTopic {
                name: topic.to_owned(),
            })?;
        usize::try_from(partition)
            .ok()
            .and_then(|p| state.partitions.get_mut(p))
            .ok_or_else(|| CommandError::UnknownPartition {
                topic: topic.to_owned(),
                partition,
            })
    }

    fn change_leader(
        &mut self,
        topic: String,
        partition: u32,
        leader: Option<BrokerId>,
        isr: Vec<BrokerId>,
    ) -> CommandResult {
        if let Some(leader) = leader
            && !self.is_unfenced(leader)
        {
            return Err(CommandError::IneligibleLeader {
                topic,
                partition,
                leader,
            });
        }
        let state = self.partition_mut(&topic, partition)?;
        if let Err(problem) = check_isr(&state.replicas, leader, &isr) {
            return Err(CommandError::InvalidReplicas {
                topic,
                partition,
                problem,
            });
        }
        if state.leader != leader {
            state.leader_epoch = next_epoch(state.leader_epoch);
        }
        state.leader = leader;
        state.isr = isr;
        Ok(Applied::Done)
    }

    fn alter_partition(
        &mut self,
        topic: String,
        partition: u32,
        leader: BrokerId,
        leader_epoch: LeaderEpoch,
        isr: Vec<BrokerId>,
    ) -> CommandResult {
        let state = self.partition_mut(&topic, partition)?;
        if state.leader != Some(leader) {
            return Err(CommandError::NotLeader {
                leader: state.leader,
                topic,
                partition,
                got: leader,
            });
        }
        if state.leader_epoch != leader_epoch {
            return Err(CommandError::StaleLeaderEpoch {
                current: state.leader_epoch,
                topic,
                partition,
                got: leader_epoch,
            });
        }
        if let Err(problem) = check_isr(&state.replicas, Some(leader), &isr) {
            return Err(CommandError::InvalidReplicas {
                topic,
                partition,
                problem,
            });
        }
        state.isr = isr;
        Ok(Applied::Done)
    }
}

impl PartitionState {
    /// The first replica (preference order) that is in the ISR and unfenced.
    fn preferred_in_isr(&self, unfenced: &BTreeSet<BrokerId>) -> Option<BrokerId> {
        self.replicas
            .iter()
            .find(|b| self.isr.contains(b) && unfenced.contains(b))
            .copied()
    }
}

/// An ISR is a non-empty, duplicate-free subset of the replicas that holds the leader.
fn check_isr(
    replicas: &[BrokerId],
    leader: Option<BrokerId>,
    isr: &[BrokerId],
) -> Result<(), ReplicaProblem> {
    check_distinct(isr)?;
    if let Some(stranger) = isr.iter().find(|b| !replicas.contains(b)) {
        return Err(ReplicaProblem::NotAReplica(*stranger));
    }
    match leader {
        Some(leader) if !isr.contains(&leader) => Err(ReplicaProblem::LeaderNotInIsr(leader)),
        _ => Ok(()),
    }
}

fn check_distinct(brokers: &[BrokerId]) -> Result<(), ReplicaProblem> {
    if brokers.is_empty() {
        return Err(ReplicaProblem::Empty);
    }
    let mut seen = BTreeSet::new();
    match brokers.iter().find(|b| !seen.insert(**b)) {
        Some(duplicate) => Err(ReplicaProblem::Duplicate(*duplicate)),
        None => Ok(()),
    }
}

/// Leader epochs wrap rather than panic; 2^32 leader changes of one partition do not happen.
fn next_epoch(epoch: LeaderEpoch) -> LeaderEpoch {
    LeaderEpoch(epoch.0.wrapping_add(1))
}

/// Kafka's rule: 1 to 249 of `[a-zA-Z0-9._-]`, and not `.` or `..`.
fn is_legal_topic_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TOPIC_NAME_LEN
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}
