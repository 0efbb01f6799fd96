//! Avro schema resolution: whether data written with one schema can be read with another, the
//! rules behind every compatibility level (`mod.rs`), implemented here over
//! `apache_avro::Schema` rather than with `apache_avro`'s own checker, which misses cases (field
//! aliases, enum defaults) and does not say which field is at fault.
//!
//! `can_read(reader, writer)` answers "can data written with `writer` be read with `reader`?":
//! records match by name (unqualified or full) or a reader alias; a reader field missing from the
//! writer (also under the reader field's aliases) needs a default; writer-only fields are skipped;
//! int→long/float/double, long→float/double, float→double and string↔bytes promote; writer enum
//! symbols missing from the reader need a reader default symbol; fixed types match by name and
//! size; arrays and maps by their items and values; every branch of a writer union must be
//! readable, and a reader union must have a branch that reads the writer. Logical types are
//! checked as their underlying type, as Avro's Java `SchemaCompatibility` does. Recursive types
//! are handled by assuming a (reader, writer) pair of named types compatible while it is being
//! checked; a step budget and a depth bound keep hostile schemas cheap.
//!
//! Cost: one check is linear in the size of the two schemas. Each (reader, writer) pair of
//! records is compared once (memoized in the checker), and its fields are matched through a
//! name → field map of the writer record built once for the pair, so a reader field missing
//! from the writer (renamed, or found under an alias) costs one lookup, not a scan of the
//! writer's fields.
//!
//! Not owned here: the levels and which versions they check (`mod.rs`).

use std::collections::{HashMap, HashSet};

use apache_avro::Schema;
use apache_avro::schema::{EnumSchema, FixedSchema, Name, RecordSchema, UnionSchema};

use super::{ErrorType, Incompatibility};
use crate::avro::AvroSchema;

/// Whether data written with `writer` can be read with `reader`, per Avro schema resolution;
/// messages name the offending field path (e.g. "The field 'user.address.zip' at path … in the
/// reader schema has no default value and is missing in the writer schema"). Empty = readable.
pub fn can_read(reader: &AvroSchema, writer: &AvroSchema) -> Vec<String> {
    can_read_detailed(reader, writer)
        .iter()
        .map(|i| i.describe("reader", "writer"))
        .collect()
}

/// [`can_read`] with structured results.
pub fn can_read_detailed(reader: &AvroSchema, writer: &AvroSchema) -> Vec<Incompatibility> {
    let (out, work) = run(reader, writer);
    tracing::trace!(
        steps = work.steps,
        fields_examined = work.fields_examined,
        incompatibilities = out.len(),
        "compatibility checked"
    );
    out
}

/// [`can_read_detailed`], with the work it took.
pub(super) fn run(reader: &AvroSchema, writer: &AvroSchema) -> (Vec<Incompatibility>, Work) {
    let mut checker = Checker {
        reader,
        writer,
        in_progress: HashSet::new(),
        done: HashMap::new(),
        steps: 0,
        exhausted: false,
        fields_examined: 0,
    };
    let mut out = checker.check(reader.schema(), writer.schema(), &Path::default(), 0);
    let mut seen = HashSet::new();
    out.retain(|i| seen.insert(i.clone()));
    let work = Work {
        steps: checker.steps,
        fields_examined: checker.fields_examined,
    };
    (out, work)
}

/// What one check did, counted so tests can bound the algorithm's cost without a clock.
#[derive(Debug, Clone, Copy)]
pub(super) struct Work {
    /// Calls of [`Checker::check`]: pairs of types compared.
    pub(super) steps: usize,
    /// Writer fields looked at to match reader fields: indexed, or probed by name.
    pub(super) fields_examined: usize,
}

/// Bounds on one check, so hostile schemas (deep, or exponentially many paths through shared
/// named types) cost bounded stack and time.
const MAX_DEPTH: usize = 128;
const MAX_STEPS: usize = 200_000;
/// Failures kept per record pair and per union: enough to act on, bounded for hostile input.
pub(super) const MAX_MESSAGES: usize = 100;

#[derive(Debug, Default, Clone)]
struct Path {
    location: String,
    field: String,
}

impl Path {
    fn field(&self, index: usize, name: &str) -> Path {
        Path {
            location: format!("{}/fields/{index}", self.location),
            field: if self.field.is_empty() {
                name.to_owned()
            } else {
                format!("{}.{name}", self.field)
            },
        }
    }

    /// `incompatibility`, found relative to a record pair, placed under this path.
    fn rebase(&self, mut incompatibility: Incompatibility) -> Incompatibility {
        incompatibility.location = format!("{}{}", self.location, incompatibility.location);
        if !self.field.is_empty() {
            incompatibility.field = if incompatibility.field.is_empty()
                || incompatibility.field.starts_with(['[', '{'])
            {
                format!("{}{}", self.field, incompatibility.field)
            } else {
                format!("{}.{}", self.field, incompatibility.field)
            };
        }
        incompatibility
    }

