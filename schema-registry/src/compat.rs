//! Compatibility levels (skeleton).

use crate::avro::AvroSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

pub fn check(_level: Level, _new: &AvroSchema, _existing: &[&AvroSchema]) -> Vec<String> {
    Vec::new()
}

pub fn can_read(_reader: &AvroSchema, _writer: &AvroSchema) -> Vec<String> {
    Vec::new()
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
