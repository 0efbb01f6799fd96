//! Behaviour tests of consumer groups at the coordinator API level: rebalances, session expiry
//! with a manual clock, commits and their generation checks, offsets across a restart, lag,
//! resets. (The HTTP and WebSocket layers add through-the-server versions of the same.)

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::member::RemovalReason;
use super::offsets::{self, AutoOffsetReset, OffsetAndMetadata, OffsetResetSpec};
use super::*;
use crate::broker::{Broker, BrokerConfig};
use crate::clock::ManualClock;
use crate::log::{Compression, NewRecord, batch};

const SESSION: Duration = Duration::from_secs(10);

struct Fixture {
    dir: tempfile::TempDir,
    broker: Arc<Broker>,
    clock: Arc<ManualClock>,
    coordinator: Arc<GroupCoordinator>,
}

impl Fixture {
    fn new() -> Self {
        Self::open(tempfile::tempdir().unwrap())
    }

    fn open(dir: tempfile::TempDir) -> Self {
        let broker = Broker::open(BrokerConfig {
            data_dir: dir.path().to_path_buf(),
            cluster_id: None,
            broker_id: 1,
            num_partitions: 1,
            topic_defaults: BTreeMap::new(),
            log_check_interval: Duration::from_secs(3600),
            checkpoint_interval: Duration::from_secs(3600),
        })
        .unwrap();
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let coordinator = GroupCoordinator::open(
            Arc::clone(&broker),
            Arc::clone(&clock) as Arc<dyn crate::clock::Clock>,
            CoordinatorConfig::default(),
        )
        .unwrap();
        Fixture {
            dir,
            broker,
            clock,
            coordinator,
        }
    }

    /// Closes the broker cleanly and opens the same directory again.
    fn reopen(self) -> Self {
        let Fixture {
            dir,
            broker,
            coordinator,
            ..
        } = self;
        drop(coordinator);
        broker.close().unwrap();
        drop(broker);
        Self::open(dir)
    }

    fn topic(&self, name: &str, partitions: i64) {
        self.broker
            .create_topic(name, Some(partitions), None, BTreeMap::new(), false)
            .unwrap();
    }

    /// Appends `n` records with timestamps `first_ts, first_ts + 1, ...` to one partition.
    fn produce(&self, topic: &str, partition: u32, n: usize, first_ts: i64) {
        let records: Vec<NewRecord> = (0..n)
            .map(|i| NewRecord {
                timestamp: Some(first_ts + i as i64),
                value: Some(Bytes::from(format!("{topic}-{partition}-{i}"))),
                ..NewRecord::default()
            })
            .collect();
        let b = batch::encode_batch(&records, Compression::None, first_ts, 1 << 20).unwrap();
        self.broker
            .partition(topic, partition)
            .unwrap()
            .append(b, first_ts)
            .unwrap();
    }

    fn join(&self, group: &str, client: &str, topics: &[&str]) -> Member {
        let mut req = JoinRequest::new(
            gid(group),
            client,
            Subscription::topics(topics.iter().copied()),
        );
        req.session_timeout = SESSION;
        self.coordinator.join(req).unwrap()
    }

    fn state(&self, group: &str) -> GroupState {
        self.coordinator.describe_group(&gid(group)).unwrap().state
    }
}

fn gid(g: &str) -> GroupId {
    GroupId::new(g).unwrap()
}

fn tp(t: &str, p: u32) -> TopicPartition {
    TopicPartition::new(t, p)
}

fn all(topic: &str, n: u32) -> BTreeSet<TopicPartition> {
    (0..n).map(|p| tp(topic, p)).collect()
}

fn generation(m: &Member) -> GenerationId {
    match m.assignment() {
        Assignment::Assigned { generation_id, .. } => generation_id,
        other => panic!("not assigned: {other:?}"),
    }
}

/// Checks the members' assignments partition `expected` exactly: no overlap, no gap.
fn assert_partitioned(members: &[&Member], expected: &BTreeSet<TopicPartition>) {
    let mut seen = BTreeSet::new();
    for m in members {
        for p in m.assignment().owned() {
            assert!(seen.insert(p.clone()), "{p} has two owners");
        }
    }
    assert_eq!(&seen, expected, "every partition has an owner");
}

