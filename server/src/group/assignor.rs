//! Partition assignors: Kafka's `RangeAssignor` and `RoundRobinAssignor`, as pure functions of
//! the members' subscriptions and the partition count of each topic.
//!
//! Both sort members by member id (Kafka sorts by `group.instance.id` first; we have no static
//! members), so the same inputs give the same assignment on every broker and in every run.
//! Topics nobody subscribes to, or that don't exist (absent from `partitions_per_topic`), get
//! no owner. Every member appears in the result, with an empty list if it got nothing.
//!
//! Not owned here: when to assign (the coordinator), or stickiness across generations (an
//! eager rebalance starts from nothing each time).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use super::{MemberId, TopicPartition};

/// Which assignor a group uses, chosen by its first member (`partition.assignment.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AssignorKind {
    /// Per topic, consecutive ranges of partitions; Kafka's default.
    #[default]
    Range,
    /// All topic-partitions dealt in turn.
    RoundRobin,
}

impl AssignorKind {
    /// The protocol name Kafka's describe-group reports (`range`, `roundrobin`).
    pub fn as_str(self) -> &'static str {
        match self {
            AssignorKind::Range => "range",
            AssignorKind::RoundRobin => "roundrobin",
        }
    }
}

impl fmt::Display for AssignorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The assignor name is not one we have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unknown partition assignor {0:?}: expected range or roundrobin.")]
pub struct UnknownAssignor(pub String);

impl FromStr for AssignorKind {
    type Err = UnknownAssignor;

    /// Accepts Kafka's protocol names and its Java class names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "range" | "org.apache.kafka.clients.consumer.RangeAssignor" => Ok(AssignorKind::Range),
            "roundrobin" | "org.apache.kafka.clients.consumer.RoundRobinAssignor" => {
                Ok(AssignorKind::RoundRobin)
            }
            other => Err(UnknownAssignor(other.to_owned())),
        }
    }
}

/// Assigns partitions with `kind`. `subscriptions` maps each member to its (resolved) topics.
pub fn assign(
    kind: AssignorKind,
    subscriptions: &BTreeMap<MemberId, BTreeSet<String>>,
    partitions_per_topic: &BTreeMap<String, u32>,
) -> BTreeMap<MemberId, Vec<TopicPartition>> {
    match kind {
        AssignorKind::Range => range(subscriptions, partitions_per_topic),
        AssignorKind::RoundRobin => round_robin(subscriptions, partitions_per_topic),
    }
}

/// Kafka's `RangeAssignor`: for each topic, its partitions in order are split into as many
/// consecutive ranges as there are subscribed members (sorted by id); the first
/// `partitions % members` members get one partition more.
///
/// Two members C0, C1 and two topics of three partitions each:
/// C0 gets `t0-0, t0-1, t1-0, t1-1` and C1 gets `t0-2, t1-2`.
pub fn range(
    subscriptions: &BTreeMap<MemberId, BTreeSet<String>>,
    partitions_per_topic: &BTreeMap<String, u32>,
) -> BTreeMap<MemberId, Vec<TopicPartition>> {
    let mut out: BTreeMap<MemberId, Vec<TopicPartition>> = subscriptions
        .keys()
        .map(|m| (m.clone(), Vec::new()))
        .collect();
    for (topic, &count) in partitions_per_topic {
        // BTreeMap keys are sorted: members come in member-id order.
        let members: Vec<&MemberId> = subscriptions
            .iter()
            .filter(|(_, topics)| topics.contains(topic))
            .map(|(m, _)| m)
            .collect();
        if members.is_empty() {
            continue;
        }
        let n = members.len() as u32;
        let per_member = count / n;
        let extra = count % n;
        for (i, member) in (0u32..).zip(members) {
            let start = per_member * i + i.min(extra);
            let len = per_member + u32::from(i < extra);
            if let Some(list) = out.get_mut(member) {
                list.extend((start..start + len).map(|p| TopicPartition::new(topic.clone(), p)));
            }
        }
    }
    out
}

