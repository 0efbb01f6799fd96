//! The `runnel` binary: parse flags, load configuration, start logging, run until a signal; or
//! run a client subcommand against a server (`runnel::cli::commands`).
//!
//! Kept thin, as mini-redis `bin/server.rs`: everything else lives in the library. Errors
//! reaching here are printed once, as a chain (`error: a: b: c`), and the process exits 1;
//! clap's own usage errors exit 2.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use runnel::cli::{Cli, Command, ServeArgs};
use runnel::config::{Config, LogFormat};
use tracing::{info, warn};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        client_command => runnel::cli::commands::run(client_command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // Configuration is loaded before logging starts because it chooses the log format; its
    // errors go to stderr through `main`.
    let config = Config::load(args.config.as_deref(), runnel::config::process_env(), &args)
        .context("cannot load configuration")?;
    init_tracing(config.log_format)?;
    for var in &config.unrecognized_env {
        warn!(var = %var, "ignoring environment variable that matches no setting");
    }
    if config.public_url.is_none() && config.listen.ip().is_unspecified() {
        warn!(
            public_url = %config.public_url(),
            "listening on a wildcard address without public_url; links given to clients use it"
        );
    }
    info!(
        config_file = ?args.config,
        effective = %config.to_redacted_toml().trim_end(),
        "configuration loaded"
    );
    let shutdown = runnel::shutdown::signal_token().context("cannot install signal handlers")?;
    runnel::serve::run(config, shutdown).await
}

/// Logs to stderr (stdout is kept for command output such as `runnel consume`), filtered by
/// `RUST_LOG`, default `info`.
fn init_tracing(format: LogFormat) -> anyhow::Result<()> {
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .from_env()
        .context("invalid RUST_LOG")?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
    installed
        .map_err(|err| anyhow::anyhow!(err))
        .context("cannot start logging")?;
    Ok(())
}
