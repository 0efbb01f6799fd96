//! Record batches: Kafka's v2 `RecordBatch` layout, the unit of write, storage and fetch.
//!
//! ```text
//! offset  size  field
//!      0     8  base_offset                (patched by the log at append time)
//!      8     4  batch_length               (bytes after this field)
//!     12     4  partition_leader_epoch
//!     16     1  magic = 2
//!     17     4  crc                        (CRC-32/IEEE of bytes 21..end)
//!     21     2  attributes                 (bits 0-2 codec, bit 3 timestamp type)
//!     23     4  last_offset_delta
//!     27     8  base_timestamp
//!     35     8  max_timestamp
//!     43     8  producer_id
//!     51     2  producer_epoch
//!     53     4  base_sequence
//!     57     4  records_count
//!     61     …  records (compressed as a whole when the codec is not none)
//! ```
//! All integers are big-endian. Kafka checksums with CRC-32C; Runnel uses CRC-32/IEEE
//! (`crc32fast`), so stored batches are Kafka-shaped but not Kafka-wire-identical.
//!
//! Validation is check-then-decode (mini-redis `Frame::check`): [`check_batch`] looks only at
//! framing and CRC and never allocates; decoding records happens after it passed. A batch this
//! process encoded is an [`EncodedBatch`], which carries the header the encoder wrote, so the log
//! can append it without checking again what it has just computed; bytes from outside the
//! process (recovery, replication) are always checked.

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use std::io::{Read, Write};

use bytes::{BufMut, Bytes, BytesMut};

use super::error::{Error, Result};
use super::record::{self, NewRecord, Record, RecordRef};

/// Bytes before the records section.
pub const HEADER_LEN: usize = 61;
/// Bytes before `batch_length`'s coverage starts (base offset + length field).
pub const LOG_OVERHEAD: usize = 12;
const MAGIC: u8 = 2;
const CRC_START: usize = 21;
const TIMESTAMP_TYPE_BIT: u16 = 0x08;
const CODEC_MASK: u16 = 0x07;

/// Batch compression codecs, with Kafka's attribute ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Lz4,
    Zstd,
}

impl Compression {
    fn id(self) -> u16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    fn from_id(id: u16) -> Result<Self> {
        match id {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            other => Err(Error::UnsupportedCompression(other as u8)),
        }
    }

    /// Kafka's `compression.type` names (`producer` is resolved by the caller).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "none" | "uncompressed" => Some(Compression::None),
            "gzip" => Some(Compression::Gzip),
            "lz4" => Some(Compression::Lz4),
            "zstd" => Some(Compression::Zstd),
            _ => None,
        }
    }

    fn compress(self, raw: &[u8]) -> Result<Vec<u8>> {
        let io = |e| Error::corrupt(format!("compression failed: {e}"));
        match self {
            Compression::None => Ok(raw.to_vec()),
            Compression::Gzip => {
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(raw.len() / 2),
                    flate2::Compression::fast(),
                );
                enc.write_all(raw).map_err(io)?;
                enc.finish().map_err(io)
            }
            Compression::Lz4 => {
                let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::with_capacity(raw.len() / 2));
                enc.write_all(raw).map_err(io)?;
                enc.finish()
                    .map_err(|e| Error::corrupt(format!("lz4 compression failed: {e}")))
            }
            Compression::Zstd => zstd::bulk::compress(raw, 1).map_err(io),
        }
    }

    /// Decompresses at most `limit` bytes; more is an error, so a small batch cannot expand
    /// into an unbounded allocation (a decompression bomb).
    fn decompress(self, data: &[u8], limit: usize) -> Result<Vec<u8>> {
        fn bounded(r: impl Read, limit: usize) -> Result<Vec<u8>> {
            let mut out = Vec::new();
            r.take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| Error::corrupt(format!("decompression failed: {e}")))?;
            if out.len() > limit {
                return Err(Error::BatchTooLarge {
                    size: out.len(),
                    limit,
                });
            }
            Ok(out)
        }
        match self {
            Compression::None => Ok(data.to_vec()),
            Compression::Gzip => bounded(flate2::read::GzDecoder::new(data), limit),
            Compression::Lz4 => bounded(lz4_flex::frame::FrameDecoder::new(data), limit),
            Compression::Zstd => bounded(
                zstd::stream::read::Decoder::new(data)
                    .map_err(|e| Error::corrupt(format!("zstd: {e}")))?,
                limit,
            ),
        }
    }
}

