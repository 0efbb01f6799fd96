//! Compatibility between Avro schemas: the levels a subject can be configured with
//! (CONTRACTS.md §1.3) and the Avro schema-resolution rules behind them, implemented here over
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

use std::collections::{HashMap, HashSet};

use apache_avro::Schema;
use apache_avro::schema::{EnumSchema, FixedSchema, Name, RecordSchema, UnionSchema};

use crate::avro::AvroSchema;

/// A subject's compatibility level (Confluent's `compatibilityLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Level {
    None,
    #[default]
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

/// The level named in a config request is not one Confluent knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid compatibility level: '{0}'")]
pub struct UnknownLevel(pub String);

impl Level {
    /// Every level, in Confluent's order.
    pub const ALL: [Level; 7] = [
        Level::None,
        Level::Backward,
        Level::BackwardTransitive,
        Level::Forward,
        Level::ForwardTransitive,
        Level::Full,
        Level::FullTransitive,
    ];

    /// Confluent's spelling: `BACKWARD_TRANSITIVE` and so on.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "NONE",
            Level::Backward => "BACKWARD",
            Level::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Level::Forward => "FORWARD",
            Level::ForwardTransitive => "FORWARD_TRANSITIVE",
            Level::Full => "FULL",
            Level::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Whether the new schema must read data written with the old ones.
    pub fn backward(self) -> bool {
        matches!(
            self,
            Level::Backward | Level::BackwardTransitive | Level::Full | Level::FullTransitive
        )
    }

    /// Whether the old schemas must read data written with the new one.
    pub fn forward(self) -> bool {
        matches!(
            self,
            Level::Forward | Level::ForwardTransitive | Level::Full | Level::FullTransitive
        )
    }

    /// Whether every existing version is checked, not only the latest.
    pub fn transitive(self) -> bool {
        matches!(
            self,
            Level::BackwardTransitive | Level::ForwardTransitive | Level::FullTransitive
        )
    }
}

impl std::str::FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownLevel(s.to_owned()))
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Avro's (and Confluent's) names for the ways a reader can fail to read a writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    NameMismatch,
    FixedSizeMismatch,
    MissingEnumSymbols,
    ReaderFieldMissingDefaultValue,
    TypeMismatch,
    MissingUnionBranch,
    /// Not Avro's: the schemas nest too deeply, or are too large, to check within our bounds.
    TooComplex,
}

impl ErrorType {
    /// Confluent's spelling, e.g. `READER_FIELD_MISSING_DEFAULT_VALUE`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::NameMismatch => "NAME_MISMATCH",
            ErrorType::FixedSizeMismatch => "FIXED_SIZE_MISMATCH",
            ErrorType::MissingEnumSymbols => "MISSING_ENUM_SYMBOLS",
            ErrorType::ReaderFieldMissingDefaultValue => "READER_FIELD_MISSING_DEFAULT_VALUE",
            ErrorType::TypeMismatch => "TYPE_MISMATCH",
            ErrorType::MissingUnionBranch => "MISSING_UNION_BRANCH",
            ErrorType::TooComplex => "TOO_COMPLEX",
        }
    }
}

/// One reason a reader cannot read a writer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Incompatibility {
    pub error_type: ErrorType,
    /// JSON pointer into the reader schema, like Avro's: `/fields/1/type/items`.
    pub location: String,
    /// Dotted field path from the root record, `[]` for array items and `{}` for map values:
    /// `orders[].price`. Empty at the top level.
    pub field: String,
    /// The reader's type there (`int`, `record 'ns.User'`...).
    pub reader_type: String,
    /// The writer's type there.
    pub writer_type: String,
    /// The field name, the missing symbols, or the sizes: Confluent's `additionalInfo`.
    pub info: String,
}

