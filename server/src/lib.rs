//! Runnel: Kafka's partitioned commit log behind an HTTP gateway.
//!
//! # Layout
//! - [`log`]: the storage engine — segments, sparse mmap indexes, v2 record batches, recovery,
//!   retention, compaction. Synchronous; callers run it on blocking threads.
//! - [`broker`]: topics and partitions on this node, their metadata file, partition choice,
//!   topic configs under Kafka's names, group commit and background maintenance.
//! - [`group`]: consumer groups — the coordinator (membership, rebalances, assignors) and
//!   committed offsets in `__consumer_offsets`, and the REST Proxy's v2 consumer instances.
//! - [`audit`]: the delivery audit — per-tier counts per topic, partition and window of
//!   record time (client reports, the gateway, the log, each consumer group), reconciled into
//!   verdicts (`complete`, `gap`, `duplicate`, ...).
//! - [`clock`]: time as a dependency, so timeouts are tested without sleeping.
//! - [`gateway`]: the HTTP API (Confluent REST Proxy shapes) over the broker.
//! - [`schemas`]: the schema registry's store, the compacted topic `_schemas` (the registry
//!   itself and its HTTP API are the `runnel-schema-registry` crate, mounted by the gateway).
//! - [`config`], [`shutdown`], [`serve`]: the server process around them.
//! - [`cli`]: the client side — the command line, a typed HTTP client for the API above, the
//!   `topics`, `produce` and `consume` subcommands and `runnel bench`. The server never
//!   imports it.
//! - [`ws_binary`]: the binary WebSocket produce frames, spoken by the gateway and the bench.
//! - [`ui`]: the web UI's static files (`web-ui/`), embedded at build time, served at `/ui/`.

pub mod audit;
pub mod broker;
pub mod cli;
pub mod clock;
pub mod config;
pub mod gateway;
pub mod group;
pub mod log;
pub mod metadata;
pub mod schemas;
pub mod serve;
pub mod shutdown;
pub mod ui;
pub mod ws_binary;
