//! v2 brokers (Confluent REST Proxy v2 shape): `GET /brokers`, this node's id.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::gateway::state::AppState;

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_brokers))
}

/// The brokers of the cluster.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrokersV2 {
    brokers: Vec<u32>,
}

/// List the broker ids: this node's.
#[utoipa::path(
    get,
    path = "/brokers",
    operation_id = "v2_list_brokers",
    tag = "v2 metadata",
    responses((status = 200, description = "The broker ids", body = BrokersV2)),
)]
pub async fn list_brokers(State(state): State<AppState>) -> Json<BrokersV2> {
    Json(BrokersV2 {
        brokers: vec![state.broker.broker_id()],
    })
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::json;

    use crate::gateway::testing::TestGateway;

    #[tokio::test]
    async fn brokers_lists_this_node() {
        let gw = TestGateway::new().await;
        let (status, body) = gw.get("/brokers").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({ "brokers": [1] }));
    }
}
