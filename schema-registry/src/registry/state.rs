//! The registry's in-memory state, and the one function that changes it: [`State::apply`] of a
//! stored record.
//!
//! Replay at start-up and live writes go through the same `apply`, in log order, so the state
//! after a restart is the state before it by construction. `apply` never fails: a record that
//! contradicts the state (a version of an id whose text differs) is applied as far as it makes
//! sense and logged, because refusing it would make the log unreadable.
//!
//! Every change stamps what it touched (the subject, or the global config and mode) with a
//! counter ([`State::generation`]), so a registration that checked compatibility against a
//! snapshot, outside the writer lock, can tell whether that snapshot still holds.
//!
//! Schemas are kept as their stored text; the parsed [`AvroSchema`] is built on first use and
//! cached ([`StoredSchema::parsed`]), so a replay of tens of thousands of versions is JSON
//! decoding and map inserts only.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use super::Mode;
use super::records::{Record, Reference, SchemaValue};
use crate::avro::AvroSchema;
use crate::compat::Level;

/// One schema under its global id: the text as stored (canonical, or normalized when it was
/// registered with `normalize=true`) and the references it was registered with.
#[derive(Debug)]
pub struct StoredSchema {
    pub id: i32,
    /// Always `AVRO` today.
    pub schema_type: String,
    pub schema: String,
    pub references: Vec<Reference>,
    /// Built on first use (see the module docs).
    pub(crate) parsed: OnceLock<Arc<AvroSchema>>,
    /// The body of `GET /schemas/ids/{id}`, built on first use: that read is the hot path of
    /// every deserializer.
    pub(crate) id_response: OnceLock<Bytes>,
}

impl StoredSchema {
    /// The dedupe key: the same text with the same references is the same schema.
    pub(crate) fn content_key(schema: &str, references: &[Reference]) -> String {
        if references.is_empty() {
            return schema.to_owned();
        }
        let mut key = String::with_capacity(schema.len() + 64);
        key.push_str(schema);
        for r in references {
            key.push('\u{0}');
            key.push_str(&r.name);
            key.push('\u{0}');
            key.push_str(&r.subject);
            key.push('\u{0}');
            key.push_str(&r.version.to_string());
        }
        key
    }
}

/// One version of a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VersionState {
    pub(crate) id: i32,
    pub(crate) deleted: bool,
}

/// A subject: its versions (soft-deleted ones included) and its own config and mode.
#[derive(Debug, Default, Clone)]
pub(crate) struct SubjectState {
    pub(crate) versions: BTreeMap<i32, VersionState>,
    pub(crate) level: Option<Level>,
    pub(crate) mode: Option<Mode>,
    /// [`State::clock`] at the subject's last change.
    changed_at: u64,
}

impl SubjectState {
    pub(crate) fn has_live(&self) -> bool {
        self.versions.values().any(|v| !v.deleted)
    }
    pub(crate) fn has_deleted(&self) -> bool {
        self.versions.values().any(|v| v.deleted)
    }
    pub(crate) fn latest_live(&self) -> Option<(i32, VersionState)> {
        self.versions
            .iter()
            .rev()
            .find(|(_, v)| !v.deleted)
            .map(|(n, v)| (*n, *v))
    }
    fn is_empty(&self) -> bool {
        self.versions.is_empty() && self.level.is_none() && self.mode.is_none()
    }
}

/// Everything the registry knows.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) subjects: BTreeMap<String, SubjectState>,
    pub(crate) schemas: HashMap<i32, Arc<StoredSchema>>,
    /// [`StoredSchema::content_key`] → id.
    pub(crate) by_content: HashMap<String, i32>,
    /// Id → the `(subject, version)`s that use it, soft-deleted ones included.
    pub(crate) users: HashMap<i32, BTreeSet<(String, i32)>>,
    /// `(subject, version)` → ids of the schemas that reference it.
    pub(crate) referenced_by: HashMap<(String, i32), BTreeSet<i32>>,
    pub(crate) global_level: Option<Level>,
    pub(crate) global_mode: Option<Mode>,
    /// The largest id ever handed out; never decreases, so ids are never reused.
    pub(crate) max_id: i32,
    /// Counts changes; see the module docs.
    clock: u64,
    /// [`State::clock`] at the last change of the global level or mode.
    global_changed_at: u64,
}

/// What a compatibility check of one subject depended on: equal generations mean the subject's
/// versions, level and mode and the global level and mode are unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Generation {
    subject: u64,
    global: u64,
}

impl State {
    /// An empty state whose clock continues from `clock`: a state rebuilt after a failed append
    /// stamps every change later than any stamp of the state it replaces, so no generation
    /// taken before the rebuild matches after it (unless the subject is absent in both).
    pub(crate) fn continuing_from(clock: u64) -> State {
        State {
            clock,
            ..State::default()
        }
    }

    pub(crate) fn clock(&self) -> u64 {
        self.clock
    }

    /// See [`Generation`]. A subject the state does not hold has generation 0.
    pub(crate) fn generation(&self, subject: &str) -> Generation {
        Generation {
            subject: self.subjects.get(subject).map_or(0, |s| s.changed_at),
            global: self.global_changed_at,
        }
    }

    fn touch(&mut self, subject: Option<&str>) {
        self.clock += 1;
        match subject {
            None => self.global_changed_at = self.clock,
            Some(s) => {
                if let Some(state) = self.subjects.get_mut(s) {
                    state.changed_at = self.clock;
                }
            }
        }
    }

