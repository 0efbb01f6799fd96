//! Shared handles every handler receives: cheap to clone (axum's dependency-injection pattern).

use std::sync::Arc;

use crate::broker::Broker;
use crate::group::GroupCoordinator;

/// The state behind the router.
#[derive(Debug, Clone)]
pub struct AppState {
    pub broker: Arc<Broker>,
    /// Consumer groups and their committed offsets.
    pub groups: Arc<GroupCoordinator>,
    /// Base URL for links in responses (`metadata.self`, `base_uri`), without a trailing slash.
    pub public_url: Arc<str>,
}
