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

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cli::client::{Acks, Client, DEFAULT_URL, Format};
pub use crate::config::ENV_URL;

/// Runnel: a partitioned commit log with an HTTP and WebSocket gateway, a schema registry and
/// a web UI; brokers share cluster metadata through a Raft quorum (forwarding between brokers
/// and replication are being built).
#[derive(Debug, Parser)]
#[command(name = "runnel", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a broker: the log, the HTTP and WebSocket gateway, the schema registry and the web
    /// UI, and its node of the metadata quorum, until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Create, list, describe, alter and delete topics on a running server.
    Topics(TopicsArgs),
    /// Produce lines from stdin, one record per line.
    Produce(ProduceArgs),
    /// Print records, one value per line.
    Consume(ConsumeArgs),
    /// Measure produce or consume throughput and latency over the HTTP API.
    Bench(BenchArgs),
    /// Show the cluster: the controller, the metadata log, every broker and its liveness.
    Cluster(ClusterArgs),
    /// Show the delivery audit: per topic its last complete window and open problems, or with
    /// --topic each window's counts per tier and its verdict.
    Audit(AuditArgs),
}

/// `runnel audit`.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// One topic's windows instead of the summary of every topic
    #[arg(long, short = 't')]
    pub topic: Option<String>,

    #[command(flatten)]
    pub server: ServerArgs,

    /// Output format
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// `runnel cluster`.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub command: ClusterCommand,

    #[command(flatten)]
    pub server: ServerArgs,

    /// Output format
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// The cluster operations.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum ClusterCommand {
    /// The controller, the applied metadata-log index, and each broker: URL, cluster port,
    /// registration epoch, fenced or not.
    Status,
}

/// `runnel serve`'s flags belong to the server's configuration, which reads them.
pub use crate::config::ServeArgs;

/// Where the server is: shared by every client subcommand.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Base URL of the runnel server
    #[arg(long, global = true, env = ENV_URL, default_value = DEFAULT_URL, value_name = "URL")]
    pub url: String,
}

impl ServerArgs {
    /// A client for `--url`.
    ///
    /// # Errors
    /// The URL is not an http(s) URL.
    pub fn connect(&self) -> anyhow::Result<Client> {
        Ok(Client::new(&self.url)?)
    }
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
    #[arg(long, value_enum, default_value_t = crate::cli::bench::ws::Transport::Http)]
    pub transport: crate::cli::bench::ws::Transport,

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

/// Where to start reading a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The log start offset (the oldest record still kept).
    Earliest,
    /// The log end offset: only records produced from now on.
    Latest,
    /// This offset in every partition read.
    At(u64),
}

impl FromStr for OffsetSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "earliest" | "beginning" => Ok(OffsetSpec::Earliest),
            "latest" | "end" => Ok(OffsetSpec::Latest),
            n => n.parse().map(OffsetSpec::At).map_err(|_| {
                format!("expected a non-negative offset, earliest or latest, got {s:?}")
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::config::LogFormat;

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
}
