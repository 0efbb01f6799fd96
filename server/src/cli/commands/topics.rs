//! `runnel topics create|list|describe|delete|alter` over the v3 admin API.
//!
//! `describe` is three kinds of call: the topic, each partition's earliest/latest offsets
//! (`.../partitions/{p}/offset?offset_type=earliest_and_latest`, all at once) and the topic's
//! configs. Everything is fetched into [`TopicDescription`] first, then printed as a table or,
//! with `--output json`, as that value serialized.
//!
//! The client answers the API's own types (`KafkaTopic`, ...); what the CLI prints is a smaller,
//! stable view of them ([`TopicSummary`], [`PartitionOffsets`], [`ConfigSummary`]): the fields a
//! reader needs, without the links and metadata of the v3 resources.

use std::io::Write;

use anyhow::Context as _;
use futures_util::future::try_join_all;
use runnel_openapi::v3::{ConfigSource, KafkaPartitionWithOffsets, KafkaTopic, KafkaTopicConfig};
use serde::Serialize;
use serde_json::json;

use super::write_table;
use crate::cli::args::KeyValue;
use crate::cli::client::Client;
use crate::cli::{OutputFormat, TopicsCommand};

/// A topic as the CLI prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicSummary {
    pub topic_name: String,
    pub partitions_count: u32,
    pub replication_factor: u32,
    pub is_internal: bool,
}

impl From<KafkaTopic> for TopicSummary {
    fn from(t: KafkaTopic) -> Self {
        TopicSummary {
            topic_name: t.topic_name,
            partitions_count: t.partitions_count,
            replication_factor: t.replication_factor,
            is_internal: t.is_internal,
        }
    }
}

/// A partition's offset range as the CLI prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PartitionOffsets {
    pub partition_id: u32,
    /// The log start offset: the first offset still readable.
    pub earliest_offset: u64,
    /// The log end offset: the offset the next record will get.
    pub latest_offset: u64,
}

impl From<KafkaPartitionWithOffsets> for PartitionOffsets {
    fn from(p: KafkaPartitionWithOffsets) -> Self {
        PartitionOffsets {
            partition_id: p.partition_id,
            earliest_offset: p.earliest_offset,
            latest_offset: p.latest_offset,
        }
    }
}

/// A topic config as the CLI prints it (without its synonyms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigSummary {
    pub name: String,
    pub value: Option<String>,
    pub is_default: bool,
    pub is_read_only: bool,
    pub is_sensitive: bool,
    pub source: ConfigSource,
}

impl From<KafkaTopicConfig> for ConfigSummary {
    fn from(c: KafkaTopicConfig) -> Self {
        ConfigSummary {
            name: c.name,
            value: c.value,
            is_default: c.is_default,
            is_read_only: c.is_read_only,
            is_sensitive: c.is_sensitive,
            source: c.source,
        }
    }
}

/// What `topics describe` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicDescription {
    #[serde(flatten)]
    pub topic: TopicSummary,
    pub partitions: Vec<PartitionOffsets>,
    pub configs: Vec<ConfigSummary>,
}

