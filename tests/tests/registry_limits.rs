//! The schema registry's limits through the real server (issue 9, item 8): a schema at the size
//! limit fits its `_schemas` record or is refused with 42209, never a 500; one slow
//! compatibility check does not hold registrations to other subjects; concurrent registrations
//! keep versions consecutive and ids unique, restarts included.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::{Runnel, SR, assert_error, status_json};

async fn register(r: &Runnel, subject: &str, schema: &str) -> (u16, Value) {
    let body = json!({ "schema": schema });
    r.sr_call(
        "POST",
        &format!("/subjects/{subject}/versions"),
        Some(&body),
    )
    .await
}

async fn register_ok(r: &Runnel, subject: &str, schema: &str) -> (i64, i64) {
    let (status, body) = register(r, subject, schema).await;
    assert_eq!(status, 200, "register under {subject}: {body}");
    let id = body["id"].as_i64().expect("id");
    let (status, found) = r
        .sr_call(
            "POST",
            &format!("/subjects/{subject}"),
            Some(&json!({ "schema": schema })),
        )
        .await;
    assert_eq!(status, 200, "look up under {subject}: {found}");
    (id, found["version"].as_i64().expect("version"))
}

async fn set_level(r: &Runnel, subject: &str, level: &str) {
    let (status, body) = r
        .sr_call(
            "PUT",
            &format!("/config/{subject}"),
            Some(&json!({ "compatibility": level })),
        )
        .await;
    assert_eq!(status, 200, "PUT /config/{subject}: {body}");
}

