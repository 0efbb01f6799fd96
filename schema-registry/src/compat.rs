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
