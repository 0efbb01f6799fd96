//! `GET /v1/ws/produce?topic=T[&acks=0|1|all][&format=json|binary]`: produce over a WebSocket.
//!
//! Client → `{"type":"produce","id":"<client id>","records":[{"key","value","partition"?,
//! "headers"?}]}`; server → `{"type":"ack","id":"<same id>","offsets":[{"partition","offset"}]}`
//! or `{"type":"error","id":"<same id>","error_code":N,"message":"..."}`, one reply per message,
//! in the order the messages came. Keys and values are JSON values stored as their JSON text
//! (the v2 `json` embedded format; keys in compact form, so equal keys pick the same
//! partition); with `format=binary` they are base64 strings. `headers` are `{"key", "value":
//! base64|null}` as in v2 produce. The id is echoed as given (a string or a number).
//! Binary WebSocket messages use the compact encoding of [`crate::ws_binary`] and get binary
//! replies.
//!
//! `acks` means what it means for HTTP produce: with `1` or `all` (the default) the ack comes
//! once the records are in the log (and fsynced if the flush policy says so), with offsets;
//! with `0` as soon as they are queued, with `"offset": null`.
//!
//! # Pipelining
//! Reading does not wait for appends. A message is validated, its records are queued on their
//! partitions' group-commit appenders (so the log order of one partition is the message
//! order), and the pending reply goes on an ordered queue; replies are written as they
//! complete, in order, several per flush. At most `ws_max_in_flight` messages wait for a
//! reply; past that the socket is not read, which throttles the client through TCP.
//!
//! # Failures
//! A message that is well-formed but cannot be produced (an unknown partition, a record over
//! `max.message.bytes`, bad base64, more than `max_records_per_request` records) gets an error
//! frame with its id and nothing of it is written; the socket stays open. If the log fails for
//! some records of a message (a full disk), the error frame also carries `"offsets"` with
//! `"offset": null` for the records that were not appended. A message that is not JSON, not an
//! object with `"type":"produce"` and an `id` closes the socket with 1008 after an error frame
//! (id `null` when it could not be read), once the replies before it are written.

use std::borrow::Cow;

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
use futures_util::stream::FuturesOrdered;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::conn::{End, Failure, Heartbeat, error_frame, finish, send};
use super::{WsRuntime, accept, query};
use crate::broker::{Acks, LogError, NewRecord};
use crate::gateway::Limits;
use crate::gateway::errors::{Api, GatewayError, log_message, log_status};
use crate::gateway::extract::EmbeddedFormat;
use crate::gateway::ingest::{Ingest, Outcome};
use crate::gateway::json_value;
use crate::gateway::state::AppState;
use crate::gateway::wire::{
    AcksParam, HeaderIn, at_record, decode_base64, decode_headers, readable_json,
};
use crate::ws_binary as binary;

/// Replies written per flush at most.
const REPLIES_PER_FLUSH: usize = 256;

/// Query parameters besides `acks`.
#[derive(Debug, Deserialize)]
pub struct ProduceParams {
    topic: Option<String>,
    format: Option<String>,
}

/// What a produce socket needs for every message.
#[derive(Debug, Clone)]
struct Ctx {
    state: AppState,
    topic: String,
    acks: Acks,
    format: EmbeddedFormat,
    max_records: usize,
    rt: WsRuntime,
}

/// `GET /v1/ws/produce`.
pub async fn upgrade(
    State(state): State<AppState>,
    Extension(limits): Extension<Limits>,
    Extension(rt): Extension<WsRuntime>,
    uri: Uri,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ctx = match check(state, limits, rt, &uri) {
        Ok(ctx) => ctx,
        Err(e) => return e.into_response(),
    };
    let (ws, permit) = match accept(&ctx.rt, ws) {
        Ok(accepted) => accepted,
        Err(response) => return *response,
    };
    let rt = ctx.rt.clone();
    rt.spawn_connection(ws, permit, move |socket| run(socket, ctx))
}

