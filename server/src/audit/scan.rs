//! Counting the offset tiers, `log` and `group:<g>`, from the log itself.
//!
//! Each tier keeps a counted-through offset per partition; a round reads the records between
//! it and its target (the high watermark for `log`, the committed offset for a group) through
//! the one read path and counts each record whose offset is at or past the counted-through
//! offset. A re-delivery, a seek back or a rebalance never moves a target below what was
//! counted, so nothing counts twice; a commit that moves back is simply not counted again.
//! A group whose offsets an admin reset moved forward (`Audit::skip`) books the records it
//! passes below the reset's target as `skipped`, not as consumed.
//!
//! Reads happen outside the books' lock; only the resulting tallies are booked under it.
//! A round reads at most [`MAX_READS`] chunks per partition and tier, so one busy partition
//! cannot hold the round up; the rest is counted in the next round.

use std::sync::Arc;

use parking_lot::Mutex;
use tracing::{debug, warn};

use super::books::Books;
use super::window::{Window, record_hash};
use crate::broker::{Leader, Partition, Topic};
use crate::group::offsets::OffsetStore;
use crate::log;

/// Bytes asked for per read.
const READ_BYTES: usize = 1 << 20;
/// Reads per partition and tier in one round (64 MiB at most).
const MAX_READS: usize = 64;

/// A record as the offset tiers count it: offset, window, hash.
type Seen = (u64, Window, u64);

/// The records of `partition` in `[from, to)`, and the offset counted through: `to`, or less
/// if the round's read budget ran out.
fn read_range(
    partition: &Partition,
    from: u64,
    to: u64,
    width_ms: i64,
) -> log::Result<(Vec<Seen>, u64)> {
    let mut out = Vec::new();
    let mut at = from;
    for _ in 0..MAX_READS {
        if at >= to {
            break;
        }
        let fetched = partition.read(at, READ_BYTES)?;
        for r in fetched
            .records
            .iter()
            .filter(|r| r.offset >= at && r.offset < to)
        {
            out.push((
                r.offset,
                Window::of(r.timestamp, width_ms),
                record_hash(r.key.as_deref(), r.value.as_deref(), r.timestamp),
            ));
        }
        if fetched.next_offset <= at {
            break;
        }
        at = fetched.next_offset.min(to);
    }
    Ok((out, at))
}

/// Where a tier that has not started in a partition starts: the log start offset.
fn start_of(partition: &Partition, counted: Option<u64>) -> u64 {
    let (log_start, _) = partition.offsets();
    // Retention may have deleted records the tier never saw: they are skipped here and show
    // up as that tier's gap.
    counted.unwrap_or(log_start).max(log_start)
}

/// Whether this broker leads `p`: only a partition's leader counts its offset tiers (another
/// broker's copy is empty until replication, and refuses reads).
fn leads(p: &Partition) -> bool {
    matches!(p.leader(), Leader::Here)
}

/// Counts the `log` tier of every partition of `topic` this broker leads, up to its high
/// watermark.
pub(super) fn count_log(books: &Mutex<Books>, topic: &Arc<Topic>, width_ms: i64) {
    for p in topic.partitions().iter().filter(|p| leads(p)) {
        let from = start_of(p, books.lock().log_through(topic.name(), p.id()));
        let (_, high_watermark) = p.offsets();
        match read_range(p, from, high_watermark, width_ms) {
            Ok((records, through)) => books.lock().log(
                topic.name(),
                topic.topic_id(),
                p.id(),
                &records,
                through,
                crate::broker::now_ms(),
            ),
            Err(log::Error::OffsetOutOfRange { .. }) => {
                debug!(
                    topic = topic.name(),
                    partition = p.id(),
                    "retention moved the log start; counting resumes next round"
                );
            }
            Err(e) => {
                warn!(topic = topic.name(), partition = p.id(), cause = %e, "audit cannot read the log");
            }
        }
    }
}

/// Counts each group's tier on the audited `topics` up to its committed offsets.
pub(super) fn count_groups(
    books: &Mutex<Books>,
    topics: &[Arc<Topic>],
    offsets: &OffsetStore,
    width_ms: i64,
) {
    for (group, committed) in offsets.all() {
        for (tp, c) in committed {
            let Some(topic) = topics.iter().find(|t| t.name() == tp.topic) else {
                continue;
            };
            let Some(p) = topic.partition(tp.partition).ok().filter(|p| leads(p)) else {
                continue;
            };
            let (through, skip_to) = {
                let books = books.lock();
                (
                    books.group_through(topic.name(), group.as_str(), p.id()),
                    books.skip_to(group.as_str(), topic.name(), p.id()),
                )
            };
            let from = start_of(p, through);
            let (_, high_watermark) = p.offsets();
            let to = c.offset.min(high_watermark).max(from);
            match read_range(p, from, to, width_ms) {
                Ok((records, through)) => {
                    let counted: Vec<(Window, u64, bool)> = records
                        .into_iter()
                        .map(|(offset, w, h)| (w, h, skip_to.is_some_and(|to| offset < to)))
                        .collect();
                    books.lock().group(
                        topic.name(),
                        topic.topic_id(),
                        group.as_str(),
                        p.id(),
                        &counted,
                        through,
                        crate::broker::now_ms(),
                    );
                }
                Err(log::Error::OffsetOutOfRange { .. }) => {
                    debug!(
                        topic = topic.name(),
                        partition = p.id(),
                        group = group.as_str(),
                        "retention moved the log start; counting resumes next round"
                    );
                }
                Err(e) => {
                    warn!(topic = topic.name(), partition = p.id(), group = group.as_str(), cause = %e, "audit cannot read the log");
                }
            }
        }
    }
}
