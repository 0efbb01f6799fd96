//! Avro's JSON encoding, and the Confluent wire framing, for the gateway's `avro` embedded format.
//!
//! REST clients send and receive Avro data as JSON, in the form Avro's own `JsonEncoder` and
//! `JsonDecoder` use (and so Confluent's REST Proxy): a union is `null` or a one-key object
//! naming its branch (`{"string": "x"}`, `{"com.acme.Point": {...}}`), `bytes` and `fixed` are
//! strings whose characters U+0000–U+00FF are the bytes, records are objects, enums are their
//! symbol. [`to_avro`] converts such JSON into an [`AvroValue`] of a schema, checking it on the
//! way (a missing record field takes its default), with errors that give the JSON path;
//! [`to_json`] turns a decoded value back into the same form. To be kind to hand-written JSON,
//! an untagged union value is also accepted when one branch takes it (the first that does).
//!
//! [`frame`] and [`unframe`] are Confluent's wire format: magic byte `0`, the schema id as a
//! 4-byte big-endian int, then the Avro binary datum.
//!
//! Not owned here: which schema applies (the registry and the gateway decide).

use std::collections::HashMap;

use apache_avro::Schema;
use apache_avro::schema::{Name, RecordSchema, UnionSchema};
use apache_avro::types::Value as AvroValue;
use serde_json::{Map, Number, Value};

use crate::avro::AvroSchema;

/// Confluent's magic byte of framed data.
pub const MAGIC_BYTE: u8 = 0;

/// Deepest nesting [`to_avro`] follows, counting records, arrays, maps and unions: recursive
/// schemas could otherwise recurse as deep as the input goes.
const MAX_DEPTH: usize = 96;
/// Most conversion steps for one value. Untagged union values are tried branch by branch, and
/// nested unions of records could make that exponential; this bounds the work.
const MAX_STEPS: usize = 1_000_000;

/// Confluent framing: `0`, the id big-endian, the datum.
pub fn frame(id: i32, datum: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + datum.len());
    out.push(MAGIC_BYTE);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(datum);
    out
}

/// The schema id and datum of framed data.
///
/// # Errors
/// A message for data shorter than the header or with another magic byte ("Unknown magic
/// byte!", as Confluent's deserializers say).
pub fn unframe(bytes: &[u8]) -> Result<(i32, &[u8]), String> {
    match bytes {
        [MAGIC_BYTE, a, b, c, d, rest @ ..] => Ok((i32::from_be_bytes([*a, *b, *c, *d]), rest)),
        [MAGIC_BYTE, ..] => Err(format!(
            "{} bytes are too short for Confluent's framing (magic byte and 4-byte schema id)",
            bytes.len()
        )),
        _ => Err("Unknown magic byte!".to_owned()),
    }
}

/// Converts JSON in Avro's JSON encoding to a value of `schema`.
///
/// # Errors
/// A message naming the JSON path where the value does not fit the schema.
pub fn to_avro(json: &Value, schema: &AvroSchema) -> Result<AvroValue, String> {
    let cx = Cx {
        schema,
        steps: std::cell::Cell::new(0),
    };
    cx.to_avro(json, schema.schema(), &mut String::from("$"), 0)
}

/// Decodes one Avro binary datum written with `schema` straight into Avro's JSON encoding.
///
/// Its own decoder rather than `apache_avro`'s: the bytes may come from any producer, and a
/// recursive schema lets a hostile datum nest as deep as it is long, so nesting is bounded
/// ([`MAX_DEPTH`]), and so is the number of values (a block count of a billion `null`s costs
/// no bytes). Trailing bytes after the datum are ignored, as Avro's readers do.
///
/// # Errors
/// A message saying where the datum does not match the schema.
pub fn decode_json(datum: &[u8], schema: &AvroSchema) -> Result<Value, String> {
    let mut d = Decoder {
        schema,
        bytes: datum,
        values_left: datum.len().saturating_mul(8).saturating_add(1024),
    };
    d.value(schema.schema(), 0)
}

