//! Human units in configuration values: byte sizes (`"64 MiB"`) and durations (`"500ms"`, `"7d"`).
//!
//! Both parse a whole number, optional spaces, then a unit. Fractions (`"1.5 GiB"`) and compound
//! forms (`"1h30m"`) are rejected rather than guessed at: write `"1536 MiB"` or `"90m"`. Byte
//! sizes accept decimal (`KB` = 1000) and binary (`KiB` = 1024) units, case-insensitively, and a
//! bare number means bytes. Durations need a unit, because a bare `30` could be seconds or
//! milliseconds; units are lowercase (`ms`, `s`, `m`, `h`, `d`) so `m` can't be read as months.
//!
//! Formatting goes the other way and picks the largest unit that divides the value exactly, so
//! a parsed value prints back as something a config file accepts.
//!
//! Not owned here: which settings use these units, or their allowed ranges (see `config/mod.rs`).
//! Kafka topic configs (`retention.ms`) keep Kafka's plain integers and are not parsed here.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Why a byte size or duration didn't parse. The offending text is reported by the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnitError {
    #[error("empty value")]
    Empty,
    #[error("expected a whole number followed by a unit, e.g. {example:?}")]
    NotANumber { example: &'static str },
    #[error("missing unit; write e.g. {example:?} (units: {units})")]
    MissingUnit {
        example: &'static str,
        units: &'static str,
    },
    #[error("unknown unit {unit:?}; expected one of {units}")]
    UnknownUnit { unit: String, units: &'static str },
    #[error("value is too large")]
    Overflow,
}

const BYTE_UNITS: &str = "B, KB, MB, GB, TB, KiB, MiB, GiB, TiB";
const DURATION_UNITS: &str = "ms, s, m, h, d";

/// A number of bytes, written in config files as `"64 MiB"`, `"1 GiB"`, `"512KiB"` or `1024`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub u64);

impl ByteSize {
    pub const KIB: u64 = 1 << 10;
    pub const MIB: u64 = 1 << 20;
    pub const GIB: u64 = 1 << 30;

    /// The size in bytes.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// The size as a `usize`, saturating on targets where it doesn't fit (limits that take a
    /// `usize`, such as a request body limit, then simply never trigger).
    pub fn as_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

impl FromStr for ByteSize {
    type Err = UnitError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (number, unit) = split_number(s, "64 MiB")?;
        let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "tb" => 1_000_000_000_000,
            "kib" => 1 << 10,
            "mib" => 1 << 20,
            "gib" => 1 << 30,
            "tib" => 1 << 40,
            _ => {
                return Err(UnitError::UnknownUnit {
                    unit: unit.to_owned(),
                    units: BYTE_UNITS,
                });
            }
        };
        number
            .checked_mul(multiplier)
            .map(ByteSize)
            .ok_or(UnitError::Overflow)
    }
}

impl fmt::Display for ByteSize {
    /// Prints the largest binary unit that divides the size exactly: `64 MiB`, `1500 B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u64, &str); 4] = [
            (1 << 40, "TiB"),
            (1 << 30, "GiB"),
            (1 << 20, "MiB"),
            (1 << 10, "KiB"),
        ];
        for (size, name) in UNITS {
            if self.0 != 0 && self.0.is_multiple_of(size) {
                return write!(f, "{} {name}", self.0 / size);
            }
        }
        write!(f, "{} B", self.0)
    }
}

/// Parses a duration such as `"250ms"`, `"1s"`, `"5m"`, `"12h"` or `"7d"`.
///
/// # Errors
///
/// [`UnitError`] if the text is not a whole number followed by one of `ms`, `s`, `m`, `h`, `d`,
/// or if the result overflows.
pub fn parse_duration(s: &str) -> Result<Duration, UnitError> {
    let (number, unit) = split_number(s, "30s")?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "" => {
            return Err(UnitError::MissingUnit {
                example: "30s",
                units: DURATION_UNITS,
            });
        }
        _ => {
            return Err(UnitError::UnknownUnit {
                unit: unit.to_owned(),
                units: DURATION_UNITS,
            });
        }
    };
    number
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
        .ok_or(UnitError::Overflow)
}