    fn suffix(&self, location: &str, field: &str) -> Path {
        Path {
            location: format!("{}{location}", self.location),
            field: format!("{}{field}", self.field),
        }
    }
}

/// A schema with logical types reduced to what is on the wire, and references followed.
#[derive(Debug, Clone, Copy)]
enum Base<'s> {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Duration,
    Record(&'s RecordSchema),
    Enum(&'s EnumSchema),
    Fixed(&'s FixedSchema),
    Array(&'s Schema),
    Map(&'s Schema),
    Union(&'s UnionSchema),
    /// A reference to a name neither schema defines (cannot happen for parsed schemas).
    Unknown(&'s Name),
}

fn base<'s>(schema: &'s Schema, owner: &'s AvroSchema) -> Base<'s> {
    match schema {
        Schema::Null => Base::Null,
        Schema::Boolean => Base::Boolean,
        Schema::Int | Schema::Date | Schema::TimeMillis => Base::Int,
        Schema::Long
        | Schema::TimeMicros
        | Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => Base::Long,
        Schema::Float => Base::Float,
        Schema::Double => Base::Double,
        Schema::Bytes | Schema::BigDecimal => Base::Bytes,
        Schema::String | Schema::Uuid => Base::String,
        Schema::Duration => Base::Duration,
        Schema::Decimal(d) => match d.inner.as_ref() {
            // A decimal's inner type is bytes or fixed, never another decimal or a reference
            // chain; one step is enough and keeps this non-recursive.
            Schema::Fixed(f) => Base::Fixed(f),
            _ => Base::Bytes,
        },
        Schema::Record(r) => Base::Record(r),
        Schema::Enum(e) => Base::Enum(e),
        Schema::Fixed(f) => Base::Fixed(f),
        Schema::Array(a) => Base::Array(&a.items),
        Schema::Map(m) => Base::Map(&m.types),
        Schema::Union(u) => Base::Union(u),
        Schema::Ref { name } => match owner.named_type(name) {
            // Named types are records, enums or fixed, never references: no loop.
            Some(Schema::Record(r)) => Base::Record(r),
            Some(Schema::Enum(e)) => Base::Enum(e),
            Some(Schema::Fixed(f)) => Base::Fixed(f),
            _ => Base::Unknown(name),
        },
    }
}

fn describe_type(base: Base<'_>) -> String {
    match base {
        Base::Null => "'null'".to_owned(),
        Base::Boolean => "'boolean'".to_owned(),
        Base::Int => "'int'".to_owned(),
        Base::Long => "'long'".to_owned(),
        Base::Float => "'float'".to_owned(),
        Base::Double => "'double'".to_owned(),
        Base::Bytes => "'bytes'".to_owned(),
        Base::String => "'string'".to_owned(),
        Base::Duration => "'duration'".to_owned(),
        Base::Record(r) => format!("record '{}'", r.name.fullname(None)),
        Base::Enum(e) => format!("enum '{}'", e.name.fullname(None)),
        Base::Fixed(f) => format!("fixed '{}' (size {})", f.name.fullname(None), f.size),
        Base::Array(_) => "an array".to_owned(),
        Base::Map(_) => "a map".to_owned(),
        Base::Union(_) => "a union".to_owned(),
        Base::Unknown(n) => format!("unknown type '{}'", n.fullname(None)),
    }
}

/// Whether the reader's name (or one of its aliases) matches the writer's name. Like Avro's
/// Java `SchemaCompatibility`, unqualified names are compared, so moving a type to another
/// namespace stays compatible.
fn names_match(
    reader: &Name,
    reader_aliases: Option<&[apache_avro::schema::Alias]>,
    writer: &Name,
) -> bool {
    if reader.name == writer.name || reader.fullname(None) == writer.fullname(None) {
        return true;
    }
    let writer_full = writer.fullname(None);
    reader_aliases
        .into_iter()
        .flatten()
        .any(|alias| alias.fullname(None) == writer_full || alias.name() == writer.name)
}

#[derive(Debug)]
struct Checker<'a> {
    reader: &'a AvroSchema,
    writer: &'a AvroSchema,
    /// Record pairs being checked further up the stack: assumed compatible (recursive types).
    in_progress: HashSet<(String, String)>,
    /// Record pairs already checked, with their failures relative to the pair.
    done: HashMap<(String, String), Vec<Incompatibility>>,
    steps: usize,
    exhausted: bool,
    /// See [`Work::fields_examined`].
    fields_examined: usize,
}

impl<'a> Checker<'a> {
    fn check(
        &mut self,
        reader: &'a Schema,
        writer: &'a Schema,
        path: &Path,
        depth: usize,
    ) -> Vec<Incompatibility> {
        self.steps += 1;
        if depth > MAX_DEPTH || self.steps > MAX_STEPS {
            if self.exhausted {
                return Vec::new();
            }
            self.exhausted = true;
            return vec![self.incompatibility(
                ErrorType::TooComplex,
                path,
                Base::Null,
                Base::Null,
                String::new(),
            )];
        }
        let r = base(reader, self.reader);
        let w = base(writer, self.writer);
        match (r, w) {
            // Every branch the writer may have used must be readable.
            (_, Base::Union(writer_union)) => {
                let mut out = Vec::new();
                for (i, branch) in writer_union.variants().iter().enumerate() {
                    let mut found = self.check(reader, branch, path, depth + 1);
                    // Say that the writer's type is one branch of a union, not the whole type.
                    for incompatibility in &mut found {
                        if incompatibility.location == path.location
                            && incompatibility.error_type == ErrorType::TypeMismatch
                        {
                            incompatibility.error_type = ErrorType::MissingUnionBranch;
                            incompatibility.writer_type =
                                format!("union branch {i} {}", incompatibility.writer_type);
                        }
                    }
                    out.extend(found);
                    out.truncate(MAX_MESSAGES);
                }
                out
            }
            (Base::Union(reader_union), _) => {
                self.reader_union(reader_union, writer, w, path, depth)
            }
            (Base::Record(rr), Base::Record(wr)) => self.record(rr, wr, r, w, path, depth),
            (Base::Enum(re), Base::Enum(we)) => {
                if !names_match(&re.name, re.aliases.as_deref(), &we.name) {
                    return vec![self.incompatibility(
                        ErrorType::NameMismatch,
                        path,
                        r,
                        w,
                        String::new(),
                    )];
                }
                if re.default.is_some() {
                    return Vec::new();
                }
                let known: HashSet<&String> = re.symbols.iter().collect();
                let missing: Vec<&str> = we
                    .symbols
                    .iter()
                    .filter(|s| !known.contains(s))
                    .map(String::as_str)
                    .collect();
                if missing.is_empty() {
                    Vec::new()
                } else {
                    vec![self.incompatibility(
                        ErrorType::MissingEnumSymbols,
                        path,
                        r,
                        w,
                        missing.join(", "),
                    )]
                }
            }
            (Base::Fixed(rf), Base::Fixed(wf)) => {
                if !names_match(&rf.name, rf.aliases.as_deref(), &wf.name) {
                    vec![self.incompatibility(ErrorType::NameMismatch, path, r, w, String::new())]
                } else if rf.size != wf.size {
                    vec![self.incompatibility(
                        ErrorType::FixedSizeMismatch,
                        path,
                        r,
                        w,
                        format!("{}/{}", rf.size, wf.size),
                    )]
                } else {
                    Vec::new()
                }
            }
            (Base::Array(ri), Base::Array(wi)) => {
                self.check(ri, wi, &path.suffix("/items", "[]"), depth + 1)
            }
            (Base::Map(rv), Base::Map(wv)) => {
                self.check(rv, wv, &path.suffix("/values", "{}"), depth + 1)
            }
            _ if promotes(w, r) => Vec::new(),
            _ => vec![self.incompatibility(ErrorType::TypeMismatch, path, r, w, String::new())],
        }
    }

    /// A non-union writer read by a reader union: some branch must read it. If none does but
    /// one has the writer's kind (the branch Avro resolution would pick), its own failures are
    /// the useful ones (e.g. a field missing a default deep in a record branch).
    fn reader_union(
        &mut self,
        reader_union: &'a UnionSchema,
        writer: &'a Schema,
        w: Base<'a>,
        path: &Path,
        depth: usize,
    ) -> Vec<Incompatibility> {
        let mut same_kind = None;
        for (i, branch) in reader_union.variants().iter().enumerate() {
            let found = self.check(
                branch,
                writer,
                &path.suffix(&format!("/{i}"), ""),
                depth + 1,
            );
            if found.is_empty() {
                return Vec::new();
            }
            if same_kind.is_none() && same_kind_as(base(branch, self.reader), w) {
                same_kind = Some(found);
            }
        }
        match same_kind {
            Some(found) => found,
            None => vec![self.incompatibility(
                ErrorType::MissingUnionBranch,
                path,
                Base::Union(reader_union),
                w,
                String::new(),
            )],
        }
    }

    fn record(
        &mut self,
        rr: &'a RecordSchema,
        wr: &'a RecordSchema,
        r: Base<'a>,
        w: Base<'a>,
        path: &Path,
        depth: usize,
    ) -> Vec<Incompatibility> {
        if !names_match(&rr.name, rr.aliases.as_deref(), &wr.name) {
            return vec![self.incompatibility(ErrorType::NameMismatch, path, r, w, String::new())];
        }
        let key = (rr.name.fullname(None), wr.name.fullname(None));
        if self.in_progress.contains(&key) {
            return Vec::new();
        }
        // A pair's failures do not depend on where it sits, so they are computed once, relative
        // to the pair, and re-rooted at each use: shared types cost linear, not exponential,
        // time.
        let relative = match self.done.get(&key) {
            Some(relative) => relative.clone(),
            None => {
                self.in_progress.insert(key.clone());
                let mut relative = Vec::new();
                let root = Path::default();
                let writer_fields = writer_fields(wr);
                self.fields_examined += wr.fields.len();
                for (index, field) in rr.fields.iter().enumerate() {
                    let field_path = root.field(index, &field.name);
                    // Only the reader's aliases count (Avro specification), so the writer's
                    // fields are matched by their own names.
                    let mut probe = |name: &str| {
                        self.fields_examined += 1;
                        writer_fields.get(name).copied()
                    };
                    let writer_field = probe(&field.name).or_else(|| {
                        field
                            .aliases
                            .iter()
                            .flatten()
                            .find_map(|alias| probe(alias))
                    });
                    match writer_field {
                        Some(writer_field) => relative.extend(self.check(
                            &field.schema,
                            &writer_field.schema,
                            &field_path.suffix("/type", ""),
                            depth + 1,
                        )),
                        None if field.default.is_some() => {}
                        None => relative.push(Incompatibility {
                            error_type: ErrorType::ReaderFieldMissingDefaultValue,
                            location: field_path.location,
                            field: field_path.field,
                            reader_type: describe_type(base(&field.schema, self.reader)),
                            writer_type: String::new(),
                            info: field.name.clone(),
                        }),
                    }
                    relative.truncate(MAX_MESSAGES);
                }
                self.in_progress.remove(&key);
                self.done.insert(key, relative.clone());
                relative
            }
        };
        relative
            .into_iter()
            .map(|incompatibility| path.rebase(incompatibility))
            .collect()
    }

    fn incompatibility(
        &self,
        error_type: ErrorType,
        path: &Path,
        r: Base<'_>,
        w: Base<'_>,
        info: String,
    ) -> Incompatibility {
        Incompatibility {
            error_type,
            location: path.location.clone(),
            field: path.field.clone(),
            reader_type: describe_type(r),
            writer_type: describe_type(w),
            info: match (error_type, info.is_empty()) {
                (_, false) => info,
                (ErrorType::NameMismatch, true) => describe_type(w),
                (_, true) => path.field.rsplit('.').next().unwrap_or_default().to_owned(),
            },
        }
    }
}

/// The writer record's fields by their own names. Not `apache_avro`'s `lookup`: it also holds
/// field aliases, which do not count on the writer side. The first field of a name wins, as a
/// scan in field order would find it.
fn writer_fields(record: &RecordSchema) -> HashMap<&str, &apache_avro::schema::RecordField> {
    let mut fields = HashMap::with_capacity(record.fields.len());
    for field in &record.fields {
        fields.entry(field.name.as_str()).or_insert(field);
    }
    fields
}

/// Avro's promotions: a writer's `from` is readable as the reader's `to`.
fn promotes(from: Base<'_>, to: Base<'_>) -> bool {
    matches!(
        (from, to),
        (Base::Null, Base::Null)
            | (Base::Boolean, Base::Boolean)
            | (
                Base::Int,
                Base::Int | Base::Long | Base::Float | Base::Double
            )
            | (Base::Long, Base::Long | Base::Float | Base::Double)
            | (Base::Float, Base::Float | Base::Double)
            | (Base::Double, Base::Double)
            | (Base::Bytes | Base::String, Base::Bytes | Base::String)
            | (Base::Duration, Base::Duration)
    )
}

/// Whether a reader union branch is the one Avro resolution would pick for the writer (same
/// kind, and for named types the same name), even if it then fails to read it.
fn same_kind_as(branch: Base<'_>, writer: Base<'_>) -> bool {
    match (branch, writer) {
        (Base::Record(r), Base::Record(w)) => names_match(&r.name, r.aliases.as_deref(), &w.name),
        (Base::Enum(r), Base::Enum(w)) => names_match(&r.name, r.aliases.as_deref(), &w.name),
        (Base::Fixed(r), Base::Fixed(w)) => names_match(&r.name, r.aliases.as_deref(), &w.name),
        (Base::Array(_), Base::Array(_)) | (Base::Map(_), Base::Map(_)) => true,
        _ => false,
    }
}