struct Cx<'a> {
    schema: &'a AvroSchema,
    steps: std::cell::Cell<usize>,
}

fn type_error(path: &str, expected: &str, got: &Value) -> String {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    format!("{path}: expected {expected}, got {got}")
}

/// The bytes of a string whose characters are all ≤ U+00FF (Avro's JSON form of bytes).
fn latin1(s: &str, path: &str) -> Result<Vec<u8>, String> {
    s.chars()
        .map(|c| {
            u8::try_from(u32::from(c)).map_err(|_| {
                format!(
                    "{path}: bytes are written as a string of characters U+0000 to U+00FF, \
                     found {c:?}"
                )
            })
        })
        .collect()
}

fn latin1_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The name a union branch goes by in Avro's JSON encoding.
fn branch_name(s: &Schema) -> String {
    match s {
        Schema::Null => "null".into(),
        Schema::Boolean => "boolean".into(),
        Schema::Int | Schema::Date | Schema::TimeMillis => "int".into(),
        Schema::Long
        | Schema::TimeMicros
        | Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => "long".into(),
        Schema::Float => "float".into(),
        Schema::Double => "double".into(),
        Schema::Bytes | Schema::BigDecimal => "bytes".into(),
        Schema::String | Schema::Uuid => "string".into(),
        Schema::Array(_) => "array".into(),
        Schema::Map(_) => "map".into(),
        Schema::Decimal(d) => branch_name(&d.inner),
        Schema::Duration => "fixed".into(),
        Schema::Union(_) => "union".into(),
        Schema::Record(RecordSchema { name, .. })
        | Schema::Enum(apache_avro::schema::EnumSchema { name, .. })
        | Schema::Fixed(apache_avro::schema::FixedSchema { name, .. })
        | Schema::Ref { name } => name.fullname(None),
    }
}

fn int_of(json: &Value, path: &str, expected: &str) -> Result<i64, String> {
    json.as_i64()
        .ok_or_else(|| type_error(path, expected, json))
}

