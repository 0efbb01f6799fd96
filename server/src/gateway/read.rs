//! The read path's side in the gateway: records rendered as the v2 JSON array (`[{"topic",
//! "key", "value", "partition", "offset", "timestamp", "headers"}]`) in an embedded format,
//! written straight into bytes, whole or a chunk at a time. The stateless read, v2 consumer
//! polls and WebSocket consume all render through here.
//!
//! Not owned here: reading the records (`Partition::read` in the broker), the memory a read
//! may hold (`read_budget.rs`).

use std::sync::Arc;

use axum::body::Bytes;
use base64::Engine as _;
use runnel_schema_registry::registry::Registry;

use super::errors::GatewayError;
use super::extract::EmbeddedFormat;
use super::read_budget;
use crate::broker::Record;

/// Appends one key or value: raw JSON text for the json format (validated without building a
/// tree, and refused when readers could not parse it back, see `json_value.rs`), a base64
/// string for the others, `null` for none.
fn write_payload(
    out: &mut Vec<u8>,
    b: Option<&[u8]>,
    format: EmbeddedFormat,
    registry: &Registry,
    offset: u64,
) -> Result<(), GatewayError> {
    let Some(b) = b else {
        out.extend_from_slice(b"null");
        return Ok(());
    };
    match format {
        EmbeddedFormat::Json => {
            let unreadable = |why: &str| {
                GatewayError::InvalidRecord(format!(
                    "The record at offset {offset} {why}; read it with Accept: application/vnd.kafka.binary.v2+json, or skip it."
                ))
            };
            let raw: &serde_json::value::RawValue =
                serde_json::from_slice(b).map_err(|_| unreadable("is not JSON"))?;
            super::json_value::check(raw.get())
                .map_err(|e| unreadable(&format!("is JSON that {e}")))?;
            out.extend_from_slice(raw.get().as_bytes());
        }
        EmbeddedFormat::Avro => {
            super::avro::write_json(out, b, registry, offset)?;
        }
        EmbeddedFormat::Binary | EmbeddedFormat::JsonSchema | EmbeddedFormat::Protobuf => {
            write_base64(out, b);
        }
    }
    Ok(())
}

fn write_base64(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'"');
    let start = out.len();
    let len = base64::encoded_len(b.len(), true).unwrap_or(0);
    out.resize(start + len, 0);
    let written = out
        .get_mut(start..)
        .and_then(|dst| {
            base64::engine::general_purpose::STANDARD
                .encode_slice(b, dst)
                .ok()
        })
        .unwrap_or(0);
    out.truncate(start + written);
    out.push(b'"');
}

/// Writes records as the v2 JSON array (with our `timestamp` and `headers`), straight into a
/// byte buffer: reads are the hot path, and building `serde_json::Value`s per record would
/// cost more than the read itself.
///
/// # Errors
/// 422 when a record is not valid in the requested format; `out` then holds a partial array.
pub fn write_records_json(
    out: &mut Vec<u8>,
    topic: &str,
    partition: u32,
    records: &[Record],
    format: EmbeddedFormat,
    registry: &Registry,
) -> Result<(), GatewayError> {
    match write_readable_records_json(out, topic, partition, records, format, registry) {
        (_, None) => Ok(()),
        (_, Some(e)) => Err(e),
    }
}

/// Writes the longest prefix of `records` that renders in `format` as the v2 JSON array, as a
/// Kafka consumer hands out the records before one it cannot deserialize: how many went in,
/// and the error of the record that stopped it. A reader then continues at that record, which
/// fails on its own (naming its offset) until the client skips it, and never costs the records
/// before it.
pub fn write_readable_records_json(
    out: &mut Vec<u8>,
    topic: &str,
    partition: u32,
    records: &[Record],
    format: EmbeddedFormat,
    registry: &Registry,
) -> (usize, Option<GatewayError>) {
    let topic_json = serde_json::to_string(topic).unwrap_or_else(|_| "\"\"".into());
    let mut itoa = itoa::Buffer::new();
    out.push(b'[');
    let mut written = 0;
    let mut failure = None;
    for r in records {
        let start = out.len();
        if written > 0 {
            out.push(b',');
        }
        if let Err(e) = write_record(out, &topic_json, &mut itoa, partition, r, format, registry) {
            out.truncate(start);
            failure = Some(e);
            break;
        }
        written += 1;
    }
    out.push(b']');
    (written, failure)
}

