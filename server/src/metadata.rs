//! The broker's seat in the metadata quorum (`runnel_cluster`): joining it at start, agreeing
//! on the cluster id, and registering the broker once its HTTP port is bound.
//!
//! Every broker runs a metadata node. Without `--peers` it is a one-voter quorum with no
//! cluster port, on the same code path as a cluster; with them it serves the cluster port and
//! votes with its peers. The Raft log, vote and snapshots live in `<data>/metadata/`.
//!
//! What the quorum holds: the cluster id, the registered brokers with their liveness (fenced or
//! not, decided by the controller from heartbeats), and the client topics with their
//! placements, leaders and configs, which the broker follows (`broker/cluster.rs`).
//!
//! Not owned here: Raft, storage, heartbeats and fencing (`runnel_cluster`); HTTP shapes
//! (`gateway/v3/brokers.rs`).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use anyhow::Context as _;
use runnel_cluster::metadata::{BrokerEpoch, BrokerId, BrokerRegistration, ClusterMetadata};
use runnel_cluster::{AppliedMetadata, MetadataNode, NodeConfig, ProposeError};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::broker::Broker;
use crate::config::Config;

/// What the gateway reads of the cluster: this broker's applied metadata image and the
/// controller it knows. Cheap to clone; never blocks (both are watch channels).
#[derive(Debug, Clone)]
pub struct ClusterView {
    applied: watch::Receiver<Arc<AppliedMetadata>>,
    raft: watch::Receiver<RaftView>,
}

/// What the gateway shows of the Raft state: the controller, and, on the controller, how far
/// behind its log each other broker's copy is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RaftView {
    controller: Option<u32>,
    /// Entries each broker's metadata log lacks, known on the controller only.
    lags: BTreeMap<u32, u64>,
}

impl RaftView {
    fn of(m: &runnel_cluster::RaftMetricsOf) -> Self {
        let last = m.last_log_index.unwrap_or(0);
        let lags = m
            .replication
            .iter()
            .flatten()
            .filter_map(|(id, matched)| {
                let id = u32::try_from(*id).ok()?;
                Some((id, last.saturating_sub(matched.map_or(0, |l| l.index))))
            })
            .collect();
        RaftView {
            controller: m.current_leader.and_then(|id| u32::try_from(id).ok()),
            lags,
        }
    }
}

