//! Applying commands to the image: the rules every node must agree on.

use super::command::ReplicaProblem;
use super::*;

fn register(m: &mut ClusterMetadata, index: u64, broker: u32) -> BrokerEpoch {
    let result = m.apply(
        index,
        Command::RegisterBroker {
            broker: BrokerId(broker),
            http_addr: format!("127.0.0.1:80{broker:02}"),
            cluster_addr: format!("127.0.0.1:90{broker:02}"),
        },
    );
    match result {
        Ok(Applied::BrokerRegistered { epoch }) => epoch,
        other => panic!("registration failed: {other:?}"),
    }
}

/// Three registered, unfenced brokers 1, 2, 3.
fn three_brokers() -> ClusterMetadata {
    let mut m = ClusterMetadata::default();
    for b in 1..=3 {
        let epoch = register(&mut m, u64::from(b), b);
        m.apply(
            10 + u64::from(b),
            Command::UnfenceBroker {
                broker: BrokerId(b),
                epoch,
            },
        )
        .unwrap();
    }
    m
}

fn replicas(ids: &[u32]) -> PartitionAssignment {
    PartitionAssignment {
        replicas: ids.iter().copied().map(BrokerId).collect(),
    }
}

fn create(
    m: &mut ClusterMetadata,
    name: &str,
    assignments: Vec<PartitionAssignment>,
) -> CommandResult {
    m.apply(
        100,
        Command::CreateTopic {
            name: name.into(),
            topic_id: TopicId(format!("id-{name}")),
            configs: [("cleanup.policy".to_owned(), "compact".to_owned())].into(),
            assignments,
        },
    )
}

#[test]
fn registration_epoch_is_the_log_index_and_starts_fenced() {
    let mut m = ClusterMetadata::default();
    assert_eq!(register(&mut m, 42, 7), BrokerEpoch(42));
    assert!(m.brokers[&BrokerId(7)].fenced);
    assert_eq!(m.unfenced_brokers().count(), 0);
}

#[test]
fn create_topic_places_leaders_and_full_isr() {
    let mut m = three_brokers();
    create(&mut m, "orders", vec![replicas(&[1, 2]), replicas(&[2, 3])]).unwrap();
    let t = &m.topics["orders"];
    assert_eq!(t.partitions[0].leader, Some(BrokerId(1)));
    assert_eq!(t.partitions[1].leader, Some(BrokerId(2)));
    assert_eq!(t.partitions[1].isr, vec![BrokerId(2), BrokerId(3)]);
    assert_eq!(t.configs["cleanup.policy"], "compact");
}

#[test]
fn bad_create_topic_is_refused_and_changes_nothing() {
    let mut m = three_brokers();
    create(&mut m, "orders", vec![replicas(&[1])]).unwrap();
    let before = m.clone();
    assert!(matches!(
        create(&mut m, "orders", vec![replicas(&[1])]),
        Err(CommandError::TopicExists { .. })
    ));
    assert!(matches!(
        create(&mut m, "bad name", vec![replicas(&[1])]),
        Err(CommandError::InvalidTopicName { .. })
    ));
    assert!(matches!(
        create(&mut m, "other", vec![]),
        Err(CommandError::NoPartitions)
    ));
    assert_eq!(
        create(&mut m, "other", vec![replicas(&[1]), replicas(&[2, 2])]),
        Err(CommandError::InvalidReplicas {
            topic: "other".into(),
            partition: 1,
            problem: ReplicaProblem::Duplicate(BrokerId(2)),
        })
    );
    assert_eq!(
        create(&mut m, "other", vec![replicas(&[9])]),
        Err(CommandError::InvalidReplicas {
            topic: "other".into(),
            partition: 0,
            problem: ReplicaProblem::UnknownBroker(BrokerId(9)),
        })
    );
    assert_eq!(m, before);
}

#[test]
fn fencing_moves_leadership_and_unfencing_brings_offline_partitions_back() {
    let mut m = three_brokers();
    create(&mut m, "t", vec![replicas(&[1, 2]), replicas(&[1])]).unwrap();
    let epoch = m.brokers[&BrokerId(1)].epoch;
    m.apply(
        200,
        Command::FenceBroker {
            broker: BrokerId(1),
            epoch,
        },
    )
    .unwrap();
    let p = &m.topics["t"].partitions;
    assert_eq!(p[0].leader, Some(BrokerId(2)));
    assert_eq!(p[0].isr, vec![BrokerId(2)]);
    assert_eq!(p[0].leader_epoch, LeaderEpoch(1));
    // The only replica is gone: offline, and it stays the ISR so it can lead again.
    assert_eq!(p[1].leader, None);
    assert_eq!(p[1].isr, vec![BrokerId(1)]);
    assert_eq!(m.offline_partitions().collect::<Vec<_>>(), vec![("t", 1)]);

    m.apply(
        201,
        Command::UnfenceBroker {
            broker: BrokerId(1),
            epoch,
        },
    )
    .unwrap();
    let p = &m.topics["t"].partitions;
    assert_eq!(p[1].leader, Some(BrokerId(1)));
    assert_eq!(p[1].leader_epoch, LeaderEpoch(2));
    assert_eq!(
        p[0].leader,
        Some(BrokerId(2)),
        "a led partition keeps its leader"
    );
}

