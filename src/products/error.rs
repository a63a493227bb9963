//! The products' error: a product could not be built or written.

use crate::error::ExitClass;
use crate::governance::{DisclosureError, GovernanceError};
use crate::publication::OutputError;

/// Why a product (list, summary, history, drift, ranking) failed.
#[derive(Debug, thiserror::Error)]
pub enum ProductError {
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Governance(#[from] GovernanceError),
    #[error(transparent)]
    Disclosure(#[from] DisclosureError),
    /// A Polars error that no step attributed to an input file, or a broken
    /// internal invariant: a bug in strata, not the user's data.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ProductError {
    /// The exit class an operator acts on.
    pub fn class(&self) -> ExitClass {
        match self {
            ProductError::Output(e) => e.class(),
            ProductError::Governance(e) => e.class(),
            ProductError::Disclosure(e) => e.class(),
            ProductError::Internal(_) => ExitClass::Internal,
        }
    }
}

impl From<polars::error::PolarsError> for ProductError {
    fn from(e: polars::error::PolarsError) -> Self {
        ProductError::Internal(e.to_string())
    }
}

pub type Result<T, E = ProductError> = std::result::Result<T, E>;
