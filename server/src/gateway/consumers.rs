//! Confluent REST Proxy v2 consumer instances (CONTRACTS.md §1.1): `/consumers/{group}` and
//! `/consumers/{group}/instances/{name}/...`.
//!
//! An instance lives in this process (clients are pinned to the node that created it, through
//! `base_uri`). It either subscribes — and is then a member of its group through the
//! [`GroupCoordinator`] — or is assigned partitions by hand, and commits as Kafka's "simple"
//! consumer. Each instance keeps its fetch positions; a poll reads from them, long-polling the
//! partitions' high-watermark watches (and the member's assignment watch) until a record comes
//! or the timeout passes. After a poll a position is the last offset + 1 of the last batch read
//! (Kafka's), so offsets removed by compaction are skipped. A position outside the log (sought
//! past the end, or behind retention) is moved by `auto.offset.reset` on the next poll, as
//! Kafka's fetch answers `OFFSET_OUT_OF_RANGE`; with `none` the poll fails (40002) until the
//! client seeks. The log end itself is in range: it is the next offset to be written.
//!
//! Liveness: while an instance exists, a background task heartbeats for its member and answers
//! a rebalance at once (commit if `auto.commit.enable`, then rejoin), as the Java consumer's
//! heartbeat thread does. So a slow-polling client is not evicted and a rebalance does not wait
//! for every instance's next poll; an abandoned instance is instead destroyed by the reaper after
//! `consumer.instance.timeout.ms` without a request, which leaves its group.
//!
//! Not owned here: the group state machine (`group/`), the record writer (`records.rs`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use axum::extract::{Extension, RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::select_all;
use runnel_openapi::{params, v2 as doc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use runnel_schema_registry::registry::Registry as SchemaRegistry;

use super::errors::{Api, ErrorBody, GatewayError};
use super::extract::{Body, EmbeddedFormat, Path, accept_format, kafka_offset, parse_json};
use super::links::segment;
use super::read_budget::{self, ReadBudget};
use super::records::write_readable_records_json;
use super::slots::{self, RequestSlot};
use super::state::AppState;
use crate::group::{
    Assignment, AutoOffsetReset, CommitScope, GenerationId, GroupCoordinator, GroupError, GroupId,
    JoinRequest, Member, OffsetAndMetadata, Subscription, TopicPartition,
};
use crate::log::Record;

/// `consumer.instance.timeout.ms`: an instance without a request for this long is destroyed.
pub const DEFAULT_INSTANCE_TIMEOUT: Duration = Duration::from_millis(300_000);
/// `consumer.request.timeout.ms`: how long a poll waits for records by default.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 1000;
/// `consumer.request.max.bytes`: the most one poll answers.
pub const MAX_REQUEST_BYTES: usize = 64 << 20;
/// The least read-memory room a poll round waits for: a default-sized batch (Kafka's 1 MiB
/// `max.message.bytes`); a larger first batch is still answered whole.
const ROUND_LEAST_BYTES: usize = 1 << 20;
/// The longest wait a poll honours, whatever the client asks.
const MAX_POLL_TIMEOUT_MS: u64 = 30_000;
/// How often the background task heartbeats for a subscribed instance (well inside the
/// default 45 s session timeout).
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(3);

/// Consumer-instance settings of the server.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerSettings {
    /// `consumer.instance.timeout.ms`.
    pub instance_timeout: Duration,
}

impl Default for ConsumerSettings {
    fn default() -> Self {
        ConsumerSettings {
            instance_timeout: DEFAULT_INSTANCE_TIMEOUT,
        }
    }
}

/// Routes of this file; each call has its own registry of instances.
pub fn routes_with(settings: ConsumerSettings) -> OpenApiRouter<AppState> {
    let registry = Arc::new(Registry {
        instances: parking_lot::Mutex::new(HashMap::new()),
        settings,
        reaper: std::sync::Once::new(),
    });
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(destroy))
        .routes(routes!(subscribe, get_subscription, unsubscribe))
        .routes(routes!(assign, get_assignments))
        .routes(routes!(poll))
        .routes(routes!(commit, get_committed))
        .routes(routes!(seek))
        .routes(routes!(seek_beginning))
        .routes(routes!(seek_end))
        .layer(Extension(registry))
}

/// Failures with the consumer-specific Confluent codes; everything else as [`GatewayError`].
#[derive(Debug)]
enum ConsumerError {
    Gateway(GatewayError),
    /// 404 40403.
    InstanceNotFound(String, String),
    /// 406 40601.
    FormatMismatch(String),
    /// 409 40902.
    InstanceExists(String, String),
    /// 409 40903.
    IllegalState(String),
    /// 422 42204.
    InvalidConfig(String),
}

impl From<GatewayError> for ConsumerError {
    fn from(e: GatewayError) -> Self {
        ConsumerError::Gateway(e)
    }
}

impl From<GroupError> for ConsumerError {
    fn from(e: GroupError) -> Self {
        ConsumerError::Gateway(GatewayError::Group(e, Api::V2))
    }
}

impl From<crate::broker::Error> for ConsumerError {
    fn from(e: crate::broker::Error) -> Self {
        ConsumerError::Gateway(GatewayError::v2(e))
    }
}

impl IntoResponse for ConsumerError {
    fn into_response(self) -> Response {
        let (status, error_code, message) = match self {
            ConsumerError::Gateway(e) => return e.into_response(),
            ConsumerError::InstanceNotFound(g, i) => (
                StatusCode::NOT_FOUND,
                40403,
                format!("Consumer instance '{i}' not found in group '{g}'."),
            ),
            ConsumerError::FormatMismatch(m) => (StatusCode::NOT_ACCEPTABLE, 40601, m),
            ConsumerError::InstanceExists(g, i) => (
                StatusCode::CONFLICT,
                40902,
                format!("Consumer with id '{i}' already exists in group '{g}'."),
            ),
            ConsumerError::IllegalState(m) => (StatusCode::CONFLICT, 40903, m),
            ConsumerError::InvalidConfig(m) => (StatusCode::UNPROCESSABLE_ENTITY, 42204, m),
        };
        (
            status,
            axum::Json(ErrorBody {
                error_code,
                message,
            }),
        )
            .into_response()
    }
}

