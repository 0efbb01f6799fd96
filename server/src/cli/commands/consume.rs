//! `runnel consume TOPIC`: print records with stateless reads
//! (`GET /topics/{t}/partitions/{p}/records?offset=&max_bytes=&timeout=`), or with `--group` as
//! a member of a consumer group.
//!
//! Without `--group` there are no committed offsets: the start comes from `--offset` (`earliest` and
//! `latest` are looked up per partition through v3's offsets endpoint) and each reader keeps its
//! own position. Every partition (or the one `--partition` names) gets a reader task; their
//! batches meet in one small bounded channel, so busy partitions take turns and a quiet one never
//! holds up the others. Without `--follow` a reader stops at its first empty answer (it reached
//! the end); with it, readers long-poll with `timeout=1000` and the command runs until
//! `--max-records` or Ctrl-C.
//!
//! With `--group G` the command is a Confluent v2 consumer instance of group `G` (created with
//! `auto.offset.reset` from `--offset`, subscribed to the topic): the group decides which
//! partitions it reads and from where, and after each printed batch it commits the offsets of
//! what it printed (at-least-once: a crash between printing and committing prints those records
//! again next time). Without `--follow` it stops at the first poll that brings nothing for
//! [`FOLLOW_TIMEOUT_MS`]; either way it deletes its instance on the way out, Ctrl-C included,
//! so the group rebalances at once instead of after the instance timeout.
//!
//! Output is one value per line: binary values are decoded from base64 and written as bytes;
//! json values are written as their text when they are strings and compactly otherwise. A closed
//! stdout (`| head`) ends the run quietly.

use std::io::{self, Write};

use anyhow::Context as _;
use base64::Engine as _;
use runnel_openapi::v2::JsonRecord;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::cli::ConsumeArgs;
use crate::cli::args::OffsetSpec;
use crate::cli::client::{
    Client, ClientError, ConsumerInstance, Format, ReadRequest, TopicPartitionOffset,
};

/// `max_bytes` of each read: Kafka's per-partition fetch default.
const READ_MAX_BYTES: usize = 1 << 20;
/// Long-poll wait while following, in ms: short enough to notice a closed stdout promptly.
const FOLLOW_TIMEOUT_MS: u64 = 1000;
/// Batches buffered between the readers and the printer.
const CHANNEL_BATCHES: usize = 4;

/// Reads and prints records until the end (or forever with `--follow`, or `--max-records`).
/// Returns the number printed.
///
/// # Errors
/// The topic or partition does not exist, a read failed, or writing failed other than by a
/// closed pipe.
pub async fn run<W: Write + ?Sized>(
    client: &Client,
    args: &ConsumeArgs,
    out: &mut W,
) -> anyhow::Result<u64> {
    if let Some(group) = &args.group {
        return run_group(client, args, group, out).await;
    }
    let partitions = match args.partition {
        Some(p) => vec![p],
        None => {
            let topic = client.get_topic(&args.topic).await?;
            (0..topic.partitions_count).collect()
        }
    };
    let mut starts = Vec::with_capacity(partitions.len());
    for &p in &partitions {
        let offset = match args.offset {
            OffsetSpec::At(n) => n,
            OffsetSpec::Earliest => {
                client
                    .partition_offsets(&args.topic, p)
                    .await?
                    .earliest_offset
            }
            OffsetSpec::Latest => {
                client
                    .partition_offsets(&args.topic, p)
                    .await?
                    .latest_offset
            }
        };
        starts.push((p, offset));
    }

    let (tx, mut rx) = mpsc::channel(CHANNEL_BATCHES);
    // Dropping the set aborts the readers: leaving early (max records, error) stops them.
    let mut readers = JoinSet::new();
    for (partition, offset) in starts {
        let reader = PartitionReader {
            client: client.clone(),
            topic: args.topic.clone(),
            partition,
            offset,
            format: args.format,
            follow: args.follow,
        };
        readers.spawn(reader.run(tx.clone()));
    }
    drop(tx);

    let mut printed = 0u64;
    while let Some(batch) = rx.recv().await {
        let batch = batch.with_context(|| format!("cannot read '{}'", args.topic))?;
        for record in &batch {
            if args.max_records.is_some_and(|max| printed >= max) {
                break;
            }
            match write_record(out, record, args) {
                Ok(()) => printed += 1,
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(printed),
                Err(e) => return Err(e).context("cannot write to stdout"),
            }
        }
        match out.flush() {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(printed),
            Err(e) => return Err(e).context("cannot write to stdout"),
        }
        if args.max_records.is_some_and(|max| printed >= max) {
            break;
        }
    }
    Ok(printed)
}