fn check(state: AppState, limits: Limits, rt: WsRuntime, uri: &Uri) -> Result<Ctx, GatewayError> {
    let params: ProduceParams = query(uri)?;
    let acks = query::<AcksParam>(uri)?.parse()?;
    let topic = params
        .topic
        .ok_or_else(|| GatewayError::BadRequest("Query parameter 'topic' is required.".into()))?;
    state
        .broker
        .topic_for_produce(&topic)
        .map_err(GatewayError::v2)?;
    let format = match params.format.as_deref() {
        None | Some("json") => EmbeddedFormat::Json,
        Some("binary") => EmbeddedFormat::Binary,
        Some(other) => {
            return Err(GatewayError::BadRequest(format!(
                "Query parameter 'format' must be json or binary, got '{other}'."
            )));
        }
    };
    Ok(Ctx {
        state,
        topic,
        acks,
        format,
        max_records: limits.max_records_per_request,
        rt,
    })
}

/// How a reply is encoded: as the request was.
#[derive(Debug, Clone)]
enum ReplyTo {
    /// JSON text frames; the id as raw JSON text.
    Json(String),
    /// Binary frames; the id as bytes.
    Binary(Bytes),
}

impl ReplyTo {
    fn error(&self, f: &Failure) -> Message {
        match self {
            ReplyTo::Json(id) => Message::Text(error_frame(Some(id), f).into()),
            ReplyTo::Binary(id) => {
                Message::Binary(binary::encode_error(id, f.error_code, &f.message))
            }
        }
    }
}

/// What reading one message leads to.
enum Step {
    /// A reply to write in turn (possibly already known).
    Reply(BoxFuture<'static, Message>),
    /// A protocol violation: write this error frame in turn, then close.
    Fatal(Message, End),
}

fn ready(m: Message) -> Step {
    Step::Reply(std::future::ready(m).boxed())
}

async fn run(mut ws: WebSocket, ctx: Ctx) {
    let limits = *ctx.rt.limits();
    let stats = &ctx.rt.inner.stats;
    let mut heartbeat = Heartbeat::new(&limits);
    let mut pending: FuturesOrdered<BoxFuture<'static, Message>> = FuturesOrdered::new();
    // Set once the socket must end; it ends when the replies before it are written.
    let mut closing: Option<End> = None;
    let end = loop {
        if pending.is_empty()
            && let Some(end) = closing.take()
        {
            break end;
        }
        tokio::select! {
            biased;
            () = ctx.rt.shutdown().cancelled(), if closing.is_none() => {
                closing = Some(End::shutdown());
            }
            () = tokio::time::sleep_until(heartbeat.next_wake()) => {
                if let Err(end) = heartbeat.wake(&mut ws).await {
                    break end;
                }
            }
            Some(reply) = pending.next(), if !pending.is_empty() => {
                let mut batch = vec![reply];
                while batch.len() < REPLIES_PER_FLUSH
                    && let Some(Some(next)) = pending.next().now_or_never()
                {
                    batch.push(next);
                }
                let n = batch.len() as u64;
                if let Err(end) = send(&mut ws, batch, heartbeat.write_timeout()).await {
                    break end;
                }
                stats.produce_replies.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            }
            msg = ws.next(), if closing.is_none() && pending.len() < limits.max_in_flight => {
                heartbeat.heard();
                let step = match msg {
                    None => break End::Drop,
                    Some(Err(e)) => match End::read_failed(e, &limits) {
                        End::Drop => break End::Drop,
                        end => {
                            closing = Some(end);
                            continue;
                        }
                    },
                    Some(Ok(Message::Close(_))) => break End::PeerClosed,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Text(text))) => on_text(&ctx, Bytes::from(text)).await,
                    Some(Ok(Message::Binary(data))) => on_binary(&ctx, data).await,
                };
                match step {
                    Step::Reply(reply) => pending.push_back(reply),
                    Step::Fatal(reply, end) => {
                        pending.push_back(std::future::ready(reply).boxed());
                        closing = Some(end);
                    }
                }
            }
        }
    };
    finish(ws, end).await;
}

/// The envelope of a JSON message; `records` is parsed once the id is known.
#[derive(Debug, Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    records: Option<&'a RawValue>,
}

