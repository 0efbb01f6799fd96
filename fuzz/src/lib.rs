//! Helpers shared by the fuzz targets in `fuzz_targets/`.
//!
//! The main one is [`fix_up`]: random bytes almost never carry a right batch length and CRC, so
//! without it the fuzzer would stop at `check_batch` and never reach the record decoder or the
//! decompressors.

use std::io::Write;

use runnel::log::batch::{HEADER_LEN, LOG_OVERHEAD};

/// The batch size limit the targets decode with: small enough that a decompression bomb shows up
/// as a slow or huge input, large enough for every input the fuzzer makes.
pub const MAX_BATCH: usize = 1 << 20;

const CRC_START: usize = 21;
const ATTRIBUTES: usize = 21;
const MAGIC: usize = 16;

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Compresses `raw` with the codec `id` as Kafka numbers them (1 gzip, 3 lz4, 4 zstd); any
/// other id returns `raw` unchanged.
pub fn compress(id: u16, raw: &[u8]) -> Vec<u8> {
    match id {
        1 => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(raw).expect("gzip into a Vec");
            e.finish().expect("gzip into a Vec")
        }
        3 => {
            let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
            e.write_all(raw).expect("lz4 into a Vec");
            e.finish().expect("lz4 into a Vec")
        }
        4 => zstd::bulk::compress(raw, 1).expect("zstd into a Vec"),
        _ => raw.to_vec(),
    }
}

/// Rewrites `input` into a run of batches whose framing and CRC are right, so decoding goes on
/// to the records.
///
/// Walks the input: where the length field at the current position fits what remains it is
/// kept (several batches), else the batch takes everything that remains. Each batch gets magic 2
/// and, when `codec` is 1, 3 or 4, its records section compressed with that codec and the codec
/// bits set. Its length and CRC are then recomputed. Fewer than [`HEADER_LEN`] bytes at the end
/// stay as they are: a torn tail.
pub fn fix_up(input: &[u8], codec: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + 64);
    let mut pos = 0;
    while let Some(rest) = input.get(pos..).filter(|r| r.len() >= HEADER_LEN) {
        let declared = be_u32(rest, 8).map_or(0, |l| l as usize + LOG_OVERHEAD);
        let size = if (HEADER_LEN..=rest.len()).contains(&declared) {
            declared
        } else {
            rest.len()
        };
        let start = out.len();
        out.extend_from_slice(&rest[..HEADER_LEN]);
        let records = &rest[HEADER_LEN..size];
        if matches!(codec, 1 | 3 | 4) {
            out.extend_from_slice(&compress(codec, records));
            let attrs = u16::from_be_bytes([out[start + ATTRIBUTES], out[start + ATTRIBUTES + 1]]);
            let attrs = (attrs & !0x07) | codec;
            out[start + ATTRIBUTES..start + ATTRIBUTES + 2].copy_from_slice(&attrs.to_be_bytes());
        } else {
            out.extend_from_slice(records);
        }
        finish_batch(&mut out[start..]);
        pos += size;
    }
    out.extend_from_slice(&input[pos..]);
    out
}

/// Sets the length field, magic byte and CRC of one batch that fills `batch` exactly.
pub fn finish_batch(batch: &mut [u8]) {
    let len = (batch.len() - LOG_OVERHEAD) as u32;
    batch[8..12].copy_from_slice(&len.to_be_bytes());
    batch[MAGIC] = 2;
    let crc = crc32fast::hash(&batch[CRC_START..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
}

/// `base + delta + 1` without overflow: the next offset after a batch, for the targets' own
/// bookkeeping (the server's arithmetic is what is under test).
pub fn next_offset(base: u64, last_offset_delta: u32) -> u64 {
    base.saturating_add(u64::from(last_offset_delta))
        .saturating_add(1)
}