fn offsets_of(entries: &[(&str, u32, u64)]) -> BTreeMap<TopicPartition, OffsetAndMetadata> {
    entries
        .iter()
        .map(|(t, p, o)| (tp(t, *p), OffsetAndMetadata::new(*o)))
        .collect()
}

#[tokio::test]
async fn a_lone_member_gets_every_partition_at_once() {
    let f = Fixture::new();
    f.topic("t", 6);
    assert!(
        f.broker.topic(offsets::TOPIC).is_err(),
        "the offsets topic waits for the first commit"
    );
    let a = f.join("g", "app", &["t"]);
    assert_eq!(generation(&a), GenerationId(1));
    assert_partitioned(&[&a], &all("t", 6));
    assert_eq!(f.state("g"), GroupState::Stable);
    assert!(a.member_id().as_str().starts_with("app-"));
    assert_eq!(a.member_id().as_str().len(), "app-".len() + 36);
}

/// Issue 4: two then three members share six partitions with no overlap and no gap, and a
/// partition is never handed out before its previous owner let go.
#[tokio::test]
async fn two_then_three_members_share_six_partitions_without_overlap_or_gap() {
    let f = Fixture::new();
    f.topic("t", 6);
    let a = f.join("g", "a", &["t"]);
    let b = f.join("g", "b", &["t"]);
    assert_eq!(f.state("g"), GroupState::PreparingRebalance);
    assert!(matches!(
        a.assignment(),
        Assignment::Revoke { generation_id: GenerationId(1), ref partitions } if partitions.len() == 6
    ));
    assert_eq!(b.assignment(), Assignment::Joining);
    // While revoking, `a` may still commit under its generation, as in Kafka.
    a.commit(GenerationId(1), offsets_of(&[("t", 0, 0)]))
        .await
        .unwrap();
    a.rejoin().unwrap();
    assert_eq!(f.state("g"), GroupState::Stable);
    assert_eq!(generation(&a), GenerationId(2));
    assert_eq!(generation(&b), GenerationId(2));
    assert_eq!(a.assignment().owned().len(), 3);
    assert_partitioned(&[&a, &b], &all("t", 6));

    let c = f.join("g", "c", &["t"]);
    assert_eq!(c.assignment(), Assignment::Joining);
    a.rejoin().unwrap();
    assert_eq!(
        f.state("g"),
        GroupState::PreparingRebalance,
        "b still holds its partitions"
    );
    assert_eq!(c.assignment(), Assignment::Joining);
    b.rejoin().unwrap();
    for m in [&a, &b, &c] {
        assert_eq!(generation(m), GenerationId(3));
        assert_eq!(m.assignment().owned().len(), 2);
    }
    assert_partitioned(&[&a, &b, &c], &all("t", 6));
}

#[tokio::test]
async fn roundrobin_is_chosen_by_the_first_member_and_kept() {
    let f = Fixture::new();
    f.topic("t", 4);
    let mut req = JoinRequest::new(gid("g"), "a", Subscription::topics(["t"]));
    req.assignor = Some(AssignorKind::RoundRobin);
    req.member_id = Some(MemberId::new("m1"));
    let a = f.coordinator.join(req).unwrap();

    let mut other = JoinRequest::new(gid("g"), "b", Subscription::topics(["t"]));
    other.assignor = Some(AssignorKind::Range);
    assert!(matches!(
        f.coordinator.join(other),
        Err(GroupError::InconsistentGroupProtocol { .. })
    ));
    let mut same_id = JoinRequest::new(gid("g"), "b", Subscription::topics(["t"]));
    same_id.member_id = Some(MemberId::new("m1"));
    assert!(matches!(
        f.coordinator.join(same_id),
        Err(GroupError::MemberIdInUse { .. })
    ));

    let mut b = JoinRequest::new(gid("g"), "b", Subscription::topics(["t"]));
    b.member_id = Some(MemberId::new("m2"));
    let b = f.coordinator.join(b).unwrap();
    a.rejoin().unwrap();
    assert_eq!(a.assignment().owned(), &[tp("t", 0), tp("t", 2)]);
    assert_eq!(b.assignment().owned(), &[tp("t", 1), tp("t", 3)]);
    let d = f.coordinator.describe_group(&gid("g")).unwrap();
    assert_eq!(d.assignor, Some(AssignorKind::RoundRobin));
}

