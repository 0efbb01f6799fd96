//! v3 brokers (Confluent REST Proxy v3 shapes): the broker list, one broker, its configs, its
//! partition replicas, and the cluster-wide dynamic broker configs.
//!
//! The brokers are those registered with the metadata quorum and not fenced, as Kafka's
//! DescribeCluster lists them; a broker's `host` and `port` are those of the public URL it
//! registered, the address clients reach it at (there is no separate Kafka listener). The
//! configs and partition replicas are served for this broker only until requests are forwarded
//! between brokers (another broker's are a 404). This broker's configs are the broker-level
//! defaults of topic configs under Kafka's broker names (`log.retention.ms`, ...), each set in the
//! server config (`STATIC_BROKER_CONFIG`) or Kafka's default (`DEFAULT_CONFIG`); they are
//! read-only, since changing them means restarting with a new config. Kafka reports only
//! dynamic cluster-wide defaults under `/broker-configs`, and there are none, so that list is
//! empty. Unknown or non-numeric broker ids, like unknown config names, are the generic 404.

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use runnel_openapi::{ErrorBody, params, v3 as doc};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::configs::{source, synonyms};
use super::partitions::kafka_replica;
use super::{check_cluster, cluster_url, collection, related, resource};
use crate::broker::topic_config::{ConfigEntry, TopicConfig, config_def};
use crate::gateway::errors::GatewayError;
use crate::gateway::extract::Path;
use crate::gateway::extract::path_id;
use crate::gateway::state::AppState;

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_brokers))
        .routes(routes!(get_broker))
        .routes(routes!(list_broker_configs))
        .routes(routes!(get_broker_config))
        .routes(routes!(list_all_broker_configs))
        .routes(routes!(list_broker_replicas))
        .routes(routes!(list_cluster_configs))
        .routes(routes!(get_cluster_config))
}

fn brokers_url(state: &AppState) -> String {
    format!("{}/brokers", cluster_url(state))
}

/// The unfenced registered brokers, by id.
fn live_brokers(state: &AppState) -> Vec<(u32, String)> {
    state
        .cluster
        .image()
        .metadata
        .brokers
        .iter()
        .filter(|(_, b)| !b.fenced)
        .map(|(id, b)| (id.0, b.http_addr.clone()))
        .collect()
}

/// Checks the cluster and that `segment` names this broker.
fn check_broker(state: &AppState, cluster_id: &str, segment: &str) -> Result<(), GatewayError> {
    check_cluster(state, cluster_id)?;
    if path_id(segment)? == state.broker.broker_id() {
        Ok(())
    } else {
        Err(GatewayError::NotFound)
    }
}

/// Host and port of the public URL (the scheme's default port when it names none).
fn host_and_port(public_url: &str) -> (Option<String>, Option<u16>) {
    let Ok(uri) = public_url.parse::<Uri>() else {
        return (None, None);
    };
    let port = uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    });
    (uri.host().map(str::to_owned), port)
}

/// The `KafkaBroker` resource of broker `b`, reached at `public_url`.
fn kafka_broker(state: &AppState, b: u32, public_url: &str) -> doc::KafkaBroker {
    let c = state.broker.cluster_id();
    let url = format!("{}/{b}", brokers_url(state));
    let (host, port) = host_and_port(public_url);
    doc::KafkaBroker {
        kind: "KafkaBroker".to_owned(),
        metadata: resource(url.clone(), format!("crn:///kafka={c}/broker={b}")),
        cluster_id: c.to_owned(),
        broker_id: b,
        host,
        port,
        rack: None,
        configs: related(format!("{url}/configs")),
        partition_replicas: related(format!("{url}/partition-replicas")),
    }
}

