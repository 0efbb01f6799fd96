//! The client subcommands of the `runnel` binary: `topics`, `produce`, `consume` (and the
//! dispatch to `bench`), each a thin layer over [`crate::client::Client`].
//!
//! Each command fetches into a plain, serializable value and renders it separately, so tests
//! check the value and `--output json` prints it as is. Human output goes to stdout, progress
//! and per-record problems to stderr; any failure becomes a non-zero exit in `main`.
//!
//! Not owned here: HTTP and error bodies (`client`), benchmarks (`bench`), `serve`.

pub mod consume;
pub mod produce;
#[cfg(test)]
mod roundtrip_tests;
pub mod topics;

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use crate::cli::{BenchCommand, Command, ServerArgs};
use crate::client::Client;

/// Runs a client subcommand, writing its output to stdout.
///
/// # Errors
/// Whatever the command reports; `serve` is not a client command and is refused.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match run_command(command).await {
        // The reader of stdout went away (`| head`): that ends the command, it is not a failure.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        let kind = match cause.downcast_ref::<io::Error>() {
            Some(io) => Some(io.kind()),
            None => cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind),
        };
        kind == Some(io::ErrorKind::BrokenPipe)
    })
}

async fn run_command(command: Command) -> anyhow::Result<()> {
    let stdout = io::stdout();
    match command {
        Command::Serve(_) => anyhow::bail!("`serve` is not a client command"),
        Command::Topics(args) => {
            let client = connect(&args.server)?;
            let mut out = stdout.lock();
            topics::run(&client, &args.command, args.output, &mut out).await
        }
        Command::Produce(args) => {
            let client = connect(&args.server)?;
            let input = tokio::io::BufReader::new(tokio::io::stdin());
            let summary = produce::run(&client, &args, input).await?;
            summary.print(&mut stdout.lock())?;
            summary.into_result()
        }
        Command::Consume(args) => {
            let client = connect(&args.server)?;
            consume::run(&client, &args, &mut stdout.lock())
                .await
                .map(drop)
        }
        Command::Bench(args) => match args.command {
            BenchCommand::Produce(args) => crate::bench::produce(&args).await,
            BenchCommand::Consume(args) => crate::bench::consume(&args).await,
            BenchCommand::Latency(args) => crate::bench::latency::run(&args).await,
            BenchCommand::Sockets(args) => crate::bench::sockets::run(&args).await,
        },
    }
}

/// A client for `--url`.
///
/// # Errors
/// The URL is not an http(s) URL.
pub fn connect(server: &ServerArgs) -> anyhow::Result<Client> {
    Ok(Client::new(&server.url)?)
}

/// A `KEY=VALUE` pair from the command line (`--config retention.ms=1000`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

impl FromStr for KeyValue {
    type Err = String;

    /// Splits at the first `=`, so values may contain `=`; the key must be non-empty.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => Ok(KeyValue {
                key: key.trim().to_owned(),
                value: value.to_owned(),
            }),
            Some(_) => Err(format!("missing config name before '=' in {s:?}")),
            None => Err(format!("expected KEY=VALUE, got {s:?}")),
        }
    }
}

impl fmt::Display for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// Writes rows as left-aligned columns two spaces apart; the last column is not padded.
///
/// # Errors
/// Writing to `out` failed.
pub fn write_table<W: Write + ?Sized>(
    out: &mut W,
    headers: &[&str],
    rows: &[Vec<String>],
) -> io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let width = widths.get(i).copied().unwrap_or(0);
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_split_at_the_first_equals_sign() {
        let kv: KeyValue = "retention.ms=1000".parse().unwrap();
        assert_eq!(
            (kv.key.as_str(), kv.value.as_str()),
            ("retention.ms", "1000")
        );
        let kv: KeyValue = "a=b=c".parse().unwrap();
        assert_eq!((kv.key.as_str(), kv.value.as_str()), ("a", "b=c"));
        let kv: KeyValue = "cleanup.policy=".parse().unwrap();
        assert_eq!(kv.value, "");
        assert!("novalue".parse::<KeyValue>().is_err());
        assert!("=x".parse::<KeyValue>().is_err());
    }

    #[test]
    fn tables_align_columns() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["orders".to_owned(), "12".to_owned(), "x".to_owned()],
            vec!["a".to_owned(), "3".to_owned(), "longer".to_owned()],
        ];
        write_table(&mut out, &["TOPIC", "PARTITIONS", "Z"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "TOPIC   PARTITIONS  Z\norders  12          x\na       3           longer\n"
        );
    }
}
