//! The delivery audit's shapes (`/v1/audit`): windows with each tier's count and checksum, the
//! problems the auditor found, the per-topic summary, and the reports producing applications
//! send for the `client` tier.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The answer of `GET /v1/audit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditWindows {
    /// Oldest first; the no-time bucket (records without a usable timestamp) first of all.
    pub windows: Vec<AuditWindow>,
}

/// One window of record time of one topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditWindow {
    pub topic: String,
    /// Start in ms since the epoch; `null` for the no-time bucket.
    #[schema(example = 1_767_225_600_000_i64)]
    pub window_start: Option<i64>,
    /// End (exclusive) in ms since the epoch; `null` for the no-time bucket.
    #[schema(example = 1_767_225_660_000_i64)]
    pub window_end: Option<i64>,
    /// `pending` (its grace is not over), `complete`, `incomplete`, or the worst problem's
    /// kind: `gap`, `duplicate`, `mismatch`, `skipped`, `lagging`.
    #[schema(example = "complete")]
    pub status: String,
    /// By tier: `client`, `ingress`, `log`, `group:<name>`.
    pub tiers: BTreeMap<String, TierCount>,
    pub problems: Vec<AuditProblem>,
}

/// One tier's count in a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TierCount {
    pub count: u64,
    /// The wrapping 64-bit sum of the records' XXH3-64 hashes of (key, value, timestamp), as
    /// a decimal string (JSON numbers lose precision past 2^53).
    #[schema(example = "13790924617211837185")]
    pub checksum: String,
}

/// What the auditor found wrong in a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditProblem {
    /// `gap`, `duplicate`, `mismatch`, `skipped`, `lagging` or `incomplete`.
    #[schema(example = "gap")]
    pub kind: String,
    /// The tier checked against the one upstream of it (`client` against `ingress`).
    #[schema(example = "log")]
    pub tier: String,
    /// The partition, when the comparison was per partition.
    pub partition: Option<u32>,
    /// First offset of the window's records in that partition.
    pub offset_from: Option<u64>,
    /// Last offset of the window's records in that partition.
    pub offset_to: Option<u64>,
    /// Records missing, extra, or not yet committed past (0 for a `mismatch`).
    pub count: u64,
    /// For the `client` tier, the application that reported, when the window has one.
    pub reporter: Option<String>,
}

/// The answer of `GET /v1/audit/summary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditSummary {
    pub topics: Vec<TopicAuditSummary>,
}

/// One topic's audit at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TopicAuditSummary {
    pub topic: String,
    /// Start of the newest `complete` window (ms since the epoch), if any.
    pub last_complete_window: Option<i64>,
    /// Problems of judged windows still held, by kind.
    pub open_problems: BTreeMap<String, u64>,
}

/// The body of `POST /v1/audit/reports`: a producing application's own counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditReport {
    /// The application instance reporting (1 to 255 bytes).
    #[schema(example = "checkout-7f9c")]
    pub reporter: String,
    /// The report's number; a repeated (reporter, sequence) is refused with 409.
    pub sequence: u64,
    /// 1 to 10,000 entries.
    pub counts: Vec<ReportedCount>,
}

/// Records an application produced to a topic in one window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReportedCount {
    pub topic: String,
    /// The window's start in ms since the epoch: a multiple of the broker's `audit.window`,
    /// at most one window ahead of the broker's clock.
    #[schema(example = 1_767_225_600_000_i64)]
    pub window_start: i64,
    /// At most 3,600,000,000.
    pub count: u64,
    /// Optional: the wrapping 64-bit sum of the records' hashes as the broker computes them,
    /// as a decimal string.
    pub checksum: Option<String>,
}
