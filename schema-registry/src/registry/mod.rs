//! The registry: subjects, versions, global ids, configs and modes, and the single writer that
//! changes them.
//!
//! State lives in memory ([`state::State`]) behind a read-write lock and is rebuilt at start-up
//! by replaying the [`Store`]. Reads take the read lock for a few map lookups and clone an
//! `Arc`, so they never wait on a write's I/O. Writes are serialized by one async mutex (the
//! single writer, as Confluent's elected leader): a write validates against the current state,
//! appends its records to the store, and only once the store acknowledged them applies the
//! same records to memory with [`state::State::apply`] — the function replay uses. Nothing
//! acknowledged lives only in memory, and a failed append changes nothing in memory; since its
//! records may still have reached the log (a lost acknowledgement), the next write first
//! rebuilds the state from the store. Registrations parse and check compatibility before they
//! take the single writer, holding only their subject's lock (`register.rs`), so one slow check
//! never holds writes to other subjects.
//!
//! Ids: a schema (its text plus references) registered under any subject gets the id it
//! already has; a new one gets `max_id + 1`. `max_id` survives permanent deletes through the
//! `NOOP` record (see `records.rs`), so ids are never reused, restarts included.
//!
//! Files: `register.rs` (registrations), `delete.rs` (soft and permanent deletes),
//! `references.rs` (resolving schema references), `state.rs` (the in-memory state and how
//! records apply to it), `records.rs` (the `_schemas` layouts).
//!
//! Not owned here: HTTP shapes (`api/`), Avro parsing (`avro/`) and compatibility rules
//! (`compat/`).

mod delete;
pub mod records;
mod references;
mod register;
pub(crate) mod state;
mod subject_locks;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::RwLock;

use crate::avro::{AvroSchema, Limits};
use crate::compat::Level;
use crate::error::RegistryError;
use crate::store::{Store, StoreError, StoreRecord};
use records::{Record, Reference};
use references::reference_texts;
pub use state::StoredSchema;
use state::{State, VersionState};
use subject_locks::SubjectLocks;

/// Longest subject name, in bytes: subjects are keys of every lookup map and of the store.
pub const MAX_SUBJECT_BYTES: usize = 1_000;
/// Most schemas one registration may pull in through references, transitively.
pub const MAX_REFERENCES: usize = 1_000;
/// The only schema type served.
pub const AVRO: &str = "AVRO";
/// Room in a `_schemas` record besides the escaped schema text and subject: the other fields,
/// the key, and a few references. Registrations whose references need more are still refused
/// cleanly (42209) by the size check against the store.
const STORE_RECORD_SLACK: usize = 64 * 1024;

/// The registry's settings.
#[derive(Debug, Clone, Copy)]
pub struct RegistryConfig {
    /// Bounds on schema text and nesting, checked before anything else.
    pub limits: Limits,
    /// The compatibility level when neither the subject nor `/config` sets one
    /// (Confluent's `schema.compatibility.level`).
    pub default_level: Level,
    /// Largest request body the API reads (a schema request is the schema, JSON-escaped,
    /// plus a little): bigger ones are refused from `Content-Length` before being read.
    pub max_request_bytes: usize,
}

impl RegistryConfig {
    /// A config with these limits and a request bound that fits them: a schema escaped as a
    /// JSON string can grow up to six times (`\u0001`), plus room for references.
    pub fn with_limits(limits: Limits) -> Self {
        RegistryConfig {
            limits,
            default_level: Level::Backward,
            max_request_bytes: limits
                .max_schema_bytes
                .saturating_mul(6)
                .saturating_add(64 * 1024),
        }
    }
}

impl RegistryConfig {
    /// The largest `_schemas` record (key plus value) a schema within [`Limits`] needs: the
    /// stored text JSON-escaped (its `"` and `\` double; it holds no control characters, which
    /// JSON strings cannot contain unescaped), the subject escaped in the key and the value, and
    /// 64 KiB of slack (`STORE_RECORD_SLACK`). The server sizes `max.message.bytes` by it.
    pub fn max_store_record_bytes(&self) -> usize {
        self.limits
            .max_schema_bytes
            .saturating_mul(2)
            .saturating_add(4 * MAX_SUBJECT_BYTES)
            .saturating_add(STORE_RECORD_SLACK)
    }
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig::with_limits(Limits::default())
    }
}

