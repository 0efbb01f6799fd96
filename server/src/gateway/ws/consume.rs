//! `GET /v1/ws/consume?topic=T[&partition=P][&from=earliest|latest|<offset>|ts:<epoch-ms>]
//! [&format=json|binary|avro][&credit=N][&group=G[&auto_commit=true|false][&client_id=C]]`: tail a
//! topic over a WebSocket, alone or as a member of consumer group `G` (see `group.rs`).
//!
//! Server → `{"type":"records","records":[{"topic","partition","offset","timestamp","key",
//! "value","headers"}]}` — the v2 record shape, keys and values as JSON (`format=json`, the
//! default), base64 (`format=binary`), or Avro decoded to Avro's JSON encoding
//! (`format=avro`). Client → `{"type":"credit","records":N}` grants N more records
//! (0 ≤ N ≤ 10⁹); `{"type":"seek","partition":P,"offset":O}` moves one partition's
//! position (`O` may also be `"earliest"` or `"latest"`).
//!
//! Without `partition` every partition of the topic (as it was at connect time) is tailed.
//! `from` defaults to `latest`; an offset below the log start starts at the log start, one
//! past the end waits for it; `ts:` starts at the first record with a timestamp at or after
//! it (or the end). A partition that falls behind retention resumes at the new log start.
//!
//! # Flow control
//! Kafka's pull model: the server sends at most the credit granted (initially `credit`,
//! default 0), and holds nothing for a client without credit — it reads the log only when it
//! can send. New records reach a waiting socket when they are appended: each caught-up
//! partition waits on its high-watermark `watch` (no polling). A round reads up to
//! [`ROUND_BYTES`](super::ROUND_BYTES) across the partitions with data (starting after the one served last, so
//! none starves), cuts it into frames of about [`FRAME_BYTES`](super::FRAME_BYTES) (`round.rs`), feeds them and flushes once.
//! Client messages are read between rounds.
//!
//! # Errors
//! Every failure is an error frame followed by a close: 4400 for a bad credit or seek, 4404 for
//! a seek to a partition this socket does not read or (without `group`) a topic deleted while
//! the socket reads it, even if it is created again at once (40401: the new topic's offsets
//! are not the old one's, so the client reconnects), 4422 for a record that is not JSON in the
//! json format (after the records before it), 1008 for a message that is not JSON or has an
//! unknown type, 1003 for binary messages, 1011 for a failed read of the log.
//!
//! In group mode the cursors are the member's assignment, replaced on each rebalance; `from`
//! is then the `auto.offset.reset` (`earliest` or `latest`) and `partition` is refused.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::ws::{
    Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::extract::{Extension, State};
use axum::http::Uri;
use axum::response::{IntoResponse as _, Response};
use bytes::Bytes;
use futures_util::FutureExt as _;
use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::watch;

use super::conn::{End, Failure, Heartbeat, UNSUPPORTED_DATA, error_frame, finish, send};
use super::group::{self, GroupEvent, GroupMode};
use super::round::{Round, build_round};
use super::{MAX_CREDIT_GRANT, WsRuntime, accept, query};
use runnel_schema_registry::registry::Registry as SchemaRegistry;

use crate::broker::{Broker, Leader, LogError, Partition};
use crate::gateway::errors::{Api, GatewayError};
use crate::gateway::extract::EmbeddedFormat;
use crate::gateway::state::AppState;
use crate::group::{
    Assignment, AutoOffsetReset, GroupId, JoinRequest, OffsetAndMetadata, Subscription,
    TopicPartition,
};

/// Query parameters.
#[derive(Debug, Deserialize)]
pub struct ConsumeParams {
    topic: Option<String>,
    partition: Option<String>,
    from: Option<String>,
    format: Option<String>,
    credit: Option<String>,
    group: Option<String>,
    auto_commit: Option<String>,
    client_id: Option<String>,
}

/// Where a partition starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StartAt {
    Earliest,
    Latest,
    Offset(u64),
    Timestamp(i64),
}

