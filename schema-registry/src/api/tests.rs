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
    let (router, _) = routes::<()>().split_for_parts();
    router.layer(axum::Extension(Arc::new(registry)))
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    ct: Option<&str>,
    body: &str,
) -> (StatusCode, Option<String>, Value) {
    let mut req = Request::builder().method(method).uri(uri);
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
        let (status, answer_ct, v) = call(&app, "POST", "/subjects/s/versions", ct, &body).await;
        assert_eq!(status, StatusCode::OK, "{ct:?}: {v}");
        assert_eq!(answer_ct.as_deref(), Some(MEDIA_TYPE));
        assert_eq!(v, json!({"id": 1}));
    }
    let (status, _, v) = call(
        &app,
        "POST",
        "/subjects/s/versions",
        Some("text/plain"),
        &body,
    )
    .await;
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
    let (status, _, v) = call(
        &app,
        "POST",
        "/subjects/s/versions",
        Some("application/json"),
        &huge,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error_code"], 42209);
}

#[tokio::test]
async fn a_router_without_the_registry_answers_500_in_our_format() {
    let (router, _) = routes::<()>().split_for_parts();
    let (status, _, v) = call(&router, "GET", "/subjects", None, "").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(v["error_code"], 50001);
}

#[test]
fn the_document_lists_every_operation_under_the_tag() {
    let (_, doc) = routes::<()>().split_for_parts();
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
    assert_eq!(operations, 28);
    assert!(doc.tags.unwrap().iter().any(|t| t.name == TAG));
}