/// A subject's or the global mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    ReadWrite,
    ReadOnly,
    /// Read-only, and it overrides every subject's own mode when set globally.
    ReadOnlyOverride,
    /// Registrations keep the ids and versions they name, without compatibility checks.
    Import,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::ReadWrite => "READWRITE",
            Mode::ReadOnly => "READONLY",
            Mode::ReadOnlyOverride => "READONLY_OVERRIDE",
            Mode::Import => "IMPORT",
        }
    }
    fn writable(self) -> bool {
        matches!(self, Mode::ReadWrite | Mode::Import)
    }
}

impl FromStr for Mode {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        [
            Mode::ReadWrite,
            Mode::ReadOnly,
            Mode::ReadOnlyOverride,
            Mode::Import,
        ]
        .into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
        .ok_or(())
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version in a path: a number in `1..=i32::MAX`, or the latest (`latest` or `-1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSpec {
    Latest,
    Exact(i32),
}

impl VersionSpec {
    /// 40402 for this version of `subject`, numbered as Confluent does (`-1`: the latest).
    pub(crate) fn not_found(self, subject: &str) -> RegistryError {
        RegistryError::VersionNotFound {
            subject: subject.to_owned(),
            version: match self {
                VersionSpec::Latest => -1,
                VersionSpec::Exact(n) => n,
            },
        }
    }
}

impl FromStr for VersionSpec {
    type Err = RegistryError;
    fn from_str(s: &str) -> Result<Self, RegistryError> {
        if s.eq_ignore_ascii_case("latest") || s == "-1" {
            return Ok(VersionSpec::Latest);
        }
        match s.parse::<i32>() {
            Ok(v) if v >= 1 => Ok(VersionSpec::Exact(v)),
            _ => Err(RegistryError::InvalidVersion(s.chars().take(64).collect())),
        }
    }
}

/// One version of a subject as reads return it.
#[derive(Debug, Clone)]
pub struct SchemaVersion {
    pub subject: String,
    pub version: i32,
    pub id: i32,
    pub deleted: bool,
    pub schema: Arc<StoredSchema>,
}

/// What `GET /subjects` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubjectFilter {
    /// Subjects with a live version.
    #[default]
    Live,
    /// Subjects with any version, soft-deleted ones included.
    All,
    /// Subjects with a soft-deleted version.
    DeletedOnly,
}

/// Which versions `GET /schemas` lists (see [`Registry::schemas`]).
#[derive(Debug, Clone, Copy)]
pub struct SchemaListing<'a> {
    /// Only subjects starting with this (`""`: every subject).
    pub prefix: &'a str,
    /// Soft-deleted versions too.
    pub deleted: bool,
    /// Only the last listed version of each subject.
    pub latest_only: bool,
    /// Versions skipped from the start of the listing.
    pub offset: usize,
    /// Most versions returned.
    pub limit: usize,
}

/// A registration request, as `POST /subjects/{s}/versions` carries it.
#[derive(Debug, Clone, Default)]
pub struct NewSchema {
    pub schema: String,
    /// `None` means AVRO.
    pub schema_type: Option<String>,
    pub references: Vec<Reference>,
    /// IMPORT mode only: the id and version to register under.
    pub id: Option<i32>,
    pub version: Option<i32>,
}

impl NewSchema {
    /// An Avro schema without references.
    pub fn avro(schema: impl Into<String>) -> Self {
        NewSchema {
            schema: schema.into(),
            ..NewSchema::default()
        }
    }
}

/// What a registration returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    pub id: i32,
    pub version: i32,
}

/// A schema parsed for a request, with its stored text and references resolved.
#[derive(Debug)]
struct Candidate {
    parsed: Arc<AvroSchema>,
    text: String,
    references: Vec<Reference>,
}

impl Candidate {
    fn new(parsed: AvroSchema, references: Vec<Reference>, normalize: bool) -> Self {
        let text = if normalize {
            parsed.normalized()
        } else {
            parsed.canonical().to_owned()
        };
        Candidate {
            parsed: Arc::new(parsed),
            text,
            references,
        }
    }
}

/// The schema registry.
pub struct Registry {
    config: RegistryConfig,
    store: Arc<dyn Store>,
    state: RwLock<State>,
    /// The single writer: held from validation to apply, across the store append. A
    /// registration takes it only after its compatibility check (see `register.rs`).
    writer: tokio::sync::Mutex<()>,
    /// Serializes registrations to one subject, not to different ones.
    subject_locks: SubjectLocks,
    /// Set when an append failed: the record may or may not be in the log (a lost
    /// acknowledgement), so the next write first rebuilds the state from the store rather than
    /// hand out an id or version the log may already hold.
    stale: AtomicBool,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.read();
        f.debug_struct("Registry")
            .field("subjects", &state.subjects.len())
            .field("schemas", &state.schemas.len())
            .field("max_id", &state.max_id)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// Opens the registry over `store`, replaying every record.
    ///
    /// # Errors
    /// The store cannot be read. Records that do not decode are skipped with a warning.
    pub async fn open(store: Arc<dyn Store>, config: RegistryConfig) -> Result<Self, StoreError> {
        let state = load(store.as_ref(), State::default()).await?;
        Ok(Registry {
            config,
            store,
            state: RwLock::new(state),
            writer: tokio::sync::Mutex::new(()),
            subject_locks: SubjectLocks::default(),
            stale: AtomicBool::new(false),
        })
    }

    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    /// Applies records the store's writer appended, in the store's order: how a registry that
    /// does not write (another server leads the store) follows the one that does. Records that
    /// do not decode are skipped with a warning, as at start-up.
    pub fn follow(&self, records: Vec<StoreRecord>) {
        let mut state = self.state.write();
        for (key, value) in records {
            match Record::decode(&key, value.as_deref()) {
                Ok(r) => state.apply(r),
                Err(reason) => tracing::warn!(reason, "skipping an unreadable schema-store record"),
            }
        }
    }

    // ---- reads -------------------------------------------------------------------------

    /// The stored schema with this id (soft-deleted versions keep their id resolvable).
    pub fn stored_schema(&self, id: i32) -> Option<Arc<StoredSchema>> {
        self.state.read().schemas.get(&id).cloned()
    }

    /// The parsed schema with this id, for encoding and decoding records: parsed on first use,
    /// then cached.
    pub fn schema_by_id(&self, id: i32) -> Option<Arc<AvroSchema>> {
        let stored = self.stored_schema(id)?;
        self.parsed(&stored).ok()
    }

    /// The largest id handed out so far (`fetchMaxId`).
    pub fn max_id(&self) -> i32 {
        self.state.read().max_id
    }

    /// Subjects, sorted, that start with `prefix` and pass `filter`.
    pub fn subjects(&self, prefix: &str, filter: SubjectFilter) -> Vec<String> {
        let state = self.state.read();
        state
            .subjects
            .range(prefix.to_owned()..)
            .take_while(|(name, _)| name.starts_with(prefix))
            .filter(|(_, s)| match filter {
                SubjectFilter::Live => s.has_live(),
                SubjectFilter::All => !s.versions.is_empty(),
                SubjectFilter::DeletedOnly => s.has_deleted(),
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Versions of the subjects starting with `prefix`, by subject then version (`GET
    /// /schemas`): live ones, soft-deleted ones too with `deleted`; with `latest_only` the last
    /// of those per subject. `offset` of them are skipped and at most `limit` returned, so the
    /// work is bounded by what is returned, not by the registry's size.
    pub fn schemas(&self, listing: &SchemaListing<'_>) -> Vec<SchemaVersion> {
        let state = self.state.read();
        state
            .subjects
            .range(listing.prefix.to_owned()..)
            .take_while(|(name, _)| name.starts_with(listing.prefix))
            .flat_map(|(name, s)| {
                let mut shown = s
                    .versions
                    .iter()
                    .filter(|(_, v)| listing.deleted || !v.deleted)
                    .map(move |(number, v)| (name, *number, *v));
                let all: Box<dyn Iterator<Item = _>> = if listing.latest_only {
                    Box::new(shown.next_back().into_iter())
                } else {
                    Box::new(shown)
                };
                all
            })
            .skip(listing.offset)
            .take(listing.limit)
            .filter_map(|(name, number, v)| schema_version(&state, name, number, v).ok())
            .collect()
    }

    /// A subject's version numbers, ascending; soft-deleted ones only with `deleted`.
    ///
    /// # Errors
    /// [`RegistryError::SubjectNotFound`] when there are none to list.
    pub fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i32>, RegistryError> {
        let state = self.state.read();
        let versions: Vec<i32> = state
            .subjects
            .get(subject)
            .map(|s| {
                s.versions
                    .iter()
                    .filter(|(_, v)| deleted || !v.deleted)
                    .map(|(n, _)| *n)
                    .collect()
            })
            .unwrap_or_default();
        if versions.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        Ok(versions)
    }

    /// One version of a subject; `latest` is the latest live one (the latest of all with
    /// `deleted`). A soft-deleted version is found only with `deleted`.
    ///
    /// # Errors
    /// [`RegistryError::SubjectNotFound`], [`RegistryError::VersionNotFound`].
    pub fn version(
        &self,
        subject: &str,
        version: VersionSpec,
        deleted: bool,
    ) -> Result<SchemaVersion, RegistryError> {
        let state = self.state.read();
        let s = state
            .subjects
            .get(subject)
            .filter(|s| {
                if deleted {
                    !s.versions.is_empty()
                } else {
                    s.has_live()
                }
            })
            .ok_or_else(|| RegistryError::SubjectNotFound(subject.to_owned()))?;
        let found = match version {
            VersionSpec::Latest if deleted => s.versions.iter().next_back().map(|(n, v)| (*n, *v)),
            VersionSpec::Latest => s.latest_live(),
            VersionSpec::Exact(n) => s
                .versions
                .get(&n)
                .filter(|v| deleted || !v.deleted)
                .map(|v| (n, *v)),
        };
        let (number, v) = found.ok_or_else(|| version.not_found(subject))?;
        schema_version(&state, subject, number, v)
    }

    /// The latest live version of a subject.
    pub fn latest(&self, subject: &str) -> Option<SchemaVersion> {
        self.version(subject, VersionSpec::Latest, false).ok()
    }

    /// A live version of a subject by number.
    pub fn by_subject_version(&self, subject: &str, version: i32) -> Option<SchemaVersion> {
        self.version(subject, VersionSpec::Exact(version), false)
            .ok()
    }

    /// The `(subject, version)`s that use an id, optionally only of `subject`; soft-deleted
    /// ones only with `deleted`.
    ///
    /// # Errors
    /// [`RegistryError::SchemaIdNotFound`].
    pub fn id_versions(
        &self,
        id: i32,
        subject: Option<&str>,
        deleted: bool,
    ) -> Result<Vec<(String, i32)>, RegistryError> {
        let state = self.state.read();
        let users = state
            .users
            .get(&id)
            .ok_or(RegistryError::SchemaIdNotFound(i64::from(id)))?;
        Ok(users
            .iter()
            .filter(|(s, _)| subject.is_none_or(|only| only == s))
            .filter(|(s, v)| {
                deleted
                    || state
                        .subjects
                        .get(s)
                        .and_then(|st| st.versions.get(v))
                        .is_some_and(|st| !st.deleted)
            })
            .cloned()
            .collect())
    }

    /// Ids of the schemas that reference a version of a subject.
    ///
    /// # Errors
    /// [`RegistryError::SubjectNotFound`], [`RegistryError::VersionNotFound`].
    pub fn referenced_by(
        &self,
        subject: &str,
        version: VersionSpec,
    ) -> Result<Vec<i32>, RegistryError> {
        let v = self.version(subject, version, true)?;
        Ok(self.state.read().referencing(subject, v.version))
    }

    /// The compatibility level of a subject (falling back to the global level with
    /// `default_to_global`), or the global level when `subject` is `None`.
    ///
    /// # Errors
    /// [`RegistryError::SubjectConfigNotFound`] when the subject has none of its own.
    pub fn level(
        &self,
        subject: Option<&str>,
        default_to_global: bool,
    ) -> Result<Level, RegistryError> {
        let state = self.state.read();
        let global = state.global_level.unwrap_or(self.config.default_level);
        match subject {
            None => Ok(global),
            Some(s) => match state.subjects.get(s).and_then(|s| s.level) {
                Some(level) => Ok(level),
                None if default_to_global => Ok(global),
                None => Err(RegistryError::SubjectConfigNotFound(s.to_owned())),
            },
        }
    }

    /// The mode of a subject (falling back to the global mode with `default_to_global`), or
    /// the global mode.
    ///
    /// # Errors
    /// [`RegistryError::SubjectModeNotFound`] when the subject has none of its own.
    pub fn mode(
        &self,
        subject: Option<&str>,
        default_to_global: bool,
    ) -> Result<Mode, RegistryError> {
        let state = self.state.read();
        let global = state.global_mode.unwrap_or_default();
        match subject {
            None => Ok(global),
            Some(s) => match state.subjects.get(s).and_then(|s| s.mode) {
                Some(mode) => Ok(mode),
                None if default_to_global => Ok(global),
                None => Err(RegistryError::SubjectModeNotFound(s.to_owned())),
            },
        }
    }

    /// Finds the version of `subject` holding this schema (`POST /subjects/{s}`); the latest
    /// such version when there are several.
    ///
    /// # Errors
    /// [`RegistryError::SubjectNotFound`], [`RegistryError::SchemaNotFound`], or the schema
    /// is invalid.
    pub fn lookup(
        &self,
        subject: &str,
        request: &NewSchema,
        normalize: bool,
        deleted: bool,
    ) -> Result<SchemaVersion, RegistryError> {
        {
            let state = self.state.read();
            let exists = state.subjects.get(subject).is_some_and(|s| {
                if deleted {
                    !s.versions.is_empty()
                } else {
                    s.has_live()
                }
            });
            if !exists {
                return Err(RegistryError::SubjectNotFound(subject.to_owned()));
            }
        }
        let candidate = self.candidate(request, normalize)?;
        let key = StoredSchema::content_key(&candidate.text, &candidate.references);
        let alt_key = if normalize {
            None
        } else {
            Some(StoredSchema::content_key(
                &candidate.parsed.normalized(),
                &candidate.references,
            ))
        };
        let state = self.state.read();
        let s = state
            .subjects
            .get(subject)
            .ok_or_else(|| RegistryError::SubjectNotFound(subject.to_owned()))?;
        for (number, v) in s.versions.iter().rev() {
            if v.deleted && !deleted {
                continue;
            }
            let Some(stored) = state.schemas.get(&v.id) else {
                continue;
            };
            let stored_key = StoredSchema::content_key(&stored.schema, &stored.references);
            if stored_key == key || alt_key.as_ref() == Some(&stored_key) {
                return schema_version(&state, subject, *number, *v);
            }
        }
        Err(RegistryError::SchemaNotFound)
    }

    /// Checks a schema against a subject's versions under its level (or under `level` when one
    /// is given): against one version, or (with `None`) against those the level names. Returns the incompatibilities; empty means
    /// compatible. A subject without live versions accepts anything when no version or `latest`
    /// is named. The parse and the check run on a blocking thread, holding no lock.
    ///
    /// # Errors
    /// [`RegistryError::VersionNotFound`] for a numbered version the subject (or the registry)
    /// does not hold, or the schema is invalid.
    pub async fn check_compatibility(
        &self,
        subject: &str,
        version: Option<VersionSpec>,
        request: &NewSchema,
        normalize: bool,
        level: Option<Level>,
    ) -> Result<Vec<String>, RegistryError> {
        let level = match level {
            Some(chosen) => chosen,
            None => self.level(Some(subject), true)?,
        };
        let ids: Vec<i32> = match version {
            // As Confluent's `CompatibilityResource`: `latest` of a subject without live
            // versions is checked against none (compatible); a numbered version the registry
            // does not hold is 40402, whether or not its subject exists.
            Some(spec) => match (spec, self.version(subject, spec, false)) {
                (_, Ok(found)) => vec![found.id],
                (
                    VersionSpec::Latest,
                    Err(RegistryError::SubjectNotFound(_) | RegistryError::VersionNotFound { .. }),
                ) => Vec::new(),
                (VersionSpec::Exact(version), Err(RegistryError::SubjectNotFound(_))) => {
                    return Err(RegistryError::VersionNotFound {
                        subject: subject.to_owned(),
                        version,
                    });
                }
                (_, Err(e)) => return Err(e),
            },
            None => {
                let state = self.state.read();
                let live: Vec<i32> = state
                    .subjects
                    .get(subject)
                    .map(|s| {
                        s.versions
                            .values()
                            .filter(|v| !v.deleted)
                            .map(|v| v.id)
                            .collect()
                    })
                    .unwrap_or_default();
                register::checked_versions(level, &live).to_vec()
            }
        };
        let candidate = self.candidate_off_runtime(request, normalize).await?;
        if ids.is_empty() || level == Level::None {
            return Ok(Vec::new());
        }
        let against = register::with_reference_texts(&self.state.read(), &ids)?;
        self.check_off_runtime(level, &candidate, against).await
    }

    // ---- writes ------------------------------------------------------------------------

    /// Sets the global (`None`) or a subject's compatibility level.
    ///
    /// # Errors
    /// [`RegistryError::InvalidSubject`], [`RegistryError::Store`].
    pub async fn set_level(
        &self,
        subject: Option<&str>,
        level: Level,
    ) -> Result<(), RegistryError> {
        if let Some(s) = subject {
            validate_subject(s)?;
        }
        let _writer = self.lock_writer().await?;
        self.write(vec![Record::Config {
            subject: subject.map(str::to_owned),
            level: Some(level.as_str().to_owned()),
        }])
        .await
    }

    /// Removes the global or a subject's level; returns the level in force before.
    ///
    /// # Errors
    /// [`RegistryError::SubjectNotFound`] for a subject the registry does not know,
    /// [`RegistryError::Store`].
    pub async fn delete_level(&self, subject: Option<&str>) -> Result<Level, RegistryError> {
        let _writer = self.lock_writer().await?;
        let previous = match subject {
            None => self.level(None, false)?,
            Some(s) => {
                if !self.state.read().subjects.contains_key(s) {
                    return Err(RegistryError::SubjectNotFound(s.to_owned()));
                }
                self.level(Some(s), true)?
            }
        };
        self.write(vec![Record::Config {
            subject: subject.map(str::to_owned),
            level: None,
        }])
        .await?;
        Ok(previous)
    }

    /// Sets the global or a subject's mode. IMPORT over existing schemas needs `force`.
    ///
    /// # Errors
    /// [`RegistryError::InvalidSubject`], [`RegistryError::OperationNotPermitted`],
    /// [`RegistryError::Store`].
    pub async fn set_mode(
        &self,
        subject: Option<&str>,
        mode: Mode,
        force: bool,
    ) -> Result<(), RegistryError> {
        if let Some(s) = subject {
            validate_subject(s)?;
        }
        let _writer = self.lock_writer().await?;
        if mode == Mode::Import && !force {
            let state = self.state.read();
            let has_schemas = match subject {
                None => state.subjects.values().any(|s| !s.versions.is_empty()),
                Some(s) => state
                    .subjects
                    .get(s)
                    .is_some_and(|s| !s.versions.is_empty()),
            };
            if has_schemas {
                return Err(RegistryError::OperationNotPermitted(
                    "Cannot import since found existing subjects (use force=true)".to_owned(),
                ));
            }
        }
        self.write(vec![Record::Mode {
            subject: subject.map(str::to_owned),
            mode: Some(mode.as_str().to_owned()),
        }])
        .await
    }

    /// Removes the global (back to READWRITE) or a subject's mode; returns the mode before.
    ///
    /// # Errors
    /// [`RegistryError::SubjectModeNotFound`] for a subject without a mode,
    /// [`RegistryError::Store`].
    pub async fn delete_mode(&self, subject: Option<&str>) -> Result<Mode, RegistryError> {
        let _writer = self.lock_writer().await?;
        let previous = self.mode(subject, false)?;
        self.write(vec![Record::Mode {
            subject: subject.map(str::to_owned),
            mode: None,
        }])
        .await?;
        Ok(previous)
    }

    // ---- helpers -----------------------------------------------------------------------

    /// Takes the writer lock, first rebuilding the state from the store after a failed append.
    async fn lock_writer(&self) -> Result<tokio::sync::MutexGuard<'_, ()>, RegistryError> {
        let guard = self.writer.lock().await;
        if self.stale.load(Ordering::Acquire) {
            let clock = self.state.read().clock();
            let state = load(self.store.as_ref(), State::continuing_from(clock))
                .await
                .map_err(RegistryError::Store)?;
            *self.state.write() = state;
            self.stale.store(false, Ordering::Release);
        }
        Ok(guard)
    }

