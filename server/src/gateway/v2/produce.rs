//! v2 produce, the body of `POST /topics/{t}` (`topics.rs`) and `POST /topics/{t}/partitions/{p}`
//! (`partitions.rs`): Confluent REST Proxy v2, embedded formats `json`, `binary` and `avro`
//! (see `avro.rs`), plus record `headers` as our extension.
//!
//! An adapter over the ingest pipeline (`ingest.rs`): it parses the body and each record's
//! embedded format, and renders the per-record outcomes. The whole request is checked before
//! anything is written, so a bad record never leaves part of a request in the log. A partition
//! whose append fails (a full disk, say) reports the error on each of its records, as
//! Confluent's proxy does, with HTTP 200.

use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use runnel_openapi::v2 as doc;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::broker::{Acks, NewRecord};
use crate::gateway::Limits;
use crate::gateway::avro;
use crate::gateway::errors::{Api, GatewayError, log_message, log_status};
use crate::gateway::extract::{
    Body, EmbeddedFormat, Object, lenient_int, parse_json, produce_format,
};
use crate::gateway::ingest::Ingest;
use crate::gateway::json_value;
use crate::gateway::state::AppState;
use crate::gateway::wire::{HeaderIn, at_record, decode_headers, readable_json};

/// A produce request body.
#[derive(Debug, Deserialize)]
pub struct ProduceRequest<'a> {
    #[serde(borrow)]
    records: Vec<Object<ProduceRecord<'a>>>,
    #[serde(default)]
    key_schema: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    key_schema_id: Option<i64>,
    #[serde(default)]
    value_schema: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    value_schema_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct ProduceRecord<'a> {
    /// Raw JSON text, borrowed from the request body: the json format stores it as it came,
    /// without building a tree, and the binary format decodes the base64 string in place.
    #[serde(borrow, default)]
    key: Option<&'a RawValue>,
    #[serde(borrow, default)]
    value: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "lenient_int")]
    partition: Option<i64>,
    #[serde(default)]
    headers: Vec<Object<HeaderIn>>,
}

/// The produce answer, `runnel_openapi::v2::ProduceResponse`, rendered by hand (below).
#[derive(Debug)]
pub struct ProduceAnswer(pub doc::ProduceResponse);

impl IntoResponse for ProduceAnswer {
    /// Written by hand: a batched produce answers hundreds of near-identical entries, and the
    /// generic serializer cost a tenth of the whole request. A test checks it against serde's.
    fn into_response(self) -> Response {
        let ProduceAnswer(answer) = self;
        let mut out = Vec::with_capacity(64 + answer.offsets.len() * 64);
        let mut num = itoa::Buffer::new();
        let opt = |out: &mut Vec<u8>, num: &mut itoa::Buffer, v: Option<i128>| match v {
            Some(v) => out.extend_from_slice(num.format(v).as_bytes()),
            None => out.extend_from_slice(b"null"),
        };
        out.extend_from_slice(b"{\"key_schema_id\":");
        opt(&mut out, &mut num, answer.key_schema_id.map(i128::from));
        out.extend_from_slice(b",\"value_schema_id\":");
        opt(&mut out, &mut num, answer.value_schema_id.map(i128::from));
        out.extend_from_slice(b",\"offsets\":[");
        for (i, o) in answer.offsets.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"partition\":");
            opt(&mut out, &mut num, o.partition.map(i128::from));
            out.extend_from_slice(b",\"offset\":");
            opt(&mut out, &mut num, o.offset.map(i128::from));
            out.extend_from_slice(b",\"error_code\":");
            opt(&mut out, &mut num, o.error_code.map(i128::from));
            out.extend_from_slice(b",\"error\":");
            match &o.error {
                Some(e) => out.extend_from_slice(
                    serde_json::to_string(e)
                        .unwrap_or_else(|_| "null".into())
                        .as_bytes(),
                ),
                None => out.extend_from_slice(b"null"),
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
        ([(CONTENT_TYPE, "application/json")], out).into_response()
    }
}

