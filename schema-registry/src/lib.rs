//! Runnel's Confluent-compatible schema registry (DESIGN.md §6, CONTRACTS.md §1.3).
//!
//! # Layout
//! - [`avro`]: parsing and validating Avro schemas (size and depth limits, references),
//!   the canonical string used as the dedupe key, the normalized form and the fingerprint.
//! - [`avro_json`]: Avro's JSON encoding (what REST clients send and read) and Confluent's
//!   wire framing (magic byte, schema id, datum).
//! - [`compat`]: compatibility levels and the Avro schema-resolution rules behind them.
//! - [`registry`]: subjects, versions, global ids, configs and modes in memory, the single
//!   writer, and the `_schemas` record layouts ([`registry::records`]).
//! - [`store`]: the [`store::Store`] trait the server implements over the `_schemas` topic.
//! - [`api`]: the Confluent Schema Registry HTTP API as an axum router with its OpenAPI paths.
//! - [`error`]: every failure as an HTTP status and Confluent error code.

pub mod api;
pub mod avro;
pub mod avro_json;
pub mod compat;
pub mod error;
pub mod registry;
pub mod store;
