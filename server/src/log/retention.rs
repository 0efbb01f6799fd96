//! Retention: deleting whole sealed segments by age (`retention.ms`), by total size
//! (`retention.bytes`), and below the log start offset.
//!
//! Only sealed segments go; the active one is rolled first when it alone is past retention, as
//! Kafka does, so an idle topic still ages out. Deleting moves the log start offset to the next
//! segment's base and checkpoints it before the files are removed, so a crash in between leaves
//! files below the start offset (removed again on the next pass), never a start offset that
//! points at missing data.

use tracing::info;

use super::error::Result;
use super::segment::Segment;
use super::{LOG_START_OFFSET_FILE, Log, checkpoint};

impl Log {
    /// Applies the delete policy; returns how many segments were removed.
    ///
    /// # Errors
    /// I/O errors from the checkpoint or file removal.
    pub fn apply_retention(&mut self, now_ms: i64) -> Result<usize> {
        if !self.config.cleanup_policy.delete || self.offline {
            return self.delete_below_start();
        }
        // An expired active segment is rolled so it can be deleted like the others.
        if let (Some(ms), Some(active)) = (self.config.retention_ms, self.active())
            && !active.is_empty()
            && active
                .max_timestamp()?
                .is_some_and(|ts| now_ms.saturating_sub(ts) > ms)
        {
            self.roll()?;
        }
        let mut doomed = Vec::new();
        let mut total = self.size();
        let sealed = self.segments.len().saturating_sub(1);
        // Oldest first, stopping at the first segment kept: a sealed segment's time index is
        // read (opening it) only when size and start offset did not already decide.
        for s in self.segments.values().take(sealed) {
            let by_size = self
                .config
                .retention_bytes
                .is_some_and(|limit| total.saturating_sub(s.size()) >= limit);
            let doomed_now = by_size
                || self.below_start(s)?
                || match self.config.retention_ms {
                    Some(ms) => s
                        .max_timestamp()?
                        .is_some_and(|ts| now_ms.saturating_sub(ts) > ms),
                    None => false,
                };
            if !doomed_now {
                break;
            }
            total -= s.size();
            doomed.push(s.base_offset());
        }
        self.delete_segments(doomed)
    }

    /// Removes sealed segments that lie wholly below the log start offset.
    fn delete_below_start(&mut self) -> Result<usize> {
        let mut doomed = Vec::new();
        for s in self
            .segments
            .values()
            .take(self.segments.len().saturating_sub(1))
        {
            if !self.below_start(s)? {
                break;
            }
            doomed.push(s.base_offset());
        }
        self.delete_segments(doomed)
    }

    /// Whether a sealed segment at the front holds nothing at or after the log start offset.
    /// Its in-memory end is only an upper bound: after a restart a sealed segment's end is its
    /// successor's base (learnt from file names, without opening it), although compaction may
    /// have emptied it or its tail. So an empty file goes, and when the start lies inside the
    /// segment's range (`DeleteRecords` into a compacted tail) the segment is looked at; both
    /// give the answer a segment compacted in this process gets from its exact end.
    fn below_start(&self, s: &Segment) -> Result<bool> {
        let start = self.log_start_offset;
        Ok(s.is_empty()
            || s.next_offset() <= start
            || (start > s.base_offset() && s.find(start)?.is_none()))
    }

    fn delete_segments(&mut self, doomed: Vec<u64>) -> Result<usize> {
        let Some(&last) = doomed.last() else {
            return Ok(0);
        };
        // The next segment's base, not the doomed one's next offset: compaction may have emptied
        // the end of a segment, and reopening derives the start from the first segment's base.
        let new_start = self
            .segments
            .range(last + 1..)
            .next()
            .map_or(self.log_end_offset, |(b, _)| *b);
        if new_start > self.log_start_offset {
            // Checkpoint first, so a failure leaves memory and disk agreeing on the old start.
            checkpoint::write(
                &self.storage,
                &self.dir.join(LOG_START_OFFSET_FILE),
                new_start,
            )?;
            self.log_start_offset = new_start;
        }
        for base in &doomed {
            self.delete_segment(*base)?;
        }
        info!(
            path = %self.dir.display(),
            segments = doomed.len(),
            log_start_offset = self.log_start_offset,
            "retention deleted segments"
        );
        Ok(doomed.len())
    }
}