#[test]
fn fencing_with_a_stale_epoch_is_refused() {
    let mut m = three_brokers();
    let old = m.brokers[&BrokerId(1)].epoch;
    let new = register(&mut m, 300, 1);
    assert_eq!(
        m.apply(
            301,
            Command::FenceBroker {
                broker: BrokerId(1),
                epoch: old
            }
        ),
        Err(CommandError::StaleBrokerEpoch {
            broker: BrokerId(1),
            current: new,
            got: old,
        })
    );
}

#[test]
fn alter_partition_needs_the_current_leader_and_epoch() {
    let mut m = three_brokers();
    create(&mut m, "t", vec![replicas(&[1, 2, 3])]).unwrap();
    let alter = |leader, epoch, isr: &[u32]| Command::AlterPartition {
        topic: "t".into(),
        partition: 0,
        leader: BrokerId(leader),
        leader_epoch: LeaderEpoch(epoch),
        isr: isr.iter().copied().map(BrokerId).collect(),
    };
    assert!(matches!(
        m.apply(400, alter(2, 0, &[2])),
        Err(CommandError::NotLeader { .. })
    ));
    assert!(matches!(
        m.apply(401, alter(1, 5, &[1])),
        Err(CommandError::StaleLeaderEpoch { .. })
    ));
    assert!(matches!(
        m.apply(402, alter(1, 0, &[2, 3])),
        Err(CommandError::InvalidReplicas {
            problem: ReplicaProblem::LeaderNotInIsr(BrokerId(1)),
            ..
        })
    ));
    m.apply(403, alter(1, 0, &[1, 3])).unwrap();
    assert_eq!(
        m.topics["t"].partitions[0].isr,
        vec![BrokerId(1), BrokerId(3)]
    );
}

#[test]
fn change_leader_bumps_the_epoch_only_when_the_leader_changes() {
    let mut m = three_brokers();
    create(&mut m, "t", vec![replicas(&[1, 2])]).unwrap();
    let change = |leader: Option<u32>, isr: &[u32]| Command::ChangeLeader {
        topic: "t".into(),
        partition: 0,
        leader: leader.map(BrokerId),
        isr: isr.iter().copied().map(BrokerId).collect(),
    };
    m.apply(500, change(Some(1), &[1])).unwrap();
    assert_eq!(m.topics["t"].partitions[0].leader_epoch, LeaderEpoch(0));
    m.apply(501, change(Some(2), &[1, 2])).unwrap();
    assert_eq!(m.topics["t"].partitions[0].leader_epoch, LeaderEpoch(1));
    assert!(matches!(
        m.apply(502, change(Some(3), &[3])),
        Err(CommandError::InvalidReplicas {
            problem: ReplicaProblem::NotAReplica(BrokerId(3)),
            ..
        })
    ));
}

#[test]
fn configs_partitions_and_deletion() {
    let mut m = three_brokers();
    create(&mut m, "t", vec![replicas(&[1])]).unwrap();
    m.apply(
        600,
        Command::AlterTopicConfigs {
            name: "t".into(),
            set: [("retention.ms".to_owned(), "1000".to_owned())].into(),
            delete: ["cleanup.policy".to_owned()].into(),
        },
    )
    .unwrap();
    assert_eq!(
        m.topics["t"].configs,
        [("retention.ms".to_owned(), "1000".to_owned())].into()
    );
    m.apply(
        601,
        Command::CreatePartitions {
            name: "t".into(),
            assignments: vec![replicas(&[2]), replicas(&[3])],
        },
    )
    .unwrap();
    assert_eq!(m.topics["t"].partitions.len(), 3);
    assert_eq!(m.topics["t"].partitions[2].leader, Some(BrokerId(3)));
    m.apply(602, Command::DeleteTopic { name: "t".into() })
        .unwrap();
    assert_eq!(
        m.apply(603, Command::DeleteTopic { name: "t".into() }),
        Err(CommandError::UnknownTopic { name: "t".into() })
    );
}
