//! Deletes (`DELETE /subjects/{s}[/versions/{v}]`): soft deletes hide versions and keep their
//! ids resolvable; permanent deletes, allowed only after a soft delete, write tombstones (and a
//! `NOOP` record first, so `max_id` survives and ids are never reused).
//!
//! Not owned here: how the records apply to the state (`state.rs`).

use super::records::{Record, SchemaValue};
use super::state::SubjectState;
use super::{Registry, VersionSpec};
use crate::error::RegistryError;

impl Registry {
    /// Deletes one version: soft (hidden, id still resolvable), or permanently (only after a
    /// soft delete; the id goes with its last version). Returns the version number.
    ///
    /// # Errors
    /// 40401, 40402, 40406, 40407, 42206 (referenced), 42205 (read-only), 50001.
    pub async fn delete_version(
        &self,
        subject: &str,
        version: VersionSpec,
        permanent: bool,
    ) -> Result<i32, RegistryError> {
        let _writer = self.lock_writer().await?;
        self.require_writable(subject)?;
        let (number, v, current) = {
            let state = self.state.read();
            let s = state
                .subjects
                .get(subject)
                .filter(|s| !s.versions.is_empty())
                .ok_or_else(|| RegistryError::SubjectNotFound(subject.to_owned()))?;
            let found = match version {
                VersionSpec::Latest if permanent => {
                    s.versions.iter().next_back().map(|(n, v)| (*n, *v))
                }
                VersionSpec::Latest => s.latest_live(),
                VersionSpec::Exact(n) => s.versions.get(&n).map(|v| (n, *v)),
            };
            let (number, v) = found.ok_or_else(|| version.not_found(subject))?;
            let current = state.schemas.get(&v.id).cloned();
            (number, v, current)
        };
        let not_found = || RegistryError::VersionNotFound {
            subject: subject.to_owned(),
            version: number,
        };
        match (permanent, v.deleted) {
            (false, true) => {
                return Err(RegistryError::VersionSoftDeleted {
                    subject: subject.to_owned(),
                    version: number,
                });
            }
            (true, false) => {
                return Err(RegistryError::VersionNotSoftDeleted {
                    subject: subject.to_owned(),
                    version: number,
                });
            }
            _ => {}
        }
        if !self.state.read().referencing(subject, number).is_empty() {
            return Err(RegistryError::ReferenceExists {
                subject: subject.to_owned(),
                version: number,
            });
        }
        let records = if permanent {
            vec![
                Record::MaxId(self.max_id()),
                Record::Schema {
                    subject: subject.to_owned(),
                    version: number,
                    value: None,
                },
            ]
        } else {
            let stored = current.ok_or_else(not_found)?;
            vec![Record::Schema {
                subject: subject.to_owned(),
                version: number,
                value: Some(SchemaValue {
                    subject: subject.to_owned(),
                    version: number,
                    id: v.id,
                    schema_type: stored.schema_type.clone(),
                    references: stored.references.clone(),
                    schema: stored.schema.clone(),
                    deleted: true,
                }),
            }]
        };
        self.write(records).await?;
        Ok(number)
    }

    /// Deletes a subject: soft (every live version hidden; its config and mode removed), or
    /// permanently (only after a soft delete). Returns the versions deleted.
    ///
    /// # Errors
    /// 40401, 40404, 40405, 42206 (a version is referenced), 42205 (read-only), 50001.
    pub async fn delete_subject(
        &self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, RegistryError> {
        let _writer = self.lock_writer().await?;
        self.require_writable(subject)?;
        let s: SubjectState = self
            .state
            .read()
            .subjects
            .get(subject)
            .filter(|s| !s.versions.is_empty())
            .cloned()
            .ok_or_else(|| RegistryError::SubjectNotFound(subject.to_owned()))?;
        let live: Vec<i32> = s
            .versions
            .iter()
            .filter(|(_, v)| !v.deleted)
            .map(|(n, _)| *n)
            .collect();
        if !permanent && live.is_empty() {
            return Err(RegistryError::SubjectSoftDeleted(subject.to_owned()));
        }
        if permanent && !live.is_empty() {
            return Err(RegistryError::SubjectNotSoftDeleted(subject.to_owned()));
        }
        {
            let state = self.state.read();
            for n in s.versions.keys() {
                if state.referencing(subject, *n).iter().any(|id| {
                    // A subject's own versions never reference each other in practice; a
                    // reference from anywhere blocks the delete.
                    state.schemas.contains_key(id)
                }) {
                    return Err(RegistryError::ReferenceExists {
                        subject: subject.to_owned(),
                        version: *n,
                    });
                }
            }
        }
        let mut records = Vec::new();
        let deleted: Vec<i32> = if permanent {
            records.push(Record::MaxId(self.max_id()));
            for n in s.versions.keys() {
                records.push(Record::Schema {
                    subject: subject.to_owned(),
                    version: *n,
                    value: None,
                });
            }
            records.push(Record::DeleteSubject {
                subject: subject.to_owned(),
                up_to: None,
            });
            s.versions.keys().copied().collect()
        } else {
            let up_to = s.versions.keys().next_back().copied().unwrap_or(0);
            records.push(Record::DeleteSubject {
                subject: subject.to_owned(),
                up_to: Some(up_to),
            });
            if s.level.is_some() {
                records.push(Record::Config {
                    subject: Some(subject.to_owned()),
                    level: None,
                });
            }
            if s.mode.is_some() {
                records.push(Record::Mode {
                    subject: Some(subject.to_owned()),
                    mode: None,
                });
            }
            live
        };
        self.write(records).await?;
        Ok(deleted)
    }
}
