//! Arbitrary bytes through the Avro codec the gateway serves untrusted data with
//! (`runnel_schema_registry::avro_json`): neither `decode_json` (stored bytes, which any
//! producer may have written) nor `encode_json` (request JSON) may panic, overflow the stack or
//! allocate past their bounds, and whatever decodes must encode back to a datum that decodes
//! to the same JSON.
//!
//! The first input byte picks a schema (recursive, unions, maps and arrays, enums and fixed,
//! logical types) and, with bit 7, the mode: clear decodes the rest as a datum, set parses the
//! rest as JSON and encodes it.
//!
//! Run: `cargo fuzz run avro_datum fuzz/seeds/avro_datum` (see `.ci/fuzz.sh`).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use runnel_schema_registry::avro::{AvroSchema, Limits};
use runnel_schema_registry::avro_json::{decode_json, encode_json};

const SCHEMAS: [&str; 5] = [
    r#"{"type":"record","name":"Node","fields":[{"name":"v","type":"long"},{"name":"next","type":["null","Node"]}]}"#,
    r#"{"type":"record","name":"U","fields":[{"name":"a","type":["null","int","string",{"type":"record","name":"P","fields":[{"name":"x","type":"double"}]}]},{"name":"b","type":["bytes","float","boolean"],"default":"x"}]}"#,
    r#"{"type":"map","values":{"type":"array","items":["null","string",{"type":"map","values":"long"}]}}"#,
    r#"{"type":"record","name":"E","fields":[{"name":"e","type":{"type":"enum","name":"K","symbols":["A","B","C"]}},{"name":"f","type":{"type":"fixed","name":"F","size":3}}]}"#,
    r#"{"type":"record","name":"L","fields":[{"name":"d","type":{"type":"int","logicalType":"date"}},{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"u","type":{"type":"string","logicalType":"uuid"}},{"name":"m","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}}]}"#,
];

fn schemas() -> &'static [AvroSchema] {
    static PARSED: OnceLock<Vec<AvroSchema>> = OnceLock::new();
    PARSED.get_or_init(|| {
        SCHEMAS
            .iter()
            .map(|s| AvroSchema::parse(s, &[], &Limits::default()).expect("fuzz schemas parse"))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let all = schemas();
    let schema = &all[usize::from(mode & 0x7f) % all.len()];
    let json = if mode & 0x80 == 0 {
        match decode_json(rest, schema) {
            Ok(json) => json,
            Err(_) => return,
        }
    } else {
        match serde_json::from_slice::<serde_json::Value>(rest) {
            Ok(json) => json,
            Err(_) => return,
        }
    };
    let mut datum = Vec::new();
    if encode_json(&json, schema, &mut datum).is_err() {
        assert!(datum.is_empty(), "a failed encode leaves the buffer as it was");
        return;
    }
    let again = decode_json(&datum, schema).expect("what we encode decodes");
    if mode & 0x80 == 0 {
        // Decoded JSON is in canonical form (tagged unions): it survives the round trip.
        assert_eq!(again, json);
    }
});
