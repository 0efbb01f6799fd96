//! The broker: topics and partitions hosted on this node, and their metadata.
//!
//! Client topics (their ids, partition counts, placements, leaders and configs) are committed
//! by the cluster's metadata log, and every broker makes its logs match the applied image
//! (`cluster.rs`); the changes themselves are validated and applied in `topics.rs`. The broker
//! keeps its own record of the topics it holds in `<data>/meta.json`, replaced atomically on
//! every local change, and the partition logs in `<data>/topics/<topic>-<partition>/`, each
//! stamped with its topic's id (`partition_dirs.rs`). A new partition's directory is made before
//! the record names it and a deleted one removed after; at start-up a directory whose id names
//! no recorded topic is a leftover of an interrupted create or delete and is removed. A local
//! change that fails changes nothing, in memory or on disk, and a crash at any point leaves a
//! topic whole or gone; the next reconciliation with the metadata log completes it.
//!
//! Internal topics (`__consumer_offsets`, `_schemas`) are the broker's: clients cannot create,
//! delete or append to them, nor change the configs the broker relies on (see
//! [`Broker::create_internal_topic`]). They live in the metadata log like client topics, so
//! their partitions have leaders: a group's coordinator is the leader of its
//! `__consumer_offsets` partition, the registry's writer the leader of `_schemas`.
//!
//! Not owned here: the storage format (`log/`), HTTP shapes (`gateway/`), the metadata quorum
//! (`runnel_cluster`).

mod acks;
pub mod appender;
mod cluster;
mod error;
mod internal;
pub mod naming;
pub mod partition;
mod partition_dirs;
pub mod partitioner;
mod remote;
pub mod topic_config;
mod topics;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::log::{self, Log, checkpoint, marker};
/// What the broker's clients (the gateway, the internal topics' owners) see of stored records:
/// records to append, records read back with their headers, and the storage errors a partition
/// answers with. They reach the log only through the broker.
pub use crate::log::{Error as LogError, Header, NewRecord, Record};
pub use acks::Acks;
pub use cluster::Placement;
use cluster::{LEGACY_FORMAT, Quorum, RECORD_FORMAT};
pub use error::Error;
use partition::ClusterSlot;
pub use partition::{FetchResult, Leader, Partition};
use partitioner::StickyPartitioner;
use topic_config::{BrokerDefaults, EffectiveConfig, TopicConfig};
pub use topics::Spread;

/// Most partitions one topic may have: bounds the files and memory a single request can cause.
pub const MAX_PARTITIONS: u32 = 10_000;
/// Files a partition keeps open: its active segment's log (its indexes are in memory, its sealed
/// segments open through the shared cache of `log::open_files`).
const FILES_PER_PARTITION: u64 = 1;
/// Open files kept for everything else: client sockets and WebSockets, metadata writes, index
/// files written at a roll; a quarter of the limit when that is less.
const RESERVED_FILES: u64 = 1024;
/// Most sealed segments kept open (an eighth of the limit when that is less): enough for
/// consumers spread over many segments, while thousands of partitions still fit.
const MAX_OPEN_SEALED_SEGMENTS: u64 = 4096;

/// Descriptors the broker needs besides one per partition: `(reserved for connections and
/// writes, sealed segments kept open)` under an open-file limit of `limit`.
fn file_budget(limit: u64) -> (u64, u64) {
    (
        RESERVED_FILES.min(limit / 4),
        (limit / 8).clamp(16, MAX_OPEN_SEALED_SEGMENTS),
    )
}

fn open_file_limit() -> u64 {
    rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX)
}

/// Result alias for the broker.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the broker needs from the server's configuration.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub data_dir: PathBuf,
    pub broker_id: u32,
    /// The cluster id the metadata quorum agreed on; `None` keeps the data directory's own
    /// (or a new one), for brokers opened without a quorum (tests).
    pub cluster_id: Option<String>,
    /// Kafka's `num.partitions`: partitions of a topic created without a count.
    pub num_partitions: u32,
    /// Broker-level defaults of topic configs, by Kafka topic-config name.
    pub topic_defaults: BTreeMap<String, String>,
    /// How often flush-by-time, retention and compaction run.
    pub log_check_interval: Duration,
    /// How often recovery points are checkpointed.
    pub checkpoint_interval: Duration,
}

