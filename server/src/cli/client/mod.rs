//! A small typed HTTP client for Runnel's API, used by the `runnel` subcommands and `runnel bench`.
//!
//! It speaks the same Confluent REST Proxy shapes any other client would (v3 admin, v2 produce,
//! the stateless read), so the CLI exercises the public API and nothing else. Answers are read
//! into the `runnel_openapi` types the server answers with and the document describes (a field
//! the server stops sending fails here, in the CLI's tests, not at a user's terminal). Error bodies
//! `{"error_code", "message"}` become [`ClientError::Api`], whose `Display` reads as a sentence
//! for the terminal: `topic 'x' not found (40401)`. A refused connection names the URL and the
//! innermost cause instead of reqwest's whole chain.
//!
//! The cluster id needed by every v3 path is fetched once (`GET /v3/clusters`) and cached.
//!
//! Not owned here: retries (a CLI run reports the first failure; the bench counts them) and
//! output formatting (see `commands`).

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};
use runnel_openapi::v2::{JsonRecord, ProduceResponse};
use runnel_openapi::v3::{
    KafkaClusterList, KafkaPartitionWithOffsets, KafkaTopic, KafkaTopicConfig,
    KafkaTopicConfigList, KafkaTopicList,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

/// Where client subcommands look for the server when `--url` is not given.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// How long to wait for a TCP connection before giving up on the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Upper bound on one request; the longest legitimate one is a 30 s long-poll (the gateway's cap).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How much of a non-JSON error body is quoted in an error message.
const ERROR_BODY_QUOTE: usize = 200;

/// The embedded format of v2 produce and read bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Keys and values are base64 strings on the wire and raw bytes in the log.
    Binary,
    /// Keys and values are JSON documents, stored as their serialized text.
    Json,
}

impl Format {
    /// `application/vnd.kafka.<format>.v2+json`.
    pub const fn media_type(self) -> &'static str {
        match self {
            Format::Binary => "application/vnd.kafka.binary.v2+json",
            Format::Json => "application/vnd.kafka.json.v2+json",
        }
    }

    /// The name used on the command line and in reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Binary => "binary",
            Format::Json => "json",
        }
    }
}

/// The `acks` of produce requests: the broker's own type.
pub use crate::broker::Acks;

/// A failed call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered with a Confluent error body.
    #[error("{}", sentence(.message, *.error_code))]
    Api {
        status: u16,
        error_code: i64,
        message: String,
    },
    /// The server answered an error status without a Confluent body (a proxy's HTML page, say).
    #[error("HTTP {status} from {url}: {body}")]
    UnexpectedStatus {
        status: u16,
        url: String,
        body: String,
    },
    /// No connection could be made.
    #[error("cannot reach runnel at {base}: {reason}")]
    Connect { base: String, reason: String },
    /// The request failed after connecting (reset, timeout, unreadable body).
    #[error("request to {url} failed: {reason}")]
    Request { url: String, reason: String },
    /// A success status with a body that is not the documented shape.
    #[error("unexpected response from {url}")]
    Decode {
        url: String,
        #[source]
        source: serde_json::Error,
    },
    /// `--url` is not an absolute http(s) URL.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// `GET /v3/clusters` listed no cluster.
    #[error("the server at {base} lists no cluster")]
    NoCluster { base: String },
}

impl ClientError {
    /// The Confluent `error_code`, when the server sent one.
    pub fn error_code(&self) -> Option<i64> {
        match self {
            ClientError::Api { error_code, .. } => Some(*error_code),
            ClientError::UnexpectedStatus { .. }
            | ClientError::Connect { .. }
            | ClientError::Request { .. }
            | ClientError::Decode { .. }
            | ClientError::InvalidUrl { .. }
            | ClientError::NoCluster { .. } => None,
        }
    }

    /// True for "topic not found" in either API version's code (v2 40401, v3 40403).
    pub fn is_unknown_topic(&self) -> bool {
        matches!(self.error_code(), Some(40401 | 40403))
    }
}

/// Turns a server message into the tail of an `error: ...` line: first letter lowered unless it
/// starts an acronym, trailing period dropped, code appended.
fn sentence(message: &str, code: i64) -> String {
    let message = message.trim().trim_end_matches('.');
    let mut chars = message.chars();
    let text = match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => {
            let mut s: String = first.to_lowercase().collect();
            s.push_str(&message[first.len_utf8()..]);
            s
        }
        _ => message.to_owned(),
    };
    format!("{text} ({code})")
}