/// Whose clock a batch's timestamps come from (`message.timestamp.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampType {
    #[default]
    CreateTime,
    LogAppendTime,
}

fn be_u16(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(at..at + 2) {
        a.copy_from_slice(s);
    }
    u16::from_be_bytes(a)
}
fn be_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_be_bytes(a)
}
fn be_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    u64::from_be_bytes(a)
}

/// The fixed fields of a batch whose framing and CRC have been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: u64,
    /// Total bytes of the batch, header included.
    pub size: usize,
    pub leader_epoch: i32,
    pub compression: Compression,
    pub timestamp_type: TimestampType,
    pub last_offset_delta: u32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub records_count: u32,
}

impl BatchHeader {
    /// Offset of the last record in the batch.
    ///
    /// Saturating: the base offset is outside the CRC, so a damaged one must not overflow here
    /// ([`decode_batch`] rejects a batch whose offsets do not fit).
    pub fn last_offset(&self) -> u64 {
        self.base_offset
            .saturating_add(u64::from(self.last_offset_delta))
    }

    /// The offset the next batch starts at.
    pub fn next_offset(&self) -> u64 {
        self.last_offset().saturating_add(1)
    }
}

/// Outcome of looking at the bytes where a batch should start.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    /// A whole, valid batch.
    Valid(BatchHeader),
    /// The bytes end inside the batch (a torn tail, or a partial read).
    Incomplete,
}

/// The batch size from the length field alone, without checking anything else.
///
/// `None` when fewer than [`LOG_OVERHEAD`] bytes are there or the length is impossible.
pub fn peek_size(buf: &[u8]) -> Option<usize> {
    if buf.len() < LOG_OVERHEAD {
        return None;
    }
    let len = be_u32(buf, 8) as i32;
    if len < (HEADER_LEN - LOG_OVERHEAD) as i32 {
        return None;
    }
    Some(LOG_OVERHEAD + len as usize)
}

/// Reads the fixed fields at the start of `buf` (of which `avail` bytes are valid) without
/// checking the CRC: for batches already validated when they were written or recovered.
///
/// `None` when the header is cut short or its length or codec is impossible.
pub fn peek_header(buf: &[u8], avail: usize) -> Option<BatchHeader> {
    let head = buf.get(..HEADER_LEN.min(avail))?;
    if head.len() < HEADER_LEN {
        return None;
    }
    let size = peek_size(head)?;
    let attributes = be_u16(head, 21);
    Some(BatchHeader {
        base_offset: be_u64(head, 0),
        size,
        leader_epoch: be_u32(head, 12) as i32,
        compression: Compression::from_id(attributes & CODEC_MASK).ok()?,
        timestamp_type: if attributes & TIMESTAMP_TYPE_BIT != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        },
        last_offset_delta: u32::try_from(be_u32(head, 23) as i32).ok()?,
        base_timestamp: be_u64(head, 27) as i64,
        max_timestamp: be_u64(head, 35) as i64,
        records_count: u32::try_from(be_u32(head, 57) as i32).ok()?,
    })
}