type Result<T, E = ConsumerError> = std::result::Result<T, E>;

/// Every instance this router serves.
#[derive(Debug)]
struct Registry {
    instances: parking_lot::Mutex<HashMap<(String, String), Arc<Instance>>>,
    settings: ConsumerSettings,
    reaper: std::sync::Once,
}

impl Registry {
    /// The instance, marked as used now.
    fn get(&self, group: &str, name: &str) -> Result<Arc<Instance>> {
        let map = self.instances.lock();
        let inst = map
            .get(&(group.to_owned(), name.to_owned()))
            .cloned()
            .ok_or_else(|| ConsumerError::InstanceNotFound(group.into(), name.into()))?;
        *inst.last_used.lock() = Instant::now();
        Ok(inst)
    }

    /// Destroys instances idle for longer than the instance timeout, until the registry goes.
    fn start_reaper(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let timeout = self.settings.instance_timeout;
        self.reaper.call_once(|| {
            let tick = (timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(5));
            tokio::spawn(async move {
                let mut interval = tokio::time::interval(tick);
                interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    interval.tick().await;
                    let Some(reg) = weak.upgrade() else { return };
                    let now = Instant::now();
                    let expired: Vec<Arc<Instance>> = {
                        let mut map = reg.instances.lock();
                        let keys: Vec<_> = map
                            .iter()
                            .filter(|(_, i)| now.duration_since(*i.last_used.lock()) >= timeout)
                            .map(|(k, _)| k.clone())
                            .collect();
                        keys.iter().filter_map(|k| map.remove(k)).collect()
                    };
                    for inst in expired {
                        tracing::info!(group = %inst.group, instance = %inst.name, "consumer instance expired");
                        inst.close().await;
                    }
                }
            });
        });
    }
}

/// One consumer instance.
#[derive(Debug)]
struct Instance {
    group: GroupId,
    name: String,
    format: EmbeddedFormat,
    /// The schema registry, which the avro format decodes with.
    schemas: Option<Arc<SchemaRegistry>>,
    reset: AutoOffsetReset,
    auto_commit: bool,
    fetch_min_bytes: usize,
    request_timeout_ms: u64,
    coordinator: Arc<GroupCoordinator>,
    last_used: parking_lot::Mutex<Instant>,
    state: tokio::sync::Mutex<InstanceState>,
}

#[derive(Debug, Default)]
struct InstanceState {
    mode: Mode,
    /// The next offset to fetch, per partition fetched from (or sought) in this assignment.
    positions: BTreeMap<TopicPartition, u64>,
    /// The generation the positions belong to (subscribe mode).
    generation: Option<GenerationId>,
    /// The background task of a subscribed instance.
    task: Option<tokio::task::JoinHandle<()>>,
}

#[derive(Debug, Default)]
enum Mode {
    #[default]
    None,
    Subscribed {
        member: Member,
        subscription: Subscription,
    },
    Assigned(Vec<TopicPartition>),
}

impl InstanceState {
    /// The partitions this instance may fetch now.
    fn owned(&self) -> Vec<TopicPartition> {
        match &self.mode {
            Mode::None => Vec::new(),
            Mode::Subscribed { member, .. } => member.assignment().owned().to_vec(),
            Mode::Assigned(p) => p.clone(),
        }
    }

    fn stop_task(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

impl Instance {
    /// Commits `offsets` in the instance's mode: as the member (under its current generation)
    /// or as a simple consumer.
    async fn commit_in(
        &self,
        st: &InstanceState,
        offsets: BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        match &st.mode {
            Mode::Subscribed { member, .. } => {
                let generation = member
                    .assignment()
                    .generation_id()
                    .or(st.generation)
                    .ok_or_else(|| {
                        ConsumerError::IllegalState(
                            "The consumer has no partitions assigned yet; poll first.".into(),
                        )
                    })?;
                member.commit(generation, offsets).await?;
            }
            Mode::Assigned(_) | Mode::None => {
                self.coordinator
                    .commit_offsets(&self.group, CommitScope::Simple, &offsets)
                    .await?;
            }
        }
        Ok(())
    }

    /// Positions of the partitions fetched from, as offsets to commit.
    fn fetched(st: &InstanceState) -> BTreeMap<TopicPartition, OffsetAndMetadata> {
        st.positions
            .iter()
            .map(|(tp, &o)| (tp.clone(), OffsetAndMetadata::new(o)))
            .collect()
    }

    /// Auto-commits what was fetched, if enabled; failures (a rebalance under way) are logged.
    async fn auto_commit(&self, st: &InstanceState) {
        if !self.auto_commit || matches!(st.mode, Mode::None) {
            return;
        }
        if let Err(e) = self.commit_in(st, Self::fetched(st)).await {
            tracing::debug!(group = %self.group, instance = %self.name, cause = ?e, "auto commit failed");
        }
    }

    /// Answers a pending revocation: commit (auto commit), forget positions, rejoin.
    async fn handle_assignment(self: &Arc<Self>, st: &mut InstanceState) -> Result<()> {
        let Mode::Subscribed { member, .. } = &st.mode else {
            return Ok(());
        };
        match member.assignment() {
            Assignment::Revoke { .. } => {
                self.auto_commit(st).await;
                st.positions.clear();
                st.generation = None;
                if let Mode::Subscribed { member, .. } = &st.mode {
                    member.rejoin()?;
                }
            }
            Assignment::Removed(_) => {
                // Evicted (say, by a rebalance it missed): join again with the same
                // subscription, as the Java consumer does.
                let Mode::Subscribed { subscription, .. } = std::mem::take(&mut st.mode) else {
                    return Ok(());
                };
                st.positions.clear();
                st.generation = None;
                st.stop_task();
                self.join(st, subscription)?;
                st.task = spawn_member_task(self, st);
            }
            Assignment::Assigned { generation_id, .. } => {
                if st.generation != Some(generation_id) {
                    st.positions.clear();
                    st.generation = Some(generation_id);
                }
            }
            Assignment::Joining => {}
        }
        Ok(())
    }

    fn join(self: &Instance, st: &mut InstanceState, subscription: Subscription) -> Result<()> {
        let mut req = JoinRequest::new(self.group.clone(), self.name.clone(), subscription.clone());
        req.instance_id = Some(self.name.clone());
        let member = self.coordinator.join(req)?;
        st.mode = Mode::Subscribed {
            member,
            subscription,
        };
        Ok(())
    }

    async fn close(&self) {
        let mut st = self.state.lock().await;
        st.stop_task();
        if self.auto_commit && matches!(st.mode, Mode::Subscribed { .. }) {
            self.auto_commit(&st).await;
        }
        if let Mode::Subscribed { member, .. } = std::mem::take(&mut st.mode) {
            let _ = member.leave();
        }
        st.positions.clear();
    }
}

/// The background task of a subscribed instance: heartbeats, and answers revocations.
fn spawn_member_task(
    inst: &Arc<Instance>,
    st: &InstanceState,
) -> Option<tokio::task::JoinHandle<()>> {
    let Mode::Subscribed { member, .. } = &st.mode else {
        return None;
    };
    let mut rx = member.assignments();
    let weak: Weak<Instance> = Arc::downgrade(inst);
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(HEARTBEAT_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let changed = tokio::select! {
                r = rx.changed() => {
                    if r.is_err() {
                        return;
                    }
                    true
                }
                _ = tick.tick() => false,
            };
            let Some(inst) = weak.upgrade() else { return };
            let mut st = inst.state.lock().await;
            let Mode::Subscribed { member, .. } = &st.mode else {
                return;
            };
            if changed {
                if matches!(member.assignment(), Assignment::Revoke { .. }) {
                    let _ = inst.handle_assignment(&mut st).await;
                }
            } else if member.heartbeat().is_err() {
                // Removed: the next poll joins again.
                return;
            }
        }
    }))
}

