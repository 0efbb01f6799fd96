//! v3 topic configs (Confluent REST Proxy v3 shapes): describe one topic's or every topic's
//! configs, set (`PUT`) or reset (`DELETE`) one, and alter several at once (`configs:alter`).
//!
//! Values come from [`TopicConfig::describe`](crate::broker::topic_config::TopicConfig::describe):
//! the effective value, where it came from and every level's value as synonyms. Changes go
//! through [`Broker::update_topic_config`](crate::broker::Broker::update_topic_config), which
//! validates every change before committing any, so a batch with one bad value changes nothing.
//! Errors follow Kafka and Confluent: an unknown topic is 40403; an unknown config name on GET is
//! the generic 404; an unknown name or a bad value on a change is 40002 with Kafka's message, as
//! is a SET without a value or a name given twice in one batch.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use runnel_openapi::{ErrorBody, params, v3 as doc};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_cluster, collection, resource};
use crate::broker::topic_config::{
    ConfigEntry, ConfigError, ConfigSource, ConfigSynonym, TopicConfig,
};
use crate::gateway::errors::{Api, GatewayError};
use crate::gateway::extract::{Body, Object, Path, parse_json, require_json};
use crate::gateway::state::AppState;

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_topic_configs))
        .routes(routes!(
            get_topic_config,
            update_topic_config,
            reset_topic_config
        ))
        .routes(routes!(alter_topic_configs))
        .routes(routes!(list_all_topic_configs))
}

/// Kafka's `ConfigSource` of a value, as v3 config resources name it.
pub(crate) fn source(s: ConfigSource) -> doc::ConfigSource {
    match s {
        ConfigSource::DynamicTopicConfig => doc::ConfigSource::DynamicTopicConfig,
        ConfigSource::StaticBrokerConfig => doc::ConfigSource::StaticBrokerConfig,
        ConfigSource::DefaultConfig => doc::ConfigSource::DefaultConfig,
    }
}

/// Synonyms as v3 config resources list them.
pub(crate) fn synonyms(synonyms: &[ConfigSynonym]) -> Vec<doc::ConfigSynonym> {
    synonyms
        .iter()
        .map(|s| doc::ConfigSynonym {
            name: s.name.to_owned(),
            value: Some(s.value.clone()),
            source: source(s.source),
        })
        .collect()
}

/// The `KafkaTopicConfig` resource.
fn kafka_topic_config(state: &AppState, topic: &str, e: &ConfigEntry) -> doc::KafkaTopicConfig {
    let c = state.broker.cluster_id();
    doc::KafkaTopicConfig {
        kind: "KafkaTopicConfig".to_owned(),
        metadata: resource(
            format!(
                "{}/v3/clusters/{c}/topics/{topic}/configs/{}",
                state.public_url, e.name
            ),
            format!("crn:///kafka={c}/topic={topic}/config={}", e.name),
        ),
        cluster_id: c.to_owned(),
        topic_name: topic.to_owned(),
        name: e.name.to_owned(),
        value: Some(e.value.clone()),
        is_default: e.is_default,
        is_read_only: e.is_read_only,
        is_sensitive: e.is_sensitive,
        source: source(e.source),
        synonyms: synonyms(&e.synonyms),
    }
}

/// A `KafkaTopicConfigList` at `url`.
fn config_list(url: String, data: Vec<doc::KafkaTopicConfig>) -> doc::KafkaTopicConfigList {
    doc::KafkaTopicConfigList {
        kind: "KafkaTopicConfigList".to_owned(),
        metadata: collection(url),
        data,
    }
}

/// Every config of `topic`, described, in name order.
fn describe(state: &AppState, topic: &str) -> Result<Vec<ConfigEntry>, GatewayError> {
    let t = state.broker.topic(topic).map_err(GatewayError::v3)?;
    Ok(t.config().describe(state.broker.topic_defaults()))
}

/// List a topic's configs: every one, with its effective value and where it comes from.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/topics/{topic}/configs",
    operation_id = "v3_list_topic_configs",
    tag = "v3 configs",
    params(params::TopicPath),
    responses(
        (status = 200, description = "The configs, by name", body = doc::KafkaTopicConfigList),
        (status = 404, description = "Unknown cluster (404) or topic (40403)", body = ErrorBody),
    ),
)]
pub async fn list_topic_configs(
    State(state): State<AppState>,
    Path((cluster_id, topic)): Path<(String, String)>,
) -> Result<Json<doc::KafkaTopicConfigList>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    let data = describe(&state, &topic)?
        .iter()
        .map(|e| kafka_topic_config(&state, &topic, e))
        .collect();
    let url = format!(
        "{}/v3/clusters/{cluster_id}/topics/{topic}/configs",
        state.public_url
    );
    Ok(Json(config_list(url, data)))
}

