//! The client subcommands of the `runnel` binary: `topics`, `produce`, `consume`, `cluster`, `audit` (and the
//! dispatch to `bench`), each a thin layer over [`crate::cli::client::Client`].
//!
//! Each command fetches into a plain, serializable value and renders it separately, so tests
//! check the value and `--output json` prints it as is. Human output goes to stdout, progress
//! and per-record problems to stderr; any failure becomes a non-zero exit in `main`.
//!
//! Not owned here: HTTP and error bodies (`client`), benchmarks (`bench`), `serve`.

pub mod audit;
pub mod cluster;
pub mod consume;
pub mod produce;
#[cfg(test)]
mod roundtrip_tests;
pub mod topics;

use std::io::{self, Write};

use crate::cli::{BenchCommand, Command};

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
            let client = args.server.connect()?;
            let mut out = stdout.lock();
            topics::run(&client, &args.command, args.output, &mut out).await
        }
        Command::Produce(args) => {
            let client = args.server.connect()?;
            let input = tokio::io::BufReader::new(tokio::io::stdin());
            let summary = produce::run(&client, &args, input).await?;
            summary.print(&mut stdout.lock())?;
            summary.into_result()
        }
        Command::Consume(args) => {
            let client = args.server.connect()?;
            consume::run(&client, &args, &mut stdout.lock())
                .await
                .map(drop)
        }
        Command::Audit(args) => {
            let client = args.server.connect()?;
            let mut out = stdout.lock();
            audit::run(&client, args.topic.as_deref(), args.output, &mut out).await
        }
        Command::Cluster(args) => {
            let client = args.server.connect()?;
            let mut out = stdout.lock();
            cluster::run(&client, args.command, args.output, &mut out).await
        }
        Command::Bench(args) => match args.command {
            BenchCommand::Produce(args) => crate::cli::bench::produce(&args).await,
            BenchCommand::Consume(args) => crate::cli::bench::consume(&args).await,
            BenchCommand::Latency(args) => crate::cli::bench::latency::run(&args).await,
            BenchCommand::Sockets(args) => crate::cli::bench::sockets::run(&args).await,
        },
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
