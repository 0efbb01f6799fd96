//! One compatibility check of a wide record against one earlier version, at FULL (both
//! directions), for 1,000 and 18,000 fields (issue 9: 1.5 s at 18,000 fields). Shapes:
//! `same_names` (every field in both schemas), `renamed` (every field renamed, with a default:
//! each reader field is missing from the writer) and `aliased` (renamed, found through the
//! reader's aliases). A quadratic field match shows as `renamed`/`aliased` growing ~324× from
//! 1,000 to 18,000 fields instead of ~18×. Run by `scripts/bench-compat.sh`, never while a build
//! runs; parsing is outside the timed part.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use runnel_schema_registry::avro::{AvroSchema, Limits};
use runnel_schema_registry::compat::{self, Level};

fn record(fields: usize, field: impl Fn(usize) -> String) -> AvroSchema {
    let fields: Vec<String> = (0..fields).map(field).collect();
    let text = format!(
        r#"{{"type":"record","name":"Wide","fields":[{}]}}"#,
        fields.join(",")
    );
    match AvroSchema::parse(&text, &[], &Limits::default()) {
        Ok(schema) => schema,
        Err(e) => panic!("the bench schema does not parse: {e}"),
    }
}

fn full_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("compat_full_check");
    group.sample_size(10);
    for fields in [1_000, 18_000] {
        let old = record(fields, |i| format!(r#"{{"name":"f{i}","type":"int"}}"#));
        let shapes = [
            (
                "same_names",
                record(fields, |i| format!(r#"{{"name":"f{i}","type":"int"}}"#)),
            ),
            (
                "renamed",
                record(fields, |i| {
                    format!(r#"{{"name":"g{i}","type":"int","default":0}}"#)
                }),
            ),
            (
                "aliased",
                record(fields, |i| {
                    format!(r#"{{"name":"g{i}","aliases":["f{i}"],"type":"int"}}"#)
                }),
            ),
        ];
        for (shape, new) in &shapes {
            group.bench_with_input(BenchmarkId::new(*shape, fields), &fields, |b, _| {
                b.iter(|| black_box(compat::check(Level::Full, new, &[&old])));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, full_check);
criterion_main!(benches);
