//! The delivery audit (issue 13): every tier counts the records it saw per topic, partition
//! and window of record time, and the auditor balances the books, so a lost or doubled record
//! shows up as a `gap` or `duplicate` located to a tier, a partition and an offset range.
//!
//! Tiers (see `reconcile.rs` for how they are compared):
//! - `client`: what producing applications report through `POST /v1/audit/reports`
//!   ([`Audit::report`]); each (reporter, sequence) is taken once;
//! - `ingress`: records the gateway acknowledged, counted by the one ingest pipeline
//!   ([`Pending`]); the gateway stamps a record without a timestamp with its own clock first,
//!   so every tier hashes and windows the same timestamp;
//! - `log`: records in the log, counted by offset (`scan.rs`): a record counts when the tier's
//!   counted-through offset first passes it, so nothing counts twice;
//! - `group:<g>`: records a consumer group committed past, counted by offset the same way.
//!
//! [`Audit::run`] counts the `log` and `group` tiers and judges due windows every
//! `publish_interval`, and once more at shutdown. Audited: client topics with
//! `message.timestamp.type=CreateTime` (under `LogAppendTime` the log restamps records, so the
//! gateway cannot know their windows) and without `audit.enable=false`; never internal topics.
//!
//! The books (`books.rs`) are published to the compacted internal topic `__audit` at the end
//! of every round that changed them, and at shutdown (`persist.rs`); a restart restores them
//! and resumes counting where the last published round stopped. What the gateway acknowledged
//! after that round and before a crash is lost: the windows holding those records end
//! `incomplete` instead of a false `duplicate`.
//!
//! A group reset forward past records it had not committed (`offsets:reset`) books them as
//! `skipped` ([`Audit::skip`]).
//!
//! Not yet: the auditor of a cluster (the leader of `__audit` partition 0) reconciling every
//! broker's books.

mod books;
mod persist;
mod reconcile;
mod scan;
mod window;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;
use tracing::warn;

pub use books::Ledger;
pub use persist::{PersistError, TOPIC};
pub use reconcile::{Kind, Problem, Status, Tier, Verdict};
pub use window::{Tally, Window, record_hash};

use crate::broker::{Broker, NewRecord, Topic};
use crate::config::AuditConfig;
use crate::group::GroupCoordinator;
use crate::log::LogConfig;
use crate::log::batch::TimestampType;

/// Longest reporter id: it is kept per report sequence, so it is bounded like a group id.
pub const MAX_REPORTER_BYTES: usize = 255;
/// Entries one report may carry.
pub const MAX_REPORT_COUNTS: usize = 10_000;
/// Largest count one entry may carry: a million records a second for an hour, far above what
/// one broker takes, so a larger number is a client bug, not traffic.
pub const MAX_REPORT_COUNT: u64 = 3_600_000_000;

/// Why a client report was refused. Nothing of a refused report is booked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error("reporter must be 1 to {MAX_REPORTER_BYTES} bytes")]
    Reporter,
    #[error("counts must hold 1 to {MAX_REPORT_COUNTS} entries; it holds {0}")]
    Counts(usize),
    #[error("Topic '{topic}' not found (counts[{index}]).")]
    UnknownTopic { index: usize, topic: String },
    #[error(
        "counts[{index}]: topic '{topic}' is not audited (internal, audit.enable=false, or \
         message.timestamp.type=LogAppendTime)"
    )]
    NotAudited { index: usize, topic: String },
    #[error("counts[{index}].window_start {start} is not the start of a {width_ms} ms window")]
    Unaligned {
        index: usize,
        start: i64,
        width_ms: i64,
    },
    #[error("counts[{index}].window_start {start} is in the future")]
    Future { index: usize, start: i64 },
    #[error("counts[{index}].count {count} is more than {MAX_REPORT_COUNT}")]
    CountTooLarge { index: usize, count: u64 },
    #[error("counts[{index}].checksum {checksum:?} is not a decimal unsigned 64-bit number")]
    Checksum { index: usize, checksum: String },
    #[error("report {sequence} of reporter '{reporter}' was already accepted")]
    Replayed { reporter: String, sequence: u64 },
    #[error("too many reporters; at most {} are remembered", books::MAX_REPORTERS)]
    TooManyReporters,
}