/// Checks framing, magic and CRC of the batch at the start of `buf`, without allocating.
///
/// A length field larger than `max_batch_bytes` is corruption, never an allocation; a length that
/// points past the end of `buf` is [`Check::Incomplete`].
///
/// # Errors
/// [`Error::Corrupt`] or [`Error::ChecksumMismatch`] when the bytes are not a valid batch.
pub fn check_batch(buf: &[u8], max_batch_bytes: usize) -> Result<Check> {
    if buf.len() < LOG_OVERHEAD {
        return Ok(Check::Incomplete);
    }
    let len = be_u32(buf, 8) as i32;
    if len < (HEADER_LEN - LOG_OVERHEAD) as i32 {
        return Err(Error::corrupt(format!("batch length {len} is too small")));
    }
    let size = LOG_OVERHEAD + len as usize;
    if size > max_batch_bytes {
        return Err(Error::BatchTooLarge {
            size,
            limit: max_batch_bytes,
        });
    }
    let Some(batch) = buf.get(..size) else {
        return Ok(Check::Incomplete);
    };
    let magic = batch.get(16).copied().unwrap_or_default();
    if magic != MAGIC {
        return Err(Error::corrupt(format!("unsupported magic byte {magic}")));
    }
    let expected = be_u32(batch, 17);
    let actual = crc32fast::hash(batch.get(CRC_START..).unwrap_or_default());
    if expected != actual {
        return Err(Error::ChecksumMismatch { expected, actual });
    }
    let attributes = be_u16(batch, 21);
    let last_offset_delta = be_u32(batch, 23) as i32;
    let records_count = be_u32(batch, 57) as i32;
    if last_offset_delta < 0 || records_count < 0 {
        return Err(Error::corrupt("negative offset delta or record count"));
    }
    Ok(Check::Valid(BatchHeader {
        base_offset: be_u64(batch, 0),
        size,
        leader_epoch: be_u32(batch, 12) as i32,
        compression: Compression::from_id(attributes & CODEC_MASK)?,
        timestamp_type: if attributes & TIMESTAMP_TYPE_BIT != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        },
        last_offset_delta: last_offset_delta as u32,
        base_timestamp: be_u64(batch, 27) as i64,
        max_timestamp: be_u64(batch, 35) as i64,
        records_count: records_count as u32,
    }))
}

/// Rewrites a checked batch's base offset and leader epoch in place (neither is under the CRC).
pub fn set_base_offset_and_epoch(batch: &mut [u8], base_offset: u64, leader_epoch: i32) {
    if let Some(s) = batch.get_mut(0..8) {
        s.copy_from_slice(&base_offset.to_be_bytes());
    }
    if let Some(s) = batch.get_mut(12..16) {
        s.copy_from_slice(&leader_epoch.to_be_bytes());
    }
}

/// Stamps log-append time on a batch: sets the timestamp-type bit and `max_timestamp`, then
/// recomputes the CRC (both fields are covered by it).
pub fn set_log_append_time(batch: &mut [u8], now_ms: i64) {
    let attributes = be_u16(batch, 21) | TIMESTAMP_TYPE_BIT;
    if let Some(s) = batch.get_mut(21..23) {
        s.copy_from_slice(&attributes.to_be_bytes());
    }
    if let Some(s) = batch.get_mut(35..43) {
        s.copy_from_slice(&now_ms.to_be_bytes());
    }
    let crc = crc32fast::hash(batch.get(CRC_START..).unwrap_or_default());
    if let Some(s) = batch.get_mut(17..21) {
        s.copy_from_slice(&crc.to_be_bytes());
    }
}

/// A batch encoded by this process (base offset 0, leader epoch 0), with the header the encoder
/// wrote. Only the encoder makes one, so its header and CRC are right by construction and
/// [`super::Log::append_encoded`] skips the CRC pass that bytes from elsewhere need.
#[derive(Debug, Clone)]
pub struct EncodedBatch {
    bytes: BytesMut,
    header: BatchHeader,
}

impl EncodedBatch {
    /// Encodes records into one batch; records without a timestamp get `now_ms`.
    ///
    /// # Errors
    /// As [`encode_batch`].
    pub fn encode(
        records: &[NewRecord],
        compression: Compression,
        now_ms: i64,
        max_batch_bytes: usize,
    ) -> Result<Self> {
        let refs = records.iter().map(|r| {
            (
                r.timestamp.unwrap_or(now_ms),
                RecordRef {
                    key: r.key.as_deref(),
                    value: r.value.as_deref(),
                    headers: &r.headers,
                },
            )
        });
        encode_batch_from(refs, records.len(), compression, max_batch_bytes, None)
    }

