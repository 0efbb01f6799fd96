//! The `avro` embedded format: records validated against a registry schema and stored as
//! Avro binary in Confluent's framing (magic byte 0, 4-byte big-endian schema id, datum), so
//! Confluent's own serializers and deserializers read and write the same topics.
//!
//! Produce: a v2 request names its schemas by text (`value_schema`, registered under
//! `<topic>-value` — or `<topic>-key` — with the subject's compatibility checks, as Confluent's
//! REST Proxy does) or by id (`value_schema_id`); v3 by `schema_id`, `schema_version` or the
//! subject's latest. Each record's JSON (Avro's JSON encoding) is encoded straight to binary.
//! Reads decode the framing's id, fetch that schema and write the datum back as JSON. Data
//! that is not framed Avro fails the read with 42203, naming the offset.
//!
//! The registry comes from the request extensions (`serve.rs` adds it); a router without one
//! answers the avro format with 415, as before the registry existed.
//!
//! Not owned here: the Avro JSON codec and framing (`runnel_schema_registry::avro_json`).

use std::sync::Arc;

use bytes::Bytes;
use runnel_schema_registry::avro::AvroSchema;
use runnel_schema_registry::avro_json::{self, frame};
use runnel_schema_registry::error::RegistryError;
use runnel_schema_registry::registry::{NewSchema, Registry};

use super::errors::GatewayError;

/// The REST Proxy's code for an invalid or unusable schema.
pub const INVALID_SCHEMA: u32 = 42205;
/// Records have keys but the request names no key schema.
pub const KEY_SCHEMA_MISSING: u32 = 42201;
/// Records have values but the request names no value schema.
pub const VALUE_SCHEMA_MISSING: u32 = 42202;

/// The schema one side (key or value) of a produce request encodes with.
#[derive(Debug, Clone)]
pub struct SideSchema {
    pub id: i32,
    pub schema: Arc<AvroSchema>,
}

/// A registry failure as the gateway reports it: schema problems are 42205 with the registry's
/// message, a failed store is the registry's own 5xx code.
fn registry_error(e: &RegistryError) -> GatewayError {
    let (status, code) = e.status_and_code();
    if status.is_server_error() {
        tracing::error!(cause = %e, "schema registry failed during a produce");
        GatewayError::Schema(
            code,
            "Error in the schema registry's store; see the server log.".into(),
        )
    } else {
        GatewayError::Schema(INVALID_SCHEMA, e.to_string())
    }
}

/// The schema with `id`.
///
/// # Errors
/// 42205 when no schema has this id.
pub fn by_id(registry: &Registry, id: i64) -> Result<SideSchema, GatewayError> {
    let id32 = i32::try_from(id)
        .map_err(|_| GatewayError::Schema(INVALID_SCHEMA, format!("Schema {id} not found")))?;
    let schema = registry
        .schema_by_id(id32)
        .ok_or_else(|| GatewayError::Schema(INVALID_SCHEMA, format!("Schema {id} not found")))?;
    Ok(SideSchema { id: id32, schema })
}

/// The schema a v2 produce names for one side: registered under `subject` when given as text
/// (idempotent; the subject's compatibility level applies), looked up when given by id.
///
/// # Errors
/// 42205 for an invalid, incompatible or unknown schema; the registry's 5xx for a failed store.
pub async fn v2_side(
    registry: &Registry,
    subject: &str,
    schema: Option<&str>,
    id: Option<i64>,
) -> Result<Option<SideSchema>, GatewayError> {
    match (schema, id) {
        (Some(text), _) => {
            let registered = registry
                .register(subject, &NewSchema::avro(text), false)
                .await
                .map_err(|e| registry_error(&e))?;
            by_id(registry, i64::from(registered.id)).map(Some)
        }
        (None, Some(id)) => by_id(registry, id).map(Some),
        (None, None) => Ok(None),
    }
}

/// The latest live schema of `subject`, or one of its versions.
///
/// # Errors
/// 42205 when the subject or version does not exist.
pub fn by_subject(
    registry: &Registry,
    subject: &str,
    version: Option<i32>,
) -> Result<SideSchema, GatewayError> {
    let found = match version {
        Some(v) => registry.by_subject_version(subject, v),
        None => registry.latest(subject),
    };
    let v = found.ok_or_else(|| {
        GatewayError::Schema(
            INVALID_SCHEMA,
            match version {
                Some(v) => format!("Subject '{subject}' has no version {v}."),
                None => format!("Subject '{subject}' has no schema."),
            },
        )
    })?;
    by_id(registry, i64::from(v.id))
}

/// Encodes one record's key or value (JSON text in Avro's JSON encoding) as framed Avro.
///
/// # Errors
/// 42203 (`InvalidRecord`) naming where the JSON does not fit the schema.
pub fn encode(text: &str, side: &SideSchema, what: &str) -> Result<Bytes, GatewayError> {
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| GatewayError::InvalidRecord(format!("{what} is not JSON: {e}")))?;
    let mut out = frame(side.id, &[]);
    avro_json::encode_json(&json, &side.schema, &mut out).map_err(|e| {
        GatewayError::InvalidRecord(format!("{what} does not fit schema {}: {e}", side.id))
    })?;
    Ok(Bytes::from(out))
}

/// Writes a stored key or value (framed Avro) as Avro JSON.
///
/// # Errors
/// 42203 when the bytes are not framed Avro of a known schema.
pub fn write_json(
    out: &mut Vec<u8>,
    bytes: &[u8],
    registry: &Registry,
    offset: u64,
) -> Result<(), GatewayError> {
    let not_avro = |why: String| {
        GatewayError::InvalidRecord(format!(
            "The record at offset {offset} is not Avro in Confluent's framing ({why}); read it \
             with Accept: application/vnd.kafka.binary.v2+json."
        ))
    };
    let (id, datum) = avro_json::unframe(bytes).map_err(not_avro)?;
    let schema = registry
        .schema_by_id(id)
        .ok_or_else(|| not_avro(format!("schema {id} is not registered")))?;
    let json = avro_json::decode_json(datum, &schema).map_err(not_avro)?;
    serde_json::to_writer(&mut *out, &json).map_err(|e| not_avro(e.to_string()))
}
