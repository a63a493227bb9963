//! The model file: a versioned JSON document with everything needed to score
//! (terms, coefficients) and to judge the model (training summary, metrics).

use std::path::Path;

use super::{ModelError, Result};
use crate::features::FeatureSet;

use super::design::Term;

/// The schema version this strata writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// What the model was trained on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainingSummary {
    pub index_date: chrono::NaiveDate,
    /// People in the training set (excluding the holdout).
    pub n_train: u64,
    pub n_holdout: u64,
    /// Share of training people with the outcome.
    pub outcome_prevalence: f64,
    /// L2 penalty per person chosen by cross-validation.
    pub lambda: f64,
    /// The penalty of the final fit: λ × n_train.
    pub alpha: f64,
    /// Cross-validated mean log-loss per candidate λ.
    pub cv_log_loss: Vec<(f64, f64)>,
    /// blake3 of each input file, as `name: hex`.
    pub input_checksums: Vec<(String, String)>,
    pub synthetic_data: bool,
}

/// Discrimination and accuracy on the holdout.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HoldoutMetrics {
    pub auc: f64,
    pub brier: f64,
    pub n: u64,
    pub outcomes: u64,
}

/// A trained model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelFile {
    pub schema_version: u32,
    /// `name-<12 hex of blake3 over the fitted parameters>`: changes whenever the model does.
    pub model_id: String,
    pub name: String,
    pub model_type: String,
    /// The outcome predicted, e.g. `emergency_admission_12m`.
    pub outcome: String,
    pub intercept: f64,
    pub terms: Vec<Term>,
    pub training: TrainingSummary,
    pub holdout: HoldoutMetrics,
    /// The full holdout evaluation (metrics overall and by subgroup), the content of the model card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<super::evaluate::Evaluation>,
    /// The evaluation at a later index date (temporal validation), when training asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal_evaluation: Option<super::evaluate::Evaluation>,
    pub software_version: String,
}

impl ModelFile {
    /// Reads and checks a model file: schema version, known features, sane numbers.
    pub fn load(path: &Path) -> Result<ModelFile> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::Unreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let version: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| ModelError::Unreadable {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        let found = version
            .get("schema_version")
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as u32;
        if found != SCHEMA_VERSION {
            return Err(ModelError::SchemaVersion {
                path: path.to_path_buf(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let model: ModelFile =
            serde_json::from_value(version).map_err(|e| ModelError::Unreadable {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        model.check(path)?;
        Ok(model)
    }

    fn check(&self, path: &Path) -> Result<()> {
        if self.model_type != "logistic" {
            return Err(invalid(
                path,
                format!(
                    "model_type `{}` is not supported (expected `logistic`)",
                    self.model_type
                ),
            ));
        }
        let finite = self.intercept.is_finite()
            && self
                .terms
                .iter()
                .all(|t| t.coefficient.is_finite() && t.center.is_finite() && t.impute.is_finite());
        if !finite {
            return Err(invalid(
                path,
                "a coefficient, center or impute value is not a finite number".into(),
            ));
        }
        if let Some(t) = self
            .terms
            .iter()
            .find(|t| !(t.scale.is_finite() && t.scale > 0.0))
        {
            return Err(invalid(
                path,
                format!(
                    "term `{}` has scale {}, expected a positive number",
                    t.name, t.scale
                ),
            ));
        }
        Ok(())
    }

    /// Fails, naming them, if the model reads features that `set` cannot compute.
    pub fn require_features(&self, set: &FeatureSet, path: &Path) -> Result<()> {
        let missing: Vec<&str> = self
            .features()
            .into_iter()
            .filter(|f| set.get(f).is_none())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ModelError::UnknownFeatures {
                path: path.to_path_buf(),
                missing: missing.join(", "),
            })
        }
    }

    /// The features this model reads, in term order without repeats.
    pub fn features(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for t in &self.terms {
            if !out.contains(&t.feature.as_str()) {
                out.push(&t.feature);
            }
        }
        out
    }

    /// Writes the model as pretty JSON (stable field order, for reviewable diffs).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text =
            serde_json::to_string_pretty(self).map_err(|e| ModelError::Training(e.to_string()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| invalid(path, e.to_string()))?;
        }
        std::fs::write(path, text + "\n").map_err(|e| invalid(path, e.to_string()))?;
        Ok(())
    }

    /// The id of a model from its name and fitted parameters.
    pub fn make_id(name: &str, intercept: f64, terms: &[Term]) -> String {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&intercept.to_le_bytes());
        for t in terms {
            hasher.update(t.name.as_bytes());
            for x in [t.impute, t.center, t.scale, t.coefficient] {
                hasher.update(&x.to_le_bytes());
            }
        }
        format!("{name}-{}", &hasher.finalize().to_hex()[..12])
    }
}

fn invalid(path: &Path, reason: String) -> ModelError {
    ModelError::Invalid {
        path: path.to_path_buf(),
        reason,
    }
}