/// Result alias for the client.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// One record of a v2 produce body. `None` fields are left out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProduceRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<u32>,
}

/// A stateless read: where and how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadRequest<'a> {
    pub topic: &'a str,
    pub partition: u32,
    pub offset: u64,
    pub max_bytes: usize,
    /// How long the server may wait for records at `offset`, in ms (0 answers at once).
    pub timeout_ms: u64,
    pub format: Format,
}

/// The client: one connection pool to one server. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    cluster_id: std::sync::Arc<OnceCell<String>>,
}

impl Client {
    /// A client for the server at `url` (`http://host:port`, optionally with a path prefix).
    ///
    /// # Errors
    /// [`ClientError::InvalidUrl`] if `url` is not an absolute http(s) URL.
    pub fn new(url: &str) -> Result<Self> {
        let invalid = |reason: String| ClientError::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        let base = Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(invalid("expected http://HOST:PORT".to_owned()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| invalid(innermost(&e)))?;
        Ok(Client {
            http,
            base,
            cluster_id: std::sync::Arc::default(),
        })
    }

    /// The server URL this client talks to.
    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Sends a request and turns error statuses into [`ClientError`]s.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let request = request.build().map_err(|e| ClientError::Request {
            url: self.base_url().to_owned(),
            reason: innermost(&e),
        })?;
        let url = request.url().to_string();
        let response = self.http.execute(request).await.map_err(|e| {
            if e.is_connect() {
                ClientError::Connect {
                    base: self.base_url().to_owned(),
                    reason: innermost(&e),
                }
            } else {
                ClientError::Request {
                    url: url.clone(),
                    reason: innermost(&e),
                }
            }
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.bytes().await.unwrap_or_default();
        Err(error_from_body(status, &url, &body))
    }

    async fn body_json<T: DeserializeOwned>(&self, response: reqwest::Response) -> Result<T> {
        let url = response.url().to_string();
        let body = response.bytes().await.map_err(|e| ClientError::Request {
            url: url.clone(),
            reason: innermost(&e),
        })?;
        serde_json::from_slice(&body).map_err(|source| ClientError::Decode { url, source })
    }

    async fn get_json<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<T> {
        let response = self.send(self.http.get(self.url(segments))).await?;
        self.body_json(response).await
    }

    /// `GET /v1/cluster`: the cluster as the server's metadata image has it.
    ///
    /// # Errors
    /// The server cannot be reached or answers an error.
    pub async fn cluster_status(&self) -> Result<runnel_openapi::cluster::ClusterStatus> {
        self.get_json(&["v1", "cluster"]).await
    }

    /// `GET /v1/audit/summary`: every audited topic's last complete window and problems.
    ///
    /// # Errors
    /// The server cannot be reached or answers an error.
    pub async fn audit_summary(&self) -> Result<runnel_openapi::audit::AuditSummary> {
        self.get_json(&["v1", "audit", "summary"]).await
    }

    /// `GET /v1/audit?topic=`: one topic's windows with each tier's count and the verdict.
    ///
    /// # Errors
    /// The server cannot be reached or answers an error (an unknown topic: 40401).
    pub async fn audit_windows(&self, topic: &str) -> Result<runnel_openapi::audit::AuditWindows> {
        let mut url = self.url(&["v1", "audit"]);
        url.query_pairs_mut().append_pair("topic", topic);
        let response = self.send(self.http.get(url)).await?;
        self.body_json(response).await
    }

    /// The id of the server's one cluster, fetched on first use.
    ///
    /// # Errors
    /// The server cannot be reached or lists no cluster.
    pub async fn cluster_id(&self) -> Result<&str> {
        self.cluster_id
            .get_or_try_init(|| async {
                let list: KafkaClusterList = self.get_json(&["v3", "clusters"]).await?;
                list.data
                    .into_iter()
                    .next()
                    .map(|c| c.cluster_id)
                    .ok_or_else(|| ClientError::NoCluster {
                        base: self.base_url().to_owned(),
                    })
            })
            .await
            .map(String::as_str)
    }

    async fn topic_url(&self, topic: &str, rest: &[&str]) -> Result<Url> {
        let cluster = self.cluster_id().await?;
        let mut segments = vec!["v3", "clusters", cluster, "topics", topic];
        segments.extend_from_slice(rest);
        Ok(self.url(&segments))
    }

    /// `GET /v3/clusters/{c}/topics`.
    ///
    /// # Errors
    /// Any [`ClientError`].
    pub async fn list_topics(&self) -> Result<Vec<KafkaTopic>> {
        let cluster = self.cluster_id().await?.to_owned();
        let list: KafkaTopicList = self
            .get_json(&["v3", "clusters", &cluster, "topics"])
            .await?;
        Ok(list.data)
    }

    /// `GET /v3/clusters/{c}/topics/{t}`.
    ///
    /// # Errors
    /// Any [`ClientError`]; an unknown topic is [`ClientError::is_unknown_topic`].
    pub async fn get_topic(&self, topic: &str) -> Result<KafkaTopic> {
        let url = self.topic_url(topic, &[]).await?;
        let response = self.send(self.http.get(url)).await?;
        self.body_json(response).await
    }

    /// `POST /v3/clusters/{c}/topics`; `partitions` `None` takes the broker's default.
    ///
    /// # Errors
    /// Any [`ClientError`]; an existing topic is a 40002.
    pub async fn create_topic(
        &self,
        topic: &str,
        partitions: Option<u32>,
        configs: &[(String, String)],
    ) -> Result<KafkaTopic> {
        let cluster = self.cluster_id().await?.to_owned();
        let mut body = json!({ "topic_name": topic });
        if let Some(p) = partitions {
            body["partitions_count"] = json!(p);
        }
        if !configs.is_empty() {
            body["configs"] = configs
                .iter()
                .map(|(name, value)| json!({ "name": name, "value": value }))
                .collect();
        }
        let url = self.url(&["v3", "clusters", &cluster, "topics"]);
        let response = self.send(self.http.post(url).json(&body)).await?;
        self.body_json(response).await
    }

    /// `DELETE /v3/clusters/{c}/topics/{t}`.
    ///
    /// # Errors
    /// Any [`ClientError`].
    pub async fn delete_topic(&self, topic: &str) -> Result<()> {
        let url = self.topic_url(topic, &[]).await?;
        self.send(self.http.delete(url)).await.map(drop)
    }

    /// `GET /v3/clusters/{c}/topics/{t}/configs`.
    ///
    /// # Errors
    /// Any [`ClientError`].
    pub async fn topic_configs(&self, topic: &str) -> Result<Vec<KafkaTopicConfig>> {
        let url = self.topic_url(topic, &["configs"]).await?;
        let response = self.send(self.http.get(url)).await?;
        let list: KafkaTopicConfigList = self.body_json(response).await?;
        Ok(list.data)
    }

    /// `POST /v3/clusters/{c}/topics/{t}/configs:alter`: sets `set`, resets `delete` to default,
    /// in one request.
    ///
    /// # Errors
    /// Any [`ClientError`]; an unknown name or bad value is a 40002.
    pub async fn alter_topic_configs(
        &self,
        topic: &str,
        set: &[(String, String)],
        delete: &[String],
    ) -> Result<()> {
        let data: Vec<Value> = set
            .iter()
            .map(|(name, value)| json!({ "name": name, "value": value, "operation": "SET" }))
            .chain(
                delete
                    .iter()
                    .map(|name| json!({ "name": name, "operation": "DELETE" })),
            )
            .collect();
        let url = self.topic_url(topic, &["configs:alter"]).await?;
        let request = self.http.post(url).json(&json!({ "data": data }));
        self.send(request).await.map(drop)
    }

    /// `GET .../topics/{t}/partitions/{p}/offset?offset_type=earliest_and_latest`.
    ///
    /// # Errors
    /// Any [`ClientError`].
    pub async fn partition_offsets(
        &self,
        topic: &str,
        partition: u32,
    ) -> Result<KafkaPartitionWithOffsets> {
        let p = partition.to_string();
        let mut url = self.topic_url(topic, &["partitions", &p, "offset"]).await?;
        url.query_pairs_mut()
            .append_pair("offset_type", "earliest_and_latest");
        let response = self.send(self.http.get(url)).await?;
        self.body_json(response).await
    }

    /// v2 produce of ready-made records: `POST /topics/{t}[/partitions/{p}]`.
    ///
    /// # Errors
    /// Whole-request failures; per-record failures are in the response.
    pub async fn produce(
        &self,
        topic: &str,
        partition: Option<u32>,
        format: Format,
        records: &[ProduceRecord],
        acks: Option<Acks>,
    ) -> Result<ProduceResponse> {
        let body = serde_json::to_vec(&json!({ "records": records }))
            .map(Bytes::from)
            .map_err(|source| ClientError::Decode {
                url: self.base_url().to_owned(),
                source,
            })?;
        self.produce_body(topic, partition, format, body, acks)
            .await
    }

    /// v2 produce of an already serialized body (`{"records": [...]}`), so a benchmark can build
    /// it once and send it many times.
    ///
    /// # Errors
    /// Whole-request failures; per-record failures are in the response.
    pub async fn produce_body(
        &self,
        topic: &str,
        partition: Option<u32>,
        format: Format,
        body: Bytes,
        acks: Option<Acks>,
    ) -> Result<ProduceResponse> {
        let p = partition.map(|p| p.to_string());
        let mut url = match &p {
            Some(p) => self.url(&["topics", topic, "partitions", p]),
            None => self.url(&["topics", topic]),
        };
        if let Some(acks) = acks {
            url.query_pairs_mut().append_pair("acks", acks.as_str());
        }
        let request = self
            .http
            .request(Method::POST, url)
            .header(CONTENT_TYPE, format.media_type())
            .body(body);
        let response = self.send(request).await?;
        self.body_json(response).await
    }

    /// The stateless read, `GET /topics/{t}/partitions/{p}/records`, decoded as [`JsonRecord`]s
    /// (in the `binary` format, key and value are base64 strings).
    ///
    /// # Errors
    /// Any [`ClientError`]; an offset past the end is a 40002.
    pub async fn read(&self, read: ReadRequest<'_>) -> Result<Vec<JsonRecord>> {
        self.read_as(read).await
    }

    /// The stateless read decoded as any record shape: a benchmark decodes only the offsets.
    ///
    /// # Errors
    /// Any [`ClientError`].
    pub async fn read_as<T: DeserializeOwned>(&self, read: ReadRequest<'_>) -> Result<Vec<T>> {
        let p = read.partition.to_string();
        let mut url = self.url(&["topics", read.topic, "partitions", &p, "records"]);
        url.query_pairs_mut()
            .append_pair("offset", &read.offset.to_string())
            .append_pair("max_bytes", &read.max_bytes.to_string())
            .append_pair("timeout", &read.timeout_ms.to_string());
        let request = self.http.get(url).header(ACCEPT, read.format.media_type());
        let response = self.send(request).await?;
        self.body_json(response).await
    }
}

/// A v2 consumer instance this client created: `/consumers/{group}/instances/{name}`.
///
/// Its URL is built from this client's base URL, not from the `base_uri` the server returns,
/// which names the server's configured public URL (unreachable from here behind a proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerInstance {
    pub group: String,
    pub name: String,
    pub format: Format,
}

/// A position to commit through a v2 consumer instance: as Confluent's v2 API has it, the
/// offset of the last record processed (the group stores the one after it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicPartitionOffset {
    pub topic: String,
    pub partition: u32,
    pub offset: u64,
}