    /// Appends to the store; a failure marks the state stale (see [`Registry::lock_writer`]).
    async fn append(&self, records: Vec<crate::store::StoreRecord>) -> Result<(), RegistryError> {
        self.store.append(records).await.map_err(|e| {
            self.stale.store(true, Ordering::Release);
            RegistryError::Store(e)
        })
    }

    /// Appends records, then applies them. The caller holds the writer lock.
    async fn write(&self, records: Vec<Record>) -> Result<(), RegistryError> {
        self.append(records.iter().map(Record::encode).collect())
            .await?;
        let mut state = self.state.write();
        for r in records {
            state.apply(r);
        }
        Ok(())
    }

    /// The mode that governs writes to `subject`: a global READONLY_OVERRIDE, else the
    /// subject's own, else the global one.
    fn effective_mode(&self, subject: &str) -> Mode {
        effective_mode(&self.state.read(), subject)
    }

    fn require_writable(&self, subject: &str) -> Result<(), RegistryError> {
        if self.effective_mode(subject).writable() {
            Ok(())
        } else {
            Err(RegistryError::OperationNotPermitted(format!(
                "Subject {subject} is in read-only mode"
            )))
        }
    }

    /// Parses a request's schema with its references resolved, and picks the text to store.
    fn candidate(&self, request: &NewSchema, normalize: bool) -> Result<Candidate, RegistryError> {
        let (references, resolved) = self.prepare(request)?;
        let parsed = AvroSchema::parse(&request.schema, &resolved, &self.config.limits)
            .map_err(|e| RegistryError::InvalidSchema(e.to_string()))?;
        Ok(Candidate::new(parsed, references, normalize))
    }

