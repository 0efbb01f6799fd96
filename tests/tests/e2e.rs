//! End-to-end tests: the real `runnel` binary, spawned per test, driven over real HTTP.
//!
//! One integration-test binary with a module per area (ripgrep `tests/tests.rs`, openraft
//! `tests/cluster/main.rs`). Build the server first: `cargo build -p runnel --bin runnel`.

mod support;

mod audit;
mod avro;
mod bad_input;
mod bench_modes;
mod cli;
mod cluster;
mod consumer_conformance;
mod contract;
mod crash;
mod disk_full;
mod groups;
mod http_api;
mod internal_topics;
mod limits;
mod partitions_at_scale;
mod produce_faults;
mod produce_validation;
mod reader_positions;
mod registry_conformance;
mod registry_limits;
mod schema_registry;
mod slow_clients;
