//! Confluent REST Proxy v2 bodies: the records the stateless read and consumer instances answer
//! (Confluent's v2 consumer record plus Runnel's `timestamp` and `headers`, CONTRACTS.md §0, in
//! the embedded format `Accept` asked for), the produce requests, and the produce answer. The
//! gateway renders the records and the produce answer by hand for speed, field for field as
//! these types describe them; the CLI deserializes them with these types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A record header: a name and a base64 value (null for a header without a value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordHeader {
    pub key: String,
    #[schema(format = Byte)]
    pub value: Option<String>,
}

/// A record in the `binary` embedded format: key and value are base64.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BinaryRecord {
    pub topic: String,
    #[schema(format = Byte)]
    pub key: Option<String>,
    #[schema(format = Byte)]
    pub value: Option<String>,
    pub partition: u32,
    pub offset: u64,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub headers: Vec<RecordHeader>,
}

/// A record in the `json` embedded format: key and value are the JSON they were produced as.
/// (Read as this type, a `binary` record has base64 strings for key and value.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JsonRecord {
    pub topic: String,
    pub key: serde_json::Value,
    pub value: serde_json::Value,
    pub partition: u32,
    pub offset: u64,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub headers: Vec<RecordHeader>,
}

/// A record header as produced: `value` is base64, or null for none. v3's `name` is accepted
/// for `key`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProduceHeader {
    pub key: String,
    #[schema(format = Byte)]
    pub value: Option<String>,
}

/// A record to produce in the `json` embedded format.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JsonProduceRecord {
    /// Any JSON; records with the same key go to the same partition.
    pub key: Option<serde_json::Value>,
    /// Any JSON.
    pub value: Option<serde_json::Value>,
    /// The partition; overrides the path's and the key's choice.
    pub partition: Option<u32>,
    pub headers: Option<Vec<ProduceHeader>>,
}

/// A record to produce in the `binary` embedded format.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BinaryProduceRecord {
    /// Base64; records with the same key go to the same partition.
    #[schema(format = Byte)]
    pub key: Option<String>,
    /// Base64.
    #[schema(format = Byte)]
    pub value: Option<String>,
    /// The partition; overrides the path's and the key's choice.
    pub partition: Option<u32>,
    pub headers: Option<Vec<ProduceHeader>>,
}

/// A v2 produce request in the `json` embedded format. Schema fields belong to the `avro`
/// format: with `json` they are refused (422).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JsonProduceRequest {
    #[schema(min_items = 1)]
    pub records: Vec<JsonProduceRecord>,
}

/// A v2 produce request in the `avro` embedded format: keys and values in Avro's JSON
/// encoding (a union is `null` or `{"<branch>": value}`). A schema given as text is
/// registered under `<topic>-key` / `<topic>-value` (its compatibility level applies); one
/// given by id must exist. Records are stored in Confluent's framing (magic byte 0, schema id,
/// Avro binary).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AvroProduceRequest {
    /// The key schema, as Avro schema JSON text.
    pub key_schema: Option<String>,
    /// The id of a registered key schema.
    pub key_schema_id: Option<i32>,
    /// The value schema, as Avro schema JSON text.
    pub value_schema: Option<String>,
    /// The id of a registered value schema.
    pub value_schema_id: Option<i32>,
    #[schema(min_items = 1)]
    pub records: Vec<JsonProduceRecord>,
}

/// A v2 produce request in the `binary` embedded format.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BinaryProduceRequest {
    #[schema(min_items = 1)]
    pub records: Vec<BinaryProduceRecord>,
}

/// One record's outcome in a v2 produce answer: its partition and offset, or (when its
/// partition's append failed) an error code and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OffsetOut {
    pub partition: Option<u32>,
    /// Null with `acks=0`, or on failure.
    pub offset: Option<u64>,
    /// 50002 or 50003 (retriable) on failure, else null.
    pub error_code: Option<u32>,
    pub error: Option<String>,
}

/// The v2 produce answer: one outcome per record, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProduceResponse {
    /// The key schema's id (avro format), else null.
    pub key_schema_id: Option<i64>,
    /// The value schema's id (avro format), else null.
    pub value_schema_id: Option<i64>,
    pub offsets: Vec<OffsetOut>,
}
