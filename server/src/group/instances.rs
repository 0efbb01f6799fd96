//! Consumer instances of the Confluent REST Proxy v2: the per-instance state machine over the
//! [`GroupCoordinator`], the background task that heartbeats for a subscribed instance, and the
//! reaper of idle instances.
//!
//! An instance lives in this process (clients are pinned to the node that created it, through
//! `base_uri`). It either subscribes — and is then a member of its group — or is assigned
//! partitions by hand, and commits as Kafka's "simple" consumer. Each instance keeps its fetch
//! positions: the next offset to read per partition, reset when a rebalance takes its
//! partitions. A position outside the log is moved by `auto.offset.reset` as Kafka's fetch
//! answers `OFFSET_OUT_OF_RANGE` ([`Instance::reset_out_of_range`]).
//!
//! Liveness: while an instance is subscribed, a background task heartbeats for its member and
//! answers a rebalance at once (commit if `auto.commit.enable`, then rejoin), as the Java
//! consumer's heartbeat thread does. So a slow-polling client is not evicted and a rebalance
//! does not wait for every instance's next poll; an abandoned instance is instead destroyed by
//! the reaper after `consumer.instance.timeout.ms` without a request, which leaves its group.
//! Idleness is measured on a [`Clock`], so tests move time instead of sleeping.
//!
//! Not owned here: the HTTP shapes, reading and rendering records (`gateway/v2/consumers/`); the
//! group state machine (`coordinator.rs`). `F` is what the front-end keeps per instance to
//! render records (the gateway's embedded format); this module never looks inside it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{MutexGuard, watch};

use super::member::HEARTBEAT_INTERVAL;
use super::offsets::CommittedOffset;
use super::offsets::resolve_reset;
use super::{
    Assignment, AutoOffsetReset, CommitScope, GenerationId, GroupCoordinator, GroupError, GroupId,
    JoinRequest, Member, MemberId, OffsetAndMetadata, Result, Subscription, TopicPartition,
};
use crate::clock::Clock;

/// `consumer.instance.timeout.ms`: an instance without a request for this long is destroyed.
pub const DEFAULT_INSTANCE_TIMEOUT: Duration = Duration::from_millis(300_000);

/// Consumer-instance settings of the server.
#[derive(Debug, Clone, Copy)]
pub struct InstanceSettings {
    /// `consumer.instance.timeout.ms`.
    pub instance_timeout: Duration,
}

impl Default for InstanceSettings {
    fn default() -> Self {
        InstanceSettings {
            instance_timeout: DEFAULT_INSTANCE_TIMEOUT,
        }
    }
}

/// What the client chose when it created the instance, checked.
#[derive(Debug, Clone, Copy)]
pub struct InstanceConfig {
    /// `auto.offset.reset`: where a partition without a usable position starts.
    pub reset: AutoOffsetReset,
    /// `auto.commit.enable`: commit what was fetched before the next poll and on revocation.
    pub auto_commit: bool,
    /// `fetch.min.bytes`: a poll waits (up to its timeout) until it has this much.
    pub fetch_min_bytes: usize,
    /// `consumer.request.timeout.ms`: how long a poll waits by default.
    pub request_timeout_ms: u64,
}

/// An instance's key: its group id and its name, as the path spells them.
type InstanceKey = (String, String);

/// Every instance one front-end serves, keyed by (group, name).
#[derive(Debug)]
pub struct Instances<F> {
    map: parking_lot::Mutex<HashMap<InstanceKey, Arc<Instance<F>>>>,
    settings: InstanceSettings,
    clock: Arc<dyn Clock>,
    /// Started with the first instance, so a router that never serves one spawns no task.
    reaper: std::sync::Once,
}

