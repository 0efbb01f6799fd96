//! The group coordinator: every consumer group's membership, its state machine and its
//! partition assignment, plus the group-level views over committed offsets.
//!
//! # Rebalances
//!
//! Any change — a member joins, leaves, is evicted, changes its subscription, or a subscribed
//! topic appears, disappears or grows — starts a rebalance (`PreparingRebalance`). Members that
//! own partitions are told to [`Assignment::Revoke`] them; members that own none count as
//! rejoined at once. When every member has rejoined (or those that didn't were removed at their
//! rebalance timeout), the generation is bumped, the group's assignor computes the new
//! assignment from the members' subscriptions and the current topics, and each member gets
//! [`Assignment::Assigned`] (`CompletingRebalance` → `Stable` in one step: there is no client
//! leader to wait for). Partitions are never handed out before their previous owner let go, so
//! within a group no partition has two owners; other groups are independent.
//!
//! # Timers
//!
//! Time comes from a [`Clock`]. [`GroupCoordinator::tick`] evicts members past their session
//! timeout, ends join phases past their deadline and notices topic changes; [`run`] calls it on
//! an interval and whenever the broker's metadata changes. Tests call `tick` after moving a
//! [`crate::clock::ManualClock`].
//!
//! # Locking
//!
//! One `parking_lot` mutex guards every group; it is never held across an `.await` or a file
//! access, and topic metadata is read from the broker before taking it.
//!
//! Not owned here: storing offsets (offsets.rs), assignment strategies (assignor.rs), the
//! administrative views — describe, list, lag, delete, reset (admin.rs).
//!
//! [`run`]: GroupCoordinator::run

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::assignor::{self, AssignorKind};
use super::member::{Assignment, JoinRequest, Member, MemberEntry, RemovalReason, Subscription};
use super::offsets::{self, CommittedOffset, OffsetAndMetadata, OffsetStore};
use super::{GenerationId, GroupError, GroupId, GroupState, MemberId, Result, TopicPartition};
use crate::broker::Broker;
use crate::clock::Clock;

/// Coordinator settings (Kafka's `group.*` broker configs).
#[derive(Debug, Clone)]
pub struct CoordinatorConfig {
    /// `group.min.session.timeout.ms`. Kafka's is 6 s for clients across a network; our members
    /// are in-process, so a shorter one is safe.
    pub min_session_timeout: Duration,
    /// `group.max.session.timeout.ms` (Kafka: 30 minutes).
    pub max_session_timeout: Duration,
    /// How often [`GroupCoordinator::run`] checks timers. Bounds how late an eviction can be.
    pub check_interval: Duration,
}

impl Default for CoordinatorConfig {
    fn default() -> Self {
        CoordinatorConfig {
            min_session_timeout: Duration::from_secs(1),
            max_session_timeout: Duration::from_secs(30 * 60),
            check_interval: Duration::from_millis(250),
        }
    }
}

/// Who commits, for Kafka's generation checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitScope {
    /// A consumer that assigns partitions itself and uses the group only to store offsets
    /// (Kafka's generation -1): allowed only while the group has no members.
    Simple,
    /// A member, committing under the generation it fetched in.
    Member {
        member_id: MemberId,
        generation_id: GenerationId,
    },
}

/// Topic name → partition count: the metadata a rebalance is computed from.
type TopicCounts = BTreeMap<String, u32>;

#[derive(Debug)]
pub(super) struct Group {
    pub(super) state: GroupState,
    pub(super) generation_id: GenerationId,
    pub(super) assignor: Option<AssignorKind>,
    pub(super) members: BTreeMap<MemberId, MemberEntry>,
    /// When the join phase stops waiting for members that haven't rejoined.
    rebalance_deadline: Option<Instant>,
    /// Partition counts of the subscribed topics the current generation was computed from.
    assigned_metadata: TopicCounts,
}

impl Group {
    fn new() -> Self {
        Group {
            state: GroupState::Empty,
            generation_id: GenerationId(0),
            assignor: None,
            members: BTreeMap::new(),
            rebalance_deadline: None,
            assigned_metadata: BTreeMap::new(),
        }
    }

