//! Registration (`POST /subjects/{s}/versions`): parse, check compatibility, append.
//!
//! The expensive part of a registration is parsing the schema and checking it against the
//! subject's versions (linear in their sizes, times the versions a transitive level checks).
//! It runs on a blocking thread holding only the subject's lock: registrations to one subject
//! are serialized (each is checked against the versions the previous one may add), while
//! registrations to other subjects, every other write and every read go on. The single writer
//! is taken only afterwards, to re-validate and append. Re-validation compares the
//! [`Generation`] of what the check read (the subject's versions, level and mode; the global
//! level and mode) with the current one: a delete or config change, which takes no subject
//! lock, may have landed meanwhile, and then the check runs again — after
//! [`OPTIMISTIC_CHECKS`] such rounds, under the writer, so it cannot be starved. Ids and
//! versions are picked under the writer, so `_schemas` appends stay ordered and ids are never
//! reused. The record is sized against the store's limit before the append: a schema whose
//! record would not fit is refused as too large (42209), never a failed append.
//!
//! Not owned here: the compatibility rules (`compat/`) and the other writes (`mod.rs`,
//! `delete.rs`).

use std::sync::Arc;

use bytes::Bytes;

use super::records::{Record, Reference, SchemaValue};
use super::references::reference_texts;
use super::state::{Generation, State, StoredSchema};
use super::{
    AVRO, Candidate, Mode, NewSchema, Registered, Registry, effective_mode, parse_stored,
    validate_subject,
};
use crate::avro::AvroSchema;
use crate::compat::{self, Level};
use crate::error::RegistryError;
use crate::store::StoreError;

/// Checks run without the writer before one runs under it (see the module docs).
const OPTIMISTIC_CHECKS: usize = 3;

/// A stored schema with the texts of the schemas it references, dependencies first (empty once
/// it is parsed: then they are not needed): what parsing it off the state lock takes.
pub(super) type WithReferences = (Arc<StoredSchema>, Vec<String>);

/// What a registration read from the state for its check, under one short read lock.
struct Snapshot {
    generation: Generation,
    mode: Mode,
    level: Level,
    /// The live version of the subject that already holds this schema, if any.
    existing: Option<Registered>,
    /// The live versions the level checks against, oldest first.
    against: Vec<WithReferences>,
    /// One past the subject's last version; `None` past `i32::MAX`.
    next_version: Option<i32>,
}

impl Registry {
    /// Registers a schema under a subject (`POST /subjects/{s}/versions`): idempotent within
    /// the subject, the existing id for a schema known under any subject, compatibility checked
    /// against the subject's live versions.
    ///
    /// # Errors
    /// [`RegistryError::InvalidSubject`], [`RegistryError::OperationNotPermitted`] (mode),
    /// [`RegistryError::InvalidSchema`], [`RegistryError::SchemaTooLarge`] (the text, or its
    /// record in the store), [`RegistryError::Incompatible`], [`RegistryError::IdMismatch`]
    /// (IMPORT), [`RegistryError::Store`].
    pub async fn register(
        &self,
        subject: &str,
        request: &NewSchema,
        normalize: bool,
    ) -> Result<Registered, RegistryError> {
        validate_subject(subject)?;
        let _subject = self.subject_locks.lock(subject).await;
        require_registrable(subject, request, self.effective_mode(subject))?;
        let candidate = self.candidate_off_runtime(request, normalize).await?;
        let key = StoredSchema::content_key(&candidate.text, &candidate.references);
        let mut rounds = 0;
        loop {
            rounds += 1;
            let early_writer = if rounds > OPTIMISTIC_CHECKS {
                Some(self.lock_writer().await?)
            } else {
                None
            };
            let snapshot = self.snapshot(subject, &key)?;
            require_registrable(subject, request, snapshot.mode)?;
            if let Some(found) = snapshot.existing
                && request.id.is_none_or(|id| id == found.id)
                && request.version.is_none_or(|v| v == found.version)
            {
                return Ok(found);
            }
            if snapshot.mode != Mode::Import && !snapshot.against.is_empty() {
                let messages = self
                    .check_off_runtime(snapshot.level, &candidate, snapshot.against)
                    .await?;
                if !messages.is_empty() {
                    return Err(RegistryError::Incompatible {
                        subject: subject.to_owned(),
                        messages,
                    });
                }
            }
            let _writer = match early_writer {
                Some(writer) => writer,
                None => self.lock_writer().await?,
            };
            if self.state.read().generation(subject) != snapshot.generation {
                tracing::debug!(subject, rounds, "subject changed during its check; again");
                continue;
            }
            return self
                .append_version(subject, request, candidate, &key, snapshot.next_version)
                .await;
        }
    }