/// List every topic's configs, by topic then name.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/topics/-/configs",
    operation_id = "v3_list_all_topic_configs",
    tag = "v3 configs",
    params(params::ClusterPath),
    responses(
        (status = 200, description = "The configs", body = doc::KafkaTopicConfigList),
        (status = 404, description = "Not this cluster's id (404)", body = ErrorBody),
    ),
)]
pub async fn list_all_topic_configs(
    State(state): State<AppState>,
    Path(cluster_id): Path<String>,
) -> Result<Json<doc::KafkaTopicConfigList>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    let defaults = state.broker.topic_defaults();
    let data = state
        .broker
        .topics()
        .iter()
        .flat_map(|t| {
            t.config()
                .describe(defaults)
                .iter()
                .map(|e| kafka_topic_config(&state, t.name(), e))
                .collect::<Vec<_>>()
        })
        .collect();
    let url = format!(
        "{}/v3/clusters/{cluster_id}/topics/-/configs",
        state.public_url
    );
    Ok(Json(config_list(url, data)))
}

/// Describe one topic config.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/topics/{topic}/configs/{name}",
    operation_id = "v3_get_topic_config",
    tag = "v3 configs",
    params(params::TopicConfigPath),
    responses(
        (status = 200, description = "The config", body = doc::KafkaTopicConfig),
        (status = 404, description = "Unknown cluster or config name (404), unknown topic (40403)", body = ErrorBody),
    ),
)]
pub async fn get_topic_config(
    State(state): State<AppState>,
    Path((cluster_id, topic, name)): Path<(String, String, String)>,
) -> Result<Json<doc::KafkaTopicConfig>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    describe(&state, &topic)?
        .iter()
        .find(|e| e.name == name)
        .map(|e| Json(kafka_topic_config(&state, &topic, e)))
        .ok_or(GatewayError::NotFound)
}

/// Body of `PUT .../configs/{name}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateConfigRequest {
    /// The new value; required (a null value is a 400, 40002).
    #[serde(default)]
    value: Option<String>,
}

/// What `configs:alter` does to one config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum AlterOperation {
    Set,
    Delete,
}

/// One entry of a `configs:alter` batch.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AlterEntry {
    name: String,
    /// Required for `SET` (the default operation).
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    operation: Option<AlterOperation>,
}

/// Body of `POST .../configs:alter`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AlterConfigsRequest {
    #[schema(value_type = Vec<AlterEntry>)]
    data: Vec<Object<AlterEntry>>,
    /// Check the changes without applying them.
    #[serde(default)]
    validate_only: bool,
}

/// A checked change of one config.
#[derive(Debug)]
enum Change {
    Set { name: String, value: String },
    Reset { name: String },
}

impl Change {
    fn apply(&self, config: &mut TopicConfig) -> Result<(), ConfigError> {
        match self {
            Change::Set { name, value } => config.set(name, value),
            Change::Reset { name } => config.reset(name).map(|_| ()),
        }
    }
}

/// Kafka's request-level checks of an incremental alter: no name twice, no SET without a value.
fn check_changes(entries: Vec<AlterEntry>) -> Result<Vec<Change>, GatewayError> {
    let mut seen = BTreeSet::new();
    if entries.iter().any(|e| !seen.insert(e.name.as_str())) {
        return Err(GatewayError::InvalidRequest(
            "Error due to duplicate config keys".into(),
        ));
    }
    let null_sets: Vec<&str> = entries
        .iter()
        .filter(|e| e.value.is_none() && e.operation != Some(AlterOperation::Delete))
        .map(|e| e.name.as_str())
        .collect();
    if !null_sets.is_empty() {
        return Err(GatewayError::InvalidRequest(format!(
            "Null value not supported for : {}",
            null_sets.join(", ")
        )));
    }
    Ok(entries
        .into_iter()
        .map(|e| match (e.operation, e.value) {
            (Some(AlterOperation::Delete), _) => Change::Reset { name: e.name },
            (None | Some(AlterOperation::Set), value) => Change::Set {
                name: e.name,
                value: value.unwrap_or_default(),
            },
        })
        .collect())
}