#[derive(Debug, Deserialize)]
struct JsonRecord<'a> {
    #[serde(borrow, default)]
    key: Option<&'a RawValue>,
    #[serde(borrow, default)]
    value: Option<&'a RawValue>,
    #[serde(default)]
    partition: Option<i64>,
    #[serde(default)]
    headers: Option<Vec<HeaderIn>>,
}

/// A record as parsed from either encoding, before validation.
struct Incoming {
    partition: Option<i64>,
    record: NewRecord,
}

fn fatal_json(id: Option<&str>, f: &Failure) -> Step {
    Step::Fatal(
        Message::Text(error_frame(Some(id.unwrap_or("null")), f).into()),
        f.end(),
    )
}

async fn on_text(ctx: &Ctx, body: Bytes) -> Step {
    let envelope: Envelope<'_> = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            let what = if e.is_data() {
                "A produce message must be a JSON object"
            } else {
                "Malformed JSON"
            };
            return fatal_json(None, &Failure::policy(400, format!("{what}: {e}")));
        }
    };
    let id = envelope.id.map(RawValue::get);
    match envelope.kind.as_deref() {
        Some("produce") => {}
        Some(other) => {
            return fatal_json(
                id,
                &Failure::policy(
                    400,
                    format!(
                        "Unknown message type '{other}'; this socket takes {{\"type\":\"produce\",\"id\",\"records\"}}."
                    ),
                ),
            );
        }
        None => return fatal_json(id, &Failure::policy(400, "The message has no 'type'.")),
    }
    let Some(id) = id.filter(|t| {
        t.starts_with('"') || t.starts_with('-') || t.starts_with(|c: char| c.is_ascii_digit())
    }) else {
        return fatal_json(
            None,
            &Failure::policy(
                400,
                "A produce message needs an 'id' (a string or a number).",
            ),
        );
    };
    let reply_to = ReplyTo::Json(id.to_owned());
    let records = match parse_json_records(envelope.records, &body, ctx.format) {
        Ok(r) => r,
        Err(e) => return ready(reply_to.error(&Failure::from(e))),
    };
    produce(ctx, reply_to, records).await
}

fn parse_json_records(
    raw: Option<&RawValue>,
    body: &Bytes,
    format: EmbeddedFormat,
) -> Result<Vec<Incoming>, GatewayError> {
    let raw = raw.ok_or_else(|| {
        GatewayError::InvalidRecord("A produce message needs 'records', an array.".into())
    })?;
    let parsed: Vec<JsonRecord<'_>> = serde_json::from_str(raw.get())
        .map_err(|e| GatewayError::InvalidRecord(format!("records: {e}")))?;
    parsed
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let at = |e: GatewayError| at_record(i, e);
            let key = payload(r.key, body, format, "key").map_err(at)?;
            // Keys pick partitions by their bytes: store the compact form a JSON serializer
            // writes, so the same key always lands on the same partition.
            let key = match (format, key) {
                (EmbeddedFormat::Json, Some(k)) => Some(json_value::compact(&k)),
                (_, k) => k,
            };
            let value = payload(r.value, body, format, "value").map_err(at)?;
            let headers = decode_headers(r.headers.unwrap_or_default()).map_err(at)?;
            Ok(Incoming {
                partition: r.partition,
                record: NewRecord {
                    timestamp: None,
                    key,
                    value,
                    headers,
                },
            })
        })
        .collect()
}

/// A key or value: the JSON text itself (a slice of the message) for `json`, the decoded
/// base64 string for `binary`; `null` or absent is none.
fn payload(
    v: Option<&RawValue>,
    body: &Bytes,
    format: EmbeddedFormat,
    what: &str,
) -> Result<Option<Bytes>, GatewayError> {
    let Some(raw) = v else {
        return Ok(None);
    };
    let text = raw.get();
    if text == "null" {
        return Ok(None);
    }
    if format == EmbeddedFormat::Binary {
        let s: Cow<'_, str> = serde_json::from_str(text).map_err(|_| {
            GatewayError::InvalidRecord(format!(
                "{what} must be a base64 string with format=binary"
            ))
        })?;
        return decode_base64(&s, what).map(Some);
    }
    readable_json(text, what)?;
    Ok(Some(body.slice_ref(text.as_bytes())))
}

