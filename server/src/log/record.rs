//! Records inside a batch: Kafka's v2 record layout with zig-zag varints.
//!
//! ```text
//! length: varint | attributes: i8 | timestamp_delta: varlong | offset_delta: varint
//! key_length: varint (-1 = null) | key | value_length: varint (-1 = null) | value
//! header_count: varint | [header_key_length: varint | key | header_value_length: varint | value]
//! ```
//! Decoding reads from a bounds-checked cursor: every length is checked against the bytes that
//! remain before anything is allocated, so hostile input costs at most its own size.

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use bytes::{BufMut, Bytes};

use super::error::{Error, Result};

/// A record header: a string key and an optional byte value, as Kafka's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub key: String,
    pub value: Option<Bytes>,
}

/// A record to be appended: the producer's view, before it has an offset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRecord {
    /// Create time in ms since the epoch; `None` takes the time of the append.
    pub timestamp: Option<i64>,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<Header>,
}

/// A stored record, with the offset and timestamp the log gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub offset: u64,
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<Header>,
}

/// Zig-zag varint encoding as Kafka's `ByteUtils.writeVarlong`.
pub(crate) fn put_varlong(out: &mut impl BufMut, value: i64) {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    while v >= 0x80 {
        out.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    out.put_u8(v as u8);
}

/// Bytes `put_varlong` writes for `value`.
pub(crate) fn varlong_len(value: i64) -> usize {
    let v = ((value << 1) ^ (value >> 63)) as u64;
    // 1 byte per started group of 7 bits, at least one.
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

fn opt_len(b: Option<&[u8]>) -> usize {
    match b {
        Some(b) => varlong_len(b.len() as i64) + b.len(),
        None => varlong_len(-1),
    }
}

fn put_opt(out: &mut impl BufMut, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            put_varlong(out, b.len() as i64);
            out.put_slice(b);
        }
        None => put_varlong(out, -1),
    }
}

/// Length of a record's body (everything after its own length varint).
fn body_len(ts_delta: i64, offset_delta: i64, r: &RecordRef<'_>) -> usize {
    let mut n = 1 + varlong_len(ts_delta) + varlong_len(offset_delta);
    n += opt_len(r.key) + opt_len(r.value);
    n += varlong_len(r.headers.len() as i64);
    for h in r.headers {
        n += opt_len(Some(h.key.as_bytes())) + opt_len(h.value.as_deref());
    }
    n
}

/// Borrowed parts of a record to encode; lets callers encode without cloning payloads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordRef<'a> {
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: &'a [Header],
}

/// Appends one encoded record to `out`.
pub(crate) fn encode_record(
    out: &mut impl BufMut,
    ts_delta: i64,
    offset_delta: i64,
    r: &RecordRef<'_>,
) {
    put_varlong(out, body_len(ts_delta, offset_delta, r) as i64);
    out.put_u8(0); // attributes: unused by Kafka v2 records
    put_varlong(out, ts_delta);
    put_varlong(out, offset_delta);
    put_opt(out, r.key);
    put_opt(out, r.value);
    put_varlong(out, r.headers.len() as i64);
    for h in r.headers {
        put_opt(out, Some(h.key.as_bytes()));
        put_opt(out, h.value.as_deref());
    }
}

/// Encoded size of a record, its length prefix included.
pub(crate) fn encoded_len(ts_delta: i64, offset_delta: i64, r: &RecordRef<'_>) -> usize {
    let body = body_len(ts_delta, offset_delta, r);
    varlong_len(body as i64) + body
}