/// One entry of a client report, as received.
#[derive(Debug, Clone)]
pub struct ReportedCount {
    pub topic: String,
    pub window_start: i64,
    pub count: u64,
    /// The wrapping sum of [`record_hash`] of the records, as a decimal string.
    pub checksum: Option<String>,
}

/// The audit of this broker: its settings and books.
#[derive(Debug)]
pub struct Audit {
    config: AuditConfig,
    books: Mutex<Books>,
    /// Rounds whose changes reached `__audit`, for `/metrics`.
    published: AtomicU64,
}

use books::Books;

/// A window width or grace in ms; durations beyond i64 ms are clamped (they are validated
/// far below that).
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Audit {
    pub fn new(config: AuditConfig) -> Arc<Self> {
        Arc::new(Audit {
            books: Mutex::new(Books::new(millis(config.window), millis(config.grace))),
            config,
            published: AtomicU64::new(0),
        })
    }

    /// The width of a window.
    pub fn window_width(&self) -> Duration {
        self.config.window
    }

    /// Restores the books this broker last published to `__audit`, then remembers where each
    /// audited partition's log ends now, before anything is served: log records below it that
    /// the restored books had not counted may have passed the gateway before a crash (see
    /// `reconcile.rs`). Blocking (reads `__audit`).
    ///
    /// # Errors
    /// `__audit` could not be read; the broker must not serve then, or it would count again
    /// what it had already counted.
    pub fn start(&self, broker: &Broker) -> Result<(), PersistError> {
        let restored = persist::replay(broker)?;
        let mut books = self.books.lock();
        let live: HashMap<String, String> = broker
            .topics()
            .iter()
            .map(|t| (t.name().to_owned(), t.topic_id().to_owned()))
            .collect();
        for (name, topic_books) in restored.topics {
            if let Some(id) = live.get(&name) {
                books.restore_topic(&name, id, topic_books);
            }
        }
        for (topic, w, verdict) in restored.verdicts {
            books.restore_verdict(&topic, w, verdict);
        }
        books.restore_reporters(restored.reporters);
        for topic in broker.topics() {
            if !audited(&topic, &broker.log_config(&topic)) {
                continue;
            }
            for p in topic.partitions() {
                let (_, end) = p.offsets();
                books.set_boot_end(topic.name(), topic.topic_id(), p.id(), end);
            }
        }
        Ok(())
    }

    /// The `ingress` tally of one produce request to `topic`, or `None` when the topic is not
    /// audited.
    pub fn pending(self: &Arc<Self>, topic: &Arc<Topic>, config: &LogConfig) -> Option<Pending> {
        audited(topic, config).then(|| Pending {
            audit: Arc::clone(self),
            topic: Arc::clone(topic),
            records: Vec::new(),
        })
    }

    /// Books a client report once.
    ///
    /// # Errors
    /// A [`ReportError`]; then nothing is booked.
    pub fn report(
        &self,
        broker: &Broker,
        reporter: &str,
        sequence: u64,
        counts: Vec<ReportedCount>,
    ) -> Result<(), ReportError> {
        if reporter.is_empty() || reporter.len() > MAX_REPORTER_BYTES {
            return Err(ReportError::Reporter);
        }
        if counts.is_empty() || counts.len() > MAX_REPORT_COUNTS {
            return Err(ReportError::Counts(counts.len()));
        }
        let width = millis(self.config.window);
        let now = crate::broker::now_ms();
        let mut booked = Vec::with_capacity(counts.len());
        for (index, c) in counts.into_iter().enumerate() {
            let topic = broker
                .topic(&c.topic)
                .map_err(|_| ReportError::UnknownTopic {
                    index,
                    topic: c.topic.clone(),
                })?;
            if !audited(&topic, &broker.log_config(&topic)) {
                return Err(ReportError::NotAudited {
                    index,
                    topic: c.topic,
                });
            }
            let window = Window::of(c.window_start, width);
            if window != Window::Start(c.window_start) {
                return Err(ReportError::Unaligned {
                    index,
                    start: c.window_start,
                    width_ms: width,
                });
            }
            // One window of clock skew between the application and the broker is allowed.
            if c.window_start > now.saturating_add(width) {
                return Err(ReportError::Future {
                    index,
                    start: c.window_start,
                });
            }
            if c.count > MAX_REPORT_COUNT {
                return Err(ReportError::CountTooLarge {
                    index,
                    count: c.count,
                });
            }
            let checksum = match &c.checksum {
                None => None,
                Some(text) => Some(text.parse::<u64>().map_err(|_| ReportError::Checksum {
                    index,
                    checksum: text.clone(),
                })?),
            };
            let tally = Tally {
                count: c.count,
                checksum: checksum.unwrap_or(0),
            };
            booked.push((
                c.topic,
                topic.topic_id().to_owned(),
                window,
                tally,
                checksum.is_some(),
            ));
        }
        self.books
            .lock()
            .client(reporter, sequence, booked, now)
            .map_err(|e| match e {
                Ledger::Replayed => ReportError::Replayed {
                    reporter: reporter.to_owned(),
                    sequence,
                },
                Ledger::TooManyReporters => ReportError::TooManyReporters,
            })
    }

    /// Notes an offset reset of `group` to `(topic, partition, offset)` targets, before it is
    /// committed: the records the group's tier passes below a target count as `skipped`.
    pub fn skip<'a>(&self, group: &str, targets: impl Iterator<Item = (&'a str, u32, u64)>) {
        let mut books = self.books.lock();
        for (topic, partition, offset) in targets {
            books.skip(group, topic, partition, offset);
        }
    }

    /// Counts the `log` and `group` tiers up to now and judges the windows that are due, every
    /// `publish_interval` until `stop`, then once more.
    pub async fn run(
        self: Arc<Self>,
        broker: Arc<Broker>,
        groups: Arc<GroupCoordinator>,
        stop: CancellationToken,
    ) {
        let mut tick = tokio::time::interval(self.config.publish_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let stopping = tokio::select! {
                () = stop.cancelled() => true,
                _ = tick.tick() => false,
            };
            let (audit, broker, groups) =
                (Arc::clone(&self), Arc::clone(&broker), Arc::clone(&groups));
            let counted = tokio::task::spawn_blocking(move || audit.count(&broker, &groups)).await;
            if let Err(e) = counted {
                warn!(cause = %e, "audit count panicked");
            }
            if stopping {
                break;
            }
        }
    }

    /// One round: the `log` and `group` tiers read up to the log and committed offsets, then
    /// due windows are judged. Blocking (reads the logs).
    fn count(&self, broker: &Broker, groups: &GroupCoordinator) {
        let topics: Vec<Arc<Topic>> = broker
            .topics()
            .into_iter()
            .filter(|t| audited(t, &broker.log_config(t)))
            .collect();
        let live: HashMap<String, String> = topics
            .iter()
            .map(|t| (t.name().to_owned(), t.topic_id().to_owned()))
            .collect();
        self.books.lock().retain_topics(&live);
        let width = millis(self.config.window);
        for topic in &topics {
            scan::count_log(&self.books, topic, width);
        }
        scan::count_groups(&self.books, &topics, groups.offsets(), width);
        // Encoded under the lock, so each record is a consistent snapshot; appended outside it,
        // so the gateway's counting never waits for the log. A count that lands in between
        // marks its topic changed again, for the next round.
        let encoded = {
            let mut books = self.books.lock();
            books.reconcile_due(crate::broker::now_ms());
            persist::encode_round(broker.broker_id(), &books.take_changed())
        };
        let published = encoded.and_then(|records| {
            let any = !records.is_empty();
            persist::append(broker, records).map(|()| any)
        });
        match published {
            Ok(true) => {
                self.published.fetch_add(1, Ordering::Relaxed);
            }
            Ok(false) => {}
            Err(e) => {
                warn!(cause = %e, "cannot publish the audit's books; retrying next round");
                self.books.lock().mark_all_changed();
            }
        }
    }

    /// The windows of `topic` starting in `[from, to)`, as of now; with `group`, only that
    /// group's tier among the groups.
    pub fn windows(
        &self,
        topic: &str,
        from: Option<i64>,
        to: Option<i64>,
        group: Option<&str>,
    ) -> Vec<(Window, Verdict)> {
        let mut windows = self
            .books
            .lock()
            .windows(topic, from, to, crate::broker::now_ms());
        if let Some(g) = group {
            let keep = |t: &Tier| match t {
                Tier::Group(name) => name == g,
                Tier::Client | Tier::Ingress | Tier::Log => true,
            };
            for (_, v) in &mut windows {
                v.tiers.retain(|t, _| keep(t));
                v.problems.retain(|p| keep(&p.tier));
            }
        }
        windows
    }

    /// Per audited topic with books: the last complete window's start and the problems of
    /// judged windows by kind.
    pub fn summary(&self) -> Vec<TopicSummary> {
        let books = self.books.lock();
        let now = crate::broker::now_ms();
        books
            .topic_names()
            .map(|topic| {
                let mut summary = TopicSummary {
                    topic: topic.to_owned(),
                    last_complete_window: None,
                    problems: BTreeMap::new(),
                };
                for (w, v) in books.windows(topic, None, None, now) {
                    if v.status == Status::Complete {
                        summary.last_complete_window = w.start().or(summary.last_complete_window);
                    }
                    for p in &v.problems {
                        *summary.problems.entry(p.kind).or_default() += 1;
                    }
                }
                summary
            })
            .collect()
    }

    /// Appends the audit's Prometheus metrics: records counted per tier, windows per status.
    pub fn render_metrics(&self, out: &mut String) {
        let books = self.books.lock();
        out.push_str("# HELP runnel_audit_records_total Records counted by each audit tier.\n");
        out.push_str("# TYPE runnel_audit_records_total counter\n");
        for (tier, n) in books.counted() {
            let tier = tier.to_string().replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(out, "runnel_audit_records_total{{tier=\"{tier}\"}} {n}");
        }
        let now = crate::broker::now_ms();
        let mut by_status: BTreeMap<&'static str, u64> = [Status::Pending, Status::Complete]
            .into_iter()
            .chain(Kind::ALL.into_iter().map(Status::Problem))
            .map(|s| (s.as_str(), 0))
            .collect();
        for topic in books.topic_names() {
            for (_, v) in books.windows(topic, None, None, now) {
                *by_status.entry(v.status.as_str()).or_default() += 1;
            }
        }
        out.push_str(
            "# HELP runnel_audit_publishes_total Rounds of audit books published to __audit.\n",
        );
        out.push_str("# TYPE runnel_audit_publishes_total counter\n");
        let _ = writeln!(
            out,
            "runnel_audit_publishes_total {}",
            self.published.load(Ordering::Relaxed)
        );
        out.push_str("# HELP runnel_audit_windows Audit windows held, by status.\n");
        out.push_str("# TYPE runnel_audit_windows gauge\n");
        for (status, n) in by_status {
            let _ = writeln!(out, "runnel_audit_windows{{status=\"{status}\"}} {n}");
        }
    }
}

