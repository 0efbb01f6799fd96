//! Topic changes: create, delete, grow, reconfigure.
//!
//! Each change is validated here as Kafka validates it (names, partition counts, the open-file
//! budget, configs under Kafka's names, the internal-topic rules), then committed:
//!
//! - A client topic is committed by the metadata log (`cluster.rs`): the change is proposed
//!   to the quorum and the client is answered once this broker has applied it, so any broker
//!   shows it from then on. The local logs follow the applied image
//!   ([`Broker::reconcile_locked`]), on this broker and on every other.
//! - An internal topic (`__consumer_offsets`, `_schemas`) stays this broker's own until
//!   requests are forwarded between brokers, and a broker without a quorum (unit tests) has
//!   only local topics: for them the local record, `meta.json`, is the commit point.
//!
//! The local steps below keep the crash-safety of a single node: a new partition's directory
//! is made (stamped with its topic id) before the record names it, a deleted one removed after,
//! and a start-up sweep removes a directory whose id names no recorded topic
//! (`partition_dirs.rs`). A step that fails changes nothing in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use parking_lot::RwLock;
use runnel_cluster::metadata::{BrokerId, Command, PartitionAssignment, TopicId};
use tracing::{info, warn};

use super::internal::check_internal_config;
use super::partition::Leader;
use super::topic_config::{ConfigError, TopicConfig};
use super::{
    Broker, Error, MAX_PARTITIONS, Partition, Result, Topic, TopicSettings, naming, new_id, now_ms,
    partition_dirs,
};
use crate::log::{self, Log};

/// Kafka's `replication.factor`: absent or `-1` takes the broker default; below 1 is refused.
fn factor_from(requested: Option<i64>) -> Result<u32> {
    match requested {
        None | Some(-1) => Ok(1),
        Some(rf) if rf >= 1 => Ok(u32::try_from(rf).unwrap_or(u32::MAX)),
        Some(_) => Err(Error::InvalidReplicationFactor(
            "Replication factor must be larger than 0, or -1 to use the default value.".into(),
        )),
    }
}

/// Where a new internal topic's partitions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// Across the live brokers, as a client topic's (`__consumer_offsets`: its partitions'
    /// leaders coordinate the groups that hash to them).
    Across,
    /// All on the broker creating it (`_schemas`: the registry that writes it is the one that
    /// created it, and stays its leader).
    Here,
}