    /// Starts a rebalance (or notes that one is under way). With no members left the group
    /// becomes `Empty`, bumping the generation as Kafka does.
    fn prepare_rebalance(&mut self, now: Instant) {
        if self.members.is_empty() {
            if self.state != GroupState::Empty {
                self.generation_id.0 += 1;
            }
            self.state = GroupState::Empty;
            self.assignor = None;
            self.rebalance_deadline = None;
            self.assigned_metadata.clear();
            return;
        }
        if self.state == GroupState::PreparingRebalance {
            return;
        }
        self.state = GroupState::PreparingRebalance;
        let mut wait = Duration::ZERO;
        for m in self.members.values_mut() {
            if m.assignment.is_empty() {
                m.joined = true;
                m.publish(Assignment::Joining);
            } else {
                m.joined = false;
                wait = wait.max(m.rebalance_timeout);
                m.publish(Assignment::Revoke {
                    generation_id: self.generation_id,
                    partitions: m.assignment.clone(),
                });
            }
        }
        self.rebalance_deadline = Some(now + wait);
    }

    /// Completes the rebalance if every member has rejoined: new generation, new assignment.
    fn try_complete(&mut self, group_id: &GroupId, topics: &TopicCounts) {
        if self.state != GroupState::PreparingRebalance || self.members.values().any(|m| !m.joined)
        {
            return;
        }
        self.state = GroupState::CompletingRebalance;
        self.generation_id.0 += 1;
        let mut subscriptions = BTreeMap::new();
        let mut counts = BTreeMap::new();
        for (id, m) in &mut self.members {
            m.resolved = m.subscription.resolve(topics);
            for t in &m.resolved {
                if let Some(&n) = topics.get(t) {
                    counts.insert(t.clone(), n);
                }
            }
            subscriptions.insert(id.clone(), m.resolved.clone());
        }
        let kind = self.assignor.unwrap_or_default();
        let mut plan = assignor::assign(kind, &subscriptions, &counts);
        for (id, m) in &mut self.members {
            m.assignment = plan.remove(id).unwrap_or_default();
            m.publish(Assignment::Assigned {
                generation_id: self.generation_id,
                partitions: m.assignment.clone(),
            });
        }
        self.assigned_metadata = counts;
        self.rebalance_deadline = None;
        self.state = GroupState::Stable;
        info!(
            group = %group_id,
            generation_id = self.generation_id.0,
            members = self.members.len(),
            assignor = %kind,
            "rebalance completed"
        );
    }

    /// Whether the topics behind the current assignment changed.
    fn metadata_changed(&self, topics: &TopicCounts) -> bool {
        let mut counts = BTreeMap::new();
        for m in self.members.values() {
            let resolved = m.subscription.resolve(topics);
            if resolved != m.resolved {
                return true;
            }
            for t in resolved {
                if let Some(&n) = topics.get(&t) {
                    counts.insert(t, n);
                }
            }
        }
        counts != self.assigned_metadata
    }

    fn remove(&mut self, id: &MemberId, reason: RemovalReason) -> bool {
        match self.members.remove(id) {
            Some(m) => {
                m.publish(Assignment::Removed(reason));
                true
            }
            None => false,
        }
    }

    fn member(&mut self, group_id: &GroupId, id: &MemberId) -> Result<&mut MemberEntry> {
        self.members
            .get_mut(id)
            .ok_or_else(|| GroupError::UnknownMemberId {
                group: group_id.clone(),
                member_id: id.to_string(),
            })
    }
}

/// The coordinator of every group on this broker, and the committed offsets behind them.
#[derive(Debug)]
pub struct GroupCoordinator {
    pub(super) broker: Arc<Broker>,
    clock: Arc<dyn Clock>,
    config: CoordinatorConfig,
    pub(super) offsets: OffsetStore,
    pub(super) groups: Mutex<BTreeMap<GroupId, Group>>,
}

impl GroupCoordinator {
    /// Opens the offsets store (creating and replaying `__consumer_offsets`). Blocking.
    ///
    /// # Errors
    /// As [`OffsetStore::open`].
    pub fn open(
        broker: Arc<Broker>,
        clock: Arc<dyn Clock>,
        config: CoordinatorConfig,
    ) -> Result<Arc<Self>> {
        let offsets = OffsetStore::open(Arc::clone(&broker), Arc::clone(&clock))?;
        Ok(Arc::new(GroupCoordinator {
            broker,
            clock,
            config,
            offsets,
            groups: Mutex::new(BTreeMap::new()),
        }))
    }

