//! One round of a consume socket, on a blocking thread: reads the cursors' partitions (here
//! or at their leaders) up to the credit and [`ROUND_BYTES`], and cuts what it read into JSON
//! text frames of about [`FRAME_BYTES`], `{"type":"records","records":[...]}`.
//!
//! Not owned here: the socket, its cursors and credit (`consume.rs`).

use std::sync::Arc;

use super::consume::Encoding;
use super::{FRAME_BYTES, ROUND_BYTES};
use crate::broker::{Broker, LogError, Partition, Record};
use crate::gateway::errors::{Api, GatewayError};
use crate::gateway::read::write_records_json;

/// How one round left a cursor.
#[derive(Debug, Clone, Copy)]
pub(super) struct Advance {
    pub cursor: usize,
    pub next: u64,
    /// The high watermark the read saw, if it got that far.
    pub high_watermark: Option<u64>,
    /// A read below the high watermark found nothing to move past: wait for the next append
    /// instead of reading again at once.
    pub stalled: bool,
}

/// What one round read and encoded (on a blocking thread).
#[derive(Debug, Default)]
pub(super) struct Round {
    pub frames: Vec<String>,
    pub records: u64,
    pub advanced: Vec<Advance>,
    /// The cursor after the last one served.
    pub resume_at: usize,
    pub failure: Option<GatewayError>,
}

/// A frame being built: `{"type":"records","records":[...]}`.
struct FrameBuilder {
    buf: Vec<u8>,
    records: usize,
}

const FRAME_HEAD: &[u8] = br#"{"type":"records","records":"#;

impl FrameBuilder {
    fn new() -> Self {
        let mut buf = Vec::with_capacity(FRAME_BYTES + FRAME_BYTES / 4);
        buf.extend_from_slice(FRAME_HEAD);
        FrameBuilder { buf, records: 0 }
    }

    /// Appends records to the frame's array; on failure the frame is as it was.
    fn push(
        &mut self,
        topic: &str,
        partition: u32,
        records: &[Record],
        enc: &Encoding,
    ) -> Result<(), GatewayError> {
        if records.is_empty() {
            return Ok(());
        }
        let continuing = self.records > 0;
        if continuing {
            // Continue the array: drop its `]` and turn the new array's `[` into a `,`.
            self.buf.pop();
        }
        let start = self.buf.len();
        if let Err(e) = write_records_json(
            &mut self.buf,
            topic,
            partition,
            records,
            enc.format,
            &enc.schemas,
        ) {
            self.buf.truncate(start);
            if continuing {
                self.buf.push(b']');
            }
            return Err(e);
        }
        if continuing && let Some(b) = self.buf.get_mut(start) {
            *b = b',';
        }
        self.records += records.len();
        Ok(())
    }

    /// Appends records one by one up to the first that does not encode (not JSON in the json
    /// format): how many went in, and that record's error.
    fn push_each(
        &mut self,
        topic: &str,
        partition: u32,
        records: &[Record],
        enc: &Encoding,
    ) -> (usize, Option<GatewayError>) {
        for (k, r) in records.iter().enumerate() {
            if let Err(e) = self.push(topic, partition, std::slice::from_ref(r), enc) {
                return (k, Some(e));
            }
        }
        (records.len(), None)
    }

    fn len(&self) -> usize {
        self.buf.len()
    }

    fn finish(mut self) -> Option<String> {
        if self.records == 0 {
            return None;
        }
        self.buf.push(b'}');
        String::from_utf8(self.buf).ok()
    }
}

/// Reads the cursors in `jobs` order until the credit, [`ROUND_BYTES`] or the data runs out.
/// Blocking.
pub(super) fn build_round(
    broker: &Broker,
    topic: &str,
    jobs: Vec<(usize, Arc<Partition>, u64)>,
    mut credit: u64,
    enc: &Encoding,
) -> Round {
    let mut round = Round::default();
    let mut frame = FrameBuilder::new();
    let mut total = 0;
    for (i, p, mut next) in jobs {
        if credit == 0 || total + frame.len() >= ROUND_BYTES {
            break;
        }
        round.resume_at = i + 1;
        let mut high_watermark = None;
        let mut stalled = false;
        while credit > 0
            && total + frame.len() < ROUND_BYTES
            && high_watermark.is_none_or(|hw| next < hw)
        {
            let fetched = match broker.fetch_blocking(&p, next, FRAME_BYTES) {
                Ok(f) => f,
                Err(LogError::OffsetOutOfRange {
                    log_start_offset: start,
                    log_end_offset: end,
                    ..
                }) => {
                    // Fell behind retention: resume at the log start. Past the end: wait.
                    high_watermark = Some(end);
                    if next < start {
                        next = start;
                        continue;
                    }
                    break;
                }
                Err(e) => {
                    round.failure = Some(GatewayError::Broker(e.into(), Api::V2));
                    break;
                }
            };
            high_watermark = Some(fetched.high_watermark);
            let records = fetched.records;
            if records.is_empty() {
                // Nothing up to the high watermark; skip what was read past (offsets compaction
                // removed), then wait for the next append.
                next = next.max(fetched.next_offset);
                stalled = next < fetched.high_watermark;
                break;
            }
            let take = records
                .len()
                .min(usize::try_from(credit).unwrap_or(usize::MAX));
            let sending = records.get(..take).unwrap_or_default();
            if frame.push(topic, p.id(), sending, enc).is_err() {
                let (ok, e) = frame.push_each(topic, p.id(), sending, enc);
                round.records += ok as u64;
                // Stop at the record that failed: the client may seek past it.
                if let Some(r) = sending.get(ok) {
                    next = r.offset;
                }
                round.failure = e;
                break;
            }
            round.records += take as u64;
            credit -= take as u64;
            next = match records.get(take) {
                Some(unsent) => unsent.offset,
                None => fetched.next_offset,
            };
            if frame.len() >= FRAME_BYTES {
                total += frame.len();
                let full = std::mem::replace(&mut frame, FrameBuilder::new());
                round.frames.extend(full.finish());
            }
        }
        round.advanced.push(Advance {
            cursor: i,
            next,
            high_watermark,
            stalled,
        });
        if round.failure.is_some() {
            break;
        }
    }
    round.frames.extend(frame.finish());
    round
}
