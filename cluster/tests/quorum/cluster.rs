//! Three voters: election, proposals through followers, leader loss, restart and catch-up.

use runnel_cluster::metadata::CommandError;
use runnel_cluster::{MetadataNode, ProposeError};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_on_a_follower_is_applied_on_all_three() {
    init_tracing();
    let (nodes, _peers, _dirs) = start_cluster(3).await;
    let leader = agreed_leader(&nodes).await;
    let follower = (1..=3).find(|id| *id != leader).unwrap();

    let via = node(&nodes, follower);
    for broker in 1..=3 {
        via.propose(register(broker)).await.unwrap();
    }
    via.propose(create_topic("orders", &[1, 2, 3]))
        .await
        .unwrap();
    // The leader's refusal comes back through the follower, typed.
    assert_eq!(
        via.propose(create_topic("orders", &[1])).await,
        Err(ProposeError::Rejected(CommandError::TopicExists {
            name: "orders".into()
        }))
    );
    for n in nodes.iter().flatten() {
        let seen = applied_until(n, has_topic("orders")).await;
        assert_eq!(seen.metadata.brokers.len(), 3);
    }
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_leader_elects_another_and_proposals_succeed_again() {
    init_tracing();
    let (mut nodes, _peers, _dirs) = start_cluster(3).await;
    let first = agreed_leader(&nodes).await;
    node(&nodes, first).propose(register(1)).await.unwrap();

    let old = nodes[usize::try_from(first - 1).unwrap()].take().unwrap();
    old.shutdown().await.unwrap();
    let second = agreed_leader(&nodes).await;
    assert_ne!(second, first);

    for n in nodes.iter().flatten() {
        n.propose(create_topic(&format!("after-{}", n.node_id()), &[1]))
            .await
            .unwrap();
    }
    for n in nodes.iter().flatten() {
        for other in nodes.iter().flatten() {
            let name = format!("after-{}", other.node_id());
            applied_until(n, move |m| m.metadata.topics.contains_key(&name)).await;
        }
    }
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_recovers_its_state_and_catches_up() {
    init_tracing();
    let (mut nodes, peers, dirs) = start_cluster(3).await;
    let leader = agreed_leader(&nodes).await;
    node(&nodes, leader).propose(register(1)).await.unwrap();
    node(&nodes, leader)
        .propose(create_topic("before", &[1]))
        .await
        .unwrap();
    let restarted = (1..=3).find(|id| *id != leader).unwrap();
    let index = usize::try_from(restarted - 1).unwrap();
    let stopping = nodes[index].take().unwrap();
    applied_until(&stopping, has_topic("before")).await;
    stopping.shutdown().await.unwrap();

    // The quorum goes on without it.
    node(&nodes, leader)
        .propose(create_topic("while-down", &[1]))
        .await
        .unwrap();

    let node_again = MetadataNode::open(
        config(restarted, dirs[index].path(), &peers),
        addr(&peers, restarted),
    )
    .await
    .unwrap();
    assert!(
        node_again.metadata().metadata.topics.contains_key("before"),
        "the applied state is back from the node's own disk"
    );
    applied_until(&node_again, has_topic("while-down")).await;
    nodes[index] = Some(node_again);
    assert_eq!(agreed_leader(&nodes).await, leader);
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_behind_the_purged_log_catches_up_from_a_snapshot() {
    init_tracing();
    let listeners = listeners(3).await;
    let peers: std::collections::BTreeMap<u64, String> = listeners
        .iter()
        .zip(1u64..)
        .map(|(l, id)| (id, l.local_addr().unwrap().to_string()))
        .collect();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    // Snapshots every 5 entries and no log kept behind them: a node that misses a few
    // entries can only catch up by InstallSnapshot over the cluster port.
    let config = |id: u64| {
        let mut c = config(id, dirs[usize::try_from(id - 1).unwrap()].path(), &peers);
        c.snapshot_interval_entries = 5;
        c.entries_kept_after_snapshot = 0;
        c
    };
    let mut nodes = Vec::new();
    for (listener, id) in listeners.into_iter().zip(1u64..) {
        nodes.push(Some(
            MetadataNode::open_on(config(id), listener).await.unwrap(),
        ));
    }
    let leader = agreed_leader(&nodes).await;
    node(&nodes, leader).propose(register(1)).await.unwrap();
    let behind = (1..=3).find(|id| *id != leader).unwrap();
    let index = usize::try_from(behind - 1).unwrap();
    nodes[index].take().unwrap().shutdown().await.unwrap();

    for i in 0..20 {
        node(&nodes, leader)
            .propose(create_topic(&format!("t{i}"), &[1]))
            .await
            .unwrap();
    }
    // Wait until the leader has purged past what the stopped node has.
    let mut metrics = node(&nodes, leader).raft_metrics();
    tokio::time::timeout(
        DEADLINE,
        metrics.wait_for(|m| m.purged.is_some_and(|p| p.index >= 15)),
    )
    .await
    .expect("the leader purges its log behind a snapshot")
    .unwrap();

    let back = MetadataNode::open(config(behind), addr(&peers, behind))
        .await
        .unwrap();
    let seen = applied_until(&back, has_topic("t19")).await;
    assert_eq!(seen.metadata, node(&nodes, leader).metadata().metadata);
    nodes[index] = Some(back);
    shutdown_all(nodes).await;
}
