//! Avro schemas as the registry sees them: parse and validate (size and nesting bounds, names,
//! types, defaults, references), the canonical string that is the dedupe key, the normalized form
//! behind `?normalize=true`, the fingerprint, and the parsed `apache_avro::Schema` plus its
//! references that encoding and decoding records need.
//!
//! The input comes from HTTP, so nothing here may panic or recurse without bound. `apache_avro`'s
//! parser both recurses and `unwrap`s on some malformed names, so a schema reaches it only after
//! `Validator` has walked the JSON itself: nesting bounded, every name, type, field and default
//! checked, each failure reported with where it is (a JSON pointer such as `/fields/1/type`).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};

use apache_avro::Schema;
use apache_avro::schema::{Name, RecordSchema};
use apache_avro::types::Value as AvroValue;
use serde_json::{Map, Value};

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

fn invalid(location: &Loc<'_>, reason: impl Into<String>) -> SchemaError {
    SchemaError::Invalid {
        location: location.to_string(),
        reason: reason.into(),
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

const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

/// A default to check once every name is known (a default may use a type defined later in a
/// sibling, or the record it sits in).
#[derive(Debug)]
struct PendingDefault<'a> {
    schema: &'a Value,
    namespace: Option<String>,
    default: &'a Value,
    location: String,
    field: String,
}

/// Walks schema JSON checking what the Avro specification requires, with messages that say
/// where. Recursion depth is bounded by the JSON depth, itself bounded by [`Limits`].
#[derive(Debug, Default)]
struct Validator<'a> {
    /// Named types defined so far, by full name, with their definitions (for defaults).
    names: HashMap<String, &'a Map<String, Value>>,
    defaults: Vec<PendingDefault<'a>>,
}

fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_valid_full_name(name: &str) -> bool {
    name.split('.').all(is_valid_name)
}

/// The full name `name` resolves to inside `namespace` (Avro: a dotted name is already full).
fn full_name(name: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) if !name.contains('.') && !ns.is_empty() => format!("{ns}.{name}"),
        _ => name.to_owned(),
    }
}

/// The namespace of a full name, `None` for the null namespace.
fn namespace_of(full: &str) -> Option<&str> {
    full.rfind('.').map(|i| &full[..i])
}

/// Where the validator is in the schema JSON: a JSON pointer rendered only for an error
/// message, so walking a valid schema allocates nothing for it.
#[derive(Debug, Clone, Copy)]
enum Loc<'p> {
    Root,
    Key(&'p Loc<'p>, &'static str),
    Index(&'p Loc<'p>, usize),
}

impl<'p> Loc<'p> {
    fn key(&'p self, key: &'static str) -> Loc<'p> {
        Loc::Key(self, key)
    }

    fn index(&'p self, index: usize) -> Loc<'p> {
        Loc::Index(self, index)
    }
}

impl std::fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Depth is bounded by the JSON nesting limit.
        match self {
            Loc::Root => Ok(()),
            Loc::Key(parent, key) => write!(f, "{parent}/{key}"),
            Loc::Index(parent, index) => write!(f, "{parent}/{index}"),
        }
    }
}

pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> Validator<'a> {
    fn schema(
        &mut self,
        value: &'a Value,
        namespace: &Option<String>,
        location: &Loc<'_>,
        depth: usize,
    ) -> Result<(), SchemaError> {
        match value {
            Value::String(name) => self.type_name(name, namespace, location),
            Value::Array(branches) => self.union(branches, namespace, location, depth),
            Value::Object(map) => self.complex(map, namespace, location, depth),
            other => Err(invalid(
                location,
                format!(
                    "a schema must be a type name, an object or a union array, not {}",
                    kind_of(other)
                ),
            )),
        }
    }

    fn type_name(
        &self,
        name: &str,
        namespace: &Option<String>,
        location: &Loc<'_>,
    ) -> Result<(), SchemaError> {
        if PRIMITIVES.contains(&name) {
            return Ok(());
        }
        match name {
            "record" | "error" | "enum" | "fixed" | "array" | "map" => {
                return Err(invalid(
                    location,
                    format!("type '{name}' must be written as an object with its attributes"),
                ));
            }
            _ => {}
        }
        if !is_valid_full_name(name) {
            return Err(invalid(
                location,
                format!("'{name}' is not a valid type name"),
            ));
        }
        let full = full_name(name, namespace.as_deref());
        if self.names.contains_key(&full) {
            Ok(())
        } else {
            Err(invalid(
                location,
                format!("unknown type '{full}' (not a primitive type and not defined before use)"),
            ))
        }
    }

    fn union(
        &mut self,
        branches: &'a [Value],
        namespace: &Option<String>,
        location: &Loc<'_>,
        depth: usize,
    ) -> Result<(), SchemaError> {
        let mut seen = HashSet::new();
        for (i, branch) in branches.iter().enumerate() {
            let here = location.index(i);
            if branch.is_array() {
                return Err(invalid(
                    &here,
                    "a union may not directly contain another union",
                ));
            }
            self.schema(branch, namespace, &here, depth + 1)?;
            let key = self.union_key(branch, namespace);
            if !seen.insert(key.clone()) {
                return Err(invalid(
                    &here,
                    format!("the union contains type '{key}' more than once"),
                ));
            }
        }
        Ok(())
    }

    /// What makes union branches distinct: the type for unnamed types, the full name for named.
    fn union_key(&self, branch: &Value, namespace: &Option<String>) -> String {
        let (type_name, map) = match branch {
            Value::String(s) => (s.as_str(), None),
            Value::Object(m) => (m.get("type").and_then(Value::as_str).unwrap_or(""), Some(m)),
            _ => ("", None),
        };
        match (type_name, map) {
            ("record" | "error" | "enum" | "fixed", Some(m)) => {
                let name = m.get("name").and_then(Value::as_str).unwrap_or("");
                let ns = match m.get("namespace").and_then(Value::as_str) {
                    Some(ns) => Some(ns.to_owned()),
                    None => namespace.clone(),
                };
                full_name(name, ns.as_deref())
            }
            (t, _) if PRIMITIVES.contains(&t) || t == "array" || t == "map" => t.to_owned(),
            (t, _) => full_name(t, namespace.as_deref()),
        }
    }

    fn complex(
        &mut self,
        map: &'a Map<String, Value>,
        namespace: &Option<String>,
        location: &Loc<'_>,
        depth: usize,
    ) -> Result<(), SchemaError> {
        let type_name = match map.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(other) => {
                return Err(invalid(
                    location,
                    format!(
                        "'type' must be a string naming the type, not {}",
                        kind_of(other)
                    ),
                ));
            }
            None => return Err(invalid(location, "the schema object has no 'type'")),
        };
        match type_name {
            "record" => self.record(map, namespace, location, depth),
            // Avro protocol error types; `apache_avro` (and so our encoder) has no support.
            "error" => Err(invalid(
                location,
                "type 'error' (an Avro protocol error) is not supported, use 'record'",
            )),
            "enum" => self.enumeration(map, namespace, location),
            "fixed" => self.fixed(map, namespace, location),
            "array" => match map.get("items") {
                Some(items) => self.schema(items, namespace, &location.key("items"), depth + 1),
                None => Err(invalid(location, "array schema has no 'items'")),
            },
            "map" => match map.get("values") {
                Some(values) => self.schema(values, namespace, &location.key("values"), depth + 1),
                None => Err(invalid(location, "map schema has no 'values'")),
            },
            other => self.type_name(other, namespace, location),
        }
    }

    /// Checks the name, namespace and aliases of a named type and registers it; returns its full
    /// name.
    fn define(
        &mut self,
        map: &'a Map<String, Value>,
        namespace: &Option<String>,
        location: &Loc<'_>,
        what: &str,
    ) -> Result<String, SchemaError> {
        let name = match map.get("name") {
            Some(Value::String(name)) => name.as_str(),
            Some(other) => {
                return Err(invalid(
                    location,
                    format!(
                        "the {what}'s 'name' must be a string, not {}",
                        kind_of(other)
                    ),
                ));
            }
            None => return Err(invalid(location, format!("the {what} has no 'name'"))),
        };
        if !is_valid_full_name(name) {
            return Err(invalid(
                location,
                format!(
                    "'{name}' is not a valid {what} name (letters, digits and '_', not starting \
                     with a digit, dot-separated)"
                ),
            ));
        }
        let own_namespace = match map.get("namespace") {
            None | Some(Value::Null) => namespace.clone(),
            Some(Value::String(ns)) if ns.is_empty() => None,
            Some(Value::String(ns)) => {
                if !is_valid_full_name(ns) {
                    return Err(invalid(
                        location,
                        format!("'{ns}' is not a valid namespace"),
                    ));
                }
                Some(ns.clone())
            }
            Some(other) => {
                return Err(invalid(
                    location,
                    format!("'namespace' must be a string, not {}", kind_of(other)),
                ));
            }
        };
        let full = full_name(name, own_namespace.as_deref());
        if PRIMITIVES.contains(&full.as_str()) {
            return Err(invalid(
                location,
                format!("'{full}' is a primitive type and cannot be redefined"),
            ));
        }
        self.aliases(map, location, what)?;
        if self.names.contains_key(&full) {
            return Err(invalid(
                location,
                format!("type '{full}' is defined more than once"),
            ));
        }
        // Registered before the body is checked, so a record may refer to itself.
        self.names.insert(full.clone(), map);
        Ok(full)
    }

    fn aliases(
        &self,
        map: &Map<String, Value>,
        location: &Loc<'_>,
        what: &str,
    ) -> Result<(), SchemaError> {
        match map.get("aliases") {
            None => Ok(()),
            Some(Value::Array(aliases)) => {
                for alias in aliases {
                    match alias {
                        Value::String(a) if is_valid_full_name(a) => {}
                        other => {
                            return Err(invalid(
                                location,
                                format!("the {what}'s alias {other} is not a valid name"),
                            ));
                        }
                    }
                }
                Ok(())
            }
            Some(other) => Err(invalid(
                location,
                format!(
                    "'aliases' must be an array of names, not {}",
                    kind_of(other)
                ),
            )),
        }
    }

    fn record(
        &mut self,
        map: &'a Map<String, Value>,
        namespace: &Option<String>,
        location: &Loc<'_>,
        depth: usize,
    ) -> Result<(), SchemaError> {
        let full = self.define(map, namespace, location, "record")?;
        let record_namespace = namespace_of(&full).map(str::to_owned);
        let fields = match map.get("fields") {
            Some(Value::Array(fields)) => fields,
            Some(other) => {
                return Err(invalid(
                    location,
                    format!(
                        "record '{full}': 'fields' must be an array, not {}",
                        kind_of(other)
                    ),
                ));
            }
            None => {
                return Err(invalid(
                    location,
                    format!("record '{full}' has no 'fields'"),
                ));
            }
        };
        let mut seen = HashSet::new();
        for (i, field) in fields.iter().enumerate() {
            let fields_location = location.key("fields");
            let here = fields_location.index(i);
            let Value::Object(field) = field else {
                return Err(invalid(
                    &here,
                    format!("record '{full}': each field must be an object"),
                ));
            };
            let name = match field.get("name") {
                Some(Value::String(name)) => name.as_str(),
                _ => {
                    return Err(invalid(
                        &here,
                        format!("record '{full}': field {i} has no string 'name'"),
                    ));
                }
            };
            if !is_valid_name(name) {
                return Err(invalid(
                    &here,
                    format!("record '{full}': '{name}' is not a valid field name"),
                ));
            }
            if !seen.insert(name) {
                return Err(invalid(
                    &here,
                    format!("record '{full}' has more than one field named '{name}'"),
                ));
            }
            if let Some(aliases) = field.get("aliases") {
                let ok = aliases
                    .as_array()
                    .is_some_and(|a| a.iter().all(|a| a.as_str().is_some_and(is_valid_name)));
                if !ok {
                    return Err(invalid(
                        &here,
                        format!("field '{name}': 'aliases' must be an array of field names"),
                    ));
                }
            }
            if let Some(order) = field.get("order")
                && !matches!(order.as_str(), Some("ascending" | "descending" | "ignore"))
            {
                return Err(invalid(
                    &here,
                    format!("field '{name}': 'order' must be ascending, descending or ignore"),
                ));
            }
            let Some(field_type) = field.get("type") else {
                return Err(invalid(&here, format!("field '{name}' has no 'type'")));
            };
            self.schema(field_type, &record_namespace, &here.key("type"), depth + 1)?;
            if let Some(default) = field.get("default") {
                self.defaults.push(PendingDefault {
                    schema: field_type,
                    namespace: record_namespace.clone(),
                    default,
                    location: here.key("default").to_string(),
                    field: name.to_owned(),
                });
            }
        }
        Ok(())
    }

    fn enumeration(
        &mut self,
        map: &'a Map<String, Value>,
        namespace: &Option<String>,
        location: &Loc<'_>,
    ) -> Result<(), SchemaError> {
        let full = self.define(map, namespace, location, "enum")?;
        let Some(Value::Array(symbols)) = map.get("symbols") else {
            return Err(invalid(
                location,
                format!("enum '{full}' has no 'symbols' array"),
            ));
        };
        let mut seen = HashSet::new();
        for symbol in symbols {
            let Some(symbol) = symbol.as_str().filter(|s| is_valid_name(s)) else {
                return Err(invalid(
                    location,
                    format!("enum '{full}': symbol {symbol} is not a valid name"),
                ));
            };
            if !seen.insert(symbol) {
                return Err(invalid(
                    location,
                    format!("enum '{full}' has the symbol '{symbol}' more than once"),
                ));
            }
        }
        match map.get("default") {
            None => Ok(()),
            Some(Value::String(d)) if seen.contains(d.as_str()) => Ok(()),
            Some(other) => Err(invalid(
                location,
                format!("enum '{full}': default {other} is not one of its symbols"),
            )),
        }
    }

    fn fixed(
        &mut self,
        map: &'a Map<String, Value>,
        namespace: &Option<String>,
        location: &Loc<'_>,
    ) -> Result<(), SchemaError> {
        let full = self.define(map, namespace, location, "fixed")?;
        match map.get("size") {
            Some(size) if size.as_u64().is_some_and(|s| s <= i32::MAX as u64) => Ok(()),
            Some(other) => Err(invalid(
                location,
                format!("fixed '{full}': 'size' must be a non-negative integer, not {other}"),
            )),
            None => Err(invalid(location, format!("fixed '{full}' has no 'size'"))),
        }
    }

    fn check_defaults(&self) -> Result<(), SchemaError> {
        for pending in &self.defaults {
            if let Err(why) = self.default_matches(
                pending.schema,
                pending.namespace.as_deref(),
                pending.default,
                0,
            ) {
                return Err(SchemaError::Invalid {
                    location: pending.location.clone(),
                    reason: format!(
                        "the default value {} of field '{}' does not match its type: {why}",
                        truncate(&pending.default.to_string()),
                        pending.field
                    ),
                });
            }
        }
        Ok(())
    }

    /// Whether `default` is a valid JSON-encoded default for `schema` (Avro specification:
    /// a union's default is for its first branch; bytes and fixed are strings).
    fn default_matches(
        &self,
        schema: &Value,
        namespace: Option<&str>,
        default: &Value,
        depth: usize,
    ) -> Result<(), String> {
        // Every step into a record, array or map consumes a level of `default`, which is
        // bounded JSON; this guard only protects against a bug in that reasoning.
        if depth > 256 {
            return Err("the default nests too deeply".to_owned());
        }
        match schema {
            Value::Array(branches) => match branches.first() {
                Some(first) => self
                    .default_matches(first, namespace, default, depth + 1)
                    .map_err(|why| format!("{why} (a union's default must match its first type)")),
                None => Err("an empty union has no valid default".to_owned()),
            },
            Value::String(name) => self.named_default(name, None, namespace, default, depth),
            Value::Object(map) => {
                let type_name = map.get("type").and_then(Value::as_str).unwrap_or("");
                self.named_default(type_name, Some(map), namespace, default, depth)
            }
            _ => Err("invalid schema".to_owned()),
        }
    }

    fn named_default(
        &self,
        type_name: &str,
        map: Option<&Map<String, Value>>,
        namespace: Option<&str>,
        default: &Value,
        depth: usize,
    ) -> Result<(), String> {
        let expected = |what: &str| format!("expected {what}, found {}", kind_of(default));
        match type_name {
            "null" => default
                .is_null()
                .then_some(())
                .ok_or_else(|| expected("null")),
            "boolean" => default
                .is_boolean()
                .then_some(())
                .ok_or_else(|| expected("a boolean")),
            "int" => match default.as_i64() {
                Some(n) if i32::try_from(n).is_ok() => Ok(()),
                _ => Err(format!("expected an int (32-bit integer), found {default}")),
            },
            "long" => match default.as_i64() {
                Some(_) => Ok(()),
                None => Err(format!("expected a long (64-bit integer), found {default}")),
            },
            "float" | "double" => default
                .is_number()
                .then_some(())
                .ok_or_else(|| expected("a number")),
            "bytes" | "string" => default
                .is_string()
                .then_some(())
                .ok_or_else(|| expected("a string")),
            "array" => {
                let Value::Array(items) = default else {
                    return Err(expected("an array"));
                };
                let item_schema = map
                    .and_then(|m| m.get("items"))
                    .ok_or("array without items")?;
                for item in items {
                    self.default_matches(item_schema, namespace, item, depth + 1)?;
                }
                Ok(())
            }
            "map" => {
                let Value::Object(entries) = default else {
                    return Err(expected("an object"));
                };
                let value_schema = map
                    .and_then(|m| m.get("values"))
                    .ok_or("map without values")?;
                for value in entries.values() {
                    self.default_matches(value_schema, namespace, value, depth + 1)?;
                }
                Ok(())
            }
            "record" | "error" | "enum" | "fixed" => {
                // An inline definition: find it by its full name, as any reference would.
                let def = map.ok_or("named type without definition")?;
                let name = def.get("name").and_then(Value::as_str).unwrap_or("");
                let ns = match def.get("namespace").and_then(Value::as_str) {
                    Some(ns) => Some(ns),
                    None => namespace,
                };
                self.definition_default(&full_name(name, ns), default, depth)
            }
            other => self.definition_default(&full_name(other, namespace), default, depth),
        }
    }

    fn definition_default(&self, full: &str, default: &Value, depth: usize) -> Result<(), String> {
        let Some(&def) = self.names.get(full) else {
            return Err(format!("unknown type '{full}'"));
        };
        let own_namespace = namespace_of(full);
        match def.get("type").and_then(Value::as_str) {
            Some("enum") => {
                let symbol = default.as_str().ok_or_else(|| {
                    format!(
                        "expected a symbol of enum '{full}', found {}",
                        kind_of(default)
                    )
                })?;
                let known = def
                    .get("symbols")
                    .and_then(Value::as_array)
                    .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(symbol)));
                if known {
                    Ok(())
                } else {
                    Err(format!("'{symbol}' is not a symbol of enum '{full}'"))
                }
            }
            Some("fixed") => {
                let text = default.as_str().ok_or_else(|| {
                    format!(
                        "expected a string for fixed '{full}', found {}",
                        kind_of(default)
                    )
                })?;
                let size = def.get("size").and_then(Value::as_u64).unwrap_or(0);
                // Avro's JSON encoding of bytes/fixed: one code point per byte.
                let len = text.chars().count() as u64;
                if len == size {
                    Ok(())
                } else {
                    Err(format!(
                        "fixed '{full}' is {size} bytes, the default string has {len}"
                    ))
                }
            }
            Some("record" | "error") => {
                let Value::Object(values) = default else {
                    return Err(format!(
                        "expected an object for record '{full}', found {}",
                        kind_of(default)
                    ));
                };
                let fields = def.get("fields").and_then(Value::as_array);
                for field in fields.into_iter().flatten() {
                    let name = field.get("name").and_then(Value::as_str).unwrap_or("");
                    let field_type = field.get("type").unwrap_or(&Value::Null);
                    match values.get(name) {
                        Some(value) => self
                            .default_matches(field_type, own_namespace, value, depth + 1)
                            .map_err(|why| format!("field '{name}' of record '{full}': {why}"))?,
                        None if field.get("default").is_some() => {}
                        None => {
                            return Err(format!(
                                "field '{name}' of record '{full}' is missing and has no default"
                            ));
                        }
                    }
                }
                Ok(())
            }
            _ => Err(format!("'{full}' is not a type")),
        }
    }
}

