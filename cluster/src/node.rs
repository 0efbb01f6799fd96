//! `MetadataNode`: one node of the metadata quorum, as the server uses it.
//!
//! Opening a node opens its storage, starts openraft, and serves the cluster port. A new
//! cluster is formed by exactly one node, the lowest id among the voters: it alone calls
//! openraft's `initialize`, and only while its log is empty, so restarts never re-initialize
//! and no two nodes can form different clusters from the same peer list. The others wait to
//! hear from it.
//!
//! Proposals are forwarded: `propose` on a follower sends the command to the leader over the
//! cluster port and returns the leader's answer, so the caller never has to find the
//! controller. A proposal is retried (until the node's propose timeout) only when it cannot
//! have been applied: no leader is known yet, the node asked was no longer leader, or the
//! leader could not be dialled. Once a forwarded proposal has been sent, a lost answer is
//! reported (`ProposeError::Unreachable`), not retried, since the command may have been
//! applied. One case slips through, as in any Raft client: a leader that loses its leadership
//! after appending a proposal answers `NotLeader`, and the entry may still be committed by the
//! next leader, so a retry can apply a command twice. A repeat of most commands is refused
//! harmlessly (`TopicExists`, `UnknownTopic`, a stale epoch); a repeated `RegisterBroker` moves
//! the broker to a newer epoch. Deduplicating by request id is left for when it matters.
//!
//! Reads never go through Raft: `metadata()` is this node's applied image, which may trail the
//! leader's by the entries not yet replicated here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use openraft::error::{ChangeMembershipError, ClientWriteError, InitializeError, RaftError};
use openraft::{Config, RaftMetrics, ServerState, SnapshotPolicy};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::controller::{ControllerTask, HeartbeatTask, Liveness};
use crate::data::{CallFailed, DataRequest, DataResponse, DataService};
use crate::error::Error;
use crate::metadata::{Applied, BrokerEpoch, BrokerId, Command, CommandError};
use crate::network::{CallError, DataSlot, Network, Peers};
use crate::protocol::{Heartbeat, JoinError, JoinRequest, Message};
use crate::store::{self, AppliedMetadata};
use crate::types::{MetadataRaft, NodeId, RaftNode};

/// How long a broker started with `--join` keeps asking to be added.
const JOIN_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a follower waits for a sign of a leader before asking again.
const LEADER_POLL: Duration = Duration::from_millis(50);

/// What a node needs to start.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// This node's id (the broker id).
    pub node_id: NodeId,
    /// The directory of the Raft log, vote and snapshots (created if missing).
    pub data_dir: PathBuf,
    /// The voters and their cluster addresses, this node included. Empty: a one-voter
    /// cluster of this node alone, at its listener's address.
    pub peers: BTreeMap<NodeId, String>,
    /// How long `propose` keeps trying to reach a leader.
    pub propose_timeout: Duration,
    /// Raft's heartbeat interval; elections time out after 5 to 10 of them.
    pub heartbeat_interval: Duration,
    /// A snapshot is taken after this many entries since the last one.
    pub snapshot_interval_entries: u64,
    /// Entries kept in the log behind the latest snapshot, so that a follower a little behind
    /// catches up from the log rather than with a whole snapshot.
    pub entries_kept_after_snapshot: u64,
    /// Kafka's `broker.session.timeout.ms`: a broker silent this long is fenced.
    pub broker_session_timeout: Duration,
    /// Kafka's `broker.heartbeat.interval.ms`.
    pub broker_heartbeat_interval: Duration,
    /// The cluster port of a member of a running cluster: this node joins it as a non-voting
    /// member (a learner) instead of forming a cluster with `peers` (which must be empty).
    pub join: Option<String>,
}

impl NodeConfig {
    /// A configuration with the default timings.
    pub fn new(node_id: NodeId, data_dir: PathBuf, peers: BTreeMap<NodeId, String>) -> Self {
        NodeConfig {
            node_id,
            data_dir,
            peers,
            propose_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_millis(100),
            snapshot_interval_entries: 5000,
            entries_kept_after_snapshot: 1000,
            broker_session_timeout: Duration::from_secs(9),
            broker_heartbeat_interval: Duration::from_secs(2),
            join: None,
        }
    }
}

