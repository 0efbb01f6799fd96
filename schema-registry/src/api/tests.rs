//! The router in-process over a memory store (`ServiceExt::oneshot`): content types, error
//! bodies, and a registry that was not mounted. The full contract runs through the real server
//! in `tests/tests/schema_registry.rs`.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use super::*;
use crate::registry::RegistryConfig;
use crate::store::MemoryStore;

async fn app() -> Router {
    let registry = Registry::open(Arc::new(MemoryStore::new()), RegistryConfig::default())
        .await
        .unwrap();
    let (router, _) = routes::<Arc<Registry>>().split_for_parts();
    router.with_state(Arc::new(registry))
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    ct: Option<&str>,
    body: &str,
) -> (StatusCode, Option<String>, Value) {
    call_accepting(app, method, uri, ct, body, None).await
}

/// A registration under subject `s`.
async fn register(
    app: &Router,
    ct: Option<&str>,
    body: &str,
) -> (StatusCode, Option<String>, Value) {
    call(app, "POST", "/subjects/s/versions", ct, body).await
}

async fn call_accepting(
    app: &Router,
    method: &str,
    uri: &str,
    ct: Option<&str>,
    body: &str,
    accept: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(accept) = accept {
        req = req.header(header::ACCEPT, accept);
    }
    if let Some(ct) = ct {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    req = req.header(header::CONTENT_LENGTH, body.len());
    let response = app
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let ct = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, ct, value)
}

#[tokio::test]
async fn every_accepted_content_type_registers_and_answers_in_the_registry_type() {
    let app = app().await;
    let body = json!({"schema": "\"string\""}).to_string();
    for ct in [
        Some("application/vnd.schemaregistry.v1+json"),
        Some("application/vnd.schemaregistry+json"),
        Some("application/json; charset=utf-8"),
        Some("application/octet-stream"),
        None,
    ] {
        let (status, answer_ct, v) = register(&app, ct, &body).await;
        assert_eq!(status, StatusCode::OK, "{ct:?}: {v}");
        assert_eq!(answer_ct.as_deref(), Some(MEDIA_TYPE));
        assert_eq!(v, json!({"id": 1}));
    }
    let (status, _, v) = register(&app, Some("text/plain"), &body).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(v["error_code"], 415);
}