#[tokio::test]
async fn session_timeouts_outside_the_limits_are_refused() {
    let f = Fixture::new();
    let mut req = JoinRequest::new(gid("g"), "a", Subscription::topics(["t"]));
    req.session_timeout = Duration::from_millis(10);
    assert!(matches!(
        f.coordinator.join(req),
        Err(GroupError::InvalidSessionTimeout { .. })
    ));
}

/// Issue 4: a member that stops heartbeating is evicted and its partitions move.
#[tokio::test]
async fn a_member_that_stops_heartbeating_is_evicted_and_its_partitions_move() {
    let f = Fixture::new();
    f.topic("t", 6);
    let a = f.join("g", "a", &["t"]);
    let b = f.join("g", "b", &["t"]);
    a.rejoin().unwrap();
    assert_eq!(b.assignment().owned().len(), 3);

    f.clock.advance(Duration::from_secs(6));
    a.heartbeat().unwrap();
    assert_eq!(f.coordinator.tick(), 0, "nobody has expired yet");
    f.clock.advance(Duration::from_secs(5));
    assert_eq!(f.coordinator.tick(), 1, "b's last heartbeat is 11 s old");
    assert_eq!(
        b.assignment(),
        Assignment::Removed(RemovalReason::SessionTimeout)
    );
    assert!(matches!(
        b.heartbeat(),
        Err(GroupError::UnknownMemberId { .. })
    ));
    assert!(matches!(a.assignment(), Assignment::Revoke { .. }));
    a.rejoin().unwrap();
    assert_eq!(generation(&a), GenerationId(3));
    assert_partitioned(&[&a], &all("t", 6));
    assert_eq!(
        f.coordinator
            .describe_group(&gid("g"))
            .unwrap()
            .members
            .len(),
        1
    );
}

#[tokio::test]
async fn a_member_that_never_rejoins_is_removed_at_its_rebalance_timeout() {
    let f = Fixture::new();
    f.topic("t", 2);
    let mut req = JoinRequest::new(gid("g"), "a", Subscription::topics(["t"]));
    req.rebalance_timeout = Duration::from_secs(5);
    req.session_timeout = Duration::from_secs(60);
    let a = f.coordinator.join(req).unwrap();
    let b = f.join("g", "b", &["t"]);
    f.clock.advance(Duration::from_secs(4));
    b.heartbeat().unwrap();
    f.coordinator.tick();
    assert_eq!(f.state("g"), GroupState::PreparingRebalance);
    f.clock.advance(Duration::from_secs(1));
    assert_eq!(f.coordinator.tick(), 1);
    assert_eq!(
        a.assignment(),
        Assignment::Removed(RemovalReason::RebalanceTimeout)
    );
    assert_partitioned(&[&b], &all("t", 2));
}

#[tokio::test]
async fn leaving_rebalances_and_the_last_leave_empties_the_group() {
    let f = Fixture::new();
    f.topic("t", 2);
    let a = f.join("g", "a", &["t"]);
    let b = f.join("g", "b", &["t"]);
    a.rejoin().unwrap();
    b.leave().unwrap();
    a.rejoin().unwrap();
    assert_eq!(generation(&a), GenerationId(3));
    assert_partitioned(&[&a], &all("t", 2));

    // Committed offsets keep the group (Empty) after its last member goes.
    a.commit(GenerationId(3), offsets_of(&[("t", 1, 5)]))
        .await
        .unwrap();
    drop(a);
    assert_eq!(f.state("g"), GroupState::Empty);
    let listed = f.coordinator.list_groups();
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].is_simple);

    // Without offsets, the group is gone (Dead) once empty.
    let c = f.join("other", "c", &["t"]);
    drop(c);
    assert!(matches!(
        f.coordinator.describe_group(&gid("other")),
        Err(GroupError::GroupIdNotFound(_))
    ));
}

#[tokio::test]
async fn subscription_changes_and_partition_growth_rebalance() {
    let f = Fixture::new();
    f.topic("t", 2);
    f.topic("u", 1);
    let a = f.join("g", "a", &["t"]);
    assert_partitioned(&[&a], &all("t", 2));

    a.subscribe(Subscription::topics(["t", "u"])).unwrap();
    a.rejoin().unwrap();
    let mut expected = all("t", 2);
    expected.insert(tp("u", 0));
    assert_partitioned(&[&a], &expected);
    assert_eq!(generation(&a), GenerationId(2));

    f.broker.add_partitions("t", 4).unwrap();
    f.coordinator.tick();
    assert!(matches!(a.assignment(), Assignment::Revoke { .. }));
    a.rejoin().unwrap();
    expected.extend(all("t", 4));
    assert_partitioned(&[&a], &expected);
    assert_eq!(generation(&a), GenerationId(3));

    f.coordinator.tick();
    assert_eq!(generation(&a), GenerationId(3), "no change, no rebalance");
}

