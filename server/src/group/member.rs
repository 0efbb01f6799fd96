//! A group member as its consumer sees it: the [`Member`] handle, what it asks for when it joins
//! ([`JoinRequest`], [`Subscription`]), and what the coordinator tells it ([`Assignment`]).
//!
//! The coordinator keeps one [`MemberEntry`] per member and publishes that member's
//! [`Assignment`] on a `tokio::sync::watch` channel, so a consumer task learns of a rebalance by
//! awaiting `changed()`, never by polling. Dropping the handle leaves the group, so a closed
//! WebSocket or a deleted consumer instance cannot linger until its session times out.
//!
//! Not owned here: the state machine (coordinator.rs).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::coordinator::{CommitScope, GroupCoordinator};
use super::offsets::OffsetAndMetadata;
use super::{AssignorKind, GenerationId, GroupError, GroupId, MemberId, Result, TopicPartition};
use crate::broker::naming;

/// Kafka's `session.timeout.ms` default (since 3.0).
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(45);
/// How long a rebalance waits for this member to revoke its partitions and rejoin before
/// removing it (Kafka's `max.poll.interval.ms`, whose default is 5 minutes). Members here are
/// tasks in this process that react at once, so a minute is generous.
pub const DEFAULT_REBALANCE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a member that lives in this process (a v2 consumer instance, a WebSocket in group
/// mode) heartbeats: well inside the default session timeout, so a slow client is not evicted.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(3);

/// What a member consumes: named topics, or every topic whose whole name matches a regular
/// expression (as Java's `Pattern.matcher(topic).matches()`), re-evaluated whenever topics
/// are created or deleted. Patterns never match internal topics (Kafka's
/// `exclude.internal.topics=true`).
#[derive(Debug, Clone)]
pub enum Subscription {
    Topics(BTreeSet<String>),
    Pattern(regex::Regex),
}

impl Subscription {
    /// A subscription to these topics (they need not exist yet).
    pub fn topics<I, S>(topics: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Subscription::Topics(topics.into_iter().map(Into::into).collect())
    }

    /// A subscription to every topic whose whole name matches `pattern`.
    ///
    /// # Errors
    /// [`GroupError::InvalidPattern`].
    pub fn pattern(pattern: &str) -> Result<Self> {
        regex::Regex::new(&format!("^(?:{pattern})$"))
            .map(Subscription::Pattern)
            .map_err(GroupError::InvalidPattern)
    }

    /// The pattern as the subscriber wrote it, for a pattern subscription.
    pub fn pattern_str(&self) -> Option<&str> {
        match self {
            Subscription::Topics(_) => None,
            Subscription::Pattern(re) => re
                .as_str()
                .strip_prefix("^(?:")
                .and_then(|s| s.strip_suffix(")$")),
        }
    }

    /// The topics this subscription names now, given the existing topics.
    pub fn resolve(&self, existing: &BTreeMap<String, u32>) -> BTreeSet<String> {
        match self {
            Subscription::Topics(topics) => topics.clone(),
            Subscription::Pattern(re) => existing
                .keys()
                .filter(|t| !naming::is_internal(t) && re.is_match(t))
                .cloned()
                .collect(),
        }
    }
}

impl PartialEq for Subscription {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Subscription::Topics(a), Subscription::Topics(b)) => a == b,
            (Subscription::Pattern(a), Subscription::Pattern(b)) => a.as_str() == b.as_str(),
            (Subscription::Topics(_), Subscription::Pattern(_))
            | (Subscription::Pattern(_), Subscription::Topics(_)) => false,
        }
    }
}

/// A request to join a group.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    pub group_id: GroupId,
    /// The member id to use; `None` generates `<client_id>-<uuid>`.
    pub member_id: Option<MemberId>,
    /// Kafka's `client.id`, shown by describe and lag.
    pub client_id: String,
    /// Kafka's `group.instance.id`, shown by describe; static membership is not implemented.
    pub instance_id: Option<String>,
    pub subscription: Subscription,
    /// Removed when no heartbeat (or commit, or rejoin) arrives for this long.
    pub session_timeout: Duration,
    /// How long a rebalance waits for this member to rejoin.
    pub rebalance_timeout: Duration,
    /// The assignor, fixed by the group's first member; `None` takes the group's (range for a
    /// new group). A different one from a later member is refused.
    pub assignor: Option<AssignorKind>,
}

impl JoinRequest {
    /// A request with Kafka's default timeouts and no chosen member id or assignor.
    pub fn new(
        group_id: GroupId,
        client_id: impl Into<String>,
        subscription: Subscription,
    ) -> Self {
        JoinRequest {
            group_id,
            member_id: None,
            client_id: client_id.into(),
            instance_id: None,
            subscription,
            session_timeout: DEFAULT_SESSION_TIMEOUT,
            rebalance_timeout: DEFAULT_REBALANCE_TIMEOUT,
            assignor: None,
        }
    }
}

/// Why a member left its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalReason {
    /// It left (`leave`, or its handle was dropped).
    Left,
    /// No heartbeat within its session timeout.
    SessionTimeout,
    /// It did not rejoin within its rebalance timeout.
    RebalanceTimeout,
}

/// What a member should be doing, published on its watch channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    /// Joined; waiting for the other members to rejoin before the new generation starts.
    Joining,
    /// Owns `partitions` in `generation_id`; commit with that generation.
    Assigned {
        generation_id: GenerationId,
        partitions: Vec<TopicPartition>,
    },
    /// A rebalance started: stop fetching `partitions`, commit what was processed (still
    /// accepted under `generation_id`), then call [`Member::rejoin`].
    Revoke {
        generation_id: GenerationId,
        partitions: Vec<TopicPartition>,
    },
    /// No longer in the group; a new `join` is needed.
    Removed(RemovalReason),
}

