//! The crate-wide error, at the top edge: every stage's error converts up
//! into it (never the reverse), and [`Error::class`] gives the exit class an
//! operator acts on. Re-exported as `strata::Error` / `strata::Result`.

use crate::codelists::SpecError;
use crate::config::ConfigError;
use crate::error::ExitClass;
use crate::features::FeatureError;
use crate::fhir::FhirError;
use crate::governance::{DisclosureError, GovernanceError};
use crate::impact::ImpactError;
use crate::ingest::IngestError;
use crate::model::ModelError;
use crate::omop::OmopError;
use crate::products::ProductError;
use crate::publication::OutputError;
use crate::report::ReportError;
use crate::synth::SynthError;

/// Any strata error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Fhir(#[from] FhirError),
    #[error(transparent)]
    Omop(#[from] OmopError),
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Governance(#[from] GovernanceError),
    #[error(transparent)]
    Disclosure(#[from] DisclosureError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Synth(#[from] SynthError),
    /// Boxed: the impact analysis's own failures are rare, and its earlier
    /// stages' errors are taken apart into their own variants (`From` below).
    #[error(transparent)]
    Impact(Box<ImpactError>),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The exit class an operator acts on: the class of the stage error it holds.
    pub fn class(&self) -> ExitClass {
        match self {
            Error::Ingest(e) => e.class(),
            Error::Fhir(e) => e.class(),
            Error::Omop(e) => e.class(),
            Error::Spec(e) => e.class(),
            Error::Model(e) => e.class(),
            Error::Governance(e) => e.class(),
            Error::Disclosure(e) => e.class(),
            Error::Output(e) => e.class(),
            Error::Report(e) => e.class(),
            Error::Config(e) => e.class(),
            Error::Synth(e) => e.class(),
            Error::Impact(e) => e.class(),
            Error::Internal(_) => ExitClass::Internal,
        }
    }
}

/// The features stage's error holds earlier stages' errors: it is taken
/// apart, so [`Error`] stays one flat enum of leaf errors.
impl From<FeatureError> for Error {
    fn from(e: FeatureError) -> Self {
        match e {
            FeatureError::Spec(e) => Error::Spec(e),
            FeatureError::Ingest(e) => Error::Ingest(e),
            FeatureError::Internal(message) => Error::Internal(message),
        }
    }
}

/// Likewise for the impact analysis's error.
impl From<ImpactError> for Error {
    fn from(e: ImpactError) -> Self {
        match e {
            ImpactError::Ingest(e) => Error::Ingest(e),
            ImpactError::Governance(e) => Error::Governance(e),
            ImpactError::Output(e) => Error::Output(e),
            ImpactError::Internal(message) => Error::Internal(message),
            other => Error::Impact(Box::new(other)),
        }
    }
}

/// Likewise for the products' error.
impl From<ProductError> for Error {
    fn from(e: ProductError) -> Self {
        match e {
            ProductError::Output(e) => Error::Output(e),
            ProductError::Governance(e) => Error::Governance(e),
            ProductError::Disclosure(e) => Error::Disclosure(e),
            ProductError::Internal(message) => Error::Internal(message),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_stage_error_keeps_its_message_and_exit_class() {
        // A spec error raised inside the features stage: exit 11, same text.
        let spec = SpecError::Feature {
            feature: "age".into(),
            reason: "unknown kind".into(),
        };
        let e = Error::from(FeatureError::from(spec));
        assert_eq!(e.class().code(), 11);
        assert_eq!(e.to_string(), "feature `age`: unknown kind");
        // A Polars error no stage attributed, raised in a product or in the
        // model stage: exit 1, "internal error: …" as at the top.
        let polars = || polars::error::PolarsError::ComputeError("boom".into());
        for e in [
            Error::from(ProductError::from(polars())),
            Error::from(ModelError::from(polars())),
            Error::from(GovernanceError::from(polars())),
            Error::from(polars()),
        ] {
            assert_eq!(e.class().code(), 1);
            assert_eq!(e.to_string(), format!("internal error: {}", polars()));
        }
        // A governance refusal wrapped by a product is still a refusal (13).
        let refusal = GovernanceError::IdentifiersWithoutKey {
            path: "patients.csv".into(),
        };
        assert_eq!(Error::from(ProductError::from(refusal)).class().code(), 13);
        // A model file problem is 12; a publication failure 14.
        let model = ModelError::Training("one class".into());
        assert_eq!(Error::from(model).class().code(), 12);
        let locked = OutputError::Locked { path: "out".into() };
        assert_eq!(Error::from(locked).class().code(), 14);
    }
}