#[tokio::test]
async fn a_pattern_subscription_follows_topic_creation_and_deletion() {
    let f = Fixture::new();
    f.topic("orders-eu", 1);
    f.topic("payments", 1);
    let mut req = JoinRequest::new(gid("g"), "a", Subscription::pattern("orders-.*").unwrap());
    req.session_timeout = SESSION;
    let a = f.coordinator.join(req).unwrap();
    assert_eq!(a.assignment().owned(), &[tp("orders-eu", 0)]);

    f.topic("orders-us", 2);
    f.coordinator.tick();
    a.rejoin().unwrap();
    assert_eq!(
        a.assignment().owned(),
        &[tp("orders-eu", 0), tp("orders-us", 0), tp("orders-us", 1)]
    );
    f.broker.delete_topic("orders-eu").unwrap();
    f.coordinator.tick();
    a.rejoin().unwrap();
    assert_eq!(
        a.assignment().owned(),
        &[tp("orders-us", 0), tp("orders-us", 1)]
    );
    assert!(matches!(
        Subscription::pattern("(unclosed"),
        Err(GroupError::InvalidPattern(_))
    ));
    // Patterns never match internal topics.
    let simple = gid("simple");
    f.coordinator
        .commit_offsets(
            &simple,
            CommitScope::Simple,
            &offsets_of(&[("payments", 0, 0)]),
        )
        .await
        .unwrap();
    let any = Subscription::pattern(".*").unwrap();
    let topics: BTreeMap<String, u32> = f
        .broker
        .topics()
        .iter()
        .map(|t| (t.name().to_owned(), t.partition_count()))
        .collect();
    assert!(topics.contains_key(offsets::TOPIC));
    assert!(!any.resolve(&topics).contains(offsets::TOPIC));
}

#[tokio::test]
async fn commits_are_fenced_by_membership_and_generation() {
    let f = Fixture::new();
    f.topic("t", 2);
    let g = gid("g");
    let a = f.join("g", "a", &["t"]);
    let b = f.join("g", "b", &["t"]);
    a.rejoin().unwrap();
    let stale = a
        .commit(GenerationId(1), offsets_of(&[("t", 0, 1)]))
        .await
        .unwrap_err();
    assert!(matches!(
        stale,
        GroupError::IllegalGeneration {
            generation_id: GenerationId(1),
            current: GenerationId(2),
            ..
        }
    ));
    let simple = f
        .coordinator
        .commit_offsets(&g, CommitScope::Simple, &offsets_of(&[("t", 0, 1)]))
        .await
        .unwrap_err();
    assert!(matches!(simple, GroupError::UnknownMemberId { .. }));
    let missing = a
        .commit(GenerationId(2), offsets_of(&[("nope", 0, 1)]))
        .await
        .unwrap_err();
    assert!(matches!(missing, GroupError::UnknownTopicOrPartition(_)));
    let mut big = offsets_of(&[("t", 0, 1)]);
    big.values_mut().next().unwrap().metadata = "x".repeat(offsets::MAX_METADATA_BYTES + 1);
    assert!(matches!(
        a.commit(GenerationId(2), big).await,
        Err(GroupError::OffsetMetadataTooLarge { .. })
    ));

    b.commit(GenerationId(2), offsets_of(&[("t", 1, 7)]))
        .await
        .unwrap();
    let b_id = b.member_id().clone();
    drop(b);
    let gone = f
        .coordinator
        .commit_offsets(
            &g,
            CommitScope::Member {
                member_id: b_id,
                generation_id: GenerationId(2),
            },
            &offsets_of(&[("t", 1, 8)]),
        )
        .await
        .unwrap_err();
    assert!(matches!(gone, GroupError::UnknownMemberId { .. }));
    drop(a);
    // Simple consumers (assign mode) may commit once the group has no members.
    f.coordinator
        .commit_offsets(&g, CommitScope::Simple, &offsets_of(&[("t", 0, 3)]))
        .await
        .unwrap();
    let committed = f.coordinator.committed_offsets(&g);
    assert_eq!(committed[&tp("t", 0)].offset, 3);
    assert_eq!(committed[&tp("t", 1)].offset, 7);
    assert_eq!(committed[&tp("t", 1)].commit_timestamp, 1_700_000_000_000);
}