    /// [`Registry::candidate`], parsing on a blocking thread: a schema near the size limit
    /// takes a while to parse, and a runtime worker must not wait on it.
    async fn candidate_off_runtime(
        &self,
        request: &NewSchema,
        normalize: bool,
    ) -> Result<Candidate, RegistryError> {
        let (references, resolved) = self.prepare(request)?;
        let text = request.schema.clone();
        let limits = self.config.limits;
        tokio::task::spawn_blocking(move || {
            let parsed = AvroSchema::parse(&text, &resolved, &limits)
                .map_err(|e| RegistryError::InvalidSchema(e.to_string()))?;
            Ok(Candidate::new(parsed, references, normalize))
        })
        .await
        .map_err(RegistryError::Worker)?
    }

    /// The checks before parsing (type, size) and the references resolved: the references with
    /// concrete versions, and the texts of every schema they pull in.
    fn prepare(&self, request: &NewSchema) -> Result<(Vec<Reference>, Vec<String>), RegistryError> {
        if request.schema.trim().is_empty() {
            return Err(RegistryError::EmptySchema);
        }
        match request.schema_type.as_deref() {
            None => {}
            Some(t) if t.eq_ignore_ascii_case(AVRO) => {}
            Some(other) => {
                return Err(RegistryError::InvalidSchema(format!(
                    "schema type {other} is not supported; this registry serves AVRO"
                )));
            }
        }
        let limit = self.config.limits.max_schema_bytes;
        if request.schema.len() > limit {
            return Err(RegistryError::SchemaTooLarge(format!(
                "Schema of {} bytes is larger than the limit of {limit} bytes",
                request.schema.len()
            )));
        }
        self.resolve_references(&request.references)
    }