/// This broker's configs, by broker name: the broker-level resolution of every topic config.
fn broker_configs(state: &AppState) -> Vec<(&'static str, ConfigEntry)> {
    let mut configs: Vec<(&'static str, ConfigEntry)> = TopicConfig::default()
        .describe(state.broker.topic_defaults())
        .into_iter()
        .map(|e| {
            let name = config_def(e.name).map_or(e.name, |d| d.broker_synonym);
            (name, e)
        })
        .collect();
    configs.sort_by_key(|(name, _)| *name);
    configs
}

/// The `KafkaBrokerConfig` resource.
fn kafka_broker_config(state: &AppState, name: &str, e: &ConfigEntry) -> doc::KafkaBrokerConfig {
    let c = state.broker.cluster_id();
    let b = state.broker.broker_id();
    doc::KafkaBrokerConfig {
        kind: "KafkaBrokerConfig".to_owned(),
        metadata: resource(
            format!("{}/{b}/configs/{name}", brokers_url(state)),
            format!("crn:///kafka={c}/broker={b}/config={name}"),
        ),
        cluster_id: c.to_owned(),
        broker_id: b,
        name: name.to_owned(),
        value: Some(e.value.clone()),
        is_default: e.is_default,
        // Read-only: a broker config changes only with the server config, by a restart.
        is_read_only: true,
        is_sensitive: e.is_sensitive,
        source: source(e.source),
        synonyms: synonyms(&e.synonyms),
    }
}

/// This broker's configs as a `KafkaBrokerConfigList` at `url`.
fn broker_config_list(state: &AppState, url: String) -> doc::KafkaBrokerConfigList {
    doc::KafkaBrokerConfigList {
        kind: "KafkaBrokerConfigList".to_owned(),
        metadata: collection(url),
        data: broker_configs(state)
            .iter()
            .map(|(name, e)| kafka_broker_config(state, name, e))
            .collect(),
    }
}

/// List the brokers: those registered with the metadata quorum and not fenced.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/brokers",
    operation_id = "v3_list_brokers",
    tag = "v3 brokers",
    params(params::ClusterPath),
    responses(
        (status = 200, description = "The registered brokers that are not fenced", body = doc::KafkaBrokerList),
        (status = 404, description = "Not this cluster's id (404)", body = ErrorBody),
    ),
)]
pub async fn list_brokers(
    State(state): State<AppState>,
    Path(cluster_id): Path<String>,
) -> Result<Json<doc::KafkaBrokerList>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    Ok(Json(doc::KafkaBrokerList {
        kind: "KafkaBrokerList".to_owned(),
        metadata: collection(brokers_url(&state)),
        data: live_brokers(&state)
            .iter()
            .map(|(id, url)| kafka_broker(&state, *id, url))
            .collect(),
    }))
}

/// Describe a broker.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/brokers/{broker_id}",
    operation_id = "v3_get_broker",
    tag = "v3 brokers",
    params(params::BrokerPath),
    responses(
        (status = 200, description = "The broker", body = doc::KafkaBroker),
        (status = 404, description = "Unknown cluster or broker, or a broker id that is not a number (404)", body = ErrorBody),
    ),
)]
pub async fn get_broker(
    State(state): State<AppState>,
    Path((cluster_id, broker)): Path<(String, String)>,
) -> Result<Json<doc::KafkaBroker>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    let id = path_id(&broker)?;
    live_brokers(&state)
        .iter()
        .find(|(b, _)| *b == id)
        .map(|(b, url)| Json(kafka_broker(&state, *b, url)))
        .ok_or(GatewayError::NotFound)
}

/// List a broker's configs: the broker-level defaults of every topic config, read-only.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/brokers/{broker_id}/configs",
    operation_id = "v3_list_broker_configs",
    tag = "v3 brokers",
    params(params::BrokerPath),
    responses(
        (status = 200, description = "The broker's configs, by name", body = doc::KafkaBrokerConfigList),
        (status = 404, description = "Unknown cluster or broker, or a broker id that is not a number (404)", body = ErrorBody),
    ),
)]
pub async fn list_broker_configs(
    State(state): State<AppState>,
    Path((cluster_id, broker)): Path<(String, String)>,
) -> Result<Json<doc::KafkaBrokerConfigList>, GatewayError> {
    check_broker(&state, &cluster_id, &broker)?;
    let url = format!("{}/{broker}/configs", brokers_url(&state));
    Ok(Json(broker_config_list(&state, url)))
}

/// List every broker's configs.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/brokers/-/configs",
    operation_id = "v3_list_all_broker_configs",
    tag = "v3 brokers",
    params(params::ClusterPath),
    responses(
        (status = 200, description = "Every broker's configs", body = doc::KafkaBrokerConfigList),
        (status = 404, description = "Not this cluster's id (404)", body = ErrorBody),
    ),
)]
pub async fn list_all_broker_configs(
    State(state): State<AppState>,
    Path(cluster_id): Path<String>,
) -> Result<Json<doc::KafkaBrokerConfigList>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    let url = format!("{}/-/configs", brokers_url(&state));
    Ok(Json(broker_config_list(&state, url)))
}