/// `CompletingRebalance` lasts no longer than one call here, but Kafka's rule holds in it.
#[tokio::test]
async fn commits_during_completing_rebalance_are_refused() {
    let f = Fixture::new();
    f.topic("t", 1);
    let a = f.join("g", "a", &["t"]);
    f.coordinator
        .force_state(&gid("g"), GroupState::CompletingRebalance);
    assert!(matches!(
        a.commit(GenerationId(1), offsets_of(&[("t", 0, 1)])).await,
        Err(GroupError::RebalanceInProgress { .. })
    ));
}

/// Issue 4: committed offsets survive a restart (replayed from `__consumer_offsets`).
#[tokio::test]
async fn committed_offsets_survive_a_restart() {
    let f = Fixture::new();
    f.topic("t", 3);
    let (g1, g2) = (gid("g1"), gid("g2"));
    f.coordinator
        .commit_offsets(
            &g1,
            CommitScope::Simple,
            &offsets_of(&[("t", 0, 10), ("t", 1, 11)]),
        )
        .await
        .unwrap();
    let mut meta = offsets_of(&[("t", 2, 12)]);
    meta.values_mut().next().unwrap().metadata = "checkpoint-7".into();
    f.coordinator
        .commit_offsets(&g1, CommitScope::Simple, &meta)
        .await
        .unwrap();
    f.coordinator
        .commit_offsets(&g1, CommitScope::Simple, &offsets_of(&[("t", 0, 20)]))
        .await
        .unwrap();
    f.coordinator
        .commit_offsets(&g2, CommitScope::Simple, &offsets_of(&[("t", 0, 1)]))
        .await
        .unwrap();
    f.coordinator
        .delete_offsets(&g1, &["t".to_owned()])
        .await
        .unwrap();
    f.coordinator
        .commit_offsets(&g1, CommitScope::Simple, &offsets_of(&[("t", 1, 30)]))
        .await
        .unwrap();
    let before_g1 = f.coordinator.committed_offsets(&g1);
    assert_eq!(
        before_g1.len(),
        1,
        "the deletion left only the later commit"
    );

    let f = f.reopen();
    assert_eq!(f.coordinator.committed_offsets(&g1), before_g1);
    assert_eq!(f.coordinator.committed_offsets(&g2)[&tp("t", 0)].offset, 1);
    let groups: Vec<String> = f
        .coordinator
        .list_groups()
        .iter()
        .map(|l| l.group_id.to_string())
        .collect();
    assert_eq!(groups, ["g1", "g2"]);
    assert_eq!(f.state("g1"), GroupState::Empty);
    let topic = f.broker.topic(offsets::TOPIC).unwrap();
    assert_eq!(topic.partition_count(), offsets::PARTITIONS);
    assert!(f.broker.log_config(&topic).cleanup_policy.compact);

    // And a third open still agrees (replay is idempotent).
    let f = f.reopen();
    assert_eq!(f.coordinator.committed_offsets(&g1), before_g1);
}

/// Issue 4: two groups reading the same topic each see every record.
#[tokio::test]
async fn two_groups_each_see_every_record() {
    let f = Fixture::new();
    f.topic("t", 3);
    for p in 0..3 {
        f.produce("t", p, 5 + p as usize, 1_000);
    }
    let mut seen: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for group in ["g1", "g2"] {
        let a = f.join(group, "a", &["t"]);
        let b = f.join(group, "b", &["t"]);
        a.rejoin().unwrap();
        for m in [&a, &b] {
            let generation_id = generation(m);
            let mut commits = BTreeMap::new();
            for tp in m.assignment().owned() {
                let p = f.broker.partition(&tp.topic, tp.partition).unwrap();
                let start = f
                    .coordinator
                    .starting_offset(&gid(group), tp, AutoOffsetReset::Earliest, p.offsets())
                    .unwrap();
                let records = p.read(start, 1 << 20).unwrap().records;
                for r in &records {
                    let value = String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap();
                    seen.entry(group).or_default().push(value);
                }
                let next = records.last().map_or(start, |r| r.offset + 1);
                commits.insert(tp.clone(), OffsetAndMetadata::new(next));
            }
            m.commit(generation_id, commits).await.unwrap();
        }
        let lag = f.coordinator.lag(&gid(group)).await.unwrap();
        assert_eq!(lag.len(), 3);
        assert!(lag.iter().all(|l| l.lag == 0 && l.owner.is_some()));
    }
    let mut expected: Vec<String> = (0..3)
        .flat_map(|p| (0..5 + p).map(move |i| format!("t-{p}-{i}")))
        .collect();
    expected.sort();
    for group in ["g1", "g2"] {
        let mut got = seen[group].clone();
        got.sort();
        assert_eq!(got, expected, "{group} saw every record exactly once");
    }
}

