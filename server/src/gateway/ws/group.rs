//! Group mode of `GET /v1/ws/consume` (`group=G`): the socket is a member of consumer group `G`.
//!
//! The connection joins when it opens and leaves when it closes (dropping the [`Member`]), so
//! a closed tab or a dead peer (no pong within `limits.ws_pong_timeout`) hands its partitions
//! to the rest of the group at once. While open, it heartbeats for the member.
//!
//! Each rebalance, as the coordinator publishes it on the member's watch:
//! - `Revoke`: stop reading (the cursors go), commit what was delivered when `auto_commit=true`,
//!   then rejoin. Positions are remembered, so a partition that comes straight back to this
//!   socket continues where it was instead of replaying from the committed offset.
//! - `Assigned`: new cursors start at the group's committed offset (or `from`, as
//!   `auto.offset.reset`: `latest` by default), and the client gets
//!   `{"type":"assignment","generation_id":N,"partitions":[{"topic","partition"}]}`.
//! - `Removed`: an error frame (40903) and close 4409.
//!
//! Commits come from the client: `{"type":"commit"}` commits every owned partition's position
//! (the offset after the last record delivered), and `{"type":"commit","offsets":[{"topic",
//! "partition","offset"}]}` commits exactly those (Kafka's meaning: the next offset to read),
//! only for partitions this socket owns now. Each commit is answered, once stored, with
//! `{"type":"committed","offsets":[...]}` (our extension, so a client knows it landed).
//!
//! Not owned here: the read loop and flow control (`consume.rs`), the state machine (`group/`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::watch;

use super::conn::Failure;
use crate::gateway::errors::{Api, GatewayError};
use crate::gateway::extract::kafka_offset;
use crate::group::member::HEARTBEAT_INTERVAL;
use crate::group::{
    Assignment, AutoOffsetReset, GenerationId, GroupCoordinator, Member, OffsetAndMetadata,
    TopicPartition,
};

/// Close code after the coordinator removed this member (4000 + 409 Conflict).
const REMOVED_CLOSE: u16 = 4409;

/// A socket's membership.
#[derive(Debug)]
pub(super) struct GroupMode {
    pub(super) coordinator: Arc<GroupCoordinator>,
    pub(super) member: Member,
    assignments: watch::Receiver<Assignment>,
    /// Where partitions without a usable committed offset start.
    pub(super) reset: AutoOffsetReset,
    /// Commit delivered positions on revocation (Kafka's `enable.auto.commit`, on rebalance only).
    pub(super) auto_commit: bool,
    /// The generation of the current assignment; `None` while rebalancing.
    pub(super) generation: Option<GenerationId>,
    /// Positions of the partitions revoked last, for the ones that come back.
    pub(super) held: HashMap<TopicPartition, u64>,
    tick: tokio::time::Interval,
}

/// What woke a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GroupEvent {
    /// The assignment changed (or is the first one).
    Changed,
    Heartbeat,
    /// The coordinator dropped the member's channel.
    Gone,
}

impl GroupMode {
    pub(super) fn new(
        coordinator: Arc<GroupCoordinator>,
        member: Member,
        reset: AutoOffsetReset,
        auto_commit: bool,
    ) -> Self {
        let mut assignments = member.assignments();
        // The join may have completed at once: handle the current assignment first thing.
        assignments.mark_changed();
        // A dead peer is found by the WebSocket ping instead, which ends the membership.
        let mut tick = tokio::time::interval(HEARTBEAT_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        GroupMode {
            coordinator,
            member,
            assignments,
            reset,
            auto_commit,
            generation: None,
            held: HashMap::new(),
            tick,
        }
    }

    /// The assignment the last [`GroupEvent::Changed`] announced.
    pub(super) fn take_assignment(&mut self) -> Assignment {
        self.assignments.borrow_and_update().clone()
    }
}

/// Resolves at the member's next event; never without a group.
pub(super) async fn next_event(group: Option<&mut GroupMode>) -> GroupEvent {
    let Some(g) = group else {
        return std::future::pending().await;
    };
    tokio::select! {
        r = g.assignments.changed() => if r.is_ok() { GroupEvent::Changed } else { GroupEvent::Gone },
        _ = g.tick.tick() => GroupEvent::Heartbeat,
    }
}

/// The failure that ends a socket whose member is no longer in its group.
pub(super) fn removed(group: &GroupMode, why: &str) -> Failure {
    Failure {
        error_code: 40903,
        message: format!(
            "This socket was removed from consumer group '{}' ({why}); reconnect to join again.",
            group.member.group_id()
        ),
        close_code: REMOVED_CLOSE,
    }
}

/// `{"type":"assignment","generation_id":N,"partitions":[{"topic":..,"partition":..}]}`.
pub(super) fn assignment_frame(
    generation_id: GenerationId,
    partitions: &[TopicPartition],
) -> String {
    let mut s = format!(r#"{{"type":"assignment","generation_id":{generation_id},"partitions":["#);
    for (i, tp) in partitions.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let topic = serde_json::to_string(&tp.topic).unwrap_or_default();
        let _ = write!(s, r#"{{"topic":{topic},"partition":{}}}"#, tp.partition);
    }
    s.push_str("]}");
    s
}

/// `{"type":"committed","offsets":[{"topic":..,"partition":..,"offset":..}]}`.
pub(super) fn committed_frame(offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>) -> String {
    let mut s = String::from(r#"{"type":"committed","offsets":["#);
    for (i, (tp, o)) in offsets.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let topic = serde_json::to_string(&tp.topic).unwrap_or_default();
        let _ = write!(
            s,
            r#"{{"topic":{topic},"partition":{},"offset":{}}}"#,
            tp.partition, o.offset
        );
    }
    s.push_str("]}");
    s
}

/// One entry of a commit message's `offsets`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitEntry {
    topic: String,
    partition: u32,
    #[serde(deserialize_with = "kafka_offset")]
    offset: u64,
}

/// The offsets of `{"type":"commit","offsets":[...]}`, checked against what this socket owns.
pub(super) fn parse_commit(
    raw: &RawValue,
    owned: impl Fn(&TopicPartition) -> bool,
) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>, Failure> {
    let entries: Vec<CommitEntry> = serde_json::from_str(raw.get()).map_err(|e| {
        Failure::from(GatewayError::BadRequest(format!(
            "'offsets' of a commit must be an array of {{\"topic\",\"partition\",\"offset\"}} \
             with non-negative integers: {e}"
        )))
    })?;
    let mut out = BTreeMap::new();
    for e in entries {
        let tp = TopicPartition::new(e.topic, e.partition);
        if !owned(&tp) {
            return Err(Failure {
                error_code: 40903,
                message: format!(
                    "Partition {}-{} is not assigned to this socket; commit only partitions of \
                     the last assignment frame.",
                    tp.topic, tp.partition
                ),
                close_code: REMOVED_CLOSE,
            });
        }
        out.insert(tp, OffsetAndMetadata::new(e.offset));
    }
    Ok(out)
}

/// A failed coordinator call as an error frame.
pub(super) fn group_failure(e: crate::group::GroupError) -> Failure {
    Failure::from(GatewayError::Group(e, Api::V2))
}
