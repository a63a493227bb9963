//! # strata — population-health risk stratification
//!
//! ```text
//! extract ─▶ ingest ─▶ features ─▶ model ─▶ cohort ─▶ outputs ─▶ publish
//!           (contract)                                   (manifest)
//! synth ─▶ files on disk ─▶ ingest     (synthetic data enters by the front door)
//! ```
//!
//! - [`contract`]: the tables and columns an extract must have.
//! - [`ingest`]: reads CSV/Parquet, checks every row against the contract and
//!   hands on typed, validated lazy tables with an integer person key.
//! - [`codelists`]: clinical code lists and the rules for matching codes.
//! - [`features`]: one row per person at an index date.
//! - [`model`]: model files, training and parallel scoring.
//! - [`cohort`]: risk tiers.
//! - [`outputs`]: Parquet outputs, the run manifest and atomic publication.
//! - [`pipeline`]: the one place that calls the stages in order.
//! - [`usage`]: the process's memory, for the per-pass and per-stage logs.
//!
//! A stage may use earlier stages' types, never later ones.

pub mod codelists;
pub mod cohort;
pub mod config;
pub mod contract;
pub mod error;
pub mod features;
pub mod fhir;
pub mod ingest;
pub mod model;
pub mod outputs;
pub mod pipeline;
pub mod report;
pub mod synth;
pub mod usage;

pub use error::{Error, ExitClass};

/// The software version written into manifests and model files.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