/// Applies `changes` to `topic` on a blocking thread, all or nothing.
async fn apply(
    state: &AppState,
    topic: String,
    changes: Vec<Change>,
    validate_only: bool,
) -> Result<StatusCode, GatewayError> {
    let broker = state.broker.clone();
    tokio::task::spawn_blocking(move || {
        broker.update_topic_config(&topic, validate_only, |config| {
            changes.iter().try_for_each(|c| c.apply(config))
        })
    })
    .await
    .map_err(|e| GatewayError::Internal(e.to_string()))?
    .map_err(GatewayError::v3)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set one topic config.
#[utoipa::path(
    put,
    path = "/v3/clusters/{cluster_id}/topics/{topic}/configs/{name}",
    operation_id = "v3_update_topic_config",
    tag = "v3 configs",
    params(params::TopicConfigPath),
    request_body(content = UpdateConfigRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "Set"),
        (status = 400, description = "Malformed JSON (400); an unknown config, a bad value, a SET without a value or a name twice (40002)", body = ErrorBody),
        (status = 404, description = "Unknown cluster (404) or topic (40403)", body = ErrorBody),
        (status = 415, description = "Content-Type is not JSON", body = ErrorBody),
        (status = 422, description = "Empty body or wrong shape", body = ErrorBody),
    ),
)]
pub async fn update_topic_config(
    State(state): State<AppState>,
    Path((cluster_id, topic, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<StatusCode, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    require_json(&headers)?;
    let req: UpdateConfigRequest = parse_json(&body, Api::V3)?;
    let changes = check_changes(vec![AlterEntry {
        name,
        value: req.value,
        operation: Some(AlterOperation::Set),
    }])?;
    apply(&state, topic, changes, false).await
}

/// Reset one topic config to its default (resetting what is not set is fine, as in Kafka).
#[utoipa::path(
    delete,
    path = "/v3/clusters/{cluster_id}/topics/{topic}/configs/{name}",
    operation_id = "v3_reset_topic_config",
    tag = "v3 configs",
    params(params::TopicConfigPath),
    responses(
        (status = 204, description = "Reset"),
        (status = 400, description = "An unknown config name (40002)", body = ErrorBody),
        (status = 404, description = "Unknown cluster (404) or topic (40403)", body = ErrorBody),
    ),
)]
pub async fn reset_topic_config(
    State(state): State<AppState>,
    Path((cluster_id, topic, name)): Path<(String, String, String)>,
) -> Result<StatusCode, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    apply(&state, topic, vec![Change::Reset { name }], false).await
}

/// Set and reset several topic configs at once: all or nothing.
#[utoipa::path(
    post,
    path = "/v3/clusters/{cluster_id}/topics/{topic}/configs:alter",
    operation_id = "v3_alter_topic_configs",
    tag = "v3 configs",
    params(params::TopicPath),
    request_body(content = AlterConfigsRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "Applied (or valid, with `validate_only`)"),
        (status = 400, description = "Malformed JSON (400); an unknown config, a bad value, a SET without a value or a name twice (40002)", body = ErrorBody),
        (status = 404, description = "Unknown cluster (404) or topic (40403)", body = ErrorBody),
        (status = 415, description = "Content-Type is not JSON", body = ErrorBody),
        (status = 422, description = "Empty body or wrong shape", body = ErrorBody),
    ),
)]
pub async fn alter_topic_configs(
    State(state): State<AppState>,
    Path((cluster_id, topic)): Path<(String, String)>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<StatusCode, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    require_json(&headers)?;
    let req: AlterConfigsRequest = parse_json(&body, Api::V3)?;
    let changes = check_changes(req.data.into_iter().map(|Object(e)| e).collect())?;
    apply(&state, topic, changes, req.validate_only).await
}

#[cfg(test)]
mod tests {
    use axum::http::{Method, StatusCode};
    use serde_json::{Value, json};

    use crate::broker::topic_config::TOPIC_CONFIGS;
    use crate::gateway::testing::TestGateway;

