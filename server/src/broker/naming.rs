//! Topic name rules, as Kafka's `org.apache.kafka.common.internals.Topic` states them.
//!
//! A topic name becomes a directory name (`<topic>-<partition>`) under the data dir and a path
//! segment in gateway URLs, so it is checked before anything else touches it: 1 to 249
//! characters, each an ASCII letter, digit, `.`, `_` or `-`, and never `.` or `..`. With that
//! alphabet, no name can escape the data dir, contain a separator or need URL escaping.
//!
//! Checks run in Kafka's order (empty, dots, length, characters) and the messages are Kafka's,
//! so clients see the same text they would from a Kafka broker.
//!
//! Not owned here: whether a topic of that name exists or may be created (cluster metadata), and
//! Kafka's warning about names that differ only in `.` versus `_` (both map to the same metric
//! name; we don't have that problem).

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

/// The longest legal topic name: 255 (the usual file-name limit) minus 6, so the partition
/// directory `<topic>-<partition>` still fits.
pub const MAX_TOPIC_NAME_LENGTH: usize = 249;

/// Why a topic name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidTopicName {
    /// The name is the empty string.
    #[error("Topic name is illegal, it can't be empty")]
    Empty,
    /// The name is `.` or `..`, which are directory references, not names.
    #[error("Topic name cannot be \".\" or \"..\"")]
    DotOrDotDot,
    /// The name has more than [`MAX_TOPIC_NAME_LENGTH`] characters. The name itself isn't
    /// kept: it can be arbitrarily long and would be echoed into logs and responses.
    #[error(
        "Topic name is illegal, it can't be longer than {MAX_TOPIC_NAME_LENGTH} characters, \
         it has {length}"
    )]
    TooLong {
        /// Length of the refused name, in characters.
        length: usize,
    },
    /// The name contains a character outside `[a-zA-Z0-9._-]`. Displayed with Rust string
    /// escaping, so a NUL or newline in the name shows up as `\0` or `\n` rather than being
    /// written raw into a log line.
    #[error(
        "Topic name {name:?} is illegal, it contains a character other than ASCII \
         alphanumerics, '.', '_' and '-'"
    )]
    IllegalCharacter {
        /// The refused name (at most [`MAX_TOPIC_NAME_LENGTH`] characters, as the length
        /// check runs first).
        name: String,
        /// The first offending character.
        character: char,
        /// Its position in the name, in characters.
        position: usize,
    },
}

/// Checks `name` against Kafka's topic name rules.
///
/// ```
/// use runnel::broker::naming::validate_topic_name;
///
/// assert!(validate_topic_name("orders.v2_eu-west").is_ok());
/// let err = validate_topic_name("a/b").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "Topic name \"a/b\" is illegal, it contains a character other than ASCII \
///      alphanumerics, '.', '_' and '-'",
/// );
/// ```
///
/// # Errors
///
/// Returns the first rule the name breaks, in Kafka's order: empty, `.`/`..`, too long,
/// illegal character.
pub fn validate_topic_name(name: &str) -> Result<(), InvalidTopicName> {
    if name.is_empty() {
        return Err(InvalidTopicName::Empty);
    }
    if name == "." || name == ".." {
        return Err(InvalidTopicName::DotOrDotDot);
    }
    // Count characters, not bytes: a 100-character name in Cyrillic is 200 bytes, and calling
    // it "longer than 249 characters" would send the user after the wrong problem.
    let length = name.chars().count();
    if length > MAX_TOPIC_NAME_LENGTH {
        return Err(InvalidTopicName::TooLong { length });
    }
    if let Some((position, character)) = name.chars().enumerate().find(|&(_, c)| !is_legal(c)) {
        return Err(InvalidTopicName::IllegalCharacter {
            name: name.to_owned(),
            character,
            position,
        });
    }
    Ok(())
}

/// Whether `name` belongs to the system rather than to users: Kafka's double-underscore
/// topics (`__consumer_offsets`, `__transaction_state`, ...) and the schema registry's
/// `_schemas`. Callers hide these from listings and refuse user writes to them.
pub fn is_internal(name: &str) -> bool {
    name.starts_with("__") || name == "_schemas"
}

/// What two topic names must not share: Kafka's `Topic.hasCollision`. Metric names replace
/// `.` with `_`, so `col.x` and `col_x` would report as one topic; Kafka refuses the second.
pub fn collision_key(name: &str) -> String {
    name.replace('.', "_")
}

/// Kafka's alphabet. `char::is_ascii_alphanumeric` rather than `is_alphanumeric`: the latter
/// accepts `é` and `٣`, which Kafka refuses.
fn is_legal(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]
mod tests {
    use super::*;

    const CHARSET_MESSAGE: &str =
        "is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'";

    fn illegal_character(name: &str) -> (char, usize) {
        match validate_topic_name(name) {
            Err(InvalidTopicName::IllegalCharacter {
                name: kept,
                character,
                position,
            }) => {
                assert_eq!(kept, name);
                (character, position)
            }
            other => panic!("{name:?}: expected IllegalCharacter, got {other:?}"),
        }
    }

