//! The broker: topics and partitions hosted on this node, and their metadata.
//!
//! Topic metadata (cluster id, topics, partition counts, config overrides) is one JSON file,
//! `<data>/meta.json`, replaced atomically on every change: that replacement is the one step
//! that commits a create, a delete, new partitions or a config change. Partition logs live in
//! `<data>/topics/<topic>-<partition>/`, each stamped with its topic's id
//! (`partition_dirs.rs`). Creation makes the log directories first and then commits; deletion
//! commits and then removes the directories; at start-up a directory whose id names no live
//! topic is a leftover of an interrupted create or delete and is removed. A commit that fails
//! changes nothing, in memory or on disk, and a crash at any point leaves a topic whole or gone.
//!
//! Internal topics (`__consumer_offsets`, `_schemas`) are the broker's: clients cannot create,
//! delete or append to them, nor change the configs the broker relies on (see
//! [`Broker::create_internal_topic`]). A single node is its own controller; replication and the
//! Raft-backed metadata of DESIGN.md §3 are not built yet.
//!
//! Not owned here: the storage format (`log/`), HTTP shapes (`gateway/`).

mod acks;
pub mod appender;
mod error;
mod internal;
pub mod naming;
pub mod partition;
mod partition_dirs;
pub mod partitioner;
pub mod topic_config;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
pub use error::Error;
use internal::check_internal_config;
pub use partition::{FetchResult, Partition};
use partitioner::StickyPartitioner;
use topic_config::{BrokerDefaults, ConfigError, EffectiveConfig, TopicConfig};

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
    /// Serializes metadata changes (create, delete, alter) and their file writes.
    metadata_lock: Mutex<()>,
    /// Bumped after every committed topic change (create, delete, new partitions), so the
    /// group coordinator rebalances without polling the topic list.
    metadata_version: tokio::sync::watch::Sender<u64>,
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
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => MetadataFile {
                version: 1,
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
                partitions.push(Arc::new(Partition::new(Arc::clone(&name_arc), p, log)));
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
            sticky: StickyPartitioner::new(16 << 10),
            metadata_version: tokio::sync::watch::Sender::new(0),
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

    /// Replaces `meta.json` with `topics`: the commit point of every metadata change. Callers
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
            version: 1,
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

    /// Creates a topic for a client (or only validates the request). Blocking: creates files.
    ///
    /// # Errors
    /// [`Error::InvalidTopicName`], [`Error::InternalTopicCreation`] for a name the broker keeps
    /// for itself, [`Error::TopicExists`], [`Error::TopicCollision`],
    /// [`Error::InvalidPartitions`], [`Error::TooManyPartitions`],
    /// [`Error::InvalidReplicationFactor`], [`Error::InvalidConfig`], I/O errors.
    pub fn create_topic(
        &self,
        name: &str,
        partitions: Option<i64>,
        replication_factor: Option<i64>,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<Arc<Topic>> {
        naming::validate_topic_name(name)?;
        if naming::is_internal(name) {
            return Err(Error::InternalTopicCreation(name.to_owned()));
        }
        self.create(name, partitions, replication_factor, configs, validate_only)
    }

    /// Creates one of the broker's own topics (`__consumer_offsets`, `_schemas`), which clients
    /// may not create. Blocking.
    ///
    /// # Errors
    /// As [`Broker::create_topic`], but for the internal name.
    pub fn create_internal_topic(
        &self,
        name: &str,
        partitions: u32,
        configs: BTreeMap<String, String>,
    ) -> Result<Arc<Topic>> {
        naming::validate_topic_name(name)?;
        self.create(name, Some(i64::from(partitions)), None, configs, false)
    }

    fn create(
        &self,
        name: &str,
        partitions: Option<i64>,
        replication_factor: Option<i64>,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<Arc<Topic>> {
        let partitions = partitions.unwrap_or(i64::from(self.config.num_partitions));
        if !(1..=i64::from(MAX_PARTITIONS)).contains(&partitions) {
            return Err(Error::InvalidPartitions(partitions));
        }
        let partitions = partitions as u32;
        self.check_open_files(partitions)?;
        match replication_factor {
            None | Some(-1) | Some(1) => {}
            Some(rf) => return Err(Error::InvalidReplicationFactor(rf)),
        }
        let settings =
            TopicSettings::new(TopicConfig::from_overrides(configs)?, &self.topic_defaults);
        let _guard = self.metadata_lock.lock();
        if self.topics.read().contains_key(name) {
            return Err(Error::TopicExists(name.to_owned()));
        }
        let key = naming::collision_key(name);
        if let Some(existing) = self
            .topics
            .read()
            .keys()
            .find(|t| naming::collision_key(t) == key)
        {
            return Err(Error::TopicCollision {
                topic: name.to_owned(),
                existing: existing.clone(),
            });
        }
        let name_arc: Arc<str> = Arc::from(name);
        let topic_id = new_id();
        if validate_only {
            return Ok(Arc::new(Topic {
                name: name_arc,
                topic_id,
                config: Arc::new(RwLock::new(settings)),
                partitions: Vec::new(),
            }));
        }
        let log_config = settings.effective.log.clone();
        let mut created = Vec::with_capacity(partitions as usize);
        let opened = (0..partitions).try_for_each(|p| {
            created.push(self.open_new_partition(&name_arc, &topic_id, p, &log_config)?);
            Ok::<_, Error>(())
        });
        let topic = Arc::new(Topic {
            name: Arc::clone(&name_arc),
            topic_id,
            config: Arc::new(RwLock::new(settings)),
            partitions: created,
        });
        let committed = opened.and_then(|()| {
            let mut next = self.topics.read().clone();
            next.insert(name.to_owned(), Arc::clone(&topic));
            self.commit_metadata(&next)?;
            *self.topics.write() = next;
            Ok(())
        });
        if let Err(e) = committed {
            self.remove_uncommitted(name, &topic.partitions, 0..partitions);
            return Err(e);
        }
        info!(topic = name, partitions, "topic created");
        self.metadata_changed();
        Ok(topic)
    }

    /// Makes the log of a partition that no commit names yet, stamped with its topic's id. A
    /// deleted incarnation's directory still in the way is removed first, so its records can
    /// never reappear in the new topic.
    fn open_new_partition(
        &self,
        topic: &Arc<str>,
        topic_id: &str,
        partition: u32,
        log_config: &log::LogConfig,
    ) -> Result<Arc<Partition>> {
        let dir = self
            .config
            .data_dir
            .join("topics")
            .join(partition_dirs::dir_name(topic, partition));
        let io = |e| log::Error::Io {
            path: dir.clone(),
            source: e,
        };
        partition_dirs::clear_leftover(&dir).map_err(io)?;
        let log = Log::open(&dir, log_config.clone(), true, now_ms())?;
        partition_dirs::write_topic_id(&dir, topic_id).map_err(io)?;
        Ok(Arc::new(Partition::new(Arc::clone(topic), partition, log)))
    }

    /// Removes the directories of partitions whose create was not committed.
    fn remove_uncommitted(
        &self,
        topic: &str,
        opened: &[Arc<Partition>],
        ids: std::ops::Range<u32>,
    ) {
        let topics_dir = self.config.data_dir.join("topics");
        for p in opened.iter().filter(|p| ids.contains(&p.id())) {
            let _ = p.delete_files();
        }
        for p in ids {
            let _ = std::fs::remove_dir_all(topics_dir.join(partition_dirs::dir_name(topic, p)));
        }
    }

    /// Deletes a topic and its data. Blocking.
    ///
    /// The metadata commit is the delete: until it succeeds nothing changes (clients keep
    /// producing to the topic); once it has, the topic is gone for clients and for the next
    /// start, and its directories are removed now or, if that fails, at the next start or
    /// before a topic of the same name is created (`partition_dirs.rs`).
    ///
    /// # Errors
    /// [`Error::UnknownTopic`], [`Error::InternalTopicDeletion`], I/O errors writing the
    /// metadata (then nothing changed).
    pub fn delete_topic(&self, name: &str) -> Result<()> {
        let _guard = self.metadata_lock.lock();
        let topic = self.topic(name)?;
        if topic.is_internal() {
            return Err(Error::InternalTopicDeletion(name.to_owned()));
        }
        let mut next = self.topics.read().clone();
        next.remove(name);
        self.commit_metadata(&next)?;
        *self.topics.write() = next;
        self.sticky.forget(name);
        for p in topic.partitions() {
            if let Err(e) = p.delete_files() {
                warn!(topic = name, partition = p.id(), cause = %e, "could not remove partition files; they go at the next start");
            }
        }
        info!(topic = name, "topic deleted");
        self.metadata_changed();
        Ok(())
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

    /// Grows a topic to `new_count` partitions. Blocking: creates the new logs.
    ///
    /// As for creation, the new logs are made first and the metadata committed after, so a crash
    /// in between leaves only directories that the next start removes. The broker's map then
    /// holds a new [`Topic`] (see its docs); the returned one has the new count.
    ///
    /// # Errors
    /// [`Error::UnknownTopic`], [`Error::InternalTopic`], [`Error::PartitionsNotIncreased`]
    /// unless `new_count` is larger than the current count, [`Error::InvalidPartitions`] above
    /// [`MAX_PARTITIONS`], [`Error::TooManyPartitions`] past the open-file limit, I/O errors
    /// (then nothing changed).
    pub fn add_partitions(&self, name: &str, new_count: i64) -> Result<Arc<Topic>> {
        let _guard = self.metadata_lock.lock();
        let old = self.topic(name)?;
        if old.is_internal() {
            return Err(Error::InternalTopic(name.to_owned()));
        }
        let current = old.partition_count();
        if new_count <= i64::from(current) {
            return Err(Error::PartitionsNotIncreased {
                current,
                requested: new_count,
            });
        }
        if new_count > i64::from(MAX_PARTITIONS) {
            return Err(Error::InvalidPartitions(new_count));
        }
        let new_count = new_count as u32;
        self.check_open_files(new_count - current)?;
        let log_config = old.log_config();
        let mut partitions = old.partitions.clone();
        let opened = (current..new_count).try_for_each(|p| {
            partitions.push(self.open_new_partition(&old.name, &old.topic_id, p, &log_config)?);
            Ok::<_, Error>(())
        });
        let grown = Arc::new(Topic {
            name: Arc::clone(&old.name),
            topic_id: old.topic_id.clone(),
            config: Arc::clone(&old.config),
            partitions,
        });
        let committed = opened.and_then(|()| {
            let mut next = self.topics.read().clone();
            next.insert(name.to_owned(), Arc::clone(&grown));
            self.commit_metadata(&next)?;
            *self.topics.write() = next;
            Ok(())
        });
        if let Err(e) = committed {
            self.remove_uncommitted(name, &grown.partitions, current..new_count);
            return Err(e);
        }
        info!(
            topic = name,
            from = current,
            to = new_count,
            "partitions added"
        );
        self.metadata_changed();
        Ok(grown)
    }

    /// Changes a topic's config overrides: `change` edits a copy of the current ones, and the
    /// result is committed only if it succeeds and `validate_only` is false. The whole
    /// read-modify-write holds the metadata lock, so concurrent changes don't lose each other's
    /// edits. Blocking.
    ///
    /// # Errors
    /// [`Error::UnknownTopic`] (checked first), [`Error::InvalidConfig`] from `change` (then
    /// nothing changed), I/O errors.
    pub fn update_topic_config<F>(&self, name: &str, validate_only: bool, change: F) -> Result<()>
    where
        F: FnOnce(&mut TopicConfig) -> Result<(), ConfigError>,
    {
        let _guard = self.metadata_lock.lock();
        let topic = self.topic(name)?;
        let mut config = topic.config();
        change(&mut config)?;
        check_internal_config(&topic, &topic.config(), &config)?;
        if validate_only {
            return Ok(());
        }
        self.commit_topic_config(&topic, config)
    }

    /// Replaces a topic's config overrides. Blocking.
    ///
    /// # Errors
    /// [`Error::UnknownTopic`], I/O errors.
    pub fn set_topic_config(&self, name: &str, config: TopicConfig) -> Result<()> {
        let _guard = self.metadata_lock.lock();
        let topic = self.topic(name)?;
        self.commit_topic_config(&topic, config)
    }

    /// Installs `config` on `topic`, persists it, and applies it to the open logs. The caller
    /// holds the metadata lock.
    fn commit_topic_config(&self, topic: &Topic, config: TopicConfig) -> Result<()> {
        check_internal_config(topic, &topic.config(), &config)?;
        let settings = TopicSettings::new(config, &self.topic_defaults);
        let log_config = settings.effective.log.clone();
        let old = std::mem::replace(&mut *topic.config.write(), settings);
        if let Err(e) = self.write_metadata() {
            *topic.config.write() = old;
            return Err(e);
        }
        for p in topic.partitions() {
            p.set_config(log_config.clone());
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
