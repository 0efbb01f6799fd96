//! `/` and `/contexts`: Confluent's root resource (an empty object, which clients and load
//! balancers use as a liveness check) and the list of schema contexts. Runnel has one context,
//! the default one, `"."`, holding every subject.
//!
//! A browser asking for `/` (its `Accept` ranks `text/html` first and names no JSON type) is
//! sent to the web UI at `/ui/` instead; every other client keeps the `{}`.

use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::HeaderMap;
use axum::http::header::ACCEPT;
use axum::response::{IntoResponse, Redirect, Response};
use runnel_openapi::ErrorBody;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::Registry;

use super::{SrJson, SrQuery};

pub(super) fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Registry>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(root))
        .routes(routes!(list_contexts))
}

/// The default context, the only one.
const DEFAULT_CONTEXT: &str = ".";

/// The root resource's answer: an empty object.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Root {}

/// Query of `GET /contexts`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ContextsQuery {
    /// Only contexts starting with this.
    #[serde(rename = "contextPrefix")]
    #[param(rename = "contextPrefix")]
    context_prefix: Option<String>,
    /// Contexts to skip from the start of the list; a negative one counts as 0.
    offset: Option<i32>,
    /// Most contexts to answer; absent, 0 or negative: all of them.
    limit: Option<i32>,
}

/// Where a browser asking for `/` goes: the web UI, served by the same binary.
const UI_PAGE: &str = "/ui/";

/// The registry's root: `{}`, as Confluent's registry answers; a browser goes to the web UI.
#[utoipa::path(
    get,
    path = "/",
    operation_id = "sr_root",
    responses(
        (status = 200, description = "An empty object", body = Root, content_type = "application/vnd.schemaregistry.v1+json", example = json!({})),
        (status = 303, description = "A browser (`Accept` ranks `text/html` above `*/*` and names no JSON type) is sent to the web UI at `/ui/`", headers(("Location" = String, description = "`/ui/`"))),
    ),
)]
pub(super) async fn root(headers: HeaderMap) -> Response {
    if prefers_html(&headers) {
        Redirect::to(UI_PAGE).into_response()
    } else {
        SrJson(Root {}).into_response()
    }
}

/// Whether `Accept` is a browser's navigation: it ranks `text/html` above any range (`*/*`,
/// `application/*`) and names no JSON type. A client that names a JSON type asked for JSON,
/// whatever else it ranks higher (the registry's clients, and its conformance tests, do).
fn prefers_html(headers: &HeaderMap) -> bool {
    let mut html = 0.0_f32;
    let mut range = 0.0_f32;
    for item in headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if media == "text/html" {
            html = html.max(q);
        } else if media == "*/*" || media == "application/*" {
            range = range.max(q);
        } else if media.ends_with("json") && q > 0.0 {
            return false;
        }
    }
    html > range
}

/// The schema contexts: only the default one, `"."`.
#[utoipa::path(
    get,
    path = "/contexts",
    operation_id = "sr_list_contexts",
    params(ContextsQuery),
    responses(
        (status = 200, description = "Context names", body = Vec<String>, content_type = "application/vnd.schemaregistry.v1+json", example = json!(["."])),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
    ),
)]
pub(super) async fn list_contexts(SrQuery(q): SrQuery<ContextsQuery>) -> SrJson<Vec<&'static str>> {
    let offset = q.offset.and_then(|o| usize::try_from(o).ok()).unwrap_or(0);
    let limit = q
        .limit
        .and_then(|l| usize::try_from(l).ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    SrJson(
        [DEFAULT_CONTEXT]
            .into_iter()
            .filter(|c| c.starts_with(q.context_prefix.as_deref().unwrap_or("")))
            .skip(offset)
            .take(limit)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(ACCEPT, v);
        }
        headers
    }

    #[test]
    fn browsers_prefer_html_and_api_clients_do_not() {
        assert!(prefers_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(!prefers_html(&accept("*/*")));
        assert!(!prefers_html(&accept("application/json")));
        assert!(!prefers_html(&accept("text/html;q=0.5, application/json")));
        assert!(!prefers_html(&accept(
            "text/html;q=0.9, application/json;q=0.5, */*;q=0.1"
        )));
        assert!(!prefers_html(&accept("text/html;q=0.5, */*")));
        assert!(!prefers_html(&accept(
            "application/vnd.schemaregistry.v1+json, text/html"
        )));
    }
}
