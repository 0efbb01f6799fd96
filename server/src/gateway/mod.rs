//! The HTTP gateway: Confluent REST Proxy shapes over the broker, on one port.
//!
//! `router` merges one sub-router per resource and the middleware stack (body limit, concurrency
//! limit, request tracing). Handlers parse with `extract.rs` and fail with `errors.rs`, so every
//! error — a malformed body, a wrong content type, an unknown route — answers in Confluent's
//! `{"error_code", "message"}` format.
//!
//! Not built yet (see the README): consumer groups and instances, WebSocket, schema registry,
//! OpenAPI, metrics.

pub mod admin;
pub mod brokers;
pub mod configs;
pub mod consumers;
pub mod errors;
pub mod extract;
pub mod groups;
pub mod listener;
pub mod metrics;
pub mod partitions;
pub mod produce;
pub mod records;
pub mod state;
#[cfg(test)]
pub(crate) mod testing;
pub mod topics_v2;
pub mod v3_records;
pub mod ws;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::routing::get;
use serde_json::json;
use tower_http::trace::TraceLayer;

pub use errors::GatewayError;
pub use state::AppState;

/// Limits the gateway enforces, from the server config.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_request_body: usize,
    pub max_concurrent_requests: usize,
    pub max_records_per_request: usize,
}

/// The whole HTTP API: one sub-router per resource file, then the middleware stack.
pub fn router(state: AppState, limits: Limits) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics::metrics_handler))
        .merge(admin::routes())
        .merge(brokers::routes())
        .merge(configs::routes())
        .merge(partitions::routes())
        .merge(topics_v2::routes())
        .merge(produce::routes())
        .merge(records::routes())
        .merge(v3_records::routes())
        .merge(groups::routes())
        .merge(consumers::routes())
        .merge(ws::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::Extension(limits))
        .layer(DefaultBodyLimit::max(limits.max_request_body))
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(
                    |_: tower::BoxError| async { GatewayError::TooManyRequests },
                ))
                .load_shed()
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                    limits.max_concurrent_requests,
                )),
        )
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let matched = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("-", |p| p.as_str())
                    .to_owned();
                tracing::info_span!("http", method = %req.method(), route = %matched)
            }),
        )
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(json!({ "status": "ok" }))
}

/// Ready once the broker has opened every log: the listener is bound only after that.
async fn ready(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::Json<serde_json::Value> {
    axum::Json(json!({ "status": "ready", "cluster_id": state.broker.cluster_id() }))
}

async fn not_found() -> GatewayError {
    GatewayError::NotFound
}

async fn method_not_allowed() -> GatewayError {
    GatewayError::MethodNotAllowed
}