impl StartAt {
    fn parse(s: &str) -> Result<Self, GatewayError> {
        match s {
            "earliest" => Ok(StartAt::Earliest),
            "latest" => Ok(StartAt::Latest),
            _ => {
                if let Some(ts) = s.strip_prefix("ts:") {
                    ts.parse().map(StartAt::Timestamp).ok()
                } else {
                    s.parse().map(StartAt::Offset).ok()
                }
                .ok_or_else(|| {
                    GatewayError::BadRequest(format!(
                        "Query parameter 'from' must be earliest, latest, an offset or ts:<epoch-ms>, got '{s}'."
                    ))
                })
            }
        }
    }

    /// The first offset to read from `p`.
    async fn resolve(self, broker: &Broker, p: &Arc<Partition>) -> Result<u64, GatewayError> {
        let (start, end) = broker.list_offsets(p).await?;
        Ok(match self {
            StartAt::Earliest => start,
            StartAt::Latest => end,
            StartAt::Offset(o) => o.max(start),
            StartAt::Timestamp(ts) => broker
                .offset_for_timestamp(p, ts)
                .await?
                .map_or(end, |(o, _)| o.max(start)),
        })
    }
}

/// One partition being tailed.
#[derive(Debug)]
struct Cursor {
    partition: Arc<Partition>,
    /// The next offset to send.
    next: u64,
    /// The high watermark last seen.
    high_watermark: u64,
    /// The high-watermark channel; `None` while a waiter holds it.
    watch: Option<watch::Receiver<u64>>,
    /// The last read found nothing below the high watermark; wait for the next append.
    stalled: bool,
}

impl Cursor {
    fn new(partition: Arc<Partition>, next: u64) -> Self {
        let watch = partition.subscribe();
        let high_watermark = *watch.borrow();
        Cursor {
            partition,
            next,
            high_watermark,
            watch: Some(watch),
            stalled: false,
        }
    }
}

/// How records are written to the client: the embedded format, and the schema registry the
/// avro format decodes with.
#[derive(Debug, Clone)]
pub(super) struct Encoding {
    pub(super) format: EmbeddedFormat,
    pub(super) schemas: Arc<SchemaRegistry>,
}

/// A consume socket's state.
#[derive(Debug)]
struct Session {
    topic: Arc<str>,
    encoding: Encoding,
    /// Records the client has granted and not yet received.
    credit: u64,
    cursors: Vec<Cursor>,
    /// Where the next round starts, for fairness across partitions.
    start: usize,
    rt: WsRuntime,
    broker: Arc<Broker>,
    /// The topic's id at connect time: a plain socket whose topic is deleted (or deleted and
    /// created again, a new id) is closed, since its positions belong to a log that is gone.
    topic_id: String,
    /// Topic creations and deletions, in plain mode (a group member follows rebalances instead).
    metadata: Option<watch::Receiver<u64>>,
    /// The membership, in group mode (joined once the upgrade is accepted).
    group: Option<GroupMode>,
    /// What to join with, between the checks and the upgrade.
    join: Option<(JoinRequest, AutoOffsetReset, bool)>,
}

/// `GET /v1/ws/consume`.
pub async fn upgrade(
    State(state): State<AppState>,
    Extension(rt): Extension<WsRuntime>,
    uri: Uri,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let mut session = match check(&state, rt, &uri).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let (ws, permit) = match accept(&session.rt, ws) {
        Ok(accepted) => accepted,
        Err(response) => return *response,
    };
    // Join only once the connection is certain, so a refused socket never rebalances a group.
    if let Some((req, reset, auto_commit)) = session.join.take() {
        match state.groups.join(req) {
            Ok(member) => {
                let coordinator = Arc::clone(&state.groups);
                session.group = Some(GroupMode::new(coordinator, member, reset, auto_commit));
            }
            Err(e) => return GatewayError::Group(e, Api::V2).into_response(),
        }
    }
    let rt = session.rt.clone();
    rt.spawn_connection(ws, permit, move |socket| run(socket, session))
}

