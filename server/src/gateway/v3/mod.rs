//! Confluent REST Proxy v3 (`/v3/clusters/...`): one file per resource, named for its route —
//! clusters, topics (including `PATCH` of the partition count), topic configs, partitions,
//! brokers and broker configs, records (produce) and consumer groups.
//!
//! Every v3 object carries `kind`, `metadata.self` and `resource_name`, and links to related
//! resources built from the configured public URL, so they stay right behind a proxy. Handlers
//! answer the `runnel_openapi::v3` types the document describes, never untyped JSON. The
//! helpers every v3 file shares (the cluster check, `related` links, metadata) live here.
//!
//! Not owned here: the shared request plumbing (`extract.rs`, `errors.rs`) and the ingest
//! pipeline (`ingest.rs`) that `records.rs` adapts.

pub mod brokers;
pub mod clusters;
pub mod configs;
pub mod consumer_groups;
pub mod partitions;
pub mod records;
pub mod rfc3339;
pub mod topics;

use runnel_openapi::v3 as doc;
use utoipa_axum::router::OpenApiRouter;

use super::errors::GatewayError;
use super::state::AppState;

/// Every v3 route, with its documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(clusters::routes())
        .merge(topics::routes())
        .merge(configs::routes())
        .merge(partitions::routes())
        .merge(brokers::routes())
        .merge(records::routes())
        .merge(consumer_groups::routes())
}

/// A link to another resource.
pub(crate) fn related(url: String) -> doc::Related {
    doc::Related { related: url }
}

/// A resource's `metadata`: its URL and its `crn:///...` name.
pub(crate) fn resource(self_url: String, resource_name: String) -> doc::ResourceMetadata {
    doc::ResourceMetadata {
        self_url,
        resource_name,
    }
}

pub(crate) fn check_cluster(state: &AppState, cluster_id: &str) -> Result<(), GatewayError> {
    if cluster_id == state.broker.cluster_id() {
        Ok(())
    } else {
        Err(GatewayError::NotFound)
    }
}

/// A collection's `metadata`: its URL and `next: null` (collections are not paged).
pub(crate) fn collection(self_url: String) -> doc::CollectionMetadata {
    doc::CollectionMetadata {
        self_url,
        next: None,
    }
}

/// `{public_url}/v3/clusters/{cluster_id}`: the base of every v3 link.
pub(super) fn cluster_url(state: &AppState) -> String {
    format!(
        "{}/v3/clusters/{}",
        state.public_url,
        state.broker.cluster_id()
    )
}
