//! The registry's state machine over an in-memory store: every behaviour is checked, then
//! checked again on a registry replayed from the same records (and from compacted records).

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::sync::Arc;

use super::records::SchemaValue;
use super::*;
use crate::store::MemoryStore;

fn record(name: &str, fields: &[(&str, &str)]) -> String {
    let fields: Vec<String> = fields
        .iter()
        .map(|(n, t)| format!(r#"{{"name":"{n}","type":{t}}}"#))
        .collect();
    format!(
        r#"{{"type":"record","name":"{name}","fields":[{}]}}"#,
        fields.join(",")
    )
}

async fn open(store: &MemoryStore) -> Registry {
    Registry::open(Arc::new(store.clone()), RegistryConfig::default())
        .await
        .unwrap()
}

/// A comparable picture of everything a client can observe.
fn snapshot(r: &Registry) -> String {
    let state = r.state.read();
    let mut out = String::new();
    for (name, s) in &state.subjects {
        out.push_str(&format!("{name}: level={:?} mode={:?}\n", s.level, s.mode));
        for (n, v) in &s.versions {
            let schema = &state.schemas[&v.id];
            out.push_str(&format!(
                "  v{n} id={} deleted={} refs={:?} {}\n",
                v.id, v.deleted, schema.references, schema.schema
            ));
        }
    }
    out.push_str(&format!(
        "global level={:?} mode={:?} max_id={}\n",
        state.global_level, state.global_mode, state.max_id
    ));
    out
}

async fn assert_replays_identically(store: &MemoryStore, live: &Registry) {
    let replayed = open(store).await;
    assert_eq!(snapshot(&replayed), snapshot(live));
    let compacted = MemoryStore::new();
    for r in store.records() {
        compacted.append(vec![r]).await.unwrap();
    }
    compacted.compact();
    let from_compacted = open(&compacted).await;
    assert_eq!(snapshot(&from_compacted), snapshot(live));
}

#[tokio::test]
async fn registering_is_idempotent_and_ids_are_global() {
    let store = MemoryStore::new();
    let r = open(&store).await;
    let a = record("A", &[("x", "\"int\"")]);
    let first = r.register("s1", &NewSchema::avro(&a), false).await.unwrap();
    assert_eq!(first, Registered { id: 1, version: 1 });
    // Same schema, same subject: same id and version, nothing written.
    let before = store.records().len();
    assert_eq!(
        r.register("s1", &NewSchema::avro(&a), false).await.unwrap(),
        first
    );
    assert_eq!(store.records().len(), before);
    // Whitespace does not matter: the canonical text is the key.
    let spaced = a.replace(',', " , ");
    assert_eq!(
        r.register("s1", &NewSchema::avro(&spaced), false)
            .await
            .unwrap(),
        first
    );
    // Same schema under another subject: same id, that subject's version 1.
    assert_eq!(
        r.register("s2", &NewSchema::avro(&a), false).await.unwrap(),
        Registered { id: 1, version: 1 }
    );
    assert_eq!(r.id_versions(1, None, false).unwrap().len(), 2);
    assert!(r.schema_by_id(1).is_some());
    assert_replays_identically(&store, &r).await;
}

#[tokio::test]
async fn incompatible_schemas_are_refused_and_none_allows_them() {
    let store = MemoryStore::new();
    let r = open(&store).await;
    r.register(
        "s",
        &NewSchema::avro(record("A", &[("x", "\"int\"")])),
        false,
    )
    .await
    .unwrap();
    // A new field without a default cannot read old data: BACKWARD refuses it.
    let breaking = record("A", &[("x", "\"int\""), ("y", "\"string\"")]);
    let err = r
        .register("s", &NewSchema::avro(&breaking), false)
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Incompatible { .. }), "{err}");
    r.set_level(Some("s"), Level::None).await.unwrap();
    assert_eq!(
        r.register("s", &NewSchema::avro(&breaking), false)
            .await
            .unwrap(),
        Registered { id: 2, version: 2 }
    );
    assert_replays_identically(&store, &r).await;
}