impl<F: fmt::Debug + Send + Sync + 'static> Instances<F> {
    /// An empty registry whose instances expire after `settings.instance_timeout` without a
    /// request, as `clock` measures it.
    pub fn new(settings: InstanceSettings, clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(Instances {
            map: parking_lot::Mutex::new(HashMap::new()),
            settings,
            clock,
            reaper: std::sync::Once::new(),
        })
    }

    /// The instance, marked as used now.
    ///
    /// # Errors
    /// [`GroupError::UnknownInstance`].
    pub fn get(&self, group: &str, name: &str) -> Result<Arc<Instance<F>>> {
        let inst = self
            .map
            .lock()
            .get(&(group.to_owned(), name.to_owned()))
            .cloned()
            .ok_or_else(|| GroupError::UnknownInstance {
                group: group.to_owned(),
                instance: name.to_owned(),
            })?;
        inst.touch();
        Ok(inst)
    }

    /// Creates an instance named `name` (generated when `None`) in `group`.
    ///
    /// # Errors
    /// [`GroupError::InvalidInstanceName`] for an empty name, `.` or `..` (like a group id, the
    /// name is a path segment of every link to the instance); [`GroupError::InstanceExists`].
    pub fn create(
        self: &Arc<Self>,
        coordinator: Arc<GroupCoordinator>,
        group: GroupId,
        name: Option<String>,
        frontend: F,
        config: InstanceConfig,
    ) -> Result<Arc<Instance<F>>> {
        let name = match name {
            Some(n) if n.is_empty() || n == "." || n == ".." => {
                return Err(GroupError::InvalidInstanceName);
            }
            Some(n) => n,
            None => MemberId::generate("rest-consumer").to_string(),
        };
        let inst = Arc::new(Instance {
            group,
            name,
            frontend,
            config,
            coordinator,
            clock: Arc::clone(&self.clock),
            last_used: parking_lot::Mutex::new(self.clock.now()),
            state: tokio::sync::Mutex::new(InstanceState::default()),
        });
        {
            let mut map = self.map.lock();
            let key = (inst.group.as_str().to_owned(), inst.name.clone());
            if map.contains_key(&key) {
                return Err(GroupError::InstanceExists {
                    group: key.0,
                    instance: key.1,
                });
            }
            map.insert(key, Arc::clone(&inst));
        }
        self.start_reaper();
        Ok(inst)
    }

    /// Destroys an instance: it stops, auto-commits if enabled, and leaves its group.
    ///
    /// # Errors
    /// [`GroupError::UnknownInstance`].
    pub async fn destroy(&self, group: &str, name: &str) -> Result<()> {
        let inst = self
            .map
            .lock()
            .remove(&(group.to_owned(), name.to_owned()))
            .ok_or_else(|| GroupError::UnknownInstance {
                group: group.to_owned(),
                instance: name.to_owned(),
            })?;
        inst.close().await;
        Ok(())
    }

    /// Removes the instances idle for at least the instance timeout at `now`, for closing.
    fn take_expired(&self, now: Instant) -> Vec<Arc<Instance<F>>> {
        let timeout = self.settings.instance_timeout;
        let mut map = self.map.lock();
        let keys: Vec<_> = map
            .iter()
            .filter(|(_, i)| now.saturating_duration_since(*i.last_used.lock()) >= timeout)
            .map(|(k, _)| k.clone())
            .collect();
        keys.iter().filter_map(|k| map.remove(k)).collect()
    }

    /// Destroys idle instances, checking a few times per timeout, until the registry goes.
    fn start_reaper(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let timeout = self.settings.instance_timeout;
        self.reaper.call_once(|| {
            let tick = (timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(5));
            tokio::spawn(async move {
                let mut interval = tokio::time::interval(tick);
                interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    interval.tick().await;
                    let Some(reg) = weak.upgrade() else { return };
                    for inst in reg.take_expired(reg.clock.now()) {
                        tracing::info!(group = %inst.group, instance = %inst.name, "consumer instance expired");
                        inst.close().await;
                    }
                }
            });
        });
    }
}

