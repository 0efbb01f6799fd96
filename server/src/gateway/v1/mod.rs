//! Runnel's own API under `/v1`, for what Confluent's has no shape: the cluster's status, the
//! delivery audit and the topics' sizes on disk.

pub mod audit;
pub mod cluster;
pub mod sizes;

use utoipa_axum::router::OpenApiRouter;

use crate::gateway::state::AppState;

/// Routes of the `/v1` API, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    cluster::routes()
        .merge(audit::routes())
        .merge(sizes::routes())
}
