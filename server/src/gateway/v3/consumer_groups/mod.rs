//! v3 consumer groups (Confluent REST Proxy v3 shapes): groups, their consumers and
//! assignments, per-partition lag and the lag summary; plus our extension
//! `POST /v3/clusters/{c}/consumer-groups/{g}/offsets:reset`.
//!
//! Everything is read from the [`GroupCoordinator`]. Groups are `CLASSIC` (never mixed), and a
//! group with only committed offsets is `EMPTY`; an unknown group answers 404 with error code
//! 40405 (kafka-rest's "consumer group id not found"). An unknown consumer, or a partition the
//! group has no committed offset for, is the generic 404, as kafka-rest's `NotFoundException`.
//! Lags list only partitions with a committed offset, as kafka-rest computes them from the
//! group's offsets; a partition nobody owns now has `consumer_id` and `client_id` `""`.
//!
//! The offsets reset takes `{"to": "earliest" | "latest" | {"timestamp": ms} | {"offset": n},
//! "topics"?: [names]}` — without `topics`, every partition the group has offsets for — and,
//! as Kafka's `kafka-consumer-groups --reset-offsets`, only works while the group has no
//! members (409 40903 otherwise). It answers the new offsets.
//!
//! Not owned here: membership and offsets (`group/`), v2 consumer instances.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use runnel_openapi::{ErrorBody, params, v3 as doc};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_cluster, cluster_url, collection, related, resource};
use crate::gateway::errors::{Api, GatewayError};
use crate::gateway::extract::path_id;
use crate::gateway::extract::{Body, Path, kafka_offset, parse_json, require_json};
use crate::gateway::links::segment;
use crate::gateway::state::AppState;
use crate::group::{
    GroupCoordinator, GroupDescription, GroupError, GroupId, MemberDescription, OffsetResetSpec,
    PartitionLag,
};

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups))
        .routes(routes!(get_group))
        .routes(routes!(list_consumers))
        .routes(routes!(get_consumer))
        .routes(routes!(list_assignments))
        .routes(routes!(get_assignment))
        .routes(routes!(list_lags))
        .routes(routes!(get_lag))
        .routes(routes!(get_lag_summary))
        .routes(routes!(reset_offsets))
}

fn v3(e: GroupError) -> GatewayError {
    GatewayError::Group(e, Api::V3)
}

fn group_url(state: &AppState, group: &GroupId) -> String {
    format!(
        "{}/consumer-groups/{}",
        cluster_url(state),
        segment(group.as_str())
    )
}

fn group_crn(state: &AppState, group: &GroupId) -> String {
    format!(
        "crn:///kafka={}/consumer-group={}",
        state.broker.cluster_id(),
        group
    )
}

fn consumer_url(state: &AppState, group: &GroupId, consumer: &str) -> String {
    format!(
        "{}/consumers/{}",
        group_url(state, group),
        segment(consumer)
    )
}

fn partition_url(state: &AppState, topic: &str, partition: u32) -> String {
    format!(
        "{}/topics/{topic}/partitions/{partition}",
        cluster_url(state)
    )
}

fn lag_url(state: &AppState, group: &GroupId, topic: &str, partition: u32) -> String {
    format!(
        "{}/lags/{topic}/partitions/{partition}",
        group_url(state, group)
    )
}

/// The group of a path, after the cluster check.
fn group_of(state: &AppState, cluster_id: &str, group: &str) -> Result<GroupId, GatewayError> {
    check_cluster(state, cluster_id)?;
    GroupId::new(group).map_err(v3)
}

fn describe(state: &AppState, group: &GroupId) -> Result<GroupDescription, GatewayError> {
    state.groups.describe_group(group).map_err(v3)
}

