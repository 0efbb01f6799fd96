//! The HTTP gateway: Confluent REST Proxy shapes over the broker, on one port.
//!
//! Grouped by API: `v1/` (Runnel's own: the cluster status), `v2/` (REST Proxy v2), `v3/` (REST Proxy v3) and `ws/` (WebSocket produce
//! and consume) are adapters that parse their wire format and render answers; what they share
//! sits here: the ingest pipeline (`ingest.rs`), record rendering of the read path (`read.rs`),
//! errors, extractors and the middleware.
//!
//! `router` merges one sub-router per API and the middleware stack (request slots and
//! long-polls in `slots.rs`, body size and rate in `body_guard.rs`, the read-memory budget in
//! `read_budget.rs`, request tracing). Handlers parse with `extract.rs` and fail with `errors.rs`, so every
//! error — a malformed body, a wrong content type, a path or query that does not parse, an
//! unknown route — answers in Confluent's `{"error_code", "message"}` format.
//!
//! Each resource file, named for its route, registers its handlers with `utoipa-axum`'s `OpenApiRouter`, and each
//! handler carries its `#[utoipa::path]`: the routes served and the OpenAPI document are built
//! from one list, so they cannot drift. [`api`] assembles both; `openapi_doc.rs` serves the
//! document at `/openapi.json` and Swagger UI (shipped inside the binary) at `/docs/`, and
//! tests it against the committed `openapi/openapi.json`.
//!
//! The WebSocket upgrades (`ws/`) are the only routes outside the document: OpenAPI cannot
//! describe what follows a `101 Switching Protocols`.
//!
//! The Confluent Schema Registry API (`/subjects`, `/schemas`, `/config`, `/mode`,
//! `/compatibility`) is the `runnel-schema-registry` crate's router, merged into [`api`]; its
//! handlers find the registry in the request extensions (`axum::Extension(Arc<Registry>)`,
//! added by `serve.rs`), and answer in its own error format, which is ours.

pub mod avro;
pub mod body_guard;
pub mod errors;
pub mod extract;
pub mod forward;
pub mod ingest;
pub mod json_value;
mod links;
pub mod listener;
pub mod metrics;
pub mod openapi_doc;
pub mod read;
pub mod read_budget;
#[cfg(test)]
mod read_path_tests;
pub mod slots;
pub mod state;
#[cfg(test)]
pub(crate) mod testing;
mod trailing_slash;
pub mod v1;
pub mod v2;
pub mod v3;
pub mod wire;
pub mod ws;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use serde::Serialize;
use tower_http::trace::TraceLayer;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::group::instances::InstanceSettings;
pub use errors::GatewayError;
pub use state::AppState;

/// Limits the gateway enforces, from the server config.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_request_body: usize,
    pub max_concurrent_requests: usize,
    pub max_records_per_request: usize,
    /// A v2 consumer instance idle this long is destroyed (`consumer_instance_timeout`).
    pub consumer_instance_timeout: std::time::Duration,
    /// Long-polls parked at once, apart from `max_concurrent_requests` (`slots.rs`).
    pub max_waiting_polls: usize,
    /// The minimum body rate (`body_guard.rs`).
    pub body_rate: body_guard::BodyRate,
    /// Memory all read responses may hold together, in bytes (`read_budget.rs`).
    pub read_memory: usize,
    /// Most bytes one read answers (Kafka's `fetch.max.bytes`).
    pub fetch_max_bytes: usize,
}

