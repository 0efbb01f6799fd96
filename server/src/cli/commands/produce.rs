//! `runnel produce TOPIC`: lines from stdin, one record each, sent in batches over v2 produce.
//!
//! A line is everything up to `\n` (a `\r` before it is dropped too). With `--key-separator` it
//! is split at the first separator into key and value, and a line without one stops the run, as
//! Kafka's console producer does. In the binary format the line's bytes are stored as they are
//! (base64 on the wire); in the json format each value is sent as a JSON string, or parsed as a
//! JSON document with `--value-json`. Keys are always strings (bytes in binary).
//!
//! Requests are sequential, up to `--batch` lines each. The run collects a [`ProduceSummary`]:
//! records and first/last offset per partition, plus per-record failures, which make the exit
//! status non-zero after everything was sent. A whole-request failure (unknown topic, say) stops
//! at once.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context as _;
use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt as _};

use crate::cli::ProduceArgs;
use crate::cli::client::{Client, Format, ProduceRecord};

/// How many per-record error messages are kept for the report.
const MAX_REPORTED_ERRORS: usize = 5;

/// Where a run's records went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProduceSummary {
    pub topic: String,
    /// Records the server accepted.
    pub records: u64,
    /// Records the server reported failed.
    pub failed: u64,
    pub partitions: BTreeMap<u32, PartitionSummary>,
    /// The first few per-record errors, with the input line they came from.
    pub errors: Vec<String>,
}

/// Accepted records of one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PartitionSummary {
    pub records: u64,
    pub first_offset: u64,
    pub last_offset: u64,
}

impl ProduceSummary {
    /// Prints the per-partition table; per-record errors go to stderr.
    ///
    /// # Errors
    /// Writing to `out` failed.
    pub fn print<W: Write + ?Sized>(&self, out: &mut W) -> std::io::Result<()> {
        writeln!(
            out,
            "produced {} record{} to '{}'",
            self.records,
            if self.records == 1 { "" } else { "s" },
            self.topic
        )?;
        if !self.partitions.is_empty() {
            let rows: Vec<Vec<String>> = self
                .partitions
                .iter()
                .map(|(p, s)| {
                    vec![
                        p.to_string(),
                        s.records.to_string(),
                        s.first_offset.to_string(),
                        s.last_offset.to_string(),
                    ]
                })
                .collect();
            super::write_table(
                out,
                &["PARTITION", "RECORDS", "FIRST_OFFSET", "LAST_OFFSET"],
                &rows,
            )?;
        }
        for e in &self.errors {
            eprintln!("error: {e}");
        }
        Ok(())
    }

    /// `Err` when any record failed, for the exit status.
    ///
    /// # Errors
    /// As above.
    pub fn into_result(self) -> anyhow::Result<()> {
        if self.failed == 0 {
            Ok(())
        } else {
            anyhow::bail!(
                "{} of {} records failed",
                self.failed,
                self.failed + self.records
            )
        }
    }

    fn accept(&mut self, partition: u32, offset: u64) {
        self.records += 1;
        self.partitions
            .entry(partition)
            .and_modify(|s| {
                s.records += 1;
                s.first_offset = s.first_offset.min(offset);
                s.last_offset = s.last_offset.max(offset);
            })
            .or_insert(PartitionSummary {
                records: 1,
                first_offset: offset,
                last_offset: offset,
            });
    }
}

/// Splits `line` at the first `separator` into `(key, value)`; `None` when there is none.
pub fn split_key<'a>(line: &'a [u8], separator: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    if separator.is_empty() || separator.len() > line.len() {
        return None;
    }
    let at = line.windows(separator.len()).position(|w| w == separator)?;
    let (key, rest) = line.split_at(at);
    rest.get(separator.len()..).map(|value| (key, value))
}

/// Removes the line terminator: `\n`, and a `\r` before it.
fn trim_line_end(mut line: &[u8]) -> &[u8] {
    if let Some(rest) = line.strip_suffix(b"\n") {
        line = rest;
        if let Some(rest) = line.strip_suffix(b"\r") {
            line = rest;
        }
    }
    line
}

/// How each line becomes a record's key and value.
#[derive(Debug, Clone, Copy)]
struct Encoding {
    format: Format,
    value_json: bool,
}

impl Encoding {
    fn from_args(args: &ProduceArgs) -> anyhow::Result<Self> {
        let format = match (args.format, args.value_json) {
            (Some(Format::Binary), true) => {
                anyhow::bail!("--value-json needs --format json (binary values are bytes)")
            }
            (Some(f), _) => f,
            (None, true) => Format::Json,
            (None, false) => Format::Binary,
        };
        Ok(Encoding {
            format,
            value_json: args.value_json,
        })
    }

    fn key(self, bytes: &[u8], line: u64) -> anyhow::Result<Value> {
        match self.format {
            Format::Binary => Ok(base64_value(bytes)),
            Format::Json => Ok(Value::String(utf8(bytes, line, "key")?.to_owned())),
        }
    }

    fn value(self, bytes: &[u8], line: u64) -> anyhow::Result<Value> {
        match self.format {
            Format::Binary => Ok(base64_value(bytes)),
            Format::Json if self.value_json => serde_json::from_slice(bytes)
                .with_context(|| format!("line {line}: value is not a JSON document")),
            Format::Json => Ok(Value::String(utf8(bytes, line, "value")?.to_owned())),
        }
    }
}

fn base64_value(bytes: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn utf8<'a>(bytes: &'a [u8], line: u64, what: &str) -> anyhow::Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!("line {line}: {what} is not UTF-8; use --format binary for raw bytes")
    })
}