fn truncate(text: &str) -> String {
    const MAX: usize = 80;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

// ---- normalized form ----------------------------------------------------------------------

/// Writes `value` (a validated schema) in normal form; see [`AvroSchema::normalized`].
fn normalize(value: &Value, namespace: &Option<String>, out: &mut String) {
    match value {
        Value::String(name) => write_string(&normal_type_name(name, namespace), out),
        Value::Array(branches) => {
            out.push('[');
            for (i, branch) in branches.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                normalize(branch, namespace, out);
            }
            out.push(']');
        }
        Value::Object(map) => normalize_object(map, namespace, out),
        other => write_sorted_json(other, out),
    }
}

fn normal_type_name(name: &str, namespace: &Option<String>) -> String {
    if PRIMITIVES.contains(&name)
        || matches!(
            name,
            "record" | "error" | "enum" | "fixed" | "array" | "map"
        )
    {
        name.to_owned()
    } else {
        full_name(name, namespace.as_deref())
    }
}

fn normalize_object(map: &Map<String, Value>, namespace: &Option<String>, out: &mut String) {
    let type_name = map.get("type").and_then(Value::as_str).unwrap_or("");
    // `{"type":"int"}` is `"int"`.
    if map.len() == 1
        && !matches!(type_name, "record" | "error" | "enum" | "fixed")
        && let Some(t) = map.get("type")
    {
        normalize(t, namespace, out);
        return;
    }
    let named = matches!(type_name, "record" | "error" | "enum" | "fixed");
    let (full, inner_namespace) = if named {
        let name = map.get("name").and_then(Value::as_str).unwrap_or("");
        let ns = match map.get("namespace") {
            Some(Value::String(ns)) if ns.is_empty() => None,
            Some(Value::String(ns)) => Some(ns.clone()),
            _ => namespace.clone(),
        };
        let full = full_name(name, ns.as_deref());
        let inner = namespace_of(&full).map(str::to_owned);
        (Some(full), inner)
    } else {
        (None, namespace.clone())
    };

    let mut entries: Vec<(String, String)> = Vec::new();
    for (key, value) in map {
        let mut rendered = String::new();
        match key.as_str() {
            "namespace" if named => continue,
            "name" if named => write_string(full.as_deref().unwrap_or(""), &mut rendered),
            "type" => match value {
                Value::String(t) => write_string(&normal_type_name(t, namespace), &mut rendered),
                other => normalize(other, namespace, &mut rendered),
            },
            "aliases" if named => {
                let mut aliases: Vec<String> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|a| full_name(a, inner_namespace.as_deref()))
                    .collect();
                aliases.sort();
                aliases.dedup();
                write_string_array(&aliases, &mut rendered);
            }
            "fields" if named => {
                rendered.push('[');
                for (i, field) in value.as_array().into_iter().flatten().enumerate() {
                    if i > 0 {
                        rendered.push(',');
                    }
                    match field {
                        Value::Object(field) => {
                            normalize_field(field, &inner_namespace, &mut rendered)
                        }
                        other => write_sorted_json(other, &mut rendered),
                    }
                }
                rendered.push(']');
            }
            "items" | "values" => normalize(value, namespace, &mut rendered),
            _ => write_sorted_json(value, &mut rendered),
        }
        entries.push((key.clone(), rendered));
    }
    // A type in the null namespace nested in a namespaced one must say so, or it would inherit.
    if let Some(full) = &full
        && !full.contains('.')
        && namespace.as_deref().is_some_and(|ns| !ns.is_empty())
    {
        entries.push(("namespace".to_owned(), "\"\"".to_owned()));
    }
    write_ordered(entries, TYPE_KEY_ORDER, out);
}

