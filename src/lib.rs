//! # strata — population-health risk stratification
//!
//! ```text
//! extract ─▶ ingest ─▶ features ─▶ model ─▶ cohort ─▶ products ─▶ publication
//!           (contract) (codelists)         (governance: opt-out, pseudonyms, disclosure)
//! synth ─▶ files on disk ─▶ ingest     (synthetic data enters by the front door)
//! ```
//!
//! Modules, lowest layer first (docs/architecture.md has the table that
//! `layers` checks: a module uses only modules of a lower layer):
//!
//! - [`error`] and [`usage`]: exit classes; the process's memory for the logs.
//! - [`contract`]: the tables and columns an extract must have.
//! - [`codelists`]: clinical code lists and the rules for matching codes.
//! - [`ingest`]: reads CSV/Parquet, checks every row against the contract and
//!   hands on typed, validated lazy tables with an integer person key.
//! - [`synth`]: synthetic extracts, written as files.
//! - [`features`]: one row per person at an index date.
//! - [`governance`]: opt-out rules, pseudonymisation, disclosure control.
//! - [`model`]: the model file format, training, evaluation, parallel
//!   scoring and per-person explanations.
//! - [`cohort`]: risk tiers and segments.
//! - [`publication`]: staging, atomic publication, the output lock, Parquet
//!   writing and the run manifest.
//! - [`products`]: clinical lists, summaries, flag history, drift, ranking.
//! - [`report`]: HTML reports; [`config`]: settings resolved into a plan;
//!   [`impact`]: what happened to flagged people against a comparison group.
//! - [`pipeline`]: the one place that calls the stages in order, and the
//!   crate-wide [`Error`].

pub mod codelists;
pub mod cohort;
pub mod config;
pub mod contract;
pub mod error;
pub mod features;
pub mod fhir;
pub mod governance;
pub mod impact;
pub mod ingest;
#[cfg(test)]
mod layers;
pub mod model;
pub mod omop;
pub mod pipeline;
pub mod products;
pub mod publication;
pub mod report;
pub mod synth;
pub mod usage;

pub use error::ExitClass;
pub use pipeline::error::{Error, Result};

/// The software version written into manifests and model files.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
