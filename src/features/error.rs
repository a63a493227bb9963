//! The features stage's error: a feature specification is wrong, the
//! extract could not be read, or strata's own plan failed.

use crate::codelists::SpecError;
use crate::error::ExitClass;
use crate::ingest::IngestError;

/// Why features could not be derived.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// A Polars error that no step attributed to an input file: a bug in
    /// strata's plan, not the user's data.
    #[error("internal error: {0}")]
    Internal(String),
}

impl FeatureError {
    /// The exit class an operator acts on.
    pub fn class(&self) -> ExitClass {
        match self {
            FeatureError::Spec(e) => e.class(),
            FeatureError::Ingest(e) => e.class(),
            FeatureError::Internal(_) => ExitClass::Internal,
        }
    }
}

impl From<polars::error::PolarsError> for FeatureError {
    fn from(e: polars::error::PolarsError) -> Self {
        FeatureError::Internal(e.to_string())
    }
}

pub type Result<T, E = FeatureError> = std::result::Result<T, E>;
