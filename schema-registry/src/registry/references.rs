//! Schema references: resolving a request's references to registered versions (`-1`: the
//! latest live one), and collecting the texts of every schema a schema pulls in, dependencies
//! first and each once, which is what parsing it needs. Chains are bounded in depth and in
//! count ([`MAX_REFERENCES`]).
//!
//! Not owned here: which references block a delete (`delete.rs`, through the state's
//! `referenced_by` index).

use std::collections::BTreeSet;

use super::records::Reference;
use super::state::{State, StoredSchema, SubjectState};
use super::{MAX_REFERENCES, Registry};
use crate::error::RegistryError;

impl Registry {
    /// Resolves references to registered versions (`-1` = latest): the references with
    /// concrete versions, and the texts of every schema they pull in, dependencies first.
    pub(super) fn resolve_references(
        &self,
        references: &[Reference],
    ) -> Result<(Vec<Reference>, Vec<String>), RegistryError> {
        let state = self.state.read();
        let mut resolved = Vec::with_capacity(references.len());
        for r in references {
            let s = state.subjects.get(&r.subject);
            let version = if r.version == -1 {
                s.and_then(SubjectState::latest_live).map(|(n, _)| n)
            } else {
                s.and_then(|s| s.versions.get(&r.version))
                    .map(|_| r.version)
            };
            let Some(version) = version else {
                return Err(RegistryError::InvalidSchema(format!(
                    "reference '{}' to subject '{}' version {} does not exist",
                    r.name, r.subject, r.version
                )));
            };
            resolved.push(Reference {
                name: r.name.clone(),
                subject: r.subject.clone(),
                version,
            });
        }
        let mut texts = Vec::new();
        let mut seen = BTreeSet::new();
        for r in &resolved {
            collect_reference(&state, &r.subject, r.version, &mut seen, &mut texts, 0)?;
        }
        Ok((resolved, texts))
    }
}

/// The texts of every schema `stored` references, dependencies first.
pub(super) fn reference_texts(
    state: &State,
    stored: &StoredSchema,
) -> Result<Vec<String>, RegistryError> {
    let mut texts = Vec::new();
    let mut seen = BTreeSet::new();
    for r in &stored.references {
        collect_reference(state, &r.subject, r.version, &mut seen, &mut texts, 0)?;
    }
    Ok(texts)
}

/// Adds the text of `(subject, version)` after the texts of its own references (depth first,
/// each schema once).
fn collect_reference(
    state: &State,
    subject: &str,
    version: i32,
    seen: &mut BTreeSet<(String, i32)>,
    texts: &mut Vec<String>,
    depth: usize,
) -> Result<(), RegistryError> {
    if !seen.insert((subject.to_owned(), version)) {
        return Ok(());
    }
    if depth > 64 || seen.len() > MAX_REFERENCES {
        return Err(RegistryError::InvalidSchema(
            "too many or too deeply nested schema references".to_owned(),
        ));
    }
    let stored = state
        .subjects
        .get(subject)
        .and_then(|s| s.versions.get(&version))
        .and_then(|v| state.schemas.get(&v.id))
        .ok_or_else(|| {
            RegistryError::InvalidSchema(format!(
                "referenced subject '{subject}' version {version} does not exist"
            ))
        })?;
    for r in &stored.references {
        collect_reference(state, &r.subject, r.version, seen, texts, depth + 1)?;
    }
    texts.push(stored.schema.clone());
    Ok(())
}
