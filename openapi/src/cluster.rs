//! Runnel's own cluster status, `GET /v1/cluster`: what Confluent's v3 shapes have no room for
//! (the fenced brokers, the metadata log), served by the gateway and read back by
//! `runnel cluster status`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The cluster as the answering broker's metadata image has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClusterStatus {
    pub cluster_id: String,
    /// The broker that answered.
    pub broker_id: u32,
    /// Broker id of the controller (the metadata quorum's leader); `null` while none is known.
    pub controller_id: Option<u32>,
    /// Index of the last metadata-log entry the answering broker applied; `null` before any.
    pub metadata_applied_index: Option<u64>,
    /// Partitions without a leader: their broker is fenced.
    pub offline_partitions: u64,
    /// Every registered broker, by id.
    pub brokers: Vec<ClusterBroker>,
}

/// One registered broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClusterBroker {
    pub broker_id: u32,
    /// The public URL clients reach the broker at.
    #[schema(example = "http://127.0.0.1:8080")]
    pub url: String,
    /// `HOST:PORT` of its cluster port; empty for a single node without one.
    pub cluster_addr: String,
    /// Its registration epoch: the metadata-log index that registered it.
    pub epoch: u64,
    /// Fenced: silent past the session timeout, leads nothing.
    pub fenced: bool,
    /// Metadata-log entries the broker lacks, as the controller sees it; `null` when the
    /// answering broker is not the controller.
    pub metadata_lag: Option<u64>,
}
