//! Runnel's own API under `/v1`, for what Confluent's has no shape: the cluster's status and
//! the delivery audit.

pub mod audit;
pub mod cluster;

use utoipa_axum::router::OpenApiRouter;

use crate::gateway::state::AppState;

/// Routes of the `/v1` API, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    cluster::routes().merge(audit::routes())
}
