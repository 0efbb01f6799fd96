//! Path parameters, shared by the operations under one resource.
//!
//! Numeric segments (partitions, brokers) are documented as the integers they must be; the
//! server answers any other segment with the generic 404, as Confluent's JAX-RS does.

use utoipa::IntoParams;

/// `{cluster_id}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ClusterPath {
    /// The cluster id, as `GET /v3/clusters` lists it.
    pub cluster_id: String,
}

/// `{cluster_id}/topics/{topic}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TopicPath {
    /// The cluster id, as `GET /v3/clusters` lists it.
    pub cluster_id: String,
    /// A topic name.
    #[param(min_length = 1)]
    pub topic: String,
}

/// `{cluster_id}/topics/{topic}/partitions/{partition}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PartitionPath {
    /// The cluster id, as `GET /v3/clusters` lists it.
    pub cluster_id: String,
    /// A topic name.
    #[param(min_length = 1)]
    pub topic: String,
    /// A partition id.
    pub partition: u32,
}

/// `{cluster_id}/topics/{topic}/partitions/{partition}/replicas/{broker_id}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ReplicaPath {
    /// The cluster id, as `GET /v3/clusters` lists it.
    pub cluster_id: String,
    /// A topic name.
    #[param(min_length = 1)]
    pub topic: String,
    /// A partition id.
    pub partition: u32,
    /// A broker id.
    pub broker_id: u32,
}

/// `{cluster_id}/topics/{topic}/configs/{name}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TopicConfigPath {
    /// The cluster id, as `GET /v3/clusters` lists it.
    pub cluster_id: String,
    /// A topic name.
    #[param(min_length = 1)]
    pub topic: String,
    /// A topic config name, e.g. `retention.ms`.
    #[param(min_length = 1)]
    pub name: String,
}

/// `{cluster_id}/brokers/{broker_id}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BrokerPath {
    /// The cluster id, as `GET /v3/clusters` lists it.
    pub cluster_id: String,
    /// A broker id.
    pub broker_id: u32,
}

/// `{cluster_id}/brokers/{broker_id}/configs/{name}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BrokerConfigPath {
    /// The cluster id, as `GET /v3/clusters` lists it.
    pub cluster_id: String,
    /// A broker id.
    pub broker_id: u32,
    /// A broker config name, e.g. `log.retention.ms`.
    #[param(min_length = 1)]
    pub name: String,
}

/// `{cluster_id}/broker-configs/{name}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ClusterConfigPath {
    /// The cluster id, as `GET /v3/clusters` lists it.
    pub cluster_id: String,
    /// A cluster-wide broker config name.
    #[param(min_length = 1)]
    pub name: String,
}

/// v2 `/topics/{topic}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct V2TopicPath {
    /// A topic name.
    #[param(min_length = 1)]
    pub topic: String,
}

/// v2 `/topics/{topic}/partitions/{partition}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct V2PartitionPath {
    /// A topic name.
    #[param(min_length = 1)]
    pub topic: String,
    /// A partition id.
    pub partition: u32,
}

/// `{cluster_id}/consumer-groups/{group}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GroupPath {
    /// The cluster id, as `GET /v3/clusters` lists it.
    pub cluster_id: String,
    /// A consumer group id.
    #[param(min_length = 1)]
    pub group: String,
}

/// `{cluster_id}/consumer-groups/{group}/consumers/{consumer}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GroupConsumerPath {
    /// The cluster id, as `GET /v3/clusters` lists it.
    pub cluster_id: String,
    /// A consumer group id.
    #[param(min_length = 1)]
    pub group: String,
    /// A member (consumer) id.
    #[param(min_length = 1)]
    pub consumer: String,
}

/// `{cluster_id}/consumer-groups/{group}/consumers/{consumer}/assignments/{topic}/partitions/{partition}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AssignmentPath {
    /// The cluster id, as `GET /v3/clusters` lists it.
    pub cluster_id: String,
    /// A consumer group id.
    #[param(min_length = 1)]
    pub group: String,
    /// A member (consumer) id.
    #[param(min_length = 1)]
    pub consumer: String,
    /// A topic name.
    #[param(min_length = 1)]
    pub topic: String,
    /// A partition id.
    pub partition: u32,
}

/// `{cluster_id}/consumer-groups/{group}/lags/{topic}/partitions/{partition}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct LagPath {
    /// The cluster id, as `GET /v3/clusters` lists it.
    pub cluster_id: String,
    /// A consumer group id.
    #[param(min_length = 1)]
    pub group: String,
    /// A topic name.
    #[param(min_length = 1)]
    pub topic: String,
    /// A partition id.
    pub partition: u32,
}

/// v2 `/consumers/{group}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ConsumerGroupPath {
    /// A consumer group id.
    #[param(min_length = 1)]
    pub group: String,
}

/// v2 `/consumers/{group}/instances/{name}`
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InstancePath {
    /// A consumer group id.
    #[param(min_length = 1)]
    pub group: String,
    /// The consumer instance's name (its `instance_id`).
    #[param(min_length = 1)]
    pub name: String,
}