/// `--group`: consume as a v2 consumer instance of `group` (see the module docs).
async fn run_group<W: Write + ?Sized>(
    client: &Client,
    args: &ConsumeArgs,
    group: &str,
    out: &mut W,
) -> anyhow::Result<u64> {
    let reset = match args.offset {
        OffsetSpec::Earliest => "earliest",
        OffsetSpec::Latest => "latest",
        OffsetSpec::At(_) => anyhow::bail!(
            "--offset with --group is where partitions without a committed offset start: \
             earliest or latest (reset a group's offsets with the v3 offsets:reset endpoint)"
        ),
    };
    let instance = client
        .create_consumer(group, args.format, reset)
        .await
        .with_context(|| format!("cannot join group '{group}'"))?;
    let consumed = tokio::select! {
        r = consume_as_member(client, args, &instance, out) => r,
        _ = tokio::signal::ctrl_c() => Ok(0),
    };
    // Leave the group whatever happened, so its partitions move at once.
    if let Err(e) = client.delete_consumer(&instance).await {
        tracing::warn!(cause = %e, "could not delete the consumer instance; it expires on its own");
    }
    consumed
}

async fn consume_as_member<W: Write + ?Sized>(
    client: &Client,
    args: &ConsumeArgs,
    instance: &ConsumerInstance,
    out: &mut W,
) -> anyhow::Result<u64> {
    client
        .subscribe(instance, &[args.topic.as_str()])
        .await
        .with_context(|| format!("cannot subscribe to '{}'", args.topic))?;
    let mut printed = 0u64;
    loop {
        let batch = client
            .poll::<JsonRecord>(instance, FOLLOW_TIMEOUT_MS, READ_MAX_BYTES)
            .await
            .with_context(|| format!("cannot read '{}'", args.topic))?;
        if batch.is_empty() {
            if args.follow {
                continue;
            }
            return Ok(printed);
        }
        let mut last: std::collections::BTreeMap<u32, u64> = std::collections::BTreeMap::new();
        let mut done = false;
        for record in &batch {
            if args.max_records.is_some_and(|max| printed >= max) {
                done = true;
                break;
            }
            match write_record(out, record, args) {
                Ok(()) => printed += 1,
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                    done = true;
                    break;
                }
                Err(e) => return Err(e).context("cannot write to stdout"),
            }
            // v2 commits name the last record processed.
            last.insert(record.partition, record.offset);
        }
        match out.flush() {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => done = true,
            Err(e) => return Err(e).context("cannot write to stdout"),
        }
        let offsets: Vec<TopicPartitionOffset> = last
            .into_iter()
            .map(|(partition, offset)| TopicPartitionOffset {
                topic: args.topic.clone(),
                partition,
                offset,
            })
            .collect();
        match client.commit(instance, &offsets).await {
            Ok(()) => {}
            // A rebalance moved the partitions: their next owner reads these records again.
            Err(e @ ClientError::Api { .. }) => {
                tracing::warn!(cause = %e, "commit refused; the records may be consumed again");
            }
            Err(e) => return Err(e).context("cannot commit the printed records' offsets"),
        }
        if done || args.max_records.is_some_and(|max| printed >= max) {
            return Ok(printed);
        }
    }
}

