//! Publication: the filesystem side of a run. Outputs are written into a
//! staging folder and published atomically ([`publish`]) under an exclusive
//! output lock; Parquet files are written with reader-friendly settings
//! ([`parquet`]); the run manifest records what was read and written
//! ([`manifest`]).

pub mod manifest;
pub mod parquet;
pub mod publish;

pub use manifest::Manifest;
pub use publish::{OutputLock, Recovery, Staging};

use std::path::PathBuf;

use crate::error::ExitClass;

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
    #[error(
        "{path}: another strata process holds the output lock (a run, or `strata report --run`, on this output folder); nothing was read or written. Wait for it to finish; the lock is released when that process exits, so a leftover lock file is harmless"
    )]
    Locked { path: PathBuf },
}

impl OutputError {
    /// The exit class an operator acts on.
    pub fn class(&self) -> ExitClass {
        ExitClass::Publication
    }
}