impl Client {
    fn instance_url(&self, c: &ConsumerInstance, tail: &[&str]) -> Url {
        let mut segments = vec!["consumers", c.group.as_str(), "instances", c.name.as_str()];
        segments.extend_from_slice(tail);
        self.url(&segments)
    }

    /// Creates a v2 consumer instance in `group` (`POST /consumers/{group}`), with
    /// `auto.commit.enable=false`: the caller commits what it processed.
    ///
    /// # Errors
    /// Any [`ClientError`] (e.g. 40902 when the name is taken).
    pub async fn create_consumer(
        &self,
        group: &str,
        format: Format,
        auto_offset_reset: &str,
    ) -> Result<ConsumerInstance> {
        #[derive(Deserialize)]
        struct Created {
            instance_id: String,
        }
        let body = json!({
            "format": format.as_str(),
            "auto.offset.reset": auto_offset_reset,
            "auto.commit.enable": "false",
        });
        let request = self
            .http
            .post(self.url(&["consumers", group]))
            .header(CONTENT_TYPE, "application/vnd.kafka.v2+json")
            .json(&body);
        let created: Created = self.body_json(self.send(request).await?).await?;
        Ok(ConsumerInstance {
            group: group.to_owned(),
            name: created.instance_id,
            format,
        })
    }

