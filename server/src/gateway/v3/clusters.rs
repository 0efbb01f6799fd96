//! v3 clusters: `GET /v3/clusters` and `GET /v3/clusters/{c}`: the one cluster, its controller
//! as the metadata quorum knows it (`null` while none is known).

use axum::Json;
use axum::extract::State;
use runnel_openapi::{ErrorBody, params, v3 as doc};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_cluster, cluster_url, collection, related, resource};
use crate::gateway::errors::GatewayError;
use crate::gateway::extract::Path;
use crate::gateway::state::AppState;

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clusters))
        .routes(routes!(get_cluster))
}

/// The `KafkaCluster` resource.
fn cluster(state: &AppState) -> doc::KafkaCluster {
    let c = state.broker.cluster_id();
    let base = cluster_url(state);
    doc::KafkaCluster {
        kind: "KafkaCluster".to_owned(),
        metadata: resource(base.clone(), format!("crn:///kafka={c}")),
        cluster_id: c.to_owned(),
        controller: state
            .cluster
            .controller()
            .map(|id| related(format!("{base}/brokers/{id}"))),
        acls: related(format!("{base}/acls")),
        brokers: related(format!("{base}/brokers")),
        broker_configs: related(format!("{base}/broker-configs")),
        consumer_groups: related(format!("{base}/consumer-groups")),
        topics: related(format!("{base}/topics")),
        partition_reassignments: related(format!("{base}/topics/-/partitions/-/reassignment")),
    }
}

/// List the clusters: exactly one, this node's.
#[utoipa::path(
    get,
    path = "/v3/clusters",
    operation_id = "v3_list_clusters",
    tag = "v3 clusters",
    responses((status = 200, description = "The one cluster", body = doc::KafkaClusterList)),
)]
pub async fn list_clusters(State(state): State<AppState>) -> Json<doc::KafkaClusterList> {
    Json(doc::KafkaClusterList {
        kind: "KafkaClusterList".to_owned(),
        metadata: collection(format!("{}/v3/clusters", state.public_url)),
        data: vec![cluster(&state)],
    })
}

/// Describe the cluster.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}",
    operation_id = "v3_get_cluster",
    tag = "v3 clusters",
    params(params::ClusterPath),
    responses(
        (status = 200, description = "The cluster", body = doc::KafkaCluster),
        (status = 404, description = "Not this cluster's id (404)", body = ErrorBody),
    ),
)]
pub async fn get_cluster(
    State(state): State<AppState>,
    Path(cluster_id): Path<String>,
) -> Result<Json<doc::KafkaCluster>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    Ok(Json(cluster(&state)))
}