/// What [`Audit::summary`] says of one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSummary {
    pub topic: String,
    pub last_complete_window: Option<i64>,
    pub problems: BTreeMap<Kind, u64>,
}

/// Whether `topic` is audited (see the module docs).
fn audited(topic: &Topic, config: &LogConfig) -> bool {
    !topic.is_internal()
        && config.timestamp_type == TimestampType::CreateTime
        && topic.effective_config().audit_enable
}

/// The `ingress` tally of one produce request: each record's window and hash as it is added,
/// counted once its outcome is known.
#[derive(Debug)]
pub struct Pending {
    audit: Arc<Audit>,
    topic: Arc<Topic>,
    /// Per record of the request, in request order.
    records: Vec<(Window, u64)>,
}

impl Pending {
    /// Notes a record of the request (stamping it with the gateway's clock if it has no
    /// timestamp, so the log keeps the timestamp the audit hashed) and hands it back.
    pub fn note(pending: &mut Option<Pending>, mut record: NewRecord) -> NewRecord {
        if let Some(p) = pending {
            let ts = *record.timestamp.get_or_insert_with(crate::broker::now_ms);
            let width = millis(p.audit.config.window);
            p.records.push((
                Window::of(ts, width),
                record_hash(record.key.as_deref(), record.value.as_deref(), ts),
            ));
        }
        record
    }

    /// Counts the acknowledged records: `outcomes` gives each record's partition and whether
    /// it was accepted, in request order.
    pub fn acknowledged(self, outcomes: impl Iterator<Item = (u32, bool)>) {
        let accepted = self
            .records
            .iter()
            .zip(outcomes)
            .filter(|(_, (_, ok))| *ok)
            .map(|((w, hash), (p, _))| (p, *w, *hash));
        self.audit.books.lock().ingress(
            self.topic.name(),
            self.topic.topic_id(),
            accepted,
            crate::broker::now_ms(),
        );
    }
}