/// One consumer instance.
#[derive(Debug)]
pub struct Instance<F> {
    group: GroupId,
    name: String,
    frontend: F,
    config: InstanceConfig,
    coordinator: Arc<GroupCoordinator>,
    clock: Arc<dyn Clock>,
    last_used: parking_lot::Mutex<Instant>,
    /// Tokio's mutex: a poll holds it across commits and reads.
    state: tokio::sync::Mutex<InstanceState>,
}

/// An instance's mode and positions, under its lock.
#[derive(Debug, Default)]
pub struct InstanceState {
    mode: Mode,
    /// The next offset to fetch, per partition fetched from (or sought) in this assignment.
    positions: BTreeMap<TopicPartition, u64>,
    /// The generation the positions belong to (subscribe mode).
    generation: Option<GenerationId>,
    /// The background task of a subscribed instance.
    task: Option<tokio::task::JoinHandle<()>>,
}

#[derive(Debug, Default)]
enum Mode {
    #[default]
    None,
    Subscribed {
        member: Member,
        subscription: Subscription,
    },
    Assigned(Vec<TopicPartition>),
}

impl InstanceState {
    /// The partitions this instance may fetch now.
    pub fn owned(&self) -> Vec<TopicPartition> {
        match &self.mode {
            Mode::None => Vec::new(),
            Mode::Subscribed { member, .. } => member.assignment().owned().to_vec(),
            Mode::Assigned(p) => p.clone(),
        }
    }

    /// The member's assignment watch, when subscribed.
    pub fn assignment_watch(&self) -> Option<watch::Receiver<Assignment>> {
        match &self.mode {
            Mode::Subscribed { member, .. } => Some(member.assignments()),
            Mode::None | Mode::Assigned(_) => None,
        }
    }

    /// The next offset to fetch from `tp`, once known.
    pub fn position(&self, tp: &TopicPartition) -> Option<u64> {
        self.positions.get(tp).copied()
    }

    /// Sets the next offset to fetch from `tp`.
    pub fn set_position(&mut self, tp: TopicPartition, offset: u64) {
        self.positions.insert(tp, offset);
    }

    /// Positions of the partitions fetched from, as offsets to commit.
    fn fetched(&self) -> BTreeMap<TopicPartition, OffsetAndMetadata> {
        self.positions
            .iter()
            .map(|(tp, &o)| (tp.clone(), OffsetAndMetadata::new(o)))
            .collect()
    }

    /// Checks that every partition is assigned to the instance now (Kafka's consumer refuses
    /// to seek others).
    fn check_assigned(&self, parts: &[TopicPartition]) -> Result<()> {
        let owned = self.owned();
        match parts.iter().find(|p| !owned.contains(p)) {
            Some(p) => Err(GroupError::PartitionNotAssigned(p.clone())),
            None => Ok(()),
        }
    }

    /// Forgets the positions of the assignment that ended.
    fn forget_positions(&mut self) {
        self.positions.clear();
        self.generation = None;
    }

    fn stop_task(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

impl<F: fmt::Debug + Send + Sync + 'static> Instance<F> {
    /// The group the instance belongs to.
    pub fn group(&self) -> &GroupId {
        &self.group
    }

    /// The instance's name (its member's `group.instance.id` when subscribed).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the front-end keeps for this instance.
    pub fn frontend(&self) -> &F {
        &self.frontend
    }

    /// The settings the client chose at creation.
    pub fn config(&self) -> &InstanceConfig {
        &self.config
    }

    /// Marks the instance as used now, which postpones its expiry.
    pub fn touch(&self) {
        *self.last_used.lock() = self.clock.now();
    }

    /// The instance's state, locked; held across a poll's commits and reads, released while it
    /// waits.
    pub async fn lock(&self) -> MutexGuard<'_, InstanceState> {
        self.state.lock().await
    }

