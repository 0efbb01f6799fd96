//! Command-line interface of the `runnel` binary, parsed with clap's derive API.
//!
//! Each subcommand gets an args struct; `main` matches on [`Command`] and calls into the
//! library. `serve` flags are all `Option`s so the config overlay (`config::Config::load`) can
//! tell "not given" from "given": an absent flag leaves the file or `RUNNEL_*` value in force.
//! `serve` flags don't read `RUNNEL_*` variables themselves (only `--config` does); the config
//! layer owns that, so each value has exactly one precedence rule.
//!
//! The client subcommands (`topics`, `produce`, `consume`, `bench`) talk to a running server over
//! its HTTP API; each takes `--url`, which alone reads a variable, [`ENV_URL`], since these
//! commands have no config file.
//!
//! Not owned here: broker defaults and validation beyond types (see `config`), what the client
//! subcommands do (see `commands` and `bench`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::client::{Acks, DEFAULT_URL, Format};
use crate::commands::KeyValue;
use crate::commands::consume::OffsetSpec;
use crate::config::LogFormat;

/// The variable that supplies `--url` to the client subcommands. `serve`'s configuration ignores it.
pub const ENV_URL: &str = "RUNNEL_URL";

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
    /// Create, list, describe, alter and delete topics on a running server.
    Topics(TopicsArgs),
    /// Produce lines from stdin, one record per line.
    Produce(ProduceArgs),
    /// Print records, one value per line.
    Consume(ConsumeArgs),
    /// Measure produce or consume throughput and latency over the HTTP API.
    Bench(BenchArgs),
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

/// Where the server is: shared by every client subcommand.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Base URL of the runnel server
    #[arg(long, global = true, env = ENV_URL, default_value = DEFAULT_URL, value_name = "URL")]
    pub url: String,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people.
    #[default]
    Table,
    /// One JSON document, for scripts.
    Json,
}

/// `runnel topics ...`.
#[derive(Debug, Clone, Args)]
pub struct TopicsArgs {
    #[command(subcommand)]
    pub command: TopicsCommand,

    #[command(flatten)]
    pub server: ServerArgs,

    /// Output format
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// The topic operations.
#[derive(Debug, Clone, Subcommand)]
pub enum TopicsCommand {
    /// Create a topic.
    Create {
        /// Topic name
        name: String,
        /// Number of partitions [default: the server's num_partitions]
        #[arg(long, short = 'p', value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        partitions: Option<u32>,
        /// Topic config under its Kafka name, repeatable: --config retention.ms=3600000
        #[arg(long = "config", short = 'c', value_name = "KEY=VALUE")]
        configs: Vec<KeyValue>,
    },
    /// List topics with their partition counts.
    List,
    /// Show a topic's partitions with their offsets, and its configs.
    Describe {
        /// Topic name
        name: String,
    },
    /// Delete a topic and all its records.
    Delete {
        /// Topic name
        name: String,
    },
    /// Set or reset topic configs.
    Alter {
        /// Topic name
        name: String,
        /// Config to set, repeatable: --config cleanup.policy=compact
        #[arg(
            long = "config",
            short = 'c',
            value_name = "KEY=VALUE",
            required_unless_present = "delete_configs"
        )]
        configs: Vec<KeyValue>,
        /// Config to reset to its default, repeatable
        #[arg(long = "delete-config", value_name = "KEY")]
        delete_configs: Vec<String>,
    },
}

/// `runnel produce TOPIC`.
#[derive(Debug, Clone, Args)]
pub struct ProduceArgs {
    /// Topic to write to
    pub topic: String,

    /// Write every record to this partition [default: by key, or sticky for keyless records]
    #[arg(long, short = 'p', value_name = "P")]
    pub partition: Option<u32>,

    /// Split each line at the first SEP into key and value; a line without SEP is an error
    #[arg(long, short = 'k', value_name = "SEP", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub key_separator: Option<String>,

    /// Lines sent per request
    #[arg(long, short = 'b', value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: u32,

    /// Embedded format: binary stores each line's bytes as they are; json stores a JSON string
    /// [default: binary, or json with --value-json]
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<Format>,

    /// Each value is a JSON document sent as is, not a string (implies --format json)
    #[arg(long)]
    pub value_json: bool,

    /// Acknowledgement the server waits for before answering [default: the server's, all]
    #[arg(long, value_enum)]
    pub acks: Option<Acks>,

    #[command(flatten)]
    pub server: ServerArgs,
}

/// `runnel consume TOPIC`.
#[derive(Debug, Clone, Args)]
pub struct ConsumeArgs {
    /// Topic to read
    pub topic: String,

    /// Read only this partition [default: every partition]
    #[arg(long, short = 'p', value_name = "P", conflicts_with = "group")]
    pub partition: Option<u32>,

    /// Where to start in each partition: an offset, earliest or latest. With --group, where
    /// partitions without a committed offset start (earliest or latest)
    #[arg(long, value_name = "N|earliest|latest", default_value = "earliest")]
    pub offset: OffsetSpec,

    /// Consume as a member of this consumer group: share the topic's partitions with the
    /// group's other members, start at the group's committed offsets, and commit after
    /// printing each batch
    #[arg(long, short = 'g', value_name = "GROUP")]
    pub group: Option<String>,

    /// Keep waiting for new records instead of stopping at the end
    #[arg(long, short = 'F')]
    pub follow: bool,

    /// Stop after printing this many records
    #[arg(long, short = 'n', value_name = "N")]
    pub max_records: Option<u64>,

