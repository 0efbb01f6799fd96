//! The normalized form of a validated schema, behind `?normalize=true`: names fully qualified,
//! type references by full name, `{"type":"int"}` written `"int"`, keys in a fixed order (custom
//! attributes sorted), aliases sorted and fully qualified. See [`AvroSchema::normalized`].
//!
//! The input was validated (`validate.rs`), so nothing here reports errors.
//!
//! [`AvroSchema::normalized`]: super::AvroSchema::normalized

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::validate::{PRIMITIVES, full_name, namespace_of};

/// Writes `value` (a validated schema) in normal form; see [`AvroSchema::normalized`].
pub(super) fn normalize(value: &Value, namespace: &Option<String>, out: &mut String) {
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
