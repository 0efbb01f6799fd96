//! `acks`: when a produce is answered. The one type for the gateway's query parameter, the
//! ingest pipeline, the CLI's `--acks` and `runnel bench`.

use serde::Serialize;

/// When a produce is answered, under Kafka's names and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
pub enum Acks {
    /// `0`: once the records are queued for their partitions, without offsets.
    #[value(name = "0")]
    #[serde(rename = "0")]
    None,
    /// `1`: once the partition's leader has appended them.
    #[value(name = "1")]
    #[serde(rename = "1")]
    Leader,
    /// `all` (or `-1`): once every in-sync replica has them; on a single node the in-sync
    /// replica set is the leader, so this is `1`. The server's default.
    #[value(name = "all")]
    #[serde(rename = "all")]
    All,
}

impl Acks {
    /// The query-parameter value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Acks::None => "0",
            Acks::Leader => "1",
            Acks::All => "all",
        }
    }

    /// Kafka's spellings: `0`, `1`, `all` or `-1`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "all" | "-1" => Some(Acks::All),
            "1" => Some(Acks::Leader),
            "0" => Some(Acks::None),
            _ => None,
        }
    }
}

/// The query parameter's schema in the OpenAPI document: the four spellings the server takes.
impl utoipa::PartialSchema for Acks {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(["0", "1", "all", "-1"]))
            .description(Some(
                "When a produce is answered: `0` once the records are queued, `1` once the \
                 leader appended them, `all` (or `-1`) once every in-sync replica has them.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Acks {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_round_trips_and_minus_one_means_all() {
        for a in [Acks::None, Acks::Leader, Acks::All] {
            assert_eq!(Acks::parse(a.as_str()), Some(a));
        }
        assert_eq!(Acks::parse("-1"), Some(Acks::All));
        assert_eq!(Acks::parse("2"), None);
        assert_eq!(Acks::parse("ALL"), None);
    }
}