/// The `KafkaConsumerGroup` resource.
fn kafka_consumer_group(state: &AppState, d: &GroupDescription) -> doc::KafkaConsumerGroup {
    let url = group_url(state, &d.group_id);
    doc::KafkaConsumerGroup {
        kind: "KafkaConsumerGroup".to_owned(),
        metadata: resource(url.clone(), group_crn(state, &d.group_id)),
        cluster_id: state.broker.cluster_id().to_owned(),
        consumer_group_id: d.group_id.as_str().to_owned(),
        is_simple: d.is_simple,
        partition_assignor: d.assignor.map_or("", |a| a.as_str()).to_owned(),
        state: d.state.as_str().to_owned(),
        group_type: "CLASSIC".to_owned(),
        is_mixed_consumer_group: false,
        coordinator: related(format!(
            "{}/brokers/{}",
            cluster_url(state),
            state.broker.broker_id()
        )),
        consumers: related(format!("{url}/consumers")),
        lag_summary: related(format!("{url}/lag-summary")),
    }
}

/// The `KafkaConsumer` resource.
fn kafka_consumer(state: &AppState, group: &GroupId, m: &MemberDescription) -> doc::KafkaConsumer {
    let url = consumer_url(state, group, m.member_id.as_str());
    doc::KafkaConsumer {
        kind: "KafkaConsumer".to_owned(),
        metadata: resource(
            url.clone(),
            format!("{}/consumer={}", group_crn(state, group), m.member_id),
        ),
        cluster_id: state.broker.cluster_id().to_owned(),
        consumer_group_id: group.as_str().to_owned(),
        consumer_id: m.member_id.as_str().to_owned(),
        instance_id: m.instance_id.clone(),
        client_id: m.client_id.clone(),
        assignments: related(format!("{url}/assignments")),
    }
}

/// The `KafkaConsumerAssignment` resource.
fn kafka_consumer_assignment(
    state: &AppState,
    group: &GroupId,
    consumer: &str,
    topic: &str,
    partition: u32,
) -> doc::KafkaConsumerAssignment {
    doc::KafkaConsumerAssignment {
        kind: "KafkaConsumerAssignment".to_owned(),
        metadata: resource(
            format!(
                "{}/assignments/{topic}/partitions/{partition}",
                consumer_url(state, group, consumer)
            ),
            format!(
                "{}/consumer={consumer}/assignment={topic}/partition={partition}",
                group_crn(state, group)
            ),
        ),
        cluster_id: state.broker.cluster_id().to_owned(),
        consumer_group_id: group.as_str().to_owned(),
        consumer_id: consumer.to_owned(),
        topic_name: topic.to_owned(),
        partition_id: partition,
        partition: related(partition_url(state, topic, partition)),
        lag: related(lag_url(state, group, topic, partition)),
    }
}

/// The `KafkaConsumerLag` resource.
fn kafka_consumer_lag(
    state: &AppState,
    group: &GroupId,
    l: &PartitionLag,
) -> doc::KafkaConsumerLag {
    let (topic, partition) = (&l.topic_partition.topic, l.topic_partition.partition);
    let owner = l.owner.as_ref();
    doc::KafkaConsumerLag {
        kind: "KafkaConsumerLag".to_owned(),
        metadata: resource(
            lag_url(state, group, topic, partition),
            format!(
                "{}/lag={topic}/partition={partition}",
                group_crn(state, group)
            ),
        ),
        cluster_id: state.broker.cluster_id().to_owned(),
        consumer_group_id: group.as_str().to_owned(),
        topic_name: topic.clone(),
        partition_id: partition,
        consumer_id: owner.map_or("", |o| o.member_id.as_str()).to_owned(),
        instance_id: owner.and_then(|o| o.instance_id.clone()),
        client_id: owner.map_or("", |o| o.client_id.as_str()).to_owned(),
        current_offset: l.current_offset,
        log_end_offset: l.log_end_offset,
        lag: l.lag,
    }
}

