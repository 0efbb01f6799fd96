//! `/v1/audit`: the delivery audit's windows and verdicts, its per-topic summary, and the
//! `client` tier's reports (CONTRACTS.md §0 "Audit"). The counting and judging are
//! `crate::audit`'s; this file parses and renders.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use runnel_openapi::ErrorBody;
use runnel_openapi::audit::{
    AuditProblem, AuditReport, AuditSummary, AuditWindow, AuditWindows, TierCount,
    TopicAuditSummary,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::{Audit, ReportedCount, Verdict, Window};
use crate::gateway::errors::{Api, GatewayError};
use crate::gateway::extract::{Body, Query, parse_json, require_json};
use crate::gateway::state::AppState;

/// Routes of this file, with their documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(audit_windows))
        .routes(routes!(audit_summary))
        .routes(routes!(audit_report))
}

/// The broker's audit; every served broker has one (`serve.rs` attaches it).
fn audit(state: &AppState) -> Result<&Arc<Audit>, GatewayError> {
    state
        .broker
        .audit()
        .ok_or_else(|| GatewayError::Internal("the delivery audit is not attached".into()))
}

/// Query of `GET /v1/audit`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowParams {
    /// The topic.
    topic: String,
    /// Windows starting at or after this, ms since the epoch.
    from: Option<i64>,
    /// Windows starting before this, ms since the epoch.
    to: Option<i64>,
    /// Only this consumer group among the `group:<name>` tiers.
    group: Option<String>,
}

/// A topic's audit windows, each with every tier's count and checksum and the verdict.
#[utoipa::path(
    get,
    path = "/v1/audit",
    operation_id = "audit_windows",
    tag = "audit",
    params(WindowParams),
    responses(
        (status = 200, description = "The topic's windows, oldest first", body = AuditWindows),
        (status = 400, description = "A missing topic or a bad query string (400)", body = ErrorBody),
        (status = 404, description = "Unknown topic (40401)", body = ErrorBody),
    ),
)]
pub async fn audit_windows(
    State(state): State<AppState>,
    Query(params): Query<WindowParams>,
) -> Result<Json<AuditWindows>, GatewayError> {
    state
        .broker
        .topic(&params.topic)
        .map_err(GatewayError::v2)?;
    let audit = audit(&state)?;
    let width = i64::try_from(audit.window_width().as_millis()).unwrap_or(i64::MAX);
    let windows = audit
        .windows(
            &params.topic,
            params.from,
            params.to,
            params.group.as_deref(),
        )
        .into_iter()
        .map(|(w, v)| render(&params.topic, w, width, v))
        .collect();
    Ok(Json(AuditWindows { windows }))
}

/// One window in the API's shape.
fn render(topic: &str, w: Window, width_ms: i64, v: Verdict) -> AuditWindow {
    AuditWindow {
        topic: topic.to_owned(),
        window_start: w.start(),
        window_end: w.end(width_ms),
        status: v.status.as_str().to_owned(),
        tiers: v
            .tiers
            .into_iter()
            .map(|(tier, t)| {
                (
                    tier.to_string(),
                    TierCount {
                        count: t.count,
                        checksum: t.checksum.to_string(),
                    },
                )
            })
            .collect(),
        problems: v
            .problems
            .into_iter()
            .map(|p| AuditProblem {
                kind: p.kind.as_str().to_owned(),
                tier: p.tier.to_string(),
                partition: p.partition,
                offset_from: p.offsets.map(|(from, _)| from),
                offset_to: p.offsets.map(|(_, to)| to),
                count: p.count,
                reporter: p.reporter,
            })
            .collect(),
    }
}

/// Per audited topic: the newest complete window and the problems found, by kind.
#[utoipa::path(
    get,
    path = "/v1/audit/summary",
    operation_id = "audit_summary",
    tag = "audit",
    responses((status = 200, description = "Every audited topic with counts", body = AuditSummary)),
)]
pub async fn audit_summary(
    State(state): State<AppState>,
) -> Result<Json<AuditSummary>, GatewayError> {
    let topics = audit(&state)?
        .summary()
        .into_iter()
        .map(|s| TopicAuditSummary {
            topic: s.topic,
            last_complete_window: s.last_complete_window,
            open_problems: s
                .problems
                .into_iter()
                .map(|(kind, n)| (kind.as_str().to_owned(), n))
                .collect(),
        })
        .collect();
    Ok(Json(AuditSummary { topics }))
}

/// A producing application's own counts, for the `client` tier; each (reporter, sequence) is
/// taken once.
#[utoipa::path(
    post,
    path = "/v1/audit/reports",
    operation_id = "audit_report",
    tag = "audit",
    request_body(content = AuditReport, content_type = "application/json"),
    responses(
        (status = 204, description = "Booked"),
        (status = 400, description = "Malformed JSON (400); an empty or too long reporter, no or too many counts, a window start not on a window boundary or in the future, a count too large, a checksum that is not a decimal u64, a topic that is not audited (40002)", body = ErrorBody),
        (status = 404, description = "Unknown topic (40401)", body = ErrorBody),
        (status = 409, description = "This (reporter, sequence) was already accepted (40904)", body = ErrorBody),
        (status = 413, description = "Body larger than `limits.max_request_body`", body = ErrorBody),
        (status = 415, description = "Content-Type is not JSON", body = ErrorBody),
        (status = 422, description = "Empty body (42206) or wrong shape, a negative or non-integer count (42203)", body = ErrorBody),
        (status = 429, description = "Too many distinct reporters are remembered (42901)", body = ErrorBody),
    ),
)]
pub async fn audit_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<StatusCode, GatewayError> {
    require_json(&headers)?;
    let report: AuditReport = parse_json(&body, Api::V2)?;
    let counts = report
        .counts
        .into_iter()
        .map(|c| ReportedCount {
            topic: c.topic,
            window_start: c.window_start,
            count: c.count,
            checksum: c.checksum,
        })
        .collect();
    audit(&state)?
        .report(&state.broker, &report.reporter, report.sequence, counts)
        .map_err(GatewayError::Audit)?;
    Ok(StatusCode::NO_CONTENT)
}