    /// [`Self::open`] with the system clock and the default settings.
    ///
    /// # Errors
    /// As [`OffsetStore::open`].
    pub fn open_with_defaults(broker: Arc<Broker>) -> Result<Arc<Self>> {
        Self::open(
            broker,
            Arc::new(crate::clock::SystemClock),
            CoordinatorConfig::default(),
        )
    }

    /// The broker that coordinates `group`: see [`OffsetStore::coordinator`].
    ///
    /// # Errors
    /// As there.
    pub async fn coordinator_of(&self, group: &GroupId) -> Result<crate::broker::Leader> {
        self.offsets.coordinator(group).await
    }

    /// The committed offsets store.
    pub fn offsets(&self) -> &OffsetStore {
        &self.offsets
    }

    pub fn broker(&self) -> &Arc<Broker> {
        &self.broker
    }

    fn topic_counts(&self) -> TopicCounts {
        self.broker
            .topics()
            .iter()
            .map(|t| (t.name().to_owned(), t.partition_count()))
            .collect()
    }

    /// Joins a group (creating it if needed) and starts a rebalance. The returned handle's
    /// assignment is [`Assignment::Assigned`] at once when no other member holds partitions,
    /// else [`Assignment::Joining`] until they have revoked theirs.
    ///
    /// # Errors
    /// [`GroupError::InvalidSessionTimeout`], [`GroupError::MemberIdInUse`],
    /// [`GroupError::InconsistentGroupProtocol`].
    pub fn join(self: &Arc<Self>, req: JoinRequest) -> Result<Member> {
        let (min, max) = (
            self.config.min_session_timeout,
            self.config.max_session_timeout,
        );
        if !(min..=max).contains(&req.session_timeout) {
            return Err(GroupError::InvalidSessionTimeout {
                requested: req.session_timeout,
                min,
                max,
            });
        }
        let topics = self.topic_counts();
        let now = self.clock.now();
        let mut groups = self.groups.lock();
        let group = groups
            .entry(req.group_id.clone())
            .or_insert_with(Group::new);
        if let (Some(current), Some(requested)) = (group.assignor, req.assignor)
            && current != requested
        {
            return Err(GroupError::InconsistentGroupProtocol {
                group: req.group_id.clone(),
                current,
                requested,
            });
        }
        let member_id = match &req.member_id {
            Some(id) if group.members.contains_key(id) => {
                return Err(GroupError::MemberIdInUse {
                    group: req.group_id.clone(),
                    member_id: id.clone(),
                });
            }
            Some(id) => id.clone(),
            None => MemberId::generate(&req.client_id),
        };
        group.assignor = Some(group.assignor.or(req.assignor).unwrap_or_default());
        let (entry, rx) = MemberEntry::new(&req, now);
        group.members.insert(member_id.clone(), entry);
        debug!(group = %req.group_id, member_id = %member_id, "member joined");
        group.prepare_rebalance(now);
        group.try_complete(&req.group_id, &topics);
        drop(groups);
        Ok(Member::new(Arc::clone(self), req.group_id, member_id, rx))
    }

    /// Runs `f` on a member of a group, then lets the group progress.
    fn with_member<T>(
        &self,
        group_id: &GroupId,
        member_id: &MemberId,
        f: impl FnOnce(&mut Group, Instant) -> Result<T>,
    ) -> Result<T> {
        let topics = self.topic_counts();
        let now = self.clock.now();
        let mut groups = self.groups.lock();
        let group = groups
            .get_mut(group_id)
            .ok_or_else(|| GroupError::UnknownMemberId {
                group: group_id.clone(),
                member_id: member_id.to_string(),
            })?;
        group.member(group_id, member_id)?.last_heartbeat = now;
        let out = f(group, now)?;
        group.try_complete(group_id, &topics);
        Ok(out)
    }

    /// Records that a member is alive. (Its assignment watch says whether it must act.)
    ///
    /// # Errors
    /// [`GroupError::UnknownMemberId`].
    pub fn heartbeat(&self, group_id: &GroupId, member_id: &MemberId) -> Result<()> {
        self.with_member(group_id, member_id, |_, _| Ok(()))
    }

