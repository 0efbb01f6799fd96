//! The compatibility table of issue 5: schema pairs and version sequences across all seven
//! levels, each with the expected verdict, and for incompatible rows the words (field names,
//! symbols, error types) the messages must contain.

use runnel_schema_registry::avro::{AvroSchema, Limits};
use runnel_schema_registry::compat::{Level, can_read, check};

/// A record `R` with the given fields (JSON array items).
fn rec(fields: &str) -> String {
    format!(r#"{{"type":"record","name":"R","namespace":"com.acme","fields":[{fields}]}}"#)
}

/// A record `R` with one field `f` of the given type.
fn field(ty: &str) -> String {
    rec(&format!(r#"{{"name":"f","type":{ty}}}"#))
}

fn enum_field(symbols: &str, default: Option<&str>) -> String {
    let default = default
        .map(|d| format!(r#","default":"{d}""#))
        .unwrap_or_default();
    field(&format!(
        r#"{{"type":"enum","name":"Color","symbols":[{symbols}]{default}}}"#
    ))
}

fn list(extra_field: &str) -> String {
    format!(
        r#"{{"type":"record","name":"Node","fields":[{{"name":"value","type":"long"}},{{"name":"next","type":["null","Node"],"default":null}}{extra_field}]}}"#
    )
}

const A: &str = r#"{"name":"a","type":"int"}"#;
const B_DEFAULT: &str = r#"{"name":"b","type":"string","default":"x"}"#;
const B_NO_DEFAULT: &str = r#"{"name":"b","type":"string"}"#;

/// `None`: compatible. `Some(words)`: incompatible, and every word appears in the messages.
type Expect = Option<&'static [&'static str]>;

struct Case {
    name: &'static str,
    level: Level,
    /// Oldest first.
    existing: Vec<String>,
    new: String,
    expect: Expect,
}

fn case(
    name: &'static str,
    level: Level,
    existing: Vec<String>,
    new: String,
    expect: Expect,
) -> Case {
    Case {
        name,
        level,
        existing,
        new,
        expect,
    }
}

const OK: Expect = None;

fn cases() -> Vec<Case> {
    use Level::*;
    let a = rec(A);
    let ab_default = rec(&format!("{A},{B_DEFAULT}"));
    let ab = rec(&format!("{A},{B_NO_DEFAULT}"));
    let address = |extra: &str| {
        rec(&format!(
            r#"{{"name":"user","type":{{"type":"record","name":"User","fields":[{{"name":"address","type":{{"type":"record","name":"Address","fields":[{{"name":"street","type":"string"}}{extra}]}}}}]}}}}"#
        ))
    };
    let items = |extra: &str| {
        rec(&format!(
            r#"{{"name":"items","type":{{"type":"array","items":{{"type":"record","name":"Item","fields":[{{"name":"sku","type":"string"}}{extra}]}}}}}}"#
        ))
    };
    vec![
        // Adding and removing fields.
        case(
            "backward: add field with default",
            Backward,
            vec![a.clone()],
            ab_default.clone(),
            OK,
        ),
        case(
            "backward: add field without default",
            Backward,
            vec![a.clone()],
            ab.clone(),
            Some(&["READER_FIELD_MISSING_DEFAULT_VALUE", "'b'"]),
        ),
        case(
            "backward: remove field",
            Backward,
            vec![ab.clone()],
            a.clone(),
            OK,
        ),
        case(
            "forward: add field without default",
            Forward,
            vec![a.clone()],
            ab.clone(),
            OK,
        ),
        case(
            "forward: remove field without default",
            Forward,
            vec![ab.clone()],
            a.clone(),
            Some(&["READER_FIELD_MISSING_DEFAULT_VALUE", "'b'", "old schema"]),
        ),
        case(
            "forward: remove field with default",
            Forward,
            vec![ab_default.clone()],
            a.clone(),
            OK,
        ),
        case(
            "full: add field with default",
            Full,
            vec![a.clone()],
            ab_default.clone(),
            OK,
        ),
        case(
            "full: add field without default",
            Full,
            vec![a.clone()],
            ab.clone(),
            Some(&["'b'"]),
        ),
        case(
            "full: remove field with default",
            Full,
            vec![ab_default.clone()],
            a.clone(),
            OK,
        ),
        case(
            "full: remove field without default",
            Full,
            vec![ab.clone()],
            a.clone(),
            Some(&["'b'"]),
        ),
        case(
            "none: add field without default",
            None,
            vec![a.clone()],
            ab.clone(),
            OK,
        ),
        case(
            "none: change type",
            None,
            vec![field(r#""int""#)],
            field(r#""string""#),
            OK,
        ),
        case(
            "any level: no existing versions",
            FullTransitive,
            vec![],
            ab.clone(),
            OK,
        ),
        // Promotions, both directions.
        case(
            "backward: int to long",
            Backward,
            vec![field(r#""int""#)],
            field(r#""long""#),
            OK,
        ),
        case(
            "backward: long to int",
            Backward,
            vec![field(r#""long""#)],
            field(r#""int""#),
            Some(&["TYPE_MISMATCH", "'f'", "'int'", "'long'"]),
        ),
        case(
            "forward: int to long",
            Forward,
            vec![field(r#""int""#)],
            field(r#""long""#),
            Some(&["TYPE_MISMATCH", "'f'"]),
        ),
        case(
            "full: int to long",
            Full,
            vec![field(r#""int""#)],
            field(r#""long""#),
            Some(&["'f'"]),
        ),
        case(
            "backward: int to float",
            Backward,
            vec![field(r#""int""#)],
            field(r#""float""#),
            OK,
        ),
        case(
            "backward: int to double",
            Backward,
            vec![field(r#""int""#)],
            field(r#""double""#),
            OK,
        ),
        case(
            "backward: long to float",
            Backward,
            vec![field(r#""long""#)],
            field(r#""float""#),
            OK,
        ),
        case(
            "backward: long to double",
            Backward,
            vec![field(r#""long""#)],
            field(r#""double""#),
            OK,
        ),
        case(
            "backward: float to double",
            Backward,
            vec![field(r#""float""#)],
            field(r#""double""#),
            OK,
        ),
        case(
            "backward: double to float",
            Backward,
            vec![field(r#""double""#)],
            field(r#""float""#),
            Some(&["'f'", "'double'"]),
        ),
        case(
            "backward: float to long",
            Backward,
            vec![field(r#""float""#)],
            field(r#""long""#),
            Some(&["'f'"]),
        ),
        case(
            "forward: long to double",
            Forward,
            vec![field(r#""long""#)],
            field(r#""double""#),
            Some(&["'f'"]),
        ),
        case(
            "backward: string to bytes",
            Backward,
            vec![field(r#""string""#)],
            field(r#""bytes""#),
            OK,
        ),
        case(
            "backward: bytes to string",
            Backward,
            vec![field(r#""bytes""#)],
            field(r#""string""#),
            OK,
        ),
        case(
            "full: string to bytes",
            Full,
            vec![field(r#""string""#)],
            field(r#""bytes""#),
            OK,
        ),
        case(
            "backward: string to int",
            Backward,
            vec![field(r#""string""#)],
            field(r#""int""#),
            Some(&["TYPE_MISMATCH", "'f'"]),
        ),
        case(
            "backward: boolean to int",
            Backward,
            vec![field(r#""boolean""#)],
            field(r#""int""#),
            Some(&["'f'"]),
        ),
        case(
            "backward: logical date to plain int",
            Backward,
            vec![field(r#"{"type":"int","logicalType":"date"}"#)],
            field(r#""int""#),
            OK,
        ),
        // Enums.
        case(
            "backward: add enum symbol",
            Backward,
            vec![enum_field(r#""RED","GREEN""#, Option::None)],
            enum_field(r#""RED","GREEN","BLUE""#, Option::None),
            OK,
        ),
        case(
            "backward: remove enum symbol",
            Backward,
            vec![enum_field(r#""RED","GREEN","BLUE""#, Option::None)],
            enum_field(r#""RED","GREEN""#, Option::None),
            Some(&["MISSING_ENUM_SYMBOLS", "BLUE", "'f'"]),
        ),
        case(
            "backward: remove enum symbol, reader has default",
            Backward,
            vec![enum_field(r#""RED","GREEN","BLUE""#, Option::None)],
            enum_field(r#""RED","GREEN""#, Some("RED")),
            OK,
        ),
        case(
            "forward: add enum symbol",
            Forward,
            vec![enum_field(r#""RED","GREEN""#, Option::None)],
            enum_field(r#""RED","GREEN","BLUE""#, Option::None),
            Some(&["MISSING_ENUM_SYMBOLS", "BLUE"]),
        ),
        case(
            "forward: add enum symbol, old enum has default",
            Forward,
            vec![enum_field(r#""RED","GREEN""#, Some("RED"))],
            enum_field(r#""RED","GREEN","BLUE""#, Some("RED")),
            OK,
        ),
        case(
            "full: add enum symbol",
            Full,
            vec![enum_field(r#""RED""#, Option::None)],
            enum_field(r#""RED","BLUE""#, Option::None),
            Some(&["BLUE"]),
        ),
        case(
            "backward: enum renamed",
            Backward,
            vec![field(r#"{"type":"enum","name":"Color","symbols":["RED"]}"#)],
            field(r#"{"type":"enum","name":"Colour","symbols":["RED"]}"#),
            Some(&["NAME_MISMATCH", "Colour", "Color"]),
        ),
        case(
            "backward: enum renamed with alias",
            Backward,
            vec![field(r#"{"type":"enum","name":"Color","symbols":["RED"]}"#)],
            field(r#"{"type":"enum","name":"Colour","aliases":["Color"],"symbols":["RED"]}"#),
            OK,
        ),
        // Unions.
        case(
            "backward: widen to optional",
            Backward,
            vec![field(r#""int""#)],
            field(r#"["null","int"]"#),
            OK,
        ),
        case(
            "backward: narrow optional to required",
            Backward,
            vec![field(r#"["null","int"]"#)],
            field(r#""int""#),
            Some(&["'f'", "'null'"]),
        ),
        case(
            "forward: widen to optional",
            Forward,
            vec![field(r#""int""#)],
            field(r#"["null","int"]"#),
            Some(&["'f'"]),
        ),
        case(
            "forward: narrow optional to required",
            Forward,
            vec![field(r#"["null","int"]"#)],
            field(r#""int""#),
            OK,
        ),
        case(
            "backward: union gains a branch",
            Backward,
            vec![field(r#"["null","int"]"#)],
            field(r#"["null","int","string"]"#),
            OK,
        ),
        case(
            "backward: union loses a branch",
            Backward,
            vec![field(r#"["null","int","string"]"#)],
            field(r#"["null","int"]"#),
            Some(&["MISSING_UNION_BRANCH", "'f'", "'string'"]),
        ),
        case(
            "backward: union branch promoted",
            Backward,
            vec![field(r#"["null","int"]"#)],
            field(r#"["null","long"]"#),
            OK,
        ),
        case(
            "full: union gains a branch",
            Full,
            vec![field(r#"["null","string"]"#)],
            field(r#"["null","string","int"]"#),
            Some(&["'f'", "'int'"]),
        ),
        case(
            "backward: record inside union gains a field without default",
            Backward,
            vec![field(
                r#"["null",{"type":"record","name":"In","fields":[{"name":"x","type":"int"}]}]"#,
            )],
            field(
                r#"["null",{"type":"record","name":"In","fields":[{"name":"x","type":"int"},{"name":"y","type":"int"}]}]"#,
            ),
            Some(&["READER_FIELD_MISSING_DEFAULT_VALUE", "'f.y'"]),
        ),
        // Aliases.
        case(
            "backward: field renamed with alias",
            Backward,
            vec![a.clone()],
            rec(r#"{"name":"alpha","type":"int","aliases":["a"]}"#),
            OK,
        ),
        case(
            "backward: field renamed without alias",
            Backward,
            vec![a.clone()],
            rec(r#"{"name":"alpha","type":"int"}"#),
            Some(&["'alpha'"]),
        ),
        case(
            "forward: field renamed with alias in the new schema only",
            Forward,
            vec![a.clone()],
            rec(r#"{"name":"alpha","type":"int","aliases":["a"]}"#),
            Some(&["'a'"]),
        ),
        case(
            "backward: record renamed with alias",
            Backward,
            vec![a.clone()],
            format!(
                r#"{{"type":"record","name":"S","namespace":"com.acme","aliases":["R"],"fields":[{A}]}}"#
            ),
            OK,
        ),
        case(
            "backward: record renamed without alias",
            Backward,
            vec![a.clone()],
            format!(r#"{{"type":"record","name":"S","namespace":"com.acme","fields":[{A}]}}"#),
            Some(&["NAME_MISMATCH", "com.acme.S", "com.acme.R"]),
        ),
        case(
            "backward: record moved to another namespace",
            Backward,
            vec![a.clone()],
            format!(r#"{{"type":"record","name":"R","namespace":"org.other","fields":[{A}]}}"#),
            OK,
        ),
        // Nested records.
        case(
            "backward: nested field added without default",
            Backward,
            vec![address("")],
            address(r#",{"name":"zip","type":"string"}"#),
            Some(&[
                "'user.address.zip'",
                "/fields/0/type/fields/0/type/fields/1",
            ]),
        ),
        case(
            "backward: nested field added with default",
            Backward,
            vec![address("")],
            address(r#",{"name":"zip","type":"string","default":""}"#),
            OK,
        ),
        case(
            "forward: nested field removed without default",
            Forward,
            vec![address(r#",{"name":"zip","type":"string"}"#)],
            address(""),
            Some(&["'user.address.zip'"]),
        ),
        case(
            "full: nested field type promoted",
            Full,
            vec![address(r#",{"name":"zip","type":"int","default":0}"#)],
            address(r#",{"name":"zip","type":"long","default":0}"#),
            Some(&["'user.address.zip'"]),
        ),
        // Arrays and maps.
        case(
            "backward: array items promoted",
            Backward,
            vec![field(r#"{"type":"array","items":"int"}"#)],
            field(r#"{"type":"array","items":"long"}"#),
            OK,
        ),
        case(
            "backward: array items narrowed",
            Backward,
            vec![field(r#"{"type":"array","items":"long"}"#)],
            field(r#"{"type":"array","items":"int"}"#),
            Some(&["'f[]'", "/items"]),
        ),
        case(
            "backward: map values changed",
            Backward,
            vec![field(r#"{"type":"map","values":"int"}"#)],
            field(r#"{"type":"map","values":"string"}"#),
            Some(&["'f{}'", "/values"]),
        ),
        case(
            "backward: map values promoted",
            Backward,
            vec![field(r#"{"type":"map","values":"float"}"#)],
            field(r#"{"type":"map","values":"double"}"#),
            OK,
        ),
        case(
            "backward: map became an array",
            Backward,
            vec![field(r#"{"type":"map","values":"int"}"#)],
            field(r#"{"type":"array","items":"int"}"#),
            Some(&["TYPE_MISMATCH", "'f'"]),
        ),
        case(
            "backward: array item record gains a field without default",
            Backward,
            vec![items("")],
            items(r#",{"name":"qty","type":"int"}"#),
            Some(&["'items[].qty'"]),
        ),
        case(
            "forward: array item record loses a field with default",
            Forward,
            vec![items(r#",{"name":"qty","type":"int","default":1}"#)],
            items(""),
            OK,
        ),
        // Fixed.
        case(
            "backward: fixed size changed",
            Backward,
            vec![field(r#"{"type":"fixed","name":"Hash","size":16}"#)],
            field(r#"{"type":"fixed","name":"Hash","size":32}"#),
            Some(&["FIXED_SIZE_MISMATCH", "'f'"]),
        ),
        case(
            "full: fixed unchanged",
            Full,
            vec![field(r#"{"type":"fixed","name":"Hash","size":16}"#)],
            field(r#"{"type":"fixed","name":"Hash","size":16}"#),
            OK,
        ),
        case(
            "backward: fixed renamed with alias",
            Backward,
            vec![field(r#"{"type":"fixed","name":"Hash","size":16}"#)],
            field(r#"{"type":"fixed","name":"Digest","aliases":["Hash"],"size":16}"#),
            OK,
        ),
        // Recursive types.
        case(
            "full: recursive list unchanged",
            Full,
            vec![list("")],
            list(""),
            OK,
        ),
        case(
            "backward: recursive list gains a field with default",
            Backward,
            vec![list("")],
            list(r#",{"name":"label","type":"string","default":""}"#),
            OK,
        ),
        case(
            "backward: recursive list gains a field without default",
            Backward,
            vec![list("")],
            list(r#",{"name":"label","type":"string"}"#),
            Some(&["'label'"]),
        ),
        case(
            "full_transitive: mutually recursive records",
            FullTransitive,
            vec![rec(
                r#"{"name":"tree","type":{"type":"record","name":"Tree","fields":[{"name":"kids","type":{"type":"array","items":"Tree"}}]}}"#,
            )],
            rec(
                r#"{"name":"tree","type":{"type":"record","name":"Tree","fields":[{"name":"kids","type":{"type":"array","items":"Tree"}},{"name":"n","type":"int","default":0}]}}"#,
            ),
            OK,
        ),
        // Transitive levels: the pairwise check passes, the transitive one fails.
        case(
            "backward: v1 {a}, v2 {a, b default}, v3 {a, b required} against the latest only",
            Backward,
            vec![a.clone(), ab_default.clone()],
            ab.clone(),
            OK,
        ),
        case(
            "backward_transitive: v3 {a, b required} cannot read v1 {a}",
            BackwardTransitive,
            vec![a.clone(), ab_default.clone()],
            ab.clone(),
            Some(&["'b'"]),
        ),
        case(
            "forward: v1 {a, b required}, v2 {a, b default}, v3 {a} against the latest only",
            Forward,
            vec![ab.clone(), ab_default.clone()],
            a.clone(),
            OK,
        ),
        case(
            "forward_transitive: v1 {a, b required} cannot read v3 {a}",
            ForwardTransitive,
            vec![ab.clone(), ab_default.clone()],
            a.clone(),
            Some(&["'b'"]),
        ),
        case(
            "full: v1 {a}, v2 {a, b default}, v3 {a, b required} against the latest only",
            Full,
            vec![a.clone(), ab_default.clone()],
            ab.clone(),
            OK,
        ),
        case(
            "full_transitive: v3 {a, b required} against v1 {a}",
            FullTransitive,
            vec![a.clone(), ab_default.clone()],
            ab.clone(),
            Some(&["'b'"]),
        ),
        case(
            "backward: x string, then removed, then x int with default (latest only)",
            Backward,
            vec![
                rec(r#"{"name":"x","type":"string"}"#),
                rec(r#"{"name":"y","type":"int","default":0}"#),
            ],
            rec(r#"{"name":"x","type":"int","default":0}"#),
            OK,
        ),
        case(
            "backward_transitive: x string, then removed, then x int",
            BackwardTransitive,
            vec![
                rec(r#"{"name":"x","type":"string"}"#),
                rec(r#"{"name":"y","type":"int","default":0}"#),
            ],
            rec(r#"{"name":"x","type":"int","default":0}"#),
            Some(&["TYPE_MISMATCH", "'x'"]),
        ),
        case(
            "forward: enum symbols [A,B,C], [A,B] default A, [A,B,D] (latest only)",
            Forward,
            vec![
                enum_field(r#""A","B","C""#, Option::None),
                enum_field(r#""A","B""#, Some("A")),
            ],
            enum_field(r#""A","B","D""#, Option::None),
            OK,
        ),
        case(
            "forward_transitive: v1 enum without default cannot read symbol D",
            ForwardTransitive,
            vec![
                enum_field(r#""A","B","C""#, Option::None),
                enum_field(r#""A","B""#, Some("A")),
            ],
            enum_field(r#""A","B","D""#, Option::None),
            Some(&["MISSING_ENUM_SYMBOLS", "D"]),
        ),
        case(
            "backward_transitive: int, long, float promotions all the way",
            BackwardTransitive,
            vec![field(r#""int""#), field(r#""long""#)],
            field(r#""float""#),
            OK,
        ),
        case(
            "backward_transitive: int, long, then back to int fails against long",
            BackwardTransitive,
            vec![field(r#""int""#), field(r#""long""#)],
            field(r#""int""#),
            Some(&["'f'", "'long'"]),
        ),
        case(
            "full_transitive: optional fields added one at a time",
            FullTransitive,
            vec![a.clone(), ab_default.clone()],
            rec(&format!(
                r#"{A},{B_DEFAULT},{{"name":"c","type":["null","long"],"default":null}}"#
            )),
            OK,
        ),
        case(
            "forward_transitive: all versions pass",
            ForwardTransitive,
            vec![ab_default.clone(), ab_default.clone()],
            a.clone(),
            OK,
        ),
        case(
            "none: transitive history ignored",
            None,
            vec![field(r#""string""#), field(r#""boolean""#)],
            field(r#""int""#),
            OK,
        ),
    ]
}

fn parse(raw: &str) -> AvroSchema {
    match AvroSchema::parse(raw, &[], &Limits::default()) {
        Ok(schema) => schema,
        Err(e) => panic!("test schema does not parse: {e}\n{raw}"),
    }
}

#[test]
fn compatibility_table() {
    let cases = cases();
    assert!(cases.len() >= 60, "the table has {} rows", cases.len());
    let mut levels_seen = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for case in &cases {
        levels_seen.insert(case.level);
        let existing: Vec<AvroSchema> = case.existing.iter().map(|s| parse(s)).collect();
        let existing: Vec<&AvroSchema> = existing.iter().collect();
        let new = parse(&case.new);
        let messages = check(case.level, &new, &existing);
        match case.expect {
            Option::None if !messages.is_empty() => {
                failures.push(format!(
                    "{}: expected compatible, got {messages:#?}",
                    case.name
                ));
            }
            Some(_) if messages.is_empty() => {
                failures.push(format!(
                    "{}: expected incompatible, got compatible",
                    case.name
                ));
            }
            Some(words) => {
                let all = messages.join("\n");
                for word in words {
                    if !all.contains(word) {
                        failures.push(format!(
                            "{}: messages do not mention {word}:\n{all}",
                            case.name
                        ));
                    }
                }
            }
            Option::None => {}
        }
    }
    assert_eq!(levels_seen.len(), 7, "every level appears in the table");
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn transitive_checks_report_each_failing_version() {
    let v1 = parse(&rec(A));
    let v2 = parse(&rec(r#"{"name":"a","type":"long"}"#));
    let new = parse(&rec(r#"{"name":"a","type":"string"}"#));
    let detailed = runnel_schema_registry::compat::check_detailed(
        Level::BackwardTransitive,
        &new,
        &[&v1, &v2],
    );
    let indexes: Vec<usize> = detailed.iter().map(|d| d.existing_index).collect();
    assert_eq!(indexes, vec![1, 0], "newest first, one failure per version");
    // Identical messages for two versions are reported once by `check`.
    let messages = check(Level::BackwardTransitive, &new, &[&v1, &v2]);
    assert_eq!(messages.len(), 2, "{messages:#?}");
}

#[test]
fn can_read_speaks_of_reader_and_writer() {
    let reader = parse(&rec(&format!("{A},{B_NO_DEFAULT}")));
    let writer = parse(&rec(A));
    let messages = can_read(&reader, &writer);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(messages[0].contains("The field 'b'"), "{}", messages[0]);
    assert!(
        messages[0].contains("in the reader schema"),
        "{}",
        messages[0]
    );
    assert!(
        messages[0].contains("missing in the writer schema"),
        "{}",
        messages[0]
    );
    assert!(can_read(&writer, &reader).is_empty());
}

#[test]
fn references_are_followed_when_checking() {
    let address = |extra: &str| {
        format!(
            r#"{{"type":"record","name":"Address","namespace":"com.acme","fields":[{{"name":"street","type":"string"}}{extra}]}}"#
        )
    };
    let user = r#"{"type":"record","name":"User","namespace":"com.acme","fields":[{"name":"home","type":"Address"}]}"#;
    let old = AvroSchema::parse(user, &[address("")], &Limits::default()).expect("valid");
    let new = AvroSchema::parse(
        user,
        &[address(r#",{"name":"zip","type":"string"}"#)],
        &Limits::default(),
    )
    .expect("valid");
    let messages = check(Level::Backward, &new, &[&old]);
    assert!(
        messages.iter().any(|m| m.contains("'home.zip'")),
        "{messages:#?}"
    );
    assert!(check(Level::Forward, &new, &[&old]).is_empty());
}