impl Incompatibility {
    /// A sentence naming the field, with the two schemas called `reader` and `writer` (for
    /// example "new" and "old").
    pub fn describe(&self, reader: &str, writer: &str) -> String {
        let place = if self.field.is_empty() {
            "the top-level schema".to_owned()
        } else {
            format!("field '{}'", self.field)
        };
        let location = if self.location.is_empty() {
            "/"
        } else {
            self.location.as_str()
        };
        match self.error_type {
            ErrorType::ReaderFieldMissingDefaultValue => format!(
                "The field '{}' at path '{location}' in the {reader} schema has no default value \
                 and is missing in the {writer} schema",
                self.field
            ),
            ErrorType::TypeMismatch => format!(
                "The type of {place} at path '{location}' in the {reader} schema ({}) does not \
                 match the {writer} schema ({}): {} cannot be read as {}",
                self.reader_type, self.writer_type, self.writer_type, self.reader_type
            ),
            ErrorType::NameMismatch => format!(
                "The type of {place} at path '{location}' is {} in the {reader} schema but {} \
                 in the {writer} schema: the names differ and no alias of the {reader} type \
                 matches",
                self.reader_type, self.writer_type
            ),
            ErrorType::FixedSizeMismatch => format!(
                "The size of the fixed type of {place} at path '{location}' differs: {} in the \
                 {reader} schema, {} in the {writer} schema",
                self.reader_type, self.writer_type
            ),
            ErrorType::MissingEnumSymbols => format!(
                "The {reader} schema is missing enum symbols '{}' of {place} at path \
                 '{location}' that the {writer} schema has, and its enum has no default",
                self.info
            ),
            ErrorType::MissingUnionBranch => format!(
                "The type of {place} at path '{location}' in the {reader} schema ({}) cannot \
                 read the {writer} schema's {}",
                self.reader_type, self.writer_type
            ),
            ErrorType::TooComplex => format!(
                "The schemas nest too deeply or are too large to check beyond {place} at path \
                 '{location}'"
            ),
        }
    }

    /// Confluent's verbose form:
    /// `{errorType:'…', description:'…', additionalInfo:'…'}`.
    pub fn confluent_message(&self, reader: &str, writer: &str) -> String {
        format!(
            "{{errorType:'{}', description:'{}', additionalInfo:'{}'}}",
            self.error_type.as_str(),
            self.describe(reader, writer),
            self.info
        )
    }
}

/// Which way a new schema failed against an existing version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The new schema cannot read data written with the old one.
    Backward,
    /// The old schema cannot read data written with the new one.
    Forward,
}

/// An [`Incompatibility`] between a new schema and one existing version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionIncompatibility {
    /// Index into `existing` as passed to [`check_detailed`] (oldest first).
    pub existing_index: usize,
    pub direction: Direction,
    pub incompatibility: Incompatibility,
}

impl VersionIncompatibility {
    /// The Confluent-style message, with the schemas called "new" and "old".
    pub fn message(&self) -> String {
        match self.direction {
            Direction::Backward => self.incompatibility.confluent_message("new", "old"),
            Direction::Forward => self.incompatibility.confluent_message("old", "new"),
        }
    }
}

/// Messages (empty = compatible). `existing` = the subject's live versions, OLDEST FIRST;
/// non-transitive levels check only the last one.
pub fn check(level: Level, new: &AvroSchema, existing: &[&AvroSchema]) -> Vec<String> {
    let mut seen = HashSet::new();
    check_detailed(level, new, existing)
        .iter()
        .map(VersionIncompatibility::message)
        .filter(|message| seen.insert(message.clone()))
        .collect()
}

/// [`check`], keeping which existing version and which direction each failure is about.
pub fn check_detailed(
    level: Level,
    new: &AvroSchema,
    existing: &[&AvroSchema],
) -> Vec<VersionIncompatibility> {
    if level == Level::None || existing.is_empty() {
        return Vec::new();
    }
    let first = if level.transitive() {
        0
    } else {
        existing.len() - 1
    };
    let mut out = Vec::new();
    // Newest first, as Confluent reports them.
    for (index, old) in existing.iter().enumerate().skip(first).rev() {
        if level.backward() {
            out.extend(
                can_read_detailed(new, old)
                    .into_iter()
                    .map(|incompatibility| VersionIncompatibility {
                        existing_index: index,
                        direction: Direction::Backward,
                        incompatibility,
                    }),
            );
        }
        if level.forward() {
            out.extend(
                can_read_detailed(old, new)
                    .into_iter()
                    .map(|incompatibility| VersionIncompatibility {
                        existing_index: index,
                        direction: Direction::Forward,
                        incompatibility,
                    }),
            );
        }
    }
    out
}

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
fn run(reader: &AvroSchema, writer: &AvroSchema) -> (Vec<Incompatibility>, Work) {
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
struct Work {
    /// Calls of [`Checker::check`]: pairs of types compared.
    steps: usize,
    /// Writer fields looked at to match reader fields: indexed, or probed by name.
    fields_examined: usize,
}

/// Bounds on one check, so hostile schemas (deep, or exponentially many paths through shared
/// named types) cost bounded stack and time.
const MAX_DEPTH: usize = 128;
const MAX_STEPS: usize = 200_000;
/// Failures kept per record pair and per union: enough to act on, bounded for hostile input.
const MAX_MESSAGES: usize = 100;

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

#[cfg(test)]
mod tests {
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
            messages[0].contains(
                "in the old schema has no default value and is missing in the new schema"
            ),
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
        let mut references = vec![
            r#"{"type":"record","name":"R0","fields":[{"name":"x","type":"int"}]}"#.to_owned(),
        ];
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
}