async fn check(state: &AppState, rt: WsRuntime, uri: &Uri) -> Result<Session, GatewayError> {
    let schemas = Arc::clone(&state.registry);
    let mut params: ConsumeParams = query(uri)?;
    // Subscribed before the topic is looked up, so a deletion right after is not missed.
    let metadata = state.broker.watch_metadata();
    let topic_name = params
        .topic
        .take()
        .ok_or_else(|| GatewayError::BadRequest("Query parameter 'topic' is required.".into()))?;
    let topic = state.broker.topic(&topic_name).map_err(GatewayError::v2)?;
    let format = match params.format.as_deref() {
        None | Some("json") => EmbeddedFormat::Json,
        Some("binary") => EmbeddedFormat::Binary,
        Some("avro") => EmbeddedFormat::Avro,
        Some(f @ ("jsonschema" | "protobuf")) => {
            return Err(GatewayError::BadRequest(format!(
                "format={f} is not served here; use json, binary or avro."
            )));
        }
        Some(other) => {
            return Err(GatewayError::BadRequest(format!(
                "Query parameter 'format' must be json, binary or avro, got '{other}'."
            )));
        }
    };
    let credit = match params.credit.as_deref() {
        None => 0,
        Some(c) => c
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= MAX_CREDIT_GRANT)
            .ok_or_else(|| {
                GatewayError::BadRequest(format!(
                    "Query parameter 'credit' must be an integer from 0 to {MAX_CREDIT_GRANT}, got '{c}'."
                ))
            })?,
    };
    let mut session = Session {
        topic: Arc::from(topic_name.as_str()),
        encoding: Encoding { format, schemas },
        credit,
        cursors: Vec::new(),
        start: 0,
        rt,
        broker: Arc::clone(&state.broker),
        topic_id: topic.topic_id().to_owned(),
        metadata: None,
        group: None,
        join: None,
    };
    if let Some(group) = params.group.take() {
        let join = group_join(group, &params, topic_name)?;
        check_coordinator(state, &join.0.group_id).await?;
        session.join = Some(join);
        return Ok(session);
    }
    let start = params
        .from
        .as_deref()
        .map_or(Ok(StartAt::Latest), StartAt::parse)?;
    let partitions: Vec<Arc<Partition>> = match params.partition.as_deref() {
        Some(p) => {
            let id: u32 = p.parse().map_err(|_| {
                GatewayError::BadRequest(format!(
                    "Query parameter 'partition' must be a non-negative integer, got '{p}'."
                ))
            })?;
            vec![Arc::clone(topic.partition(id).map_err(GatewayError::v2)?)]
        }
        None => topic.partitions().to_vec(),
    };
    for p in partitions {
        let next = start.resolve(&state.broker, &p).await?;
        session.cursors.push(Cursor::new(p, next));
    }
    session.metadata = Some(metadata);
    Ok(session)
}

/// Refuses a group member on a broker that does not coordinate its group: its membership
/// lives in the coordinator's memory (Kafka's `NOT_COORDINATOR`, retriable), and the error
/// names the broker to connect to.
async fn check_coordinator(state: &AppState, group: &GroupId) -> Result<(), GatewayError> {
    if state.cluster.image().metadata.brokers.len() <= 1 {
        return Ok(());
    }
    let leader = state
        .groups
        .coordinator_of(group)
        .await
        .map_err(|e| GatewayError::Group(e, Api::V2))?;
    let reason = match leader {
        Leader::Here => return Ok(()),
        Leader::Broker(id) => {
            let url = state
                .cluster
                .image()
                .metadata
                .brokers
                .get(&runnel_cluster::metadata::BrokerId(id))
                .map(|b| b.http_addr.clone())
                .unwrap_or_default();
            format!(
                "Group '{group}' is coordinated by broker {id} ({url}); open group sockets there"
            )
        }
        Leader::Offline => format!("The coordinator of group '{group}' is offline; retry"),
    };
    Err(GatewayError::Broker(
        LogError::LeaderUnavailable { reason }.into(),
        Api::V2,
    ))
}

/// The join request of a group-mode socket, with its reset policy and auto-commit flag.
fn group_join(
    group: String,
    params: &ConsumeParams,
    topic: String,
) -> Result<(JoinRequest, AutoOffsetReset, bool), GatewayError> {
    if params.partition.is_some() {
        return Err(GatewayError::BadRequest(
            "Query parameters 'partition' and 'group' exclude each other: a group member reads \
             the partitions the group assigns it."
                .into(),
        ));
    }
    let reset = match params.from.as_deref() {
        None | Some("latest") => AutoOffsetReset::Latest,
        Some("earliest") => AutoOffsetReset::Earliest,
        Some(other) => {
            return Err(GatewayError::BadRequest(format!(
                "In group mode 'from' is the auto.offset.reset for partitions without a \
                 committed offset: earliest or latest, got '{other}'."
            )));
        }
    };
    let auto_commit = match params.auto_commit.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(GatewayError::BadRequest(format!(
                "Query parameter 'auto_commit' must be true or false, got '{other}'."
            )));
        }
    };
    let group_id = GroupId::new(&group).map_err(|e| GatewayError::Group(e, Api::V2))?;
    let client_id = params
        .client_id
        .clone()
        .unwrap_or_else(|| "runnel-ws".into());
    let req = JoinRequest::new(group_id, client_id, Subscription::topics([topic]));
    Ok((req, reset, auto_commit))
}

