//! `GET /v1/cluster`: the controller, the metadata log's applied index, offline partitions and
//! every registered broker with its liveness (and, from the controller, its metadata lag), as
//! this broker's metadata image has them.

use axum::Json;
use axum::extract::State;
use runnel_openapi::cluster::{ClusterBroker, ClusterStatus};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::gateway::state::AppState;

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(cluster_status))
}

/// The cluster's status: controller, metadata log, brokers (fenced ones included).
#[utoipa::path(
    get,
    path = "/v1/cluster",
    operation_id = "cluster_status",
    tag = "cluster",
    responses((status = 200, description = "The cluster as this broker knows it", body = ClusterStatus)),
)]
pub async fn cluster_status(State(state): State<AppState>) -> Json<ClusterStatus> {
    let image = state.cluster.image();
    let lags = state.cluster.metadata_lags();
    let controller = state.cluster.controller();
    let me = state.broker.broker_id();
    Json(ClusterStatus {
        cluster_id: state.broker.cluster_id().to_owned(),
        broker_id: state.broker.broker_id(),
        controller_id: controller,
        metadata_applied_index: image.applied_index,
        offline_partitions: state.cluster.offline_partitions() as u64,
        brokers: image
            .metadata
            .brokers
            .iter()
            .map(|(id, b)| ClusterBroker {
                broker_id: id.0,
                url: b.http_addr.clone(),
                cluster_addr: b.cluster_addr.clone(),
                epoch: b.epoch.0,
                fenced: b.fenced,
                // The controller is level with its own log.
                metadata_lag: lags
                    .get(&id.0)
                    .copied()
                    .or_else(|| (controller == Some(me) && id.0 == me).then_some(0)),
            })
            .collect(),
    })
}
