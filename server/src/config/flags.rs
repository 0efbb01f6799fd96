//! `runnel serve`'s flags: the last of the configuration's sources (file, `RUNNEL_*`
//! variables, flags). Defined here, beside what reads them, so the server's configuration
//! never imports the client side's command line; `cli` re-exports them.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::LogFormat;

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

    /// This broker's id, also its id in the metadata quorum [env: RUNNEL_NODE_ID] [default: 1]
    #[arg(long, value_name = "N")]
    pub node_id: Option<u32>,

    /// Address of the cluster port, for Raft and broker-to-broker traffic; needed with --peers
    /// [env: RUNNEL_CLUSTER_LISTEN] [default: none, a single node]
    #[arg(long, value_name = "IP:PORT")]
    pub cluster_listen: Option<SocketAddr>,

    /// The metadata quorum's voters, this broker included: `1@HOST:PORT,2@HOST:PORT,...`, each
    /// at its cluster port [env: RUNNEL_PEERS] [default: none, a one-voter quorum]
    #[arg(long, value_name = "ID@HOST:PORT,...")]
    pub peers: Option<String>,

    /// Joins a running cluster as a non-voting broker (a Raft learner) through the cluster
    /// port of any of its brokers; instead of --peers [env: RUNNEL_JOIN]
    #[arg(long, value_name = "HOST:PORT")]
    pub join: Option<String>,

    /// Log line format; the filter comes from RUST_LOG (default info) [env: RUNNEL_LOG_FORMAT]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
}
