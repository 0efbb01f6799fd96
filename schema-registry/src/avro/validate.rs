//! Validation of Avro schema JSON against the Avro specification: names and namespaces, types,
//! record fields, enum symbols, fixed sizes, unions, and defaults (checked once every named type
//! is known). Each failure is a [`SchemaError::Invalid`] that says where it is, as a JSON pointer
//! rendered only when there is an error.
//!
//! Recursion is bounded by the JSON nesting, which `mod.rs` bounds before anything here runs.
//! Not owned here: size and nesting bounds, and parsing with `apache_avro` (`mod.rs`).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::SchemaError;

pub(super) const PRIMITIVES: [&str; 8] = [
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
pub(super) struct Validator<'a> {
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
pub(super) fn full_name(name: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) if !name.contains('.') && !ns.is_empty() => format!("{ns}.{name}"),
        _ => name.to_owned(),
    }
}

/// The namespace of a full name, `None` for the null namespace.
pub(super) fn namespace_of(full: &str) -> Option<&str> {
    full.rfind('.').map(|i| &full[..i])
}

/// Where the validator is in the schema JSON: a JSON pointer rendered only for an error
/// message, so walking a valid schema allocates nothing for it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Loc<'p> {
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
    pub(super) fn schema(
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

    pub(super) fn check_defaults(&self) -> Result<(), SchemaError> {
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

pub(super) fn invalid(location: &Loc<'_>, reason: impl Into<String>) -> SchemaError {
    SchemaError::Invalid {
        location: location.to_string(),
        reason: reason.into(),
    }
}