#[tokio::test]
async fn versions_continue_after_a_soft_delete_and_ids_stay_resolvable() {
    let store = MemoryStore::new();
    let r = open(&store).await;
    let a = record("A", &[("x", "\"int\"")]);
    r.register("s", &NewSchema::avro(&a), false).await.unwrap();
    assert_eq!(
        r.delete_version("s", VersionSpec::Exact(1), false)
            .await
            .unwrap(),
        1
    );
    assert!(matches!(
        r.versions("s", false),
        Err(RegistryError::SubjectNotFound(_))
    ));
    assert_eq!(r.versions("s", true).unwrap(), vec![1]);
    assert!(
        r.stored_schema(1).is_some(),
        "a soft-deleted version keeps its id"
    );
    assert!(matches!(
        r.delete_version("s", VersionSpec::Exact(1), false).await,
        Err(RegistryError::VersionSoftDeleted { .. })
    ));
    // Re-registering continues the sequence and keeps the id.
    assert_eq!(
        r.register("s", &NewSchema::avro(&a), false).await.unwrap(),
        Registered { id: 1, version: 2 }
    );
    assert_replays_identically(&store, &r).await;
}

#[tokio::test]
async fn permanent_deletes_need_a_soft_delete_first_and_ids_are_never_reused() {
    let store = MemoryStore::new();
    let r = open(&store).await;
    let a = record("A", &[("x", "\"int\"")]);
    let b = record("B", &[("y", "\"long\"")]);
    r.register("s", &NewSchema::avro(&a), false).await.unwrap();
    r.register("t", &NewSchema::avro(&b), false).await.unwrap();
    assert!(matches!(
        r.delete_subject("t", true).await,
        Err(RegistryError::SubjectNotSoftDeleted(_))
    ));
    assert!(matches!(
        r.delete_version("t", VersionSpec::Exact(1), true).await,
        Err(RegistryError::VersionNotSoftDeleted { .. })
    ));
    assert_eq!(r.delete_subject("t", false).await.unwrap(), vec![1]);
    assert!(matches!(
        r.delete_subject("t", false).await,
        Err(RegistryError::SubjectSoftDeleted(_))
    ));
    assert_eq!(r.delete_subject("t", true).await.unwrap(), vec![1]);
    assert!(
        r.stored_schema(2).is_none(),
        "a permanent delete removes the id"
    );
    assert!(r.subjects("", SubjectFilter::All).contains(&"s".to_owned()));
    assert!(!r.subjects("", SubjectFilter::All).contains(&"t".to_owned()));

    // After a restart from a compacted log the largest id is still 2: the next is 3.
    let compacted = MemoryStore::new();
    compacted.append(store.records()).await.unwrap();
    compacted.compact();
    let reopened = open(&compacted).await;
    assert_eq!(reopened.max_id(), 2);
    let c = record("C", &[("z", "\"string\"")]);
    assert_eq!(
        reopened
            .register("u", &NewSchema::avro(&c), false)
            .await
            .unwrap()
            .id,
        3
    );
    // And the deleted schema, registered again, gets a new id too.
    assert_eq!(
        reopened
            .register("t", &NewSchema::avro(&b), false)
            .await
            .unwrap(),
        Registered { id: 4, version: 1 }
    );
    assert_replays_identically(&store, &r).await;
}

