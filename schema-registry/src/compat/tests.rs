//! Levels, and the resolution rules case by case, with the work each check takes.

use super::resolution::{MAX_MESSAGES, run};
use super::*;
use crate::avro::Limits;

fn parse(raw: &str) -> AvroSchema {
    match AvroSchema::parse(raw, &[], &Limits::default()) {
        Ok(schema) => schema,
        Err(e) => panic!("{e}: {raw}"),
    }
}

#[test]
fn levels_parse_and_print_confluent_spelling() {
    for level in Level::ALL {
        assert_eq!(level.to_string().parse::<Level>(), Ok(level));
        assert_eq!(level.to_string().to_lowercase().parse::<Level>(), Ok(level));
    }
    assert_eq!("BACKWARD_TRANSITIVE".parse(), Ok(Level::BackwardTransitive));
    assert_eq!(Level::FullTransitive.to_string(), "FULL_TRANSITIVE");
    assert_eq!(Level::default(), Level::Backward);
    let err = "SIDEWAYS".parse::<Level>().expect_err("unknown");
    assert_eq!(err.to_string(), "Invalid compatibility level: 'SIDEWAYS'");
    assert!("".parse::<Level>().is_err());
    assert!(Level::Full.backward() && Level::Full.forward() && !Level::Full.transitive());
    assert!(!Level::None.backward() && !Level::None.forward());
}