// ---------------------------------------------------------------------------------------------
// Request and response bodies.

/// Body of `POST /consumers/{group}`; every field is optional.
#[derive(Debug, Deserialize, ToSchema)]
struct CreateRequest {
    /// The instance name; default: generated.
    name: Option<String>,
    /// Legacy alias of `name`.
    id: Option<String>,
    /// `binary` (the default) or `json`.
    format: Option<String>,
    #[serde(rename = "auto.offset.reset")]
    auto_offset_reset: Option<String>,
    #[serde(rename = "auto.commit.enable")]
    auto_commit_enable: Option<Value>,
    #[serde(rename = "fetch.min.bytes")]
    fetch_min_bytes: Option<Value>,
    #[serde(rename = "consumer.request.timeout.ms")]
    request_timeout_ms: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
struct CreateResponse {
    instance_id: String,
    base_uri: String,
}

/// A subscription: a non-empty `topics` list or a `topic_pattern` (a regex), not both.
#[derive(Debug, Deserialize, ToSchema)]
struct SubscribeRequest {
    topics: Option<Vec<String>>,
    topic_pattern: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct TopicsResponse {
    topics: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize, Clone, ToSchema)]
struct PartitionRef {
    topic: String,
    partition: u32,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
struct PartitionsBody {
    partitions: Vec<PartitionRef>,
}

#[derive(Debug, Deserialize, ToSchema)]
struct OffsetEntry {
    topic: String,
    partition: u32,
    #[serde(deserialize_with = "kafka_offset")]
    offset: u64,
    metadata: Option<String>,
}

/// Offsets to commit: the last *processed* offset of each partition (the next one is stored).
#[derive(Debug, Deserialize, ToSchema)]
struct CommitRequest {
    offsets: Option<Vec<OffsetEntry>>,
    /// Redpanda's name for the same list.
    partitions: Option<Vec<OffsetEntry>>,
}

#[derive(Debug, Serialize, ToSchema)]
struct CommittedEntry {
    topic: String,
    partition: u32,
    offset: u64,
    metadata: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct CommittedResponse {
    offsets: Vec<CommittedEntry>,
}

#[derive(Debug, Deserialize, ToSchema)]
struct SeekOffset {
    topic: String,
    partition: u32,
    #[serde(deserialize_with = "kafka_offset")]
    offset: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
struct SeekTimestamp {
    topic: String,
    partition: u32,
    timestamp: i64,
}

/// Positions to seek to: by `offsets` or by `timestamps`.
#[derive(Debug, Deserialize, ToSchema)]
struct SeekRequest {
    offsets: Option<Vec<SeekOffset>>,
    timestamps: Option<Vec<SeekTimestamp>>,
}

/// `?timeout=&max_bytes=` (other parameters are ignored).
#[derive(Debug, Default)]
struct PollParams {
    timeout: Option<String>,
    max_bytes: Option<String>,
}

impl PollParams {
    fn parse(query: Option<&str>) -> Self {
        let mut p = PollParams::default();
        for pair in query.unwrap_or_default().split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "timeout" => p.timeout = Some(v.to_owned()),
                "max_bytes" => p.max_bytes = Some(v.to_owned()),
                _ => {}
            }
        }
        p
    }
}

/// A config value Confluent accepts as a string or a JSON scalar.
fn config_str(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn config_num(v: Option<&Value>, name: &str) -> Result<Option<u64>> {
    config_str(v)
        .map(|s| {
            s.trim().parse::<u64>().map_err(|_| {
                ConsumerError::InvalidConfig(format!(
                    "Invalid value '{s}' for {name}: expected a non-negative integer."
                ))
            })
        })
        .transpose()
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn tp(p: &PartitionRef) -> TopicPartition {
    TopicPartition::new(p.topic.clone(), p.partition)
}

/// The body parsed as JSON, or `None` when empty.
fn optional_json<T: for<'a> Deserialize<'a>>(body: &[u8]) -> Result<Option<T>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(None)
    } else {
        Ok(Some(parse_json(body, Api::V2)?))
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers.

// Create a consumer instance in a group (the body may be empty: every setting has a default).
#[utoipa::path(
    post,
    path = "/consumers/{group}",
    operation_id = "v2_create_consumer",
    tag = "v2 consumers",
    params(params::ConsumerGroupPath),
    request_body(content = Option<CreateRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "The instance and its URL", body = CreateResponse),
        (status = 400, description = "Malformed JSON (400); an invalid group id (40002)", body = ErrorBody),
        (status = 404, description = "No such route: a group segment that is not one (404)", body = ErrorBody),
        (status = 409, description = "An instance of that name exists in the group (40902)", body = ErrorBody),
        (status = 422, description = "A bad setting or format (42204); wrong shape (42203)", body = ErrorBody),
    ),
)]
async fn create(
    State(state): State<AppState>,
    Extension(reg): Extension<Arc<Registry>>,
    schemas: Option<Extension<Arc<SchemaRegistry>>>,
    Path(group): Path<String>,
    Body(body): Body,
) -> Result<Response> {
    let schemas = schemas.map(|Extension(s)| s);
    let req: CreateRequest = optional_json(&body)?.unwrap_or(CreateRequest {
        name: None,
        id: None,
        format: None,
        auto_offset_reset: None,
        auto_commit_enable: None,
        fetch_min_bytes: None,
        request_timeout_ms: None,
    });
    let group_id = GroupId::new(&group)?;
    let format = match req.format.as_deref().unwrap_or("binary") {
        "binary" => EmbeddedFormat::Binary,
        "json" => EmbeddedFormat::Json,
        "avro" if schemas.is_some() => EmbeddedFormat::Avro,
        f @ ("avro" | "jsonschema" | "protobuf") => {
            return Err(ConsumerError::InvalidConfig(format!(
                "The '{f}' consumer format is not served here; use binary, json or avro."
            )));
        }
        other => {
            return Err(ConsumerError::InvalidConfig(format!(
                "Invalid consumer format '{other}': expected binary, json, avro, jsonschema or protobuf."
            )));
        }
    };
    let reset = match req.auto_offset_reset.as_deref() {
        None => AutoOffsetReset::Latest,
        Some(s) => s
            .parse()
            .map_err(|e: GroupError| ConsumerError::InvalidConfig(e.to_string()))?,
    };
    let auto_commit = match config_str(req.auto_commit_enable.as_ref()).as_deref() {
        None => true,
        Some(s) if s.eq_ignore_ascii_case("true") => true,
        Some(s) if s.eq_ignore_ascii_case("false") => false,
        Some(s) => {
            return Err(ConsumerError::InvalidConfig(format!(
                "Invalid value '{s}' for auto.commit.enable: expected true or false."
            )));
        }
    };
    let fetch_min_bytes = config_num(req.fetch_min_bytes.as_ref(), "fetch.min.bytes")?
        .map_or(1, |n| usize::try_from(n).unwrap_or(usize::MAX))
        .clamp(1, MAX_REQUEST_BYTES);
    let request_timeout_ms = config_num(
        req.request_timeout_ms.as_ref(),
        "consumer.request.timeout.ms",
    )?
    .unwrap_or(DEFAULT_REQUEST_TIMEOUT_MS)
    .min(MAX_POLL_TIMEOUT_MS);
    let name = match req.name.or(req.id) {
        // Like a group id, the name is a path segment of every link to the instance.
        Some(n) if n.is_empty() || n == "." || n == ".." => {
            return Err(ConsumerError::InvalidConfig(
                "The consumer name must not be empty, '.' or '..'.".into(),
            ));
        }
        Some(n) => n,
        None => crate::group::MemberId::generate("rest-consumer").to_string(),
    };
    let inst = Arc::new(Instance {
        group: group_id,
        name: name.clone(),
        format,
        schemas,
        reset,
        auto_commit,
        fetch_min_bytes,
        request_timeout_ms,
        coordinator: Arc::clone(&state.groups),
        last_used: parking_lot::Mutex::new(Instant::now()),
        state: tokio::sync::Mutex::new(InstanceState::default()),
    });
    {
        let mut map = reg.instances.lock();
        let key = (group.clone(), name.clone());
        if map.contains_key(&key) {
            return Err(ConsumerError::InstanceExists(group, name));
        }
        map.insert(key, inst);
    }
    reg.start_reaper();
    let base_uri = format!(
        "{}/consumers/{}/instances/{}",
        state.public_url,
        segment(&group),
        segment(&name)
    );
    Ok(axum::Json(CreateResponse {
        instance_id: name,
        base_uri,
    })
    .into_response())
}

// Destroy a consumer instance.
#[utoipa::path(
    delete,
    path = "/consumers/{group}/instances/{name}",
    operation_id = "v2_delete_consumer",
    tag = "v2 consumers",
    params(params::InstancePath),
    responses(
        (status = 204, description = "Destroyed; a subscribed instance leaves its group"),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
    ),
)]
async fn destroy(
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
) -> Result<Response> {
    let inst = reg
        .instances
        .lock()
        .remove(&(group.clone(), name.clone()))
        .ok_or(ConsumerError::InstanceNotFound(group, name))?;
    inst.close().await;
    Ok(no_content())
}