#[tokio::test]
async fn config_and_mode_are_stored_and_enforced() {
    let store = MemoryStore::new();
    let r = open(&store).await;
    assert_eq!(r.level(None, false).unwrap(), Level::Backward);
    assert!(matches!(
        r.level(Some("s"), false),
        Err(RegistryError::SubjectConfigNotFound(_))
    ));
    assert_eq!(r.level(Some("s"), true).unwrap(), Level::Backward);
    r.set_level(None, Level::Full).await.unwrap();
    r.set_level(Some("s"), Level::ForwardTransitive)
        .await
        .unwrap();
    assert_eq!(r.level(Some("s"), false).unwrap(), Level::ForwardTransitive);
    assert_eq!(
        r.delete_level(Some("s")).await.unwrap(),
        Level::ForwardTransitive
    );
    assert_eq!(r.level(Some("s"), true).unwrap(), Level::Full);

    r.set_mode(None, Mode::ReadOnly, false).await.unwrap();
    let a = NewSchema::avro(record("A", &[("x", "\"int\"")]));
    assert!(matches!(
        r.register("s", &a, false).await,
        Err(RegistryError::OperationNotPermitted(_))
    ));
    // A subject's own mode overrides the global one, unless the global one is the override.
    r.set_mode(Some("s"), Mode::ReadWrite, false).await.unwrap();
    r.register("s", &a, false).await.unwrap();
    r.set_mode(None, Mode::ReadOnlyOverride, false)
        .await
        .unwrap();
    assert!(r.delete_subject("s", false).await.is_err());
    assert_eq!(r.delete_mode(None).await.unwrap(), Mode::ReadOnlyOverride);
    assert_eq!(r.mode(None, false).unwrap(), Mode::ReadWrite);
    assert_replays_identically(&store, &r).await;
}

#[tokio::test]
async fn import_mode_keeps_the_ids_and_versions_it_is_given() {
    let store = MemoryStore::new();
    let r = open(&store).await;
    let a = record("A", &[("x", "\"int\"")]);
    let explicit = NewSchema {
        id: Some(100),
        version: Some(7),
        ..NewSchema::avro(&a)
    };
    assert!(matches!(
        r.register("s", &explicit, false).await,
        Err(RegistryError::OperationNotPermitted(_))
    ));
    r.set_mode(None, Mode::Import, false).await.unwrap();
    assert_eq!(
        r.register("s", &explicit, false).await.unwrap(),
        Registered {
            id: 100,
            version: 7
        }
    );
    // Id 100 holds A: another schema under it is a mismatch.
    let other = NewSchema {
        id: Some(100),
        ..NewSchema::avro(record("B", &[("x", "\"int\"")]))
    };
    assert!(matches!(
        r.register("t", &other, false).await,
        Err(RegistryError::IdMismatch(_))
    ));
    r.set_mode(None, Mode::ReadWrite, false).await.unwrap();
    let c = record("C", &[("z", "\"int\"")]);
    assert_eq!(
        r.register("u", &NewSchema::avro(&c), false)
            .await
            .unwrap()
            .id,
        101
    );
    // IMPORT over existing schemas needs force.
    assert!(r.set_mode(None, Mode::Import, false).await.is_err());
    r.set_mode(None, Mode::Import, true).await.unwrap();
    assert_replays_identically(&store, &r).await;
}