#[tokio::test]
async fn lag_is_high_watermark_minus_committed_and_is_exported() {
    let f = Fixture::new();
    f.topic("t", 2);
    f.produce("t", 0, 10, 1_000);
    f.produce("t", 1, 4, 1_000);
    let g = gid("g\"1");
    f.coordinator
        .commit_offsets(
            &g,
            CommitScope::Simple,
            &offsets_of(&[("t", 0, 3), ("t", 1, 9)]),
        )
        .await
        .unwrap();
    let lag = f.coordinator.lag(&g).await.unwrap();
    assert_eq!(
        lag,
        vec![
            PartitionLag {
                topic_partition: tp("t", 0),
                current_offset: 3,
                log_end_offset: 10,
                lag: 7,
                owner: None,
            },
            PartitionLag {
                topic_partition: tp("t", 1),
                current_offset: 9,
                log_end_offset: 4,
                lag: 0,
                owner: None,
            },
        ]
    );
    let mut text = String::new();
    f.coordinator.render_lag_metrics(&mut text).await;
    assert!(text.contains("# TYPE runnel_consumer_group_lag gauge\n"));
    assert!(
        text.contains(
            "runnel_consumer_group_lag{group=\"g\\\"1\",topic=\"t\",partition=\"0\"} 7\n"
        )
    );
    assert!(
        text.contains(
            "runnel_consumer_group_lag{group=\"g\\\"1\",topic=\"t\",partition=\"1\"} 0\n"
        )
    );
    assert!(matches!(
        f.coordinator.lag(&gid("unknown")).await,
        Err(GroupError::GroupIdNotFound(_))
    ));
}

#[tokio::test]
async fn auto_offset_reset_applies_without_a_usable_commit() {
    let f = Fixture::new();
    f.topic("t", 1);
    f.produce("t", 0, 5, 1_000);
    let (g, t0) = (gid("g"), tp("t", 0));
    let offsets = || f.broker.partition("t", 0).unwrap().offsets();
    let start = |reset| f.coordinator.starting_offset(&g, &t0, reset, offsets());
    assert_eq!(start(AutoOffsetReset::Earliest).unwrap(), 0);
    assert_eq!(start(AutoOffsetReset::Latest).unwrap(), 5);
    assert!(matches!(
        start(AutoOffsetReset::None),
        Err(GroupError::NoOffsetForPartition(_))
    ));
    f.coordinator
        .commit_offsets(&g, CommitScope::Simple, &offsets_of(&[("t", 0, 2)]))
        .await
        .unwrap();
    assert_eq!(start(AutoOffsetReset::None).unwrap(), 2);
    // A commit past the end (the topic was recreated, say) falls back to the policy.
    f.coordinator
        .commit_offsets(&g, CommitScope::Simple, &offsets_of(&[("t", 0, 99)]))
        .await
        .unwrap();
    assert_eq!(start(AutoOffsetReset::Earliest).unwrap(), 0);
}

