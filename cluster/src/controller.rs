//! Broker liveness, as KRaft keeps it: brokers heartbeat the controller, the controller fences
//! the silent ones and unfences the ones it hears from.
//!
//! Heartbeats are not metadata. The controller keeps the last one of each broker in memory
//! ([`Liveness`]) and only its decisions go through the metadata log: `UnfenceBroker` when a
//! registered, fenced broker heartbeats at its current epoch, `FenceBroker` when an unfenced
//! one has been silent for the session timeout. A node that has just become controller waits
//! one session timeout before fencing anyone, since the brokers' heartbeats went to its
//! predecessor until they noticed the change.
//!
//! The broker's side ([`heartbeat_loop`]) sends a heartbeat every interval to whichever node
//! it knows as controller; one lost now and then costs nothing, so errors are only logged.
//!
//! Not owned here: registering a broker (a plain proposal, `MetadataNode::register_broker`),
//! what fencing does to partitions (`metadata/command.rs`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::ServerState;
use parking_lot::Mutex;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::metadata::{BrokerEpoch, BrokerId, Command};
use crate::network::Peers;
use crate::node::{ProposeError, propose_local};
use crate::protocol::{Heartbeat, Message};
use crate::store::AppliedMetadata;
use crate::types::{MetadataRaft, NodeId};

/// The last heartbeat the controller had from each broker.
#[derive(Debug, Default)]
pub(crate) struct Liveness {
    seen: Mutex<HashMap<BrokerId, (BrokerEpoch, Instant)>>,
}

impl Liveness {
    pub(crate) fn record(&self, heartbeat: Heartbeat) {
        self.seen
            .lock()
            .insert(heartbeat.broker, (heartbeat.epoch, Instant::now()));
    }

    /// Whether `broker` heartbeated at `epoch` within the last `session`.
    fn alive(&self, broker: BrokerId, epoch: BrokerEpoch, session: Duration) -> bool {
        self.seen
            .lock()
            .get(&broker)
            .is_some_and(|(e, at)| *e == epoch && at.elapsed() < session)
    }
}

/// Answers a heartbeat that reached this node: recorded when it is the controller,
/// `NotLeader` (with the controller it knows) otherwise.
pub(crate) fn receive(
    raft: &MetadataRaft,
    node_id: NodeId,
    liveness: &Liveness,
    heartbeat: Heartbeat,
) -> Result<(), ProposeError> {
    // Read under the watch's borrow: heartbeats arrive every interval from every broker, and
    // cloning the whole metrics (membership, replication map) for two fields is waste.
    let (state, leader) = {
        let m = raft.metrics();
        let m = m.borrow();
        (m.state, m.current_leader)
    };
    if state == ServerState::Leader {
        liveness.record(heartbeat);
        Ok(())
    } else {
        Err(ProposeError::NotLeader {
            node: node_id,
            leader,
        })
    }
}

/// What the controller task needs.
pub(crate) struct ControllerTask {
    pub(crate) raft: MetadataRaft,
    pub(crate) node_id: NodeId,
    pub(crate) applied: watch::Receiver<Arc<AppliedMetadata>>,
    pub(crate) liveness: Arc<Liveness>,
    pub(crate) session_timeout: Duration,
    pub(crate) shutdown: CancellationToken,
}

impl ControllerTask {
    /// While this node is controller, fences silent brokers and unfences live ones.
    pub(crate) async fn run(self) {
        let mut tick = tokio::time::interval((self.session_timeout / 8).max(TICK_MIN));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut leading_since: Option<Instant> = None;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = self.shutdown.cancelled() => return,
            }
            if self.raft.metrics().borrow().state != ServerState::Leader {
                leading_since = None;
                continue;
            }
            let since = *leading_since.get_or_insert_with(Instant::now);
            let image = Arc::clone(&self.applied.borrow());
            for (&broker, registration) in &image.metadata.brokers {
                let epoch = registration.epoch;
                let alive = self.liveness.alive(broker, epoch, self.session_timeout);
                let command = if registration.fenced && alive {
                    Command::UnfenceBroker { broker, epoch }
                } else if !registration.fenced && !alive && since.elapsed() >= self.session_timeout
                {
                    Command::FenceBroker { broker, epoch }
                } else {
                    continue;
                };
                match propose_local(&self.raft, self.node_id, command.clone()).await {
                    Ok(_) => tracing::info!(?command, "broker liveness changed"),
                    // Lost the leadership or raced a re-registration: the next tick looks again.
                    Err(e) => tracing::debug!(?command, error = %e, "liveness change not applied"),
                }
            }
        }
    }
}

/// The shortest pause between two looks at the brokers' liveness.
const TICK_MIN: Duration = Duration::from_millis(50);

/// What a broker's heartbeat task needs.
pub(crate) struct HeartbeatTask {
    pub(crate) raft: MetadataRaft,
    pub(crate) node_id: NodeId,
    pub(crate) peers: Peers,
    pub(crate) liveness: Arc<Liveness>,
    pub(crate) heartbeat: Heartbeat,
    pub(crate) interval: Duration,
    pub(crate) shutdown: CancellationToken,
}

impl HeartbeatTask {
    /// Heartbeats the controller every interval until shutdown.
    pub(crate) async fn run(self) {
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = self.shutdown.cancelled() => return,
            }
            let metrics = self.raft.metrics().borrow().clone();
            let Some(controller) = metrics.current_leader else {
                continue;
            };
            if controller == self.node_id {
                if let Err(e) = receive(&self.raft, self.node_id, &self.liveness, self.heartbeat) {
                    tracing::debug!(error = %e, "heartbeat not recorded");
                }
                continue;
            }
            let Some(addr) = metrics
                .membership_config
                .membership()
                .get_node(&controller)
                .map(|n| n.cluster_addr.clone())
            else {
                continue;
            };
            match self
                .peers
                .call(&addr, Message::Heartbeat(self.heartbeat), self.interval)
                .await
            {
                Ok(Message::HeartbeatResponse(Ok(()))) => {}
                Ok(other) => tracing::debug!(?other, "heartbeat answered otherwise"),
                Err(e) => tracing::debug!(error = %e, %addr, "heartbeat not delivered"),
            }
        }
    }
}
