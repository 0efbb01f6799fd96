//! Arbitrary bytes through the batch decoders: `check_batch`, `peek_header`, `Batches`,
//! `decode_batch` and `decode_all` must never panic, must agree with each other, and
//! decompression must stay within the batch size limit.
//!
//! The first input byte picks the mode:
//! - bit 0 clear: the rest is decoded as it is (framing and CRC checks get fuzzed).
//! - bit 0 set: the rest goes through `fix_up` first, which makes lengths, magic and CRCs right,
//!   so the fuzzer reaches the record decoder; bits 1-2 then pick a codec (none, gzip, lz4,
//!   zstd) to compress each batch's records section with.
//!
//! Run: `cargo fuzz run batch_decoder fuzz/seeds/batch_decoder` (see `.ci/fuzz.sh`).

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use runnel::log::Record;
use runnel::log::batch::{
    self, BatchHeader, Batches, Check, HEADER_LEN, TimestampType, check_batch,
};
use runnel_fuzz::{MAX_BATCH, fix_up, next_offset};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        exercise(rest);
    } else {
        let codec = [0, 1, 3, 4][usize::from((mode >> 1) & 3)];
        exercise(&fix_up(rest, codec));
    }
});

fn exercise(buf: &[u8]) {
    let bytes = Bytes::copy_from_slice(buf);
    let _ = batch::peek_size(buf);
    let peeked = batch::peek_header(buf, buf.len());

    // The first batch on its own.
    if let Ok(Check::Valid(h)) = check_batch(buf, MAX_BATCH) {
        assert!(h.size >= HEADER_LEN && h.size <= buf.len() && h.size <= MAX_BATCH);
        assert_eq!(peeked, Some(h), "peek_header disagrees with check_batch");
        let mut out = Vec::new();
        if batch::decode_batch(&h, &bytes, MAX_BATCH, &mut out).is_ok() {
            check_records(&h, &out);
        } else {
            assert!(out.is_empty() || out.len() <= h.records_count as usize);
        }
    }

    // Every batch, as a fetch response is read.
    let mut pos = 0usize;
    let mut expected = 0usize;
    let mut all_decode = true;
    for item in Batches::new(bytes.clone(), MAX_BATCH) {
        let Ok((h, slice)) = item else {
            all_decode = false;
            continue;
        };
        assert_eq!(slice.len(), h.size);
        assert_eq!(
            slice.as_ptr(),
            bytes[pos..].as_ptr(),
            "batches must be contiguous slices of the buffer, not copies"
        );
        let mut out = Vec::new();
        match batch::decode_batch(&h, &slice, MAX_BATCH, &mut out) {
            Ok(()) => {
                check_records(&h, &out);
                expected += out.len();
            }
            Err(_) => all_decode = false,
        }
        pos += h.size;
    }
    assert!(pos <= buf.len());

    match batch::decode_all(&bytes, MAX_BATCH) {
        Ok(records) => {
            assert!(all_decode, "decode_all accepted what decode_batch refused");
            assert_eq!(records.len(), expected);
        }
        Err(_) => assert!(!all_decode, "decode_all refused what decode_batch accepted"),
    }
}

/// What every successfully decoded batch must satisfy.
fn check_records(h: &BatchHeader, out: &[Record]) {
    assert_eq!(out.len(), h.records_count as usize);
    let last = next_offset(h.base_offset, h.last_offset_delta) - 1;
    let mut payload = 0usize;
    for r in out {
        assert!(
            r.offset >= h.base_offset && r.offset <= last,
            "offset outside the batch"
        );
        if h.timestamp_type == TimestampType::LogAppendTime {
            assert_eq!(r.timestamp, h.max_timestamp);
        }
        payload += r.key.as_ref().map_or(0, |k| k.len());
        payload += r.value.as_ref().map_or(0, |v| v.len());
        for hd in &r.headers {
            payload += hd.key.len() + hd.value.as_ref().map_or(0, |v| v.len());
        }
    }
    // Keys and values are slices of the (decompressed) batch, so they cannot add up to more
    // than the limit decompression is bounded by.
    assert!(
        payload <= MAX_BATCH.max(h.size),
        "decoded {payload} bytes from one batch"
    );
}