/// `meta.json`. `version` is its format: [`LEGACY_FORMAT`] holds a single node's topics, not
/// yet in the metadata log; [`RECORD_FORMAT`] records what this broker holds under it.
#[derive(Debug, Serialize, Deserialize)]
struct MetadataFile {
    version: u32,
    cluster_id: String,
    topics: BTreeMap<String, TopicMetadata>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TopicMetadata {
    topic_id: String,
    partitions: u32,
    configs: BTreeMap<String, String>,
}

/// A topic: its partitions and its config overrides.
///
/// The partition list of one `Topic` value never changes: adding partitions puts a new
/// `Arc<Topic>` in the broker's map, sharing the partitions it already had and the config. A
/// caller holding the old `Arc` keeps a consistent view of the old count until it looks the
/// topic up again, as a Kafka client does until its next metadata refresh.
#[derive(Debug)]
pub struct Topic {
    name: Arc<str>,
    topic_id: String,
    /// Shared by every `Topic` value of this topic, so a config change reaches all holders.
    config: Arc<RwLock<TopicSettings>>,
    partitions: Vec<Arc<Partition>>,
}

impl Topic {
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn topic_id(&self) -> &str {
        &self.topic_id
    }
    pub fn partitions(&self) -> &[Arc<Partition>] {
        &self.partitions
    }
    pub fn partition_count(&self) -> u32 {
        self.partitions.len() as u32
    }
    pub fn is_internal(&self) -> bool {
        naming::is_internal(&self.name)
    }
    /// The explicit overrides of this topic.
    pub fn config(&self) -> TopicConfig {
        self.config.read().overrides.clone()
    }
    /// The topic's effective settings, typed (overrides over broker defaults over Kafka's).
    pub fn effective_config(&self) -> EffectiveConfig {
        self.config.read().effective.clone()
    }
    /// The effective log config of this topic.
    pub fn log_config(&self) -> log::LogConfig {
        self.config.read().effective.log.clone()
    }
    pub fn partition(&self, id: u32) -> Result<&Arc<Partition>> {
        self.partitions
            .get(id as usize)
            .ok_or_else(|| Error::UnknownPartition {
                topic: self.name.to_string(),
                partition: id,
            })
    }
}

/// A topic's overrides and the typed values they resolve to, replaced together: resolved when
/// the topic is created, loaded or altered (or the broker opens with other defaults), so
/// produce and read paths use typed values and never parse a config string.
#[derive(Debug)]
struct TopicSettings {
    overrides: TopicConfig,
    effective: EffectiveConfig,
}

impl TopicSettings {
    fn new(overrides: TopicConfig, defaults: &BrokerDefaults) -> Self {
        let effective = overrides.effective(defaults);
        TopicSettings {
            overrides,
            effective,
        }
    }
}

/// The broker of this node.
#[derive(Debug)]
pub struct Broker {
    config: BrokerConfig,
    /// `config.topic_defaults`, parsed once when the broker opens.
    topic_defaults: BrokerDefaults,
    cluster_id: String,
    topics: RwLock<BTreeMap<String, Arc<Topic>>>,
    /// Serializes metadata changes (create, delete, alter, reconciliation) and their file
    /// writes.
    metadata_lock: Mutex<()>,
    /// The metadata quorum, once attached (never in unit tests that run without one).
    quorum: OnceLock<Quorum>,
    /// The quorum's node, shared with every partition (their appenders forward through it).
    cluster: ClusterSlot,
    /// The format `meta.json` is written in (see [`MetadataFile`]).
    meta_format: AtomicU32,
    /// Bumped after every committed topic change (create, delete, new partitions), so the
    /// group coordinator rebalances without polling the topic list.
    metadata_version: tokio::sync::watch::Sender<u64>,
    /// One past the applied index of the newest metadata image reconciled (0: none yet).
    reconciled: AtomicU64,
    sticky: StickyPartitioner,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn new_id() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

impl Broker {
    /// Opens the data directory: loads metadata, opens (and if needed recovers) every log.
    ///
    /// # Errors
    /// I/O errors, an unreadable metadata file.
    pub fn open(config: BrokerConfig) -> Result<Arc<Self>> {
        let data_dir = config.data_dir.clone();
        let topics_dir = data_dir.join("topics");
        std::fs::create_dir_all(&topics_dir).map_err(|e| log::Error::Io {
            path: topics_dir.clone(),
            source: e,
        })?;
        let clean = marker::take(&data_dir)?;
        let meta_path = data_dir.join("meta.json");
        let meta = match std::fs::read(&meta_path) {
            Ok(bytes) => {
                serde_json::from_slice::<MetadataFile>(&bytes).map_err(|e| Error::Metadata {
                    path: meta_path.clone(),
                    reason: e.to_string(),
                })?
            }
            // A new data dir under a quorum has nothing to migrate.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => MetadataFile {
                version: if config.cluster_id.is_some() {
                    RECORD_FORMAT
                } else {
                    LEGACY_FORMAT
                },
                cluster_id: config.cluster_id.clone().unwrap_or_else(new_id),
                topics: BTreeMap::new(),
            },
            Err(e) => {
                return Err(Error::Metadata {
                    path: meta_path,
                    reason: e.to_string(),
                });
            }
        };
        if let Some(quorum) = &config.cluster_id
            && *quorum != meta.cluster_id
        {
            return Err(Error::ForeignCluster {
                stored: meta.cluster_id,
                quorum: quorum.clone(),
            });
        }
        let live_dirs: BTreeMap<String, String> = meta
            .topics
            .iter()
            .flat_map(|(name, tm)| {
                (0..tm.partitions)
                    .map(move |p| (partition_dirs::dir_name(name, p), tm.topic_id.clone()))
            })
            .collect();
        partition_dirs::sweep(&data_dir, &topics_dir, &live_dirs);
        let limit = open_file_limit();
        let (_, sealed) = file_budget(limit);
        log::open_files::set_capacity(usize::try_from(sealed).unwrap_or(usize::MAX));
        info!(
            open_file_limit = limit,
            open_sealed_segments = sealed,
            "open-file budget"
        );
        let now = now_ms();
        let topic_defaults = BrokerDefaults::new(&config.topic_defaults);
        let cluster = ClusterSlot::default();
        let mut topics = BTreeMap::new();
        for (name, tm) in &meta.topics {
            let settings = TopicSettings::new(
                TopicConfig::from_overrides(tm.configs.clone())?,
                &topic_defaults,
            );
            let log_config = settings.effective.log.clone();
            let name_arc: Arc<str> = Arc::from(name.as_str());
            let mut partitions = Vec::with_capacity(tm.partitions as usize);
            for p in 0..tm.partitions {
                let dir_name = partition_dirs::dir_name(name, p);
                let log = Log::open(&topics_dir.join(&dir_name), log_config.clone(), clean, now)?;
                partitions.push(Arc::new(Partition::new(
                    Arc::clone(&name_arc),
                    p,
                    log,
                    Arc::clone(&cluster),
                )));
            }
            topics.insert(
                name.clone(),
                Arc::new(Topic {
                    name: name_arc,
                    topic_id: tm.topic_id.clone(),
                    config: Arc::new(RwLock::new(settings)),
                    partitions,
                }),
            );
        }
        let broker = Broker {
            config,
            topic_defaults,
            cluster_id: meta.cluster_id.clone(),
            topics: RwLock::new(topics),
            metadata_lock: Mutex::new(()),
            quorum: OnceLock::new(),
            cluster,
            meta_format: AtomicU32::new(meta.version),
            sticky: StickyPartitioner::new(16 << 10),
            metadata_version: tokio::sync::watch::Sender::new(0),
            reconciled: AtomicU64::new(0),
        };
        broker.write_metadata()?;
        info!(
            cluster_id = %broker.cluster_id,
            topics = meta.topics.len(),
            clean_shutdown = clean,
            "broker opened"
        );
        Ok(Arc::new(broker))
    }

