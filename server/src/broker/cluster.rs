//! The broker under the metadata quorum: proposing topic changes, applying the committed
//! image to this broker's logs, and migrating a single-node data directory into the log.
//!
//! The metadata log is the one commit point of a client topic's create, delete, config change
//! and partition growth. Every broker follows the applied image ([`Broker::follow_metadata`])
//! and reconciles its local state with it ([`Broker::reconcile_locked`]): it opens the logs of
//! new topics and partitions, removes those of deleted topics (or of a recreated topic's old
//! incarnation), installs config changes on open logs, and records each partition's leader so
//! that client produce and reads of a partition led elsewhere are refused with a retriable
//! error naming the leader (`partition.rs`). The proposer reconciles before it answers, so a
//! client sees its change through the broker it asked.
//!
//! Placement is Kafka's (`runnel_cluster::placement`): replicas round-robin over the unfenced
//! brokers from a random start. Replication (followers copying the leader) is not built yet,
//! so a replication factor above 1 is refused, and every broker keeps a log for every
//! partition of every client topic; only the leader's takes records.
//!
//! Migration: `meta.json` of format 1 (a single-node broker, or one from before topics moved
//! into the metadata log) holds the topics themselves. On the first start under the quorum
//! they are proposed once into the metadata log, with their topic ids, partition counts and
//! configs, all partitions on this broker; the file is then rewritten as format 2, the
//! broker's local record of the topics it holds (used by the start-up sweep and the cluster-id
//! check), no longer a source of truth. Internal topics stay local (see `topics.rs`).
//!
//! Not owned here: Raft and the image (`runnel_cluster`), the local steps (`topics.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use runnel_cluster::metadata::{
    BrokerId, Command, CommandError, PartitionAssignment, TopicId, TopicMetadata,
};
use runnel_cluster::placement::{self, Start};
use runnel_cluster::{AppliedMetadata, MetadataNode, ProposeError};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::partition::Leader;
use super::topic_config::TopicConfig;
use super::{Broker, Error, Result, TopicSettings};

/// `meta.json` as a single node wrote it: the topics' only record.
pub(super) const LEGACY_FORMAT: u32 = 1;
/// `meta.json` under the metadata log: this broker's record of what it holds.
pub(super) const RECORD_FORMAT: u32 = 2;

/// How soon a reconciliation that failed (a full disk, no descriptor left) is tried again.
const RECONCILE_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// This broker's handle on the metadata quorum.
#[derive(Debug)]
pub(super) struct Quorum {
    node: Arc<MetadataNode>,
    runtime: tokio::runtime::Handle,
    data_dir: std::path::PathBuf,
}

/// A partition's replicas as the metadata log places them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The leader's broker id; `None` when the partition is offline.
    pub leader: Option<u32>,
    /// The replicas, preferred leader first.
    pub replicas: Vec<u32>,
    /// The in-sync replicas.
    pub isr: Vec<u32>,
}

impl Quorum {
    pub(super) fn image(&self) -> Arc<AppliedMetadata> {
        self.node.metadata()
    }

    /// Proposes `command` and waits until this broker's image has applied it. Blocking: call
    /// from a blocking thread.
    pub(super) fn propose(&self, command: Command) -> Result<()> {
        self.check_descriptors()?;
        match self.runtime.block_on(self.node.propose(command)) {
            Ok(_) => Ok(()),
            Err(ProposeError::Rejected(CommandError::TopicExists { name })) => {
                Err(Error::TopicExists(name))
            }
            Err(ProposeError::Rejected(CommandError::UnknownTopic { name })) => {
                Err(Error::UnknownTopic(name))
            }
            Err(e) => Err(Error::Quorum(e.to_string())),
        }
    }

    /// Refuses to propose when the process has no descriptors to spare: the change would be
    /// committed but this broker could not record it (`meta.json` is replaced through a new
    /// file), so the client would hear of a failure that is not one. Two descriptors: the new
    /// file and its directory's fsync.
    fn check_descriptors(&self) -> Result<()> {
        let open = || std::fs::File::open(&self.data_dir);
        open()
            .and_then(|a| open().map(|b| (a, b)))
            .map(drop)
            .map_err(|e| Error::Log(crate::log::Error::io(&self.data_dir, e)))
    }

