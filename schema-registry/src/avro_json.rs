//! Avro's JSON encoding, and the Confluent wire framing, for the gateway's `avro` embedded format.
//!
//! REST clients send and receive Avro data as JSON, in the form Avro's own `JsonEncoder` and
//! `JsonDecoder` use (and so Confluent's REST Proxy): a union is `null` or a one-key object
//! naming its branch (`{"string": "x"}`, `{"com.acme.Point": {...}}`), `bytes` and `fixed` are
//! strings whose characters U+0000–U+00FF are the bytes, records are objects, enums are their
//! symbol. [`encode_json`] writes such JSON as an Avro binary datum of a schema, checking it on
//! the way (a missing record field takes its default), with errors that give the JSON path;
//! [`decode_json`] reads a datum back into the same form. To be kind to hand-written JSON,
//! an untagged union value is also accepted when one branch takes it (the first that does).
//!
//! [`frame`] and [`unframe`] are Confluent's wire format: magic byte `0`, the schema id as a
//! 4-byte big-endian int, then the Avro binary datum.
//!
//! Not owned here: which schema applies (the registry and the gateway decide).

use apache_avro::Schema;
use apache_avro::schema::{Name, RecordSchema, UnionSchema};
use serde_json::{Map, Number, Value};

use crate::avro::AvroSchema;

/// Confluent's magic byte of framed data.
pub const MAGIC_BYTE: u8 = 0;

/// Deepest nesting [`encode_json`] and [`decode_json`] follow, counting records, arrays, maps and unions: recursive
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