    /// The cluster id recorded in `data_dir`, if it holds a broker's metadata: what this broker
    /// proposes to the quorum, so a data directory from before the quorum keeps its id.
    ///
    /// # Errors
    /// An unreadable metadata file.
    pub fn stored_cluster_id(data_dir: &Path) -> Result<Option<String>> {
        let path = data_dir.join("meta.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<MetadataFile>(&bytes)
                .map(|m| Some(m.cluster_id))
                .map_err(|e| Error::Metadata {
                    path,
                    reason: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::Metadata {
                path,
                reason: e.to_string(),
            }),
        }
    }

    /// A new random cluster id, in Kafka's form (22 characters of URL-safe base64).
    pub fn new_cluster_id() -> String {
        new_id()
    }

    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }
    pub fn broker_id(&self) -> u32 {
        self.config.broker_id
    }
    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }
    /// The broker-level defaults of topic configs, parsed.
    pub fn topic_defaults(&self) -> &BrokerDefaults {
        &self.topic_defaults
    }
    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// Rewrites the metadata file from the topics in memory.
    fn write_metadata(&self) -> Result<()> {
        let topics = self.topics.read().clone();
        self.commit_metadata(&topics)
    }

    /// Replaces `meta.json` with `topics`: the commit point of every local change. Callers
    /// hold the metadata lock and install `topics` in memory only after this succeeds, so no
    /// client sees a change that is not committed.
    ///
    /// A write that fails before its rename leaves the old file. One that fails after it (only
    /// the directory fsync can, see [`checkpoint::write_bytes`]) has replaced the file; reading
    /// it back tells the two apart, so memory always matches what the next start reads. (If
    /// even that read fails, the error stands and the change is not applied in memory; the next
    /// start then shows one state or the other, never part of a topic.)
    fn commit_metadata(&self, topics: &BTreeMap<String, Arc<Topic>>) -> Result<()> {
        let meta = MetadataFile {
            version: self.meta_format.load(Ordering::Acquire),
            cluster_id: self.cluster_id.clone(),
            topics: topics
                .iter()
                .map(|(name, t)| {
                    (
                        name.clone(),
                        TopicMetadata {
                            topic_id: t.topic_id.clone(),
                            partitions: t.partition_count(),
                            configs: t.config.read().overrides.overrides(),
                        },
                    )
                })
                .collect(),
        };
        let path = self.config.data_dir.join("meta.json");
        let bytes = serde_json::to_vec_pretty(&meta).map_err(|e| Error::Metadata {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        match checkpoint::write_bytes(&path, &bytes) {
            Ok(()) => Ok(()),
            Err(e) => match std::fs::read(&path) {
                Ok(on_disk) if on_disk == bytes => {
                    tracing::error!(
                        path = %path.display(),
                        cause = %e,
                        "the metadata file was replaced but its directory could not be synced; the change stands"
                    );
                    Ok(())
                }
                _ => Err(e.into()),
            },
        }
    }

    /// A receiver that wakes after every topic creation, deletion or partition increase.
    pub fn watch_metadata(&self) -> tokio::sync::watch::Receiver<u64> {
        self.metadata_version.subscribe()
    }

    fn metadata_changed(&self) {
        self.metadata_version.send_modify(|v| *v += 1);
    }

    /// Names of all topics, sorted.
    pub fn topic_names(&self) -> Vec<String> {
        self.topics.read().keys().cloned().collect()
    }

    /// All topics, sorted by name.
    pub fn topics(&self) -> Vec<Arc<Topic>> {
        self.topics.read().values().cloned().collect()
    }

    /// # Errors
    /// [`Error::UnknownTopic`].
    pub fn topic(&self, name: &str) -> Result<Arc<Topic>> {
        self.topics
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownTopic(name.to_owned()))
    }

    /// # Errors
    /// [`Error::UnknownTopic`], [`Error::UnknownPartition`].
    pub fn partition(&self, topic: &str, partition: u32) -> Result<Arc<Partition>> {
        Ok(Arc::clone(self.topic(topic)?.partition(partition)?))
    }

    /// Refuses `adding` partitions that would take the broker past its open-file limit, so a
    /// huge request gets a clear 400 instead of failing halfway with "too many open files".
    fn check_open_files(&self, adding: u32) -> Result<()> {
        let limit = open_file_limit();
        let (sockets, sealed) = file_budget(limit);
        let reserved = sockets + sealed;
        let current: u64 = self
            .topics
            .read()
            .values()
            .map(|t| u64::from(t.partition_count()))
            .sum();
        let total = current + u64::from(adding);
        if total.saturating_mul(FILES_PER_PARTITION) + reserved > limit {
            return Err(Error::TooManyPartitions {
                adding: u64::from(adding),
                total,
                limit,
                reserved,
            });
        }
        Ok(())
    }

    /// The effective log config of a topic (overrides over broker defaults over Kafka's),
    /// resolved when the topic's config last changed: a copy, no parsing.
    pub fn log_config(&self, topic: &Topic) -> log::LogConfig {
        topic.log_config()
    }

    /// The partition for a record: explicit, by murmur2 of the key (as Kafka's Java client), or
    /// sticky for null keys.
    pub fn choose_partition(&self, topic: &Topic, key: Option<&[u8]>, record_bytes: usize) -> u32 {
        let n = topic.partition_count().max(1);
        match key {
            Some(k) => partitioner::partition_for_key(k, n),
            None => self.sticky.partition(topic.name(), n, record_bytes),
        }
    }

    fn all_partitions(&self) -> Vec<Arc<Partition>> {
        self.topics
            .read()
            .values()
            .flat_map(|t| t.partitions.iter().cloned())
            .collect()
    }

    /// Runs flush-by-time, retention, compaction and recovery-point checkpoints until `stop`.
    pub async fn run_maintenance(self: Arc<Self>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(self.config.log_check_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_checkpoint = tokio::time::Instant::now();
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let checkpoint = last_checkpoint.elapsed() >= self.config.checkpoint_interval;
            if checkpoint {
                last_checkpoint = tokio::time::Instant::now();
            }
            let broker = Arc::clone(&self);
            let work = tokio::task::spawn_blocking(move || {
                let now = now_ms();
                for p in broker.all_partitions() {
                    if let Err(e) = p.maintain(now) {
                        warn!(topic = p.topic(), partition = p.id(), cause = %e, "log maintenance failed");
                    }
                    if checkpoint && let Err(e) = p.checkpoint() {
                        warn!(topic = p.topic(), partition = p.id(), cause = %e, "recovery point checkpoint failed");
                    }
                }
            });
            if let Err(e) = work.await {
                warn!(cause = %e, "log maintenance task panicked");
            }
        }
    }

    /// Flushes and closes every log, then writes the clean-shutdown marker if all closed cleanly.
    /// Blocking.
    ///
    /// # Errors
    /// The first log that failed to close (the marker is then not written).
    pub fn close(&self) -> Result<()> {
        let now = now_ms();
        let mut first_error = None;
        for p in self.all_partitions() {
            if let Err(e) = p.close(now) {
                warn!(topic = p.topic(), partition = p.id(), cause = %e, "log did not close cleanly");
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e.into()),
            None => {
                marker::write(&self.config.data_dir)?;
                info!("all logs closed cleanly");
                Ok(())
            }
        }
    }
}