impl ClusterView {
    /// The view of a running node; a task follows its Raft metrics for the controller id.
    pub fn of(node: &MetadataNode, shutdown: CancellationToken) -> Self {
        let mut metrics = node.raft_metrics();
        let (tx, raft) = watch::channel(RaftView::of(&metrics.borrow()));
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    changed = metrics.changed() => if changed.is_err() { return },
                    () = shutdown.cancelled() => return,
                }
                let now = RaftView::of(&metrics.borrow());
                tx.send_if_modified(|v| {
                    let changed = *v != now;
                    *v = now;
                    changed
                });
            }
        });
        ClusterView {
            applied: node.subscribe(),
            raft,
        }
    }

    /// A fixed view of one unfenced broker that is its own controller, for tests of the
    /// gateway that run without a quorum.
    pub fn single(broker: u32, http_addr: &str) -> Self {
        let mut metadata = ClusterMetadata::default();
        metadata.brokers.insert(
            BrokerId(broker),
            BrokerRegistration {
                http_addr: http_addr.to_owned(),
                cluster_addr: String::new(),
                epoch: BrokerEpoch(1),
                fenced: false,
            },
        );
        let image = AppliedMetadata {
            applied_index: Some(1),
            metadata,
        };
        ClusterView {
            applied: watch::channel(Arc::new(image)).1,
            raft: watch::channel(RaftView {
                controller: Some(broker),
                lags: BTreeMap::new(),
            })
            .1,
        }
    }

    /// The applied image.
    pub fn image(&self) -> Arc<AppliedMetadata> {
        Arc::clone(&self.applied.borrow())
    }

    /// The controller's broker id, when one is known.
    pub fn controller(&self) -> Option<u32> {
        self.raft.borrow().controller
    }

    /// How many metadata-log entries each broker lacks; known (not empty) on the controller.
    pub fn metadata_lags(&self) -> BTreeMap<u32, u64> {
        self.raft.borrow().lags.clone()
    }

    /// Partitions without a leader (their broker is fenced).
    pub fn offline_partitions(&self) -> usize {
        self.image()
            .metadata
            .topics
            .values()
            .flat_map(|t| t.partitions.iter())
            .filter(|p| p.leader.is_none())
            .count()
    }

    /// Appends the cluster's gauges to a Prometheus text page.
    pub fn render_metrics(&self, out: &mut String) {
        use std::fmt::Write as _;
        let image = self.image();
        let brokers = &image.metadata.brokers;
        let fenced = brokers.values().filter(|b| b.fenced).count();
        let gauges = [
            (
                "runnel_cluster_controller_id",
                "Broker id of the controller (the metadata quorum's leader); -1 when none is known.",
                self.controller().map_or(-1, i64::from),
            ),
            (
                "runnel_cluster_metadata_applied_index",
                "Index of the last metadata-log entry this broker applied.",
                image
                    .applied_index
                    .map_or(-1, |i| i64::try_from(i).unwrap_or(i64::MAX)),
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        let name = "runnel_cluster_offline_partitions";
        let _ = writeln!(
            out,
            "# HELP {name} Partitions without a leader: their broker is fenced.\n\
             # TYPE {name} gauge\n{name} {}",
            self.offline_partitions()
        );
        let lags = self.metadata_lags();
        if !lags.is_empty() {
            let name = "runnel_cluster_metadata_lag";
            let _ = writeln!(
                out,
                "# HELP {name} Metadata-log entries a broker lacks, as the controller sees it.\n\
                 # TYPE {name} gauge"
            );
            for (broker, lag) in lags {
                let _ = writeln!(out, "{name}{{broker=\"{broker}\"}} {lag}");
            }
        }
        let name = "runnel_cluster_brokers";
        let _ = writeln!(
            out,
            "# HELP {name} Registered brokers, fenced (silent past the session timeout) or not.\n\
             # TYPE {name} gauge\n{name}{{state=\"unfenced\"}} {}\n{name}{{state=\"fenced\"}} {fenced}",
            brokers.len() - fenced
        );
    }
}

/// Opens this broker's metadata node: a one-voter quorum without a cluster port unless
/// `cluster_listen` is set, then the voters of `peers` (or this node alone).
///
/// # Errors
/// The metadata directory cannot be opened (another node's, unreadable), or the cluster port
/// cannot be bound.
pub async fn open(config: &Config) -> anyhow::Result<MetadataNode> {
    let node_config = NodeConfig {
        broker_session_timeout: config.broker_session_timeout,
        broker_heartbeat_interval: config.broker_heartbeat_interval,
        join: config.join.clone(),
        ..NodeConfig::new(
            u64::from(config.node_id),
            config.data_dir.join("metadata"),
            config
                .peers
                .iter()
                .map(|(id, addr)| (u64::from(*id), addr.clone()))
                .collect(),
        )
    };
    let node = match config.cluster_listen {
        Some(addr) => MetadataNode::open(node_config, addr).await,
        None => MetadataNode::open_local(node_config).await,
    };
    node.with_context(|| {
        format!(
            "cannot start the metadata quorum node {} in {}",
            config.node_id,
            config.data_dir.join("metadata").display()
        )
    })
}

/// Agrees with the quorum on the cluster id: this data directory's own when it has one and the
/// quorum none yet (a single node from before the quorum keeps its id), else the quorum's.
/// Waits for a quorum to form (its voters may start one after another) until `shutdown`.
///
/// # Errors
/// The quorum refused the proposal, or `shutdown` came first.
pub async fn agree_cluster_id(
    node: &MetadataNode,
    config: &Config,
    shutdown: &CancellationToken,
) -> anyhow::Result<String> {
    let stored = {
        let dir = config.data_dir.clone();
        tokio::task::spawn_blocking(move || Broker::stored_cluster_id(&dir))
            .await
            .context("reading the stored cluster id panicked")??
    };
    let proposed = stored.unwrap_or_else(Broker::new_cluster_id);
    let cluster_id = until_quorum("agree on the cluster id", shutdown, || {
        node.init_cluster(proposed.clone())
    })
    .await?;
    info!(%cluster_id, "cluster id agreed");
    Ok(cluster_id)
}

/// Registers this broker with its clients' address; the controller unfences it once its
/// heartbeats arrive.
///
/// # Errors
/// As [`agree_cluster_id`].
pub async fn register(
    node: &MetadataNode,
    public_url: &str,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let epoch = until_quorum("register the broker", shutdown, || {
        node.register_broker(public_url.to_owned())
    })
    .await?;
    info!(epoch = epoch.0, "broker registered with the controller");
    Ok(())
}

/// Waits until the controller has unfenced this broker (it heard its heartbeats), as a Kafka
/// broker waits before it serves: placements use unfenced brokers only, so a broker that
/// answered before would refuse topic creations on a cluster of one.
///
/// # Errors
/// `shutdown` came first, or the metadata node stopped.
pub async fn wait_unfenced(
    node: &MetadataNode,
    broker: u32,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let mut images = node.subscribe();
    let unfenced = images.wait_for(|image| {
        image
            .metadata
            .brokers
            .get(&BrokerId(broker))
            .is_some_and(|b| !b.fenced)
    });
    tokio::select! {
        done = unfenced => done.map(drop).context("the metadata node stopped"),
        () = shutdown.cancelled() => anyhow::bail!("shut down before the controller unfenced this broker"),
    }
}

/// Retries `propose` while no quorum answers (no leader yet, the leader unreachable), as a
/// starting broker waits for its peers; any other outcome is final.
async fn until_quorum<T, F, Fut>(
    what: &str,
    shutdown: &CancellationToken,
    mut propose: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProposeError>>,
{
    loop {
        let outcome = tokio::select! {
            outcome = propose() => outcome,
            () = shutdown.cancelled() => anyhow::bail!("shut down before the metadata quorum could {what}"),
        };
        match outcome {
            Ok(value) => return Ok(value),
            Err(e @ (ProposeError::NoLeader | ProposeError::Unreachable { .. })) => {
                warn!(error = %e, "waiting for the metadata quorum to {what}");
            }
            Err(e) => {
                return Err(e).with_context(|| format!("the metadata quorum could not {what}"));
            }
        }
    }
}