    /// Subscribes an instance to `topics` (it joins the group).
    ///
    /// # Errors
    /// Any [`ClientError`].
    pub async fn subscribe(&self, c: &ConsumerInstance, topics: &[&str]) -> Result<()> {
        let request = self
            .http
            .post(self.instance_url(c, &["subscription"]))
            .header(CONTENT_TYPE, "application/vnd.kafka.v2+json")
            .json(&json!({ "topics": topics }));
        self.send(request).await.map(drop)
    }

    /// Polls an instance's records (`GET .../records`), waiting up to `timeout_ms`.
    ///
    /// # Errors
    /// Any [`ClientError`].
    pub async fn poll<T: DeserializeOwned>(
        &self,
        c: &ConsumerInstance,
        timeout_ms: u64,
        max_bytes: usize,
    ) -> Result<Vec<T>> {
        let mut url = self.instance_url(c, &["records"]);
        url.query_pairs_mut()
            .append_pair("timeout", &timeout_ms.to_string())
            .append_pair("max_bytes", &max_bytes.to_string());
        let request = self.http.get(url).header(ACCEPT, c.format.media_type());
        let response = self.send(request).await?;
        self.body_json(response).await
    }

    /// Commits `offsets` as the instance (`POST .../offsets`).
    ///
    /// # Errors
    /// Any [`ClientError`] (e.g. a rebalance took the partitions away).
    pub async fn commit(
        &self,
        c: &ConsumerInstance,
        offsets: &[TopicPartitionOffset],
    ) -> Result<()> {
        let request = self
            .http
            .post(self.instance_url(c, &["offsets"]))
            .header(CONTENT_TYPE, "application/vnd.kafka.v2+json")
            .json(&json!({ "offsets": offsets }));
        self.send(request).await.map(drop)
    }