#[tokio::test]
async fn offsets_reset_to_earliest_latest_timestamp_or_offset_only_when_empty() {
    let f = Fixture::new();
    f.topic("t", 2);
    f.produce("t", 0, 10, 1_000); // timestamps 1000..=1009
    f.produce("t", 1, 4, 2_000); // timestamps 2000..=2003
    let g = gid("g");
    let topics = ["t".to_owned()];
    let reset = |spec| f.coordinator.reset_offsets(&g, spec, Some(&topics));
    let got = reset(OffsetResetSpec::Latest).await.unwrap();
    assert_eq!(got, BTreeMap::from([(tp("t", 0), 10), (tp("t", 1), 4)]));
    let got = reset(OffsetResetSpec::Earliest).await.unwrap();
    assert_eq!(got, BTreeMap::from([(tp("t", 0), 0), (tp("t", 1), 0)]));
    let got = reset(OffsetResetSpec::Timestamp(1_004)).await.unwrap();
    assert_eq!(got, BTreeMap::from([(tp("t", 0), 4), (tp("t", 1), 0)]));
    let got = reset(OffsetResetSpec::Timestamp(5_000)).await.unwrap();
    assert_eq!(got, BTreeMap::from([(tp("t", 0), 10), (tp("t", 1), 4)]));
    let got = reset(OffsetResetSpec::Offset(7)).await.unwrap();
    assert_eq!(got, BTreeMap::from([(tp("t", 0), 7), (tp("t", 1), 4)]));
    assert_eq!(f.coordinator.committed_offsets(&g)[&tp("t", 0)].offset, 7);
    // Without topics: the partitions the group has offsets for.
    let got = f
        .coordinator
        .reset_offsets(&g, OffsetResetSpec::Earliest, None)
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    assert!(matches!(
        f.coordinator
            .reset_offsets(&gid("none"), OffsetResetSpec::Earliest, None)
            .await,
        Err(GroupError::GroupIdNotFound(_))
    ));

    let m = f.join("g", "a", &["t"]);
    assert!(matches!(
        reset(OffsetResetSpec::Earliest).await,
        Err(GroupError::NonEmptyGroup {
            state: GroupState::Stable,
            ..
        })
    ));
    assert!(matches!(
        f.coordinator.delete_group(&g).await,
        Err(GroupError::NonEmptyGroup { .. })
    ));
    assert!(matches!(
        f.coordinator.delete_offsets(&g, &topics).await,
        Err(GroupError::GroupSubscribedToTopic { .. })
    ));
    drop(m);
    f.coordinator.delete_group(&g).await.unwrap();
    assert!(matches!(
        f.coordinator.describe_group(&g),
        Err(GroupError::GroupIdNotFound(_))
    ));
    assert!(f.coordinator.list_groups().is_empty());
}

#[tokio::test]
async fn offsets_of_deleted_topics_are_forgotten() {
    let f = Fixture::new();
    f.topic("t", 1);
    f.topic("u", 1);
    let g = gid("g");
    f.coordinator
        .commit_offsets(
            &g,
            CommitScope::Simple,
            &offsets_of(&[("t", 0, 1), ("u", 0, 2)]),
        )
        .await
        .unwrap();
    f.broker.delete_topic("t").unwrap();
    f.coordinator.forget_deleted_topics().await.unwrap();
    let left: Vec<TopicPartition> = f.coordinator.committed_offsets(&g).into_keys().collect();
    assert_eq!(left, [tp("u", 0)]);
}

/// Members learn of rebalances by awaiting their watch, and the background task reacts to
/// topic changes without waiting for its interval.
#[tokio::test]
async fn members_are_woken_by_rebalances_and_topic_changes() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::open(BrokerConfig {
        data_dir: dir.path().to_path_buf(),
        cluster_id: None,
        broker_id: 1,
        num_partitions: 1,
        topic_defaults: BTreeMap::new(),
        log_check_interval: Duration::from_secs(3600),
        checkpoint_interval: Duration::from_secs(3600),
    })
    .unwrap();
    let config = CoordinatorConfig {
        check_interval: Duration::from_secs(3600),
        ..CoordinatorConfig::default()
    };
    let coordinator = GroupCoordinator::open(
        Arc::clone(&broker),
        Arc::new(crate::clock::SystemClock),
        config,
    )
    .unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(Arc::clone(&coordinator).run(stop.clone()));
    broker
        .create_topic("t", Some(1), None, BTreeMap::new(), false)
        .unwrap();
    let a = coordinator
        .join(JoinRequest::new(gid("g"), "a", Subscription::topics(["t"])))
        .unwrap();
    let mut rx = a.assignments();
    rx.borrow_and_update();
    broker.add_partitions("t", 3).unwrap();
    tokio::time::timeout(Duration::from_secs(10), rx.changed())
        .await
        .expect("woken by the topic change")
        .unwrap();
    assert!(matches!(*rx.borrow_and_update(), Assignment::Revoke { .. }));
    a.rejoin().unwrap();
    assert!(rx.has_changed().unwrap());
    assert_eq!(rx.borrow_and_update().owned().len(), 3);
    stop.cancel();
    task.await.unwrap();
}