// Subscribe an instance to topics or a topic pattern.
#[utoipa::path(
    post,
    path = "/consumers/{group}/instances/{name}/subscription",
    operation_id = "v2_subscribe",
    tag = "v2 consumers",
    params(params::InstancePath),
    request_body(content = SubscribeRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "Subscribed: the instance joins its group"),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 422, description = "Empty body (42206) or wrong shape (42203)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
        (status = 409, description = "The instance is assigned partitions by hand (40903)", body = ErrorBody),
    ),
)]
async fn subscribe(
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response> {
    let inst = reg.get(&group, &name)?;
    let req: SubscribeRequest = parse_json(&body, Api::V2)?;
    let subscription = match (req.topics, req.topic_pattern) {
        (Some(t), None) if !t.is_empty() => Subscription::topics(t),
        (None, Some(p)) => {
            Subscription::pattern(&p).map_err(|e| ConsumerError::InvalidConfig(e.to_string()))?
        }
        _ => {
            return Err(GatewayError::InvalidRecord(
                "A subscription needs either a non-empty 'topics' list or a 'topic_pattern'."
                    .into(),
            )
            .into());
        }
    };
    let mut st = inst.state.lock().await;
    match &st.mode {
        Mode::Assigned(_) => {
            return Err(ConsumerError::IllegalState(
                "Subscription to topics, partitions and pattern are mutually exclusive: this consumer has manually assigned partitions.".into(),
            ));
        }
        Mode::Subscribed { member, .. } => {
            member.subscribe(subscription.clone())?;
            if let Mode::Subscribed {
                subscription: s, ..
            } = &mut st.mode
            {
                *s = subscription;
            }
        }
        Mode::None => {
            inst.join(&mut st, subscription)?;
            st.positions.clear();
            st.generation = None;
            st.task = spawn_member_task(&inst, &st);
        }
    }
    Ok(no_content())
}

// The topics an instance is subscribed to.
#[utoipa::path(
    get,
    path = "/consumers/{group}/instances/{name}/subscription",
    operation_id = "v2_get_subscription",
    tag = "v2 consumers",
    params(params::InstancePath),
    responses(
        (status = 200, description = "The subscribed topics", body = TopicsResponse),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
    ),
)]
async fn get_subscription(
    State(state): State<AppState>,
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
) -> Result<Response> {
    let inst = reg.get(&group, &name)?;
    let st = inst.state.lock().await;
    let topics = match &st.mode {
        Mode::Subscribed { subscription, .. } => {
            let existing: BTreeMap<String, u32> = state
                .broker
                .topics()
                .iter()
                .map(|t| (t.name().to_owned(), t.partitions().len() as u32))
                .collect();
            subscription.resolve(&existing).into_iter().collect()
        }
        Mode::None | Mode::Assigned(_) => Vec::new(),
    };
    Ok(axum::Json(TopicsResponse { topics }).into_response())
}