const TYPE_KEY_ORDER: &[&str] = &[
    "type",
    "name",
    "doc",
    "aliases",
    "fields",
    "symbols",
    "default",
    "items",
    "values",
    "size",
    "logicalType",
    "precision",
    "scale",
];

const FIELD_KEY_ORDER: &[&str] = &["name", "doc", "type", "default", "order", "aliases"];

fn normalize_field(field: &Map<String, Value>, namespace: &Option<String>, out: &mut String) {
    let mut entries = Vec::new();
    for (key, value) in field {
        let mut rendered = String::new();
        match key.as_str() {
            "type" => normalize(value, namespace, &mut rendered),
            "aliases" => {
                let mut aliases: Vec<String> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                aliases.sort();
                aliases.dedup();
                write_string_array(&aliases, &mut rendered);
            }
            _ => write_sorted_json(value, &mut rendered),
        }
        entries.push((key.clone(), rendered));
    }
    write_ordered(entries, FIELD_KEY_ORDER, out);
}

/// Writes `{"k":v,...}` with the keys in `order` first, then the rest sorted.
fn write_ordered(mut entries: Vec<(String, String)>, order: &[&str], out: &mut String) {
    let rank = |key: &str| order.iter().position(|k| *k == key).unwrap_or(order.len());
    entries.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    out.push('{');
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(key, out);
        out.push(':');
        out.push_str(value);
    }
    out.push('}');
}

