//! The crate's error type: one variant family per stage, each mapped to an
//! exit class so a nightly scheduler can act on the exit code alone.

use std::path::PathBuf;

/// Why a command failed, grouped the way an operator acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitClass {
    /// Bad flags or configuration (exit 2).
    Usage,
    /// The extract breaks the data contract (exit 10).
    Input,
    /// A code list or feature specification is wrong (exit 11).
    Spec,
    /// A model file is unusable, or training failed (exit 12).
    Model,
    /// Disclosure control refused to release an output (exit 13).
    Disclosure,
    /// Outputs could not be written or published (exit 14).
    Publication,
    /// Anything else: a bug or an environment problem (exit 1).
    Internal,
}

impl ExitClass {
    /// The documented process exit code of this class (see README).
    pub fn code(self) -> u8 {
        match self {
            ExitClass::Internal => 1,
            ExitClass::Usage => 2,
            ExitClass::Input => 10,
            ExitClass::Spec => 11,
            ExitClass::Model => 12,
            ExitClass::Disclosure => 13,
            ExitClass::Publication => 14,
        }
    }
}

/// Errors about the input extract. Messages name the file first, then the
/// row and column, then what was expected; they never quote identifying values.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{dir}: no such extract folder")]
    MissingExtract { dir: PathBuf },
    #[error(
        "{dir}: required table `{table}` not found (expected {table}.parquet, {table}.csv or a folder {table}/ of Parquet parts)"
    )]
    MissingTable { dir: PathBuf, table: String },
    #[error("{dir}: table `{table}` is given more than once ({found}); keep one")]
    AmbiguousTable {
        dir: PathBuf,
        table: String,
        found: String,
    },
    #[error("{path}: cannot be read: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{path}: required column `{column}` is missing (columns found: {found})")]
    MissingColumn {
        path: PathBuf,
        column: String,
        found: String,
    },
    #[error("{path}, column `{column}`: has type {found}, expected {expected}")]
    ColumnType {
        path: PathBuf,
        column: String,
        found: String,
        expected: String,
    },
    #[error(
        "{path}, column `person_id`: {count} duplicate person_id values (first at rows {rows}); each person must appear once"
    )]
    DuplicatePerson {
        path: PathBuf,
        count: u64,
        rows: String,
    },
    #[error(
        "{path}, column `{column}`: {rejected} of {read} rows rejected ({reason}; first at rows {rows}), more than the allowed {limit_percent}% of the table"
    )]
    TooManyRejected {
        path: PathBuf,
        column: String,
        reason: String,
        rows: String,
        rejected: u64,
        read: u64,
        limit_percent: f64,
    },
    #[error("{path}: no usable rows")]
    Empty { path: PathBuf },
    #[error("reading {path}: {source}")]
    Polars {
        path: PathBuf,
        #[source]
        source: polars::error::PolarsError,
    },
}

/// Errors in code lists and feature specifications.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("code list {path}: {reason}")]
    Codelist { path: String, reason: String },
    #[error("code list {path}, line {line}, column `{column}`: {reason}")]
    CodelistEntry {
        path: String,
        line: usize,
        column: String,
        reason: String,
    },
    #[error("feature `{feature}`: {reason}")]
    Feature { feature: String, reason: String },
}

/// Errors with model files, training and scoring.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file {path}: cannot be read: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error(
        "model file {path}: schema version {found} is not supported (this strata reads version {supported})"
    )]
    SchemaVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("model file {path}: needs features the catalogue cannot compute: {missing}")]
    UnknownFeatures { path: PathBuf, missing: String },
    #[error("model file {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("training failed: {0}")]
    Training(String),
    #[error("outcome {outcome}: {reason}")]
    Outcome { outcome: String, reason: String },
}

/// Errors while writing and publishing outputs.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: {action} failed: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: writing Parquet failed: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: polars::error::PolarsError,
    },
    #[error("{path}: another strata run holds the output lock")]
    Locked { path: PathBuf },
}

/// Configuration errors (strata.toml and flags).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("{0}")]
    Invalid(String),
}

/// Information-governance refusals: the run would have released what it must not.
#[derive(Debug, thiserror::Error)]
pub enum GovernanceError {
    #[error(
        "{path}, column `person_id`: holds NHS numbers; set STRATA_PSEUDONYM_KEY (or STRATA_PSEUDONYM_KEY_FILE, a file holding it) to a secret key of at least 32 bytes so outputs carry keyed pseudonyms (the key is never logged or written)"
    )]
    IdentifiersWithoutKey { path: PathBuf },
    #[error("pseudonymisation key {path}: {reason}")]
    BadKey { path: PathBuf, reason: String },
}

/// Any strata error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Fhir(#[from] crate::fhir::FhirError),
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Governance(#[from] GovernanceError),
    #[error(transparent)]
    Disclosure(#[from] crate::outputs::disclosure::DisclosureError),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    #[error(transparent)]
    Synth(#[from] crate::synth::SynthError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The exit class an operator acts on.
    pub fn class(&self) -> ExitClass {
        match self {
            Error::Ingest(_) => ExitClass::Input,
            Error::Fhir(e) => e.class(),
            Error::Spec(_) => ExitClass::Spec,
            Error::Model(_) => ExitClass::Model,
            Error::Output(_) | Error::Report(_) => ExitClass::Publication,
            Error::Config(_) => ExitClass::Usage,
            Error::Governance(_) | Error::Disclosure(_) => ExitClass::Disclosure,
            Error::Synth(_) | Error::Internal(_) => ExitClass::Internal,
        }
    }
}

impl From<polars::error::PolarsError> for Error {
    /// A Polars error that no stage attributed to an input file is a bug in
    /// strata's plan, not the user's data.
    fn from(e: polars::error::PolarsError) -> Self {
        Error::Internal(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
