//! Pieces of the produce wire formats that v2, v3 and WebSocket produce share: record headers
//! as sent (`{"key"|"name", "value": base64|null}`), base64 keys and values, the check that a
//! JSON key or value can be read back, the record index in validation errors, and the `acks`
//! query parameter.
//!
//! Not owned here: each API's body shape (`v2/produce.rs`, `v3/records.rs`, `ws/produce.rs`)
//! and what happens to the records after parsing (`ingest.rs`).

use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;
use utoipa::IntoParams;

use super::errors::GatewayError;
use super::json_value;
use crate::broker::{Acks, Header};

/// A record header as sent: `{"key": "...", "value": base64|null}`; v3's `name` is accepted too.
#[derive(Debug, Deserialize)]
pub struct HeaderIn {
    #[serde(alias = "name")]
    key: String,
    #[serde(default)]
    value: Option<String>,
}

/// Decodes a base64 key, value or header value; `what` names it in the error.
///
/// # Errors
/// 422 for invalid base64.
pub(crate) fn decode_base64(s: &str, what: &str) -> Result<Bytes, GatewayError> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map(Bytes::from)
        .map_err(|e| GatewayError::InvalidRecord(format!("{what} is not valid base64: {e}")))
}

/// Decodes headers given as `{key, value: base64|null}`.
///
/// # Errors
/// 422 for invalid base64.
pub(crate) fn decode_headers(headers: Vec<HeaderIn>) -> Result<Vec<Header>, GatewayError> {
    headers
        .into_iter()
        .map(|h| {
            let value = match h.value {
                Some(v) => Some(decode_base64(&v, &format!("header '{}' value", h.key))?),
                None => None,
            };
            Ok(Header { key: h.key, value })
        })
        .collect()
}

/// Refuses a JSON key or value that readers could not parse back (see `json_value.rs`): stored,
/// it would fail every response that carries it.
///
/// # Errors
/// 42203, naming the key or value.
pub(crate) fn readable_json(text: &str, what: &str) -> Result<(), GatewayError> {
    json_value::check(text).map_err(|e| GatewayError::InvalidRecord(format!("{what} {e}.")))
}

/// Names the failing record in a validation error.
pub(crate) fn at_record(i: usize, e: GatewayError) -> GatewayError {
    match e {
        GatewayError::InvalidRecord(m) => GatewayError::InvalidRecord(format!("records[{i}].{m}")),
        other => other,
    }
}

/// The `acks` query parameter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AcksParam {
    /// When to answer: `0` once queued, `1` or `all` (the default) once in the log.
    #[param(inline, value_type = Option<Acks>)]
    acks: Option<String>,
}

impl AcksParam {
    /// # Errors
    /// 400 for anything but `0`, `1`, `all` or `-1`.
    pub fn parse(&self) -> Result<Acks, GatewayError> {
        match self.acks.as_deref() {
            None => Ok(Acks::All),
            Some(s) => Acks::parse(s).ok_or_else(|| {
                GatewayError::BadRequest(format!(
                    "Query parameter 'acks' must be 0, 1 or all, got '{s}'."
                ))
            }),
        }
    }
}
