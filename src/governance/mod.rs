//! Information governance: what may leave strata, and about whom.
//!
//! - [`opt_out`]: the national opt-out and Type 1 objections (secondary-use rules);
//! - [`pseudonym`]: keyed pseudonyms for person ids that are NHS numbers;
//! - [`disclosure`]: statistical disclosure control of every published count.
//!
//! These are rules, not products: they depend only on the contract and the
//! validated extract, so the cohort, products and reports can all use them.

pub mod audit;
pub mod disclosure;
pub mod opt_out;
pub mod pseudonym;

pub use disclosure::DisclosureError;

use std::path::PathBuf;

use crate::error::ExitClass;

/// Information-governance refusals: the run would have released what it must not.
#[derive(Debug, thiserror::Error)]
pub enum GovernanceError {
    #[error(
        "{path}, column `person_id`: holds NHS numbers; set STRATA_PSEUDONYM_KEY (or STRATA_PSEUDONYM_KEY_FILE, a file holding it) to a secret key of at least 32 bytes so outputs carry keyed pseudonyms (the key is never logged or written)"
    )]
    IdentifiersWithoutKey { path: PathBuf },
    #[error("pseudonymisation key {path}: {reason}")]
    BadKey { path: PathBuf, reason: String },
    /// A Polars error that no step attributed to an input file: a bug in
    /// strata's plan, not the user's data.
    #[error("internal error: {0}")]
    Internal(String),
}

impl GovernanceError {
    /// The exit class an operator acts on.
    pub fn class(&self) -> ExitClass {
        match self {
            GovernanceError::Internal(_) => ExitClass::Internal,
            _ => ExitClass::Disclosure,
        }
    }
}

impl From<polars::error::PolarsError> for GovernanceError {
    fn from(e: polars::error::PolarsError) -> Self {
        GovernanceError::Internal(e.to_string())
    }
}

impl DisclosureError {
    /// The exit class an operator acts on.
    pub fn class(&self) -> ExitClass {
        ExitClass::Disclosure
    }
}

pub type Result<T, E = GovernanceError> = std::result::Result<T, E>;
