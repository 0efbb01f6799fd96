//! Runnel's Confluent-compatible schema registry (DESIGN.md §6, CONTRACTS.md §1.3).
//!
//! # Layout
//! - [`avro`]: parsing and validating Avro schemas (size and depth limits, references),
//!   the canonical string used as the dedupe key, the normalized form and the fingerprint.
//! - [`compat`]: compatibility levels and the Avro schema-resolution rules behind them.

pub mod avro;
pub mod compat;