/// Describe one broker config.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/brokers/{broker_id}/configs/{name}",
    operation_id = "v3_get_broker_config",
    tag = "v3 brokers",
    params(params::BrokerConfigPath),
    responses(
        (status = 200, description = "The config", body = doc::KafkaBrokerConfig),
        (status = 404, description = "Unknown cluster, broker or config name (404)", body = ErrorBody),
    ),
)]
pub async fn get_broker_config(
    State(state): State<AppState>,
    Path((cluster_id, broker, name)): Path<(String, String, String)>,
) -> Result<Json<doc::KafkaBrokerConfig>, GatewayError> {
    check_broker(&state, &cluster_id, &broker)?;
    broker_configs(&state)
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, e)| Json(kafka_broker_config(&state, n, e)))
        .ok_or(GatewayError::NotFound)
}

/// List the partition replicas a broker holds: every partition, on this node.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/brokers/{broker_id}/partition-replicas",
    operation_id = "v3_list_broker_replicas",
    tag = "v3 brokers",
    params(params::BrokerPath),
    responses(
        (status = 200, description = "Every partition replica on the broker", body = doc::KafkaReplicaList),
        (status = 404, description = "Unknown cluster or broker, or a broker id that is not a number (404)", body = ErrorBody),
    ),
)]
pub async fn list_broker_replicas(
    State(state): State<AppState>,
    Path((cluster_id, broker)): Path<(String, String)>,
) -> Result<Json<doc::KafkaReplicaList>, GatewayError> {
    check_broker(&state, &cluster_id, &broker)?;
    let data = state
        .broker
        .topics()
        .iter()
        .flat_map(|t| {
            t.partitions()
                .iter()
                .map(|p| kafka_replica(&state, t.name(), p.id(), state.broker.broker_id()))
                .collect::<Vec<_>>()
        })
        .collect();
    let url = format!("{}/{broker}/partition-replicas", brokers_url(&state));
    Ok(Json(doc::KafkaReplicaList {
        kind: "KafkaReplicaList".to_owned(),
        metadata: collection(url),
        data,
    }))
}

/// List the dynamic cluster-wide broker configs: there are none.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/broker-configs",
    operation_id = "v3_list_cluster_configs",
    tag = "v3 brokers",
    params(params::ClusterPath),
    responses(
        (status = 200, description = "Always empty", body = doc::KafkaClusterConfigList),
        (status = 404, description = "Not this cluster's id (404)", body = ErrorBody),
    ),
)]
pub async fn list_cluster_configs(
    State(state): State<AppState>,
    Path(cluster_id): Path<String>,
) -> Result<Json<doc::KafkaClusterConfigList>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    let url = format!(
        "{}/v3/clusters/{cluster_id}/broker-configs",
        state.public_url
    );
    Ok(Json(doc::KafkaClusterConfigList {
        kind: "KafkaClusterConfigList".to_owned(),
        metadata: collection(url),
        data: Vec::new(),
    }))
}