/// Decodes base64 into `arena`, returning the decoded bytes as a slice of it: one allocation
/// serves every record of a request instead of one per record.
fn decode_base64_into(arena: &mut BytesMut, s: &str, what: &str) -> Result<Bytes, GatewayError> {
    let start = arena.len();
    arena.resize(start + s.len().div_ceil(4) * 3, 0);
    let written = arena
        .get_mut(start..)
        .map(|dst| base64::engine::general_purpose::STANDARD.decode_slice(s, dst))
        .unwrap_or(Ok(0));
    match written {
        Ok(n) => {
            arena.truncate(start + n);
            Ok(arena.split().freeze())
        }
        Err(e) => {
            arena.truncate(start);
            Err(GatewayError::InvalidRecord(format!(
                "{what} is not valid base64: {e}"
            )))
        }
    }
}

/// A key or value as bytes: the JSON text itself for the json format (a slice of the body, no
/// copy), the decoded base64 string for binary.
fn payload(
    v: Option<&RawValue>,
    body: &Bytes,
    arena: &mut BytesMut,
    format: EmbeddedFormat,
    what: &str,
) -> Result<Option<Bytes>, GatewayError> {
    let Some(raw) = v else {
        return Ok(None);
    };
    let text = raw.get();
    if text == "null" {
        return Ok(None);
    }
    match format {
        EmbeddedFormat::Binary => {
            let s: std::borrow::Cow<'_, str> = serde_json::from_str(text).map_err(|_| {
                GatewayError::InvalidRecord(format!(
                    "{what} must be a base64 string in the binary format"
                ))
            })?;
            decode_base64_into(arena, &s, what).map(Some)
        }
        EmbeddedFormat::Json => {
            readable_json(text, what)?;
            Ok(Some(body.slice_ref(text.as_bytes())))
        }
        EmbeddedFormat::Avro | EmbeddedFormat::JsonSchema | EmbeddedFormat::Protobuf => {
            Ok(Some(body.slice_ref(text.as_bytes())))
        }
    }
}

/// Where a produce request goes.
pub(super) struct Target {
    pub(super) topic: String,
    /// The partition of the path, if any.
    pub(super) partition: Option<u32>,
}

/// The schemas of an avro produce, one per side.
#[derive(Default)]
struct Schemas {
    key: Option<avro::SideSchema>,
    value: Option<avro::SideSchema>,
}

impl Schemas {
    /// Encodes one side of a record in the avro format: 42201/42202 when the request has no
    /// schema for a non-null key/value.
    fn encode(
        side: Option<&avro::SideSchema>,
        raw: Option<&RawValue>,
        missing: u32,
        what: &str,
    ) -> Result<Option<Bytes>, GatewayError> {
        let Some(text) = raw.map(RawValue::get).filter(|t| *t != "null") else {
            return Ok(None);
        };
        let side = side.ok_or_else(|| {
            GatewayError::Schema(
                missing,
                format!("Request includes {what}s but does not include {what}_schema or {what}_schema_id."),
            )
        })?;
        avro::encode(text, side, what).map(Some)
    }
}