/// How long one long poll at another broker waits for a partition's next append before it is
/// asked again.
const REMOTE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A caught-up cursor's wait: its index, its channel back, whether the channel is alive, and
/// the high watermark a leader elsewhere answered with.
type Waiter = BoxFuture<'static, (usize, watch::Receiver<u64>, bool, Option<u64>)>;

async fn run(mut ws: WebSocket, mut s: Session) {
    let limits = *s.rt.limits();
    let mut heartbeat = Heartbeat::new(&limits);
    let mut waiters: FuturesUnordered<Waiter> = FuturesUnordered::new();
    let end = loop {
        arm_waiters(&mut s, &mut waiters);
        let has_work = s.credit > 0
            && s.cursors
                .iter()
                .any(|c| c.next < c.high_watermark && !c.stalled);
        tokio::select! {
            biased;
            () = s.rt.shutdown().cancelled() => break End::shutdown(),
            () = tokio::time::sleep_until(heartbeat.next_wake()) => {
                if let Err(end) = heartbeat.wake(&mut ws).await {
                    break end;
                }
            }
            msg = ws.next() => {
                heartbeat.heard();
                let failure = match msg {
                    None => break End::Drop,
                    Some(Err(e)) => break End::read_failed(e, &limits),
                    Some(Ok(Message::Close(_))) => break End::PeerClosed,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Text(text))) => match on_text(&mut s, &Bytes::from(text)) {
                        Ok(None) => continue,
                        Ok(Some(offsets)) => match commit(&mut ws, &mut s, &heartbeat, offsets).await {
                            Ok(()) => continue,
                            Err(Some(f)) => f,
                            Err(None) => break End::Drop,
                        },
                        Err(f) => f,
                    },
                    Some(Ok(Message::Binary(_))) => Failure {
                        error_code: 400,
                        message: "This socket takes JSON text messages (credit, seek), not binary ones.".into(),
                        close_code: UNSUPPORTED_DATA,
                    },
                };
                break fail(&mut ws, &heartbeat, &failure).await;
            }
            event = group::next_event(s.group.as_mut()) => {
                match on_group_event(&mut ws, &mut s, &mut waiters, &heartbeat, event).await {
                    Ok(()) => {}
                    Err(Some(f)) => break fail(&mut ws, &heartbeat, &f).await,
                    Err(None) => break End::Drop,
                }
            }
            alive = metadata_changed(s.metadata.as_mut()) => {
                if !alive {
                    s.metadata = None;
                } else if let Some(f) = topic_gone(&s) {
                    break fail(&mut ws, &heartbeat, &f).await;
                }
            }
            Some((i, watch, alive, remote)) = waiters.next(), if !waiters.is_empty() => {
                if let Some(c) = s.cursors.get_mut(i) {
                    let hw = remote.unwrap_or_else(|| *watch.borrow());
                    c.high_watermark = c.high_watermark.max(hw);
                    c.stalled = false;
                    // A deleted partition's channel closes: leave it unarmed for good.
                    if alive {
                        c.watch = Some(watch);
                    }
                }
            }
            () = std::future::ready(()), if has_work => {
                if let Err(end) = send_round(&mut ws, &mut s, &heartbeat).await {
                    break end;
                }
            }
        }
    };
    finish(ws, end).await;
}

