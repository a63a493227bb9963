//! The model file format: a versioned JSON document with everything needed
//! to score (terms, coefficients) and to judge the model (training summary,
//! the holdout evaluation). Plain data: this module computes nothing and
//! depends on nothing in the evaluation, calibration or scoring code, which
//! fill these records. A change here is a change to the file format (see
//! [`SCHEMA_VERSION`]); `models/emergency_admission.json` must still load.

use std::path::Path;

use super::{ModelError, Result};
use crate::features::FeatureSet;

use super::design::Term;

/// The schema version this strata writes.
///
/// 2: every count of people in the evaluation and training summary is
/// disclosure-controlled (rounded; `null` when withheld), rates come from the
/// rounded counts, and the evaluation records the rule (`disclosure`).
/// Version 1 files (exact counts, never `null`) are still read; a strata that
/// reads only version 1 refuses a version 2 file by its version instead of
/// failing on a `null` count.
pub const SCHEMA_VERSION: u32 = 2;

/// Every schema version this strata reads.
pub const READABLE_SCHEMA_VERSIONS: [u32; 2] = [1, SCHEMA_VERSION];

/// What the model was trained on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainingSummary {
    pub index_date: chrono::NaiveDate,
    /// People in the training set (excluding the holdout), rounded by the
    /// disclosure profile (files written before disclosure control hold the
    /// exact number).
    pub n_train: u64,
    /// People in the holdout, rounded likewise.
    pub n_holdout: u64,
    /// Share of training people with the outcome, computed from the rounded
    /// counts (so it reveals nothing they do not).
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
    /// `None` when withheld: the holdout has 1–t people with (or without)
    /// the outcome, so the AUC would describe them.
    pub auc: Option<f64>,
    pub brier: Option<f64>,
    /// Rounded.
    pub n: u64,
    /// Rounded; `None` when withheld (1–t, or 1–t without the outcome).
    pub outcomes: Option<u64>,
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
    pub evaluation: Option<Evaluation>,
    /// The evaluation at a later index date (temporal validation), when training asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal_evaluation: Option<Evaluation>,
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
        if !READABLE_SCHEMA_VERSIONS.contains(&found) {
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

// The evaluation as the file records it: filled by `model::evaluate` (with
// `metrics`, `calibration` and `fairness`), rendered by `model::card` and the
// evaluation report. The same records are written by `strata evaluate --out`.

/// A full evaluation: serialise with serde (JSON) or render with [`Evaluation::to_text`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Evaluation {
    pub context: EvaluationContext,
    pub overall: Metrics,
    /// AUC of the true risks (synthetic data only): the best AUC any model
    /// could reach on these people and outcomes.
    pub oracle_auc: Option<AucEstimate>,
    /// AUC of the risks a model could know from the record (synthetic data
    /// only: the true risk averaged over the generator's unobserved person
    /// effect). A model fitted to the record should reach about this; the
    /// oracle is out of reach by the size of that effect.
    #[serde(default)]
    pub record_oracle_auc: Option<AucEstimate>,
    pub subgroups: Vec<Subgroup>,
    pub options: EvaluateOptions,
    /// The disclosure control its figures passed (see
    /// `model::published`). `None` in evaluations made before strata
    /// controlled them (older model files), whose counts are exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclosure: Option<DisclosureApplied>,
}

/// The small-number rule an evaluation's figures passed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DisclosureApplied {
    /// The disclosure profile, as written in configuration (`opensafely`).
    pub profile: String,
    /// Counts of 1 to this many people are withheld (null), and so is every
    /// figure that describes them.
    pub redact_at_or_below: u64,
    /// How the other counts were rounded, in words (`nearest 5`).
    pub rounding: String,
}

/// What was evaluated, for the record (all optional; the caller fills them).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvaluationContext {
    pub model_id: Option<String>,
    pub outcome: Option<String>,
    /// Features up to and including this date; outcome in the 365 days after.
    pub index_date: Option<chrono::NaiveDate>,
    /// A description of the evaluation data, e.g. the input directory.
    pub data: Option<String>,
    pub synthetic_data: Option<bool>,
}