async fn on_binary(ctx: &Ctx, data: Bytes) -> Step {
    match binary::decode_produce(&data) {
        Ok(request) => {
            let reply_to = ReplyTo::Binary(request.id);
            let records = request
                .records
                .into_iter()
                .map(|r| Incoming {
                    partition: r.partition,
                    record: r.record,
                })
                .collect();
            produce(ctx, reply_to, records).await
        }
        Err(e) => {
            let f = Failure::policy(400, format!("Malformed binary produce message: {e}"));
            Step::Fatal(
                Message::Binary(binary::encode_error(
                    &Bytes::new(),
                    f.error_code,
                    &f.message,
                )),
                f.end(),
            )
        }
    }
}

/// Checks the records of one message through the ingest pipeline, queues them on their
/// partitions and returns the pending reply.
async fn produce(ctx: &Ctx, reply_to: ReplyTo, records: Vec<Incoming>) -> Step {
    let submitted = match check_records(ctx, records) {
        Ok(ingest) => ingest.submit(ctx.acks).await,
        Err(e) => return ready(reply_to.error(&Failure::from(e))),
    };
    Step::Reply(
        async move {
            let outcomes = submitted.outcomes().await;
            encode_reply(&reply_to, &outcomes)
        }
        .boxed(),
    )
}

fn check_records(ctx: &Ctx, records: Vec<Incoming>) -> Result<Ingest<'_>, GatewayError> {
    if records.is_empty() {
        return Err(GatewayError::InvalidRecord(
            "A produce message needs at least one record.".into(),
        ));
    }
    Ingest::check_count(records.len(), ctx.max_records)?;
    let mut ingest = Ingest::to_topic(&ctx.state.broker, &ctx.topic, Api::V2)?;
    for (i, r) in records.into_iter().enumerate() {
        ingest.add(i, r.partition, r.record)?;
    }
    Ok(ingest)
}

fn encode_reply(reply_to: &ReplyTo, outcomes: &[Outcome]) -> Message {
    let failed = outcomes.iter().filter(|(_, r)| r.is_err()).count();
    let first_error = outcomes.iter().find_map(|(_, r)| r.as_ref().err());
    match reply_to {
        ReplyTo::Binary(id) => match first_error {
            None => Message::Binary(binary::encode_ack(id, outcomes)),
            Some(e) => {
                let f = log_failure(e, failed, outcomes.len());
                Message::Binary(binary::encode_error(id, f.error_code, &f.message))
            }
        },
        ReplyTo::Json(id) => {
            let mut s = String::with_capacity(40 + outcomes.len() * 32);
            let f = first_error.map(|e| log_failure(e, failed, outcomes.len()));
            match &f {
                None => {
                    s.push_str(r#"{"type":"ack","id":"#);
                    s.push_str(id);
                }
                Some(f) => {
                    let frame = error_frame(Some(id), f);
                    // Reopen the error object to add the per-record offsets.
                    s.push_str(frame.strip_suffix('}').unwrap_or(&frame));
                }
            }
            s.push_str(r#","offsets":["#);
            let mut buf = itoa::Buffer::new();
            for (k, (p, r)) in outcomes.iter().enumerate() {
                if k > 0 {
                    s.push(',');
                }
                s.push_str(r#"{"partition":"#);
                s.push_str(buf.format(*p));
                s.push_str(r#","offset":"#);
                match r {
                    Ok(Some(o)) => s.push_str(buf.format(*o)),
                    Ok(None) => s.push_str("null"),
                    Err(e) => {
                        s.push_str(r#"null,"error_code":"#);
                        s.push_str(buf.format(log_status(e).1));
                    }
                }
                s.push('}');
            }
            s.push_str("]}");
            Message::Text(s.into())
        }
    }
}

fn log_failure(e: &LogError, failed: usize, total: usize) -> Failure {
    let (_, error_code) = log_status(e);
    Failure {
        error_code,
        message: format!(
            "{failed} of {total} records were not appended: {}",
            log_message(e)
        ),
        close_code: super::conn::INTERNAL_ERROR,
    }
}