/// List the consumer groups (of every broker: each lists the groups it coordinates).
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/consumer-groups",
    operation_id = "v3_list_consumer_groups",
    tag = "v3 consumer groups",
    params(params::ClusterPath),
    responses(
        (status = 200, description = "Every group", body = doc::KafkaConsumerGroupList),
        (status = 404, description = "Not this cluster's id (404)", body = ErrorBody),
    ),
)]
pub async fn list_groups(
    State(state): State<AppState>,
    Path(cluster_id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Json<doc::KafkaConsumerGroupList>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    let mut data: Vec<doc::KafkaConsumerGroup> = state
        .groups
        .list_groups()
        .iter()
        .filter_map(|l| describe(&state, &l.group_id).ok())
        .map(|d| kafka_consumer_group(&state, &d))
        .collect();
    // Each broker coordinates some groups: the list is every broker's.
    if !headers.contains_key(&crate::gateway::forward::FORWARDED_FROM) {
        let uri = format!("/v3/clusters/{cluster_id}/consumer-groups");
        for list in
            crate::gateway::forward::ask_others::<doc::KafkaConsumerGroupList>(&state, &uri).await
        {
            data.extend(list.data);
        }
        data.sort_by(|a, b| a.consumer_group_id.cmp(&b.consumer_group_id));
    }
    Ok(Json(doc::KafkaConsumerGroupList {
        kind: "KafkaConsumerGroupList".to_owned(),
        metadata: collection(format!("{}/consumer-groups", cluster_url(&state))),
        data,
    }))
}

/// Describe a consumer group.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/consumer-groups/{group}",
    operation_id = "v3_get_consumer_group",
    tag = "v3 consumer groups",
    params(params::GroupPath),
    responses(
        (status = 200, description = "The group", body = doc::KafkaConsumerGroup),
        (status = 400, description = "An invalid group id (40002)", body = ErrorBody),
        (status = 404, description = "Unknown cluster (404) or group (40405)", body = ErrorBody),
    ),
)]
pub async fn get_group(
    State(state): State<AppState>,
    Path((cluster_id, group)): Path<(String, String)>,
) -> Result<Json<doc::KafkaConsumerGroup>, GatewayError> {
    let group = group_of(&state, &cluster_id, &group)?;
    Ok(Json(kafka_consumer_group(
        &state,
        &describe(&state, &group)?,
    )))
}

/// List a group's consumers (members).
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/consumer-groups/{group}/consumers",
    operation_id = "v3_list_group_consumers",
    tag = "v3 consumer groups",
    params(params::GroupPath),
    responses(
        (status = 200, description = "The group's members", body = doc::KafkaConsumerList),
        (status = 400, description = "An invalid group id (40002)", body = ErrorBody),
        (status = 404, description = "Unknown cluster (404) or group (40405)", body = ErrorBody),
    ),
)]
pub async fn list_consumers(
    State(state): State<AppState>,
    Path((cluster_id, group)): Path<(String, String)>,
) -> Result<Json<doc::KafkaConsumerList>, GatewayError> {
    let group = group_of(&state, &cluster_id, &group)?;
    let d = describe(&state, &group)?;
    let data = d
        .members
        .iter()
        .map(|m| kafka_consumer(&state, &group, m))
        .collect();
    Ok(Json(doc::KafkaConsumerList {
        kind: "KafkaConsumerList".to_owned(),
        metadata: collection(format!("{}/consumers", group_url(&state, &group))),
        data,
    }))
}

fn member<'a>(
    d: &'a GroupDescription,
    consumer: &str,
) -> Result<&'a MemberDescription, GatewayError> {
    d.members
        .iter()
        .find(|m| m.member_id.as_str() == consumer)
        .ok_or(GatewayError::NotFound)
}

