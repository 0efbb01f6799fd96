//! RFC 3339 timestamps of the v3 API (`"timestamp": "2021-02-05T19:14:42.5Z"`) to and from
//! Kafka's record timestamps, milliseconds since the Unix epoch.
//!
//! Parsing is strict, as the timestamp becomes the record's for good: a date that is not on
//! the calendar, a time of day that does not exist, an offset of a day or more, or an instant
//! before the epoch (Kafka timestamps are non-negative) are refused, never normalised into
//! some other instant.

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Why a v3 `timestamp` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    #[error("is not an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM))")]
    Syntax,
    #[error("names a day its month does not have")]
    Date,
    #[error("names a time of day that does not exist")]
    Time,
    #[error("has a UTC offset outside -23:59..+23:59")]
    Offset,
    #[error("is before 1970-01-01T00:00:00Z; Kafka timestamps are milliseconds since then")]
    BeforeEpoch,
}

fn is_leap_year(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap_year(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses an RFC 3339 date-time, `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, into ms since the
/// epoch. Strict, as a Kafka timestamp must be: a real calendar day, a real time of day (a
/// leap second only as the last second of a UTC day, counted as the next one's start), an
/// offset of less than a day, and no earlier than the epoch. Digits past milliseconds are
/// dropped.
///
/// # Errors
/// The first rule broken.
pub fn parse_rfc3339_ms(s: &str) -> Result<i64, TimestampError> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<i64, TimestampError> {
        let part = s.get(r).ok_or(TimestampError::Syntax)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().map_err(|_| TimestampError::Syntax)
        } else {
            Err(TimestampError::Syntax)
        }
    };
    if b.len() < 20 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return Err(TimestampError::Syntax);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' '))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return Err(TimestampError::Syntax);
    }
    let (y, mo, d, h, mi, sec) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=days_in_month(y, mo)).contains(&d) {
        return Err(TimestampError::Date);
    }
    if h > 23 || mi > 59 || sec > 60 {
        return Err(TimestampError::Time);
    }
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let frac = s.get(start..i).ok_or(TimestampError::Syntax)?;
        if frac.is_empty() {
            return Err(TimestampError::Syntax);
        }
        let padded: String = frac.chars().chain("000".chars()).take(3).collect();
        ms = padded.parse().map_err(|_| TimestampError::Syntax)?;
    }
    let offset_min = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b.get(i + 3) == Some(&b':') => {
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if oh > 23 || om > 59 {
                return Err(TimestampError::Offset);
            }
            if *sign == b'+' {
                oh * 60 + om
            } else {
                -(oh * 60 + om)
            }
        }
        _ => return Err(TimestampError::Syntax),
    };
    let utc_minute = (h * 60 + mi - offset_min).rem_euclid(24 * 60);
    if sec == 60 && utc_minute != 24 * 60 - 1 {
        return Err(TimestampError::Time);
    }
    let days = days_from_civil(y, mo, d);
    let ms = ((days * 24 + h) * 60 + mi - offset_min) * 60_000 + sec * 1000 + ms;
    if ms < 0 {
        return Err(TimestampError::BeforeEpoch);
    }
    Ok(ms)
}

/// Formats ms since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_rfc3339_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    // Inverse of days_from_civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(
            parse_rfc3339_ms("2021-02-05T19:14:42Z"),
            Ok(1_612_552_482_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2021-02-05T20:14:42.5+01:00"),
            Ok(1_612_552_482_500)
        );
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T00:00:00Z"),
            Ok(1_709_164_800_000)
        );
        // A leap second is the next day's first instant.
        assert_eq!(
            parse_rfc3339_ms("2016-12-31T23:59:60Z"),
            parse_rfc3339_ms("2017-01-01T00:00:00Z")
        );
        assert_eq!(
            parse_rfc3339_ms("2017-01-01T00:59:60+01:00"),
            parse_rfc3339_ms("2017-01-01T00:00:00Z")
        );
        assert_eq!(
            format_rfc3339_ms(1_612_552_482_500),
            "2021-02-05T19:14:42.500Z"
        );
        for ms in [
            0,
            1,
            951_782_400_000,
            4_102_444_800_123,
            253_402_300_799_999,
        ] {
            assert_eq!(parse_rfc3339_ms(&format_rfc3339_ms(ms)), Ok(ms));
        }
    }

    #[test]
    fn impossible_timestamps_are_refused() {
        use TimestampError as E;
        for (bad, why) in [
            ("", E::Syntax),
            ("2021-02-05", E::Syntax),
            ("2021-02-05T19:14:42", E::Syntax),
            ("2021-02-05T19-14-42Z", E::Syntax),
            ("x", E::Syntax),
            ("2021-02-05T19:14:42.Z", E::Syntax),
            ("2021-13-05T19:14:42Z", E::Date),
            ("2021-00-05T19:14:42Z", E::Date),
            ("2021-02-30T00:00:00Z", E::Date),
            ("2023-02-29T00:00:00Z", E::Date),
            ("1900-02-29T00:00:00Z", E::Date),
            ("2021-04-31T00:00:00Z", E::Date),
            ("2021-02-05T24:00:00Z", E::Time),
            ("2021-02-05T19:60:00Z", E::Time),
            ("2021-02-05T19:14:60Z", E::Time),
            ("2021-02-05T19:14:42-24:00", E::Offset),
            ("2021-02-05T19:14:42+05:60", E::Offset),
            ("1969-12-31T23:59:59.999Z", E::BeforeEpoch),
            ("1970-01-01T00:30:00+01:00", E::BeforeEpoch),
            ("0001-01-01T00:00:00Z", E::BeforeEpoch),
        ] {
            assert_eq!(parse_rfc3339_ms(bad), Err(why), "{bad}");
        }
    }
}
