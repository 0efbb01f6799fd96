//! Command-line interface of the `runnel` binary, parsed with clap's derive API.
//!
//! Each subcommand gets an args struct; `main` matches on [`Command`] and calls into the
//! library. `serve` flags are all `Option`s so the config overlay (`config::Config::load`) can
//! tell "not given" from "given": an absent flag leaves the file or `RUNNEL_*` value in force.
//! Flags don't read `RUNNEL_*` variables themselves (only `--config` does); the config layer
//! owns that, so each value has exactly one precedence rule.
//!
//! Not owned here: defaults and validation beyond types (see `config`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::LogFormat;

/// Runnel: a partitioned, replicated commit log with an HTTP and WebSocket gateway.
#[derive(Debug, Parser)]
#[command(name = "runnel", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a broker: the log, the HTTP gateway, the web UI, until SIGINT or SIGTERM.
    Serve(ServeArgs),
}

/// Flags of `runnel serve`. Each overrides the config file and `RUNNEL_*` variables.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// TOML config file; without one, built-in defaults apply (see runnel.example.toml).
    #[arg(long, short = 'c', env = "RUNNEL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Directory for all on-disk state [env: RUNNEL_DATA_DIR] [default: ./data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address the HTTP gateway binds [env: RUNNEL_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "IP:PORT")]
    pub listen: Option<SocketAddr>,

    /// Base URL put in links given to clients [env: RUNNEL_PUBLIC_URL] [default: http://LISTEN]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// Log line format; the filter comes from RUST_LOG (default info) [env: RUNNEL_LOG_FORMAT]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_flags_parse_and_absent_ones_stay_none() {
        let cli = Cli::try_parse_from([
            "runnel",
            "serve",
            "--listen",
            "0.0.0.0:9092",
            "--log-format",
            "json",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command;
        assert_eq!(args.listen, Some("0.0.0.0:9092".parse().unwrap()));
        assert_eq!(args.log_format, Some(LogFormat::Json));
        assert_eq!(args.data_dir, None);
        assert_eq!(args.public_url, None);
    }

    #[test]
    fn bad_flag_values_are_rejected_by_clap() {
        assert!(Cli::try_parse_from(["runnel", "serve", "--listen", "localhost"]).is_err());
        assert!(Cli::try_parse_from(["runnel", "serve", "--log-format", "xml"]).is_err());
        assert!(Cli::try_parse_from(["runnel"]).is_err());
    }
}
