//! Shared handles every handler receives: cheap to clone (axum's dependency-injection pattern).

use std::sync::Arc;

use axum::extract::FromRef;
use runnel_schema_registry::registry::Registry;

use crate::broker::Broker;
use crate::group::GroupCoordinator;
use crate::metadata::ClusterView;

/// The state behind the router.
#[derive(Debug, Clone)]
pub struct AppState {
    pub broker: Arc<Broker>,
    /// Consumer groups and their committed offsets.
    pub groups: Arc<GroupCoordinator>,
    /// The schema registry: its API, and the avro embedded format's schemas.
    pub registry: Arc<Registry>,
    /// Base URL for links in responses (`metadata.self`, `base_uri`), without a trailing slash.
    pub public_url: Arc<str>,
    /// The cluster as the metadata quorum has it: brokers, their liveness, the controller.
    pub cluster: ClusterView,
}

/// The registry crate's handlers take the registry from the state.
impl FromRef<AppState> for Arc<Registry> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.registry)
    }
}