/// What to compute.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvaluateOptions {
    /// Shares for PPV and sensitivity (fractions: 0.05 = top 5%).
    pub top_shares: Vec<f64>,
    pub limits: Limits,
}

/// Limits for flagging subgroups and the minimum sizes for reporting them.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Flag when |AUC(subgroup) − AUC(overall)| exceeds this.
    pub auc_difference: f64,
    /// Flag when the calibration slope is below this …
    pub slope_min: f64,
    /// … or above this.
    pub slope_max: f64,
    /// Flag when |calibration intercept| exceeds this (logit scale).
    pub intercept_abs: f64,
    /// Not estimable with fewer people than this with the outcome, or
    /// fewer than this without it.
    pub min_events: u64,
    /// Not estimable with fewer people than this.
    pub min_people: u64,
}

/// All metrics of one set of people.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// People; rounded, `None` when withheld (see [`DisclosureApplied`]).
    pub n: Option<u64>,
    /// People with the outcome; rounded, `None` when withheld.
    pub events: Option<u64>,
    /// events / n, of the published (rounded) counts.
    pub prevalence: Option<f64>,
    pub mean_risk: Option<f64>,
    /// AUC (ROC) with DeLong SE and 95% CI.
    pub auc: Option<AucEstimate>,
    /// Average precision (area under the precision–recall curve).
    pub auprc: Option<f64>,
    /// Mean of (risk − outcome)².
    pub brier: Option<f64>,
    pub calibration: Recalibration,
    /// Σ events / Σ risk (observed / expected).
    pub observed_expected: Option<f64>,
    pub deciles: Vec<DecileRow>,
    pub top: Vec<TopShare>,
    /// ROC curve points (false-positive rate, sensitivity), thinned to at most `evaluate::CURVE_POINTS`.
    #[serde(default)]
    pub roc: Vec<(f64, f64)>,
    /// Precision–recall curve points (recall, precision), thinned likewise.
    #[serde(default)]
    pub pr: Vec<(f64, f64)>,
    /// What disclosure control withheld here and why, in words; `None` when nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
}

/// AUC with its DeLong standard error and 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AucEstimate {
    pub auc: f64,
    /// DeLong standard error; `None` with fewer than two people in a class.
    pub se: Option<f64>,
    /// auc ± `metrics::Z_95`·se, clipped to [0, 1] (the Wald interval of pROC's
    /// `ci.auc(method = "delong")`).
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// Logistic recalibration of a set of risks.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recalibration {
    /// a in logit P(y) = a + logit(risk) (slope fixed at 1). `None` when all
    /// or none of the people have the outcome (no finite estimate exists).
    pub intercept: Option<f64>,
    /// b in logit P(y) = a′ + b·logit(risk). `None` when no finite estimate
    /// exists: a single class, a single distinct risk, or risks that separate
    /// the classes (complete or quasi-complete separation).
    pub slope: Option<f64>,
    /// a′, the intercept of the two-parameter fit (reported for completeness;
    /// not the calibration intercept).
    pub slope_fit_intercept: Option<f64>,
}

/// One decile of risk: people, mean predicted risk and observed rate.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DecileRow {
    /// 1 = lowest risk … 10 = highest.
    pub decile: u8,
    /// Rounded; `None` when withheld.
    pub n: Option<u64>,
    /// Rounded; `None` when withheld.
    pub events: Option<u64>,
    /// `None` when `n` is withheld.
    pub mean_risk: Option<f64>,
    /// events / n of the published counts; `None` when either is withheld.
    pub observed: Option<f64>,
    /// 95% Wilson interval for `observed`, of the published counts.
    pub observed_lower: Option<f64>,
    pub observed_upper: Option<f64>,
}