#[tokio::test]
async fn bodies_and_paths_fail_in_confluent_shapes() {
    let app = app().await;
    let cases = [
        ("POST", "/subjects/s/versions", "", 400),
        ("POST", "/subjects/s/versions", "{", 400),
        ("POST", "/subjects/s/versions", "[]", 422),
        ("POST", "/subjects/s/versions", r#"{"schema": 5}"#, 422),
        ("POST", "/subjects/s/versions", r#"{"schema": "{"}"#, 42201),
        ("GET", "/subjects/s/versions/0", "", 42202),
        ("GET", "/subjects/s/versions/abc", "", 42202),
        ("GET", "/subjects/s/versions/1", "", 40401),
        ("GET", "/schemas/ids/7", "", 40403),
        ("GET", "/schemas/ids/abc", "", 404),
        ("GET", "/subjects?deleted=maybe", "", 400),
        ("PUT", "/config", r#"{"compatibility": "SIDEWAYS"}"#, 42203),
        ("PUT", "/mode", r#"{"mode": "WRITEONLY"}"#, 42204),
        ("GET", "/config/s", "", 40408),
        ("GET", "/mode/s", "", 40409),
    ];
    for (method, uri, body, code) in cases {
        let ct = (!body.is_empty()).then_some("application/json");
        let (status, _, v) = call(&app, method, uri, ct, body).await;
        assert_eq!(v["error_code"], code, "{method} {uri} {body}: {status} {v}");
        assert!(v["message"].is_string());
        let expected_status = if code >= 1000 { code / 100 } else { code };
        assert_eq!(status.as_u16(), expected_status, "{method} {uri}");
    }
}

#[tokio::test]
async fn a_body_over_the_request_limit_is_refused_unread() {
    let app = app().await;
    let huge = format!(r#"{{"schema": "\"{}\""}}"#, "x".repeat(10 << 20));
    let (status, _, v) = register(&app, Some("application/json"), &huge).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error_code"], 42209);
}

#[test]
fn the_document_lists_every_operation_under_the_tag() {
    let (_, doc) = routes::<Arc<Registry>>().split_for_parts();
    let mut operations = 0;
    for item in doc.paths.paths.values() {
        for op in [&item.get, &item.put, &item.post, &item.delete]
            .into_iter()
            .flatten()
        {
            operations += 1;
            assert_eq!(op.tags.as_deref(), Some(&[TAG.to_owned()][..]));
        }
    }
    assert_eq!(operations, 31);
    assert!(doc.tags.unwrap().iter().any(|t| t.name == TAG));
}

#[test]
fn the_document_offers_every_answer_type_and_a_406_on_each_operation() {
    let (_, doc) = routes::<Arc<Registry>>().split_for_parts();
    for (path, item) in &doc.paths.paths {
        for op in [&item.get, &item.put, &item.post, &item.delete]
            .into_iter()
            .flatten()
        {
            let responses = &op.responses.responses;
            assert!(responses.contains_key("406"), "{path}: no 406");
            let Some(utoipa::openapi::RefOr::T(ok)) = responses.get("200") else {
                panic!("{path}: no 200");
            };
            let types: Vec<&str> = ok.content.keys().map(String::as_str).collect();
            let expected: Vec<&str> = negotiate::ANSWER_TYPES.iter().map(|(t, _)| *t).collect();
            assert_eq!(types, expected, "{path}");
        }
    }
}

#[tokio::test]
async fn the_answer_content_type_follows_accept_on_success_and_error() {
    let app = app().await;
    for (accept, expected) in [
        (None, MEDIA_TYPE),
        (Some("*/*"), MEDIA_TYPE),
        (Some("application/json"), "application/json"),
        (
            Some("application/vnd.schemaregistry+json"),
            "application/vnd.schemaregistry+json",
        ),
        (
            Some("application/vnd.schemaregistry.v1+json;q=0.2, application/json;q=0.8"),
            "application/json",
        ),
    ] {
        let (status, ct, v) = call_accepting(&app, "GET", "/subjects", None, "", accept).await;
        assert_eq!(status, StatusCode::OK, "{accept:?}: {v}");
        assert_eq!(ct.as_deref(), Some(expected), "{accept:?}");
        let (status, ct, v) = call_accepting(&app, "GET", "/schemas/ids/9", None, "", accept).await;
        assert_eq!(
            (status, v["error_code"].as_u64()),
            (StatusCode::NOT_FOUND, Some(40403))
        );
        assert_eq!(ct.as_deref(), Some(expected), "error under {accept:?}");
    }
}

#[tokio::test]
async fn an_unacceptable_accept_is_406_before_the_handler_runs() {
    let app = app().await;
    let body = json!({"schema": "\"string\""}).to_string();
    for accept in ["text/html", "application/xml;q=1, application/json;q=0"] {
        let (status, ct, v) = call_accepting(
            &app,
            "POST",
            "/subjects/s/versions",
            Some("application/json"),
            &body,
            Some(accept),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "{accept}");
        assert_eq!(ct.as_deref(), Some("application/json"));
        assert_eq!(
            v,
            json!({"error_code": 406, "message": "HTTP 406 Not Acceptable"})
        );
    }
    let (_, _, subjects) = call(&app, "GET", "/subjects", None, "").await;
    assert_eq!(subjects, json!([]), "the refused registration did not run");
}

#[tokio::test]
async fn root_answers_an_empty_object_and_contexts_the_default_one() {
    let app = app().await;
    let (status, ct, v) = call(&app, "GET", "/", None, "").await;
    assert_eq!(
        (status, ct.as_deref(), v),
        (StatusCode::OK, Some(MEDIA_TYPE), json!({}))
    );
    let (status, _, v) = call(&app, "GET", "/contexts", None, "").await;
    assert_eq!((status, v), (StatusCode::OK, json!(["."])));
    let (_, _, v) = call(&app, "GET", "/contexts?contextPrefix=.x", None, "").await;
    assert_eq!(v, json!([]));
    let (_, _, v) = call(&app, "GET", "/contexts?offset=1", None, "").await;
    assert_eq!(v, json!([]));
}

#[tokio::test]
async fn confluent_texts_for_an_invalid_level_and_an_empty_schema() {
    let app = app().await;
    let (status, _, v) = call(
        &app,
        "PUT",
        "/config",
        Some("application/json"),
        r#"{"compatibility": "SIDEWAYS"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        v,
        json!({"error_code": 42203, "message": "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"})
    );
    for uri in [
        "/subjects/s/versions",
        "/compatibility/subjects/s/versions",
        "/compatibility/subjects/s/versions/latest",
    ] {
        for schema in ["", "  \n"] {
            let body = json!({ "schema": schema }).to_string();
            let (status, _, v) = call(&app, "POST", uri, Some("application/json"), &body).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
            assert_eq!(
                v,
                json!({"error_code": 42201, "message": "Empty schema"}),
                "{uri}"
            );
        }
    }
}

#[tokio::test]
async fn schemas_lists_versions_by_subject_without_the_avro_type() {
    let app = app().await;
    let ct = Some("application/json");
    let register = |subject: &'static str, schema: &'static str| {
        let app = app.clone();
        async move {
            let body = json!({ "schema": schema }).to_string();
            let uri = format!("/subjects/{subject}/versions");
            let (status, _, v) = call(&app, "POST", &uri, ct, &body).await;
            assert_eq!(status, StatusCode::OK, "{v}");
        }
    };
    register("b-value", "\"string\"").await;
    let (status, _, v) = call(
        &app,
        "PUT",
        "/config/a-value",
        ct,
        r#"{"compatibility":"NONE"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    register("a-value", "\"long\"").await;
    register("a-value", "\"int\"").await;
    let (status, _, all) = call(&app, "GET", "/schemas", None, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        all,
        json!([
            {"subject": "a-value", "version": 1, "id": 2, "schema": "\"long\""},
            {"subject": "a-value", "version": 2, "id": 3, "schema": "\"int\""},
            {"subject": "b-value", "version": 1, "id": 1, "schema": "\"string\""},
        ])
    );
    let subjects = |v: &Value| -> Vec<(String, u64)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["subject"].as_str().unwrap().to_owned(),
                    s["version"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let (_, _, v) = call(&app, "GET", "/schemas?subjectPrefix=a-", None, "").await;
    assert_eq!(subjects(&v), [("a-value".into(), 1), ("a-value".into(), 2)]);
    let (_, _, v) = call(&app, "GET", "/schemas?latestOnly=true", None, "").await;
    assert_eq!(subjects(&v), [("a-value".into(), 2), ("b-value".into(), 1)]);
    let (_, _, v) = call(&app, "GET", "/schemas?offset=1&limit=1", None, "").await;
    assert_eq!(subjects(&v), [("a-value".into(), 2)]);
    let (_, _, v) = call(&app, "GET", "/schemas?offset=-3&limit=0", None, "").await;
    assert_eq!(
        subjects(&v).len(),
        3,
        "out-of-range offset and limit fall back"
    );

    let (status, _, _) = call(&app, "DELETE", "/subjects/a-value/versions/2", None, "").await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, v) = call(&app, "GET", "/schemas?latestOnly=true", None, "").await;
    assert_eq!(subjects(&v), [("a-value".into(), 1), ("b-value".into(), 1)]);
    let (_, _, v) = call(
        &app,
        "GET",
        "/schemas?deleted=true&subjectPrefix=a",
        None,
        "",
    )
    .await;
    assert_eq!(subjects(&v), [("a-value".into(), 1), ("a-value".into(), 2)]);
    assert_eq!(v[1]["deleted"], true);
    let (_, _, v) = call(
        &app,
        "GET",
        "/schemas?latest_only=x&latestOnly=maybe",
        None,
        "",
    )
    .await;
    assert_eq!(v["error_code"], 400);
}

#[tokio::test]
async fn compatibility_against_a_version_the_registry_does_not_hold_is_40402() {
    let app = app().await;
    let ct = Some("application/json");
    let body = json!({"schema": "\"string\""}).to_string();
    // A subject that does not exist: a numbered version is not found; `latest` checks
    // against nothing (Confluent's `testCompatibilityNonExistentSubject`).
    let (status, _, v) = call(
        &app,
        "POST",
        "/compatibility/subjects/nope/versions/3",
        ct,
        &body,
    )
    .await;
    assert_eq!(
        (status, v["error_code"].as_u64()),
        (StatusCode::NOT_FOUND, Some(40402))
    );
    assert_eq!(v["message"], "Version 3 not found.");
    let (status, _, v) = call(
        &app,
        "POST",
        "/compatibility/subjects/nope/versions/latest",
        ct,
        &body,
    )
    .await;
    assert_eq!(
        (status, v),
        (StatusCode::OK, json!({"is_compatible": true}))
    );
    // An existing subject: the same.
    register(&app, ct, &body).await;
    let (status, _, v) = call(
        &app,
        "POST",
        "/compatibility/subjects/s/versions/2",
        ct,
        &body,
    )
    .await;
    assert_eq!(
        (status, v["error_code"].as_u64()),
        (StatusCode::NOT_FOUND, Some(40402))
    );
    let (status, _, v) = call(
        &app,
        "POST",
        "/compatibility/subjects/s/versions/1",
        ct,
        &body,
    )
    .await;
    assert_eq!(
        (status, v),
        (StatusCode::OK, json!({"is_compatible": true}))
    );
}

#[tokio::test]
async fn compatibility_under_a_chosen_level() {
    let app = app().await;
    let ct = Some("application/vnd.schemaregistry.v1+json");
    let schema = |fields: Value| {
        json!({ "schema": json!({ "type": "record", "name": "R", "fields": fields }).to_string() })
            .to_string()
    };
    let (status, _, _) =
        register(&app, ct, &schema(json!([{ "name": "a", "type": "long" }]))).await;
    assert_eq!(status, StatusCode::OK);
    // A new field without a default: readers of the new schema cannot read old data.
    let (status, _, _) = call(&app, "PUT", "/config/s", ct, r#"{"compatibility":"NONE"}"#).await;
    assert_eq!(status, StatusCode::OK);
    let candidate =
        schema(json!([{ "name": "a", "type": "long" }, { "name": "b", "type": "string" }]));
    for uri in [
        "/compatibility/subjects/s/versions",
        "/compatibility/subjects/s/versions/latest",
    ] {
        // Without `level`: the subject's level (NONE), as Confluent's registry answers.
        let (status, _, v) =
            call(&app, "POST", &format!("{uri}?verbose=true"), ct, &candidate).await;
        assert_eq!(
            (status, v["is_compatible"].clone()),
            (StatusCode::OK, json!(true)),
            "{uri}"
        );
        // Under BACKWARD: not compatible, and the message names the field.
        let (status, _, v) = call(
            &app,
            "POST",
            &format!("{uri}?verbose=true&level=backward"),
            ct,
            &candidate,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(v["is_compatible"], json!(false), "{uri}: {v}");
        assert!(
            v["messages"][0]
                .as_str()
                .is_some_and(|m| m.contains("The field 'b'")),
            "{uri}: {v}"
        );
        // Under FORWARD: old readers ignore the new field.
        let (status, _, v) = call(
            &app,
            "POST",
            &format!("{uri}?level=FORWARD"),
            ct,
            &candidate,
        )
        .await;
        assert_eq!(
            (status, v),
            (StatusCode::OK, json!({ "is_compatible": true })),
            "{uri}"
        );
        let (status, _, v) = call(
            &app,
            "POST",
            &format!("{uri}?level=sideways"),
            ct,
            &candidate,
        )
        .await;
        assert_eq!(
            (status, v["error_code"].as_u64()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(42203)),
            "{uri}"
        );
    }
    // The subject's level is unchanged by a check under another.
    let (_, _, v) = call(&app, "GET", "/config/s", None, "").await;
    assert_eq!(v, json!({ "compatibilityLevel": "NONE" }));
}