/// Why a proposal did not produce a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ProposeError {
    /// The command was applied and refused by the state machine (on every node alike).
    #[error(transparent)]
    Rejected(CommandError),
    /// No leader became known within the propose timeout.
    #[error("no metadata leader is known")]
    NoLeader,
    /// The node asked is not the leader (an answer of the cluster port; `propose` retries).
    #[error("node {node} is not the metadata leader (leader: {leader:?})")]
    NotLeader {
        node: NodeId,
        leader: Option<NodeId>,
    },
    /// The leader was sent the command but its answer was lost: it may have been applied.
    #[error("lost the answer of the metadata leader {leader}: {reason}")]
    Unreachable { leader: NodeId, reason: String },
    /// openraft refused a membership change (metadata commands never change the membership).
    #[error(transparent)]
    Membership(ChangeMembershipError<NodeId>),
    /// The Raft node has stopped (shut down, or a storage failure).
    #[error("the metadata node has stopped")]
    Stopped,
    /// An answer of a kind the request does not have (a bug, reported rather than hidden).
    #[error("unexpected answer: {0}")]
    Unexpected(String),
    /// The command was committed and applied by the leader, but this node had not applied it
    /// within the propose timeout (it trails the leader).
    #[error(
        "the metadata change was committed at index {log_index} but this node has not applied it yet"
    )]
    NotYetApplied { log_index: u64 },
}

/// A command the leader applied: its entry's index in the metadata log and what it reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committed {
    pub log_index: u64,
    pub applied: Applied,
}

/// One running node of the metadata quorum.
///
/// # Examples
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use runnel_cluster::metadata::{BrokerId, Command};
/// use runnel_cluster::{MetadataNode, NodeConfig};
///
/// // No peers: a one-voter cluster of this node alone.
/// let config = NodeConfig::new(1, "data/metadata".into(), Default::default());
/// let node = MetadataNode::open(config, "127.0.0.1:9093".parse()?).await?;
/// node.propose(Command::RegisterBroker {
///     broker: BrokerId(1),
///     http_addr: "127.0.0.1:8080".into(),
///     cluster_addr: "127.0.0.1:9093".into(),
/// })
/// .await?;
/// assert_eq!(node.metadata().metadata.brokers.len(), 1);
/// node.shutdown().await?;
/// # Ok(())
/// # }
/// ```
pub struct MetadataNode {
    node_id: NodeId,
    cluster_addr: Option<SocketAddr>,
    raft: MetadataRaft,
    peers: Peers,
    applied: watch::Receiver<Arc<AppliedMetadata>>,
    propose_timeout: Duration,
    heartbeat_interval: Duration,
    liveness: Arc<Liveness>,
    /// The server's handler of data-plane requests, once it registers one.
    data: DataSlot,
    shutdown: CancellationToken,
    /// The cluster port's listener (none for a local node), the controller task, and the
    /// broker's heartbeat task once registered.
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl fmt::Debug for MetadataNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // openraft's `Raft` has no Debug; its state is in `raft_metrics()`.
        f.debug_struct("MetadataNode")
            .field("node_id", &self.node_id)
            .field("cluster_addr", &self.cluster_addr)
            .finish_non_exhaustive()
    }
}

