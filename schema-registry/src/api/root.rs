//! `/` and `/contexts`: Confluent's root resource (an empty object, which clients and load
//! balancers use as a liveness check) and the list of schema contexts. Runnel has one context,
//! the default one, `"."`, holding every subject.

use std::sync::Arc;

use axum::extract::FromRef;
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

/// The registry's root: `{}`, as Confluent's registry answers.
#[utoipa::path(
    get,
    path = "/",
    operation_id = "sr_root",
    responses((status = 200, description = "An empty object", body = Root, content_type = "application/vnd.schemaregistry.v1+json", example = json!({}))),
)]
pub(super) async fn root() -> SrJson<Root> {
    SrJson(Root {})
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