// Unsubscribe an instance.
#[utoipa::path(
    delete,
    path = "/consumers/{group}/instances/{name}/subscription",
    operation_id = "v2_unsubscribe",
    tag = "v2 consumers",
    params(params::InstancePath),
    responses(
        (status = 204, description = "Unsubscribed: the instance leaves its group"),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
    ),
)]
async fn unsubscribe(
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
) -> Result<Response> {
    let inst = reg.get(&group, &name)?;
    let mut st = inst.state.lock().await;
    if matches!(st.mode, Mode::Subscribed { .. }) {
        st.stop_task();
        inst.auto_commit(&st).await;
        if let Mode::Subscribed { member, .. } = std::mem::take(&mut st.mode) {
            let _ = member.leave();
        }
        st.positions.clear();
        st.generation = None;
    }
    Ok(no_content())
}

// Assign partitions to an instance by hand.
#[utoipa::path(
    post,
    path = "/consumers/{group}/instances/{name}/assignments",
    operation_id = "v2_assign",
    tag = "v2 consumers",
    params(params::InstancePath),
    request_body(content = PartitionsBody, content_type = "application/json"),
    responses(
        (status = 204, description = "Assigned"),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 422, description = "Empty body (42206) or wrong shape (42203)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance, topic or partition (40403, 40401, 40402)", body = ErrorBody),
        (status = 409, description = "The instance is subscribed (40903)", body = ErrorBody),
    ),
)]
async fn assign(
    State(state): State<AppState>,
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response> {
    let inst = reg.get(&group, &name)?;
    let req: PartitionsBody = parse_json(&body, Api::V2)?;
    let partitions: Vec<TopicPartition> = req
        .partitions
        .iter()
        .map(tp)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for p in &partitions {
        state.broker.partition(&p.topic, p.partition)?;
    }
    let mut st = inst.state.lock().await;
    if matches!(st.mode, Mode::Subscribed { .. }) {
        return Err(ConsumerError::IllegalState(
            "Subscription to topics, partitions and pattern are mutually exclusive: this consumer is subscribed.".into(),
        ));
    }
    st.positions.retain(|k, _| partitions.contains(k));
    st.mode = if partitions.is_empty() {
        Mode::None
    } else {
        Mode::Assigned(partitions)
    };
    Ok(no_content())
}

// The partitions an instance is assigned.
#[utoipa::path(
    get,
    path = "/consumers/{group}/instances/{name}/assignments",
    operation_id = "v2_get_assignments",
    tag = "v2 consumers",
    params(params::InstancePath),
    responses(
        (status = 200, description = "The partitions the instance reads", body = PartitionsBody),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
    ),
)]
async fn get_assignments(
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
) -> Result<Response> {
    let inst = reg.get(&group, &name)?;
    let st = inst.state.lock().await;
    let partitions = st
        .owned()
        .into_iter()
        .map(|t| PartitionRef {
            topic: t.topic,
            partition: t.partition,
        })
        .collect();
    Ok(axum::Json(PartitionsBody { partitions }).into_response())
}

/// The position after a fetch at `pos` fell outside `[log start, high watermark]` (behind
/// retention, or sought past the end): as Kafka's consumer on `OFFSET_OUT_OF_RANGE`, the
/// `auto.offset.reset` policy moves it, and with `none` the poll fails until the client seeks.
fn reset_out_of_range(
    t: &TopicPartition,
    p: &crate::broker::Partition,
    reset: AutoOffsetReset,
    pos: u64,
) -> Result<u64> {
    if reset == AutoOffsetReset::None {
        let (log_start, hw) = p.offsets();
        return Err(GatewayError::OffsetOutOfRange(format!(
            "Offsets out of range with no configured reset policy for partitions: {t}={pos} \
             (log start {log_start}, log end {hw}); seek to a valid offset."
        ))
        .into());
    }
    Ok(crate::group::offsets::resolve_reset(t, p, reset)?)
}

