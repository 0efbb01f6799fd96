//! Records as the stateless read answers them: Confluent's v2 consumer record plus Runnel's
//! `timestamp` and `headers` (CONTRACTS.md §0), in the embedded format `Accept` asked for.

use serde::Serialize;
use utoipa::ToSchema;

/// A record header: a name and a base64 value (null for a header without a value).
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
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