/// A record whose `doc` is `backslashes` backslashes: each is two characters in the schema
/// text (`\\`) and four once the text is itself a JSON string in a `_schemas` record, so the
/// record is about twice the schema.
fn backslash_schema(name: &str, text_bytes: usize) -> String {
    let frame = format!(r#"{{"type":"record","name":"{name}","doc":"","fields":[]}}"#);
    let backslashes = (text_bytes - frame.len()) / 2;
    format!(
        r#"{{"type":"record","name":"{name}","doc":"{}","fields":[]}}"#,
        "\\\\".repeat(backslashes)
    )
}

/// A record of `fields` int fields, plus `extra` newer fields with defaults: each `extra` is
/// FULL compatible with the others.
fn wide_record(fields: usize, extra: usize) -> String {
    let mut all: Vec<String> = (0..fields)
        .map(|i| format!(r#"{{"name":"f{i}","type":"int"}}"#))
        .collect();
    all.extend((0..extra).map(|i| format!(r#"{{"name":"x{i}","type":"int","default":0}}"#)));
    format!(
        r#"{{"type":"record","name":"Wide","fields":[{}]}}"#,
        all.join(",")
    )
}

/// Regression, issue 9: a schema just under the 1 MiB limit passed the size check, then its
/// `_schemas` record (the text JSON-escaped: about 2 MiB) exceeded the topic's batch limit and
/// the registration failed with 500. `_schemas` is now sized for the largest record the limits
/// allow: the schema registers, reads back whole, and survives a restart, and the registry keeps
/// working after it.
#[tokio::test]
async fn a_schema_just_under_the_size_limit_registers_and_survives_a_restart() {
    let mut r = Runnel::start().await;
    let schema = backslash_schema("Big", 1024 * 1024 - 16);
    assert!(schema.len() <= 1024 * 1024 && schema.len() > 1024 * 1024 - 64);

    let (id, version) = register_ok(&r, "big-value", &schema).await;
    assert_eq!(version, 1);
    let read_back = |r: &Runnel| {
        let path = format!("/schemas/ids/{id}");
        let url = r.url(&path);
        let http = r.http.clone();
        async move { status_json(http.get(url).send().await.expect("GET")).await }
    };
    let (status, body) = read_back(&r).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["schema"].as_str(), Some(schema.as_str()));

    // The registry still takes writes, and the topic grew for the record.
    let (small, _) = register_ok(&r, "small-value", r#""string""#).await;
    assert!(small > id);
    let cid = r.cluster_id().await;
    let (status, config) = r
        .get_json(&format!(
            "/v3/clusters/{cid}/topics/_schemas/configs/max.message.bytes"
        ))
        .await;
    assert_eq!(status, 200, "{config}");
    let max: usize = config["value"]
        .as_str()
        .expect("value")
        .parse()
        .expect("int");
    assert!(max > 2 * 1024 * 1024, "max.message.bytes {max}");

    r.restart().await;
    let (status, body) = read_back(&r).await;
    assert_eq!(status, 200, "after a restart: {body}");
    assert_eq!(body["schema"].as_str(), Some(schema.as_str()));
    let (again, _) = register_ok(&r, "small2-value", r#""long""#).await;
    assert!(again > small, "ids keep growing after the restart");
    r.assert_no_panic();
}

/// A `_schemas` topic a client shrank at run time cannot hold a large schema's record: the
/// registration is refused with 42209 (not a failed append and a 500), the registry keeps
/// working, and the next start raises the topic back so the same schema then registers.
#[tokio::test]
async fn a_schema_record_too_large_for_the_schemas_topic_is_refused_with_42209() {
    let mut r = Runnel::start().await;
    register_ok(&r, "first-value", r#""string""#).await;
    let cid = r.cluster_id().await;
    let config_path = format!("/v3/clusters/{cid}/topics/_schemas/configs/max.message.bytes");
    let resp = r
        .http
        .put(r.url(&config_path))
        .header("Content-Type", "application/json")
        .body(json!({"value": "100000"}).to_string())
        .send()
        .await
        .expect("PUT");
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 204, "shrink _schemas: {body}");

    let schema = backslash_schema("Mid", 80_000);
    let refused = register(&r, "mid-value", &schema).await;
    assert_error("a record over the topic's limit", &refused, 422, 42209);
    // Nothing half-written: the subject does not exist, and other writes go on.
    let (status, _) = r.get_json("/subjects/mid-value/versions").await;
    assert_eq!(status, 404);
    let (id, _) = register_ok(&r, "second-value", r#""int""#).await;
    let refused = register(&r, "mid-value", &schema).await;
    assert_error("refused again", &refused, 422, 42209);

    r.restart().await;
    let (mid, version) = register_ok(&r, "mid-value", &schema).await;
    assert_eq!(version, 1);
    assert!(mid > id);
    r.assert_no_panic();
}

/// Regression, issue 9: one FULL_TRANSITIVE registration of wide schemas held the single
/// writer through its whole compatibility check, so every other registration waited for it.
/// Now the check runs holding only its subject's lock: while the slow registration on one
/// subject is under way, registrations on another subject keep completing.
#[tokio::test]
async fn a_slow_compatibility_check_does_not_hold_other_subjects() {
    // Many versions of moderate width: the check (against every version, both ways) is long,
    // while the request itself is small, so it reaches the registry quickly.
    const FIELDS: usize = 4_000;
    const VERSIONS: usize = 40;
    let r = Arc::new(Runnel::start().await);
    // Build the history without checks, then make the next registration check all of it.
    set_level(&r, "wide-value", "NONE").await;
    for extra in 0..VERSIONS {
        register_ok(&r, "wide-value", &wide_record(FIELDS, extra)).await;
    }
    set_level(&r, "wide-value", "FULL_TRANSITIVE").await;

    let slow = {
        let r = Arc::clone(&r);
        tokio::spawn(
            async move { register(&r, "wide-value", &wide_record(FIELDS, VERSIONS)).await },
        )
    };
    let mut completed_meanwhile = 0;
    let mut i = 0;
    while !slow.is_finished() {
        let schema = format!(r#"{{"type":"record","name":"Small{i}","fields":[]}}"#);
        let (status, body) = register(&r, &format!("small-{i}-value"), &schema).await;
        assert_eq!(status, 200, "{body}");
        if !slow.is_finished() {
            completed_meanwhile += 1;
        }
        i += 1;
    }
    let (status, body) = slow.await.expect("slow registration");
    assert_eq!(status, 200, "the slow registration: {body}");
    // Before the fix, only the registrations that got in before the slow one took the writer
    // completed (2 or 3 in trials); now the check lets dozens to hundreds through.
    assert!(
        completed_meanwhile >= 20,
        "only {completed_meanwhile} registrations on other subjects completed while the \
         FULL_TRANSITIVE check ran"
    );
    r.assert_no_panic();
}

/// Registrations racing on one subject get consecutive versions; racing on many subjects,
/// distinct ids; and a restart keeps all of them.
#[tokio::test]
async fn concurrent_registrations_keep_versions_consecutive_and_ids_unique() {
    let mut r = Runnel::start().await;
    let shared = Arc::new(r.http.clone());
    let url = r.url("");
    let mut tasks = Vec::new();
    for i in 0..16 {
        let http = Arc::clone(&shared);
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            // Half on one subject (each adds a defaulted field: BACKWARD compatible), half on
            // subjects of their own.
            let (subject, schema) = if i % 2 == 0 {
                ("same-value".to_owned(), wide_record(1, i))
            } else {
                (
                    format!("own-{i}-value"),
                    format!(r#"{{"type":"record","name":"Own{i}","fields":[]}}"#),
                )
            };
            let resp = http
                .post(format!("{url}/subjects/{subject}/versions"))
                .header("Content-Type", SR)
                .body(json!({ "schema": schema }).to_string())
                .send()
                .await
                .expect("POST");
            let (status, body) = status_json(resp).await;
            assert_eq!(status, 200, "{subject}: {body}");
            body["id"].as_i64().expect("id")
        }));
    }
    let mut ids = BTreeSet::new();
    for task in tasks {
        assert!(
            ids.insert(task.await.expect("task")),
            "an id was handed out twice"
        );
    }
    let versions = |r: &Runnel| {
        let url = r.url("/subjects/same-value/versions");
        let http = r.http.clone();
        async move { status_json(http.get(url).send().await.expect("GET")).await }
    };
    let (status, body) = versions(&r).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!([1, 2, 3, 4, 5, 6, 7, 8]));

    r.restart().await;
    assert_eq!(versions(&r).await.1, json!([1, 2, 3, 4, 5, 6, 7, 8]));
    let (next, _) = register_ok(&r, "after-value", r#""bytes""#).await;
    assert!(ids.iter().all(|id| *id < next), "ids are never reused");
    r.assert_no_panic();
}
