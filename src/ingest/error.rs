//! The ingest stage's error: what is wrong with the input extract.

use std::path::PathBuf;

use crate::error::ExitClass;

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
    /// An in-memory table (the Python binding's dict of tables) whose name
    /// is not a contract table.
    #[error("table `{name}` is not a contract table (expected one of: {known})")]
    UnknownTable { name: String, known: String },
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

impl IngestError {
    /// The exit class an operator acts on.
    pub fn class(&self) -> ExitClass {
        ExitClass::Input
    }
}