fn write_string(text: &str, out: &mut String) {
    // Serializing a &str cannot fail; fall back to an empty string rather than panic.
    out.push_str(&serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned()));
}

fn write_string_array(items: &[String], out: &mut String) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(item, out);
    }
    out.push(']');
}

/// Compact JSON with object keys sorted, whatever order `serde_json::Map` keeps.
fn write_sorted_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_sorted_json(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted_json(item, out);
            }
            out.push(']');
        }
        Value::String(s) => write_string(s, out),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<AvroSchema, SchemaError> {
        AvroSchema::parse(raw, &[], &Limits::default())
    }

    fn rejects(raw: &str, expected: &str) {
        match parse(raw) {
            Ok(_) => panic!("accepted {raw}"),
            Err(e) => assert!(
                e.to_string().contains(expected),
                "message for {raw}: {e} (expected it to mention {expected:?})"
            ),
        }
    }

    #[test]
    fn parses_primitives_and_records() {
        assert!(matches!(
            parse(r#""string""#).map(|s| s.schema().clone()),
            Ok(Schema::String)
        ));
        let s = parse(
            r#"{"type": "record", "name": "User", "namespace": "com.acme",
                "fields": [{"name": "id", "type": "long"},
                           {"name": "email", "type": ["null", "string"], "default": null}]}"#,
        )
        .expect("valid");
        assert!(matches!(s.schema(), Schema::Record(_)));
        assert_eq!(
            s.canonical(),
            r#"{"type":"record","name":"User","namespace":"com.acme","fields":[{"name":"id","type":"long"},{"name":"email","type":["null","string"],"default":null}]}"#
        );
    }

    #[test]
    fn canonical_keeps_whitespace_inside_strings() {
        let s =
            parse(r#"{ "type" : "enum", "name" : "E", "doc": "a \" b  c", "symbols" : [ "A" ] }"#)
                .expect("valid");
        assert_eq!(
            s.canonical(),
            r#"{"type":"enum","name":"E","doc":"a \" b  c","symbols":["A"]}"#
        );
    }

    #[test]
    fn rejects_invalid_schemas_with_clear_messages() {
        rejects("{not json", "not valid JSON");
        rejects(r#""strng""#, "unknown type 'strng'");
        rejects(r#"{"type":"record","fields":[]}"#, "has no 'name'");
        rejects(r#"{"type":"record","name":"R"}"#, "has no 'fields'");
        rejects(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"long"}]}"#,
            "more than one field named 'a'",
        );
        rejects(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}"#,
            "default value \"x\" of field 'a'",
        );
        rejects(
            r#"{"type":"enum","name":"E","symbols":["A","A"]}"#,
            "symbol 'A' more than once",
        );
        rejects(
            r#"{"type":"record","name":"1R","fields":[]}"#,
            "'1R' is not a valid record name",
        );
        rejects(
            r#"{"type":"record","name":"R","fields":[{"name":"a-b","type":"int"}]}"#,
            "'a-b' is not a valid field name",
        );
        rejects(
            r#"{"type":"record","name":"R","namespace":"a..b","fields":[]}"#,
            "not a valid namespace",
        );
        rejects(
            r#"{"type":"fixed","name":"F","size":-1}"#,
            "'size' must be a non-negative integer",
        );
        rejects(r#"{"type":"array"}"#, "no 'items'");
        rejects(r#"{"type":"map"}"#, "no 'values'");
        rejects(
            r#"["null",["int"]]"#,
            "may not directly contain another union",
        );
        rejects(r#"["int","int"]"#, "contains type 'int' more than once");
        rejects(
            r#"{"type":"enum","name":"E","symbols":["A"],"default":"B"}"#,
            "not one of its symbols",
        );
        rejects(r#"42"#, "a schema must be a type name");
        rejects(r#"{"type":{"type":"int"}}"#, "'type' must be a string");
        rejects(r#""record""#, "must be written as an object");
        rejects(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":3000000000}]}"#,
            "expected an int",
        );
    }

    #[test]
    fn checks_defaults_of_every_type() {
        let field = |ty: &str, default: &str| {
            format!(
                r#"{{"type":"record","name":"R","fields":[{{"name":"f","type":{ty},"default":{default}}}]}}"#
            )
        };
        let ok = [
            (r#""long""#, "5"),
            (r#""double""#, "1.5"),
            (r#""float""#, "1"),
            (r#""bytes""#, r#""\u00ff""#),
            (r#"["null","int"]"#, "null"),
            (r#"["int","null"]"#, "3"),
            (r#"{"type":"array","items":"int"}"#, "[1,2]"),
            (r#"{"type":"map","values":"string"}"#, r#"{"a":"b"}"#),
            (
                r#"{"type":"enum","name":"E","symbols":["A","B"]}"#,
                r#""B""#,
            ),
            (r#"{"type":"fixed","name":"F","size":2}"#, r#""ab""#),
            (
                r#"{"type":"record","name":"In","fields":[{"name":"x","type":"int"},{"name":"y","type":"int","default":0}]}"#,
                r#"{"x":1}"#,
            ),
        ];
        for (ty, default) in ok {
            let raw = field(ty, default);
            assert!(parse(&raw).is_ok(), "{raw}: {:?}", parse(&raw).err());
        }
        let bad = [
            (r#""boolean""#, "1"),
            (r#""long""#, "1.5"),
            (r#""string""#, "null"),
            (r#"["null","int"]"#, "3"),
            (r#"{"type":"array","items":"int"}"#, r#"["a"]"#),
            (r#"{"type":"map","values":"string"}"#, "[]"),
            (
                r#"{"type":"enum","name":"E","symbols":["A","B"]}"#,
                r#""C""#,
            ),
            (r#"{"type":"fixed","name":"F","size":2}"#, r#""abc""#),
            (
                r#"{"type":"record","name":"In","fields":[{"name":"x","type":"int"}]}"#,
                r#"{"y":1}"#,
            ),
        ];
        for (ty, default) in bad {
            let raw = field(ty, default);
            assert!(parse(&raw).is_err(), "accepted {raw}");
        }
    }

    #[test]
    fn too_large_and_too_deep_are_rejected_without_overflow() {
        let big = format!(r#""{}""#, "a".repeat(10 * 1024 * 1024));
        rejects(&big, "more than the limit");
        let deep = format!("{}\"int\"{}", "[".repeat(10_000), "]".repeat(10_000));
        rejects(&deep, "nests deeper than the limit of 100");
        let mut nested = String::from(r#""int""#);
        for i in 0..10_000 {
            nested = format!(
                r#"{{"type":"record","name":"R{i}","fields":[{{"name":"f","type":{nested}}}]}}"#
            );
        }
        rejects(&nested, "nests deeper");
        // Brackets inside strings are not nesting.
        let doc = "[".repeat(500);
        assert!(
            parse(&format!(
                r#"{{"type":"enum","name":"E","doc":"{doc}","symbols":["A"]}}"#
            ))
            .is_ok()
        );
        // A depth above serde_json's own limit still gives a clear message.
        let limits = Limits {
            max_depth: 1000,
            ..Limits::default()
        };
        let deep = format!("{}\"int\"{}", "[".repeat(500), "]".repeat(500));
        let err = AvroSchema::parse(&deep, &[], &limits).expect_err("too deep");
        assert!(err.to_string().contains("nests deeper"), "{err}");
    }

    /// The deepest schema the default limits accept, and a chain of 300 references, are
    /// parsed, normalized and checked on a 1 MiB stack (tokio's workers have 2 MiB).
    #[test]
    fn limits_keep_stack_use_small() {
        let mut nested = String::from(r#""int""#);
        for i in 0..32 {
            nested = format!(
                r#"{{"type":"record","name":"R{i}","fields":[{{"name":"f","type":{nested}}}]}}"#
            );
        }
        let mut chain = vec![r#"{"type":"record","name":"C0","fields":[]}"#.to_owned()];
        for i in 1..300 {
            let previous = i - 1;
            chain.push(format!(
                r#"{{"type":"record","name":"C{i}","fields":[{{"name":"f","type":"C{previous}"}}]}}"#
            ));
        }
        let worker = std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || {
                let deep = parse(&nested).expect("the deepest accepted schema");
                let _ = deep.normalized();
                assert!(crate::compat::can_read(&deep, &deep).is_empty());
                let top = r#"{"type":"record","name":"Top","fields":[{"name":"c","type":"C299"}]}"#;
                let chained = AvroSchema::parse(top, &chain, &Limits::default()).expect("valid");
                assert_eq!(chained.resolved_references().len(), 300);
            })
            .expect("spawn");
        worker.join().expect("no stack overflow");
    }

    #[test]
    fn references_supply_named_types_and_encode_decode_works() {
        let address = r#"{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"zip","type":"string"}]}"#;
        let raw = r#"{"type":"record","name":"User","namespace":"com.acme","fields":[{"name":"home","type":"Address"},{"name":"work","type":["null","com.acme.Address"],"default":null}]}"#;
        assert!(
            parse(raw).is_err(),
            "Address is unknown without the reference"
        );
        let s = AvroSchema::parse(raw, &[address.to_owned()], &Limits::default()).expect("valid");
        assert_eq!(s.resolved_references().len(), 1);
        let value = AvroValue::Record(vec![
            (
                "home".to_owned(),
                AvroValue::Record(vec![(
                    "zip".to_owned(),
                    AvroValue::String("12345".to_owned()),
                )]),
            ),
            (
                "work".to_owned(),
                AvroValue::Union(0, Box::new(AvroValue::Null)),
            ),
        ]);
        let bytes = s.encode(value.clone()).expect("encodes");
        let decoded = s.decode(&mut bytes.as_slice()).expect("decodes");
        assert_eq!(decoded, value);
        // A reference must be a named type, and may not be redefined.
        let err = AvroSchema::parse(raw, &[r#""string""#.to_owned()], &Limits::default())
            .expect_err("not named");
        assert!(err.to_string().contains("referenced schema #0"), "{err}");
        // The same reference twice (a diamond) is one definition.
        let twice = [address.to_owned(), address.to_owned()];
        let s = AvroSchema::parse(raw, &twice, &Limits::default()).expect("valid");
        assert_eq!(s.resolved_references().len(), 1);
        let redefine = r#"{"type":"record","name":"Address","namespace":"com.acme","fields":[]}"#;
        let err = AvroSchema::parse(redefine, &[address.to_owned()], &Limits::default())
            .expect_err("redefined");
        assert!(err.to_string().contains("defined more than once"), "{err}");
    }

    #[test]
    fn recursive_schema_parses_and_round_trips() {
        let s = parse(
            r#"{"type":"record","name":"Node","fields":[{"name":"value","type":"long"},{"name":"next","type":["null","Node"],"default":null}]}"#,
        )
        .expect("valid");
        let value = AvroValue::Record(vec![
            ("value".to_owned(), AvroValue::Long(1)),
            (
                "next".to_owned(),
                AvroValue::Union(
                    1,
                    Box::new(AvroValue::Record(vec![
                        ("value".to_owned(), AvroValue::Long(2)),
                        (
                            "next".to_owned(),
                            AvroValue::Union(0, Box::new(AvroValue::Null)),
                        ),
                    ])),
                ),
            ),
        ]);
        let bytes = s.encode(value.clone()).expect("encodes");
        assert_eq!(s.decode(&mut bytes.as_slice()).expect("decodes"), value);
    }

    #[test]
    fn normalized_form_dedupes_equivalent_schemas() {
        let a = parse(
            r#"{"namespace":"com.acme","name":"User","type":"record","fields":[{"type":{"type":"int"},"name":"a"},{"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}},{"name":"e2","type":"E"}]}"#,
        )
        .expect("valid");
        let b = parse(
            r#"{"type":"record","name":"com.acme.User","fields":[{"name":"a","type":"int"},{"name":"e","type":{"name":"com.acme.E","type":"enum","symbols":["X"]}},{"name":"e2","type":"com.acme.E"}]}"#,
        )
        .expect("valid");
        assert_ne!(a.canonical(), b.canonical());
        assert_eq!(a.normalized(), b.normalized());
        assert_eq!(
            a.normalized(),
            r#"{"type":"record","name":"com.acme.User","fields":[{"name":"a","type":"int"},{"name":"e","type":{"type":"enum","name":"com.acme.E","symbols":["X"]}},{"name":"e2","type":"com.acme.E"}]}"#
        );
        // A null-namespace type nested in a namespaced record keeps its namespace.
        let c = parse(
            r#"{"type":"record","name":"Outer","namespace":"x","fields":[{"name":"i","type":{"type":"record","name":"Inner","namespace":"","fields":[]}}]}"#,
        )
        .expect("valid");
        let c_again = parse(&c.normalized()).expect("normal form parses");
        assert_eq!(c_again.schema(), c.schema(), "{}", c.normalized());
        // The normal form is itself a valid schema with the same normal form.
        let again = parse(&a.normalized()).expect("normal form parses");
        assert_eq!(again.normalized(), a.normalized());
        assert_eq!(again.schema(), a.schema());
    }

    #[test]
    fn fingerprint_is_sha256_of_canonical() {
        use sha2::Digest;
        let a = parse(r#"{"type": "int"}"#).expect("valid");
        let b = parse(r#"{"type":"int"}"#).expect("valid");
        assert_eq!(a.fingerprint(), b.fingerprint());
        let expected: [u8; 32] = sha2::Sha256::digest(br#"{"type":"int"}"#).into();
        assert_eq!(a.fingerprint(), expected);
        assert_ne!(
            a.fingerprint(),
            parse(r#""int""#).expect("valid").fingerprint()
        );
    }

    #[test]
    fn logical_types_and_error_records_parse() {
        for raw in [
            r#"{"type":"int","logicalType":"date"}"#,
            r#"{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}"#,
            r#"{"type":"string","logicalType":"uuid"}"#,
            r#"{"type":"long","logicalType":"timestamp-millis"}"#,
        ] {
            assert!(parse(raw).is_ok(), "{raw}: {:?}", parse(raw).err());
        }
    }

    #[test]
    fn no_panic_on_odd_input() {
        for raw in [
            "",
            "null",
            r#"{"type":"error","name":"Oops","fields":[{"name":"m","type":"string"}]}"#,
            "{}",
            r#"{"type":null}"#,
            r#"{"type":"record","name":"R","fields":[1]}"#,
            r#"{"type":"record","name":"R","fields":[{"name":"a"}]}"#,
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","aliases":"x"}]}"#,
            r#"{"type":"record","name":"R","aliases":["1x"],"fields":[]}"#,
            r#"{"type":"enum","name":"E","symbols":[1]}"#,
            r#"{"type":"fixed","name":"F"}"#,
            r#"{"type":"record","name":"int","fields":[]}"#,
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","order":"up"}]}"#,
            "\u{feff}\"int\"",
        ] {
            assert!(parse(raw).is_err(), "accepted {raw:?}");
        }
    }
}