/// Formats a duration with the largest unit that divides it exactly: `7d`, `90m`, `250ms`.
/// Sub-millisecond parts are dropped; [`parse_duration`] never produces them.
pub fn format_duration(duration: Duration) -> String {
    const UNITS: [(u128, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
    ];
    let millis = duration.as_millis();
    if millis == 0 {
        return "0s".to_owned();
    }
    for (size, name) in UNITS {
        if millis.is_multiple_of(size) {
            return format!("{}{name}", millis / size);
        }
    }
    format!("{millis}ms")
}

/// Splits `"  64 MiB "` into `(64, "MiB")`; the unit may be empty.
fn split_number<'a>(s: &'a str, example: &'static str) -> Result<(u64, &'a str), UnitError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(UnitError::Empty);
    }
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, rest) = s.split_at(digits_end);
    let unit = rest.trim_start();
    // A digit-free start ("MiB", "-5") or a decimal point ("1.5 GiB") is not a whole number.
    if digits.is_empty() || unit.starts_with(['.', ',']) {
        return Err(UnitError::NotANumber { example });
    }
    let number = digits.parse::<u64>().map_err(|_| UnitError::Overflow)?;
    Ok((number, unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> Result<u64, UnitError> {
        s.parse::<ByteSize>().map(ByteSize::as_u64)
    }

    #[test]
    fn byte_sizes_parse_binary_decimal_and_plain() {
        assert_eq!(bytes("1 GiB"), Ok(1 << 30));
        assert_eq!(bytes("10MiB"), Ok(10 << 20));
        assert_eq!(bytes("512KiB"), Ok(512 << 10));
        assert_eq!(bytes("64 mib"), Ok(64 << 20));
        assert_eq!(bytes("1024"), Ok(1024));
        assert_eq!(bytes(" 7 B "), Ok(7));
        assert_eq!(bytes("5MB"), Ok(5_000_000));
        assert_eq!(bytes("0"), Ok(0));
    }

    #[test]
    fn byte_sizes_reject_garbage_with_a_clear_message() {
        assert_eq!(bytes(""), Err(UnitError::Empty));
        assert!(matches!(
            bytes("1.5 GiB"),
            Err(UnitError::NotANumber { .. })
        ));
        assert!(matches!(bytes("MiB"), Err(UnitError::NotANumber { .. })));
        assert!(matches!(bytes("-1"), Err(UnitError::NotANumber { .. })));
        assert_eq!(bytes("99999999999 TiB"), Err(UnitError::Overflow));
        assert_eq!(bytes("99999999999999999999999"), Err(UnitError::Overflow));
        let err = bytes("10 MeB").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown unit \"MeB\"; expected one of B, KB, MB, GB, TB, KiB, MiB, GiB, TiB"
        );
    }

    #[test]
    fn byte_sizes_display_in_the_largest_exact_unit() {
        assert_eq!(ByteSize(64 << 20).to_string(), "64 MiB");
        assert_eq!(ByteSize(1 << 30).to_string(), "1 GiB");
        assert_eq!(ByteSize(1536).to_string(), "1536 B");
        assert_eq!(ByteSize(1500).to_string(), "1500 B");
        assert_eq!(ByteSize(0).to_string(), "0 B");
        for size in [0, 1, 1500, 64 << 20, 3 << 40] {
            assert_eq!(bytes(&ByteSize(size).to_string()), Ok(size));
        }
    }

    #[test]
    fn durations_parse_each_unit() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2 h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn durations_reject_garbage_with_a_clear_message() {
        assert_eq!(
            parse_duration("30").unwrap_err().to_string(),
            "missing unit; write e.g. \"30s\" (units: ms, s, m, h, d)"
        );
        assert_eq!(
            parse_duration("5M").unwrap_err().to_string(),
            "unknown unit \"M\"; expected one of ms, s, m, h, d"
        );
        assert!(matches!(
            parse_duration("1h30m"),
            Err(UnitError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_duration("1.5s"),
            Err(UnitError::NotANumber { .. })
        ));
        assert!(matches!(
            parse_duration("soon"),
            Err(UnitError::NotANumber { .. })
        ));
        assert_eq!(parse_duration("  "), Err(UnitError::Empty));
        assert_eq!(
            parse_duration("18446744073709551615d"),
            Err(UnitError::Overflow)
        );
    }

    #[test]
    fn durations_format_back_to_parseable_text() {
        assert_eq!(format_duration(Duration::from_secs(7 * 86_400)), "7d");
        assert_eq!(format_duration(Duration::from_secs(90 * 60)), "90m");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        for text in ["250ms", "1s", "5m", "12h", "7d"] {
            let parsed = parse_duration(text).unwrap();
            assert_eq!(format_duration(parsed), text);
        }
    }
}