    /// Places `count` new partitions from `first` with `factor` replicas over the unfenced
    /// brokers.
    pub(super) fn place(
        &self,
        first: u32,
        count: u32,
        factor: u32,
    ) -> Result<Vec<PartitionAssignment>> {
        let brokers: Vec<BrokerId> = self.image().metadata.unfenced_brokers().collect();
        let assignments =
            placement::place(&brokers, first, count, factor, Start::random(brokers.len()))
                .map_err(|e| Error::InvalidReplicationFactor(e.to_string()))?;
        if factor > 1 {
            return Err(Error::InvalidReplicationFactor(format!(
                "Replication factor: {factor} is not supported yet: Runnel keeps one copy of \
                 each partition until replication is built; use 1 (or leave it unset)."
            )));
        }
        Ok(assignments)
    }

    /// The replication factor of a topic: that of its first partition.
    pub(super) fn replication_factor(&self, topic: &str) -> u32 {
        self.image()
            .metadata
            .topics
            .get(topic)
            .and_then(|t| t.partitions.first())
            .map_or(1, |p| u32::try_from(p.replicas.len()).unwrap_or(1))
    }
}

/// Who leads partition `p` of `topic`, seen from broker `me`.
fn leader_in(topic: &TopicMetadata, p: u32, me: u32) -> Leader {
    let state = usize::try_from(p)
        .ok()
        .and_then(|p| topic.partitions.get(p));
    match state.and_then(|s| s.leader) {
        Some(BrokerId(b)) if b == me => Leader::Here,
        Some(BrokerId(b)) => Leader::Broker(b),
        None => Leader::Offline,
    }
}

impl Broker {
    /// The quorum that commits topic changes: none for a broker opened without one (tests).
    pub(super) fn quorum_for(&self, _name: &str) -> Option<&Quorum> {
        self.quorum.get()
    }

    /// Puts the broker under the metadata quorum: migrates a single-node `meta.json` into the
    /// metadata log (once), then opens and removes logs to match the applied image. Blocking,
    /// on a thread of the tokio runtime's blocking pool; the broker must be registered and
    /// unfenced, so migrated partitions have it as their leader.
    ///
    /// # Errors
    /// The migration or the first reconciliation failed (the broker must not serve then).
    pub fn attach(&self, node: Arc<MetadataNode>) -> Result<()> {
        // Before the quorum, so partitions led elsewhere can forward as soon as any reads it.
        let _ = self.cluster.set(Arc::clone(&node));
        let quorum = Quorum {
            node,
            runtime: tokio::runtime::Handle::current(),
            data_dir: self.config.data_dir.clone(),
        };
        if self.quorum.set(quorum).is_err() {
            return Err(Error::Quorum("the broker is already attached".into()));
        }
        let _guard = self.metadata_lock.lock();
        let legacy = self.meta_format.load(Ordering::Acquire) == LEGACY_FORMAT;
        self.migrate_locked(legacy)?;
        let image = self.quorum_image();
        self.reconcile_locked(&image)
    }

    fn quorum_image(&self) -> Arc<AppliedMetadata> {
        self.quorum
            .get()
            .map_or_else(|| Arc::new(AppliedMetadata::default()), Quorum::image)
    }

    /// Proposes each local topic the image lacks, as it is, on this broker alone: every topic
    /// of a single node's `meta.json` (`legacy`), and otherwise the internal topics a broker
    /// kept outside the metadata log before they moved into it. Idempotent: a topic the log
    /// already has under the same id was migrated by an earlier, interrupted start.
    fn migrate_locked(&self, legacy: bool) -> Result<()> {
        let Some(q) = self.quorum.get() else {
            return Ok(());
        };
        let me = BrokerId(self.broker_id());
        let local = self.topics.read().clone();
        // An internal topic whose config deletes records is refused before anything is
        // proposed, so the fix the error names (in `meta.json`) is still the one to make.
        for topic in local.values().filter(|t| t.is_internal()) {
            self.verify_internal_topic(topic)?;
        }
        for (name, topic) in local {
            if !legacy && !topic.is_internal() {
                continue;
            }
            let known = |image: &AppliedMetadata| {
                image
                    .metadata
                    .topics
                    .get(&name)
                    .map(|t| t.topic_id.0.clone())
            };
            let existing = match known(&q.image()) {
                None => {
                    let proposed = q.propose(Command::CreateTopic {
                        name: name.clone(),
                        topic_id: TopicId(topic.topic_id.clone()),
                        configs: topic.config().overrides(),
                        assignments: vec![
                            PartitionAssignment { replicas: vec![me] };
                            topic.partitions.len()
                        ],
                    });
                    match proposed {
                        Ok(()) => {
                            info!(topic = %name, partitions = topic.partitions.len(), "topic migrated into the metadata log");
                            continue;
                        }
                        Err(Error::TopicExists(_)) => known(&q.image()),
                        Err(e) => return Err(e),
                    }
                }
                some => some,
            };
            if existing.as_deref() != Some(topic.topic_id()) && topic.is_internal() {
                // Another broker's copy is the cluster's: before internal topics moved into the
                // metadata log each broker kept its own, and only one can be the cluster's.
                warn!(
                    topic = %name,
                    "this broker's own copy of an internal topic is replaced by the cluster's"
                );
                continue;
            }
            if existing.as_deref() != Some(topic.topic_id()) {
                return Err(Error::Metadata {
                    path: self.config.data_dir.join("meta.json"),
                    reason: format!(
                        "topic '{name}' here has id {}, but the cluster has a topic of that name \
                         with id {}; refusing to replace its data",
                        topic.topic_id(),
                        existing.unwrap_or_default()
                    ),
                });
            }
        }
        if legacy {
            self.meta_format.store(RECORD_FORMAT, Ordering::Release);
            self.write_metadata()?;
            info!(
                "meta.json migrated into the metadata log; it now only records this broker's logs"
            );
        }
        Ok(())
    }

