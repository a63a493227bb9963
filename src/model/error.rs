//! The model stage's error: model files, training and scoring.

use std::path::PathBuf;

use crate::error::ExitClass;

/// Errors with model files, training and scoring.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file {path}: cannot be read: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error(
        "model file {path}: schema version {found} is not supported (this strata reads versions 1 to {supported})"
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
    /// A Polars error that no step attributed to an input file: a bug in
    /// strata's plan, not the user's data.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ModelError {
    /// The exit class an operator acts on.
    pub fn class(&self) -> ExitClass {
        match self {
            ModelError::Internal(_) => ExitClass::Internal,
            _ => ExitClass::Model,
        }
    }
}

impl From<polars::error::PolarsError> for ModelError {
    fn from(e: polars::error::PolarsError) -> Self {
        ModelError::Internal(e.to_string())
    }
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;
