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

    /// Log line format; the filter comes from RUST_LOG (default info) [env: RUNNEL_LOG_FORMAT]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
}