    /// Makes this broker's client topics match `image`: removes topics it lacks (or holds
    /// under another id), creates and grows the others, installs their configs, and records
    /// every partition's leader. The caller holds the metadata lock. Every topic is tried;
    /// the first failure is returned.
    pub(super) fn reconcile_locked(&self, image: &AppliedMetadata) -> Result<()> {
        // Never back to an older image than one already applied: it would undo a change
        // (delete a topic just created) that a newer one made.
        let index = image.applied_index.map_or(0, |i| i + 1);
        if index < self.reconciled.load(Ordering::Acquire) {
            return Ok(());
        }
        self.reconciled.store(index, Ordering::Release);
        let me = self.broker_id();
        let mut first_error = None;
        let mut note = |what: &str, name: &str, result: Result<()>| {
            if let Err(e) = result {
                warn!(topic = name, cause = %e, "could not {what} to match the metadata log");
                first_error.get_or_insert(e);
            }
        };
        let local = self.topics.read().clone();
        for (name, topic) in &local {
            let live = image.metadata.topics.get(name);
            if live.is_none_or(|t| t.topic_id.0 != topic.topic_id) {
                note("delete a topic", name, self.delete_local(name, topic));
            }
        }
        for (name, wanted) in &image.metadata.topics {
            let leader_of = |p: u32| leader_in(wanted, p, me);
            let count = u32::try_from(wanted.partitions.len()).unwrap_or(u32::MAX);
            let overrides = TopicConfig::from_overrides(wanted.configs.clone());
            let current = self.topics.read().get(name).cloned();
            let result = match (current, overrides) {
                (_, Err(e)) => Err(e.into()),
                (None, Ok(config)) => self
                    .create_local(
                        name,
                        &wanted.topic_id.0,
                        count,
                        TopicSettings::new(config, &self.topic_defaults),
                        &leader_of,
                    )
                    .map(drop),
                (Some(topic), Ok(config)) => {
                    let grown = if count > topic.partition_count() {
                        self.grow_local(&topic, count, &leader_of).map(drop)
                    } else {
                        Ok(())
                    };
                    let configured = if topic.config().overrides() == wanted.configs {
                        Ok(())
                    } else {
                        self.config_local(&topic, config)
                    };
                    grown.and(configured)
                }
            };
            note("apply a topic", name, result);
            if let Ok(topic) = self.topic(name) {
                for p in topic.partitions() {
                    p.set_leader(leader_of(p.id()));
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Reconciles with every image the quorum applies, until `stop`: the changes other brokers
    /// commit, and leaders moving as brokers are fenced and unfenced.
    pub async fn follow_metadata(self: Arc<Self>, stop: CancellationToken) {
        let Some(mut images) = self.quorum.get().map(|q| q.node.subscribe()) else {
            return;
        };
        let mut applied: Option<BTreeMap<String, TopicMetadata>> = None;
        loop {
            let image = Arc::clone(&images.borrow_and_update());
            if applied.as_ref() != Some(&image.metadata.topics) {
                applied = Some(image.metadata.topics.clone());
                let broker = Arc::clone(&self);
                let work = tokio::task::spawn_blocking(move || {
                    let _guard = broker.metadata_lock.lock();
                    // The image applied by now, not the one that woke this task: a change
                    // proposed here may have been applied and reconciled while this task
                    // waited for the lock, and an older image would undo it (delete a topic
                    // just created).
                    broker.reconcile_locked(&broker.quorum_image())
                });
                match work.await {
                    Ok(Ok(())) => {}
                    // Logged per topic; tried again shortly, or with the next image.
                    Ok(Err(_)) => applied = None,
                    Err(e) => warn!(cause = %e, "metadata reconciliation panicked"),
                }
            }
            let retry = async {
                if applied.is_some() {
                    std::future::pending::<()>().await;
                }
                tokio::time::sleep(RECONCILE_RETRY).await;
            };
            tokio::select! {
                changed = images.changed() => if changed.is_err() { return },
                () = retry => {}
                () = stop.cancelled() => return,
            }
        }
    }

    /// Where partition `partition` of `topic` lives, as the metadata log says; on a broker
    /// without a quorum, on this broker alone.
    pub fn placement(&self, topic: &str, partition: u32) -> Placement {
        let me = self.broker_id();
        let image = self.quorum_for(topic).map(Quorum::image);
        let state = image.as_ref().and_then(|i| {
            let t = i.metadata.topics.get(topic)?;
            t.partitions.get(usize::try_from(partition).ok()?).cloned()
        });
        match state {
            Some(s) => Placement {
                leader: s.leader.map(|b| b.0),
                replicas: s.replicas.iter().map(|b| b.0).collect(),
                isr: s.isr.iter().map(|b| b.0).collect(),
            },
            None => Placement {
                leader: Some(me),
                replicas: vec![me],
                isr: vec![me],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::Duration;

    use runnel_cluster::metadata::BrokerId;
    use runnel_cluster::{MetadataNode, NodeConfig};

    use crate::broker::{Broker, BrokerConfig};

    /// A broker under a one-voter quorum of its own, registered and unfenced, as `serve`
    /// starts it.
    async fn broker_under_quorum(dir: &std::path::Path) -> (Arc<Broker>, Arc<MetadataNode>) {
        let node =
            MetadataNode::open_local(NodeConfig::new(1, dir.join("metadata"), BTreeMap::new()))
                .await
                .unwrap();
        let node = Arc::new(node);
        let cluster_id = node.init_cluster(Broker::new_cluster_id()).await.unwrap();
        node.register_broker("http://127.0.0.1:1".into())
            .await
            .unwrap();
        let mut images = node.subscribe();
        let unfenced = images.wait_for(|i| {
            i.metadata
                .brokers
                .get(&BrokerId(1))
                .is_some_and(|b| !b.fenced)
        });
        tokio::time::timeout(Duration::from_secs(30), unfenced)
            .await
            .unwrap()
            .unwrap();
        let config = BrokerConfig {
            data_dir: dir.to_path_buf(),
            cluster_id: Some(cluster_id),
            broker_id: 1,
            num_partitions: 1,
            topic_defaults: BTreeMap::new(),
            log_check_interval: Duration::from_secs(3600),
            checkpoint_interval: Duration::from_secs(3600),
        };
        let broker = Broker::open(config).unwrap();
        let (b, n) = (Arc::clone(&broker), Arc::clone(&node));
        tokio::task::spawn_blocking(move || b.attach(n))
            .await
            .unwrap()
            .unwrap();
        (broker, node)
    }

    /// Found under load: the metadata follower woke for an image, waited for the lock while
    /// a create through this broker committed and applied a newer one, then reconciled with
    /// its older image and deleted the topic just created.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_older_image_never_undoes_a_newer_one() {
        let dir = tempfile::tempdir().unwrap();
        let (broker, node) = broker_under_quorum(dir.path()).await;
        let before = node.metadata();
        let b = Arc::clone(&broker);
        tokio::task::spawn_blocking(move || {
            b.create_topic("t", Some(2), None, BTreeMap::new(), false)
        })
        .await
        .unwrap()
        .unwrap();
        assert!(node.metadata().metadata.topics.contains_key("t"));
        {
            let _guard = broker.metadata_lock.lock();
            broker.reconcile_locked(&before).unwrap();
        }
        let topic = broker.topic("t").expect("still there");
        assert_eq!(topic.partition_count(), 2);
        assert!(dir.path().join("topics").join("t-1").exists());
        node.shutdown().await.unwrap();
    }
}