/// Describe a dynamic cluster-wide broker config: there are none, so 404.
#[utoipa::path(
    get,
    path = "/v3/clusters/{cluster_id}/broker-configs/{name}",
    operation_id = "v3_get_cluster_config",
    tag = "v3 brokers",
    params(params::ClusterConfigPath),
    responses(
        (status = 200, description = "The config (never: there are none)", body = doc::KafkaClusterConfig),
        (status = 404, description = "Unknown cluster or config (404): always", body = ErrorBody),
    ),
)]
pub async fn get_cluster_config(
    State(state): State<AppState>,
    Path((cluster_id, _name)): Path<(String, String)>,
) -> Result<Json<doc::KafkaClusterConfig>, GatewayError> {
    check_cluster(&state, &cluster_id)?;
    Err(GatewayError::NotFound)
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::json;

    use super::host_and_port;
    use crate::broker::topic_config::TOPIC_CONFIGS;
    use crate::gateway::testing::TestGateway;

    #[test]
    fn host_and_port_of_the_public_url() {
        assert_eq!(
            host_and_port("http://runnel.test:8080"),
            (Some("runnel.test".into()), Some(8080))
        );
        assert_eq!(
            host_and_port("https://example.com"),
            (Some("example.com".into()), Some(443))
        );
    }

    #[tokio::test]
    async fn broker_resources_have_confluent_shapes() {
        let gw = TestGateway::new().await;
        let (c, v3) = (gw.cluster_id(), gw.v3());
        let broker = json!({
            "kind": "KafkaBroker",
            "metadata": {
                "self": format!("{v3}/brokers/1"),
                "resource_name": format!("crn:///kafka={c}/broker=1"),
            },
            "cluster_id": c,
            "broker_id": 1,
            "host": "runnel.test",
            "port": 8080,
            "rack": null,
            "configs": { "related": format!("{v3}/brokers/1/configs") },
            "partition_replicas": { "related": format!("{v3}/brokers/1/partition-replicas") },
        });
        let (status, body) = gw.get(format!("/v3/clusters/{c}/brokers/1")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, broker);
        let (status, body) = gw.get(format!("/v3/clusters/{c}/brokers")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({
                "kind": "KafkaBrokerList",
                "metadata": { "self": format!("{v3}/brokers"), "next": null },
                "data": [broker],
            })
        );
        for uri in [
            format!("/v3/clusters/{c}/brokers/2"),
            format!("/v3/clusters/{c}/brokers/x"),
            format!("/v3/clusters/{c}/brokers/2/configs"),
            "/v3/clusters/other/brokers".to_owned(),
        ] {
            let (status, body) = gw.get(&uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(
                body,
                json!({ "error_code": 404, "message": "HTTP 404 Not Found" })
            );
        }
    }

    #[tokio::test]
    async fn broker_configs_are_the_topic_defaults() {
        let gw =
            TestGateway::with_defaults([("retention.ms".to_owned(), "1000".to_owned())].into())
                .await;
        let (c, v3) = (gw.cluster_id(), gw.v3());
        let (status, body) = gw
            .get(format!(
                "/v3/clusters/{c}/brokers/1/configs/log.retention.ms"
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({
                "kind": "KafkaBrokerConfig",
                "metadata": {
                    "self": format!("{v3}/brokers/1/configs/log.retention.ms"),
                    "resource_name": format!("crn:///kafka={c}/broker=1/config=log.retention.ms"),
                },
                "cluster_id": c,
                "broker_id": 1,
                "name": "log.retention.ms",
                "value": "1000",
                "is_default": false,
                "is_read_only": true,
                "is_sensitive": false,
                "source": "STATIC_BROKER_CONFIG",
                "synonyms": [
                    { "name": "log.retention.ms", "value": "1000", "source": "STATIC_BROKER_CONFIG" },
                    { "name": "log.retention.ms", "value": "604800000", "source": "DEFAULT_CONFIG" },
                ],
            })
        );
        let (_, segment) = gw
            .get(format!(
                "/v3/clusters/{c}/brokers/1/configs/log.segment.bytes"
            ))
            .await;
        assert_eq!(segment["source"], "DEFAULT_CONFIG");
        assert_eq!(segment["is_default"], true);

        let (status, list) = gw.get(format!("/v3/clusters/{c}/brokers/1/configs")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["kind"], "KafkaBrokerConfigList");
        let names: Vec<&str> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), TOPIC_CONFIGS.len());
        assert!(names.is_sorted());
        let (_, all) = gw.get(format!("/v3/clusters/{c}/brokers/-/configs")).await;
        assert_eq!(all["data"], list["data"]);

        // A topic name is not a broker config name.
        let (status, _) = gw
            .get(format!("/v3/clusters/{c}/brokers/1/configs/retention.ms"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn cluster_configs_and_partition_replicas() {
        let gw = TestGateway::new().await;
        gw.create_topic("a", 2);
        gw.create_topic("b", 1);
        let (c, v3) = (gw.cluster_id(), gw.v3());
        let (status, body) = gw.get(format!("/v3/clusters/{c}/broker-configs")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({
                "kind": "KafkaClusterConfigList",
                "metadata": { "self": format!("{v3}/broker-configs"), "next": null },
                "data": [],
            })
        );
        let (status, _) = gw
            .get(format!("/v3/clusters/{c}/broker-configs/log.retention.ms"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let (status, body) = gw
            .get(format!("/v3/clusters/{c}/brokers/1/partition-replicas"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["kind"], "KafkaReplicaList");
        let replicas: Vec<(&str, u64)> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["topic_name"].as_str().unwrap(),
                    r["partition_id"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(replicas, [("a", 0), ("a", 1), ("b", 0)]);
    }
}