    /// A member's acknowledgement of [`Assignment::Revoke`] (Kafka's JoinGroup during a
    /// rebalance). A no-op outside a rebalance or when it already rejoined.
    ///
    /// # Errors
    /// [`GroupError::UnknownMemberId`].
    pub fn rejoin(&self, group_id: &GroupId, member_id: &MemberId) -> Result<()> {
        self.with_member(group_id, member_id, |group, _| {
            if group.state == GroupState::PreparingRebalance {
                let m = group.member(group_id, member_id)?;
                if !m.joined {
                    m.joined = true;
                    m.assignment.clear();
                    m.publish(Assignment::Joining);
                }
            }
            Ok(())
        })
    }

    /// Replaces a member's subscription; a different one starts a rebalance.
    ///
    /// # Errors
    /// [`GroupError::UnknownMemberId`].
    pub fn update_subscription(
        &self,
        group_id: &GroupId,
        member_id: &MemberId,
        subscription: Subscription,
    ) -> Result<()> {
        self.with_member(group_id, member_id, |group, now| {
            let m = group.member(group_id, member_id)?;
            if m.subscription != subscription {
                m.subscription = subscription;
                group.prepare_rebalance(now);
            }
            Ok(())
        })
    }

    /// Removes a member; the rest rebalance.
    ///
    /// # Errors
    /// [`GroupError::UnknownMemberId`].
    pub fn leave(&self, group_id: &GroupId, member_id: &MemberId) -> Result<()> {
        let topics = self.topic_counts();
        let now = self.clock.now();
        let mut groups = self.groups.lock();
        let unknown = || GroupError::UnknownMemberId {
            group: group_id.clone(),
            member_id: member_id.to_string(),
        };
        let group = groups.get_mut(group_id).ok_or_else(unknown)?;
        if !group.remove(member_id, RemovalReason::Left) {
            return Err(unknown());
        }
        debug!(group = %group_id, member_id = %member_id, "member left");
        group.prepare_rebalance(now);
        group.try_complete(group_id, &topics);
        self.forget_if_unused(&mut groups, group_id);
        Ok(())
    }

    /// Drops an empty group's record once it has no committed offsets either (Kafka: `Dead`).
    pub(super) fn forget_if_unused(
        &self,
        groups: &mut BTreeMap<GroupId, Group>,
        group_id: &GroupId,
    ) {
        if groups.get(group_id).is_some_and(|g| g.members.is_empty())
            && !self.offsets.has_offsets(group_id)
        {
            groups.remove(group_id);
        }
    }

    /// Evicts members past their session timeout, ends join phases past their deadline
    /// (removing members that didn't rejoin), and rebalances groups whose subscribed topics
    /// changed. Returns how many members were removed.
    pub fn tick(&self) -> usize {
        let topics = self.topic_counts();
        let now = self.clock.now();
        let mut groups = self.groups.lock();
        let mut removed = 0;
        for (group_id, group) in groups.iter_mut() {
            let expired: Vec<MemberId> = group
                .members
                .iter()
                .filter(|(_, m)| {
                    now.saturating_duration_since(m.last_heartbeat) >= m.session_timeout
                })
                .map(|(id, _)| id.clone())
                .collect();
            let late: Vec<MemberId> = match group.rebalance_deadline {
                Some(deadline)
                    if group.state == GroupState::PreparingRebalance && now >= deadline =>
                {
                    group
                        .members
                        .iter()
                        .filter(|(id, m)| !m.joined && !expired.contains(id))
                        .map(|(id, _)| id.clone())
                        .collect()
                }
                _ => Vec::new(),
            };
            for id in &expired {
                info!(group = %group_id, member_id = %id, "member evicted: session timeout");
                group.remove(id, RemovalReason::SessionTimeout);
            }
            for id in &late {
                info!(group = %group_id, member_id = %id, "member removed: did not rejoin within its rebalance timeout");
                group.remove(id, RemovalReason::RebalanceTimeout);
            }
            let changed = group.state == GroupState::Stable && group.metadata_changed(&topics);
            if changed {
                info!(group = %group_id, "subscribed topics changed");
            }
            if !expired.is_empty() || !late.is_empty() || changed {
                group.prepare_rebalance(now);
            }
            group.try_complete(group_id, &topics);
            removed += expired.len() + late.len();
        }
        let ids: Vec<GroupId> = groups.keys().cloned().collect();
        for id in ids {
            self.forget_if_unused(&mut groups, &id);
        }
        removed
    }

