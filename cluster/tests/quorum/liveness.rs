//! Broker liveness: registration, heartbeats to the controller, fencing and unfencing, and the
//! cluster id every broker adopts.

use std::collections::BTreeMap;

use runnel_cluster::MetadataNode;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_node_keeps_the_first_cluster_id_and_unfences_itself() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let node = MetadataNode::open_local(config(1, dir.path(), &BTreeMap::new()))
        .await
        .unwrap();
    assert_eq!(node.cluster_addr(), None);
    assert_eq!(node.init_cluster("first".into()).await.unwrap(), "first");
    assert_eq!(
        node.init_cluster("second".into()).await.unwrap(),
        "first",
        "a later proposal adopts the id in force"
    );
    node.register_broker("127.0.0.1:8080".into()).await.unwrap();
    let seen = applied_until(&node, |m| fenced(m, 1) == Some(false)).await;
    assert_eq!(
        seen.metadata.brokers[&runnel_cluster::metadata::BrokerId(1)].cluster_addr,
        ""
    );
    node.shutdown().await.unwrap();

    // After a restart the id is still the first one.
    let node = MetadataNode::open_local(config(1, dir.path(), &BTreeMap::new()))
        .await
        .unwrap();
    assert_eq!(node.init_cluster("third".into()).await.unwrap(), "first");
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_broker_is_fenced_and_unfenced_when_it_returns() {
    init_tracing();
    let (mut nodes, peers, dirs) = start_cluster(3).await;
    let leader = agreed_leader(&nodes).await;
    for n in nodes.iter().flatten() {
        n.register_broker(format!("127.0.0.1:{}", 8000 + n.node_id()))
            .await
            .unwrap();
    }
    for n in nodes.iter().flatten() {
        applied_until(n, |m| (1..=3).all(|b| fenced(m, b) == Some(false))).await;
    }

    let silent = (1..=3).find(|id| *id != leader).unwrap();
    let broker = u32::try_from(silent).unwrap();
    let index = usize::try_from(silent - 1).unwrap();
    nodes[index].take().unwrap().shutdown().await.unwrap();
    applied_until(node(&nodes, leader), |m| fenced(m, broker) == Some(true)).await;

    let back = MetadataNode::open(
        config(silent, dirs[index].path(), &peers),
        addr(&peers, silent),
    )
    .await
    .unwrap();
    let epoch = back.register_broker("127.0.0.1:9999".into()).await.unwrap();
    let seen = applied_until(node(&nodes, leader), |m| fenced(m, broker) == Some(false)).await;
    let registration = &seen.metadata.brokers[&runnel_cluster::metadata::BrokerId(broker)];
    assert_eq!(registration.epoch, epoch, "unfenced at its new epoch");
    assert_eq!(registration.http_addr, "127.0.0.1:9999");
    nodes[index] = Some(back);
    shutdown_all(nodes).await;
}
