//! Compatibility between Avro schemas: the levels a subject can be configured with
//! (CONTRACTS.md §1.3), which existing versions each level checks and in which direction, and
//! the structured incompatibilities the API reports.
//!
//! The Avro schema-resolution rules behind a level (can a reader read a writer?) live in
//! `resolution.rs`.

mod resolution;

use std::collections::HashSet;

pub use resolution::{can_read, can_read_detailed};

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

#[cfg(test)]
mod tests;