/// Appends one record object of the v2 JSON array.
fn write_record(
    out: &mut Vec<u8>,
    topic_json: &str,
    itoa: &mut itoa::Buffer,
    partition: u32,
    r: &Record,
    format: EmbeddedFormat,
    registry: &Registry,
) -> Result<(), GatewayError> {
    out.extend_from_slice(b"{\"topic\":");
    out.extend_from_slice(topic_json.as_bytes());
    out.extend_from_slice(b",\"key\":");
    write_payload(out, r.key.as_deref(), format, registry, r.offset)?;
    out.extend_from_slice(b",\"value\":");
    write_payload(out, r.value.as_deref(), format, registry, r.offset)?;
    out.extend_from_slice(b",\"partition\":");
    out.extend_from_slice(itoa.format(partition).as_bytes());
    out.extend_from_slice(b",\"offset\":");
    out.extend_from_slice(itoa.format(r.offset).as_bytes());
    out.extend_from_slice(b",\"timestamp\":");
    out.extend_from_slice(itoa.format(r.timestamp).as_bytes());
    out.extend_from_slice(b",\"headers\":[");
    for (k, h) in r.headers.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"key\":");
        let key = serde_json::to_string(&h.key).unwrap_or_else(|_| "\"\"".into());
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b",\"value\":");
        match &h.value {
            Some(v) => write_base64(out, v),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    Ok(())
}

/// A read's records rendered as the v2 JSON array a chunk at a time, so a response waiting on
/// a slow client holds one rendered chunk rather than the whole text (`read_budget.rs`).
pub(crate) struct RecordsJson {
    topic_json: String,
    partition: u32,
    records: std::vec::IntoIter<Record>,
    format: EmbeddedFormat,
    registry: Arc<Registry>,
    itoa: itoa::Buffer,
    /// Whether the first record has been written (a comma goes before every later one).
    started: bool,
    done: bool,
}

impl RecordsJson {
    /// The chunks of `records` of `partition` of `topic`, rendered in `format`.
    pub(crate) fn new(
        topic: &str,
        partition: u32,
        records: Vec<Record>,
        format: EmbeddedFormat,
        registry: Arc<Registry>,
    ) -> Self {
        RecordsJson {
            topic_json: serde_json::to_string(topic).unwrap_or_else(|_| "\"\"".into()),
            partition,
            records: records.into_iter(),
            format,
            registry,
            itoa: itoa::Buffer::new(),
            started: false,
            done: false,
        }
    }

    /// The next chunk of about [`read_budget::CHUNK`] bytes; `None` once the array is closed.
    ///
    /// A record that cannot be written ends the array before it, as a Kafka consumer hands
    /// out the records before one it cannot deserialize: the client gets the records before it
    /// and its next read, starting there, fails on it alone. Only when it is the read's first
    /// record (in the first chunk, before the status is sent) does the read fail (422, naming
    /// its offset).
    pub(crate) fn next_chunk(&mut self) -> Result<Option<Bytes>, GatewayError> {
        if self.done {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(read_budget::CHUNK + 1024);
        if !self.started {
            out.push(b'[');
        }
        while out.len() < read_budget::CHUNK {
            let Some(r) = self.records.next() else {
                out.push(b']');
                self.done = true;
                break;
            };
            let mark = out.len();
            if self.started {
                out.push(b',');
            }
            let written = write_record(
                &mut out,
                &self.topic_json,
                &mut self.itoa,
                self.partition,
                &r,
                self.format,
                &self.registry,
            );
            match written {
                Ok(()) => self.started = true,
                Err(e) if !self.started => return Err(e),
                Err(e) => {
                    tracing::debug!(cause = %e, offset = r.offset, "ending a streamed read before a record it cannot write");
                    out.truncate(mark);
                    out.push(b']');
                    self.done = true;
                    break;
                }
            }
        }
        Ok(Some(Bytes::from(out)))
    }
}

/// What a decoded read holds until its answer is written: uncompressed records are slices of
/// the batches, compressed ones own their decompressed bytes, which outweigh the batches.
pub(crate) fn held_bytes(batch_bytes: usize, records: &[Record]) -> usize {
    let payload: usize = records
        .iter()
        .map(|r| {
            r.key.as_ref().map_or(0, bytes::Bytes::len)
                + r.value.as_ref().map_or(0, bytes::Bytes::len)
        })
        .sum();
    batch_bytes.max(payload)
}
