//! The error of code lists and feature specifications.

use crate::error::ExitClass;

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

impl SpecError {
    /// The exit class an operator acts on.
    pub fn class(&self) -> ExitClass {
        ExitClass::Spec
    }
}
