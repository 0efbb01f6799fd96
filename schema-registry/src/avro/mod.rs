//! Avro schemas as the registry sees them: the parsed `apache_avro::Schema` plus its references
//! that encoding and decoding records need, the canonical string that is the dedupe key and the
//! fingerprint. [`AvroSchema::parse`] bounds the input's size and nesting, validates it
//! (`validate.rs`), then hands it to `apache_avro`.
//!
//! The input comes from HTTP, so nothing here may panic or recurse without bound. `apache_avro`'s
//! parser both recurses and `unwrap`s on some malformed names, so a schema reaches it only after
//! `Validator` has walked the JSON itself: nesting bounded, every name, type, field and default
//! checked, each failure reported with where it is (a JSON pointer such as `/fields/1/type`).
//!
//! Files: `validate.rs` (the checks the Avro specification requires, with their locations),
//! `normalize.rs` (the normalized form behind `?normalize=true`).

mod normalize;
mod validate;

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};

use apache_avro::Schema;
use apache_avro::schema::{Name, RecordSchema};
use apache_avro::types::Value as AvroValue;
use serde_json::Value;

use normalize::normalize;
pub(crate) use validate::kind_of;
use validate::{Loc, Validator, invalid};

/// Bounds on one schema's input, so a hostile request costs bounded time, memory and stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted schema text, in bytes.
    pub max_schema_bytes: usize,
    /// Deepest accepted JSON nesting (objects and arrays). A record nested in a record costs
    /// three levels (`{` record, `[` fields, `{` field), so 100 allows ~30 nested records. Kept
    /// under serde_json's own recursion limit (128) so our clearer message is the one users see.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_schema_bytes: 1024 * 1024,
            max_depth: 100,
        }
    }
}

/// Why a schema was rejected. `Display` is the message the API returns with 42201
/// ("Invalid schema ..."), so each variant says what is wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("schema is {size} bytes, more than the limit of {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("schema nests deeper than the limit of {max} levels")]
    TooDeep { max: usize },
    #[error("schema is not valid JSON: {0}")]
    Json(String),
    /// The JSON is well formed but is not a valid Avro schema. `location` is a JSON pointer into
    /// the schema ("" for the root).
    #[error("{reason}{}", at(location))]
    Invalid { location: String, reason: String },
    /// A referenced schema is not a named type, or (unexpected: it was registered) is invalid.
    #[error("referenced schema #{index}: {source}")]
    Reference {
        index: usize,
        #[source]
        source: Box<SchemaError>,
    },
    /// `apache_avro` refused a schema our own checks let through.
    #[error("{0}")]
    Avro(String),
}

fn at(location: &str) -> String {
    if location.is_empty() {
        String::new()
    } else {
        format!(" (at '{location}')")
    }
}

/// A parsed, validated Avro schema. Cheap to clone (one `Arc`).
#[derive(Debug, Clone)]
pub struct AvroSchema {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    canonical: String,
    schema: Schema,
    references: Vec<Schema>,
    /// Every named type (record, enum, fixed) defined by this schema or its references, by full
    /// name, so `Schema::Ref`s can be followed (compatibility checks, JSON conversion). Built on
    /// first use: replaying `_schemas` on start parses every schema but follows few references.
    named: OnceLock<HashMap<String, Schema>>,
}

impl AvroSchema {
    /// Parses and validates `raw`. `references`: the raw schema strings of referenced schemas
    /// (already resolved by the caller, dependencies first), so named types they define can be
    /// used by `raw`. Each reference must itself be a named type (record, enum or fixed). A
    /// reference whose text repeats an earlier one is skipped: two subjects can hold the same
    /// schema, and a diamond of references reaches it through both.
    pub fn parse(
        raw: &str,
        references: &[String],
        limits: &Limits,
    ) -> Result<AvroSchema, SchemaError> {
        let json = parse_json(raw, limits)?;
        let mut ref_jsons = Vec::with_capacity(references.len());
        let mut seen = HashSet::new();
        for (index, reference) in references.iter().enumerate() {
            if !seen.insert(reference.as_str()) {
                continue;
            }
            // References were accepted once already; only the size bound is relaxed (a schema
            // may reference several that are each near the limit).
            let unbounded_size = Limits {
                max_schema_bytes: usize::MAX,
                ..*limits
            };
            let value = parse_json(reference, &unbounded_size).map_err(|source| {
                SchemaError::Reference {
                    index,
                    source: Box::new(source),
                }
            })?;
            ref_jsons.push(value);
        }

        let mut validator = Validator::default();
        for (index, value) in ref_jsons.iter().enumerate() {
            let wrap = |source| SchemaError::Reference {
                index,
                source: Box::new(source),
            };
            match value.get("type").and_then(Value::as_str) {
                Some("record" | "error" | "enum" | "fixed") => {}
                _ => {
                    return Err(wrap(invalid(
                        &Loc::Root,
                        "a referenced schema must be a named type (record, enum or fixed)",
                    )));
                }
            }
            validator
                .schema(value, &None, &Loc::Root, 0)
                .map_err(wrap)?;
        }
        validator.schema(&json, &None, &Loc::Root, 0)?;
        validator.check_defaults()?;
        drop(validator);

        let (schema, parsed_refs) = parse_with_avro(json, ref_jsons)?;
        Ok(AvroSchema {
            inner: Arc::new(Inner {
                canonical: compact(raw),
                schema,
                references: parsed_refs,
                named: OnceLock::new(),
            }),
        })
    }