/// Encodes JSON in Avro's JSON encoding as an Avro binary datum of `schema` (no framing),
/// checking it on the way. Written straight to bytes, without building Avro values: this is
/// the per-record cost of an Avro produce.
///
/// # Errors
/// A message naming the JSON path where the value does not fit the schema.
pub fn encode_json(json: &Value, schema: &AvroSchema, out: &mut Vec<u8>) -> Result<(), String> {
    let cx = Cx {
        schema,
        steps: std::cell::Cell::new(0),
    };
    let start = out.len();
    let r = cx.encode(json, schema.schema(), &mut String::from("$"), 0, out);
    if r.is_err() {
        out.truncate(start);
    }
    r
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
    format!(
        "{path}: expected {expected}, got {}",
        crate::avro::kind_of(got)
    )
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

    fn encode(
        &self,
        json: &Value,
        schema: &Schema,
        path: &mut String,
        depth: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
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
        match schema {
            Schema::Null => {
                if !json.is_null() {
                    return Err(type_error(path, "null", json));
                }
            }
            Schema::Boolean => {
                let b = json
                    .as_bool()
                    .ok_or_else(|| type_error(path, "a boolean", json))?;
                out.push(u8::from(b));
            }
            Schema::Int | Schema::Date | Schema::TimeMillis => {
                let n = int_of(json, path, "an int")?;
                i32::try_from(n).map_err(|_| format!("{path}: {n} does not fit an int"))?;
                write_long(out, n);
            }
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => write_long(out, int_of(json, path, "a long")?),
            #[expect(
                clippy::cast_possible_truncation,
                reason = "float is what the schema asks for"
            )]
            Schema::Float => {
                let f = json
                    .as_f64()
                    .ok_or_else(|| type_error(path, "a float", json))?;
                out.extend_from_slice(&(f as f32).to_le_bytes());
            }
            Schema::Double => {
                let f = json
                    .as_f64()
                    .ok_or_else(|| type_error(path, "a double", json))?;
                out.extend_from_slice(&f.to_le_bytes());
            }
            Schema::Bytes | Schema::BigDecimal => {
                let s = json
                    .as_str()
                    .ok_or_else(|| type_error(path, "bytes (a string)", json))?;
                write_bytes(out, &latin1(s, path)?);
            }
            Schema::Decimal(d) => {
                let s = json
                    .as_str()
                    .ok_or_else(|| type_error(path, "decimal bytes (a string)", json))?;
                let bytes = latin1(s, path)?;
                match &*d.inner {
                    Schema::Fixed(f) if bytes.len() != f.size => {
                        return Err(format!("{path}: this decimal is {} bytes", f.size));
                    }
                    Schema::Fixed(_) => out.extend_from_slice(&bytes),
                    _ => write_bytes(out, &bytes),
                }
            }
            Schema::String | Schema::Uuid => {
                let s = json
                    .as_str()
                    .ok_or_else(|| type_error(path, "a string", json))?;
                write_bytes(out, s.as_bytes());
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
                out.extend_from_slice(&bytes);
            }
            Schema::Duration => {
                let s = json
                    .as_str()
                    .ok_or_else(|| type_error(path, "a 12-byte duration string", json))?;
                let bytes = latin1(s, path)?;
                if bytes.len() != 12 {
                    return Err(format!("{path}: a duration is 12 bytes"));
                }
                out.extend_from_slice(&bytes);
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
                write_long(out, i64::try_from(index).unwrap_or(i64::MAX));
            }
            Schema::Array(a) => {
                let items = json
                    .as_array()
                    .ok_or_else(|| type_error(path, "an array", json))?;
                if !items.is_empty() {
                    write_long(out, i64::try_from(items.len()).unwrap_or(i64::MAX));
                    for (i, item) in items.iter().enumerate() {
                        self.encode_at(item, &a.items, path, &format!("[{i}]"), depth, out)?;
                    }
                }
                out.push(0);
            }
            Schema::Map(m) => {
                let entries = json
                    .as_object()
                    .ok_or_else(|| type_error(path, "a map (an object)", json))?;
                if !entries.is_empty() {
                    write_long(out, i64::try_from(entries.len()).unwrap_or(i64::MAX));
                    for (k, v) in entries {
                        write_bytes(out, k.as_bytes());
                        self.encode_at(v, &m.types, path, &format!("[{k:?}]"), depth, out)?;
                    }
                }
                out.push(0);
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
                for field in &r.fields {
                    let len = path.len();
                    path.push('.');
                    path.push_str(&field.name);
                    match (object.get(&field.name), &field.default) {
                        (Some(v), _) => self.encode(v, &field.schema, path, depth + 1, out)?,
                        (None, Some(default)) => self.default(default, &field.schema, path, out)?,
                        (None, None) => {
                            return Err(format!("{path}: missing, and the field has no default"));
                        }
                    }
                    path.truncate(len);
                }
            }
            Schema::Union(u) => self.encode_union(json, u, path, depth, out)?,
            Schema::Ref { name } => {
                return Err(format!("{path}: unresolved type '{}'", name.fullname(None)));
            }
        }
        Ok(())
    }

    /// A field default: JSON in Avro's default form, where a union's default belongs to its
    /// first branch (untagged).
    fn default(
        &self,
        default: &Value,
        schema: &Schema,
        path: &mut String,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        match self.resolve(schema)? {
            Schema::Union(u) => {
                let first = u
                    .variants()
                    .first()
                    .ok_or_else(|| format!("{path}: empty union"))?;
                write_long(out, 0);
                self.encode(default, first, path, 0, out)
            }
            other => self.encode(default, other, path, 0, out),
        }
    }

    /// Encodes a part of a value one level down, with `step` on `path` while it does, so its
    /// errors name where they are.
    fn encode_at(
        &self,
        json: &Value,
        schema: &Schema,
        path: &mut String,
        step: &str,
        depth: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let len = path.len();
        path.push_str(step);
        self.encode(json, schema, path, depth + 1, out)?;
        path.truncate(len);
        Ok(())
    }

    fn encode_union(
        &self,
        json: &Value,
        u: &UnionSchema,
        path: &mut String,
        depth: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let variants = u.variants();
        let index = |i: usize| i64::try_from(i).unwrap_or(i64::MAX);
        if json.is_null() {
            let i = variants
                .iter()
                .position(|s| matches!(s, Schema::Null))
                .ok_or_else(|| format!("{path}: null is not a branch of this union"))?;
            write_long(out, index(i));
            return Ok(());
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
            if let Some((i, variant)) = variants.iter().enumerate().find(|(_, s)| named(s)) {
                write_long(out, index(i));
                self.encode_at(inner, variant, path, &format!("<{tag}>"), depth, out)?;
                return Ok(());
            }
        }
        // Untagged: the first branch that takes the value.
        let start = out.len();
        for (i, variant) in variants.iter().enumerate() {
            if matches!(variant, Schema::Null) {
                continue;
            }
            write_long(out, index(i));
            let mut scratch = path.clone();
            match self.encode(json, variant, &mut scratch, depth + 1, out) {
                Ok(()) => return Ok(()),
                Err(_) => out.truncate(start),
            }
        }
        let names: Vec<String> = variants.iter().map(branch_name).collect();
        Err(format!(
            "{path}: the value fits no branch of the union [{}]; write it as {{\"<branch>\": value}}",
            names.join(", ")
        ))
    }
}

/// Avro's zig-zag varint.
fn write_long(out: &mut Vec<u8>, n: i64) {
    #[expect(clippy::cast_sign_loss, reason = "zig-zag encoding")]
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_long(out, i64::try_from(b.len()).unwrap_or(i64::MAX));
    out.extend_from_slice(b);
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

    fn encode(json: &Value, s: &AvroSchema) -> Result<Vec<u8>, String> {
        let mut out = vec![9];
        let r = encode_json(json, s, &mut out);
        // A failed encode leaves the buffer as it was.
        assert!(r.is_ok() || out == [9]);
        r.map(|()| out.split_off(1))
    }

    fn round_trip(s: &AvroSchema, json: &Value) -> Value {
        let datum = encode(json, s).unwrap();
        let framed = frame(7, &datum);
        let (id, rest) = unframe(&framed).unwrap();
        assert_eq!(id, 7);
        // apache_avro's own decoder reads what we wrote, to the end; ours reads it back.
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
            let err = encode(&json, &s).unwrap_err();
            assert!(err.contains(want), "{json}: {err}");
        }
        let bytes = schema(r#""bytes""#);
        assert!(
            encode(&json!("\u{100}"), &bytes)
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
        assert!(encode(&deep, &s).unwrap_err().contains("nested deeper"));
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
