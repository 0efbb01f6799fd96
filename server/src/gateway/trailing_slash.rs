//! Trailing slashes on request paths: `POST /consumers/g/` is served as `POST /consumers/g`.
//!
//! Confluent's REST Proxy and Schema Registry (JAX-RS) match a path with or without a trailing
//! slash, and clients written for them send either. axum matches paths exactly, so the path is
//! normalised once, before routing, for every route (REST Proxy v2 and v3, the registry, the
//! WebSocket upgrades) instead of registering each route twice. Query strings are kept.
//!
//! Deliberately left alone: `/` itself, and Swagger UI under `/docs/`, whose page lives at the
//! slash form (its router redirects `/docs` to `/docs/`, so trimming would loop;
//! `openapi_doc.rs` tests that the page answers).

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use axum::http::uri::PathAndQuery;
use tower::ServiceExt as _;

use super::openapi_doc::DOCS_PATH;

/// `router`, answering every path with trailing slashes as the path without them.
pub(super) fn accept(router: Router) -> Router {
    // The outer router has no routes: every request goes to the fallback, after the rewrite.
    Router::new().fallback_service(router.map_request(trim))
}

/// The request with its path's trailing slashes removed, when there are any to remove.
fn trim(mut req: Request) -> Request {
    if let Some(uri) = trimmed(req.uri()) {
        *req.uri_mut() = uri;
    }
    req
}

/// The URI without its path's trailing slashes, or `None` when it stays as it is.
fn trimmed(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    if path.len() <= 1 || !path.ends_with('/') || is_docs(path) {
        return None;
    }
    let path = match path.trim_end_matches('/') {
        "" => "/",
        p => p,
    };
    let path_and_query = match uri.query() {
        Some(q) => PathAndQuery::try_from(format!("{path}?{q}")),
        None => PathAndQuery::try_from(path),
    }
    .ok()?;
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query);
    Uri::from_parts(parts).ok()
}

fn is_docs(path: &str) -> bool {
    path.strip_prefix(DOCS_PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(uri: &str) -> String {
        let uri: Uri = uri.parse().expect("uri");
        trimmed(&uri).unwrap_or(uri).to_string()
    }

    #[test]
    fn trailing_slashes_are_removed_and_the_query_kept() {
        assert_eq!(after("/consumers/g/"), "/consumers/g");
        assert_eq!(after("/topics//"), "/topics");
        assert_eq!(
            after("/consumers/g/instances/i/records/?timeout=5"),
            "/consumers/g/instances/i/records?timeout=5"
        );
        assert_eq!(after("http://h:1/v3/clusters/"), "http://h:1/v3/clusters");
    }

    #[test]
    fn root_docs_and_paths_without_a_slash_stay() {
        for uri in ["/", "/topics", "/docs/", "/docs/index.html", "/topics?x=/"] {
            assert_eq!(after(uri), uri);
        }
        assert_eq!(after("/docsets/"), "/docsets");
    }

    #[tokio::test]
    async fn the_router_answers_a_path_with_a_trailing_slash_as_without() {
        use axum::http::{Method, StatusCode};
        use serde_json::json;

        use crate::gateway::testing::TestGateway;

        let gw = TestGateway::new().await;
        gw.create_topic("t", 1);
        assert_eq!(gw.get("/topics/").await, (StatusCode::OK, json!(["t"])));
        let (status, body) = gw
            .call(Method::POST, "/consumers/g/", Some(json!({"name": "c"})))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = gw.get("/consumers/g/instances/c/assignments/").await;
        assert_eq!((status, body), (StatusCode::OK, json!({"partitions": []})));
    }
}