    /// Subscribes: joins the group, or changes the subscription of the member it already is.
    ///
    /// # Errors
    /// [`GroupError::ExclusiveSubscription`] when partitions were assigned by hand; the
    /// coordinator's join errors.
    pub async fn subscribe(self: &Arc<Self>, subscription: Subscription) -> Result<()> {
        let mut st = self.state.lock().await;
        match &mut st.mode {
            Mode::Assigned(_) => Err(GroupError::ExclusiveSubscription {
                why: "this consumer has manually assigned partitions.",
            }),
            Mode::Subscribed {
                member,
                subscription: current,
            } => {
                member.subscribe(subscription.clone())?;
                *current = subscription;
                Ok(())
            }
            Mode::None => {
                self.join(&mut st, subscription)?;
                st.forget_positions();
                st.task = spawn_member_task(self, &st);
                Ok(())
            }
        }
    }

    /// The topics the subscription names now, among `existing` (name → partition count); none
    /// unless subscribed.
    pub async fn subscribed_topics(&self, existing: &BTreeMap<String, u32>) -> Vec<String> {
        match &self.state.lock().await.mode {
            Mode::Subscribed { subscription, .. } => {
                subscription.resolve(existing).into_iter().collect()
            }
            Mode::None | Mode::Assigned(_) => Vec::new(),
        }
    }

    /// Leaves the group after committing what was fetched (if auto commit is on); nothing when
    /// not subscribed.
    pub async fn unsubscribe(&self) {
        let mut st = self.state.lock().await;
        if matches!(st.mode, Mode::Subscribed { .. }) {
            st.stop_task();
            self.auto_commit(&st).await;
            if let Mode::Subscribed { member, .. } = std::mem::take(&mut st.mode) {
                let _ = member.leave();
            }
            st.forget_positions();
        }
    }

    /// Assigns these partitions by hand (none: no assignment); positions of partitions kept
    /// stay.
    ///
    /// # Errors
    /// [`GroupError::ExclusiveSubscription`] when subscribed.
    pub async fn assign(&self, partitions: BTreeSet<TopicPartition>) -> Result<()> {
        let partitions: Vec<TopicPartition> = partitions.into_iter().collect();
        let mut st = self.state.lock().await;
        if matches!(st.mode, Mode::Subscribed { .. }) {
            return Err(GroupError::ExclusiveSubscription {
                why: "this consumer is subscribed.",
            });
        }
        st.positions.retain(|k, _| partitions.contains(k));
        st.mode = if partitions.is_empty() {
            Mode::None
        } else {
            Mode::Assigned(partitions)
        };
        Ok(())
    }

    /// The partitions the instance reads now.
    pub async fn assignment(&self) -> Vec<TopicPartition> {
        self.state.lock().await.owned()
    }

    /// Commits `offsets` (the next offsets to read), or every position fetched to when `None`.
    ///
    /// # Errors
    /// As [`Member::commit`] or [`GroupCoordinator::commit_offsets`];
    /// [`GroupError::NoGeneration`] when subscribed but never assigned.
    pub async fn commit(
        &self,
        offsets: Option<BTreeMap<TopicPartition, OffsetAndMetadata>>,
    ) -> Result<()> {
        let st = self.state.lock().await;
        let offsets = offsets.unwrap_or_else(|| st.fetched());
        self.commit_in(&st, offsets).await
    }

    /// The group's committed offsets.
    pub fn committed_offsets(&self) -> BTreeMap<TopicPartition, CommittedOffset> {
        self.coordinator.committed_offsets(&self.group)
    }

    /// Moves positions to `targets`, once a pending rebalance is answered.
    ///
    /// # Errors
    /// [`GroupError::PartitionNotAssigned`] (then nothing moves); a failed rejoin.
    pub async fn seek(self: &Arc<Self>, targets: Vec<(TopicPartition, u64)>) -> Result<()> {
        let mut st = self.state.lock().await;
        self.handle_assignment(&mut st).await?;
        let parts: Vec<_> = targets.iter().map(|(t, _)| t.clone()).collect();
        st.check_assigned(&parts)?;
        for (t, o) in targets {
            st.positions.insert(t, o);
        }
        Ok(())
    }