/// Parses a v2 produce body, hands its records to the ingest pipeline and renders the outcomes.
pub(super) async fn produce(
    state: AppState,
    limits: Limits,
    target: Target,
    acks: Acks,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<ProduceAnswer, GatewayError> {
    let Target {
        topic: topic_name,
        partition: path_partition,
    } = target;
    let format = produce_format(&headers)?;
    match format {
        EmbeddedFormat::Binary | EmbeddedFormat::Json | EmbeddedFormat::Avro => {}
        EmbeddedFormat::JsonSchema | EmbeddedFormat::Protobuf => {
            return Err(GatewayError::UnsupportedMediaType(format!(
                "The {} embedded format is not served yet; use avro, json or binary.",
                format.name()
            )));
        }
    }
    let request: ProduceRequest = parse_json(&body, Api::V2)?;
    if format != EmbeddedFormat::Avro
        && (request.key_schema.is_some()
            || request.key_schema_id.is_some()
            || request.value_schema.is_some()
            || request.value_schema_id.is_some())
    {
        return Err(GatewayError::InvalidRecord(
            "Schemas are only allowed with the avro, jsonschema and protobuf formats.".into(),
        ));
    }
    if request.records.is_empty() {
        return Err(GatewayError::EmptyBody(Api::V2));
    }
    Ingest::check_count(request.records.len(), limits.max_records_per_request)?;
    let mut ingest = Ingest::to_topic(&state.broker, &topic_name, Api::V2)?;
    // Schemas are registered (or looked up) once the topic is known to exist.
    let registry = &state.registry;
    let schemas = match format {
        EmbeddedFormat::Avro => Schemas {
            key: avro::v2_side(
                registry,
                &format!("{topic_name}-key"),
                request.key_schema.as_deref(),
                request.key_schema_id,
            )
            .await?,
            value: avro::v2_side(
                registry,
                &format!("{topic_name}-value"),
                request.value_schema.as_deref(),
                request.value_schema_id,
            )
            .await?,
        },
        _ => Schemas::default(),
    };

    // Convert and check every record before writing any.
    let mut arena = BytesMut::with_capacity(body.len());
    for (i, Object(r)) in request.records.into_iter().enumerate() {
        let (key, value) = if format == EmbeddedFormat::Avro {
            let key = Schemas::encode(schemas.key.as_ref(), r.key, avro::KEY_SCHEMA_MISSING, "key");
            let value = Schemas::encode(
                schemas.value.as_ref(),
                r.value,
                avro::VALUE_SCHEMA_MISSING,
                "value",
            );
            (
                key.map_err(|e| at_record(i, e))?,
                value.map_err(|e| at_record(i, e))?,
            )
        } else {
            let key =
                payload(r.key, &body, &mut arena, format, "key").map_err(|e| at_record(i, e))?;
            // Keys choose partitions by their bytes: store them in compact form, as a JSON
            // serializer would write them, so the same key always lands on the same partition.
            let key = match (format, key) {
                (EmbeddedFormat::Json, Some(k)) => Some(json_value::compact(&k)),
                (_, k) => k,
            };
            let value = payload(r.value, &body, &mut arena, format, "value")
                .map_err(|e| at_record(i, e))?;
            (key, value)
        };
        let headers = decode_headers(r.headers.into_iter().map(|Object(h)| h).collect())?;
        let record = NewRecord {
            timestamp: None,
            key,
            value,
            headers,
        };
        ingest.add(i, r.partition.or(path_partition.map(i64::from)), record)?;
    }

    let outcomes = ingest.submit(acks).await.outcomes().await;
    Ok(ProduceAnswer(doc::ProduceResponse {
        key_schema_id: schemas.key.map(|s| i64::from(s.id)),
        value_schema_id: schemas.value.map(|s| i64::from(s.id)),
        offsets: outcomes
            .into_iter()
            .map(|(partition, r)| match r {
                Ok(offset) => doc::OffsetOut {
                    partition: Some(partition),
                    offset,
                    error_code: None,
                    error: None,
                },
                Err(e) => doc::OffsetOut {
                    partition: None,
                    offset: None,
                    error_code: Some(log_status(&e).1),
                    error: Some(log_message(&e)),
                },
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse as _;
    use runnel_openapi::v2 as doc;

    use super::ProduceAnswer;

    /// The hand-written rendering is exactly what the documented type serializes to.
    #[tokio::test]
    async fn the_answer_renders_as_its_documented_type() {
        let answer = doc::ProduceResponse {
            key_schema_id: Some(3),
            value_schema_id: None,
            offsets: vec![
                doc::OffsetOut {
                    partition: Some(1),
                    offset: Some(u64::MAX),
                    error_code: None,
                    error: None,
                },
                doc::OffsetOut {
                    partition: None,
                    offset: None,
                    error_code: Some(50003),
                    error: Some("disk \"full\"\n".to_owned()),
                },
            ],
        };
        let response = ProduceAnswer(answer.clone()).into_response();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed, serde_json::to_value(&answer).unwrap());
    }
}