    /// The header as encoded (base offset 0).
    pub fn header(&self) -> &BatchHeader {
        &self.header
    }

    /// The encoded bytes, to copy into a request to the leader.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The encoded bytes, to append through the checking [`super::Log::append`] or to send.
    pub fn into_bytes(self) -> BytesMut {
        self.bytes
    }

    pub(super) fn into_parts(self) -> (BytesMut, BatchHeader) {
        (self.bytes, self.header)
    }
}

/// Encodes records into one batch with base offset 0, ready for [`super::Log::append`].
///
/// Records without a timestamp get `now_ms`.
///
/// # Errors
/// [`Error::InvalidRequest`] for an empty slice; [`Error::BatchTooLarge`] when the encoded batch
/// would exceed `max_batch_bytes`.
pub fn encode_batch(
    records: &[NewRecord],
    compression: Compression,
    now_ms: i64,
    max_batch_bytes: usize,
) -> Result<BytesMut> {
    EncodedBatch::encode(records, compression, now_ms, max_batch_bytes)
        .map(EncodedBatch::into_bytes)
}

/// Encodes `(timestamp, record)` pairs; `offset_deltas` overrides the consecutive deltas (the
/// compactor keeps each surviving record's original delta).
pub(crate) fn encode_batch_from<'a>(
    records: impl Iterator<Item = (i64, RecordRef<'a>)> + Clone,
    count: usize,
    compression: Compression,
    max_batch_bytes: usize,
    offset_deltas: Option<(&[u32], u32)>,
) -> Result<EncodedBatch> {
    if count == 0 {
        return Err(Error::InvalidRequest(
            "a batch needs at least one record".into(),
        ));
    }
    let base_timestamp = records.clone().next().map(|(ts, _)| ts).unwrap_or_default();
    let delta = |i: usize| -> i64 {
        match offset_deltas {
            Some((d, _)) => i64::from(d.get(i).copied().unwrap_or(i as u32)),
            None => i as i64,
        }
    };
    let mut max_timestamp = i64::MIN;
    let mut records_len = 0usize;
    for (i, (ts, r)) in records.clone().enumerate() {
        max_timestamp = max_timestamp.max(ts);
        records_len += record::encoded_len(ts.wrapping_sub(base_timestamp), delta(i), &r);
    }
    // Reject before encoding when even the uncompressed form is past the limit by far more
    // than compression could save; the exact check follows below.
    if compression == Compression::None && HEADER_LEN + records_len > max_batch_bytes {
        return Err(Error::BatchTooLarge {
            size: HEADER_LEN + records_len,
            limit: max_batch_bytes,
        });
    }
    let last_offset_delta = match offset_deltas {
        Some((_, last)) => last,
        None => (count - 1) as u32,
    };
    let mut out = BytesMut::with_capacity(HEADER_LEN + records_len);
    out.put_u64(0);
    out.put_u32(0); // batch_length, patched below
    out.put_i32(0); // partition_leader_epoch, set at append
    out.put_u8(MAGIC);
    out.put_u32(0); // crc, patched below
    out.put_u16(compression.id());
    out.put_u32(last_offset_delta);
    out.put_i64(base_timestamp);
    out.put_i64(max_timestamp);
    out.put_i64(-1); // producer_id: no idempotent producers yet
    out.put_i16(-1);
    out.put_i32(-1);
    out.put_u32(count as u32);
    if compression == Compression::None {
        for (i, (ts, r)) in records.enumerate() {
            record::encode_record(&mut out, ts.wrapping_sub(base_timestamp), delta(i), &r);
        }
    } else {
        let mut raw = Vec::with_capacity(records_len);
        for (i, (ts, r)) in records.enumerate() {
            record::encode_record(&mut raw, ts.wrapping_sub(base_timestamp), delta(i), &r);
        }
        out.extend_from_slice(&compression.compress(&raw)?);
    }
    if out.len() > max_batch_bytes {
        return Err(Error::BatchTooLarge {
            size: out.len(),
            limit: max_batch_bytes,
        });
    }
    let len = (out.len() - LOG_OVERHEAD) as u32;
    if let Some(s) = out.get_mut(8..12) {
        s.copy_from_slice(&len.to_be_bytes());
    }
    let crc = crc32fast::hash(out.get(CRC_START..).unwrap_or_default());
    if let Some(s) = out.get_mut(17..21) {
        s.copy_from_slice(&crc.to_be_bytes());
    }
    let header = BatchHeader {
        base_offset: 0,
        size: out.len(),
        leader_epoch: 0,
        compression,
        timestamp_type: TimestampType::CreateTime,
        last_offset_delta,
        base_timestamp,
        max_timestamp,
        records_count: count as u32,
    };
    Ok(EncodedBatch { bytes: out, header })
}