impl Cx<'_> {
    fn resolve<'s>(&'s self, s: &'s Schema) -> Result<&'s Schema, String> {
        match s {
            Schema::Ref { name } => self.named(name),
            other => Ok(other),
        }
    }

    fn named(&self, name: &Name) -> Result<&Schema, String> {
        self.schema.named_type(name).ok_or_else(|| {
            format!(
                "the schema refers to an unknown type '{}'",
                name.fullname(None)
            )
        })
    }

    fn to_avro(
        &self,
        json: &Value,
        schema: &Schema,
        path: &mut String,
        depth: usize,
    ) -> Result<AvroValue, String> {
        if depth > MAX_DEPTH {
            return Err(format!("{path}: nested deeper than {MAX_DEPTH} levels"));
        }
        self.steps.set(self.steps.get() + 1);
        if self.steps.get() > MAX_STEPS {
            return Err(format!(
                "{path}: the value is too complex to convert (over {MAX_STEPS} steps; tag union \
                 values with their branch)"
            ));
        }
        let schema = self.resolve(schema)?;
        Ok(match schema {
            Schema::Null => match json {
                Value::Null => AvroValue::Null,
                other => return Err(type_error(path, "null", other)),
            },
            Schema::Boolean => AvroValue::Boolean(
                json.as_bool()
                    .ok_or_else(|| type_error(path, "a boolean", json))?,
            ),
            Schema::Int | Schema::Date | Schema::TimeMillis => {
                let n = int_of(json, path, "an int")?;
                let n = i32::try_from(n).map_err(|_| format!("{path}: {n} does not fit an int"))?;
                match schema {
                    Schema::Date => AvroValue::Date(n),
                    Schema::TimeMillis => AvroValue::TimeMillis(n),
                    _ => AvroValue::Int(n),
                }
            }
            Schema::Long => AvroValue::Long(int_of(json, path, "a long")?),
            Schema::TimeMicros => AvroValue::TimeMicros(int_of(json, path, "a long")?),
            Schema::TimestampMillis => AvroValue::TimestampMillis(int_of(json, path, "a long")?),
            Schema::TimestampMicros => AvroValue::TimestampMicros(int_of(json, path, "a long")?),
            Schema::TimestampNanos => AvroValue::TimestampNanos(int_of(json, path, "a long")?),
            Schema::LocalTimestampMillis => {
                AvroValue::LocalTimestampMillis(int_of(json, path, "a long")?)
            }
            Schema::LocalTimestampMicros => {
                AvroValue::LocalTimestampMicros(int_of(json, path, "a long")?)
            }
            Schema::LocalTimestampNanos => {
                AvroValue::LocalTimestampNanos(int_of(json, path, "a long")?)
            }
            #[expect(
                clippy::cast_possible_truncation,
                reason = "float is what the schema asks for"
            )]
            Schema::Float => AvroValue::Float(
                json.as_f64()
                    .ok_or_else(|| type_error(path, "a float", json))? as f32,
            ),
            Schema::Double => AvroValue::Double(
                json.as_f64()
                    .ok_or_else(|| type_error(path, "a double", json))?,
            ),
            Schema::Bytes => AvroValue::Bytes(latin1(
                json.as_str()
                    .ok_or_else(|| type_error(path, "bytes (a string)", json))?,
                path,
            )?),
            Schema::String => AvroValue::String(
                json.as_str()
                    .ok_or_else(|| type_error(path, "a string", json))?
                    .to_owned(),
            ),
            Schema::Uuid => {
                let s = json
                    .as_str()
                    .ok_or_else(|| type_error(path, "a uuid string", json))?;
                AvroValue::String(s.to_owned())
            }
            Schema::Decimal(_) | Schema::BigDecimal => {
                let s = json
                    .as_str()
                    .ok_or_else(|| type_error(path, "decimal bytes (a string)", json))?;
                AvroValue::Bytes(latin1(s, path)?)
            }
            Schema::Fixed(f) => {
                let s = json
                    .as_str()
                    .ok_or_else(|| type_error(path, "fixed bytes (a string)", json))?;
                let bytes = latin1(s, path)?;
                if bytes.len() != f.size {
                    return Err(format!(
                        "{path}: fixed '{}' holds {} bytes, got {}",
                        f.name.fullname(None),
                        f.size,
                        bytes.len()
                    ));
                }
                AvroValue::Fixed(f.size, bytes)
            }
            Schema::Duration => {
                let s = json
                    .as_str()
                    .ok_or_else(|| type_error(path, "a 12-byte duration string", json))?;
                let bytes: [u8; 12] = latin1(s, path)?
                    .try_into()
                    .map_err(|_| format!("{path}: a duration is 12 bytes"))?;
                AvroValue::Duration(apache_avro::Duration::from(bytes))
            }
            Schema::Enum(e) => {
                let symbol = json
                    .as_str()
                    .ok_or_else(|| type_error(path, "an enum symbol (a string)", json))?;
                let index = e.symbols.iter().position(|s| s == symbol).ok_or_else(|| {
                    format!(
                        "{path}: '{symbol}' is not a symbol of enum '{}' ({})",
                        e.name.fullname(None),
                        e.symbols.join(", ")
                    )
                })?;
                AvroValue::Enum(u32::try_from(index).unwrap_or(u32::MAX), symbol.to_owned())
            }
            Schema::Array(a) => {
                let items = json
                    .as_array()
                    .ok_or_else(|| type_error(path, "an array", json))?;
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    out.push(self.to_avro(item, &a.items, path, depth + 1)?);
                    path.truncate(len);
                }
                AvroValue::Array(out)
            }
            Schema::Map(m) => {
                let entries = json
                    .as_object()
                    .ok_or_else(|| type_error(path, "a map (an object)", json))?;
                let mut out = HashMap::with_capacity(entries.len());
                for (k, v) in entries {
                    let len = path.len();
                    path.push_str(&format!("[{k:?}]"));
                    out.insert(k.clone(), self.to_avro(v, &m.types, path, depth + 1)?);
                    path.truncate(len);
                }
                AvroValue::Map(out)
            }
            Schema::Record(r) => {
                let object = json.as_object().ok_or_else(|| {
                    type_error(path, &format!("record '{}'", r.name.fullname(None)), json)
                })?;
                if let Some(unknown) = object.keys().find(|k| !r.lookup.contains_key(*k)) {
                    return Err(format!(
                        "{path}: record '{}' has no field '{unknown}'",
                        r.name.fullname(None)
                    ));
                }
                let mut fields = Vec::with_capacity(r.fields.len());
                for field in &r.fields {
                    let len = path.len();
                    path.push('.');
                    path.push_str(&field.name);
                    let value = match (object.get(&field.name), &field.default) {
                        (Some(v), _) => self.to_avro(v, &field.schema, path, depth + 1)?,
                        (None, Some(default)) => self.default(default, &field.schema, path)?,
                        (None, None) => {
                            return Err(format!("{path}: missing, and the field has no default"));
                        }
                    };
                    path.truncate(len);
                    fields.push((field.name.clone(), value));
                }
                AvroValue::Record(fields)
            }
            Schema::Union(u) => self.union_to_avro(json, u, path, depth)?,
            Schema::Ref { name } => {
                return Err(format!("{path}: unresolved type '{}'", name.fullname(None)));
            }
        })
    }

    /// A field default: JSON in Avro's default form, where a union's default belongs to its
    /// first branch (untagged).
    fn default(
        &self,
        default: &Value,
        schema: &Schema,
        path: &mut String,
    ) -> Result<AvroValue, String> {
        match self.resolve(schema)? {
            Schema::Union(u) => {
                let first = u
                    .variants()
                    .first()
                    .ok_or_else(|| format!("{path}: empty union"))?;
                let value = self.to_avro(default, first, path, 0)?;
                Ok(AvroValue::Union(0, Box::new(value)))
            }
            other => self.to_avro(default, other, path, 0),
        }
    }

    fn union_to_avro(
        &self,
        json: &Value,
        u: &UnionSchema,
        path: &mut String,
        depth: usize,
    ) -> Result<AvroValue, String> {
        let variants = u.variants();
        let wrap = |i: usize, v: AvroValue| {
            AvroValue::Union(u32::try_from(i).unwrap_or(u32::MAX), Box::new(v))
        };
        if json.is_null() {
            if let Some(i) = variants.iter().position(|s| matches!(s, Schema::Null)) {
                return Ok(wrap(i, AvroValue::Null));
            }
            return Err(format!("{path}: null is not a branch of this union"));
        }
        // The tagged form: {"<branch name>": value}.
        if let Some((tag, inner)) = json
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
        {
            let named = |s: &Schema| {
                let name = branch_name(s);
                name == *tag || name.rsplit('.').next() == Some(tag.as_str())
            };
            if let Some(i) = variants.iter().position(named) {
                let len = path.len();
                path.push_str(&format!("<{tag}>"));
                let variant = variants
                    .get(i)
                    .ok_or_else(|| format!("{path}: no branch {i}"))?;
                let value = self.to_avro(inner, variant, path, depth + 1)?;
                path.truncate(len);
                return Ok(wrap(i, value));
            }
        }
        // Untagged: the first branch that takes the value.
        for (i, variant) in variants.iter().enumerate() {
            if matches!(variant, Schema::Null) {
                continue;
            }
            let mut scratch = path.clone();
            if let Ok(value) = self.to_avro(json, variant, &mut scratch, depth + 1) {
                return Ok(wrap(i, value));
            }
        }
        let names: Vec<String> = variants.iter().map(branch_name).collect();
        Err(format!(
            "{path}: the value fits no branch of the union [{}]; write it as {{\"<branch>\": value}}",
            names.join(", ")
        ))
    }
}