    /// Reads what the check needs (see [`Snapshot`]).
    fn snapshot(&self, subject: &str, key: &str) -> Result<Snapshot, RegistryError> {
        let state = self.state.read();
        let subject_state = state.subjects.get(subject);
        let global_level = state.global_level.unwrap_or(self.config.default_level);
        let level = subject_state.and_then(|s| s.level).unwrap_or(global_level);
        let live: Vec<(i32, i32)> = subject_state
            .map(|s| {
                s.versions
                    .iter()
                    .filter(|(_, v)| !v.deleted)
                    .map(|(n, v)| (*n, v.id))
                    .collect()
            })
            .unwrap_or_default();
        let existing = live.iter().rev().find_map(|&(version, id)| {
            state
                .schemas
                .get(&id)
                .filter(|st| StoredSchema::content_key(&st.schema, &st.references) == key)
                .map(|_| Registered { id, version })
        });
        let ids: Vec<i32> = live.iter().map(|&(_, id)| id).collect();
        let against = with_reference_texts(&state, checked_versions(level, &ids))?;
        let next_version = subject_state
            .and_then(|s| s.versions.keys().next_back().copied())
            .unwrap_or(0)
            .checked_add(1);
        Ok(Snapshot {
            generation: state.generation(subject),
            mode: effective_mode(&state, subject),
            level,
            existing,
            against,
            next_version,
        })
    }

    /// The compatibility messages of `candidate` against `against` (empty: compatible),
    /// parsing versions not parsed yet, on a blocking thread.
    pub(super) async fn check_off_runtime(
        &self,
        level: Level,
        candidate: &Candidate,
        against: Vec<WithReferences>,
    ) -> Result<Vec<String>, RegistryError> {
        let new = Arc::clone(&candidate.parsed);
        let limits = self.config.limits;
        tokio::task::spawn_blocking(move || {
            let existing = against
                .iter()
                .map(|(stored, texts)| match stored.parsed.get() {
                    Some(parsed) => Ok(Arc::clone(parsed)),
                    None => parse_stored(stored, texts, &limits),
                })
                .collect::<Result<Vec<_>, RegistryError>>()?;
            let refs: Vec<&AvroSchema> = existing.iter().map(AsRef::as_ref).collect();
            Ok(compat::check(level, &new, &refs))
        })
        .await
        .map_err(RegistryError::Worker)?
    }

