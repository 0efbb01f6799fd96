//! The compact binary encoding of `/v1/ws/produce`, for services (shared by the gateway, which
//! decodes requests and encodes replies, and `runnel bench`, which does the opposite): WebSocket binary messages
//! instead of JSON text, keys and values as raw bytes (no JSON text, no base64).
//!
//! All integers are big-endian (network order, as in Kafka's protocol). Lengths of `-1` mean
//! null.
//!
//! Produce request (client → server):
//! ```text
//! u8   kind = 1
//! u32  id length, then the id's bytes (echoed in the reply; any bytes)
//! u32  record count
//! per record:
//!   i32  partition (-1 = chosen by the broker: by key hash, or sticky without a key)
//!   i32  key length (-1 = null), then the key
//!   i32  value length (-1 = null), then the value
//!   u16  header count
//!   per header: u16 key length, then the key (UTF-8); i32 value length (-1 = null), then
//!               the value
//! ```
//! Ack (server → client): `u8 kind = 2`, `u32` id length + id, `u32` record count, then per
//! record in request order `i32 partition`, `i64 offset` (-1 with acks=0).
//!
//! Error (server → client): `u8 kind = 3`, `u32` id length + id (empty when the request could
//! not be read), `u32 error_code` (Confluent's code, as in JSON error frames), `u32` message
//! length + the message (UTF-8). A request that cannot be decoded gets an error and the socket
//! closes with 1008, as a malformed JSON message does.

use bytes::{BufMut as _, Bytes, BytesMut};

use crate::log::{self, Header, NewRecord};

/// Kind byte of a produce request.
pub const KIND_PRODUCE: u8 = 1;
/// Kind byte of an ack.
pub const KIND_ACK: u8 = 2;
/// Kind byte of an error.
pub const KIND_ERROR: u8 = 3;

/// Smallest encoded record: partition, key and value lengths, header count.
const MIN_RECORD: usize = 4 + 4 + 4 + 2;
/// Smallest encoded header: key length and value length.
const MIN_HEADER: usize = 2 + 4;

/// Why a binary message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("empty message")]
    Empty,
    #[error("unknown kind byte {0}")]
    UnknownKind(u8),
    #[error("truncated at byte {0} while reading {1}")]
    Truncated(usize, &'static str),
    #[error("{0} declares a length of {1}, past the end of the message")]
    BadLength(&'static str, i64),
    #[error("header key is not UTF-8")]
    HeaderKey,
    #[error("error message is not UTF-8")]
    Message,
    #[error("{0} bytes after the last record")]
    Trailing(usize),
    #[error("an ack names partition {0}; partitions are never negative")]
    NegativePartition(i32),
}

/// A decoded produce request; keys and values are slices of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceRequest {
    pub id: Bytes,
    pub records: Vec<BinaryRecord>,
}

/// One record: the requested partition (`None` for -1) and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryRecord {
    pub partition: Option<i64>,
    pub record: NewRecord,
}

/// A decoded reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `(partition, offset)` per record; offset `None` with acks=0.
    Ack {
        id: Bytes,
        offsets: Vec<(u32, Option<u64>)>,
    },
    Error {
        id: Bytes,
        error_code: u32,
        message: String,
    },
}

struct Reader<'a> {
    buf: &'a Bytes,
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<Bytes, DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or(DecodeError::Truncated(self.pos, what))?;
        let b = self.buf.slice(self.pos..end);
        self.pos = end;
        Ok(b)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let b = self.take(N, what)?;
        let mut out = [0; N];
        out.copy_from_slice(&b);
        Ok(out)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }
    fn i32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }
    fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// `u32` length + bytes.
    fn bytes32(&mut self, what: &'static str) -> Result<Bytes, DecodeError> {
        let n = self.u32(what)? as usize;
        if n > self.remaining() {
            return Err(DecodeError::BadLength(what, n as i64));
        }
        self.take(n, what)
    }

    /// `i32` length (-1 = null) + bytes.
    fn nullable(&mut self, what: &'static str) -> Result<Option<Bytes>, DecodeError> {
        let n = self.i32(what)?;
        if n == -1 {
            return Ok(None);
        }
        let len = usize::try_from(n).map_err(|_| DecodeError::BadLength(what, i64::from(n)))?;
        if len > self.remaining() {
            return Err(DecodeError::BadLength(what, i64::from(n)));
        }
        self.take(len, what).map(Some)
    }

    /// A `u32` count of items at least `min` bytes each, checked against what is left so a
    /// hostile count cannot make us allocate.
    fn count(&mut self, min: usize, what: &'static str) -> Result<usize, DecodeError> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(min) > self.remaining() {
            return Err(DecodeError::BadLength(what, n as i64));
        }
        Ok(n)
    }
}