/// Decodes the records of one checked batch (`batch` starts at the batch's first byte).
///
/// Decompressed data is bounded by `max_batch_bytes`.
///
/// # Errors
/// [`Error::Corrupt`] when the records do not parse, [`Error::BatchTooLarge`] for a bomb.
pub fn decode_batch(
    header: &BatchHeader,
    batch: &Bytes,
    max_batch_bytes: usize,
    out: &mut Vec<Record>,
) -> Result<()> {
    let section = batch
        .get(HEADER_LEN..header.size)
        .ok_or_else(|| Error::corrupt("batch shorter than its header"))?;
    if header
        .base_offset
        .checked_add(u64::from(header.last_offset_delta) + 1)
        .is_none()
    {
        return Err(Error::corrupt("batch offsets overflow 64 bits"));
    }
    let append_time =
        (header.timestamp_type == TimestampType::LogAppendTime).then_some(header.max_timestamp);
    let count = header.records_count as usize;
    let owner;
    let (owner_ref, records) = if header.compression == Compression::None {
        (batch, section)
    } else {
        owner = Bytes::from(header.compression.decompress(section, max_batch_bytes)?);
        (&owner, &owner[..])
    };
    let start = out.len();
    record::decode_records(
        owner_ref,
        records,
        count,
        header.base_offset,
        header.base_timestamp,
        append_time,
        out,
    )?;
    // Every offset must lie inside the batch's declared range, or readers would see offsets
    // out of order.
    if out
        .get(start..)
        .unwrap_or_default()
        .iter()
        .any(|r| r.offset > header.last_offset())
    {
        out.truncate(start);
        return Err(Error::corrupt("record offset past the batch's last offset"));
    }
    Ok(())
}

/// Walks whole valid batches in `buf`, stopping at the first incomplete or invalid one. Each
/// batch comes out as its checked header and an owned slice of `buf` (no copy), so callers
/// decode or forward it without tracking positions.
///
/// Used for fetch responses and for reading stored bytes back.
#[derive(Debug)]
pub struct Batches {
    /// What is left to walk: each batch is split off its front.
    rest: Bytes,
    max_batch_bytes: usize,
}

impl Batches {
    pub fn new(buf: Bytes, max_batch_bytes: usize) -> Self {
        Batches {
            rest: buf,
            max_batch_bytes,
        }
    }
}

impl Iterator for Batches {
    type Item = Result<(BatchHeader, Bytes)>;

    fn next(&mut self) -> Option<Self::Item> {
        match check_batch(&self.rest, self.max_batch_bytes) {
            Ok(Check::Valid(h)) if h.size <= self.rest.len() => {
                Some(Ok((h, self.rest.split_to(h.size))))
            }
            Ok(Check::Valid(_) | Check::Incomplete) => None,
            Err(e) => {
                self.rest.clear();
                Some(Err(e))
            }
        }
    }
}

/// Decodes every record in a buffer of whole batches (a fetch result).
///
/// # Errors
/// The first batch that fails its check or decode.
pub fn decode_all(buf: &Bytes, max_batch_bytes: usize) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for item in Batches::new(buf.clone(), max_batch_bytes) {
        let (h, bytes) = item?;
        decode_batch(&h, &bytes, max_batch_bytes, &mut out)?;
    }
    Ok(out)
}

