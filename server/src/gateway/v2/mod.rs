//! Confluent REST Proxy v2: one file per resource, named for its route — topics (`/topics`,
//! `/topics/{t}`, with its produce), partitions (`/topics/{t}/partitions/...`, with its
//! produce and offsets), the stateless read of a partition's records (`records.rs`), brokers,
//! and consumer instances (`consumers/`).
//!
//! `produce.rs` is the v2 produce adapter both produce routes share: it parses Confluent's
//! body (json, binary, avro) into the ingest pipeline (`ingest.rs`) and renders the offsets.
//!
//! Not owned here: the shared request plumbing (`extract.rs`, `errors.rs`), the read path and
//! its rendering (`read.rs`).

pub mod brokers;
pub mod consumers;
pub mod partitions;
pub mod produce;
pub mod records;
pub mod topics;

use utoipa_axum::router::OpenApiRouter;

use crate::group::instances::InstanceSettings;

use super::state::AppState;

/// Every v2 route, with its documentation; consumer instances time out as `consumer` says.
pub fn routes(consumer: InstanceSettings) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(topics::routes())
        .merge(partitions::routes())
        .merge(records::routes())
        .merge(brokers::routes())
        .merge(consumers::routes_with(consumer))
}
