//! `runnel cluster status`: the cluster as the server's metadata image has it, for people
//! (a summary line and a table of brokers) or as JSON.

use std::io::Write;

use runnel_openapi::cluster::ClusterStatus;

use super::write_table;
use crate::cli::client::Client;
use crate::cli::{ClusterCommand, OutputFormat};

/// Runs a cluster subcommand against `client`, writing to `out`.
///
/// # Errors
/// The server cannot be reached or answers an error; writing failed.
pub async fn run<W: Write + ?Sized>(
    client: &Client,
    command: ClusterCommand,
    output: OutputFormat,
    out: &mut W,
) -> anyhow::Result<()> {
    match command {
        ClusterCommand::Status => {
            let status = client.cluster_status().await?;
            match output {
                OutputFormat::Json => {
                    serde_json::to_writer_pretty(&mut *out, &status)?;
                    writeln!(out)?;
                }
                OutputFormat::Table => print_status(out, &status)?,
            }
        }
    }
    Ok(())
}

fn print_status<W: Write + ?Sized>(out: &mut W, s: &ClusterStatus) -> std::io::Result<()> {
    let or_none = |v: Option<String>| v.unwrap_or_else(|| "none".to_owned());
    writeln!(
        out,
        "cluster {}  controller {}  metadata index {}  offline partitions {}  (as broker {} sees it)",
        s.cluster_id,
        or_none(s.controller_id.map(|c| c.to_string())),
        or_none(s.metadata_applied_index.map(|i| i.to_string())),
        s.offline_partitions,
        s.broker_id
    )?;
    let rows: Vec<Vec<String>> = s
        .brokers
        .iter()
        .map(|b| {
            vec![
                b.broker_id.to_string(),
                if b.fenced { "fenced" } else { "live" }.to_owned(),
                if Some(b.broker_id) == s.controller_id {
                    "yes"
                } else {
                    ""
                }
                .to_owned(),
                b.epoch.to_string(),
                b.metadata_lag
                    .map_or_else(|| "-".to_owned(), |l| l.to_string()),
                if b.cluster_addr.is_empty() {
                    "-".to_owned()
                } else {
                    b.cluster_addr.clone()
                },
                b.url.clone(),
            ]
        })
        .collect();
    write_table(
        out,
        &[
            "BROKER",
            "STATE",
            "CONTROLLER",
            "EPOCH",
            "METADATA LAG",
            "CLUSTER PORT",
            "URL",
        ],
        &rows,
    )
}