    /// The parsed schema of a stored one, parsing (and caching) on first use.
    fn parsed(&self, stored: &StoredSchema) -> Result<Arc<AvroSchema>, RegistryError> {
        if let Some(p) = stored.parsed.get() {
            return Ok(Arc::clone(p));
        }
        let texts = reference_texts(&self.state.read(), stored)?;
        parse_stored(stored, &texts, &self.config.limits)
    }
}

/// Replays every record of the store into `state` (empty).
async fn load(store: &dyn Store, mut state: State) -> Result<State, StoreError> {
    let records = store.replay().await?;
    let count = records.len();
    for (key, value) in records {
        match Record::decode(&key, value.as_deref()) {
            Ok(r) => state.apply(r),
            Err(reason) => tracing::warn!(reason, "skipping an unreadable schema-store record"),
        }
    }
    tracing::info!(
        records = count,
        subjects = state.subjects.len(),
        schemas = state.schemas.len(),
        max_id = state.max_id,
        "schema registry loaded"
    );
    Ok(state)
}

/// See [`Registry::effective_mode`].
fn effective_mode(state: &State, subject: &str) -> Mode {
    let global = state.global_mode.unwrap_or_default();
    if global == Mode::ReadOnlyOverride {
        return global;
    }
    state
        .subjects
        .get(subject)
        .and_then(|s| s.mode)
        .unwrap_or(global)
}

