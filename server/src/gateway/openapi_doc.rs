//! The OpenAPI document: assembled from the handlers' `#[utoipa::path]`s by [`super::api`],
//! completed here with the answers the middleware gives any operation, served at
//! `/openapi.json`, and browsable at `/docs/` (Swagger UI, shipped inside the binary by
//! `utoipa-swagger-ui`'s `vendored` feature: no CDN, nothing fetched at build or run time).
//!
//! The committed `openapi/openapi.json` is this document, pretty-printed with a trailing
//! newline; a test fails when they differ. `UPDATE_OPENAPI=1 cargo test -p runnel openapi`
//! rewrites the file.

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::state::AppState;

/// Where Swagger UI is served.
pub const DOCS_PATH: &str = "/docs";

/// The document, complete: every route's operation plus the middleware's answers.
pub fn document() -> OpenApi {
    let (_, mut doc) = super::api();
    add_middleware_responses(&mut doc);
    doc
}

/// The document as committed and served: pretty JSON with a trailing newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the document: {e}\"}}"));
    json.push('\n');
    json
}

/// Built once: the document never changes while the process runs.
static DOCUMENT_JSON: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(document_json()));

/// The routes serving the document and Swagger UI.
pub fn routes() -> Router<AppState> {
    Router::from(SwaggerUi::new(DOCS_PATH).config(Config::from("/openapi.json")))
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "operations",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)),
)]
pub async fn openapi_json() -> Response {
    (
        [(CONTENT_TYPE, "application/json")],
        String::from(&**DOCUMENT_JSON),
    )
        .into_response()
}

/// Answers no handler documents because layers give them: 429 from load shedding on any
/// operation, 413 from the body limit on any operation that takes a body.
fn add_middleware_responses(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            add_error(
                op,
                "429",
                "Too many requests in flight (`limits.max_concurrent_requests`): 42901",
            );
            if op.request_body.is_some() {
                add_error(
                    op,
                    "413",
                    "Request body larger than `limits.max_request_body` (413)",
                );
            }
        }
    }
}

fn add_error(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        });
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use axum::http::StatusCode;
    use serde_json::Value;

    use super::*;
    use crate::gateway::testing::TestGateway;

    fn committed_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json")
    }

    /// The committed document is what the code generates. Regenerate it with
    /// `UPDATE_OPENAPI=1 cargo test -p runnel openapi`.
    #[test]
    fn openapi_json_is_committed_and_current() {
        let generated = document_json();
        let path = committed_path();
        if std::env::var_os("UPDATE_OPENAPI").is_some_and(|v| v == "1") {
            std::fs::write(&path, &generated).expect("write openapi/openapi.json");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            let line = committed
                .lines()
                .zip(generated.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()))
                + 1;
            panic!(
                "openapi/openapi.json differs from the document the code generates \
                 (first difference at line {line}).\n\
                 If the API change is intended, regenerate it with\n\n    \
                 UPDATE_OPENAPI=1 cargo test -p runnel openapi\n\n\
                 and commit openapi/openapi.json."
            );
        }
    }

    #[test]
    fn every_operation_is_tagged_identified_and_answers_errors_in_our_format() {
        let doc: Value = serde_json::from_str(&document_json()).expect("document is JSON");
        let tags: BTreeSet<&str> = doc["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let at = format!("{method} {path}");
                let id = op["operationId"].as_str().expect("operationId");
                assert!(ids.insert(id.to_owned()), "{at}: operationId {id} twice");
                let tag = op["tags"][0].as_str().unwrap_or_default();
                assert!(tags.contains(tag), "{at}: tag '{tag}' not in the skeleton");
                let responses = op["responses"].as_object().expect("responses");
                assert!(responses.contains_key("429"), "{at}: no 429");
                for (status, response) in responses {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert_eq!(
                            response["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ErrorBody",
                            "{at}: {status} is not an ErrorBody"
                        );
                    }
                }
                if path.contains('{') {
                    assert!(responses.contains_key("404"), "{at}: no 404");
                }
            }
        }
        // Every reference resolves.
        let text = doc.to_string();
        for name in text
            .split("\"#/components/schemas/")
            .skip(1)
            .filter_map(|s| s.split('"').next())
        {
            assert!(schemas.contains_key(name), "dangling $ref {name}");
        }
    }

    #[tokio::test]
    async fn the_document_and_swagger_ui_are_served() {
        let gw = TestGateway::new().await;
        let (status, body) = gw.get("/openapi.json").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["info"]["title"], "Runnel");
        assert_eq!(body, serde_json::to_value(document()).expect("json"));

        let response = tower::ServiceExt::oneshot(
            gw.router.clone(),
            axum::http::Request::get("/docs/")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        let html = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        assert!(String::from_utf8_lossy(&html).contains("swagger-ui"));
    }
}