/// PPV and sensitivity of flagging the top `share` of people by risk.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TopShare {
    /// The share asked for (0.05 = top 5%).
    pub share: f64,
    /// ⌈share·n⌉: the number of people the share asks for (rounded; `None` when withheld).
    pub target: Option<u64>,
    /// People flagged: everyone with risk ≥ `threshold`, so ties at the cut
    /// are all in (`flagged` ≥ `target`). Rounded; `None` when withheld.
    pub flagged: Option<u64>,
    /// The risk of the `target`-th highest person; `None` when `target` is 0
    /// or the people flagged are withheld.
    pub threshold: Option<f64>,
    /// Flagged people with the outcome. Rounded; `None` when withheld.
    pub true_positives: Option<u64>,
    /// true_positives / flagged of the published counts; `None` when nobody
    /// is flagged or either count is withheld.
    pub ppv: Option<f64>,
    /// true_positives / all people with the outcome, of the published
    /// counts; `None` when nobody has it or either count is withheld.
    pub sensitivity: Option<f64>,
}

/// One subgroup: its size always; its metrics only when estimable.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Subgroup {
    pub attribute: String,
    pub group: String,
    /// Rounded; `None` when withheld.
    pub n: Option<u64>,
    /// Rounded; `None` when withheld.
    pub events: Option<u64>,
    /// `None` when the group is below the minimum sizes.
    pub metrics: Option<Metrics>,
    /// Why `metrics` is `None`.
    pub not_estimable: Option<String>,
    /// AUC of the true risks in this group, when they were given.
    pub oracle_auc: Option<f64>,
    pub flags: Vec<Flag>,
    /// What disclosure control withheld in this row and why; `None` when nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
}

/// A subgroup metric beyond its limit.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Flag {
    pub kind: FlagKind,
    /// The subgroup's value (for AUC: the difference subgroup − overall);
    /// `None` when the figure is withheld by disclosure control (the flag
    /// was raised on the exact figure, which is not published).
    pub value: Option<f64>,
    /// The limit in words, e.g. `|ΔAUC| ≤ 0.05`.
    pub limit: String,
}

/// What a flag is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    AucDifference,
    CalibrationSlope,
    CalibrationIntercept,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The format is the file: the shipped default model (version 2) and the
    /// one shipped before disclosure control of model files (version 1,
    /// kept as a fixture) load, and writing them again gives the same bytes
    /// (fields, order, optional parts).
    #[test]
    fn model_files_load_and_round_trip_byte_for_byte() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (file, version) in [
            ("models/emergency_admission.json", 2),
            ("tests/fixtures/model/emergency_admission_v1.json", 1),
        ] {
            let path = root.join(file);
            let text = std::fs::read_to_string(&path).expect("model file");
            let model = ModelFile::load(&path).expect("loads");
            assert_eq!(model.schema_version, version, "{file}");
            assert!(model.evaluation.is_some(), "{file} records its evaluation");
            let dir = tempfile::tempdir().expect("tempdir");
            let again = dir.path().join("again.json");
            model.save(&again).expect("save");
            assert_eq!(
                std::fs::read_to_string(&again).expect("read"),
                text,
                "{file}"
            );
        }
    }

    #[test]
    fn versions_1_and_2_are_read_and_others_refused_by_their_version() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/emergency_admission.json");
        let text = std::fs::read_to_string(&path).expect("default model");
        let dir = tempfile::tempdir().expect("tempdir");
        for (version, readable) in [(1, true), (2, true), (3, false), (0, false)] {
            let file = dir.path().join(format!("v{version}.json"));
            let mut value: serde_json::Value = serde_json::from_str(&text).expect("json");
            value["schema_version"] = serde_json::json!(version);
            std::fs::write(&file, value.to_string()).expect("write");
            match ModelFile::load(&file) {
                Ok(m) => assert!(readable, "version {version} loaded: {}", m.model_id),
                Err(ModelError::SchemaVersion { found, .. }) => {
                    assert!(!readable && found == version, "version {version} refused")
                }
                Err(e) => panic!("version {version}: {e}"),
            }
        }
    }
}