impl MetadataNode {
    /// Binds `listen` and opens the node on it.
    ///
    /// # Errors
    ///
    /// `Error::Bind` when the address cannot be bound; otherwise as `open_on`.
    pub async fn open(config: NodeConfig, listen: SocketAddr) -> Result<Self, Error> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| Error::Bind {
                addr: listen.to_string(),
                source,
            })?;
        Self::open_on(config, listener).await
    }

    /// Opens the node's storage, starts Raft, serves the cluster port on `listener`, and forms
    /// the cluster if it is new and this node is the lowest voter.
    ///
    /// # Errors
    ///
    /// `Error::NotAPeer` when `peers` is not empty and lacks this node; `Error::WrongNode` when
    /// the data dir belongs to another node id; storage errors from opening the data dir; `Error::Raft`/`Error::Initialize` when openraft refuses to start.
    pub async fn open_on(config: NodeConfig, listener: TcpListener) -> Result<Self, Error> {
        Self::start(config, Some(listener)).await
    }

    /// Opens a one-voter node without a cluster port: a single broker, which no peer needs to
    /// reach (its membership records an empty address).
    ///
    /// # Errors
    ///
    /// `Error::NotAPeer` when `peers` is not empty (peers need a cluster port); otherwise as
    /// `open_on`.
    pub async fn open_local(config: NodeConfig) -> Result<Self, Error> {
        if !config.peers.is_empty() {
            return Err(Error::NotAPeer {
                node_id: config.node_id,
            });
        }
        Self::start(config, None).await
    }

    async fn start(config: NodeConfig, listener: Option<TcpListener>) -> Result<Self, Error> {
        let node_id = config.node_id;
        let cluster_addr = listener
            .as_ref()
            .map(|l| {
                l.local_addr().map_err(|source| Error::Bind {
                    addr: "the cluster listener".to_owned(),
                    source,
                })
            })
            .transpose()?;
        let voters: BTreeMap<NodeId, RaftNode> = if config.peers.is_empty() {
            BTreeMap::from([(
                node_id,
                RaftNode {
                    cluster_addr: cluster_addr.map(|a| a.to_string()).unwrap_or_default(),
                },
            )])
        } else {
            config
                .peers
                .iter()
                .map(|(id, addr)| {
                    (
                        *id,
                        RaftNode {
                            cluster_addr: addr.clone(),
                        },
                    )
                })
                .collect()
        };
        if config.join.is_none() && !voters.contains_key(&node_id) {
            return Err(Error::NotAPeer { node_id });
        }
        let data_dir = config.data_dir.clone();
        let (log, state_machine) =
            tokio::task::spawn_blocking(move || store::open(&data_dir, node_id))
                .await
                .map_err(|source| Error::TaskFailed { source })??;
        let applied = state_machine.subscribe();

        let heartbeat = u64::try_from(config.heartbeat_interval.as_millis()).unwrap_or(u64::MAX);
        let raft_config = Config {
            cluster_name: "runnel-metadata".to_owned(),
            heartbeat_interval: heartbeat,
            election_timeout_min: heartbeat.saturating_mul(5),
            election_timeout_max: heartbeat.saturating_mul(10),
            snapshot_policy: SnapshotPolicy::LogsSinceLast(config.snapshot_interval_entries),
            max_in_snapshot_log_to_keep: config.entries_kept_after_snapshot,
            ..Config::default()
        }
        .validate()
        .map_err(|source| Error::RaftConfig {
            source: Box::new(source),
        })?;

        let shutdown = CancellationToken::new();
        let peers = Peers::new(shutdown.clone());
        let network = Network {
            peers: peers.clone(),
        };
        let raft =
            MetadataRaft::new(node_id, Arc::new(raft_config), network, log, state_machine).await?;
        let liveness = Arc::new(Liveness::default());
        let data = DataSlot::default();
        let mut tasks = Vec::new();
        if let Some(listener) = listener {
            tasks.push(tokio::spawn(crate::network::serve(
                listener,
                node_id,
                raft.clone(),
                Arc::clone(&liveness),
                Arc::clone(&data),
                shutdown.clone(),
            )));
        }
        tasks.push(tokio::spawn(
            ControllerTask {
                raft: raft.clone(),
                node_id,
                applied: applied.clone(),
                liveness: Arc::clone(&liveness),
                session_timeout: config.broker_session_timeout,
                shutdown: shutdown.clone(),
            }
            .run(),
        ));
        let node = MetadataNode {
            node_id,
            cluster_addr,
            raft,
            peers,
            applied,
            propose_timeout: config.propose_timeout,
            heartbeat_interval: config.broker_heartbeat_interval,
            liveness,
            data,
            shutdown,
            tasks: Mutex::new(tasks),
        };
        let joined = match (&config.join, cluster_addr) {
            (Some(join), Some(me)) => node.join(join, &me.to_string()).await,
            (Some(_), None) => Err(Error::NotAPeer { node_id }),
            (None, _) => node.form_cluster(voters).await,
        };
        if let Err(e) = joined {
            // Stop what was started; the formation error is the one to report.
            let _ = node.shutdown().await;
            return Err(e);
        }
        tracing::info!(node_id, cluster_addr = ?cluster_addr, "metadata node started");
        Ok(node)
    }

    /// Asks the cluster at `addr` (any member; the leader is found from there) to add this node
    /// as a learner at `me`, unless it is a member already (a restart). Waits until the
    /// leader has added it and brought its log up to date.
    ///
    /// # Errors
    /// `Error::Join` when the cluster refuses (the id is another member's) or cannot be
    /// reached within the join timeout.
    async fn join(&self, addr: &str, me: &str) -> Result<(), Error> {
        if self.raft.is_initialized().await? {
            return Ok(());
        }
        let deadline = tokio::time::Instant::now() + JOIN_TIMEOUT;
        let mut target = addr.to_owned();
        let request = JoinRequest {
            node_id: self.node_id,
            cluster_addr: me.to_owned(),
        };
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(Error::Join {
                    reason: format!("no member of the cluster at {addr} added this node in time"),
                });
            }
            let answer = self
                .peers
                .call(&target, Message::Join(request.clone()), left)
                .await;
            match answer {
                Ok(Message::JoinResponse(Ok(()))) => {
                    tracing::info!(node_id = self.node_id, via = %target, "joined the metadata cluster as a learner");
                    return Ok(());
                }
                Ok(Message::JoinResponse(Err(JoinError::Refused(reason)))) => {
                    return Err(Error::Join { reason });
                }
                Ok(Message::JoinResponse(Err(JoinError::NotLeader {
                    leader_addr: Some(leader),
                }))) => {
                    target = leader;
                    continue;
                }
                Ok(other) => {
                    tracing::debug!(answer = ?other.kind(), "join not done yet");
                }
                Err(e) => tracing::debug!(error = %e, "join not done yet"),
            }
            tokio::time::sleep(LEADER_POLL.max(Duration::from_millis(200))).await;
            target = addr.to_owned();
        }
    }

    /// Initializes the membership when this node is the lowest voter and its log is empty.
    async fn form_cluster(&self, voters: BTreeMap<NodeId, RaftNode>) -> Result<(), Error> {
        let lowest = voters.keys().next().copied();
        if lowest != Some(self.node_id) || self.raft.is_initialized().await? {
            return Ok(());
        }
        tracing::info!(voters = ?voters.keys().collect::<BTreeSet<_>>(), "forming the metadata cluster");
        match self.raft.initialize(voters).await {
            // Raced with a leader that already reached us: the cluster exists, as wanted.
            Ok(()) | Err(RaftError::APIError(InitializeError::NotAllowed(_))) => Ok(()),
            Err(RaftError::APIError(e)) => Err(Error::Initialize {
                source: Box::new(e),
            }),
            Err(RaftError::Fatal(e)) => Err(e.into()),
        }
    }

    /// Proposes a command to the metadata log and waits until it is applied, by the leader and
    /// by this node, forwarding it to the leader when this node is not the leader. Waiting for
    /// the local image is what lets a broker answer its client only once its own metadata
    /// shows the change (read-your-writes through any broker).
    ///
    /// # Errors
    ///
    /// `ProposeError::Rejected` when the state machine refused the command; the other variants
    /// when no result could be had (see the module doc for which are retried).
    pub async fn propose(&self, command: Command) -> Result<Applied, ProposeError> {
        let deadline = tokio::time::Instant::now() + self.propose_timeout;
        let committed = self.propose_until(command, deadline).await?;
        let mut applied = self.applied.clone();
        let caught_up = applied.wait_for(|image| {
            image
                .applied_index
                .is_some_and(|index| index >= committed.log_index)
        });
        match tokio::time::timeout_at(deadline, caught_up).await {
            Ok(Ok(_)) => Ok(committed.applied),
            Ok(Err(_)) => Err(ProposeError::Stopped),
            Err(_) => Err(ProposeError::NotYetApplied {
                log_index: committed.log_index,
            }),
        }
    }

    /// Proposes until the leader answers or `deadline` passes.
    async fn propose_until(
        &self,
        command: Command,
        deadline: tokio::time::Instant,
    ) -> Result<Committed, ProposeError> {
        let mut metrics = self.raft.metrics();
        loop {
            let leader = match propose_local(&self.raft, self.node_id, command.clone()).await {
                Err(ProposeError::NotLeader { leader, .. }) => leader,
                done => return done,
            };
            if let Some(leader) = leader
                && leader != self.node_id
                && let Some(outcome) = self.forward(leader, &command, deadline).await
            {
                return outcome;
            }
            // No leader known, or the one we knew did not take it: wait for a change of view.
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(ProposeError::NoLeader);
            }
            let wait = LEADER_POLL.min(deadline - now);
            let _ = tokio::time::timeout(wait, metrics.changed()).await;
        }
    }

    /// Sends the command to `leader`; `None` when it could not have been applied there (so a
    /// retry is safe).
    async fn forward(
        &self,
        leader: NodeId,
        command: &Command,
        deadline: tokio::time::Instant,
    ) -> Option<Result<Committed, ProposeError>> {
        let addr = self
            .raft
            .metrics()
            .borrow()
            .membership_config
            .membership()
            .get_node(&leader)?
            .cluster_addr
            .clone();
        let timeout = deadline.saturating_duration_since(tokio::time::Instant::now());
        match self
            .peers
            .call(&addr, Message::Propose(command.clone()), timeout)
            .await
        {
            Ok(Message::ProposeResponse(Err(ProposeError::NotLeader { .. }))) => None,
            Ok(Message::ProposeResponse(outcome)) => Some(outcome),
            Err(CallError::Connect { .. }) => None,
            Ok(other) => Some(Err(ProposeError::Unreachable {
                leader,
                reason: format!("unexpected {:?} answer", other.kind()),
            })),
            Err(e) => Some(Err(ProposeError::Unreachable {
                leader,
                reason: e.to_string(),
            })),
        }
    }

    /// Proposes `cluster_id` as the cluster's id and returns the id in force: the first one
    /// ever applied, whichever node proposed it.
    ///
    /// # Errors
    ///
    /// As [`Self::propose`].
    pub async fn init_cluster(&self, cluster_id: String) -> Result<String, ProposeError> {
        match self.propose(Command::InitCluster { cluster_id }).await? {
            Applied::ClusterId { cluster_id } => Ok(cluster_id),
            other => Err(ProposeError::Unexpected(format!("{other:?}"))),
        }
    }

    /// Registers this node as a broker whose HTTP API is at `http_addr` (a new registration
    /// epoch; the broker starts fenced) and heartbeats the controller from then on, which
    /// unfences it.
    ///
    /// # Errors
    ///
    /// As [`Self::propose`]; `ProposeError::Unexpected` when the node id is not a broker id.
    pub async fn register_broker(&self, http_addr: String) -> Result<BrokerEpoch, ProposeError> {
        let broker = u32::try_from(self.node_id).map(BrokerId).map_err(|_| {
            ProposeError::Unexpected(format!("node id {} is not a broker id", self.node_id))
        })?;
        let command = Command::RegisterBroker {
            broker,
            http_addr,
            cluster_addr: self.cluster_addr.map(|a| a.to_string()).unwrap_or_default(),
        };
        let epoch = match self.propose(command).await? {
            Applied::BrokerRegistered { epoch } => epoch,
            other => return Err(ProposeError::Unexpected(format!("{other:?}"))),
        };
        let task = HeartbeatTask {
            raft: self.raft.clone(),
            node_id: self.node_id,
            peers: self.peers.clone(),
            liveness: Arc::clone(&self.liveness),
            heartbeat: Heartbeat { broker, epoch },
            interval: self.heartbeat_interval,
            shutdown: self.shutdown.clone(),
        };
        self.tasks.lock().push(tokio::spawn(task.run()));
        Ok(epoch)
    }

    /// This node's applied metadata image.
    pub fn metadata(&self) -> Arc<AppliedMetadata> {
        Arc::clone(&self.applied.borrow())
    }

    /// A receiver that sees every image this node applies.
    pub fn subscribe(&self) -> watch::Receiver<Arc<AppliedMetadata>> {
        self.applied.clone()
    }

    /// Whether this node is the Raft leader, the controller.
    pub fn is_controller(&self) -> bool {
        self.raft.metrics().borrow().state == ServerState::Leader
    }

    /// The controller as this node knows it.
    pub fn controller(&self) -> Option<NodeId> {
        self.raft.metrics().borrow().current_leader
    }

    /// openraft's metrics of this node: state, term, log and applied indexes, replication.
    pub fn raft_metrics(&self) -> watch::Receiver<RaftMetrics<NodeId, RaftNode>> {
        self.raft.metrics()
    }

    /// This node's id.
    pub fn node_id(&self) -> NodeId {
        self.node_id
    }

    /// The address the cluster port listens on; `None` for a local node.
    pub fn cluster_addr(&self) -> Option<SocketAddr> {
        self.cluster_addr
    }

    /// Serves other brokers' data-plane requests with `service` from now on (until then they
    /// are refused as not served yet). The first registration stays.
    pub fn serve_data(&self, service: Arc<dyn DataService>) {
        if self.data.set(service).is_err() {
            tracing::warn!("a data service was already registered; keeping the first");
        }
    }

    /// Sends a data-plane request to `broker` (its cluster address from the applied
    /// metadata) with `tail` after it, and waits up to `timeout` for the answer and its tail.
    ///
    /// # Errors
    ///
    /// [`CallFailed`], saying whether the request was sent at all.
    pub async fn call_data(
        &self,
        broker: u32,
        request: DataRequest,
        tail: Bytes,
        timeout: Duration,
    ) -> Result<(DataResponse, Bytes), CallFailed> {
        let addr = self
            .metadata()
            .metadata
            .brokers
            .get(&BrokerId(broker))
            .map(|b| b.cluster_addr.clone())
            .filter(|a| !a.is_empty())
            .ok_or(CallFailed::UnknownBroker(broker))?;
        let frame = self
            .peers
            .exchange(&addr, Message::Data(request), tail, timeout)
            .await
            .map_err(|e| match e {
                CallError::Connect { .. } => CallFailed::Unreachable {
                    broker,
                    reason: e.to_string(),
                },
                _ => CallFailed::NoAnswer {
                    broker,
                    reason: e.to_string(),
                },
            })?;
        match frame.message {
            Message::DataResponse(response) => Ok((response, frame.tail)),
            other => Err(CallFailed::NoAnswer {
                broker,
                reason: format!("unexpected {:?} answer", other.kind()),
            }),
        }
    }

    /// Stops serving the cluster port, closes peer connections and stops Raft.
    ///
    /// # Errors
    ///
    /// `Error::TaskFailed` when Raft's task had panicked.
    pub async fn shutdown(&self) -> Result<(), Error> {
        self.shutdown.cancel();
        let tasks = std::mem::take(&mut *self.tasks.lock());
        for task in tasks {
            let _ = task.await;
        }
        self.raft
            .shutdown()
            .await
            .map_err(|source| Error::TaskFailed { source })?;
        tracing::info!(node_id = self.node_id, "metadata node stopped");
        Ok(())
    }
}