    /// Confluent's `canonicalString()`: the schema text with the whitespace outside strings
    /// removed; key order and content are kept. The dedupe key and the `"schema"` of responses.
    pub fn canonical(&self) -> &str {
        &self.inner.canonical
    }

    /// The normal form behind `?normalize=true`, so schemas that differ only in presentation
    /// dedupe to one id: names fully qualified (no `namespace` keys), type references by full
    /// name, `{"type":"int"}` written `"int"`, keys in a fixed order (custom attributes sorted),
    /// aliases sorted and fully qualified. `doc`, defaults and custom attributes are kept. It is
    /// itself a valid schema that parses to the same `apache_avro::Schema`.
    pub fn normalized(&self) -> String {
        // Parsed again rather than kept: the JSON tree is several times the text's size, and
        // only this (rarely used) form needs it. It parsed before, so it parses now.
        let json: Value = serde_json::from_str(&self.inner.canonical).unwrap_or_default();
        let mut out = String::with_capacity(self.inner.canonical.len());
        normalize(&json, &None, &mut out);
        out
    }

    /// SHA-256 of [`canonical`](Self::canonical): equal for exactly the schemas that share an id.
    pub fn fingerprint(&self) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(self.inner.canonical.as_bytes()).into()
    }

    /// The parsed schema. Named types it uses from its references (and repeated uses of its own
    /// named types) appear as `Schema::Ref`; resolve them with [`schemata`](Self::schemata).
    pub fn schema(&self) -> &Schema {
        &self.inner.schema
    }

    /// The parsed referenced schemas, in the order given to [`parse`](Self::parse) (repeats
    /// skipped).
    pub fn resolved_references(&self) -> &[Schema] {
        &self.inner.references
    }

    /// The references followed by the schema itself: what `apache_avro`'s `*_schemata`
    /// functions (`to_avro_datum_schemata`, `from_avro_datum_schemata`) need to resolve every
    /// `Schema::Ref`. [`encode`](Self::encode) and [`decode`](Self::decode) use it.
    pub fn schemata(&self) -> Vec<&Schema> {
        self.inner
            .references
            .iter()
            .chain(std::iter::once(&self.inner.schema))
            .collect()
    }

    /// A named type (record, enum, fixed) defined by this schema or its references.
    pub fn named_type(&self, name: &Name) -> Option<&Schema> {
        let named = self.inner.named.get_or_init(|| {
            let mut named = HashMap::new();
            for schema in self.schemata() {
                collect_named(schema, &mut named);
            }
            named
        });
        named.get(&name.fullname(None))
    }

    /// Encodes `value` as Avro binary (no framing), validating it against the schema first.
    pub fn encode(&self, value: AvroValue) -> Result<Vec<u8>, apache_avro::Error> {
        apache_avro::to_avro_datum_schemata(self.schema(), self.schemata(), value)
    }

    /// Decodes one Avro binary datum written with this schema; `bytes` is advanced past it.
    pub fn decode(&self, bytes: &mut &[u8]) -> Result<AvroValue, apache_avro::Error> {
        apache_avro::from_avro_datum_schemata(self.schema(), self.schemata(), bytes, None)
    }
}