/// Waits for the next topic creation or deletion; `false` when the broker is gone. Never ends
/// without a watch (group mode).
async fn metadata_changed(metadata: Option<&mut watch::Receiver<u64>>) -> bool {
    match metadata {
        Some(rx) => rx.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

/// The failure of a plain socket whose topic was deleted, or deleted and created again: Kafka's
/// consumers see `UNKNOWN_TOPIC_OR_PARTITION` and then a new topic id, never records of the new
/// topic at the old topic's offsets.
fn topic_gone(s: &Session) -> Option<Failure> {
    let what = match s.broker.topic(&s.topic) {
        Ok(t) if t.topic_id() == s.topic_id => return None,
        Ok(_) => "was deleted and created again",
        Err(_) => "was deleted",
    };
    Some(Failure {
        error_code: 40401,
        message: format!(
            "Topic '{}' {what}; reconnect to read it from a new position.",
            s.topic
        ),
        close_code: 4404,
    })
}

/// Sends an error frame; the end is the close that follows it.
async fn fail(ws: &mut WebSocket, heartbeat: &Heartbeat, f: &Failure) -> End {
    let frame = Message::Text(error_frame(None, f).into());
    match send(ws, [frame], heartbeat.write_timeout()).await {
        Ok(()) => f.end(),
        Err(end) => end,
    }
}

/// Puts every caught-up partition whose channel is idle on a waiter: the local watch, or a
/// long poll at the leader when another broker leads the partition (its appends move no
/// watch here).
fn arm_waiters(s: &mut Session, waiters: &mut FuturesUnordered<Waiter>) {
    for (i, c) in s.cursors.iter_mut().enumerate() {
        if c.next < c.high_watermark && !c.stalled {
            continue;
        }
        let Some(mut watch) = c.watch.take() else {
            continue;
        };
        // Mark the current value seen, so `changed` wakes on the next append and none is
        // missed between the last read and now.
        let seen = *watch.borrow_and_update();
        if !c.stalled {
            c.high_watermark = c.high_watermark.max(seen);
            if c.next < c.high_watermark {
                c.watch = Some(watch);
                continue;
            }
        }
        if s.broker.leads_elsewhere(&c.partition) {
            let (broker, p) = (Arc::clone(&s.broker), Arc::clone(&c.partition));
            let above = c.high_watermark.max(c.next);
            waiters.push(
                async move {
                    let hw = broker.wait_for(&p, above, REMOTE_WAIT).await;
                    (i, watch, true, Some(hw))
                }
                .boxed(),
            );
            continue;
        }
        waiters.push(
            async move {
                let alive = watch.changed().await.is_ok();
                (i, watch, alive, None)
            }
            .boxed(),
        );
    }
}

/// A client message.
#[derive(Debug, Deserialize)]
struct ClientMessage<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    records: Option<&'a RawValue>,
    #[serde(borrow, default)]
    partition: Option<&'a RawValue>,
    #[serde(borrow, default)]
    offset: Option<&'a RawValue>,
    #[serde(borrow, default)]
    offsets: Option<&'a RawValue>,
}

/// What a commit message asks to store.
#[derive(Debug)]
enum Commit {
    /// Every owned partition's position.
    Delivered,
    Offsets(BTreeMap<TopicPartition, OffsetAndMetadata>),
}

/// The positions of every cursor: the offset after the last record delivered.
fn positions(s: &Session) -> BTreeMap<TopicPartition, OffsetAndMetadata> {
    s.cursors
        .iter()
        .map(|c| {
            let tp = TopicPartition::new(s.topic.to_string(), c.partition.id());
            (tp, OffsetAndMetadata::new(c.next))
        })
        .collect()
}

/// Stores a commit as the socket's member and confirms it with a `committed` frame. `Err(None)`:
/// the socket failed.
async fn commit(
    ws: &mut WebSocket,
    s: &mut Session,
    heartbeat: &Heartbeat,
    request: Commit,
) -> Result<(), Option<Failure>> {
    let offsets = match request {
        Commit::Delivered => positions(s),
        Commit::Offsets(o) => o,
    };
    let Some(g) = s.group.as_ref() else {
        return Ok(());
    };
    if !offsets.is_empty() {
        let generation = g.generation.ok_or_else(|| {
            Some(Failure {
                error_code: 40903,
                message: "The group is rebalancing; commit after the next assignment frame.".into(),
                close_code: 4409,
            })
        })?;
        g.member
            .commit(generation, offsets.clone())
            .await
            .map_err(|e| Some(group::group_failure(e)))?;
    }
    let frame = Message::Text(group::committed_frame(&offsets).into());
    send(ws, [frame], heartbeat.write_timeout())
        .await
        .map_err(|_| None)
}

/// Follows the member through a rebalance (see `group.rs`). `Err(None)`: the socket failed.
async fn on_group_event(
    ws: &mut WebSocket,
    s: &mut Session,
    waiters: &mut FuturesUnordered<Waiter>,
    heartbeat: &Heartbeat,
    event: GroupEvent,
) -> Result<(), Option<Failure>> {
    let delivered = positions(s);
    let Some(g) = s.group.as_mut() else {
        return Ok(());
    };
    match event {
        GroupEvent::Gone => return Err(Some(group::removed(g, "the group is gone"))),
        GroupEvent::Heartbeat => {
            return g
                .member
                .heartbeat()
                .map_err(|_| Some(group::removed(g, "missed heartbeats")));
        }
        GroupEvent::Changed => {}
    }
    match g.take_assignment() {
        Assignment::Joining => Ok(()),
        Assignment::Removed(reason) => Err(Some(group::removed(g, &format!("{reason:?}")))),
        Assignment::Revoke { generation_id, .. } => {
            if g.auto_commit
                && !delivered.is_empty()
                && let Err(e) = g.member.commit(generation_id, delivered.clone()).await
            {
                tracing::warn!(group = %g.member.group_id(), cause = %e, "auto-commit on revocation failed");
            }
            g.held = delivered
                .into_iter()
                .map(|(tp, o)| (tp, o.offset))
                .collect();
            g.generation = None;
            s.cursors.clear();
            *waiters = FuturesUnordered::new();
            g.member
                .rejoin()
                .map_err(|_| Some(group::removed(g, "it could not rejoin")))
        }
        Assignment::Assigned {
            generation_id,
            partitions,
        } => {
            let mut cursors = Vec::with_capacity(partitions.len());
            for tp in &partitions {
                let p = s
                    .broker
                    .partition(&tp.topic, tp.partition)
                    .map_err(|e| Some(Failure::from(GatewayError::v2(e))))?;
                let next = match g.held.get(tp) {
                    Some(&held) => held,
                    None => {
                        let offsets = s
                            .broker
                            .list_offsets(&p)
                            .await
                            .map_err(|e| Some(Failure::from(GatewayError::from(e))))?;
                        g.coordinator
                            .starting_offset(g.member.group_id(), tp, g.reset, offsets)
                            .map_err(|e| Some(group::group_failure(e)))?
                    }
                };
                cursors.push(Cursor::new(p, next));
            }
            g.held.clear();
            g.generation = Some(generation_id);
            s.cursors = cursors;
            s.start = 0;
            *waiters = FuturesUnordered::new();
            let frame = Message::Text(group::assignment_frame(generation_id, &partitions).into());
            send(ws, [frame], heartbeat.write_timeout())
                .await
                .map_err(|_| None)
        }
    }
}

fn bad(message: String) -> Failure {
    Failure::from(GatewayError::BadRequest(message))
}

/// Handles a client message; a commit is returned to be stored (`None` inside: everything
/// delivered).
fn on_text(s: &mut Session, body: &Bytes) -> Result<Option<Commit>, Failure> {
    let msg: ClientMessage<'_> = serde_json::from_slice(body).map_err(|e| {
        let what = if e.is_data() {
            "A message must be a JSON object"
        } else {
            "Malformed JSON"
        };
        Failure::policy(400, format!("{what}: {e}"))
    })?;
    match msg.kind.as_deref() {
        Some("credit") => {
            let grant = msg
                .records
                .and_then(|r| r.get().parse::<u64>().ok())
                .filter(|n| *n <= MAX_CREDIT_GRANT)
                .ok_or_else(|| {
                    bad(format!(
                        "'records' of a credit message must be an integer from 0 to {MAX_CREDIT_GRANT}, got {}.",
                        msg.records.map_or("nothing", RawValue::get)
                    ))
                })?;
            s.credit = s.credit.saturating_add(grant);
            Ok(None)
        }
        Some("seek") => seek(s, msg.partition, msg.offset).map(|()| None),
        Some("commit") => {
            if s.group.is_none() {
                return Err(bad(
                    "commit needs consumer-group mode: connect with group=<id>.".into(),
                ));
            }
            match msg.offsets {
                None => Ok(Some(Commit::Delivered)),
                Some(raw) => {
                    let owned = |tp: &TopicPartition| {
                        *tp.topic == *s.topic
                            && s.cursors.iter().any(|c| c.partition.id() == tp.partition)
                    };
                    group::parse_commit(raw, owned).map(|o| Some(Commit::Offsets(o)))
                }
            }
        }
        Some(other) => Err(Failure::policy(
            400,
            format!("Unknown message type '{other}'; this socket takes credit, seek and commit."),
        )),
        None => Err(Failure::policy(400, "The message has no 'type'.")),
    }
}