/// Parses a stored schema given its reference texts, and caches the result in it.
fn parse_stored(
    stored: &StoredSchema,
    texts: &[String],
    limits: &Limits,
) -> Result<Arc<AvroSchema>, RegistryError> {
    let parsed = AvroSchema::parse(&stored.schema, texts, limits).map_err(|e| {
        tracing::error!(id = stored.id, cause = %e, "a stored schema no longer parses");
        RegistryError::InvalidSchema(e.to_string())
    })?;
    Ok(Arc::clone(stored.parsed.get_or_init(|| Arc::new(parsed))))
}

fn schema_version(
    state: &State,
    subject: &str,
    version: i32,
    v: VersionState,
) -> Result<SchemaVersion, RegistryError> {
    let schema = state
        .schemas
        .get(&v.id)
        .cloned()
        .ok_or(RegistryError::SchemaIdNotFound(i64::from(v.id)))?;
    Ok(SchemaVersion {
        subject: subject.to_owned(),
        version,
        id: v.id,
        deleted: v.deleted,
        schema,
    })
}

/// Checks a subject name: 1 to [`MAX_SUBJECT_BYTES`] bytes, no control characters.
///
/// # Errors
/// [`RegistryError::InvalidSubject`].
pub fn validate_subject(subject: &str) -> Result<(), RegistryError> {
    if subject.is_empty()
        || subject.len() > MAX_SUBJECT_BYTES
        || subject.chars().any(char::is_control)
        || subject == "__GLOBAL"
        || subject == "__EMPTY"
    {
        return Err(RegistryError::InvalidSubject(
            subject.chars().take(100).collect(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