/// Size bound, nesting bound (on the text, before any recursive parser sees it), then JSON.
fn parse_json(raw: &str, limits: &Limits) -> Result<Value, SchemaError> {
    if raw.len() > limits.max_schema_bytes {
        return Err(SchemaError::TooLarge {
            size: raw.len(),
            max: limits.max_schema_bytes,
        });
    }
    if json_depth_exceeds(raw, limits.max_depth) {
        return Err(SchemaError::TooDeep {
            max: limits.max_depth,
        });
    }
    serde_json::from_str(raw).map_err(|e| {
        // Reached only if `max_depth` was configured above serde_json's own limit.
        if e.to_string().contains("recursion limit") {
            SchemaError::TooDeep { max: 127 }
        } else {
            SchemaError::Json(e.to_string())
        }
    })
}

/// Whether the brackets of `raw` (outside strings) nest deeper than `max`. Linear and
/// allocation-free, so a 10,000-deep input is refused before any recursive parser runs.
fn json_depth_exceeds(raw: &str, max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for byte in raw.bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// `raw` without the JSON whitespace outside strings.
fn compact(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut in_string = false;
    let mut escaped = false;
    for ch in raw.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                in_string = false;
            }
            out.push(ch);
            continue;
        }
        match ch {
            ' ' | '\t' | '\n' | '\r' => {}
            '"' => {
                in_string = true;
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

/// Name of the record [`parse_with_avro`] wraps references in; not a name users would pick.
const WRAPPER_NAME: &str = "__runnel_references__";

/// Hands the validated schema to `apache_avro`. Its parser `unwrap`s in a few places our
/// validation should make unreachable; a panic there still must not take down a request
/// handler, so it is caught and reported as an invalid schema.
///
/// References are not given to `Schema::parse_str_with_list`: it parses them in hash order,
/// recursing into each not-yet-parsed dependency, so a chain of references costs stack in
/// proportion to its length (a chain of a few hundred registered schemas overflowed the stack).
/// Instead they become, dependencies first, the field types of one wrapper record, with the
/// schema itself last: `apache_avro` parses fields in order, every dependency is already known
/// when used, and recursion stays bounded by the nesting of one schema.
fn parse_with_avro(
    json: Value,
    references: Vec<Value>,
) -> Result<(Schema, Vec<Schema>), SchemaError> {
    let result = catch_unwind(AssertUnwindSafe(move || {
        if references.is_empty() {
            return Schema::parse(&json).map(|schema| Some((schema, Vec::new())));
        }
        let count = references.len();
        let fields: Vec<Value> = references
            .into_iter()
            .chain(std::iter::once(json))
            .enumerate()
            .map(|(i, schema)| serde_json::json!({"name": format!("f{i}"), "type": schema}))
            .collect();
        let wrapper = serde_json::json!({"type": "record", "name": WRAPPER_NAME, "fields": fields});
        let Schema::Record(wrapper) = Schema::parse(&wrapper)? else {
            return Ok(None);
        };
        let mut schemas: Vec<Schema> = wrapper.fields.into_iter().map(|f| f.schema).collect();
        match schemas.pop() {
            Some(schema) if schemas.len() == count => Ok(Some((schema, schemas))),
            _ => Ok(None),
        }
    }));
    match result {
        Ok(Ok(Some(parsed))) => Ok(parsed),
        Ok(Ok(None)) => Err(SchemaError::Avro(
            "the Avro parser returned an unexpected shape for this schema".to_owned(),
        )),
        Ok(Err(e)) => Err(SchemaError::Avro(e.to_string())),
        Err(_) => Err(SchemaError::Avro(
            "the Avro parser could not process this schema".to_owned(),
        )),
    }
}

/// Records every named type defined inline in `schema` (not following `Ref`s).
fn collect_named(schema: &Schema, named: &mut HashMap<String, Schema>) {
    match schema {
        Schema::Record(RecordSchema { name, fields, .. }) => {
            named.insert(name.fullname(None), schema.clone());
            for field in fields {
                collect_named(&field.schema, named);
            }
        }
        Schema::Enum(e) => {
            named.insert(e.name.fullname(None), schema.clone());
        }
        Schema::Fixed(f) => {
            named.insert(f.name.fullname(None), schema.clone());
        }
        Schema::Array(a) => collect_named(&a.items, named),
        Schema::Map(m) => collect_named(&m.types, named),
        Schema::Union(u) => {
            for variant in u.variants() {
                collect_named(variant, named);
            }
        }
        Schema::Decimal(d) => collect_named(&d.inner, named),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