/// Decodes a produce request.
///
/// # Errors
/// Any malformed input; never panics.
pub fn decode_produce(buf: &Bytes) -> Result<ProduceRequest, DecodeError> {
    let mut r = Reader { buf, pos: 0 };
    match r.u8("kind").map_err(|_| DecodeError::Empty)? {
        KIND_PRODUCE => {}
        k => return Err(DecodeError::UnknownKind(k)),
    }
    let id = r.bytes32("id")?;
    let n = r.count(MIN_RECORD, "record count")?;
    let mut records = Vec::with_capacity(n);
    for _ in 0..n {
        let partition = r.i32("partition")?;
        let key = r.nullable("key")?;
        let value = r.nullable("value")?;
        let h = usize::from(r.u16("header count")?);
        if h.saturating_mul(MIN_HEADER) > r.remaining() {
            return Err(DecodeError::BadLength("header count", h as i64));
        }
        let mut headers = Vec::with_capacity(h);
        for _ in 0..h {
            let klen = usize::from(r.u16("header key")?);
            let key = r.take(klen, "header key")?;
            let key = String::from_utf8(key.to_vec()).map_err(|_| DecodeError::HeaderKey)?;
            let value = r.nullable("header value")?;
            headers.push(Header { key, value });
        }
        records.push(BinaryRecord {
            partition: (partition != -1).then_some(i64::from(partition)),
            record: NewRecord {
                timestamp: None,
                key,
                value,
                headers,
            },
        });
    }
    if r.remaining() > 0 {
        return Err(DecodeError::Trailing(r.remaining()));
    }
    Ok(ProduceRequest { id, records })
}

fn put_nullable(out: &mut BytesMut, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            out.put_i32(i32::try_from(b.len()).unwrap_or(i32::MAX));
            out.put_slice(b);
        }
        None => out.put_i32(-1),
    }
}

/// Encodes a produce request (the client side: `runnel bench`, tests). `None` partitions are
/// chosen by the broker.
pub fn encode_produce(id: &[u8], records: &[(Option<u32>, &NewRecord)]) -> Bytes {
    let size: usize = records
        .iter()
        .map(|(_, r)| MIN_RECORD + crate::broker::appender::estimated_size(r))
        .sum();
    let mut out = BytesMut::with_capacity(9 + id.len() + size);
    out.put_u8(KIND_PRODUCE);
    out.put_u32(id.len() as u32);
    out.put_slice(id);
    out.put_u32(records.len() as u32);
    for (p, r) in records {
        out.put_i32(p.map_or(-1, |p| i32::try_from(p).unwrap_or(i32::MAX)));
        put_nullable(&mut out, r.key.as_deref());
        put_nullable(&mut out, r.value.as_deref());
        out.put_u16(r.headers.len().min(usize::from(u16::MAX)) as u16);
        for h in r.headers.iter().take(usize::from(u16::MAX)) {
            let key = h.key.as_bytes();
            let key = key
                .get(..key.len().min(usize::from(u16::MAX)))
                .unwrap_or_default();
            out.put_u16(key.len() as u16);
            out.put_slice(key);
            put_nullable(&mut out, h.value.as_deref());
        }
    }
    out.freeze()
}

/// Encodes an ack: each record's partition and offset (-1 for none, or for a failed record).
pub fn encode_ack(id: &[u8], outcomes: &[(u32, Result<Option<u64>, log::Error>)]) -> Bytes {
    let mut out = BytesMut::with_capacity(9 + id.len() + outcomes.len() * 12);
    out.put_u8(KIND_ACK);
    out.put_u32(id.len() as u32);
    out.put_slice(id);
    out.put_u32(outcomes.len() as u32);
    for (p, r) in outcomes {
        out.put_i32(i32::try_from(*p).unwrap_or(i32::MAX));
        let offset = match r {
            Ok(Some(o)) => i64::try_from(*o).unwrap_or(i64::MAX),
            Ok(None) | Err(_) => -1,
        };
        out.put_i64(offset);
    }
    out.freeze()
}

/// Encodes an error reply.
pub fn encode_error(id: &[u8], error_code: u32, message: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(13 + id.len() + message.len());
    out.put_u8(KIND_ERROR);
    out.put_u32(id.len() as u32);
    out.put_slice(id);
    out.put_u32(error_code);
    out.put_u32(message.len() as u32);
    out.put_slice(message.as_bytes());
    out.freeze()
}