fn seek(
    s: &mut Session,
    partition: Option<&RawValue>,
    offset: Option<&RawValue>,
) -> Result<(), Failure> {
    let text = |v: Option<&RawValue>| v.map_or("nothing", RawValue::get).to_owned();
    let id = partition
        .and_then(|p| p.get().parse::<u32>().ok())
        .ok_or_else(|| {
            bad(format!(
                "'partition' of a seek must be a non-negative integer, got {}.",
                text(partition)
            ))
        })?;
    let topic = Arc::clone(&s.topic);
    let cursor = s
        .cursors
        .iter_mut()
        .find(|c| c.partition.id() == id)
        .ok_or_else(|| {
            Failure::from(GatewayError::v2(crate::broker::Error::UnknownPartition {
                topic: topic.to_string(),
                partition: id,
            }))
        })?;
    // A partition led elsewhere: the log start is found by the read (a read below it moves
    // to it) and the end is the high watermark last heard from the leader.
    let (start, end) = if s.broker.leads_elsewhere(&cursor.partition) {
        (0, cursor.high_watermark)
    } else {
        cursor.partition.offsets()
    };
    let target = match offset.map(RawValue::get) {
        Some("\"earliest\"") => start,
        Some("\"latest\"") => end,
        other => other.and_then(|o| o.parse::<u64>().ok()).ok_or_else(|| {
            bad(format!(
                "'offset' of a seek must be a non-negative integer, \"earliest\" or \"latest\", got {}.",
                text(offset)
            ))
        })?,
    };
    cursor.next = target.max(start);
    cursor.high_watermark = cursor.high_watermark.max(end);
    cursor.stalled = false;
    Ok(())
}