    /// Runs [`Self::tick`] every `check_interval` and whenever topics change, and removes
    /// committed offsets of deleted topics (as Kafka does), until `stop`.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let mut interval = tokio::time::interval(self.config.check_interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut metadata = self.broker.watch_metadata();
        loop {
            let topics_changed = tokio::select! {
                () = stop.cancelled() => return,
                _ = interval.tick() => false,
                Ok(()) = metadata.changed() => true,
            };
            self.tick();
            if topics_changed && let Err(e) = self.forget_deleted_topics().await {
                warn!(cause = %e, "could not delete the committed offsets of deleted topics");
            }
        }
    }

    /// Deletes committed offsets whose topic or partition no longer exists.
    ///
    /// # Errors
    /// Writing the tombstones failed.
    pub async fn forget_deleted_topics(&self) -> Result<()> {
        let topics = self.topic_counts();
        for (group, offsets) in self.offsets.all() {
            let gone: Vec<TopicPartition> = offsets
                .into_keys()
                .filter(|tp| topics.get(&tp.topic).is_none_or(|&n| tp.partition >= n))
                .collect();
            if !gone.is_empty() {
                self.offsets.delete(&group, &gone).await?;
            }
        }
        Ok(())
    }

    /// Commits offsets after Kafka's checks: a [`CommitScope::Simple`] commit needs a group
    /// without members; a member's needs its current generation, and is refused while the
    /// group completes a rebalance. A member's commit also counts as its heartbeat.
    ///
    /// # Errors
    /// [`GroupError::UnknownMemberId`], [`GroupError::IllegalGeneration`],
    /// [`GroupError::RebalanceInProgress`], then as [`OffsetStore::commit`].
    pub async fn commit_offsets(
        &self,
        group_id: &GroupId,
        scope: CommitScope,
        offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<()> {
        self.check_commit(group_id, &scope)?;
        self.offsets.commit(group_id, offsets).await
    }

    fn check_commit(&self, group_id: &GroupId, scope: &CommitScope) -> Result<()> {
        let now = self.clock.now();
        let mut groups = self.groups.lock();
        let group = groups.get_mut(group_id);
        match scope {
            CommitScope::Simple => match group {
                Some(g) if !g.members.is_empty() => Err(GroupError::UnknownMemberId {
                    group: group_id.clone(),
                    member_id: String::new(),
                }),
                _ => Ok(()),
            },
            CommitScope::Member {
                member_id,
                generation_id,
            } => {
                let group = group.ok_or_else(|| GroupError::UnknownMemberId {
                    group: group_id.clone(),
                    member_id: member_id.to_string(),
                })?;
                let current = group.generation_id;
                let state = group.state;
                let m = group.member(group_id, member_id)?;
                if *generation_id != current {
                    return Err(GroupError::IllegalGeneration {
                        group: group_id.clone(),
                        generation_id: *generation_id,
                        current,
                    });
                }
                if state == GroupState::CompletingRebalance {
                    return Err(GroupError::RebalanceInProgress {
                        group: group_id.clone(),
                    });
                }
                m.last_heartbeat = now;
                Ok(())
            }
        }
    }

    /// `group`'s committed offsets (empty for an unknown group, as Kafka's OffsetFetch).
    pub fn committed_offsets(
        &self,
        group_id: &GroupId,
    ) -> BTreeMap<TopicPartition, CommittedOffset> {
        self.offsets.fetch(group_id)
    }

    /// Where `group` starts reading `tp`, whose `(log start, high watermark)` are `offsets`:
    /// see [`OffsetStore::starting_offset`].
    ///
    /// # Errors
    /// As there.
    pub fn starting_offset(
        &self,
        group_id: &GroupId,
        tp: &TopicPartition,
        reset: offsets::AutoOffsetReset,
        offsets: (u64, u64),
    ) -> Result<u64> {
        self.offsets.starting_offset(group_id, tp, reset, offsets)
    }
}

#[cfg(test)]
impl GroupCoordinator {
    /// Puts a group in `state`, for states the public API only passes through.
    pub(super) fn force_state(&self, group_id: &GroupId, state: GroupState) {
        if let Some(g) = self.groups.lock().get_mut(group_id) {
            g.state = state;
        }
    }
}