    /// Moves the positions of `parts` to the offset `target` gives each (the log start or end,
    /// read under the instance's lock).
    ///
    /// # Errors
    /// [`GroupError::PartitionNotAssigned`]; `target`'s.
    pub async fn seek_with(
        self: &Arc<Self>,
        parts: Vec<TopicPartition>,
        target: impl Fn(&TopicPartition) -> Result<u64>,
    ) -> Result<()> {
        let mut st = self.state.lock().await;
        self.handle_assignment(&mut st).await?;
        st.check_assigned(&parts)?;
        for t in parts {
            let o = target(&t)?;
            st.positions.insert(t, o);
        }
        Ok(())
    }

    /// What a poll does first: auto-commit what the previous poll returned and heartbeat, as
    /// the Java consumer's poll does.
    ///
    /// # Errors
    /// [`GroupError::NotSubscribed`] without a subscription or assignment (the Java
    /// consumer's `IllegalStateException`).
    pub async fn begin_poll(&self, st: &InstanceState) -> Result<()> {
        match &st.mode {
            Mode::Subscribed { member, .. } => {
                if matches!(member.assignment(), Assignment::Assigned { .. }) {
                    self.auto_commit(st).await;
                }
                let _ = member.heartbeat();
            }
            Mode::Assigned(_) => self.auto_commit(st).await,
            Mode::None => return Err(GroupError::NotSubscribed),
        }
        Ok(())
    }

    /// Gives every partition of `owned` without a position its starting offset: the group's
    /// committed offset, else `auto.offset.reset`.
    ///
    /// # Errors
    /// As [`GroupCoordinator::starting_offset`].
    pub async fn start_positions(
        &self,
        st: &mut InstanceState,
        owned: &[TopicPartition],
    ) -> Result<()> {
        for t in owned {
            if !st.positions.contains_key(t) {
                let broker = self.coordinator.broker();
                let p = broker.partition(&t.topic, t.partition)?;
                let offsets = broker.list_offsets(&p).await?;
                let o =
                    self.coordinator
                        .starting_offset(&self.group, t, self.config.reset, offsets)?;
                st.positions.insert(t.clone(), o);
            }
        }
        Ok(())
    }

    /// The position after a fetch at `pos` fell outside `[log start, high watermark]` (behind
    /// retention, or sought past the end): as Kafka's consumer on `OFFSET_OUT_OF_RANGE`, the
    /// `auto.offset.reset` policy moves it, and with `none` the poll fails until the client
    /// seeks. The log end itself is in range: it is the next offset to be written.
    ///
    /// # Errors
    /// [`GroupError::OffsetOutOfRange`] with `auto.offset.reset=none`.
    pub fn reset_out_of_range(
        &self,
        t: &TopicPartition,
        offsets: (u64, u64),
        pos: u64,
    ) -> Result<u64> {
        if self.config.reset == AutoOffsetReset::None {
            let (log_start, log_end) = offsets;
            return Err(GroupError::OffsetOutOfRange {
                partition: t.clone(),
                position: pos,
                log_start,
                log_end,
            });
        }
        resolve_reset(t, offsets, self.config.reset)
    }