/// Describe one consumer of a group.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/consumer-groups/{group}/consumers/{consumer}",
    operation_id = "v3_get_group_consumer",
    tag = "v3 consumer groups",
    params(params::GroupConsumerPath),
    responses(
        (status = 200, description = "The member", body = doc::KafkaConsumer),
        (status = 400, description = "An invalid group id (40002)", body = ErrorBody),
        (status = 404, description = "Unknown cluster or consumer (404), unknown group (40405)", body = ErrorBody),
    ),
)]
pub async fn get_consumer(
    State(state): State<AppState>,
    Path((cluster_id, group, consumer)): Path<(String, String, String)>,
) -> Result<Json<doc::KafkaConsumer>, GatewayError> {
    let group = group_of(&state, &cluster_id, &group)?;
    let d = describe(&state, &group)?;
    Ok(Json(kafka_consumer(&state, &group, member(&d, &consumer)?)))
}

/// List the partitions assigned to a consumer.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/consumer-groups/{group}/consumers/{consumer}/assignments",
    operation_id = "v3_list_consumer_assignments",
    tag = "v3 consumer groups",
    params(params::GroupConsumerPath),
    responses(
        (status = 200, description = "The member's partitions", body = doc::KafkaConsumerAssignmentList),
        (status = 400, description = "An invalid group id (40002)", body = ErrorBody),
        (status = 404, description = "Unknown cluster or consumer (404), unknown group (40405)", body = ErrorBody),
    ),
)]
pub async fn list_assignments(
    State(state): State<AppState>,
    Path((cluster_id, group, consumer)): Path<(String, String, String)>,
) -> Result<Json<doc::KafkaConsumerAssignmentList>, GatewayError> {
    let group = group_of(&state, &cluster_id, &group)?;
    let d = describe(&state, &group)?;
    let m = member(&d, &consumer)?;
    let data = m
        .assignment
        .iter()
        .map(|tp| kafka_consumer_assignment(&state, &group, &consumer, &tp.topic, tp.partition))
        .collect();
    let url = format!(
        "{}/assignments",
        consumer_url(&state, &group, m.member_id.as_str())
    );
    Ok(Json(doc::KafkaConsumerAssignmentList {
        kind: "KafkaConsumerAssignmentList".to_owned(),
        metadata: collection(url),
        data,
    }))
}

/// Describe one partition assigned to a consumer.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/consumer-groups/{group}/consumers/{consumer}/assignments/{topic}/partitions/{partition}",
    operation_id = "v3_get_consumer_assignment",
    tag = "v3 consumer groups",
    params(params::AssignmentPath),
    responses(
        (status = 200, description = "The assignment", body = doc::KafkaConsumerAssignment),
        (status = 400, description = "An invalid group id (40002)", body = ErrorBody),
        (status = 404, description = "Unknown cluster, consumer or assignment, or a partition that is not a number (404); unknown group (40405)", body = ErrorBody),
    ),
)]
pub async fn get_assignment(
    State(state): State<AppState>,
    Path((cluster_id, group, consumer, topic, partition)): Path<(
        String,
        String,
        String,
        String,
        String,
    )>,
) -> Result<Json<doc::KafkaConsumerAssignment>, GatewayError> {
    let group = group_of(&state, &cluster_id, &group)?;
    let partition = path_id(&partition)?;
    let d = describe(&state, &group)?;
    let m = member(&d, &consumer)?;
    if !m
        .assignment
        .iter()
        .any(|tp| tp.topic == topic && tp.partition == partition)
    {
        return Err(GatewayError::NotFound);
    }
    Ok(Json(kafka_consumer_assignment(
        &state, &group, &consumer, &topic, partition,
    )))
}

async fn lags(state: &AppState, group: &GroupId) -> Result<Vec<PartitionLag>, GatewayError> {
    state.groups.lag(group).await.map_err(v3)
}