/// Runs one `topics` subcommand and prints its result.
///
/// # Errors
/// The server refused or could not be reached; writing the output failed.
pub async fn run<W: Write + ?Sized>(
    client: &Client,
    command: &TopicsCommand,
    output: OutputFormat,
    out: &mut W,
) -> anyhow::Result<()> {
    match command {
        TopicsCommand::Create {
            name,
            partitions,
            configs,
        } => {
            let topic = TopicSummary::from(
                client
                    .create_topic(name, *partitions, &pairs(configs))
                    .await?,
            );
            match output {
                OutputFormat::Json => write_json(out, &topic)?,
                OutputFormat::Table => writeln!(
                    out,
                    "created topic '{}' with {} partition{}",
                    topic.topic_name,
                    topic.partitions_count,
                    plural(topic.partitions_count.into())
                )?,
            }
        }
        TopicsCommand::List => {
            let topics: Vec<TopicSummary> = client
                .list_topics()
                .await?
                .into_iter()
                .map(TopicSummary::from)
                .collect();
            match output {
                OutputFormat::Json => write_json(out, &topics)?,
                OutputFormat::Table => print_list(out, &topics)?,
            }
        }
        TopicsCommand::Describe { name } => {
            let description = describe(client, name).await?;
            match output {
                OutputFormat::Json => write_json(out, &description)?,
                OutputFormat::Table => print_description(out, &description)?,
            }
        }
        TopicsCommand::Delete { name } => {
            client.delete_topic(name).await?;
            match output {
                OutputFormat::Json => write_json(out, &json!({ "deleted": name }))?,
                OutputFormat::Table => writeln!(out, "deleted topic '{name}'")?,
            }
        }
        TopicsCommand::Alter {
            name,
            configs,
            delete_configs,
        } => {
            client
                .alter_topic_configs(name, &pairs(configs), delete_configs)
                .await?;
            match output {
                OutputFormat::Json => write_json(
                    out,
                    &json!({
                        "topic_name": name,
                        "set": configs.iter().map(|kv| (kv.key.clone(), kv.value.clone()))
                            .collect::<std::collections::BTreeMap<_, _>>(),
                        "deleted": delete_configs,
                    }),
                )?,
                OutputFormat::Table => {
                    for kv in configs {
                        writeln!(out, "set {kv} on '{name}'")?;
                    }
                    for key in delete_configs {
                        writeln!(out, "reset {key} on '{name}' to its default")?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Fetches everything `topics describe` shows.
///
/// # Errors
/// The topic does not exist, or a call failed.
pub async fn describe(client: &Client, name: &str) -> anyhow::Result<TopicDescription> {
    let topic = TopicSummary::from(client.get_topic(name).await?);
    let partitions = try_join_all(
        (0..topic.partitions_count).map(|p| client.partition_offsets(&topic.topic_name, p)),
    )
    .await
    .context("cannot read partition offsets")?
    .into_iter()
    .map(PartitionOffsets::from)
    .collect();
    let mut configs: Vec<ConfigSummary> = client
        .topic_configs(&topic.topic_name)
        .await
        .context("cannot read topic configs")?
        .into_iter()
        .map(ConfigSummary::from)
        .collect();
    configs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(TopicDescription {
        topic,
        partitions,
        configs,
    })
}

fn pairs(configs: &[KeyValue]) -> Vec<(String, String)> {
    configs
        .iter()
        .map(|kv| (kv.key.clone(), kv.value.clone()))
        .collect()
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn write_json<W: Write + ?Sized, T: Serialize>(out: &mut W, value: &T) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

fn print_list<W: Write + ?Sized>(out: &mut W, topics: &[TopicSummary]) -> std::io::Result<()> {
    let rows: Vec<Vec<String>> = topics
        .iter()
        .map(|t| {
            vec![
                t.topic_name.clone(),
                t.partitions_count.to_string(),
                t.replication_factor.to_string(),
                if t.is_internal { "yes" } else { "no" }.to_owned(),
            ]
        })
        .collect();
    write_table(
        out,
        &["TOPIC", "PARTITIONS", "REPLICATION", "INTERNAL"],
        &rows,
    )
}

fn print_description<W: Write + ?Sized>(out: &mut W, d: &TopicDescription) -> std::io::Result<()> {
    writeln!(
        out,
        "Topic: {}  partitions: {}  replication: {}{}",
        d.topic.topic_name,
        d.topic.partitions_count,
        d.topic.replication_factor,
        if d.topic.is_internal {
            "  internal"
        } else {
            ""
        }
    )?;
    writeln!(out)?;
    let rows: Vec<Vec<String>> = d
        .partitions
        .iter()
        .map(|p| {
            vec![
                p.partition_id.to_string(),
                p.earliest_offset.to_string(),
                p.latest_offset.to_string(),
            ]
        })
        .collect();
    write_table(out, &["PARTITION", "EARLIEST", "LATEST"], &rows)?;
    writeln!(out)?;
    let rows: Vec<Vec<String>> = d
        .configs
        .iter()
        .map(|c| {
            let value = if c.is_sensitive {
                "(sensitive)".to_owned()
            } else {
                c.value.clone().unwrap_or_else(|| "(null)".to_owned())
            };
            vec![c.name.clone(), value, c.source.as_str().to_owned()]
        })
        .collect();
    write_table(out, &["CONFIG", "VALUE", "SOURCE"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_print_partitions_then_configs() {
        let d = TopicDescription {
            topic: TopicSummary {
                topic_name: "orders".into(),
                partitions_count: 2,
                replication_factor: 1,
                is_internal: false,
            },
            partitions: vec![
                PartitionOffsets {
                    partition_id: 0,
                    earliest_offset: 0,
                    latest_offset: 510,
                },
                PartitionOffsets {
                    partition_id: 1,
                    earliest_offset: 7,
                    latest_offset: 490,
                },
            ],
            configs: vec![ConfigSummary {
                name: "cleanup.policy".into(),
                value: Some("delete".into()),
                is_default: true,
                is_read_only: false,
                is_sensitive: false,
                source: ConfigSource::DefaultConfig,
            }],
        };
        let mut out = Vec::new();
        print_description(&mut out, &d).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Topic: orders  partitions: 2  replication: 1\n\n\
             PARTITION  EARLIEST  LATEST\n\
             0          0         510\n\
             1          7         490\n\n\
             CONFIG          VALUE   SOURCE\n\
             cleanup.policy  delete  DEFAULT_CONFIG\n"
        );
    }
}