fn parse_u64(v: Option<&str>, name: &str) -> Result<Option<u64>> {
    v.map(|s| {
        s.parse().map_err(|_| {
            ConsumerError::from(GatewayError::BadRequest(format!(
                "Query parameter '{name}' must be a non-negative integer, got '{s}'."
            )))
        })
    })
    .transpose()
}

// Poll records: from each assigned partition's position, waiting up to `timeout` for one.
#[utoipa::path(
    get,
    path = "/consumers/{group}/instances/{name}/records",
    operation_id = "v2_poll",
    tag = "v2 consumers",
    params(params::InstancePath, ("timeout" = Option<u64>, Query, description = "Milliseconds to wait for records (default: the instance's `consumer.request.timeout.ms`; at most 30000)"), ("max_bytes" = Option<u64>, Query, description = "Most bytes to answer (default and at most the broker's `limits.fetch_max_bytes`, 55 MiB by default)")),
    responses(
        (status = 200, description = "The records from the instance's positions, possibly none", content(
            (Vec<doc::BinaryRecord> = "application/vnd.kafka.binary.v2+json"),
            (Vec<doc::JsonRecord> = "application/vnd.kafka.json.v2+json"),
        )),
        (status = 400, description = "A bad query parameter (400); a position out of range (sought past the end, or behind retention) with `auto.offset.reset=none` (40002)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
        (status = 406, description = "`Accept` is not the instance's format (40601)", body = ErrorBody),
        (status = 409, description = "The group is rebalancing (40903)", body = ErrorBody),
        (status = 422, description = "A record is not JSON and the instance reads `json` (42203)", body = ErrorBody),
        (status = 500, description = "The log is damaged at a position (50002)", body = ErrorBody),
    ),
)]
async fn poll(
    State(state): State<AppState>,
    Extension(reg): Extension<Arc<Registry>>,
    Extension(read_budget): Extension<ReadBudget>,
    slot: Option<Extension<RequestSlot>>,
    Path((group, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let inst = reg.get(&group, &name)?;
    let params = PollParams::parse(query.as_deref());
    let format = accept_format(&headers, inst.format, &[inst.format]).map_err(|_| {
        ConsumerError::FormatMismatch(format!(
            "The requested embedded data format does not match the deserializer for this consumer instance; read with Accept: {}.",
            inst.format.media_type()
        ))
    })?;
    let timeout = parse_u64(params.timeout.as_deref(), "timeout")?
        .unwrap_or(inst.request_timeout_ms)
        .min(MAX_POLL_TIMEOUT_MS);
    let max_bytes = parse_u64(params.max_bytes.as_deref(), "max_bytes")?
        .map_or(MAX_REQUEST_BYTES, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        })
        .clamp(1, MAX_REQUEST_BYTES.min(read_budget.fetch_max_bytes()));
    let deadline = tokio::time::Instant::now() + Duration::from_millis(timeout);
    // Waiting takes a long-poll slot instead of a request slot, once (`slots.rs`).
    let mut parked = None;
    let mut park = || -> std::result::Result<(), GatewayError> {
        if parked.is_none() {
            parked = Some(slots::park(slot.as_deref())?);
        }
        Ok(())
    };
    // The read-memory room of the records answered, held until the answer is written.
    let mut answer_grant = None;

    let mut st = inst.state.lock().await;
    // Auto commit what the previous poll returned, as the Java consumer's poll does.
    match &st.mode {
        Mode::Subscribed { member, .. } => {
            if matches!(member.assignment(), Assignment::Assigned { .. }) {
                inst.auto_commit(&st).await;
            }
            let _ = member.heartbeat();
        }
        Mode::Assigned(_) => inst.auto_commit(&st).await,
        Mode::None => {
            // The Java consumer's IllegalStateException.
            return Err(ConsumerError::IllegalState(
                "Consumer is not subscribed to any topics or assigned any partitions.".into(),
            ));
        }
    }
    let mut out = Vec::new();
    loop {
        inst.handle_assignment(&mut st).await?;
        // Wait for an assignment (subscribe mode) before fetching.
        if let Mode::Subscribed { member, .. } = &st.mode {
            let mut rx = member.assignments();
            let assigned = matches!(*rx.borrow_and_update(), Assignment::Assigned { .. });
            if !assigned {
                park()?;
                drop(st);
                let timed_out = tokio::time::timeout_at(deadline, rx.changed())
                    .await
                    .is_err();
                st = inst.state.lock().await;
                if timed_out {
                    // No assignment in time: an empty answer.
                    break;
                }
                continue;
            }
        }
        let owned = st.owned();
        // Starting positions.
        for t in &owned {
            if !st.positions.contains_key(t) {
                let o = inst
                    .coordinator
                    .starting_offset(&inst.group, t, inst.reset)?;
                st.positions.insert(t.clone(), o);
            }
        }
        // Read what is there, within what the read-memory budget grants this round.
        let mut grant = read_budget
            .reserve(max_bytes, ROUND_LEAST_BYTES.min(max_bytes))
            .await?;
        let round_bytes = grant.read_bytes();
        let mut fetched: Vec<(TopicPartition, Vec<Record>, u64)> = Vec::new();
        let mut total = 0usize;
        let mut waiters = Vec::new();
        for t in &owned {
            let p = state.broker.partition(&t.topic, t.partition)?;
            let (log_start, hw) = p.offsets();
            let mut pos = st.positions.get(t).copied().unwrap_or(0);
            if pos < log_start || pos > hw {
                pos = reset_out_of_range(t, &p, inst.reset, pos)?;
                st.positions.insert(t.clone(), pos);
            }
            if pos >= hw || total >= round_bytes {
                waiters.push((p, pos.max(hw)));
                continue;
            }
            let reader = Arc::clone(&p);
            let budget = round_bytes - total;
            let res = tokio::task::spawn_blocking(move || reader.read(pos, budget))
                .await
                .map_err(|e| GatewayError::Internal(e.to_string()))?;
            let fetch = match res {
                Ok(f) => f,
                Err(crate::log::Error::OffsetOutOfRange { .. }) => {
                    // Retention moved the log start past `pos` meanwhile.
                    let o = reset_out_of_range(t, &p, inst.reset, pos)?;
                    st.positions.insert(t.clone(), o);
                    continue;
                }
                Err(e) => return Err(GatewayError::from(e).into()),
            };
            total += fetch.bytes;
            if fetch.records.is_empty() {
                // Nothing up to the high watermark: skip what was read past (offsets compaction
                // removed) so the next poll does not read it again.
                st.positions.insert(t.clone(), fetch.next_offset);
                waiters.push((p, fetch.next_offset.max(hw)));
            } else {
                fetched.push((t.clone(), fetch.records, fetch.next_offset));
            }
        }
        let now = tokio::time::Instant::now();
        if (!fetched.is_empty() && total >= inst.fetch_min_bytes) || now >= deadline {
            out = fetched;
            grant.fit(total);
            answer_grant = Some(grant);
            break;
        }
        drop(grant);
        park()?;
        // Wait for any partition to grow, or the assignment to change, or the deadline.
        let mut rx = match &st.mode {
            Mode::Subscribed { member, .. } => {
                let mut rx = member.assignments();
                rx.borrow_and_update();
                Some(rx)
            }
            Mode::None | Mode::Assigned(_) => None,
        };
        let mut watches: Vec<_> = if fetched.is_empty() {
            waiters
                .iter()
                .map(|(p, above)| (p.subscribe(), *above))
                .collect()
        } else {
            // Below fetch.min.bytes: wait for any partition to grow past what was read.
            owned
                .iter()
                .filter_map(|t| state.broker.partition(&t.topic, t.partition).ok())
                .map(|p| {
                    let hw = p.offsets().1;
                    (p.subscribe(), hw)
                })
                .collect()
        };
        drop(st);
        {
            let grow = async {
                if watches.is_empty() {
                    std::future::pending::<()>().await;
                }
                let futs = watches.iter_mut().map(|(w, above)| {
                    let above = *above;
                    Box::pin(async move {
                        let _ = w.wait_for(|&hw| hw > above).await;
                    })
                });
                select_all(futs).await;
            };
            let change = async {
                match rx.as_mut() {
                    Some(rx) => {
                        let _ = rx.changed().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let _ = tokio::time::timeout_at(deadline, async {
                tokio::select! {
                    () = grow => {},
                    () = change => {},
                }
            })
            .await;
        }
        st = inst.state.lock().await;
    }
    // Write the records, then advance positions past the written ones only. A partition stops
    // before a record that does not render (a Kafka consumer's deserialization error): when
    // that record is the first it would answer, the poll fails naming it and nothing moves,
    // so no record is skipped unseen; the client skips it by seeking.
    let mut parts = Vec::with_capacity(out.len());
    for (t, records, next_offset) in &out {
        let mut part = Vec::new();
        let (written, failure) = write_readable_records_json(
            &mut part,
            &t.topic,
            t.partition,
            records,
            format,
            inst.schemas.as_deref(),
        );
        if let (0, Some(e)) = (written, failure) {
            return Err(e.into());
        }
        // Past every record written: the position after the last batch read (Kafka's), which
        // skips offsets compaction removed; else the record that stopped the write.
        let next = records.get(written).map_or(*next_offset, |r| r.offset);
        parts.push((t, records.get(..written).unwrap_or_default(), next, part));
    }
    let mut body = Vec::new();
    body.push(b'[');
    let mut first = true;
    for (t, records, next, part) in parts {
        st.positions.insert(t.clone(), next);
        super::metrics::records_out(&t.topic, records.len(), part.len());
        // Strip the array brackets to concatenate partitions.
        if part.len() > 2 {
            if !first {
                body.push(b',');
            }
            first = false;
            body.extend_from_slice(&part[1..part.len() - 1]);
        }
    }
    body.push(b']');
    drop(st);
    *inst.last_used.lock() = Instant::now();
    let Some(mut grant) = answer_grant else {
        return Ok(([(CONTENT_TYPE, format.media_type())], body).into_response());
    };
    // The rendered answer replaces the batches it came from.
    grant.fit(body.len());
    let body = read_budget::chunked_body(grant, body.into(), || None);
    Ok(([(CONTENT_TYPE, format.media_type())], body).into_response())
}

// Commit offsets; an empty body commits every position the instance has read to.
#[utoipa::path(
    post,
    path = "/consumers/{group}/instances/{name}/offsets",
    operation_id = "v2_commit_offsets",
    tag = "v2 consumers",
    params(params::InstancePath),
    request_body(content = Option<CommitRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "Committed", body = Vec<Object>),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
        (status = 409, description = "A partition not assigned to the instance, or subscribe and assign mixed (40903)", body = ErrorBody),
        (status = 422, description = "Wrong shape (42203)", body = ErrorBody),
    ),
)]
async fn commit(
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response> {
    let inst = reg.get(&group, &name)?;
    let req: Option<CommitRequest> = optional_json(&body)?;
    let st = inst.state.lock().await;
    let offsets = match req.and_then(|r| r.offsets.or(r.partitions)) {
        None => Instance::fetched(&st),
        Some(list) => list
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                // The committed offset is the next one to read: Kafka's offsets are `int64`,
                // so the last processed offset can be at most one below the largest.
                let next = i64::try_from(e.offset)
                    .ok()
                    .and_then(|o| o.checked_add(1))
                    .and_then(|o| u64::try_from(o).ok())
                    .ok_or_else(|| {
                        GatewayError::InvalidRecord(format!(
                            "offsets[{i}].offset {} is the largest Kafka offset: no offset follows it to commit.",
                            e.offset
                        ))
                    })?;
                Ok((
                    TopicPartition::new(e.topic, e.partition),
                    OffsetAndMetadata {
                        offset: next,
                        metadata: e.metadata.unwrap_or_default(),
                    },
                ))
            })
            .collect::<Result<_>>()?,
    };
    inst.commit_in(&st, offsets).await?;
    Ok(axum::Json(Vec::<Value>::new()).into_response())
}