    #[test]
    fn accepts_every_legal_character() {
        for name in [
            "a",
            "orders",
            "Orders.V2",
            "a_b-c.d",
            "0",
            "...",
            "-",
            "_",
            "__consumer_offsets",
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
        ] {
            assert_eq!(validate_topic_name(name), Ok(()), "{name:?}");
        }
    }

    #[test]
    fn rejects_path_traversal() {
        assert_eq!(illegal_character("../x"), ('/', 2));
        assert_eq!(illegal_character("a/b"), ('/', 1));
        assert_eq!(illegal_character("a\\b"), ('\\', 1));
        assert_eq!(illegal_character("/etc"), ('/', 0));
    }

    #[test]
    fn rejects_url_encoded_dots() {
        assert_eq!(illegal_character("%2e%2e"), ('%', 0));
    }

    #[test]
    fn rejects_nul_and_escapes_it_in_the_message() {
        assert_eq!(illegal_character("a\0b"), ('\0', 1));
        let message = validate_topic_name("a\0b").unwrap_err().to_string();
        assert_eq!(message, format!("Topic name \"a\\0b\" {CHARSET_MESSAGE}"));
        assert!(!message.contains('\0'));
    }

    #[test]
    fn rejects_whitespace_and_control_characters() {
        assert_eq!(illegal_character("a b"), (' ', 1));
        assert_eq!(illegal_character("a\nb"), ('\n', 1));
        assert_eq!(illegal_character("tab\t"), ('\t', 3));
    }

    #[test]
    fn rejects_unicode_even_when_alphanumeric() {
        assert_eq!(illegal_character("café"), ('é', 3));
        assert_eq!(illegal_character("ｔｏｐｉｃ"), ('ｔ', 0));
        assert_eq!(illegal_character("٣"), ('٣', 0));
        assert_eq!(illegal_character("topic🦀"), ('🦀', 5));
    }

    #[test]
    fn length_limit_is_249_characters() {
        assert_eq!(validate_topic_name(&"a".repeat(249)), Ok(()));
        assert_eq!(
            validate_topic_name(&"a".repeat(250)),
            Err(InvalidTopicName::TooLong { length: 250 })
        );
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        // 249 two-byte characters: 498 bytes, but within the limit, so the real problem
        // (the alphabet) is the one reported.
        let name = "é".repeat(249);
        assert_eq!(illegal_character(&name), ('é', 0));
        assert_eq!(
            validate_topic_name(&"é".repeat(250)),
            Err(InvalidTopicName::TooLong { length: 250 })
        );
    }

    #[test]
    fn rejects_empty() {
        assert_eq!(validate_topic_name(""), Err(InvalidTopicName::Empty));
    }

    #[test]
    fn rejects_dot_and_dot_dot() {
        assert_eq!(validate_topic_name("."), Err(InvalidTopicName::DotOrDotDot));
        assert_eq!(
            validate_topic_name(".."),
            Err(InvalidTopicName::DotOrDotDot)
        );
        assert_eq!(validate_topic_name("..."), Ok(()));
        assert_eq!(validate_topic_name(".hidden"), Ok(()));
    }

    #[test]
    fn messages_match_kafka() {
        let message = |name: &str| validate_topic_name(name).unwrap_err().to_string();
        assert_eq!(message(""), "Topic name is illegal, it can't be empty");
        assert_eq!(message("."), "Topic name cannot be \".\" or \"..\"");
        assert_eq!(message(".."), "Topic name cannot be \".\" or \"..\"");
        assert_eq!(
            message(&"x".repeat(300)),
            "Topic name is illegal, it can't be longer than 249 characters, it has 300"
        );
        assert_eq!(
            message("a/b"),
            format!("Topic name \"a/b\" {CHARSET_MESSAGE}")
        );
    }

    #[test]
    fn checks_run_in_kafka_order() {
        // Too long and illegal: length wins, so a huge name is never echoed back.
        assert_eq!(
            validate_topic_name(&"/".repeat(1000)),
            Err(InvalidTopicName::TooLong { length: 1000 })
        );
    }

    #[test]
    fn internal_topics() {
        assert!(is_internal("__consumer_offsets"));
        assert!(is_internal("__transaction_state"));
        assert!(is_internal("__"));
        assert!(is_internal("_schemas"));
        assert!(!is_internal("_schemas2"));
        assert!(!is_internal("_foo"));
        assert!(!is_internal("orders"));
        assert!(!is_internal("orders__x"));
        assert!(!is_internal(""));
    }

    #[test]
    fn dots_and_underscores_collide_as_in_kafka() {
        assert_eq!(collision_key("col.x"), collision_key("col_x"));
        assert_eq!(collision_key("a.b_c"), collision_key("a_b.c"));
        assert_ne!(collision_key("col.x"), collision_key("colx"));
    }
}