#[tokio::test]
async fn references_resolve_and_block_deletes() {
    let store = MemoryStore::new();
    let r = open(&store).await;
    let address = r#"{"type":"record","name":"Address","namespace":"x","fields":[{"name":"city","type":"string"}]}"#;
    r.register("address", &NewSchema::avro(address), false)
        .await
        .unwrap();
    let person = NewSchema {
        references: vec![Reference {
            name: "x.Address".into(),
            subject: "address".into(),
            version: 1,
        }],
        ..NewSchema::avro(
            r#"{"type":"record","name":"Person","namespace":"x","fields":[{"name":"home","type":"x.Address"}]}"#,
        )
    };
    let registered = r.register("person", &person, false).await.unwrap();
    assert_eq!(registered.id, 2);
    assert_eq!(
        r.referenced_by("address", VersionSpec::Exact(1)).unwrap(),
        vec![2]
    );
    assert!(matches!(
        r.delete_version("address", VersionSpec::Exact(1), false)
            .await,
        Err(RegistryError::ReferenceExists { .. })
    ));
    assert!(matches!(
        r.delete_subject("address", false).await,
        Err(RegistryError::ReferenceExists { .. })
    ));
    // The parsed schema resolves the reference, also after a restart.
    let replayed = open(&store).await;
    assert!(replayed.schema_by_id(2).is_some());
    // A reference to nothing is an invalid schema.
    let dangling = NewSchema {
        references: vec![Reference {
            name: "x.Nope".into(),
            subject: "nope".into(),
            version: 1,
        }],
        ..NewSchema::avro(r#""string""#)
    };
    assert!(matches!(
        r.register("d", &dangling, false).await,
        Err(RegistryError::InvalidSchema(_))
    ));
    // Once the referrer is gone for good, the referenced version can go.
    r.delete_subject("person", false).await.unwrap();
    r.delete_subject("person", true).await.unwrap();
    r.delete_version("address", VersionSpec::Latest, false)
        .await
        .unwrap();
    assert_replays_identically(&store, &r).await;
}

#[tokio::test]
async fn lookups_and_bad_input() {
    let store = MemoryStore::new();
    let r = open(&store).await;
    let a = record("A", &[("x", "\"int\"")]);
    r.register("s", &NewSchema::avro(&a), false).await.unwrap();
    let found = r.lookup("s", &NewSchema::avro(&a), false, false).unwrap();
    assert_eq!((found.id, found.version), (1, 1));
    assert!(matches!(
        r.lookup("s", &NewSchema::avro(r#""int""#), false, false),
        Err(RegistryError::SchemaNotFound)
    ));
    assert!(matches!(
        r.lookup("nope", &NewSchema::avro(&a), false, false),
        Err(RegistryError::SubjectNotFound(_))
    ));
    for bad in ["{", r#"{"type":"record"}"#, r#"{"type":"nonsense"}"#] {
        assert!(matches!(
            r.register("s", &NewSchema::avro(bad), false).await,
            Err(RegistryError::InvalidSchema(_))
        ));
    }
    for empty in ["", " \n\t"] {
        assert!(matches!(
            r.register("s", &NewSchema::avro(empty), false).await,
            Err(RegistryError::EmptySchema)
        ));
    }
    let json_schema = NewSchema {
        schema_type: Some("JSON".into()),
        ..NewSchema::avro("{}")
    };
    assert!(matches!(
        r.register("s", &json_schema, false).await,
        Err(RegistryError::InvalidSchema(_))
    ));
    let huge = format!("\"{}\"", "x".repeat(2 << 20));
    assert!(matches!(
        r.register("s", &NewSchema::avro(huge), false).await,
        Err(RegistryError::SchemaTooLarge(_))
    ));
    assert!(matches!(
        r.register("", &NewSchema::avro(&a), false).await,
        Err(RegistryError::InvalidSubject(_))
    ));
    assert!(matches!(
        r.register("a\u{1}b", &NewSchema::avro(&a), false).await,
        Err(RegistryError::InvalidSubject(_))
    ));
    for v in ["0", "abc", "2147483648", "-2", ""] {
        assert!(v.parse::<VersionSpec>().is_err(), "{v}");
    }
    assert_eq!(
        "latest".parse::<VersionSpec>().unwrap(),
        VersionSpec::Latest
    );
    assert_eq!("-1".parse::<VersionSpec>().unwrap(), VersionSpec::Latest);
    assert_eq!(
        "2147483647".parse::<VersionSpec>().unwrap(),
        VersionSpec::Exact(i32::MAX)
    );
}

#[tokio::test]
async fn a_failed_append_changes_nothing() {
    let store = MemoryStore::new();
    let r = open(&store).await;
    store.set_fail_appends(true);
    let a = NewSchema::avro(record("A", &[("x", "\"int\"")]));
    assert!(matches!(
        r.register("s", &a, false).await,
        Err(RegistryError::Store(_))
    ));
    assert!(r.subjects("", SubjectFilter::All).is_empty());
    assert_eq!(r.max_id(), 0);
    store.set_fail_appends(false);
    assert_eq!(r.register("s", &a, false).await.unwrap().id, 1);
}

/// An append whose acknowledgement is lost may still be in the log: the next write reloads
/// the state first, so it neither reuses that id nor that version.
#[tokio::test]
async fn a_lost_acknowledgement_never_leads_to_a_reused_id() {
    let store = MemoryStore::new();
    let r = open(&store).await;
    store.set_lose_acks(true);
    let a = NewSchema::avro(record("A", &[("x", "\"int\"")]));
    assert!(matches!(
        r.register("s", &a, false).await,
        Err(RegistryError::Store(_))
    ));
    store.set_lose_acks(false);
    let b = NewSchema::avro(record("B", &[("y", "\"int\"")]));
    assert_eq!(
        r.register("t", &b, false).await.unwrap(),
        Registered { id: 2, version: 1 }
    );
    // The lost write is there after all: registering it again is idempotent.
    assert_eq!(
        r.register("s", &a, false).await.unwrap(),
        Registered { id: 1, version: 1 }
    );
    assert_replays_identically(&store, &r).await;
}

#[tokio::test]
async fn subject_listings_filter_by_prefix_and_deletion() {
    let store = MemoryStore::new();
    let r = open(&store).await;
    for (s, name) in [("a-value", "A"), ("a-key", "K"), ("b-value", "B")] {
        r.register(
            s,
            &NewSchema::avro(record(name, &[("x", "\"int\"")])),
            false,
        )
        .await
        .unwrap();
    }
    r.delete_subject("b-value", false).await.unwrap();
    assert_eq!(
        r.subjects("", SubjectFilter::Live),
        vec!["a-key", "a-value"]
    );
    assert_eq!(r.subjects("a-v", SubjectFilter::Live), vec!["a-value"]);
    assert_eq!(
        r.subjects("", SubjectFilter::All),
        vec!["a-key", "a-value", "b-value"]
    );
    assert_eq!(r.subjects("", SubjectFilter::DeletedOnly), vec!["b-value"]);
    assert_replays_identically(&store, &r).await;
}

/// A record larger than the store takes is refused as too large (42209) before the append:
/// nothing is written, nothing changes, and the registry is not left to rebuild its state.
#[tokio::test]
async fn a_record_over_the_store_limit_is_refused_as_too_large() {
    let store = MemoryStore::new();
    let r = open(&store).await;
    r.register("small", &NewSchema::avro(r#""int""#), false)
        .await
        .unwrap();
    let before = snapshot(&r);
    let written = store.records().len();
    store.set_max_record_bytes(1_000);
    let doc = "d".repeat(2_000);
    let big = format!(r#"{{"type":"record","name":"Big","doc":"{doc}","fields":[]}}"#);
    let err = r
        .register("big", &NewSchema::avro(big.as_str()), false)
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::SchemaTooLarge(_)), "{err:?}");
    assert_eq!(err.status_and_code().1, 42209);
    assert_eq!(store.records().len(), written);
    assert_eq!(snapshot(&r), before);
    assert!(!r.stale.load(Ordering::Acquire));
    r.register("other", &NewSchema::avro(r#""long""#), false)
        .await
        .unwrap();
}

/// What a registration's re-validation compares: a change to the subject or to the global
/// config or mode changes its generation; a change to another subject does not; a state
/// rebuilt after a failed append never matches a generation taken before.
#[test]
fn generations_follow_the_subject_and_the_global_config() {
    let schema = |subject: &str, version, id| Record::Schema {
        subject: subject.to_owned(),
        version,
        value: Some(SchemaValue {
            subject: subject.to_owned(),
            version,
            id,
            schema_type: AVRO.to_owned(),
            references: Vec::new(),
            schema: format!(r#"{{"type":"fixed","name":"F{id}","size":1}}"#),
            deleted: false,
        }),
    };
    let mut state = State::default();
    state.apply(schema("a", 1, 1));
    let a = state.generation("a");
    state.apply(schema("b", 1, 2));
    assert_eq!(state.generation("a"), a, "another subject changed");
    state.apply(Record::Config {
        subject: Some("a".to_owned()),
        level: Some("NONE".to_owned()),
    });
    let a2 = state.generation("a");
    assert_ne!(a2, a, "the subject's level changed");
    state.apply(Record::Mode {
        subject: None,
        mode: Some("READONLY".to_owned()),
    });
    assert_ne!(state.generation("a"), a2, "the global mode changed");
    let current = state.generation("a");

    let mut rebuilt = State::continuing_from(state.clock());
    for r in [schema("a", 1, 1), schema("b", 1, 2)] {
        rebuilt.apply(r);
    }
    assert_ne!(rebuilt.generation("a"), current, "rebuilt from the store");
}