/// A bounded Avro binary reader producing JSON (see [`decode_json`]).
struct Decoder<'a> {
    schema: &'a AvroSchema,
    bytes: &'a [u8],
    /// Values still allowed.
    values_left: usize,
}

impl Decoder<'_> {
    fn long(&mut self) -> Result<i64, String> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self
                .bytes
                .split_first()
                .ok_or_else(|| "the datum ends inside a number".to_owned())?;
            self.bytes = rest;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                #[expect(clippy::cast_possible_wrap, reason = "zig-zag decoding")]
                return Ok((n >> 1) as i64 ^ -((n & 1) as i64));
            }
        }
        Err("a number is longer than 10 bytes".to_owned())
    }

    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if n > self.bytes.len() {
            return Err(format!(
                "the datum needs {n} more bytes but has {}",
                self.bytes.len()
            ));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn len(&mut self) -> Result<usize, String> {
        let n = self.long()?;
        usize::try_from(n).map_err(|_| format!("negative length {n}"))
    }

    fn string(&mut self) -> Result<String, String> {
        let n = self.len()?;
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| "a string is not UTF-8".to_owned())
    }

    /// The item count of the next array or map block (0 ends the sequence).
    fn block(&mut self) -> Result<usize, String> {
        let n = self.long()?;
        if n < 0 {
            // A negative count is followed by the block's size in bytes.
            self.long()?;
        }
        let count = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
        self.spend(count)?;
        Ok(count)
    }

    fn spend(&mut self, n: usize) -> Result<(), String> {
        self.values_left = self
            .values_left
            .checked_sub(n)
            .ok_or_else(|| "the datum claims more values than its size allows".to_owned())?;
        Ok(())
    }

    fn value(&mut self, schema: &Schema, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(format!("the datum nests deeper than {MAX_DEPTH} levels"));
        }
        self.spend(1)?;
        let schema = match schema {
            Schema::Ref { name } => self.schema.named_type(name).ok_or_else(|| {
                format!(
                    "the schema refers to an unknown type '{}'",
                    name.fullname(None)
                )
            })?,
            other => other,
        };
        Ok(match schema {
            Schema::Null => Value::Null,
            Schema::Boolean => match self.take(1)? {
                [0] => Value::Bool(false),
                [1] => Value::Bool(true),
                other => return Err(format!("invalid boolean byte {other:?}")),
            },
            Schema::Int | Schema::Date | Schema::TimeMillis => {
                let n = self.long()?;
                Value::from(i32::try_from(n).map_err(|_| format!("{n} does not fit an int"))?)
            }
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => Value::from(self.long()?),
            Schema::Float => {
                let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| "float".to_owned())?;
                Number::from_f64(f64::from(f32::from_le_bytes(b)))
                    .map_or(Value::Null, Value::Number)
            }
            Schema::Double => {
                let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| "double".to_owned())?;
                Number::from_f64(f64::from_le_bytes(b)).map_or(Value::Null, Value::Number)
            }
            Schema::Bytes | Schema::BigDecimal => {
                let n = self.len()?;
                Value::String(latin1_string(self.take(n)?))
            }
            Schema::Decimal(d) => match &*d.inner {
                Schema::Fixed(f) => Value::String(latin1_string(self.take(f.size)?)),
                _ => {
                    let n = self.len()?;
                    Value::String(latin1_string(self.take(n)?))
                }
            },
            Schema::String | Schema::Uuid => Value::String(self.string()?),
            Schema::Fixed(f) => Value::String(latin1_string(self.take(f.size)?)),
            Schema::Duration => Value::String(latin1_string(self.take(12)?)),
            Schema::Enum(e) => {
                let i = self.long()?;
                let symbol = usize::try_from(i)
                    .ok()
                    .and_then(|i| e.symbols.get(i))
                    .ok_or_else(|| format!("enum index {i} out of range"))?;
                Value::String(symbol.clone())
            }
            Schema::Array(a) => {
                let mut out = Vec::new();
                loop {
                    let n = self.block()?;
                    if n == 0 {
                        break;
                    }
                    for _ in 0..n {
                        out.push(self.value(&a.items, depth + 1)?);
                    }
                }
                Value::Array(out)
            }
            Schema::Map(m) => {
                let mut out = Map::new();
                loop {
                    let n = self.block()?;
                    if n == 0 {
                        break;
                    }
                    for _ in 0..n {
                        let k = self.string()?;
                        let v = self.value(&m.types, depth + 1)?;
                        out.insert(k, v);
                    }
                }
                Value::Object(out)
            }
            Schema::Record(r) => {
                let mut out = Map::with_capacity(r.fields.len());
                for f in &r.fields {
                    let v = self.value(&f.schema, depth + 1)?;
                    out.insert(f.name.clone(), v);
                }
                Value::Object(out)
            }
            Schema::Union(u) => {
                let i = self.long()?;
                let variant = usize::try_from(i)
                    .ok()
                    .and_then(|i| u.variants().get(i))
                    .ok_or_else(|| format!("union branch {i} out of range"))?;
                let v = self.value(variant, depth + 1)?;
                if matches!(variant, Schema::Null) {
                    Value::Null
                } else {
                    let mut tagged = Map::with_capacity(1);
                    tagged.insert(branch_name(variant), v);
                    Value::Object(tagged)
                }
            }
            Schema::Ref { name } => {
                return Err(format!("unresolved type '{}'", name.fullname(None)));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::avro::Limits;

    fn schema(raw: &str) -> AvroSchema {
        AvroSchema::parse(raw, &[], &Limits::default()).unwrap()
    }

    fn round_trip(s: &AvroSchema, json: &Value) -> Value {
        let value = to_avro(json, s).unwrap();
        let datum = s.encode(value).unwrap();
        let framed = frame(7, &datum);
        let (id, rest) = unframe(&framed).unwrap();
        assert_eq!(id, 7);
        // Our decoder reads what apache_avro wrote, and agrees with apache_avro's own.
        let mut check = rest;
        s.decode(&mut check).unwrap();
        assert!(check.is_empty());
        decode_json(rest, s).unwrap()
    }

    #[test]
    fn records_unions_enums_bytes_and_collections_round_trip() {
        let s = schema(
            r#"{"type":"record","name":"Event","namespace":"acme","fields":[
                {"name":"id","type":"long"},
                {"name":"name","type":["null","string"],"default":null},
                {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"]}},
                {"name":"raw","type":"bytes"},
                {"name":"tags","type":{"type":"array","items":"string"}},
                {"name":"attrs","type":{"type":"map","values":"int"}},
                {"name":"point","type":["null",{"type":"record","name":"Point","fields":[
                    {"name":"x","type":"double"}]}],"default":null},
                {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
                {"name":"hash","type":{"type":"fixed","name":"H","size":2}}
            ]}"#,
        );
        let json = json!({"id": 5, "name": {"string": "x"}, "kind": "B", "raw": "\u{0}\u{ff}a",
            "tags": ["a", "b"], "attrs": {"k": 1}, "point": {"acme.Point": {"x": 1.5}},
            "at": 1_700_000_000_000_i64, "hash": "ab"});
        assert_eq!(round_trip(&s, &json), json);

        // Defaults fill missing fields; untagged unions are accepted and come back tagged.
        let sparse = json!({"id": 1, "kind": "A", "raw": "", "tags": [], "attrs": {},
            "point": {"x": 2.0}, "at": 0, "hash": "zz"});
        let back = round_trip(&s, &sparse);
        assert_eq!(back["name"], Value::Null);
        assert_eq!(back["point"], json!({"acme.Point": {"x": 2.0}}));
    }

    #[test]
    fn bad_values_name_the_path() {
        let s = schema(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},
                {"name":"b","type":{"type":"array","items":{"type":"enum","name":"E","symbols":["X"]}}}]}"#,
        );
        let cases = [
            (json!({"a": "1", "b": []}), "$.a: expected an int"),
            (json!({"a": 1}), "$.b: missing"),
            (json!({"a": 1, "b": ["Y"]}), "$.b[0]: 'Y' is not a symbol"),
            (json!({"a": 1, "b": [], "c": 0}), "has no field 'c'"),
            (
                json!({"a": 3_000_000_000_i64, "b": []}),
                "does not fit an int",
            ),
            (json!([1]), "expected record 'R'"),
        ];
        for (json, want) in cases {
            let err = to_avro(&json, &s).unwrap_err();
            assert!(err.contains(want), "{json}: {err}");
        }
        let bytes = schema(r#""bytes""#);
        assert!(
            to_avro(&json!("\u{100}"), &bytes)
                .unwrap_err()
                .contains("U+00FF")
        );
    }

    #[test]
    fn framing_checks_the_magic_byte_and_length() {
        assert_eq!(unframe(&[0, 0, 0, 1, 0, 42]), Ok((256, &[42u8][..])));
        assert_eq!(
            unframe(&[1, 0, 0, 0, 1]).unwrap_err(),
            "Unknown magic byte!"
        );
        assert!(unframe(&[0, 0, 1]).unwrap_err().contains("too short"));
        assert_eq!(unframe(&[]).unwrap_err(), "Unknown magic byte!");
        assert_eq!(frame(-1, b"x"), vec![0, 255, 255, 255, 255, b'x']);
    }

    #[test]
    fn recursive_schemas_stop_at_the_depth_bound() {
        let s = schema(
            r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#,
        );
        let mut json = json!({"next": null});
        for _ in 0..10 {
            json = json!({"next": {"Node": json}});
        }
        assert_eq!(round_trip(&s, &json), json);
        let mut deep = json!({"next": null});
        for _ in 0..300 {
            deep = json!({"next": {"Node": deep}});
        }
        assert!(to_avro(&deep, &s).unwrap_err().contains("nested deeper"));
        // A hostile datum: branch 1 ("Node") a million times over.
        let hostile = vec![2u8; 1 << 20];
        assert!(
            decode_json(&hostile, &s)
                .unwrap_err()
                .contains("nests deeper")
        );
    }

    #[test]
    fn hostile_datums_fail_without_allocating_their_claims() {
        let s = schema(r#"{"type":"array","items":"null"}"#);
        // A block of i64::MAX / 2 nulls in ten bytes.
        let mut datum = vec![0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        datum.push(0);
        assert!(
            decode_json(&datum, &s)
                .unwrap_err()
                .contains("claims more values")
        );
        let strings = schema(r#""string""#);
        assert!(
            decode_json(&[0x80, 0x80, 0x80, 0x80, 0x10], &strings)
                .unwrap_err()
                .contains("more bytes")
        );
        assert!(
            decode_json(&[4, 0xff, 0xfe], &strings)
                .unwrap_err()
                .contains("UTF-8")
        );
        let e = schema(r#"{"type":"enum","name":"E","symbols":["A"]}"#);
        assert!(decode_json(&[2], &e).unwrap_err().contains("out of range"));
        for n in 0..64u8 {
            let _ = decode_json(
                &[n, n.wrapping_mul(7), 3],
                &schema(r#"["null","string",{"type":"map","values":"long"}]"#),
            );
        }
    }
}
