//! Group administration over the coordinator and the committed offsets: list, describe, lag
//! (and its Prometheus gauges), delete, and admin offset resets — what the v3 consumer-group
//! API and `/metrics` read.
//!
//! Not owned here: membership and rebalances (coordinator.rs).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use tracing::info;

use super::coordinator::{CommitScope, GroupCoordinator};
use super::member::Subscription;
use super::offsets::{self, OffsetAndMetadata, OffsetResetSpec};
use super::{GenerationId, GroupError, GroupId, GroupState, MemberId, Result, TopicPartition};
use crate::group::AssignorKind;

/// A group as `describe` reports it.
#[derive(Debug, Clone)]
pub struct GroupDescription {
    pub group_id: GroupId,
    pub state: GroupState,
    pub generation_id: GenerationId,
    /// The assignor of the current members; `None` while the group is empty.
    pub assignor: Option<AssignorKind>,
    /// Only stores offsets and never had members here (Kafka: no protocol type).
    pub is_simple: bool,
    /// Sorted by member id.
    pub members: Vec<MemberDescription>,
}

/// A member as `describe` reports it.
#[derive(Debug, Clone)]
pub struct MemberDescription {
    pub member_id: MemberId,
    pub client_id: String,
    pub instance_id: Option<String>,
    pub subscription: Subscription,
    /// What it owns (or, while revoking, still holds), sorted.
    pub assignment: Vec<TopicPartition>,
}

/// One line of `list_groups`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    pub group_id: GroupId,
    pub state: GroupState,
    pub is_simple: bool,
}

/// Lag of one partition with a committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionLag {
    pub topic_partition: TopicPartition,
    /// The committed offset.
    pub current_offset: u64,
    /// The partition's high watermark.
    pub log_end_offset: u64,
    /// `log_end_offset - current_offset`, 0 when the commit is ahead.
    pub lag: u64,
    /// The member that owns the partition now, if any.
    pub owner: Option<PartitionOwner>,
}

/// The member owning a partition, as lag reports name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionOwner {
    pub member_id: MemberId,
    pub client_id: String,
    pub instance_id: Option<String>,
}

impl GroupCoordinator {
    /// Every group with members or committed offsets, sorted by id.
    pub fn list_groups(&self) -> Vec<GroupListing> {
        let mut out: BTreeMap<GroupId, GroupListing> = self
            .offsets
            .groups()
            .into_iter()
            .map(|g| {
                let listing = GroupListing {
                    group_id: g.clone(),
                    state: GroupState::Empty,
                    is_simple: true,
                };
                (g, listing)
            })
            .collect();
        for (id, g) in self.groups.lock().iter() {
            out.insert(
                id.clone(),
                GroupListing {
                    group_id: id.clone(),
                    state: g.state,
                    is_simple: false,
                },
            );
        }
        out.into_values().collect()
    }

    /// A group's state, generation, assignor and members.
    ///
    /// # Errors
    /// [`GroupError::GroupIdNotFound`] when it has neither members nor committed offsets.
    pub fn describe_group(&self, group_id: &GroupId) -> Result<GroupDescription> {
        if let Some(g) = self.groups.lock().get(group_id) {
            return Ok(GroupDescription {
                group_id: group_id.clone(),
                state: g.state,
                generation_id: g.generation_id,
                assignor: g.assignor,
                is_simple: false,
                members: g
                    .members
                    .iter()
                    .map(|(id, m)| MemberDescription {
                        member_id: id.clone(),
                        client_id: m.client_id.clone(),
                        instance_id: m.instance_id.clone(),
                        subscription: m.subscription.clone(),
                        assignment: m.assignment.clone(),
                    })
                    .collect(),
            });
        }
        if self.offsets.has_offsets(group_id) {
            return Ok(GroupDescription {
                group_id: group_id.clone(),
                state: GroupState::Empty,
                generation_id: GenerationId(0),
                assignor: None,
                is_simple: true,
                members: Vec::new(),
            });
        }
        Err(GroupError::GroupIdNotFound(group_id.clone()))
    }

    /// Lag of every partition `group` has a committed offset for, sorted by partition, with the
    /// member that owns it now. Partitions of deleted topics are left out.
    ///
    /// # Errors
    /// [`GroupError::GroupIdNotFound`].
    pub async fn lag(&self, group_id: &GroupId) -> Result<Vec<PartitionLag>> {
        let description = self.describe_group(group_id)?;
        let owners: BTreeMap<&TopicPartition, &MemberDescription> = description
            .members
            .iter()
            .flat_map(|m| m.assignment.iter().map(move |tp| (tp, m)))
            .collect();
        let mut out = Vec::new();
        for (tp, committed) in self.offsets.fetch(group_id) {
            let Ok(p) = self.broker.partition(&tp.topic, tp.partition) else {
                continue;
            };
            let (_, high_watermark) = self.broker.list_offsets(&p).await?;
            let owner = owners.get(&tp).map(|m| PartitionOwner {
                member_id: m.member_id.clone(),
                client_id: m.client_id.clone(),
                instance_id: m.instance_id.clone(),
            });
            out.push(PartitionLag {
                current_offset: committed.offset,
                log_end_offset: high_watermark,
                lag: high_watermark.saturating_sub(committed.offset),
                owner,
                topic_partition: tp,
            });
        }
        Ok(out)
    }

