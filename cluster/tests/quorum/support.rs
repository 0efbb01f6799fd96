//! Starting metadata nodes on 127.0.0.1 and waiting on their events.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Once;
use std::time::Duration;

use runnel_cluster::AppliedMetadata;
use runnel_cluster::metadata::{BrokerId, Command, PartitionAssignment, TopicId};
use runnel_cluster::{MetadataNode, NodeConfig, NodeId};
use tokio::net::TcpListener;

/// How long any awaited event may take: generous, since the machine is shared and small.
pub(crate) const DEADLINE: Duration = Duration::from_secs(30);

/// Logs go to the test's output (shown on failure); `RUST_LOG` raises the level.
pub(crate) fn init_tracing() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| "warn,runnel_cluster=info".into());
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .init();
    });
}

/// Listeners on ephemeral ports, bound before any node starts so that every node can be told
/// every other's address.
pub(crate) async fn listeners(n: usize) -> Vec<TcpListener> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    out
}

/// Short broker-liveness timings, so fencing tests take seconds, not a Kafka session.
pub(crate) fn config(node_id: NodeId, dir: &Path, peers: &BTreeMap<NodeId, String>) -> NodeConfig {
    NodeConfig {
        broker_session_timeout: Duration::from_millis(1500),
        broker_heartbeat_interval: Duration::from_millis(200),
        ..NodeConfig::new(node_id, dir.to_owned(), peers.clone())
    }
}

/// Whether the node's image has `broker` registered and unfenced (`Some(false)`), fenced
/// (`Some(true)`), or not at all (`None`).
pub(crate) fn fenced(m: &AppliedMetadata, broker: u32) -> Option<bool> {
    m.metadata.brokers.get(&BrokerId(broker)).map(|b| b.fenced)
}

/// Starts a cluster of `n` voters with ids 1..=n; returns the nodes, their peer map and dirs.
pub(crate) async fn start_cluster(
    n: usize,
) -> (
    Vec<Option<MetadataNode>>,
    BTreeMap<NodeId, String>,
    Vec<tempfile::TempDir>,
) {
    let listeners = listeners(n).await;
    let peers: BTreeMap<NodeId, String> = listeners
        .iter()
        .zip(1u64..)
        .map(|(l, id)| (id, l.local_addr().unwrap().to_string()))
        .collect();
    let mut dirs = Vec::new();
    let mut nodes = Vec::new();
    for (listener, id) in listeners.into_iter().zip(1u64..) {
        let dir = tempfile::tempdir().unwrap();
        let node = MetadataNode::open_on(config(id, dir.path(), &peers), listener)
            .await
            .unwrap();
        nodes.push(Some(node));
        dirs.push(dir);
    }
    (nodes, peers, dirs)
}

/// Waits until every given node names the same leader, one of them; returns its id.
pub(crate) async fn agreed_leader(nodes: &[Option<MetadataNode>]) -> NodeId {
    let running: Vec<&MetadataNode> = nodes.iter().flatten().collect();
    tokio::time::timeout(DEADLINE, async {
        loop {
            let leader = running
                .iter()
                .find(|n| n.is_controller())
                .map(|n| n.node_id());
            if let Some(leader) = leader
                && running.iter().all(|n| n.controller() == Some(leader))
            {
                return leader;
            }
            // Any node's metrics change (a vote, a term, a leader) is worth a new look.
            let mut changes: Vec<_> = running.iter().map(|n| n.raft_metrics()).collect();
            let waits = changes.iter_mut().map(|m| Box::pin(m.changed()));
            let _ = tokio::time::timeout(
                Duration::from_millis(200),
                futures_util::future::select_all(waits),
            )
            .await;
        }
    })
    .await
    .expect("no leader agreed on within the deadline")
}

/// Waits until the node's applied image satisfies `check`.
pub(crate) async fn applied_until(
    node: &MetadataNode,
    check: impl Fn(&AppliedMetadata) -> bool,
) -> std::sync::Arc<AppliedMetadata> {
    let mut applied = node.subscribe();
    let seen = tokio::time::timeout(DEADLINE, applied.wait_for(|m| check(m)))
        .await
        .expect("the image did not reach the expected state within the deadline")
        .expect("the node stopped");
    std::sync::Arc::clone(&seen)
}

pub(crate) fn has_topic(name: &'static str) -> impl Fn(&AppliedMetadata) -> bool {
    move |m| m.metadata.topics.contains_key(name)
}

pub(crate) fn register(broker: u32) -> Command {
    Command::RegisterBroker {
        broker: BrokerId(broker),
        http_addr: format!("127.0.0.1:{}", 8000 + broker),
        cluster_addr: format!("127.0.0.1:{}", 9000 + broker),
    }
}

pub(crate) fn create_topic(name: &str, replicas: &[u32]) -> Command {
    Command::CreateTopic {
        name: name.to_owned(),
        topic_id: TopicId(format!("id-{name}")),
        configs: BTreeMap::new(),
        assignments: vec![PartitionAssignment {
            replicas: replicas.iter().copied().map(BrokerId).collect(),
        }],
    }
}

pub(crate) fn node(nodes: &[Option<MetadataNode>], id: NodeId) -> &MetadataNode {
    nodes
        .iter()
        .flatten()
        .find(|n| n.node_id() == id)
        .expect("no such running node")
}

pub(crate) fn addr(peers: &BTreeMap<NodeId, String>, id: NodeId) -> SocketAddr {
    peers[&id].parse().unwrap()
}

/// One voter alone on an ephemeral port; returns it, its dir and its address.
pub(crate) async fn start_single() -> (MetadataNode, tempfile::TempDir, SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listen = listener.local_addr().unwrap();
    let node = MetadataNode::open_on(config(1, dir.path(), &BTreeMap::new()), listener)
        .await
        .unwrap();
    (node, dir, listen)
}

/// The node still takes proposals: it creates `topic` and has it applied.
pub(crate) async fn assert_applies(node: &MetadataNode, topic: &'static str) {
    node.propose(create_topic(topic, &[1])).await.unwrap();
    assert!(node.metadata().metadata.topics.contains_key(topic));
}

pub(crate) async fn shutdown_all(nodes: Vec<Option<MetadataNode>>) {
    for n in nodes.into_iter().flatten() {
        n.shutdown().await.unwrap();
    }
}