impl Broker {
    /// Creates a topic for a client (or only validates the request). Blocking: creates files
    /// and waits for the metadata log.
    ///
    /// # Errors
    /// [`Error::InvalidTopicName`], [`Error::InternalTopicCreation`] for a name the broker keeps
    /// for itself, [`Error::TopicExists`], [`Error::TopicCollision`],
    /// [`Error::InvalidPartitions`], [`Error::TooManyPartitions`],
    /// [`Error::InvalidReplicationFactor`], [`Error::InvalidConfig`], [`Error::Quorum`], I/O
    /// errors.
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
        self.create(
            name,
            partitions,
            replication_factor,
            configs,
            validate_only,
            Spread::Across,
        )
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
        spread: Spread,
    ) -> Result<Arc<Topic>> {
        naming::validate_topic_name(name)?;
        self.create(
            name,
            Some(i64::from(partitions)),
            None,
            configs,
            false,
            spread,
        )
    }

    fn create(
        &self,
        name: &str,
        partitions: Option<i64>,
        replication_factor: Option<i64>,
        configs: BTreeMap<String, String>,
        validate_only: bool,
        spread: Spread,
    ) -> Result<Arc<Topic>> {
        let partitions = partitions.unwrap_or(i64::from(self.config.num_partitions));
        if !(1..=i64::from(MAX_PARTITIONS)).contains(&partitions) {
            return Err(Error::InvalidPartitions(partitions));
        }
        let partitions = partitions as u32;
        self.check_open_files(partitions)?;
        let factor = factor_from(replication_factor)?;
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
        let quorum = self.quorum_for(name);
        let assignments = match quorum {
            Some(_) if spread == Spread::Here => Some(vec![
                PartitionAssignment {
                    replicas: vec![BrokerId(self.broker_id())],
                };
                partitions as usize
            ]),
            Some(q) => Some(q.place(0, partitions, factor)?),
            None if factor > 1 => {
                return Err(Error::InvalidReplicationFactor(format!(
                    "Replication factor: {factor} larger than available brokers: 1."
                )));
            }
            None => None,
        };
        let topic_id = new_id();
        if validate_only {
            return Ok(Arc::new(Topic {
                name: Arc::from(name),
                topic_id,
                config: Arc::new(RwLock::new(settings)),
                partitions: Vec::new(),
            }));
        }
        match (quorum, assignments) {
            (Some(q), Some(assignments)) => {
                q.propose(Command::CreateTopic {
                    name: name.to_owned(),
                    topic_id: TopicId(topic_id),
                    configs: settings.overrides.overrides(),
                    assignments,
                })?;
                self.reconcile_locked(&q.image())?;
                self.topic(name)
            }
            _ => self.create_local(name, &topic_id, partitions, settings, &|_| Leader::Here),
        }
    }

    /// Makes a topic's logs here and records it; the caller holds the metadata lock.
    pub(super) fn create_local(
        &self,
        name: &str,
        topic_id: &str,
        partitions: u32,
        settings: TopicSettings,
        leader_of: &dyn Fn(u32) -> Leader,
    ) -> Result<Arc<Topic>> {
        let name_arc: Arc<str> = Arc::from(name);
        let log_config = settings.effective.log.clone();
        let mut created = Vec::with_capacity(partitions as usize);
        let opened = (0..partitions).try_for_each(|p| {
            let partition = self.open_new_partition(&name_arc, topic_id, p, &log_config)?;
            partition.set_leader(leader_of(p));
            created.push(partition);
            Ok::<_, Error>(())
        });
        let topic = Arc::new(Topic {
            name: Arc::clone(&name_arc),
            topic_id: topic_id.to_owned(),
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
        Ok(Arc::new(Partition::new(
            Arc::clone(topic),
            partition,
            log,
            Arc::clone(&self.cluster),
        )))
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
    /// The commit is the delete: until it succeeds nothing changes (clients keep producing to
    /// the topic); once it has, the topic is gone for clients and for the next start, and its
    /// directories are removed now or, if that fails, at the next start or before a topic of
    /// the same name is created (`partition_dirs.rs`).
    ///
    /// # Errors
    /// [`Error::UnknownTopic`], [`Error::InternalTopicDeletion`], [`Error::Quorum`], I/O errors
    /// writing the metadata (then nothing changed).
    pub fn delete_topic(&self, name: &str) -> Result<()> {
        let _guard = self.metadata_lock.lock();
        let topic = self.topic(name)?;
        if topic.is_internal() {
            return Err(Error::InternalTopicDeletion(name.to_owned()));
        }
        match self.quorum_for(name) {
            Some(q) => {
                q.propose(Command::DeleteTopic {
                    name: name.to_owned(),
                })?;
                // Committed: the topic is deleted. Files this broker could not remove yet go
                // when the reconciliation is retried (`Broker::follow_metadata`) or at start.
                if let Err(e) = self.reconcile_locked(&q.image()) {
                    warn!(topic = name, cause = %e, "topic deleted; its local files go later");
                }
                Ok(())
            }
            None => self.delete_local(name, &topic),
        }
    }

    /// Forgets a topic here and removes its files; the caller holds the metadata lock.
    pub(super) fn delete_local(&self, name: &str, topic: &Topic) -> Result<()> {
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

    /// Grows a topic to `new_count` partitions. Blocking: creates the new logs.
    ///
    /// The new partitions are placed as a new topic's are. The broker's map then holds a new
    /// [`Topic`] (see its docs); the returned one has the new count.
    ///
    /// # Errors
    /// [`Error::UnknownTopic`], [`Error::InternalTopic`], [`Error::PartitionsNotIncreased`]
    /// unless `new_count` is larger than the current count, [`Error::InvalidPartitions`] above
    /// [`MAX_PARTITIONS`], [`Error::TooManyPartitions`] past the open-file limit,
    /// [`Error::Quorum`], I/O errors (then nothing changed).
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
        match self.quorum_for(name) {
            Some(q) => {
                // Kafka keeps the topic's replication factor: that of its first partition.
                let factor = q.replication_factor(name);
                let assignments = q.place(current, new_count - current, factor)?;
                q.propose(Command::CreatePartitions {
                    name: name.to_owned(),
                    assignments,
                })?;
                self.reconcile_locked(&q.image())?;
                self.topic(name)
            }
            None => self.grow_local(&old, new_count, &|_| Leader::Here),
        }
    }

    /// Opens a topic's new partitions here and records them; the caller holds the metadata
    /// lock. The logs are made first and recorded after, so a crash in between leaves only
    /// directories that the next start removes.
    pub(super) fn grow_local(
        &self,
        old: &Topic,
        new_count: u32,
        leader_of: &dyn Fn(u32) -> Leader,
    ) -> Result<Arc<Topic>> {
        let name = old.name();
        let current = old.partition_count();
        let log_config = old.log_config();
        let mut partitions = old.partitions.clone();
        let opened = (current..new_count).try_for_each(|p| {
            let partition = self.open_new_partition(&old.name, &old.topic_id, p, &log_config)?;
            partition.set_leader(leader_of(p));
            partitions.push(partition);
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
    /// read-modify-write holds the metadata lock, so concurrent changes through this broker
    /// don't lose each other's edits. Blocking.
    ///
    /// # Errors
    /// [`Error::UnknownTopic`] (checked first), [`Error::InvalidConfig`] from `change` (then
    /// nothing changed), [`Error::Quorum`], I/O errors.
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
    /// [`Error::UnknownTopic`], [`Error::Quorum`], I/O errors.
    pub fn set_topic_config(&self, name: &str, config: TopicConfig) -> Result<()> {
        let _guard = self.metadata_lock.lock();
        let topic = self.topic(name)?;
        self.commit_topic_config(&topic, config)
    }

    /// Commits `config` as `topic`'s overrides. The caller holds the metadata lock.
    fn commit_topic_config(&self, topic: &Topic, config: TopicConfig) -> Result<()> {
        check_internal_config(topic, &topic.config(), &config)?;
        let Some(q) = self.quorum_for(topic.name()) else {
            return self.config_local(topic, config);
        };
        let old = topic.config().overrides();
        let set = config.overrides();
        let delete: BTreeSet<String> = old.into_keys().filter(|k| !set.contains_key(k)).collect();
        q.propose(Command::AlterTopicConfigs {
            name: topic.name().to_owned(),
            set,
            delete,
        })?;
        self.reconcile_locked(&q.image())
    }

    /// Installs `config` on `topic`, records it, and applies it to the open logs. The caller
    /// holds the metadata lock.
    pub(super) fn config_local(&self, topic: &Topic, config: TopicConfig) -> Result<()> {
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
}