    /// Deletes an instance (`DELETE /consumers/{group}/instances/{name}`): it leaves its group.
    ///
    /// # Errors
    /// Any [`ClientError`].
    pub async fn delete_consumer(&self, c: &ConsumerInstance) -> Result<()> {
        let request = self
            .http
            .delete(self.instance_url(c, &[]))
            .header(CONTENT_TYPE, "application/vnd.kafka.v2+json");
        self.send(request).await.map(drop)
    }
}

/// An error status with its body: the Confluent envelope when there is one, else a quote.
fn error_from_body(status: StatusCode, url: &str, body: &[u8]) -> ClientError {
    match serde_json::from_slice::<runnel_openapi::ErrorBody>(body) {
        Ok(e) => ClientError::Api {
            status: status.as_u16(),
            error_code: i64::from(e.error_code),
            message: e.message,
        },
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let mut quote: String = text.trim().chars().take(ERROR_BODY_QUOTE).collect();
            if quote.is_empty() {
                quote = status.canonical_reason().unwrap_or("no body").to_owned();
            }
            ClientError::UnexpectedStatus {
                status: status.as_u16(),
                url: url.to_owned(),
                body: quote,
            }
        }
    }
}

/// The deepest cause of a reqwest error ("Connection refused (os error 111)"), which says more
/// than the "error sending request for url" wrapper on top.
fn innermost(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    if e.is_timeout() {
        format!("timed out: {cause}")
    } else {
        cause.to_string()
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confluent_error_bodies_read_as_sentences() {
        let e = error_from_body(
            StatusCode::NOT_FOUND,
            "http://x/topics/x",
            br#"{"error_code":40401,"message":"Topic 'x' not found."}"#,
        );
        assert_eq!(e.to_string(), "topic 'x' not found (40401)");
        assert!(e.is_unknown_topic());
        let e = error_from_body(
            StatusCode::NOT_FOUND,
            "http://x/nope",
            br#"{"error_code":404,"message":"HTTP 404 Not Found"}"#,
        );
        assert_eq!(e.to_string(), "HTTP 404 Not Found (404)");
    }

    #[test]
    fn non_json_error_bodies_are_quoted() {
        let e = error_from_body(
            StatusCode::TOO_MANY_REQUESTS,
            "http://x/topics/t",
            b"<html>slow down</html>",
        );
        assert_eq!(
            e.to_string(),
            "HTTP 429 from http://x/topics/t: <html>slow down</html>"
        );
        let e = error_from_body(StatusCode::BAD_GATEWAY, "http://x/", b"");
        assert_eq!(e.to_string(), "HTTP 502 from http://x/: Bad Gateway");
    }

    #[test]
    fn urls_keep_a_path_prefix_and_reject_other_schemes() {
        let c = Client::new("http://h:1/runnel/").unwrap();
        assert_eq!(
            c.url(&["topics", "a", "partitions", "0"]).as_str(),
            "http://h:1/runnel/topics/a/partitions/0"
        );
        let c = Client::new("http://h:1").unwrap();
        assert_eq!(
            c.url(&["v3", "clusters", "c", "topics", "t", "configs:alter"])
                .as_str(),
            "http://h:1/v3/clusters/c/topics/t/configs:alter"
        );
        assert!(Client::new("ftp://h").is_err());
        assert!(Client::new("127.0.0.1:8080").is_err());
    }
}