impl Limits {
    /// The gateway's limits from the `[limits]` table.
    pub fn from_config(
        http: &crate::config::HttpLimits,
        consumer_instance_timeout: std::time::Duration,
    ) -> Self {
        Limits {
            max_request_body: http.max_request_body.as_usize(),
            max_concurrent_requests: http.max_concurrent_requests,
            max_records_per_request: http.max_records_per_request,
            consumer_instance_timeout,
            max_waiting_polls: http.max_waiting_polls,
            body_rate: body_guard::BodyRate {
                grace: http.body_read_timeout,
                bytes_per_second: http.min_body_rate.as_u64(),
            },
            read_memory: http.read_memory.as_usize(),
            fetch_max_bytes: http.fetch_max_bytes.as_usize(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from_config(
            &crate::config::HttpLimits::default(),
            crate::group::instances::DEFAULT_INSTANCE_TIMEOUT,
        )
    }
}

/// Every documented route, and the OpenAPI document they make (before the responses the
/// middleware adds, see [`openapi_doc::document`]).
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    api_with(InstanceSettings::default())
}

/// The schema registry's routes, as axum matches them: they keep their own body limit and
/// error (42209), so [`body_guard::admit`] leaves their declared lengths alone.
fn registry_routes() -> std::collections::HashSet<String> {
    let (_, doc) = runnel_schema_registry::api::routes::<AppState>().split_for_parts();
    doc.paths.paths.into_keys().collect()
}

/// [`api`] with the server's consumer-instance settings.
fn api_with(consumer: InstanceSettings) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(runnel_openapi::skeleton())
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics::metrics_handler))
        .routes(routes!(openapi_doc::openapi_json))
        .merge(v2::routes(consumer))
        .merge(v3::routes())
        .merge(v1::routes())
        .merge(runnel_schema_registry::api::routes())
        .split_for_parts()
}

/// The whole HTTP API: the documented routes, the document and its browsable page, then the
/// middleware stack: tracing; the body limit, the read budget and the limits for handlers;
/// metrics; and admission (`body_guard.rs`: request slot, declared length, body rate)
/// innermost, where it sees the matched route. Outside it all, before routing, trailing
/// slashes come off the path (`trailing_slash.rs`).
pub fn router(state: AppState, limits: Limits) -> Router {
    let (api, _) = api_with(InstanceSettings {
        instance_timeout: limits.consumer_instance_timeout,
    });
    let budget = read_budget::ReadBudget::new(limits.read_memory, limits.fetch_max_bytes);
    let registry = Arc::new(registry_routes());
    let app = api
        .merge(openapi_doc::routes())
        .merge(ws::routes())
        .merge(crate::ui::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            forward::Routing {
                state,
                registry_routes: Arc::clone(&registry),
            },
            forward::route,
        ))
        .layer(axum::middleware::from_fn_with_state(
            body_guard::Admission {
                slots: slots::Slots::new(limits.max_concurrent_requests, limits.max_waiting_polls),
                rate: limits.body_rate,
                max_request_body: limits.max_request_body,
                own_body_limit: registry,
            },
            body_guard::admit,
        ))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::Extension(limits))
        .layer(axum::Extension(budget))
        .layer(DefaultBodyLimit::max(limits.max_request_body))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let matched = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("-", |p| p.as_str())
                    .to_owned();
                tracing::info_span!("http", method = %req.method(), route = %matched)
            }),
        );
    trailing_slash::accept(app)
}

/// The answer of `/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    status: &'static str,
}

/// The answer of `/ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    #[schema(example = "ready")]
    status: &'static str,
    cluster_id: String,
}

/// Liveness: the process answers HTTP.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "health",
    tag = "operations",
    responses((status = 200, description = "Alive", body = Health)),
)]
async fn health() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

/// Readiness: the broker has opened every log (the listener is bound only after that).
#[utoipa::path(
    get,
    path = "/ready",
    operation_id = "ready",
    tag = "operations",
    responses((status = 200, description = "Ready, with the cluster id", body = Ready)),
)]
async fn ready(axum::extract::State(state): axum::extract::State<AppState>) -> axum::Json<Ready> {
    axum::Json(Ready {
        status: "ready",
        cluster_id: state.broker.cluster_id().to_owned(),
    })
}

/// Any path no route serves: the generic 404 in our error format.
async fn not_found() -> GatewayError {
    GatewayError::NotFound
}

/// A served path with a method it does not take: 405 in our error format.
async fn method_not_allowed() -> GatewayError {
    GatewayError::MethodNotAllowed
}
