//! Parsing, validation, the canonical and normalized forms, and encode/decode of `AvroSchema`,
//! through its public API only.

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
    let s = parse(r#"{ "type" : "enum", "name" : "E", "doc": "a \" b  c", "symbols" : [ "A" ] }"#)
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