    async fn config(gw: &TestGateway, topic: &str, name: &str) -> Value {
        let c = gw.cluster_id();
        let (status, body) = gw
            .get(&format!("/v3/clusters/{c}/topics/{topic}/configs/{name}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    #[tokio::test]
    async fn config_resources_have_confluent_shapes() {
        let gw =
            TestGateway::with_defaults([("retention.ms".to_owned(), "1000".to_owned())].into())
                .await;
        gw.create_topic("t", 1);
        let (c, v3) = (gw.cluster_id(), gw.v3());

        assert_eq!(
            config(&gw, "t", "retention.ms").await,
            json!({
                "kind": "KafkaTopicConfig",
                "metadata": {
                    "self": format!("{v3}/topics/t/configs/retention.ms"),
                    "resource_name": format!("crn:///kafka={c}/topic=t/config=retention.ms"),
                },
                "cluster_id": c,
                "topic_name": "t",
                "name": "retention.ms",
                "value": "1000",
                "is_default": false,
                "is_read_only": false,
                "is_sensitive": false,
                "source": "STATIC_BROKER_CONFIG",
                "synonyms": [
                    { "name": "log.retention.ms", "value": "1000", "source": "STATIC_BROKER_CONFIG" },
                    { "name": "log.retention.ms", "value": "604800000", "source": "DEFAULT_CONFIG" },
                ],
            })
        );

        let (status, list) = gw.get(&format!("/v3/clusters/{c}/topics/t/configs")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["kind"], "KafkaTopicConfigList");
        assert_eq!(
            list["metadata"],
            json!({ "self": format!("{v3}/topics/t/configs"), "next": null })
        );
        let names: Vec<&str> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = TOPIC_CONFIGS.iter().map(|d| d.name).collect();
        assert_eq!(names, expected);
    }

    #[tokio::test]
    async fn put_and_delete_one_config() {
        let gw = TestGateway::new().await;
        gw.create_topic("t", 1);
        let c = gw.cluster_id();
        let uri = format!("/v3/clusters/{c}/topics/t/configs/cleanup.policy");

        let (status, body) = gw
            .call(Method::PUT, &uri, Some(json!({ "value": "compact" })))
            .await;
        assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
        let set = config(&gw, "t", "cleanup.policy").await;
        assert_eq!(set["value"], "compact");
        assert_eq!(set["source"], "DYNAMIC_TOPIC_CONFIG");
        assert_eq!(set["is_default"], false);
        assert_eq!(
            set["synonyms"][0],
            json!({ "name": "cleanup.policy", "value": "compact", "source": "DYNAMIC_TOPIC_CONFIG" })
        );
        let log = gw.broker.log_config(&gw.broker.topic("t").unwrap());
        assert!(log.cleanup_policy.compact && !log.cleanup_policy.delete);

        let (status, _) = gw.call(Method::DELETE, &uri, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let reset = config(&gw, "t", "cleanup.policy").await;
        assert_eq!(reset["value"], "delete");
        assert_eq!(reset["source"], "DEFAULT_CONFIG");
        assert_eq!(reset["is_default"], true);
        assert_eq!(
            reset["synonyms"],
            json!([{ "name": "log.cleanup.policy", "value": "delete", "source": "DEFAULT_CONFIG" }])
        );
        // Resetting what is not set is fine, as in Kafka.
        let (status, _) = gw.call(Method::DELETE, &uri, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }

    #[tokio::test]
    async fn config_errors() {
        let gw = TestGateway::new().await;
        gw.create_topic("t", 1);
        let c = gw.cluster_id();
        let base = format!("/v3/clusters/{c}/topics");

        let (status, body) = gw.get(&format!("{base}/t/configs/retention.minutes")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            json!({ "error_code": 404, "message": "HTTP 404 Not Found" })
        );
        for (method, uri) in [
            (Method::GET, format!("{base}/nope/configs")),
            (Method::GET, format!("{base}/nope/configs/retention.ms")),
            (Method::DELETE, format!("{base}/nope/configs/retention.ms")),
        ] {
            let (status, body) = gw.call(method, &uri, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(body["error_code"], 40403, "{uri}");
        }
        let (status, body) = gw
            .call(
                Method::PUT,
                &format!("{base}/nope/configs/retention.ms"),
                Some(json!({ "value": "1" })),
            )
            .await;
        assert_eq!(
            (status, &body["error_code"]),
            (StatusCode::NOT_FOUND, &json!(40403))
        );

        let put = |name: &str, value: Value| {
            gw.call(
                Method::PUT,
                format!("{base}/t/configs/{name}"),
                Some(json!({ "value": value })),
            )
        };
        let (status, body) = put("retention.minutes", json!("1")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({ "error_code": 40002, "message": "Unknown topic config name: retention.minutes" })
        );
        let (status, body) = put("retention.ms", json!("soon")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({
                "error_code": 40002,
                "message": "Invalid value soon for configuration retention.ms: Not a number of type LONG",
            })
        );
        let (status, body) = put("retention.ms", Value::Null).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({ "error_code": 40002, "message": "Null value not supported for : retention.ms" })
        );
        let (status, body) = gw
            .call(
                Method::DELETE,
                &format!("{base}/t/configs/retention.minutes"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error_code"], 40002);
        assert_eq!(
            config(&gw, "t", "retention.ms").await["source"],
            "DEFAULT_CONFIG"
        );

        let (status, body) = gw.get("/v3/clusters/other/topics/t/configs").await;
        assert_eq!(
            (status, &body["error_code"]),
            (StatusCode::NOT_FOUND, &json!(404))
        );
    }

    #[tokio::test]
    async fn alter_is_all_or_nothing() {
        let gw = TestGateway::new().await;
        gw.create_topic("t", 1);
        let c = gw.cluster_id();
        let uri = format!("/v3/clusters/{c}/topics/t/configs:alter");
        let alter = |body: Value| gw.call(Method::POST, &uri, Some(body));

        let (status, body) = alter(json!({ "data": [
            { "name": "retention.ms", "value": "1000" },
            { "name": "segment.ms", "value": "60000", "operation": "SET" },
        ] }))
        .await;
        assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
        assert_eq!(config(&gw, "t", "retention.ms").await["value"], "1000");
        assert_eq!(config(&gw, "t", "segment.ms").await["value"], "60000");

        // One bad value: 40002 and nothing changes, not even the good entries before it.
        let (status, body) = alter(json!({ "data": [
            { "name": "retention.ms", "operation": "DELETE" },
            { "name": "cleanup.policy", "value": "compact" },
            { "name": "segment.ms", "value": "0" },
        ] }))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({
                "error_code": 40002,
                "message": "Invalid value 0 for configuration segment.ms: Value must be at least 1",
            })
        );
        assert_eq!(config(&gw, "t", "retention.ms").await["value"], "1000");
        assert_eq!(config(&gw, "t", "cleanup.policy").await["value"], "delete");

        // validate_only checks without changing.
        let (status, _) = alter(json!({
            "data": [{ "name": "retention.ms", "value": "5" }],
            "validate_only": true,
        }))
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(config(&gw, "t", "retention.ms").await["value"], "1000");
        let (status, body) = alter(json!({
            "data": [{ "name": "retention.ms", "value": "x" }],
            "validate_only": true,
        }))
        .await;
        assert_eq!(
            (status, &body["error_code"]),
            (StatusCode::BAD_REQUEST, &json!(40002))
        );

        // Kafka's request-level refusals.
        let (status, body) = alter(json!({ "data": [
            { "name": "retention.ms", "value": "1" },
            { "name": "retention.ms", "operation": "DELETE" },
        ] }))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({ "error_code": 40002, "message": "Error due to duplicate config keys" })
        );
        let (status, body) = alter(json!({ "data": [{ "name": "retention.ms" }] })).await;
        assert_eq!(
            (status, &body["error_code"]),
            (StatusCode::BAD_REQUEST, &json!(40002))
        );

        // DELETE resets to the default.
        let (status, _) = alter(json!({ "data": [
            { "name": "retention.ms", "operation": "DELETE" },
        ] }))
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let reset = config(&gw, "t", "retention.ms").await;
        assert_eq!(reset["value"], "604800000");
        assert_eq!(reset["source"], "DEFAULT_CONFIG");

        let (status, body) = gw
            .call(
                Method::POST,
                &format!("/v3/clusters/{c}/topics/nope/configs:alter"),
                Some(json!({ "data": [{ "name": "retention.ms", "value": "1" }] })),
            )
            .await;
        assert_eq!(
            (status, &body["error_code"]),
            (StatusCode::NOT_FOUND, &json!(40403))
        );
    }

    #[tokio::test]
    async fn changes_survive_reopen_and_all_topics_lists_them() {
        let gw = TestGateway::new().await;
        gw.create_topic("a", 1);
        gw.create_topic("b", 1);
        let c = gw.cluster_id();
        let (status, _) = gw
            .call(
                Method::PUT,
                &format!("/v3/clusters/{c}/topics/b/configs/max.message.bytes"),
                Some(json!({ "value": "2048" })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);

        let gw = gw.reopen().await;
        assert_eq!(config(&gw, "b", "max.message.bytes").await["value"], "2048");
        let (status, all) = gw.get(&format!("/v3/clusters/{c}/topics/-/configs")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(all["kind"], "KafkaTopicConfigList");
        assert_eq!(
            all["metadata"]["self"],
            format!("{}/topics/-/configs", gw.v3())
        );
        let data = all["data"].as_array().unwrap();
        assert_eq!(data.len(), 2 * TOPIC_CONFIGS.len());
        assert_eq!(data[0]["topic_name"], "a");
        let b_max = data
            .iter()
            .find(|e| e["topic_name"] == "b" && e["name"] == "max.message.bytes")
            .unwrap();
        assert_eq!(b_max["value"], "2048");
        assert_eq!(b_max["source"], "DYNAMIC_TOPIC_CONFIG");
    }
}