    /// Appends the `runnel_consumer_group_lag` gauge family (Prometheus text format). A
    /// partition whose leader cannot be asked is left out of this scrape.
    pub async fn render_lag_metrics(&self, out: &mut String) {
        out.push_str(
            "# HELP runnel_consumer_group_lag High watermark minus committed offset, per group and partition.\n",
        );
        out.push_str("# TYPE runnel_consumer_group_lag gauge\n");
        for (group, offsets) in self.offsets.all() {
            for (tp, committed) in offsets {
                let Ok(p) = self.broker.partition(&tp.topic, tp.partition) else {
                    continue;
                };
                let Ok((_, high_watermark)) = self.broker.list_offsets(&p).await else {
                    continue;
                };
                let lag = high_watermark.saturating_sub(committed.offset);
                let _ = writeln!(
                    out,
                    "runnel_consumer_group_lag{{group=\"{}\",topic=\"{}\",partition=\"{}\"}} {lag}",
                    escape_label(group.as_str()),
                    escape_label(&tp.topic),
                    tp.partition
                );
            }
        }
    }

    /// Deletes a group with no members: tombstones for all its offsets (Kafka's DeleteGroups).
    ///
    /// # Errors
    /// [`GroupError::GroupIdNotFound`], [`GroupError::NonEmptyGroup`], or the write failed.
    pub async fn delete_group(&self, group_id: &GroupId) -> Result<()> {
        self.require_empty(group_id)?;
        let partitions: Vec<TopicPartition> = self.offsets.fetch(group_id).into_keys().collect();
        let known = self.groups.lock().contains_key(group_id);
        if partitions.is_empty() && !known {
            return Err(GroupError::GroupIdNotFound(group_id.clone()));
        }
        self.offsets.delete(group_id, &partitions).await?;
        let mut groups = self.groups.lock();
        self.forget_if_unused(&mut groups, group_id);
        Ok(())
    }

    /// Deletes a group's committed offsets of `topics` (Kafka's OffsetDelete). Returns the
    /// partitions whose offsets were deleted.
    ///
    /// # Errors
    /// [`GroupError::GroupIdNotFound`], [`GroupError::GroupSubscribedToTopic`] when a member
    /// consumes one of the topics, or the write failed.
    pub async fn delete_offsets(
        &self,
        group_id: &GroupId,
        topics: &[String],
    ) -> Result<Vec<TopicPartition>> {
        let description = self.describe_group(group_id)?;
        for m in &description.members {
            if let Some(t) = topics
                .iter()
                .find(|t| m.assignment.iter().any(|tp| &tp.topic == *t) || subscribes(m, t))
            {
                return Err(GroupError::GroupSubscribedToTopic {
                    group: group_id.clone(),
                    topic: t.clone(),
                });
            }
        }
        let partitions: Vec<TopicPartition> = self
            .offsets
            .fetch(group_id)
            .into_keys()
            .filter(|tp| topics.contains(&tp.topic))
            .collect();
        self.offsets.delete(group_id, &partitions).await?;
        Ok(partitions)
    }

    fn require_empty(&self, group_id: &GroupId) -> Result<()> {
        match self.groups.lock().get(group_id) {
            Some(g) if !g.members.is_empty() => Err(GroupError::NonEmptyGroup {
                group: group_id.clone(),
                state: g.state,
            }),
            _ => Ok(()),
        }
    }

    /// Moves a group's committed offsets (`kafka-consumer-groups --reset-offsets --execute`):
    /// for every partition of `topics`, or without `topics` every partition the group has a
    /// committed offset for. Only while the group has no members, as Kafka requires. Returns the
    /// new offsets.
    ///
    /// # Errors
    /// [`GroupError::NonEmptyGroup`]; [`GroupError::GroupIdNotFound`] without `topics` for a
    /// group with no offsets; [`GroupError::Broker`] for an unknown topic; the write failed.
    pub async fn reset_offsets(
        &self,
        group_id: &GroupId,
        spec: OffsetResetSpec,
        topics: Option<&[String]>,
    ) -> Result<BTreeMap<TopicPartition, u64>> {
        self.require_empty(group_id)?;
        let mut partitions = Vec::new();
        match topics {
            Some(topics) => {
                for t in topics {
                    let topic = self.broker.topic(t)?;
                    partitions.extend(topic.partitions().iter().cloned());
                }
            }
            None => {
                let committed = self.offsets.fetch(group_id);
                if committed.is_empty() {
                    return Err(GroupError::GroupIdNotFound(group_id.clone()));
                }
                for tp in committed.keys() {
                    if let Ok(p) = self.broker.partition(&tp.topic, tp.partition) {
                        partitions.push(p);
                    }
                }
            }
        }
        let broker = std::sync::Arc::clone(&self.broker);
        let targets = tokio::task::spawn_blocking(move || {
            partitions
                .iter()
                .map(|p| {
                    let tp = TopicPartition::new(p.topic(), p.id());
                    offsets::reset_target(&broker, p, spec).map(|o| (tp, o))
                })
                .collect::<Result<BTreeMap<_, _>>>()
        })
        .await
        .map_err(GroupError::TaskFailed)??;
        let commits = targets
            .iter()
            .map(|(tp, o)| (tp.clone(), OffsetAndMetadata::new(*o)))
            .collect();
        self.commit_offsets(group_id, CommitScope::Simple, &commits)
            .await
            .map_err(|e| match e {
                // A member joined since the check above.
                GroupError::UnknownMemberId { .. } => GroupError::NonEmptyGroup {
                    group: group_id.clone(),
                    state: GroupState::PreparingRebalance,
                },
                other => other,
            })?;
        info!(group = %group_id, partitions = targets.len(), ?spec, "offsets reset");
        Ok(targets)
    }
}

fn subscribes(m: &MemberDescription, topic: &str) -> bool {
    match &m.subscription {
        Subscription::Topics(t) => t.contains(topic),
        Subscription::Pattern(re) => re.is_match(topic),
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