/// Reads `input` to the end, producing one record per line.
///
/// # Errors
/// Reading the input, a malformed line, or a whole-request failure. Per-record failures are
/// counted in the summary instead.
pub async fn run<R: AsyncBufRead + Unpin>(
    client: &Client,
    args: &ProduceArgs,
    mut input: R,
) -> anyhow::Result<ProduceSummary> {
    let encoding = Encoding::from_args(args)?;
    let batch = usize::try_from(args.batch).unwrap_or(usize::MAX);
    let mut summary = ProduceSummary {
        topic: args.topic.clone(),
        ..ProduceSummary::default()
    };
    let mut records = Vec::with_capacity(batch);
    // Input line number of each pending record, to name the line in per-record errors.
    let mut line_numbers = Vec::with_capacity(batch);
    let mut buf = Vec::new();
    let mut line_number = 0u64;
    loop {
        buf.clear();
        let read = input
            .read_until(b'\n', &mut buf)
            .await
            .context("cannot read stdin")?;
        if read > 0 {
            line_number += 1;
            let line = trim_line_end(&buf);
            let (key, value) = match &args.key_separator {
                Some(sep) => {
                    let (k, v) = split_key(line, sep.as_bytes())
                        .with_context(|| format!("line {line_number}: no key separator {sep:?}"))?;
                    (Some(encoding.key(k, line_number)?), v)
                }
                None => (None, line),
            };
            records.push(ProduceRecord {
                key,
                value: Some(encoding.value(value, line_number)?),
                partition: None,
            });
            line_numbers.push(line_number);
        }
        if records.len() >= batch || (read == 0 && !records.is_empty()) {
            send(
                client,
                args,
                encoding.format,
                &records,
                &line_numbers,
                &mut summary,
            )
            .await
            .with_context(|| {
                format!(
                    "produce to '{}' failed after {} records",
                    args.topic, summary.records
                )
            })?;
            records.clear();
            line_numbers.clear();
        }
        if read == 0 {
            return Ok(summary);
        }
    }
}

async fn send(
    client: &Client,
    args: &ProduceArgs,
    format: Format,
    records: &[ProduceRecord],
    line_numbers: &[u64],
    summary: &mut ProduceSummary,
) -> anyhow::Result<()> {
    let response = client
        .produce(&args.topic, args.partition, format, records, args.acks)
        .await?;
    if response.offsets.len() != records.len() {
        anyhow::bail!(
            "the server answered {} offsets for {} records",
            response.offsets.len(),
            records.len()
        );
    }
    for (result, line) in response.offsets.iter().zip(line_numbers) {
        match (result.partition, result.offset, result.error_code) {
            (Some(partition), Some(offset), None) => summary.accept(partition, offset),
            _ => {
                summary.failed += 1;
                if summary.errors.len() < MAX_REPORTED_ERRORS {
                    summary.errors.push(format!(
                        "line {line}: {} ({})",
                        result.error.as_deref().unwrap_or("no offset returned"),
                        result.error_code.unwrap_or_default()
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_separator_splits_at_the_first_occurrence() {
        assert_eq!(
            split_key(b"user-1:{\"a\":1}", b":"),
            Some((&b"user-1"[..], &b"{\"a\":1}"[..]))
        );
        assert_eq!(
            split_key(b"a::b::c", b"::"),
            Some((&b"a"[..], &b"b::c"[..]))
        );
        assert_eq!(split_key(b"k\t", b"\t"), Some((&b"k"[..], &b""[..])));
        assert_eq!(split_key(b"\tv", b"\t"), Some((&b""[..], &b"v"[..])));
        assert_eq!(split_key(b"no separator", b":"), None);
        assert_eq!(split_key(b"", b":"), None);
        assert_eq!(split_key(b"ab", b"abc"), None);
    }

    #[test]
    fn line_ends_are_trimmed_once() {
        assert_eq!(trim_line_end(b"a\r\n"), b"a");
        assert_eq!(trim_line_end(b"a\n"), b"a");
        assert_eq!(trim_line_end(b"a\r"), b"a\r");
        assert_eq!(trim_line_end(b"a\n\n"), b"a\n");
        assert_eq!(trim_line_end(b"last"), b"last");
    }

    #[test]
    fn encodings_follow_the_format() {
        let binary = Encoding {
            format: Format::Binary,
            value_json: false,
        };
        assert_eq!(binary.value(b"\xffhi", 1).unwrap(), Value::from("/2hp"));
        let json = Encoding {
            format: Format::Json,
            value_json: false,
        };
        assert_eq!(
            json.value(b"{\"a\":1}", 1).unwrap(),
            Value::from("{\"a\":1}")
        );
        assert!(
            json.value(b"\xff", 3)
                .unwrap_err()
                .to_string()
                .contains("line 3")
        );
        let raw = Encoding {
            format: Format::Json,
            value_json: true,
        };
        assert_eq!(
            raw.value(b"{\"a\":1}", 1).unwrap(),
            serde_json::json!({"a": 1})
        );
        assert_eq!(raw.key(b"k", 1).unwrap(), Value::from("k"));
        assert!(raw.value(b"not json", 1).is_err());
    }

    #[test]
    fn summaries_track_first_and_last_offsets_per_partition() {
        let mut s = ProduceSummary::default();
        for (p, o) in [(0, 5), (1, 0), (0, 6), (0, 7)] {
            s.accept(p, o);
        }
        assert_eq!(s.records, 4);
        assert_eq!(
            s.partitions[&0],
            PartitionSummary {
                records: 3,
                first_offset: 5,
                last_offset: 7
            }
        );
        assert_eq!(s.partitions[&1].records, 1);
        assert!(s.clone().into_result().is_ok());
        s.failed = 1;
        assert_eq!(
            s.into_result().unwrap_err().to_string(),
            "1 of 5 records failed"
        );
    }
}
