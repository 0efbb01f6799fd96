//! What a JSON key or value must be to be stored: JSON that every common reader parses back.
//!
//! The json embedded format stores a record's JSON text as it came, borrowed from the request
//! (`RawValue`), and serde_json only checks the syntax of a raw value: it accepts any nesting
//! depth, numbers of any size and `\uXXXX` escapes of lone UTF-16 surrogates. Each of those
//! makes common readers fail on the whole response that carries the record, so a stored one
//! would break every consumer that reaches it. [`check`] refuses them in one pass over the
//! text, without building a tree: nesting up to [`MAX_DEPTH`], numbers within the range of a
//! double (IEEE 754 binary64, what JavaScript, Jackson's default `double` and serde_json read
//! numbers into; a smaller one rounds to zero, which readers accept), and escapes that name
//! Unicode scalar values.
//!
//! Also here: [`compact`], the one form of a JSON key, so equal keys pick the same partition
//! whatever whitespace the client sent.
//!
//! Not owned here: the syntax (serde_json checked it before) and the UTF-8 of the text (a
//! `&str`).

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

/// Deepest nesting of arrays and objects a key or value may have.
///
/// serde_json, the strictest common reader, stops at 128 levels for a whole document, and a
/// value is read inside an envelope: the v2 read is an array of record objects (2 levels), a
/// WebSocket `records` frame an object holding that array (3). Half of serde_json's limit
/// leaves room for those and for a client's own wrapping of a value, and is far deeper than
/// real documents nest.
pub const MAX_DEPTH: usize = 64;

/// Why a JSON text would not read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonValueError {
    #[error("nests arrays and objects deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("holds the number {number}, outside the range of a double")]
    NumberOutOfRange { number: String },
    #[error("holds the escape {escape}, a lone UTF-16 surrogate that is not a Unicode character")]
    LoneSurrogate { escape: String },
}

/// The compact form of valid JSON text (no insignificant whitespace), as a JSON serializer
/// writes it; the text as given if it does not parse.
pub fn compact(text: &bytes::Bytes) -> bytes::Bytes {
    match serde_json::from_slice::<serde_json::Value>(text).and_then(|v| serde_json::to_vec(&v)) {
        Ok(v) => bytes::Bytes::from(v),
        Err(_) => text.clone(),
    }
}

/// Longest integer (in characters, sign included) that cannot exceed a double's range:
/// `f64::MAX` has 309 digits, so only longer ones need parsing.
const SAFE_INTEGER_CHARS: usize = 309;

/// Checks that a syntactically valid JSON text reads back everywhere (see the module docs).
///
/// # Errors
/// The first problem found.
pub fn check(text: &str) -> Result<(), JsonValueError> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(JsonValueError::TooDeep { limit: MAX_DEPTH });
                }
                i += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'"' => i = skip_string(b, i + 1)?,
            b'-' | b'0'..=b'9' => i = check_number(text, i)?,
            _ => i += 1,
        }
    }
    Ok(())
}

/// Checks a number starting at `start`; returns the index after it.
fn check_number(text: &str, start: usize) -> Result<usize, JsonValueError> {
    let b = text.as_bytes();
    let mut end = start;
    let mut exponent = false;
    while let Some(&c) = b.get(end) {
        match c {
            b'e' | b'E' => exponent = true,
            b'0'..=b'9' | b'-' | b'+' | b'.' => {}
            _ => break,
        }
        end += 1;
    }
    let number = text.get(start..end).unwrap_or_default();
    if exponent || number.len() > SAFE_INTEGER_CHARS {
        let finite = number.parse::<f64>().is_ok_and(f64::is_finite);
        if !finite {
            let shown = if number.len() > 40 {
                format!(
                    "{}… ({} characters)",
                    number.get(..32).unwrap_or_default(),
                    number.len()
                )
            } else {
                number.to_owned()
            };
            return Err(JsonValueError::NumberOutOfRange { number: shown });
        }
    }
    Ok(end)
}