    /// Answers a pending rebalance: on revocation commit (auto commit), forget positions and
    /// rejoin; when evicted join again; on a new generation start from fresh positions.
    ///
    /// # Errors
    /// A failed rejoin or join.
    pub async fn handle_assignment(self: &Arc<Self>, st: &mut InstanceState) -> Result<()> {
        let Mode::Subscribed { member, .. } = &st.mode else {
            return Ok(());
        };
        match member.assignment() {
            Assignment::Revoke { .. } => {
                self.auto_commit(st).await;
                st.forget_positions();
                if let Mode::Subscribed { member, .. } = &st.mode {
                    member.rejoin()?;
                }
            }
            Assignment::Removed(_) => {
                // Evicted (say, by a rebalance it missed): join again with the same
                // subscription, as the Java consumer does.
                let Mode::Subscribed { subscription, .. } = std::mem::take(&mut st.mode) else {
                    return Ok(());
                };
                st.forget_positions();
                st.stop_task();
                self.join(st, subscription)?;
                st.task = spawn_member_task(self, st);
            }
            Assignment::Assigned { generation_id, .. } => {
                if st.generation != Some(generation_id) {
                    st.positions.clear();
                    st.generation = Some(generation_id);
                }
            }
            Assignment::Joining => {}
        }
        Ok(())
    }

    /// Commits `offsets` in the instance's mode: as the member (under its current generation)
    /// or as a simple consumer.
    async fn commit_in(
        &self,
        st: &InstanceState,
        offsets: BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        match &st.mode {
            Mode::Subscribed { member, .. } => {
                let generation = member
                    .assignment()
                    .generation_id()
                    .or(st.generation)
                    .ok_or(GroupError::NoGeneration)?;
                member.commit(generation, offsets).await
            }
            Mode::Assigned(_) | Mode::None => {
                self.coordinator
                    .commit_offsets(&self.group, CommitScope::Simple, &offsets)
                    .await
            }
        }
    }

    /// Auto-commits what was fetched, if enabled; failures (a rebalance under way) are logged.
    async fn auto_commit(&self, st: &InstanceState) {
        if !self.config.auto_commit || matches!(st.mode, Mode::None) {
            return;
        }
        if let Err(e) = self.commit_in(st, st.fetched()).await {
            tracing::debug!(group = %self.group, instance = %self.name, cause = ?e, "auto commit failed");
        }
    }

    fn join(&self, st: &mut InstanceState, subscription: Subscription) -> Result<()> {
        let mut req = JoinRequest::new(self.group.clone(), self.name.clone(), subscription.clone());
        req.instance_id = Some(self.name.clone());
        let member = self.coordinator.join(req)?;
        st.mode = Mode::Subscribed {
            member,
            subscription,
        };
        Ok(())
    }

    async fn close(&self) {
        let mut st = self.state.lock().await;
        st.stop_task();
        if self.config.auto_commit && matches!(st.mode, Mode::Subscribed { .. }) {
            self.auto_commit(&st).await;
        }
        if let Mode::Subscribed { member, .. } = std::mem::take(&mut st.mode) {
            let _ = member.leave();
        }
        st.positions.clear();
    }
}

/// The background task of a subscribed instance: heartbeats, and answers revocations.
fn spawn_member_task<F: fmt::Debug + Send + Sync + 'static>(
    inst: &Arc<Instance<F>>,
    st: &InstanceState,
) -> Option<tokio::task::JoinHandle<()>> {
    let Mode::Subscribed { member, .. } = &st.mode else {
        return None;
    };
    let mut rx = member.assignments();
    let weak: Weak<Instance<F>> = Arc::downgrade(inst);
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(HEARTBEAT_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let changed = tokio::select! {
                r = rx.changed() => {
                    if r.is_err() {
                        return;
                    }
                    true
                }
                _ = tick.tick() => false,
            };
            let Some(inst) = weak.upgrade() else { return };
            let mut st = inst.state.lock().await;
            let Mode::Subscribed { member, .. } = &st.mode else {
                return;
            };
            if changed {
                if matches!(member.assignment(), Assignment::Revoke { .. }) {
                    let _ = inst.handle_assignment(&mut st).await;
                }
            } else if member.heartbeat().is_err() {
                // Removed: the next poll joins again.
                return;
            }
        }
    }))
}