/// One partition's read loop.
#[derive(Debug)]
struct PartitionReader {
    client: Client,
    topic: String,
    partition: u32,
    offset: u64,
    format: Format,
    follow: bool,
}

impl PartitionReader {
    async fn run(mut self, tx: mpsc::Sender<Result<Vec<JsonRecord>, ClientError>>) {
        loop {
            let read = self
                .client
                .read(ReadRequest {
                    topic: &self.topic,
                    partition: self.partition,
                    offset: self.offset,
                    max_bytes: READ_MAX_BYTES,
                    timeout_ms: if self.follow { FOLLOW_TIMEOUT_MS } else { 0 },
                    format: self.format,
                })
                .await;
            match read {
                Ok(records) => {
                    let Some(last) = records.last() else {
                        if self.follow {
                            continue;
                        }
                        return; // Reached the end.
                    };
                    self.offset = last.offset + 1;
                    // The printer has gone (max records reached or an error): stop.
                    if tx.send(Ok(records)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        }
    }
}

/// Writes one record as a line: `[partition \t offset \t] [key \t] value \n`.
fn write_record<W: Write + ?Sized>(
    out: &mut W,
    record: &JsonRecord,
    args: &ConsumeArgs,
) -> io::Result<()> {
    if args.print_offset {
        write!(out, "{}\t{}\t", record.partition, record.offset)?;
    }
    if args.print_key {
        write_payload(out, &record.key, args.format)?;
        out.write_all(b"\t")?;
    }
    write_payload(out, &record.value, args.format)?;
    out.write_all(b"\n")
}

fn write_payload<W: Write + ?Sized>(
    out: &mut W,
    payload: &Value,
    format: Format,
) -> io::Result<()> {
    match (payload, format) {
        (Value::Null, _) => Ok(()),
        (Value::String(s), Format::Binary) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            out.write_all(&bytes)
        }
        (Value::String(s), Format::Json) => out.write_all(s.as_bytes()),
        (other, Format::Binary | Format::Json) => serde_json::to_writer(&mut *out, other)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    fn consume_args(extra: &[&str]) -> ConsumeArgs {
        let mut argv = vec!["runnel", "consume", "t"];
        argv.extend_from_slice(extra);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Consume(args) => args,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn offset_specs_parse() {
        assert_eq!("earliest".parse(), Ok(OffsetSpec::Earliest));
        assert_eq!("latest".parse(), Ok(OffsetSpec::Latest));
        assert_eq!("42".parse(), Ok(OffsetSpec::At(42)));
        assert_eq!(" 0 ".parse(), Ok(OffsetSpec::At(0)));
        assert!("-1".parse::<OffsetSpec>().is_err());
        assert!("first".parse::<OffsetSpec>().is_err());
        assert_eq!(consume_args(&[]).offset, OffsetSpec::Earliest);
        assert_eq!(consume_args(&["--offset", "7"]).offset, OffsetSpec::At(7));
    }

    #[test]
    fn records_print_as_lines_with_optional_offset_and_key() {
        let record = JsonRecord {
            topic: "t".to_owned(),
            partition: 2,
            offset: 41,
            key: Value::from("aw=="),
            value: Value::from("AAF2"),
            timestamp: 0,
            headers: Vec::new(),
        };
        let mut out = Vec::new();
        let args = consume_args(&["--print-key", "--print-offset"]);
        write_record(&mut out, &record, &args).unwrap();
        assert_eq!(out, b"2\t41\tk\t\x00\x01v\n");

        let record = JsonRecord {
            value: serde_json::json!({"a": [1, "x"]}),
            key: Value::Null,
            ..record
        };
        let mut out = Vec::new();
        let args = consume_args(&["--format", "json", "--print-key"]);
        write_record(&mut out, &record, &args).unwrap();
        assert_eq!(out, b"\t{\"a\":[1,\"x\"]}\n");
    }
}