#[test]
fn writer_field_aliases_do_not_count() {
    // The writer's field `b` is aliased `a`; a reader wanting `a` still finds nothing.
    let reader = parse(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#);
    let writer = parse(
        r#"{"type":"record","name":"R","fields":[{"name":"b","type":"int","aliases":["a"]}]}"#,
    );
    let messages = can_read(&reader, &writer);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(messages[0].contains("'a'"));
}

#[test]
fn recursion_through_changed_types_is_still_checked() {
    // The change sits inside the recursive type: it must be found, and the check must end.
    let old = parse(
        r#"{"type":"record","name":"Node","fields":[{"name":"children","type":{"type":"array","items":"Node"}},{"name":"v","type":"int"}]}"#,
    );
    let new = parse(
        r#"{"type":"record","name":"Node","fields":[{"name":"children","type":{"type":"array","items":"Node"}},{"name":"v","type":"string"}]}"#,
    );
    let messages = can_read(&new, &old);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(messages[0].contains("field 'v'"), "{}", messages[0]);
    // Mutual recursion A -> B -> A.
    let mutual = |extra: &str| {
        parse(&format!(
            r#"{{"type":"record","name":"A","fields":[{{"name":"b","type":["null",{{"type":"record","name":"B","fields":[{{"name":"a","type":["null","A"]}}{extra}]}}]}}]}}"#
        ))
    };
    assert!(can_read(&mutual(""), &mutual("")).is_empty());
    let messages = can_read(&mutual(r#",{"name":"x","type":"int"}"#), &mutual(""));
    assert!(
        messages.iter().any(|m| m.contains("'b.x'")),
        "{messages:#?}"
    );
}

/// A record whose fields all use one shared record type, 25 levels down: 2^25 paths, which
/// must be checked in linear time, with a bounded number of messages.
#[test]
fn shared_types_do_not_explode() {
    fn chain(levels: usize, leaf_extra: &str) -> String {
        let mut schema = format!(
            r#"{{"type":"record","name":"T{levels}","fields":[{{"name":"x","type":"int"}}{leaf_extra}]}}"#
        );
        for i in (0..levels).rev() {
            let next = i + 1;
            schema = format!(
                r#"{{"type":"record","name":"T{i}","fields":[{{"name":"l","type":{schema}}},{{"name":"r","type":"T{next}"}}]}}"#
            );
        }
        schema
    }
    let old = parse(&chain(25, ""));
    let new = parse(&chain(25, r#",{"name":"y","type":"int"}"#));
    let started = std::time::Instant::now();
    let messages = can_read(&new, &old);
    assert!(!messages.is_empty());
    assert!(messages.len() <= MAX_MESSAGES, "{}", messages.len());
    assert!(messages[0].contains(".y'"), "{}", messages[0]);
    assert!(can_read(&old, &old).is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// Issue 9 (hardening): a reader field missing from the writer scanned every writer field,
/// so renaming (or aliasing) the fields of an 18,000-field record took seconds. Matching is
/// now one index entry per writer field and one probe per name tried: the work is counted,
/// and must stay linear (quadratic would be 400 million here).
#[test]
fn field_matching_is_linear_in_the_number_of_fields() {
    const FIELDS: usize = 20_000;
    let record = |field: &dyn Fn(usize) -> String| {
        let fields: Vec<String> = (0..FIELDS).map(field).collect();
        parse(&format!(
            r#"{{"type":"record","name":"Big","fields":[{}]}}"#,
            fields.join(",")
        ))
    };
    let old = record(&|i| format!(r#"{{"name":"f{i}","type":"int"}}"#));
    let renamed = record(&|i| format!(r#"{{"name":"g{i}","type":"int","default":0}}"#));
    let aliased = record(&|i| format!(r#"{{"name":"g{i}","aliases":["f{i}"],"type":"int"}}"#));
    for (label, reader, writer, names_per_field) in [
        ("renamed, new reads old", &renamed, &old, 1),
        ("renamed, old reads new", &old, &renamed, 1),
        ("aliased, new reads old", &aliased, &old, 2),
        ("aliased, old reads new", &old, &aliased, 1),
    ] {
        let (_, work) = run(reader, writer);
        let bound = FIELDS * (1 + names_per_field);
        assert!(
            work.fields_examined <= bound,
            "{label}: {} writer fields examined for {FIELDS} fields, more than {bound}",
            work.fields_examined
        );
        assert!(work.steps <= FIELDS + 1, "{label}: {} steps", work.steps);
    }
    assert!(
        can_read(&aliased, &old).is_empty(),
        "aliases find the old fields"
    );
    assert!(
        !can_read(&old, &renamed).is_empty(),
        "old fields have no default"
    );
}

#[test]
fn union_of_records_reports_the_matching_branch() {
    let old = parse(
        r#"["null",{"type":"record","name":"A","fields":[]},{"type":"record","name":"B","fields":[]}]"#,
    );
    let new = parse(
        r#"["null",{"type":"record","name":"A","fields":[]},{"type":"record","name":"B","fields":[{"name":"z","type":"int"}]}]"#,
    );
    let messages = can_read(&new, &old);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(messages[0].contains("The field 'z'"), "{}", messages[0]);
    assert!(can_read(&old, &new).is_empty());
}

#[test]
fn decimals_and_logical_types_check_as_their_wire_type() {
    let bytes_decimal =
        parse(r#"{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}"#);
    let timestamp = parse(r#"{"type":"long","logicalType":"timestamp-millis"}"#);
    assert!(can_read(&parse(r#""bytes""#), &bytes_decimal).is_empty());
    assert!(can_read(&parse(r#""string""#), &bytes_decimal).is_empty());
    assert!(can_read(&parse(r#""long""#), &timestamp).is_empty());
    assert!(!can_read(&parse(r#""int""#), &timestamp).is_empty());
    let uuid = parse(r#"{"type":"string","logicalType":"uuid"}"#);
    assert!(can_read(&parse(r#""string""#), &uuid).is_empty());
}

#[test]
fn check_directions_name_new_and_old() {
    let old = parse(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#);
    let new = parse(r#"{"type":"record","name":"R","fields":[]}"#);
    assert!(check(Level::Backward, &new, &[&old]).is_empty());
    let messages = check(Level::Forward, &new, &[&old]);
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0]
            .contains("in the old schema has no default value and is missing in the new schema"),
        "{}",
        messages[0]
    );
    let detailed = check_detailed(Level::Full, &new, &[&old]);
    assert_eq!(detailed.len(), 1);
    assert_eq!(detailed[0].direction, Direction::Forward);
}

/// A chain of 300 records, each in its own reference, nests deeper than the check follows:
/// it must stop with a message, on a small stack, rather than overflow.
#[test]
fn deep_reference_chains_stop_with_a_message() {
    let mut references =
        vec![r#"{"type":"record","name":"R0","fields":[{"name":"x","type":"int"}]}"#.to_owned()];
    for i in 1..300 {
        let previous = i - 1;
        references.push(format!(
            r#"{{"type":"record","name":"R{i}","fields":[{{"name":"f","type":"R{previous}"}}]}}"#
        ));
    }
    let top = r#"{"type":"record","name":"Top","fields":[{"name":"r","type":"R299"}]}"#;
    let schema = AvroSchema::parse(top, &references, &Limits::default()).expect("valid");
    let worker = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || can_read(&schema, &schema))
        .expect("spawn");
    let messages = worker.join().expect("no stack overflow");
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(messages[0].contains("nest too deeply"), "{}", messages[0]);
}

/// Every single-character deletion and several substitutions of a few schemas: parsing
/// and checking must never panic (the crate faces HTTP input).
#[test]
fn mutated_schemas_never_panic() {
    let seeds = [
        r#"{"type":"record","name":"R","namespace":"n","aliases":["Q"],"fields":[{"name":"a","type":["null",{"type":"enum","name":"E","symbols":["X","Y"],"default":"X"}],"default":null},{"name":"b","type":{"type":"map","values":{"type":"fixed","name":"F","size":2}}},{"name":"c","type":{"type":"array","items":"R"},"default":[]}]}"#,
        r#"{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}"#,
    ];
    let replacements = ["", "\"", "{", "[", "1", "x", ".", "null", "-1", "\\"];
    let mut parsed = Vec::new();
    for seed in seeds {
        for i in 0..seed.len() {
            if !seed.is_char_boundary(i) || !seed.is_char_boundary(i + 1) {
                continue;
            }
            for replacement in replacements {
                let mutated = format!("{}{replacement}{}", &seed[..i], &seed[i + 1..]);
                if let Ok(schema) = AvroSchema::parse(&mutated, &[], &Limits::default()) {
                    let _ = schema.normalized();
                    parsed.push(schema);
                }
            }
        }
    }
    assert!(!parsed.is_empty());
    let seed = parse(seeds[0]);
    for schema in &parsed {
        let _ = can_read(schema, &seed);
        let _ = can_read(&seed, schema);
    }
}
