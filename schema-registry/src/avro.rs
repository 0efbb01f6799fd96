//! Avro schemas: parse and validate (skeleton).

use apache_avro::Schema;

/// Bounds on schema input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_schema_bytes: usize,
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_schema_bytes: 256 * 1024,
            max_depth: 64,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone)]
pub struct AvroSchema {
    canonical: String,
    schema: Schema,
    references: Vec<Schema>,
}

impl AvroSchema {
    pub fn parse(
        raw: &str,
        references: &[String],
        limits: &Limits,
    ) -> Result<AvroSchema, SchemaError> {
        if raw.len() > limits.max_schema_bytes {
            return Err(SchemaError::Invalid("schema too large".into()));
        }
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| SchemaError::Invalid(e.to_string()))?;
        let canonical = value.to_string();
        let mut all: Vec<&str> = references.iter().map(String::as_str).collect();
        all.push(raw);
        let mut parsed =
            Schema::parse_list(all).map_err(|e| SchemaError::Invalid(e.to_string()))?;
        let schema = parsed
            .pop()
            .ok_or_else(|| SchemaError::Invalid("empty".into()))?;
        Ok(AvroSchema {
            canonical,
            schema,
            references: parsed,
        })
    }
    pub fn canonical(&self) -> &str {
        &self.canonical
    }
    pub fn normalized(&self) -> String {
        self.schema.canonical_form()
    }
    pub fn fingerprint(&self) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(self.canonical.as_bytes()).into()
    }
    pub fn schema(&self) -> &Schema {
        &self.schema
    }
    pub fn resolved_references(&self) -> &[Schema] {
        &self.references
    }
}