/// A bounds-checked cursor over untrusted bytes.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn u8(&mut self) -> Result<u8> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| Error::corrupt("record ends inside a field"))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn varlong(&mut self) -> Result<i64> {
        let mut v: u64 = 0;
        for shift in (0..70).step_by(7) {
            let b = self.u8()?;
            if shift == 63 && b > 1 {
                return Err(Error::corrupt("varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(((v >> 1) as i64) ^ -((v & 1) as i64));
            }
        }
        Err(Error::corrupt("varint longer than 10 bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| Error::corrupt("length points past the end of the record"))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| Error::corrupt("length points past the end of the record"))?;
        self.pos = end;
        Ok(s)
    }

    /// A varint length followed by that many bytes; -1 is null.
    fn opt_bytes(&mut self) -> Result<Option<&'a [u8]>> {
        match self.varlong()? {
            -1 => Ok(None),
            n if n < 0 => Err(Error::corrupt(format!("negative length {n}"))),
            n => {
                let n = usize::try_from(n).map_err(|_| Error::corrupt("length too large"))?;
                self.take(n).map(Some)
            }
        }
    }
}

/// Decodes the `count` records of an uncompressed records section.
///
/// `owner` is the buffer that `buf` borrows from, so keys and values become zero-copy slices.
pub(crate) fn decode_records(
    owner: &Bytes,
    buf: &[u8],
    count: usize,
    base_offset: u64,
    base_timestamp: i64,
    log_append_time: Option<i64>,
    out: &mut Vec<Record>,
) -> Result<()> {
    let mut cur = Cursor::new(buf);
    // Each record takes at least 7 bytes, so a hostile count cannot make us reserve more than
    // the input could describe.
    out.reserve(count.min(buf.len() / 7));
    for _ in 0..count {
        let len = cur.varlong()?;
        let len = usize::try_from(len).map_err(|_| Error::corrupt("negative record length"))?;
        let body = cur.take(len)?;
        let mut r = Cursor::new(body);
        let _attributes = r.u8()?;
        let ts_delta = r.varlong()?;
        let offset_delta = r.varlong()?;
        let key = r.opt_bytes()?.map(|k| owner.slice_ref(k));
        let value = r.opt_bytes()?.map(|v| owner.slice_ref(v));
        let header_count = r.varlong()?;
        let header_count =
            usize::try_from(header_count).map_err(|_| Error::corrupt("negative header count"))?;
        let mut headers = Vec::with_capacity(header_count.min(body.len() / 2));
        for _ in 0..header_count {
            let k = r
                .opt_bytes()?
                .ok_or_else(|| Error::corrupt("null header key"))?;
            let key = std::str::from_utf8(k)
                .map_err(|_| Error::corrupt("header key is not UTF-8"))?
                .to_owned();
            let value = r.opt_bytes()?.map(|v| owner.slice_ref(v));
            headers.push(Header { key, value });
        }
        if !r.is_empty() {
            return Err(Error::corrupt("record has trailing bytes"));
        }
        let offset_delta =
            u64::try_from(offset_delta).map_err(|_| Error::corrupt("negative offset delta"))?;
        out.push(Record {
            offset: base_offset.saturating_add(offset_delta),
            timestamp: log_append_time.unwrap_or(base_timestamp.wrapping_add(ts_delta)),
            key,
            value,
            headers,
        });
    }
    if !cur.is_empty() {
        return Err(Error::corrupt("records section has trailing bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varlong_round_trips_and_lengths_match() {
        for v in [
            0i64,
            1,
            -1,
            63,
            64,
            -64,
            -65,
            300,
            i64::MAX,
            i64::MIN,
            1 << 35,
        ] {
            let mut buf = Vec::new();
            put_varlong(&mut buf, v);
            assert_eq!(buf.len(), varlong_len(v), "len of {v}");
            assert_eq!(Cursor::new(&buf).varlong().ok(), Some(v));
        }
    }

    #[test]
    fn varlong_rejects_overlong_input() {
        let buf = [0xffu8; 11];
        assert!(Cursor::new(&buf).varlong().is_err());
    }

    #[test]
    fn record_round_trips() {
        let headers = vec![Header {
            key: "h".into(),
            value: Some(Bytes::from_static(b"v")),
        }];
        let r = RecordRef {
            key: Some(b"k"),
            value: None,
            headers: &headers,
        };
        let mut buf = Vec::new();
        encode_record(&mut buf, 5, 2, &r);
        assert_eq!(buf.len(), encoded_len(5, 2, &r));
        let owner = Bytes::from(buf);
        let mut out = Vec::new();
        decode_records(&owner, &owner, 1, 100, 1000, None, &mut out).expect("decodes");
        assert_eq!(out[0].offset, 102);
        assert_eq!(out[0].timestamp, 1005);
        assert_eq!(out[0].key.as_deref(), Some(&b"k"[..]));
        assert_eq!(out[0].value, None);
        assert_eq!(out[0].headers, headers);
    }
}