/// Decodes an ack or error reply (the client side).
///
/// # Errors
/// Any malformed input; never panics.
pub fn decode_reply(buf: &Bytes) -> Result<Reply, DecodeError> {
    let mut r = Reader { buf, pos: 0 };
    let kind = r.u8("kind").map_err(|_| DecodeError::Empty)?;
    let id = r.bytes32("id")?;
    let reply = match kind {
        KIND_ACK => {
            let n = r.count(12, "record count")?;
            let mut offsets = Vec::with_capacity(n);
            for _ in 0..n {
                let p = r.i32("partition")?;
                let o = r.i64("offset")?;
                let p = u32::try_from(p).map_err(|_| DecodeError::NegativePartition(p))?;
                offsets.push((p, u64::try_from(o).ok()));
            }
            Reply::Ack { id, offsets }
        }
        KIND_ERROR => {
            let error_code = r.u32("error code")?;
            let message = r.bytes32("message")?;
            let message = String::from_utf8(message.to_vec()).map_err(|_| DecodeError::Message)?;
            Reply::Error {
                id,
                error_code,
                message,
            }
        }
        k => return Err(DecodeError::UnknownKind(k)),
    };
    if r.remaining() > 0 {
        return Err(DecodeError::Trailing(r.remaining()));
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn record() -> impl Strategy<Value = (Option<u32>, NewRecord)> {
        let bytes = || proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40));
        (
            proptest::option::of(0u32..1000),
            bytes(),
            bytes(),
            proptest::collection::vec(("[a-z]{0,8}", bytes()), 0..3),
        )
            .prop_map(|(p, key, value, headers)| {
                (
                    p,
                    NewRecord {
                        timestamp: None,
                        key: key.map(Bytes::from),
                        value: value.map(Bytes::from),
                        headers: headers
                            .into_iter()
                            .map(|(key, value)| Header {
                                key,
                                value: value.map(Bytes::from),
                            })
                            .collect(),
                    },
                )
            })
    }

    proptest! {
        #[test]
        fn produce_requests_round_trip(
            id in proptest::collection::vec(any::<u8>(), 0..20),
            records in proptest::collection::vec(record(), 0..8),
        ) {
            let refs: Vec<_> = records.iter().map(|(p, r)| (*p, r)).collect();
            let encoded = encode_produce(&id, &refs);
            let decoded = decode_produce(&encoded).unwrap();
            prop_assert_eq!(&decoded.id[..], &id[..]);
            prop_assert_eq!(decoded.records.len(), records.len());
            for (d, (p, r)) in decoded.records.iter().zip(&records) {
                prop_assert_eq!(d.partition, p.map(i64::from));
                prop_assert_eq!(&d.record, r);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let data = Bytes::from(data);
            let _ = decode_produce(&data);
            let _ = decode_reply(&data);
        }

        #[test]
        fn replies_round_trip(
            id in proptest::collection::vec(any::<u8>(), 0..20),
            offsets in proptest::collection::vec((0u32..100, proptest::option::of(0u64..1 << 40)), 0..20),
            code in any::<u32>(),
            message in ".{0,40}",
        ) {
            let outcomes: Vec<_> = offsets.iter().map(|(p, o)| (*p, Ok(*o))).collect();
            let ack = decode_reply(&encode_ack(&id, &outcomes)).unwrap();
            prop_assert_eq!(ack, Reply::Ack { id: Bytes::from(id.clone()), offsets });
            let err = decode_reply(&encode_error(&id, code, &message)).unwrap();
            prop_assert_eq!(err, Reply::Error { id: Bytes::from(id), error_code: code, message });
        }
    }

    #[test]
    fn hostile_counts_are_refused_without_allocating() {
        let mut b = BytesMut::new();
        b.put_u8(KIND_PRODUCE);
        b.put_u32(0);
        b.put_u32(u32::MAX);
        assert!(matches!(
            decode_produce(&b.freeze()),
            Err(DecodeError::BadLength("record count", _))
        ));
        let mut b = BytesMut::new();
        b.put_u8(KIND_PRODUCE);
        b.put_u32(0);
        b.put_u32(1);
        b.put_i32(-1);
        b.put_i32(i32::MAX);
        b.put_slice(&[0; 20]);
        assert!(matches!(
            decode_produce(&b.freeze()),
            Err(DecodeError::BadLength("key", _))
        ));
    }
}