// The group's committed offsets of some partitions (named in the body, as Confluent's API has it).
#[utoipa::path(
    get,
    path = "/consumers/{group}/instances/{name}/offsets",
    operation_id = "v2_get_committed_offsets",
    tag = "v2 consumers",
    params(params::InstancePath),
    request_body(content = PartitionsBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The committed offsets", body = CommittedResponse),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 422, description = "Empty body (42206) or wrong shape (42203)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance (40403)", body = ErrorBody),
    ),
)]
async fn get_committed(
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response> {
    let inst = reg.get(&group, &name)?;
    let req: Option<PartitionsBody> = optional_json(&body)?;
    let committed = inst.coordinator.committed_offsets(&inst.group);
    let wanted: Option<Vec<TopicPartition>> = req.map(|r| r.partitions.iter().map(tp).collect());
    let offsets = match wanted {
        Some(list) => list
            .into_iter()
            .filter_map(|t| {
                committed.get(&t).map(|c| CommittedEntry {
                    topic: t.topic.clone(),
                    partition: t.partition,
                    offset: c.offset,
                    metadata: c.metadata.clone(),
                })
            })
            .collect(),
        None => committed
            .into_iter()
            .map(|(t, c)| CommittedEntry {
                topic: t.topic,
                partition: t.partition,
                offset: c.offset,
                metadata: c.metadata,
            })
            .collect(),
    };
    Ok(axum::Json(CommittedResponse { offsets }).into_response())
}

/// Checks that every partition is assigned to the instance now (Kafka's consumer refuses to
/// seek others).
fn check_assigned(st: &InstanceState, parts: &[TopicPartition]) -> Result<()> {
    let owned = st.owned();
    match parts.iter().find(|p| !owned.contains(p)) {
        Some(p) => Err(ConsumerError::IllegalState(format!(
            "No current assignment for partition {p}."
        ))),
        None => Ok(()),
    }
}

// Move positions to offsets or to the first offset at a timestamp.
#[utoipa::path(
    post,
    path = "/consumers/{group}/instances/{name}/positions",
    operation_id = "v2_seek",
    tag = "v2 consumers",
    params(params::InstancePath),
    request_body(content = SeekRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "The positions moved"),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 422, description = "Empty body (42206) or wrong shape (42203)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance (40403), topic or partition (40401, 40402)", body = ErrorBody),
        (status = 409, description = "A partition not assigned to the instance, or subscribe and assign mixed (40903)", body = ErrorBody),
    ),
)]
async fn seek(
    State(state): State<AppState>,
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response> {
    let inst = reg.get(&group, &name)?;
    let req: SeekRequest = parse_json(&body, Api::V2)?;
    let mut targets = Vec::new();
    for o in req.offsets.unwrap_or_default() {
        targets.push((TopicPartition::new(o.topic, o.partition), o.offset));
    }
    for t in req.timestamps.unwrap_or_default() {
        let p = state.broker.partition(&t.topic, t.partition)?;
        let ts = t.timestamp;
        let off = tokio::task::spawn_blocking(move || {
            crate::group::offsets::reset_target(&p, crate::group::OffsetResetSpec::Timestamp(ts))
        })
        .await
        .map_err(|e| GatewayError::Internal(e.to_string()))??;
        targets.push((TopicPartition::new(t.topic, t.partition), off));
    }
    let mut st = inst.state.lock().await;
    inst.handle_assignment(&mut st).await?;
    let parts: Vec<_> = targets.iter().map(|(t, _)| t.clone()).collect();
    check_assigned(&st, &parts)?;
    for (t, o) in targets {
        st.positions.insert(t, o);
    }
    Ok(no_content())
}

async fn seek_edge(
    state: AppState,
    reg: Arc<Registry>,
    group: String,
    name: String,
    body: &[u8],
    end: bool,
) -> Result<Response> {
    let inst = reg.get(&group, &name)?;
    let req: PartitionsBody = parse_json(body, Api::V2)?;
    let parts: Vec<TopicPartition> = req.partitions.iter().map(tp).collect();
    let mut st = inst.state.lock().await;
    inst.handle_assignment(&mut st).await?;
    check_assigned(&st, &parts)?;
    for t in parts {
        let p = state.broker.partition(&t.topic, t.partition)?;
        let (start, hw) = p.offsets();
        st.positions.insert(t, if end { hw } else { start });
    }
    Ok(no_content())
}

// Move positions to the log start.
#[utoipa::path(
    post,
    path = "/consumers/{group}/instances/{name}/positions/beginning",
    operation_id = "v2_seek_to_beginning",
    tag = "v2 consumers",
    params(params::InstancePath),
    request_body(content = PartitionsBody, content_type = "application/json"),
    responses(
        (status = 204, description = "The positions moved"),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 422, description = "Empty body (42206) or wrong shape (42203)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance (40403), topic or partition (40401, 40402)", body = ErrorBody),
        (status = 409, description = "A partition not assigned to the instance, or subscribe and assign mixed (40903)", body = ErrorBody),
    ),
)]
async fn seek_beginning(
    State(state): State<AppState>,
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response> {
    seek_edge(state, reg, group, name, &body, false).await
}

// Move positions to the log end.
#[utoipa::path(
    post,
    path = "/consumers/{group}/instances/{name}/positions/end",
    operation_id = "v2_seek_to_end",
    tag = "v2 consumers",
    params(params::InstancePath),
    request_body(content = PartitionsBody, content_type = "application/json"),
    responses(
        (status = 204, description = "The positions moved"),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 422, description = "Empty body (42206) or wrong shape (42203)", body = ErrorBody),
        (status = 404, description = "Unknown consumer instance (40403), topic or partition (40401, 40402)", body = ErrorBody),
        (status = 409, description = "A partition not assigned to the instance, or subscribe and assign mixed (40903)", body = ErrorBody),
    ),
)]
async fn seek_end(
    State(state): State<AppState>,
    Extension(reg): Extension<Arc<Registry>>,
    Path((group, name)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response> {
    seek_edge(state, reg, group, name, &body, true).await
}

#[cfg(test)]
#[path = "consumers_tests.rs"]
mod tests;