    /// Embedded format of the read: binary prints stored bytes as they are; json prints JSON
    /// strings unquoted and other documents compactly
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Binary)]
    pub format: Format,

    /// Print the key before the value, tab-separated
    #[arg(long)]
    pub print_key: bool,

    /// Print the partition and offset first, tab-separated
    #[arg(long)]
    pub print_offset: bool,

    #[command(flatten)]
    pub server: ServerArgs,
}

/// `runnel bench ...`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

/// What to measure.
#[derive(Debug, Clone, Subcommand)]
pub enum BenchCommand {
    /// Produce fixed-size records as fast as the server accepts them.
    Produce(BenchProduceArgs),
    /// Read a topic from the start with stateless reads, one reader per partition.
    Consume(BenchConsumeArgs),
    /// End-to-end latency: paced HTTP produce → the records' arrival on a WebSocket.
    Latency(BenchLatencyArgs),
    /// Open many idle consume WebSockets, hold them, close them (server memory per socket).
    Sockets(BenchSocketsArgs),
}

/// Flags shared by both benchmarks.
#[derive(Debug, Clone, Args)]
pub struct BenchCommonArgs {
    /// Topic to use; created if missing
    #[arg(long, short = 't', default_value = "runnel-bench")]
    pub topic: String,

    /// Partitions of the topic when it has to be created
    #[arg(long, short = 'p', default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub partitions: u32,

    /// Value size of each produced record, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 100)]
    pub record_size: usize,

    /// Records per produce request
    #[arg(long, short = 'b', value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: u32,

    /// Concurrent connections [default: 8 for produce, one per partition for consume]
    #[arg(long, short = 'c', value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: Option<u32>,

    /// How long to run [default: 10s for produce; consume reads what is there]
    #[arg(long, short = 'd', value_parser = parse_duration_arg, conflicts_with = "records")]
    pub duration: Option<Duration>,

    /// Stop after this many records instead of after a duration
    #[arg(long, short = 'n', value_name = "N")]
    pub records: Option<u64>,

    /// Embedded format of requests
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Binary)]
    pub format: Format,

    /// HTTP requests, or WebSockets (binary produce then uses the compact binary frames)
    #[arg(long, value_enum, default_value_t = crate::bench::ws::Transport::Http)]
    pub transport: crate::bench::ws::Transport,

    /// Print the final summary as JSON on stdout (the human one goes to stderr)
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub server: ServerArgs,
}

/// `runnel bench produce`.
#[derive(Debug, Clone, Args)]
pub struct BenchProduceArgs {
    #[command(flatten)]
    pub common: BenchCommonArgs,

    /// Acknowledgement each request waits for (sent as the acks query parameter)
    #[arg(long, value_enum, default_value_t = Acks::All)]
    pub acks: Acks,
}

/// `runnel bench consume`.
#[derive(Debug, Clone, Args)]
pub struct BenchConsumeArgs {
    #[command(flatten)]
    pub common: BenchCommonArgs,

    /// Records to produce first when the topic is empty
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub prefill: u64,

    /// Read as members of this consumer group (v2 consumer instances over HTTP, group sockets
    /// over WebSockets) instead of one reader per partition; the group's committed offsets or
    /// else the earliest decide where each partition starts, so use a new group to read it all
    #[arg(long, short = 'g', value_name = "GROUP")]
    pub group: Option<String>,
}

/// `runnel bench latency`.
#[derive(Debug, Clone, Args)]
pub struct BenchLatencyArgs {
    /// Topic to use; created if missing (records already there are skipped)
    #[arg(long, short = 't', default_value = "runnel-bench-latency")]
    pub topic: String,

    /// Partitions of the topic when it has to be created
    #[arg(long, short = 'p', default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub partitions: u32,

    /// Records per second to offer
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub rate: u64,

    /// Records per produce request
    #[arg(long, short = 'b', value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: u32,

    /// How long to send
    #[arg(long, short = 'd', value_parser = parse_duration_arg, default_value = "10s")]
    pub duration: Duration,

    /// Produce requests in flight at most (past it the sender waits, and the offered rate drops)
    #[arg(long, short = 'c', value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: u32,

    /// Acknowledgement each request waits for
    #[arg(long, value_enum, default_value_t = Acks::All)]
    pub acks: Acks,

    /// How long to wait at the end for acknowledged records still to arrive on the socket
    #[arg(long, value_parser = parse_duration_arg, default_value = "2s")]
    pub drain: Duration,

    /// Print the final summary as JSON on stdout (the human one goes to stderr)
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub server: ServerArgs,
}

/// `runnel bench sockets`.
#[derive(Debug, Clone, Args)]
pub struct BenchSocketsArgs {
    /// Topic the sockets tail; created if missing
    #[arg(long, short = 't', default_value = "runnel-bench-sockets")]
    pub topic: String,

    /// Partitions of the topic when it has to be created
    #[arg(long, short = 'p', default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub partitions: u32,

    /// Sockets to open (the server's limits.ws_max_connections must allow them)
    #[arg(long, short = 'n', value_name = "N", default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub connections: u32,

    /// How long to hold them once all are open
    #[arg(long, value_parser = parse_duration_arg, default_value = "10s")]
    pub hold: Duration,

    /// Handshakes in flight at most
    #[arg(long, short = 'c', value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: u32,

    /// Print the final summary as JSON on stdout (the human one goes to stderr)
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub server: ServerArgs,
}

fn parse_duration_arg(s: &str) -> Result<Duration, String> {
    crate::config::parse_duration(s).map_err(|e| e.to_string())
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
        let Command::Serve(args) = cli.command else {
            panic!("expected serve, got {:?}", cli.command);
        };
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