/// What [`decode_from`] found in a buffer of whole batches.
#[derive(Debug)]
pub struct Decoded {
    /// The records at or past the requested offset, in offset order.
    pub records: Vec<Record>,
    /// Where the next read starts: the last offset + 1 of the last batch decoded, or the
    /// requested offset when none was. A batch keeps its original last offset when compaction
    /// removes records from it (Kafka's `lastOffsetDelta`), so this moves past offsets that no
    /// longer exist, never back into a batch that filters to nothing.
    pub next_offset: u64,
    /// Bytes of the batches decoded.
    pub bytes: usize,
    /// The error of the batch that stopped the decode, when one was damaged: the batches before
    /// it are served, and a read from `next_offset` meets the damage again.
    pub damage: Option<Error>,
}

/// Decodes the records at or past `offset` from a buffer of whole batches (a read plan's
/// bytes), stopping at the first batch that fails its check or decode.
pub fn decode_from(buf: &Bytes, max_batch_bytes: usize, offset: u64) -> Decoded {
    let mut out = Decoded {
        records: Vec::new(),
        next_offset: offset,
        bytes: 0,
        damage: None,
    };
    for item in Batches::new(buf.clone(), max_batch_bytes) {
        // Straight into `out.records`, whose growth is then amortised over the whole read.
        let start = out.records.len();
        let decoded = item.and_then(|(h, bytes)| {
            decode_batch(&h, &bytes, max_batch_bytes, &mut out.records).map(|()| h)
        });
        match decoded {
            Ok(h) => {
                if start == 0 {
                    // Room for the whole read at the first batch's density: growing by
                    // doubling copied every record of a MiB read several times over.
                    let per_batch = buf.len() / h.size.max(1) + 1;
                    let estimate = per_batch.saturating_mul(h.records_count as usize);
                    out.records.reserve(estimate.min(buf.len() / 7));
                }
                out.bytes += h.size;
                out.next_offset = out.next_offset.max(h.next_offset());
                // Only a batch that starts before `offset` holds records to drop.
                if h.base_offset < offset {
                    let kept: Vec<Record> = out
                        .records
                        .drain(start..)
                        .filter(|r| r.offset >= offset)
                        .collect();
                    out.records.extend(kept);
                }
            }
            Err(e) => {
                out.records.truncate(start);
                out.damage = Some(e);
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn recs(n: usize) -> Vec<NewRecord> {
        (0..n)
            .map(|i| NewRecord {
                timestamp: Some(1_000 + i as i64),
                key: Some(Bytes::from(format!("k{i}"))),
                value: Some(Bytes::from(vec![b'x'; i % 50])),
                headers: vec![],
            })
            .collect()
    }

    /// The log trusts an [`EncodedBatch`]'s header instead of checking the bytes: it must be
    /// exactly what the check would read, in every codec.
    #[test]
    fn an_encoded_batch_header_is_what_the_check_reads() {
        for codec in [
            Compression::None,
            Compression::Gzip,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let mut records = recs(40);
            records[7].timestamp = Some(9_999);
            let encoded = EncodedBatch::encode(&records, codec, 5, 1 << 20).unwrap();
            let header = *encoded.header();
            let bytes = encoded.into_bytes();
            assert_eq!(
                check_batch(&bytes, 1 << 20).unwrap(),
                Check::Valid(header),
                "{codec:?}"
            );
            assert_eq!(header.max_timestamp, 9_999);
        }
    }

    #[test]
    fn every_codec_round_trips() {
        for c in [
            Compression::None,
            Compression::Gzip,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let b = encode_batch(&recs(100), c, 0, 1 << 20).unwrap().freeze();
            let Check::Valid(h) = check_batch(&b, 1 << 20).unwrap() else {
                panic!("incomplete")
            };
            assert_eq!(h.compression, c);
            assert_eq!(h.records_count, 100);
            assert_eq!(h.last_offset_delta, 99);
            assert_eq!(h.max_timestamp, 1_099);
            let out = decode_all(&b, 1 << 20).unwrap();
            assert_eq!(out.len(), 100);
            assert_eq!(out[42].key.as_deref(), Some(&b"k42"[..]));
            assert_eq!(out[42].offset, 42);
            assert_eq!(out[42].timestamp, 1_042);
        }
    }

    #[test]
    fn decompression_bomb_is_refused() {
        let big = vec![NewRecord {
            value: Some(Bytes::from(vec![0u8; 4 << 20])),
            ..NewRecord::default()
        }];
        let b = encode_batch(&big, Compression::Zstd, 0, 8 << 20)
            .unwrap()
            .freeze();
        assert!(b.len() < 64 << 10, "zeros compress well");
        let Check::Valid(h) = check_batch(&b, 1 << 20).unwrap() else {
            panic!()
        };
        let err = decode_batch(&h, &b, 1 << 20, &mut Vec::new()).unwrap_err();
        assert!(matches!(err, Error::BatchTooLarge { .. }), "{err}");
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        let b = encode_batch(&recs(3), Compression::None, 0, 1 << 20).unwrap();
        // The base offset and leader epoch are not covered by the CRC, by design.
        for i in 8 * 8..b.len() * 8 {
            if (12 * 8..16 * 8).contains(&i) {
                continue;
            }
            let mut c = b.clone();
            c[i / 8] ^= 1 << (i % 8);
            assert!(
                !matches!(check_batch(&c, 1 << 20), Ok(Check::Valid(_))),
                "flip of bit {i} passed"
            );
        }
    }

    #[test]
    fn truncated_batch_is_incomplete() {
        let b = encode_batch(&recs(3), Compression::None, 0, 1 << 20).unwrap();
        for cut in 0..b.len() {
            assert_eq!(check_batch(&b[..cut], 1 << 20).unwrap(), Check::Incomplete);
        }
    }

    /// A batch at `base` holding one record at `base` but declaring offsets up to `base + 9`,
    /// as compaction leaves a batch that lost its later records.
    fn thinned(base: u64) -> BytesMut {
        let key = format!("k{base}");
        let refs = std::iter::once((
            0,
            RecordRef {
                key: Some(key.as_bytes()),
                value: Some(b"v"),
                headers: &[],
            },
        ));
        let mut b = encode_batch_from(refs, 1, Compression::None, 1 << 20, Some((&[0], 9)))
            .unwrap()
            .into_bytes();
        set_base_offset_and_epoch(&mut b, base, 0);
        b
    }

    #[test]
    fn decode_from_moves_past_a_batch_that_filters_to_nothing() {
        let only = thinned(0).freeze();
        let d = decode_from(&only, 1 << 20, 1);
        assert!(d.records.is_empty());
        assert_eq!(
            d.next_offset, 10,
            "the batch's last offset + 1, not its last record's"
        );
        assert!(d.damage.is_none());

        let mut two = thinned(0);
        let mut next = encode_batch(&recs(2), Compression::None, 0, 1 << 20).unwrap();
        set_base_offset_and_epoch(&mut next, 10, 0);
        two.extend_from_slice(&next);
        let d = decode_from(&two.freeze(), 1 << 20, 1);
        let offsets: Vec<u64> = d.records.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, [10, 11]);
        assert_eq!(d.next_offset, 12);
    }

    #[test]
    fn decode_from_stops_at_damage_after_good_batches() {
        let mut buf = thinned(0);
        let good = buf.len();
        let mut bad = thinned(10);
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        buf.extend_from_slice(&bad);
        let d = decode_from(&buf.freeze(), 1 << 20, 0);
        assert_eq!(d.records.len(), 1);
        assert_eq!(
            d.next_offset, 10,
            "the next read starts at the damaged batch"
        );
        assert_eq!(d.bytes, good);
        assert!(
            matches!(d.damage, Some(Error::ChecksumMismatch { .. })),
            "{:?}",
            d.damage
        );
    }

    #[test]
    fn log_append_time_overrides_record_timestamps() {
        let mut b = encode_batch(&recs(2), Compression::None, 0, 1 << 20).unwrap();
        set_log_append_time(&mut b, 77);
        let out = decode_all(&b.freeze(), 1 << 20).unwrap();
        assert!(out.iter().all(|r| r.timestamp == 77));
    }
}
