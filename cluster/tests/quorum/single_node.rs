//! One voter alone: it elects itself, applies commands, and keeps them across a restart.

use runnel_cluster::metadata::{Applied, BrokerEpoch, BrokerId, CommandError};
use runnel_cluster::{MetadataNode, ProposeError};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_node_elects_itself() {
    init_tracing();
    let (node, _dir, _) = start_single().await;
    let nodes = vec![Some(node)];
    assert_eq!(agreed_leader(&nodes).await, 1);
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_node_applies_refuses_and_recovers_after_restart() {
    init_tracing();
    let (node, dir, listen) = start_single().await;

    let Applied::BrokerRegistered { epoch } = node.propose(register(1)).await.unwrap() else {
        panic!("registration reports its epoch");
    };
    assert!(epoch > BrokerEpoch(0));
    node.propose(create_topic("orders", &[1])).await.unwrap();
    assert_eq!(
        node.propose(create_topic("orders", &[1])).await,
        Err(ProposeError::Rejected(CommandError::TopicExists {
            name: "orders".into()
        }))
    );
    let before = node.metadata();
    assert!(before.metadata.topics.contains_key("orders"));
    assert_eq!(before.metadata.brokers[&BrokerId(1)].epoch, epoch);
    node.shutdown().await.unwrap();

    // The committed entries are re-applied while the node opens, before any election.
    let node = MetadataNode::open(config(1, dir.path(), &Default::default()), listen)
        .await
        .unwrap();
    let after = node.metadata();
    assert_eq!(after.metadata, before.metadata);
    assert_applies(&node, "payments").await;
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_list_without_this_node_or_another_nodes_dir_is_refused() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let [listener] = listeners(1).await.try_into().unwrap();
    let peers = [(2, "127.0.0.1:1".to_owned())].into();
    assert!(matches!(
        MetadataNode::open_on(config(1, dir.path(), &peers), listener).await,
        Err(runnel_cluster::Error::NotAPeer { node_id: 1 })
    ));

    drop(dir);
    let (node, dir, listen) = start_single().await;
    node.shutdown().await.unwrap();
    assert!(matches!(
        MetadataNode::open(config(2, dir.path(), &Default::default()), listen).await,
        Err(runnel_cluster::Error::WrongNode {
            node_id: 2,
            found: 1,
            ..
        })
    ));
}
