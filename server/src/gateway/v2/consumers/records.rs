//! `GET /consumers/{group}/instances/{name}/records`: the v2 long poll.
//!
//! A poll reads from the instance's positions within what the read-memory budget grants,
//! long-polling the partitions' high-watermark watches (and the member's assignment watch)
//! until `fetch.min.bytes` arrived or the timeout passes, then renders the records in the
//! instance's format. After a poll a position is the last offset + 1 of the last batch read
//! (Kafka's), so offsets removed by compaction are skipped; a position outside the log is moved
//! by `auto.offset.reset` (`group/instances.rs`).
//!
//! Not owned here: the instance's state (`group/instances.rs`), rendering
//! (`gateway/read.rs`).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, RawQuery, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use futures_util::future::select_all;
use runnel_openapi::{params, v2 as doc};

use super::{MAX_POLL_TIMEOUT_MS, MAX_REQUEST_BYTES, Registry, Result, v2};
use crate::broker::{LogError, Record};
use crate::gateway::errors::{ErrorBody, GatewayError};
use crate::gateway::extract::{Path, accept_format};
use crate::gateway::read::write_readable_records_json;
use crate::gateway::read_budget::{self, ReadBudget};
use crate::gateway::slots::{self, RequestSlot};
use crate::gateway::state::AppState;
use crate::group::{Assignment, TopicPartition};

/// The least read-memory room a poll round waits for: a default-sized batch (Kafka's 1 MiB
/// `max.message.bytes`); a larger first batch is still answered whole.
const ROUND_LEAST_BYTES: usize = 1 << 20;

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
fn parse_u64(v: Option<&str>, name: &str) -> Result<Option<u64>> {
    v.map(|s| {
        s.parse().map_err(|_| {
            GatewayError::BadRequest(format!(
                "Query parameter '{name}' must be a non-negative integer, got '{s}'."
            ))
        })
    })
    .transpose()
}

/// Poll records: from each assigned partition's position, waiting up to `timeout` for one.
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
pub(super) async fn poll(
    State(state): State<AppState>,
    Extension(reg): Extension<Arc<Registry>>,
    Extension(read_budget): Extension<ReadBudget>,
    slot: Option<Extension<RequestSlot>>,
    Path((group, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let inst = reg.get(&group, &name).map_err(v2)?;
    let params = PollParams::parse(query.as_deref());
    let own = inst.frontend().format;
    let format = accept_format(&headers, own, &[own]).map_err(|_| {
        GatewayError::ConsumerFormatMismatch(format!(
            "The requested embedded data format does not match the deserializer for this consumer instance; read with Accept: {}.",
            own.media_type()
        ))
    })?;
    let timeout = parse_u64(params.timeout.as_deref(), "timeout")?
        .unwrap_or(inst.config().request_timeout_ms)
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

    let mut st = inst.lock().await;
    inst.begin_poll(&st).await.map_err(v2)?;
    let mut out = Vec::new();
    loop {
        inst.handle_assignment(&mut st).await.map_err(v2)?;
        // Wait for an assignment (subscribe mode) before fetching.
        if let Some(mut rx) = st.assignment_watch() {
            let assigned = matches!(*rx.borrow_and_update(), Assignment::Assigned { .. });
            if !assigned {
                park()?;
                drop(st);
                let timed_out = tokio::time::timeout_at(deadline, rx.changed())
                    .await
                    .is_err();
                st = inst.lock().await;
                if timed_out {
                    // No assignment in time: an empty answer.
                    break;
                }
                continue;
            }
        }
        let owned = st.owned();
        inst.start_positions(&mut st, &owned).await.map_err(v2)?;
        // Read what is there, within what the read-memory budget grants this round.
        let mut grant = read_budget
            .reserve(max_bytes, ROUND_LEAST_BYTES.min(max_bytes))
            .await?;
        let round_bytes = grant.read_bytes();
        let mut fetched: Vec<(TopicPartition, Vec<Record>, u64)> = Vec::new();
        let mut total = 0usize;
        let mut waiters = Vec::new();
        // Every owned partition with the high watermark this round saw.
        let mut seen = Vec::new();
        for t in &owned {
            let p = state
                .broker
                .partition(&t.topic, t.partition)
                .map_err(GatewayError::v2)?;
            let offsets = state.broker.list_offsets(&p).await?;
            let (log_start, hw) = offsets;
            seen.push((Arc::clone(&p), hw));
            let mut pos = st.position(t).unwrap_or(0);
            if pos < log_start || pos > hw {
                pos = inst.reset_out_of_range(t, offsets, pos).map_err(v2)?;
                st.set_position(t.clone(), pos);
            }
            if pos >= hw || total >= round_bytes {
                waiters.push((p, pos.max(hw)));
                continue;
            }
            let budget = round_bytes - total;
            let fetch = match state.broker.fetch(&p, pos, budget).await {
                Ok(f) => f,
                Err(LogError::OffsetOutOfRange {
                    log_start_offset,
                    log_end_offset,
                    ..
                }) => {
                    // Retention moved the log start past `pos` meanwhile.
                    let offsets = (log_start_offset, log_end_offset);
                    let o = inst.reset_out_of_range(t, offsets, pos).map_err(v2)?;
                    st.set_position(t.clone(), o);
                    continue;
                }
                Err(e) => return Err(GatewayError::from(e)),
            };
            total += fetch.bytes;
            if fetch.records.is_empty() {
                // Nothing up to the high watermark: skip what was read past (offsets compaction
                // removed) so the next poll does not read it again.
                st.set_position(t.clone(), fetch.next_offset);
                waiters.push((p, fetch.next_offset.max(hw)));
            } else {
                fetched.push((t.clone(), fetch.records, fetch.next_offset));
            }
        }
        let now = tokio::time::Instant::now();
        if (!fetched.is_empty() && total >= inst.config().fetch_min_bytes) || now >= deadline {
            out = fetched;
            grant.fit(total);
            answer_grant = Some(grant);
            break;
        }
        drop(grant);
        park()?;
        // Wait for any partition to grow, or the assignment to change, or the deadline.
        let mut rx = st.assignment_watch().map(|mut rx| {
            rx.borrow_and_update();
            rx
        });
        // Nothing read: wait for a partition to grow past where it was read to. Below
        // fetch.min.bytes: wait for any partition to grow past what this round saw. Each
        // wait is a long poll here or at the partition's leader.
        let waits = if fetched.is_empty() { waiters } else { seen };
        drop(st);
        {
            let broker = Arc::clone(&state.broker);
            let remaining = deadline.saturating_duration_since(now);
            let grow = async {
                if waits.is_empty() {
                    std::future::pending::<()>().await;
                }
                let futs = waits
                    .iter()
                    .map(|(p, above)| Box::pin(broker.wait_for(p, *above, remaining)));
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
        st = inst.lock().await;
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
            &inst.frontend().schemas,
        );
        if let (0, Some(e)) = (written, failure) {
            return Err(e);
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
        st.set_position(t.clone(), next);
        crate::gateway::metrics::records_out(&t.topic, records.len(), part.len());
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
    inst.touch();
    let Some(mut grant) = answer_grant else {
        return Ok(([(CONTENT_TYPE, format.media_type())], body).into_response());
    };
    // The rendered answer replaces the batches it came from.
    grant.fit(body.len());
    let body = read_budget::chunked_body(grant, body.into(), || None);
    Ok(([(CONTENT_TYPE, format.media_type())], body).into_response())
}