/// List a group's lag per partition.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/consumer-groups/{group}/lags",
    operation_id = "v3_list_consumer_lags",
    tag = "v3 consumer groups",
    params(params::GroupPath),
    responses(
        (status = 200, description = "Lag of every partition the group has committed", body = doc::KafkaConsumerLagList),
        (status = 400, description = "An invalid group id (40002)", body = ErrorBody),
        (status = 404, description = "Unknown cluster (404) or group (40405)", body = ErrorBody),
    ),
)]
pub async fn list_lags(
    State(state): State<AppState>,
    Path((cluster_id, group)): Path<(String, String)>,
) -> Result<Json<doc::KafkaConsumerLagList>, GatewayError> {
    let group = group_of(&state, &cluster_id, &group)?;
    let data = lags(&state, &group)
        .await?
        .iter()
        .map(|l| kafka_consumer_lag(&state, &group, l))
        .collect();
    Ok(Json(doc::KafkaConsumerLagList {
        kind: "KafkaConsumerLagList".to_owned(),
        metadata: collection(format!("{}/lags", group_url(&state, &group))),
        data,
    }))
}

/// A group's lag on one partition.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/consumer-groups/{group}/lags/{topic}/partitions/{partition}",
    operation_id = "v3_get_consumer_lag",
    tag = "v3 consumer groups",
    params(params::LagPath),
    responses(
        (status = 200, description = "The partition's lag", body = doc::KafkaConsumerLag),
        (status = 400, description = "An invalid group id (40002)", body = ErrorBody),
        (status = 404, description = "Unknown cluster, no committed offset, or a partition that is not a number (404); unknown group (40405); unknown topic or partition (40403)", body = ErrorBody),
    ),
)]
pub async fn get_lag(
    State(state): State<AppState>,
    Path((cluster_id, group, topic, partition)): Path<(String, String, String, String)>,
) -> Result<Json<doc::KafkaConsumerLag>, GatewayError> {
    let group = group_of(&state, &cluster_id, &group)?;
    let partition = path_id(&partition)?;
    let all = lags(&state, &group).await?;
    state
        .broker
        .partition(&topic, partition)
        .map_err(GatewayError::v3)?;
    let l = all
        .iter()
        .find(|l| l.topic_partition.topic == topic && l.topic_partition.partition == partition)
        .ok_or(GatewayError::NotFound)?;
    Ok(Json(kafka_consumer_lag(&state, &group, l)))
}

/// A group's largest and total lag.
///
/// With no committed offsets the `max_lag_*` fields are `null` and the lags 0.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/consumer-groups/{group}/lag-summary",
    operation_id = "v3_get_consumer_lag_summary",
    tag = "v3 consumer groups",
    params(params::GroupPath),
    responses(
        (status = 200, description = "The largest and the total lag", body = doc::KafkaConsumerLagSummary),
        (status = 400, description = "An invalid group id (40002)", body = ErrorBody),
        (status = 404, description = "Unknown cluster (404) or group (40405)", body = ErrorBody),
    ),
)]
pub async fn get_lag_summary(
    State(state): State<AppState>,
    Path((cluster_id, group)): Path<(String, String)>,
) -> Result<Json<doc::KafkaConsumerLagSummary>, GatewayError> {
    let group = group_of(&state, &cluster_id, &group)?;
    let all = lags(&state, &group).await?;
    let total: u64 = all.iter().map(|l| l.lag).sum();
    // The first partition (in topic, partition order) with the largest lag.
    let max = all
        .iter()
        .fold(None::<&PartitionLag>, |best, l| match best {
            Some(b) if b.lag >= l.lag => Some(b),
            _ => Some(l),
        });
    let owner = max.and_then(|l| l.owner.as_ref());
    let url = group_url(&state, &group);
    Ok(Json(doc::KafkaConsumerLagSummary {
        kind: "KafkaConsumerLagSummary".to_owned(),
        metadata: resource(
            format!("{url}/lag-summary"),
            format!("{}/lag-summary", group_crn(&state, &group)),
        ),
        cluster_id: state.broker.cluster_id().to_owned(),
        consumer_group_id: group.as_str().to_owned(),
        max_lag_consumer_id: max.map(|_| owner.map_or("", |o| o.member_id.as_str()).to_owned()),
        max_lag_instance_id: owner.and_then(|o| o.instance_id.clone()),
        max_lag_client_id: max.map(|_| owner.map_or("", |o| o.client_id.as_str()).to_owned()),
        max_lag_topic_name: max.map(|l| l.topic_partition.topic.clone()),
        max_lag_partition_id: max.map(|l| l.topic_partition.partition),
        max_lag: max.map_or(0, |l| l.lag),
        total_lag: total,
        max_lag_consumer: owner
            .map(|o| related(consumer_url(&state, &group, o.member_id.as_str()))),
        max_lag_partition: max.map(|l| {
            related(partition_url(
                &state,
                &l.topic_partition.topic,
                l.topic_partition.partition,
            ))
        }),
    }))
}