/// Kafka's `RoundRobinAssignor`: all subscribed topic-partitions, sorted by topic then
/// partition, are dealt to the members (sorted by id) in turn, skipping a member that does not
/// subscribe to the partition's topic.
///
/// C0 subscribes to t0; C1 to t0, t1; C2 to t0, t1, t2; the topics have 1, 2 and 3 partitions:
/// C0 gets `t0-0`, C1 gets `t1-0`, C2 gets `t1-1, t2-0, t2-1, t2-2`.
pub fn round_robin(
    subscriptions: &BTreeMap<MemberId, BTreeSet<String>>,
    partitions_per_topic: &BTreeMap<String, u32>,
) -> BTreeMap<MemberId, Vec<TopicPartition>> {
    let mut out: BTreeMap<MemberId, Vec<TopicPartition>> = subscriptions
        .keys()
        .map(|m| (m.clone(), Vec::new()))
        .collect();
    let members: Vec<(&MemberId, &BTreeSet<String>)> = subscriptions.iter().collect();
    if members.is_empty() {
        return out;
    }
    let mut next = 0usize;
    for (topic, &count) in partitions_per_topic {
        if !members.iter().any(|(_, topics)| topics.contains(topic)) {
            continue;
        }
        for partition in 0..count {
            // Someone subscribes to `topic`, so this finds a member within one full turn.
            for _ in 0..members.len() {
                let Some(&(member, topics)) = members.get(next % members.len()) else {
                    break;
                };
                next = (next + 1) % members.len();
                if topics.contains(topic) {
                    if let Some(list) = out.get_mut(member) {
                        list.push(TopicPartition::new(topic.clone(), partition));
                    }
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subs(entries: &[(&str, &[&str])]) -> BTreeMap<MemberId, BTreeSet<String>> {
        entries
            .iter()
            .map(|(m, topics)| {
                (
                    MemberId::new(m),
                    topics.iter().map(|t| (*t).to_owned()).collect(),
                )
            })
            .collect()
    }

    fn counts(entries: &[(&str, u32)]) -> BTreeMap<String, u32> {
        entries.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect()
    }

    fn tps(list: &[(&str, u32)]) -> Vec<TopicPartition> {
        list.iter()
            .map(|(t, p)| TopicPartition::new(*t, *p))
            .collect()
    }

    fn get<'a>(a: &'a BTreeMap<MemberId, Vec<TopicPartition>>, m: &str) -> &'a [TopicPartition] {
        a.get(m).map(Vec::as_slice).unwrap_or_default()
    }

    /// The example of Kafka's `RangeAssignor` javadoc.
    #[test]
    fn range_matches_kafkas_javadoc_example() {
        let s = subs(&[("C0", &["t0", "t1"]), ("C1", &["t0", "t1"])]);
        let a = range(&s, &counts(&[("t0", 3), ("t1", 3)]));
        assert_eq!(
            get(&a, "C0"),
            tps(&[("t0", 0), ("t0", 1), ("t1", 0), ("t1", 1)])
        );
        assert_eq!(get(&a, "C1"), tps(&[("t0", 2), ("t1", 2)]));
    }

    /// The first example of Kafka's `RoundRobinAssignor` javadoc.
    #[test]
    fn round_robin_matches_kafkas_javadoc_example() {
        let s = subs(&[("C0", &["t0", "t1"]), ("C1", &["t0", "t1"])]);
        let a = round_robin(&s, &counts(&[("t0", 3), ("t1", 3)]));
        assert_eq!(get(&a, "C0"), tps(&[("t0", 0), ("t0", 2), ("t1", 1)]));
        assert_eq!(get(&a, "C1"), tps(&[("t0", 1), ("t1", 0), ("t1", 2)]));
    }

    /// The second example of Kafka's `RoundRobinAssignor` javadoc: unequal subscriptions.
    #[test]
    fn round_robin_skips_members_not_subscribed() {
        let s = subs(&[
            ("C0", &["t0"]),
            ("C1", &["t0", "t1"]),
            ("C2", &["t0", "t1", "t2"]),
        ]);
        let a = round_robin(&s, &counts(&[("t0", 1), ("t1", 2), ("t2", 3)]));
        assert_eq!(get(&a, "C0"), tps(&[("t0", 0)]));
        assert_eq!(get(&a, "C1"), tps(&[("t1", 0)]));
        assert_eq!(
            get(&a, "C2"),
            tps(&[("t1", 1), ("t2", 0), ("t2", 1), ("t2", 2)])
        );
    }

    #[test]
    fn range_gives_the_first_members_one_extra() {
        let s = subs(&[("a", &["t"]), ("b", &["t"]), ("c", &["t"])]);
        let a = range(&s, &counts(&[("t", 8)]));
        assert_eq!(get(&a, "a"), tps(&[("t", 0), ("t", 1), ("t", 2)]));
        assert_eq!(get(&a, "b"), tps(&[("t", 3), ("t", 4), ("t", 5)]));
        assert_eq!(get(&a, "c"), tps(&[("t", 6), ("t", 7)]));
    }

    #[test]
    fn members_beyond_the_partition_count_get_nothing() {
        let s = subs(&[("a", &["t"]), ("b", &["t"]), ("c", &["t"])]);
        for kind in [AssignorKind::Range, AssignorKind::RoundRobin] {
            let a = assign(kind, &s, &counts(&[("t", 2)]));
            assert_eq!(get(&a, "a"), tps(&[("t", 0)]), "{kind}");
            assert_eq!(get(&a, "b"), tps(&[("t", 1)]), "{kind}");
            assert!(get(&a, "c").is_empty(), "{kind}");
            assert_eq!(a.len(), 3, "every member is in the result");
        }
    }

    #[test]
    fn range_splits_each_topic_among_its_own_subscribers() {
        let s = subs(&[("a", &["t0"]), ("b", &["t0", "t1"])]);
        let a = range(&s, &counts(&[("t0", 2), ("t1", 2)]));
        assert_eq!(get(&a, "a"), tps(&[("t0", 0)]));
        assert_eq!(get(&a, "b"), tps(&[("t0", 1), ("t1", 0), ("t1", 1)]));
    }

    #[test]
    fn unknown_and_unsubscribed_topics_get_no_owner() {
        let s = subs(&[("a", &["t0", "missing"])]);
        for kind in [AssignorKind::Range, AssignorKind::RoundRobin] {
            let a = assign(kind, &s, &counts(&[("t0", 1), ("other", 4)]));
            assert_eq!(get(&a, "a"), tps(&[("t0", 0)]), "{kind}");
        }
    }

    #[test]
    fn every_partition_has_exactly_one_owner() {
        let s = subs(&[
            ("m1", &["a", "b"]),
            ("m2", &["b", "c"]),
            ("m3", &["a", "c"]),
            ("m4", &["a", "b", "c"]),
        ]);
        let topics = counts(&[("a", 7), ("b", 5), ("c", 3)]);
        for kind in [AssignorKind::Range, AssignorKind::RoundRobin] {
            let a = assign(kind, &s, &topics);
            let mut seen: Vec<TopicPartition> = a.values().flatten().cloned().collect();
            seen.sort();
            let all: Vec<TopicPartition> = topics
                .iter()
                .flat_map(|(t, n)| (0..*n).map(|p| TopicPartition::new(t.clone(), p)))
                .collect();
            assert_eq!(seen, all, "{kind}: no overlap, no gap");
            for (m, list) in &a {
                let own = &s[m];
                assert!(list.iter().all(|tp| own.contains(&tp.topic)), "{kind}");
            }
        }
    }

    #[test]
    fn assignor_names_parse_in_both_forms() {
        assert_eq!("range".parse(), Ok(AssignorKind::Range));
        assert_eq!(
            "org.apache.kafka.clients.consumer.RoundRobinAssignor".parse(),
            Ok(AssignorKind::RoundRobin)
        );
        assert!("sticky".parse::<AssignorKind>().is_err());
    }
}