/// Reads what the credit allows, sends it as frames with one flush, and advances the cursors.
async fn send_round(ws: &mut WebSocket, s: &mut Session, heartbeat: &Heartbeat) -> Result<(), End> {
    let n = s.cursors.len();
    let jobs: Vec<(usize, Arc<Partition>, u64)> = (0..n)
        .map(|k| (s.start + k) % n)
        .filter_map(|i| {
            let c = s.cursors.get(i)?;
            (c.next < c.high_watermark && !c.stalled).then(|| (i, Arc::clone(&c.partition), c.next))
        })
        .collect();
    let (topic, encoding, credit) = (Arc::clone(&s.topic), s.encoding.clone(), s.credit);
    let broker = Arc::clone(&s.broker);
    let round =
        tokio::task::spawn_blocking(move || build_round(&broker, &topic, jobs, credit, &encoding))
            .await
            .unwrap_or_else(|e| Round {
                failure: Some(GatewayError::Internal(e.to_string())),
                ..Round::default()
            });
    for a in &round.advanced {
        if let Some(c) = s.cursors.get_mut(a.cursor) {
            c.next = a.next;
            if let Some(hw) = a.high_watermark {
                c.high_watermark = c.high_watermark.max(hw);
            }
            c.stalled = a.stalled;
        }
    }
    if n > 0 {
        s.start = round.resume_at % n;
    }
    s.credit -= round.records.min(s.credit);
    let stats = s.rt.stats();
    stats.buffered(round.records);
    let bytes = round.frames.iter().map(String::len).sum();
    let frames = round.frames.into_iter().map(|f| Message::Text(f.into()));
    let sent = send(ws, frames, heartbeat.write_timeout()).await;
    stats.flushed(round.records);
    crate::gateway::metrics::records_out(&s.topic, round.records as usize, bytes);
    sent?;
    match round.failure {
        None => Ok(()),
        Some(e) => Err(fail(ws, heartbeat, &Failure::from(e)).await),
    }
}