/// Body of `POST .../consumer-groups/{group}/offsets:reset`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetOffsetsRequest {
    #[schema(value_type = doc::ResetTo)]
    to: ResetTo,
    /// Only these topics; default: every partition the group has offsets for.
    #[serde(default)]
    topics: Option<Vec<String>>,
}

/// Where to move the offsets.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ResetTo {
    Named(ResetNamed),
    Timestamp {
        timestamp: i64,
    },
    Offset {
        #[serde(deserialize_with = "kafka_offset")]
        offset: u64,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ResetNamed {
    Earliest,
    Latest,
}

/// Reset a group's committed offsets (Runnel's extension).
///
/// As Kafka's `kafka-consumer-groups --reset-offsets`: only while the group has no members.
/// Answers the new offsets.
#[utoipa::path(
    post,
    path = "/v3/clusters/{cluster_id}/consumer-groups/{group}/offsets:reset",
    operation_id = "v3_reset_consumer_group_offsets",
    tag = "v3 consumer groups",
    params(params::GroupPath),
    request_body(content = ResetOffsetsRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The new offsets", body = doc::ResetOffsetsResponse),
        (status = 400, description = "Malformed JSON (400); an invalid group id or no offset for a partition (40002)", body = ErrorBody),
        (status = 404, description = "Unknown cluster (404), group (40405), topic or partition (40403)", body = ErrorBody),
        (status = 409, description = "The group has members (40903)", body = ErrorBody),
        (status = 415, description = "Content-Type is not JSON", body = ErrorBody),
        (status = 422, description = "Empty body or wrong shape", body = ErrorBody),
    ),
)]
pub async fn reset_offsets(
    State(state): State<AppState>,
    Path((cluster_id, group)): Path<(String, String)>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Json<doc::ResetOffsetsResponse>, GatewayError> {
    let group = group_of(&state, &cluster_id, &group)?;
    require_json(&headers)?;
    let req: ResetOffsetsRequest = parse_json(&body, Api::V3)?;
    let spec = match req.to {
        ResetTo::Named(ResetNamed::Earliest) => OffsetResetSpec::Earliest,
        ResetTo::Named(ResetNamed::Latest) => OffsetResetSpec::Latest,
        ResetTo::Timestamp { timestamp } => OffsetResetSpec::Timestamp(timestamp),
        ResetTo::Offset { offset } => OffsetResetSpec::Offset(offset),
    };
    let coordinator: Arc<GroupCoordinator> = Arc::clone(&state.groups);
    let offsets = coordinator
        .reset_offsets(&group, spec, req.topics.as_deref())
        .await
        .map_err(v3)?;
    Ok(Json(doc::ResetOffsetsResponse {
        cluster_id: state.broker.cluster_id().to_owned(),
        consumer_group_id: group.as_str().to_owned(),
        offsets: offsets
            .into_iter()
            .map(|(tp, offset)| doc::ResetOffset {
                topic_name: tp.topic,
                partition_id: tp.partition,
                offset,
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests;