    /// Applies one stored record (see the module docs).
    pub(crate) fn apply(&mut self, record: Record) {
        match record {
            Record::Schema {
                subject,
                version,
                value: Some(value),
            } => self.put_version(&subject, version, value, None),
            Record::Schema {
                subject,
                version,
                value: None,
            } => self.remove_version(&subject, version),
            Record::Config { subject, level } => {
                let level = level.and_then(|l| match l.parse::<Level>() {
                    Ok(l) => Some(l),
                    Err(e) => {
                        tracing::warn!(cause = %e, "ignoring a stored compatibility level");
                        None
                    }
                });
                match subject {
                    None => {
                        self.global_level = level;
                        self.touch(None);
                    }
                    Some(s) => {
                        self.subjects.entry(s.clone()).or_default().level = level;
                        self.touch(Some(&s));
                        self.forget_if_empty(&s);
                    }
                }
            }
            Record::Mode { subject, mode } => {
                let mode = mode.and_then(|m| match m.parse::<Mode>() {
                    Ok(m) => Some(m),
                    Err(()) => {
                        tracing::warn!(mode = m, "ignoring a stored mode");
                        None
                    }
                });
                match subject {
                    None => {
                        self.global_mode = mode;
                        self.touch(None);
                    }
                    Some(s) => {
                        self.subjects.entry(s.clone()).or_default().mode = mode;
                        self.touch(Some(&s));
                        self.forget_if_empty(&s);
                    }
                }
            }
            Record::DeleteSubject {
                subject,
                up_to: Some(up_to),
            } => {
                if let Some(s) = self.subjects.get_mut(&subject) {
                    for (_, v) in s.versions.range_mut(..=up_to) {
                        v.deleted = true;
                    }
                }
                self.touch(Some(&subject));
            }
            Record::DeleteSubject { up_to: None, .. } => {}
            Record::MaxId(id) => self.max_id = self.max_id.max(id),
            Record::Unknown(keytype) => {
                tracing::debug!(keytype, "skipping a schema-store record of another kind");
            }
        }
    }

    /// Installs a version. `parsed` seeds the schema's cache when the writer already parsed it.
    pub(crate) fn put_version(
        &mut self,
        subject: &str,
        version: i32,
        value: SchemaValue,
        parsed: Option<Arc<AvroSchema>>,
    ) {
        let id = value.id;
        self.max_id = self.max_id.max(id);
        if let Some(old) = self
            .subjects
            .get(subject)
            .and_then(|s| s.versions.get(&version))
            .copied()
            && old.id != id
        {
            self.release(old.id, subject, version);
        }
        if let Some(existing) = self.schemas.get(&id) {
            if existing.schema != value.schema || existing.references != value.references {
                tracing::warn!(
                    id,
                    subject,
                    version,
                    "a stored version names an id whose schema differs; keeping the first"
                );
            }
        } else {
            let key = StoredSchema::content_key(&value.schema, &value.references);
            self.by_content.entry(key).or_insert(id);
            for r in &value.references {
                self.referenced_by
                    .entry((r.subject.clone(), r.version))
                    .or_default()
                    .insert(id);
            }
            let parsed_cell = OnceLock::new();
            if let Some(p) = parsed {
                let _ = parsed_cell.set(p);
            }
            self.schemas.insert(
                id,
                Arc::new(StoredSchema {
                    id,
                    schema_type: value.schema_type,
                    schema: value.schema,
                    references: value.references,
                    parsed: parsed_cell,
                    id_response: OnceLock::new(),
                }),
            );
        }
        self.users
            .entry(id)
            .or_default()
            .insert((subject.to_owned(), version));
        self.subjects
            .entry(subject.to_owned())
            .or_default()
            .versions
            .insert(
                version,
                VersionState {
                    id,
                    deleted: value.deleted,
                },
            );
        self.touch(Some(subject));
    }

    fn remove_version(&mut self, subject: &str, version: i32) {
        let Some(s) = self.subjects.get_mut(subject) else {
            return;
        };
        let Some(old) = s.versions.remove(&version) else {
            return;
        };
        self.release(old.id, subject, version);
        self.touch(Some(subject));
        self.forget_if_empty(subject);
    }

    /// Drops `(subject, version)` from the users of `id`, and the schema with its last user.
    fn release(&mut self, id: i32, subject: &str, version: i32) {
        let Some(users) = self.users.get_mut(&id) else {
            return;
        };
        users.remove(&(subject.to_owned(), version));
        if !users.is_empty() {
            return;
        }
        self.users.remove(&id);
        if let Some(schema) = self.schemas.remove(&id) {
            let key = StoredSchema::content_key(&schema.schema, &schema.references);
            if self.by_content.get(&key) == Some(&id) {
                self.by_content.remove(&key);
            }
            for r in &schema.references {
                let at = (r.subject.clone(), r.version);
                if let Some(ids) = self.referenced_by.get_mut(&at) {
                    ids.remove(&id);
                    if ids.is_empty() {
                        self.referenced_by.remove(&at);
                    }
                }
            }
        }
    }

    fn forget_if_empty(&mut self, subject: &str) {
        if self
            .subjects
            .get(subject)
            .is_some_and(SubjectState::is_empty)
        {
            self.subjects.remove(subject);
        }
    }

    /// Ids of the schemas that reference `(subject, version)`.
    pub(crate) fn referencing(&self, subject: &str, version: i32) -> Vec<i32> {
        self.referenced_by
            .get(&(subject.to_owned(), version))
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default()
    }
}