/// Adds a joining broker as a learner, when this node is the leader; waits until the learner
/// has caught up. A voter's id, or a member's id at another address, is refused.
pub(crate) async fn admit_learner(
    raft: &MetadataRaft,
    request: JoinRequest,
) -> Result<(), JoinError> {
    let membership = raft.metrics().borrow().membership_config.clone();
    let membership = membership.membership();
    if membership.voter_ids().any(|id| id == request.node_id) {
        return Err(JoinError::Refused(format!(
            "node id {} is a voter of this cluster; a joining broker needs an id of its own",
            request.node_id
        )));
    }
    if let Some(node) = membership.get_node(&request.node_id)
        && node.cluster_addr != request.cluster_addr
    {
        return Err(JoinError::Refused(format!(
            "node id {} is already a member at {}; a joining broker needs an id of its own",
            request.node_id, node.cluster_addr
        )));
    }
    let node = RaftNode {
        cluster_addr: request.cluster_addr,
    };
    match raft.add_learner(request.node_id, node, true).await {
        Ok(_) => Ok(()),
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => {
            Err(JoinError::NotLeader {
                leader_addr: f.leader_node.map(|n| n.cluster_addr),
            })
        }
        Err(e) => Err(JoinError::Failed(e.to_string())),
    }
}

/// Proposes through the local Raft node: `NotLeader` with the leader it knows when this node
/// is not the leader.
pub(crate) async fn propose_local(
    raft: &MetadataRaft,
    node_id: NodeId,
    command: Command,
) -> Result<Committed, ProposeError> {
    match raft.client_write(command).await {
        Ok(response) => response
            .data
            .map(|applied| Committed {
                log_index: response.log_id.index,
                applied,
            })
            .map_err(ProposeError::Rejected),
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => {
            Err(ProposeError::NotLeader {
                node: node_id,
                leader: f.leader_id,
            })
        }
        Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(e))) => {
            Err(ProposeError::Membership(e))
        }
        Err(RaftError::Fatal(_)) => Err(ProposeError::Stopped),
    }
}