/// Skips a string whose opening quote is before `i`, checking its `\u` escapes; returns the
/// index after the closing quote.
fn skip_string(b: &[u8], mut i: usize) -> Result<usize, JsonValueError> {
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => return Ok(i + 1),
            b'\\' if b.get(i + 1) == Some(&b'u') => {
                let unit = hex4(b, i + 2);
                match unit {
                    Some(0xD800..=0xDBFF) => {
                        let low = (b.get(i + 6) == Some(&b'\\') && b.get(i + 7) == Some(&b'u'))
                            .then(|| hex4(b, i + 8))
                            .flatten();
                        if !matches!(low, Some(0xDC00..=0xDFFF)) {
                            return Err(lone(b, i));
                        }
                        i += 12;
                    }
                    Some(0xDC00..=0xDFFF) => return Err(lone(b, i)),
                    _ => i += 6,
                }
            }
            // Any other escape is two bytes; skipping both keeps an escaped quote inside.
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    Ok(i)
}

/// The four hex digits at `at` as a UTF-16 code unit.
fn hex4(b: &[u8], at: usize) -> Option<u16> {
    let digits = std::str::from_utf8(b.get(at..at + 4)?).ok()?;
    u16::from_str_radix(digits, 16).ok()
}

fn lone(b: &[u8], at: usize) -> JsonValueError {
    let escape = b
        .get(at..at + 6)
        .and_then(|e| std::str::from_utf8(e).ok())
        .unwrap_or("\\u")
        .to_owned();
    JsonValueError::LoneSurrogate { escape }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use proptest::prelude::*;

    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn values_that_read_back_pass() {
        for ok in [
            "1",
            "-0.5e-3",
            "1e308",
            "-1.7976931348623157e308",
            "1e-999999",
            r#""plain \" \\ \n \u00e9 \ud83d\ude00 ]]]]""#,
            r#"{"a":[1,2,{"b":"}"}],"c":null}"#,
            "123456789012345678901234567890",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        assert_eq!(check(&nested(MAX_DEPTH)), Ok(()));
        // Brackets inside strings do not nest.
        let in_string = format!("\"{}\"", "[".repeat(MAX_DEPTH * 2));
        assert_eq!(check(&in_string), Ok(()));
    }

    #[test]
    fn values_readers_refuse_fail() {
        assert_eq!(
            check(&nested(MAX_DEPTH + 1)),
            Err(JsonValueError::TooDeep { limit: MAX_DEPTH })
        );
        assert_eq!(
            check(&nested(100_000)),
            Err(JsonValueError::TooDeep { limit: MAX_DEPTH })
        );
        for number in ["1e999999", "-1e309", "[1, 2E400]"] {
            assert!(
                matches!(check(number), Err(JsonValueError::NumberOutOfRange { .. })),
                "{number}"
            );
        }
        let long = "9".repeat(400);
        assert!(matches!(
            check(&long),
            Err(JsonValueError::NumberOutOfRange { .. })
        ));
        for s in [
            r#""\ud800""#,
            r#""a\uD800b""#,
            r#""\udc00""#,
            r#""\ud800\u0041""#,
            r#"{"k":"\ud800\n"}"#,
        ] {
            assert!(
                matches!(check(s), Err(JsonValueError::LoneSurrogate { .. })),
                "{s}"
            );
        }
    }

    /// serde_json's own reader agrees on what reads back, for values shallow enough for it.
    #[test]
    fn agrees_with_serde_json_on_numbers_and_escapes() {
        for text in [
            "1e999999",
            "1e308",
            r#""\ud800""#,
            r#""\udfff""#,
            r#""\ud83d\ude00""#,
        ] {
            let serde_ok = serde_json::from_str::<serde_json::Value>(text).is_ok();
            assert_eq!(check(text).is_ok(), serde_ok, "{text}");
        }
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            any::<String>().prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(6, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever serde_json writes (escaped or not), the check passes.
        #[test]
        fn serde_json_output_passes(v in json_value()) {
            let text = serde_json::to_string(&v).unwrap();
            prop_assert_eq!(check(&text), Ok(()));
        }
    }
}