    /// Picks the id and version, sizes the record, appends it and applies it. The caller holds
    /// the writer lock and has re-validated its snapshot.
    async fn append_version(
        &self,
        subject: &str,
        request: &NewSchema,
        candidate: Candidate,
        key: &str,
        next_version: Option<i32>,
    ) -> Result<Registered, RegistryError> {
        let (known_id, max_id) = {
            let state = self.state.read();
            // The check resolved them without the writer: a permanent delete may have removed
            // one since.
            require_references(&state, &candidate.references)?;
            (state.by_content.get(key).copied(), state.max_id)
        };
        let id = match request.id {
            Some(id) => {
                if id < 1 {
                    return Err(RegistryError::IdMismatch(format!(
                        "Schema id {id} is not a valid id; ids are 1 to 2^31-1"
                    )));
                }
                if let Some(stored) = self.stored_schema(id)
                    && StoredSchema::content_key(&stored.schema, &stored.references) != key
                {
                    return Err(RegistryError::IdMismatch(format!(
                        "Overwrite new schema with id {id} is not permitted."
                    )));
                }
                id
            }
            None => match known_id {
                Some(id) => id,
                None => max_id.checked_add(1).ok_or_else(|| {
                    RegistryError::Store(StoreError::Misconfigured(
                        "schema ids are exhausted".into(),
                    ))
                })?,
            },
        };
        let version = match request.version {
            Some(v) => {
                if v < 1 {
                    return Err(RegistryError::InvalidVersion(v.to_string()));
                }
                let taken = self
                    .state
                    .read()
                    .subjects
                    .get(subject)
                    .and_then(|s| s.versions.get(&v))
                    .is_some_and(|existing| existing.id != id);
                if taken {
                    return Err(RegistryError::IdMismatch(format!(
                        "Overwrite new schema is not permitted: version {v} of subject {subject} holds another schema."
                    )));
                }
                v
            }
            None => next_version
                .ok_or_else(|| RegistryError::InvalidVersion("2147483648".to_owned()))?,
        };

        let value = SchemaValue {
            subject: subject.to_owned(),
            version,
            id,
            schema_type: AVRO.to_owned(),
            references: candidate.references,
            schema: candidate.text,
            deleted: false,
        };
        let record = Record::Schema {
            subject: subject.to_owned(),
            version,
            value: Some(value.clone()),
        };
        let encoded = record.encode();
        let size = encoded.0.len() + encoded.1.as_ref().map_or(0, Bytes::len);
        let max = self.store.max_record_bytes();
        if size > max {
            return Err(RegistryError::SchemaTooLarge(format!(
                "The schema's record in the schema store would be {size} bytes (the schema \
                 JSON-escaped, with its subject and references), more than the store's limit \
                 of {max} bytes"
            )));
        }
        self.append(vec![encoded]).await?;
        self.state
            .write()
            .put_version(subject, version, value, Some(candidate.parsed));
        Ok(Registered { id, version })
    }
}

/// Refuses a registration the mode forbids.
fn require_registrable(
    subject: &str,
    request: &NewSchema,
    mode: Mode,
) -> Result<(), RegistryError> {
    if !mode.writable() {
        return Err(RegistryError::OperationNotPermitted(format!(
            "Subject {subject} is in read-only mode"
        )));
    }
    if mode != Mode::Import && (request.id.is_some() || request.version.is_some()) {
        return Err(RegistryError::OperationNotPermitted(format!(
            "Subject {subject} is not in import mode: an id or version cannot be chosen"
        )));
    }
    Ok(())
}

/// Every referenced version still exists.
fn require_references(state: &State, references: &[Reference]) -> Result<(), RegistryError> {
    for r in references {
        let exists = state
            .subjects
            .get(&r.subject)
            .is_some_and(|s| s.versions.contains_key(&r.version));
        if !exists {
            return Err(RegistryError::InvalidSchema(format!(
                "reference '{}' to subject '{}' version {} does not exist",
                r.name, r.subject, r.version
            )));
        }
    }
    Ok(())
}

/// The versions (of `live`, oldest first) a check at `level` reads: none at NONE, all of them
/// when transitive, else the latest only, so nothing else is parsed.
pub(super) fn checked_versions(level: Level, live: &[i32]) -> &[i32] {
    match level {
        Level::None => &[],
        _ if level.transitive() => live,
        _ => live.last().map(std::slice::from_ref).unwrap_or_default(),
    }
}

/// The stored schemas of `ids`, with what parsing them takes.
pub(super) fn with_reference_texts(
    state: &State,
    ids: &[i32],
) -> Result<Vec<WithReferences>, RegistryError> {
    ids.iter()
        .map(|&id| {
            let stored = state
                .schemas
                .get(&id)
                .cloned()
                .ok_or(RegistryError::SchemaIdNotFound(i64::from(id)))?;
            let texts = if stored.parsed.get().is_some() {
                Vec::new()
            } else {
                reference_texts(state, &stored)?
            };
            Ok((stored, texts))
        })
        .collect()
}