impl Assignment {
    /// The partitions this member may fetch now: the assigned ones, else none.
    pub fn owned(&self) -> &[TopicPartition] {
        match self {
            Assignment::Assigned { partitions, .. } => partitions,
            Assignment::Joining | Assignment::Revoke { .. } | Assignment::Removed(_) => &[],
        }
    }

    /// The generation of an assignment or of a pending revocation.
    pub fn generation_id(&self) -> Option<GenerationId> {
        match self {
            Assignment::Assigned { generation_id, .. }
            | Assignment::Revoke { generation_id, .. } => Some(*generation_id),
            Assignment::Joining | Assignment::Removed(_) => None,
        }
    }
}

/// The coordinator's record of one member.
#[derive(Debug)]
pub(super) struct MemberEntry {
    pub(super) client_id: String,
    pub(super) instance_id: Option<String>,
    pub(super) subscription: Subscription,
    /// The subscription resolved at the last completed rebalance.
    pub(super) resolved: BTreeSet<String>,
    pub(super) session_timeout: Duration,
    pub(super) rebalance_timeout: Duration,
    pub(super) last_heartbeat: Instant,
    /// Has (re)joined the rebalance in progress: holds nothing and is ready for the next
    /// generation. Meaningless outside `PreparingRebalance`.
    pub(super) joined: bool,
    /// The partitions it owns (or, while revoking, still holds).
    pub(super) assignment: Vec<TopicPartition>,
    pub(super) tx: watch::Sender<Assignment>,
}

impl MemberEntry {
    pub(super) fn new(req: &JoinRequest, now: Instant) -> (Self, watch::Receiver<Assignment>) {
        let (tx, rx) = watch::channel(Assignment::Joining);
        let entry = MemberEntry {
            client_id: req.client_id.clone(),
            instance_id: req.instance_id.clone(),
            subscription: req.subscription.clone(),
            resolved: BTreeSet::new(),
            session_timeout: req.session_timeout,
            rebalance_timeout: req.rebalance_timeout,
            last_heartbeat: now,
            joined: true,
            assignment: Vec::new(),
            tx,
        };
        (entry, rx)
    }

    /// Publishes `a` unless the member already sees exactly that.
    pub(super) fn publish(&self, a: Assignment) {
        self.tx.send_if_modified(|current| {
            if *current == a {
                false
            } else {
                *current = a;
                true
            }
        });
    }
}

/// A consumer's membership in a group. Dropping it leaves the group.
#[derive(Debug)]
pub struct Member {
    coordinator: Arc<GroupCoordinator>,
    group_id: GroupId,
    member_id: MemberId,
    assignments: watch::Receiver<Assignment>,
    /// Set by [`Member::leave`], so `Drop` doesn't leave twice.
    left: bool,
}

impl Member {
    pub(super) fn new(
        coordinator: Arc<GroupCoordinator>,
        group_id: GroupId,
        member_id: MemberId,
        assignments: watch::Receiver<Assignment>,
    ) -> Self {
        Member {
            coordinator,
            group_id,
            member_id,
            assignments,
            left: false,
        }
    }

    pub fn member_id(&self) -> &MemberId {
        &self.member_id
    }

    pub fn group_id(&self) -> &GroupId {
        &self.group_id
    }

    /// What this member should be doing now.
    pub fn assignment(&self) -> Assignment {
        self.assignments.borrow().clone()
    }

    /// A receiver of this member's assignments: `changed().await` wakes on every rebalance.
    pub fn assignments(&self) -> watch::Receiver<Assignment> {
        self.assignments.clone()
    }

    /// Tells the coordinator this member is alive.
    ///
    /// # Errors
    /// [`GroupError::UnknownMemberId`] once the member was removed.
    pub fn heartbeat(&self) -> Result<()> {
        self.coordinator.heartbeat(&self.group_id, &self.member_id)
    }

    /// Acknowledges a [`Assignment::Revoke`]: this member stopped fetching and committed, and is
    /// ready for the next generation. Does nothing when no rebalance waits for it.
    ///
    /// # Errors
    /// [`GroupError::UnknownMemberId`] once the member was removed.
    pub fn rejoin(&self) -> Result<()> {
        self.coordinator.rejoin(&self.group_id, &self.member_id)
    }

    /// Changes the subscription; the group rebalances if it differs.
    ///
    /// # Errors
    /// [`GroupError::UnknownMemberId`] once the member was removed.
    pub fn subscribe(&self, subscription: Subscription) -> Result<()> {
        self.coordinator
            .update_subscription(&self.group_id, &self.member_id, subscription)
    }

    /// Commits offsets as this member in `generation_id` (the generation the records were
    /// fetched under); returns once they are stored.
    ///
    /// # Errors
    /// As [`GroupCoordinator::commit_offsets`].
    pub async fn commit(
        &self,
        generation_id: GenerationId,
        offsets: BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<()> {
        let scope = CommitScope::Member {
            member_id: self.member_id.clone(),
            generation_id,
        };
        self.coordinator
            .commit_offsets(&self.group_id, scope, &offsets)
            .await
    }

    /// Leaves the group; the others rebalance.
    ///
    /// # Errors
    /// [`GroupError::UnknownMemberId`] if it was already removed.
    pub fn leave(mut self) -> Result<()> {
        self.left = true;
        self.coordinator.leave(&self.group_id, &self.member_id)
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if !self.left {
            // Already removed (evicted) is fine: there is nothing left to do.
            let _ = self.coordinator.leave(&self.group_id, &self.member_id);
        }
    }
}
