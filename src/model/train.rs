//! Training an L2-regularised logistic regression (linfa) with the penalty
//! chosen by k-fold cross-validation on the training split.
//!
//! Splits are made from a hash of the person id, so they do not depend on row
//! order and a person stays in the same split when the extract is re-run.

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ShapeBuilder};
use rayon::prelude::*;

use super::design::{DesignMatrix, Term, Transform};
use super::metrics::{auc, brier, log_loss};
use super::{ModelError, Result};

/// Candidate L2 penalties per training person. linfa's loss is
/// −Σ log σ(y·z) + α/2 ‖w‖², a sum over people, so the penalty is scaled by
/// the number of people fitted (α = λ·n) to mean the same at any population size.
pub const LAMBDAS: &[f64] = &[1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1];
/// Cross-validation folds.
pub const FOLDS: u64 = 5;
/// One person in this many goes to the holdout.
pub const HOLDOUT_ONE_IN: u64 = 5;
const MAX_ITERATIONS: u64 = 300;

/// The default terms of the emergency-admission model.
///
/// The features of PARR++ / the Combined Predictive Model that the catalogue
/// has: age (piecewise linear: children under 5 and people over 65 and 80 have
/// steeper risk), sex, deprivation (with a missing indicator), prior use in the
/// last 12 and 12–24 months, bed days, polypharmacy, comorbidity (Charlson,
/// number of long-term conditions), frailty (eFI with an indicator for the
/// under-65s it is not reported for, HFRS) and social care.
/// Counts enter as ln(1 + n), where the first event matters more than the tenth.
pub fn default_terms() -> Vec<Term> {
    vec![
        Term::new("age", "age", Transform::Linear),
        Term::new("age_under_5", "age", Transform::Below { knot: 5.0 }),
        Term::new("age_over_65", "age", Transform::Above { knot: 65.0 }),
        Term::new("age_over_80", "age", Transform::Above { knot: 80.0 }),
        Term::new("female", "sex", Transform::Equals { value: "F".into() }),
        Term::new("imd_decile", "imd_decile", Transform::Linear),
        Term::new("imd_missing", "imd_decile", Transform::IsMissing),
        Term::new(
            "log_emergency_admissions_12m",
            "emergency_admissions_12m",
            Transform::Log1p,
        ),
        Term::new(
            "log_emergency_admissions_12_24m",
            "emergency_admissions_12_24m",
            Transform::Log1p,
        ),
        Term::new(
            "log_ae_attendances_12m",
            "ae_attendances_12m",
            Transform::Log1p,
        ),
        Term::new(
            "log_outpatient_attendances_12m",
            "outpatient_attendances_12m",
            Transform::Log1p,
        ),
        Term::new("log_bed_days_12m", "bed_days_12m", Transform::Log1p),
        Term::new("log_medicines_12m", "medicines_12m", Transform::Log1p),
        Term::new("charlson_index", "charlson_index", Transform::Linear),
        Term::new("ltc_count", "ltc_count", Transform::Linear),
        Term::new("efi", "efi", Transform::Linear),
        // The eFI is reported from age 65: below, this indicator gives
        // under-65s a fitted level of their own instead of the imputed mean.
        Term::new("efi_not_assessed", "efi", Transform::IsMissing),
        Term::new("hfrs", "hfrs", Transform::Log1p),
        Term::new(
            "care_home_resident",
            "care_home_resident",
            Transform::Linear,
        ),
        Term::new(
            "social_care_active",
            "social_care_active",
            Transform::Linear,
        ),
    ]
}

/// Which split a person falls in, from their id: `(holdout, fold)`.
pub fn split_of(person_id: &str) -> (bool, u64) {
    let hash = blake3::hash(person_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    let h = u64::from_le_bytes(first);
    (h % HOLDOUT_ONE_IN == 0, (h / HOLDOUT_ONE_IN) % FOLDS)
}

/// Sets each term's impute value (mean of present values), center (mean) and
/// scale (standard deviation, or 1 for a constant) from the training rows.
pub fn fit_standardisation(terms: &mut [Term], x: &DesignMatrix) {
    for (term, values) in terms.iter_mut().zip(&x.columns) {
        let present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        let mean = if present.is_empty() {
            0.0
        } else {
            present.iter().sum::<f64>() / present.len() as f64
        };
        let n = values.len().max(1) as f64;
        // After imputation by the mean, the mean is unchanged and missing rows add no spread.
        let var = present.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        term.impute = mean;
        term.center = mean;
        term.scale = if var > 1e-12 { var.sqrt() } else { 1.0 };
    }
}

/// A fitted logistic model on standardised inputs, oriented to P(outcome = true).
#[derive(Debug, Clone)]
pub struct LogisticFit {
    pub intercept: f64,
    pub coefficients: Vec<f64>,
    /// linfa's own parameters (weights then intercept, in its class
    /// orientation), to start a neighbouring fit from.
    start: Vec<f64>,
}

/// Convergence: the gradient of linfa's summed loss must fall below this
/// many units per person fitted. A fixed absolute tolerance would demand
/// ever more precision per person as the population grows (at 1M people
/// linfa's default 1e-4 ran every fit to the iteration limit); per person it
/// keeps the coefficients' accuracy (about this over p(1 − p), ~1e-6 on the
/// standardised scale) the same at every size.
const GRADIENT_TOLERANCE_PER_PERSON: f64 = 1e-7;

/// Fits an L2 logistic regression on rows `rows` of `x`.
pub fn fit_logistic(
    x: &DesignMatrix,
    y: &[bool],
    rows: &[usize],
    alpha: f64,
) -> Result<LogisticFit> {
    fit_logistic_from(x, y, rows, alpha, None)
}

/// As [`fit_logistic`], starting the optimiser from `start` (a fit of the
/// same rows' neighbours, e.g. at the next penalty): fewer iterations, the
/// same optimum within the tolerance.
fn fit_logistic_from(
    x: &DesignMatrix,
    y: &[bool],
    rows: &[usize],
    alpha: f64,
    start: Option<&LogisticFit>,
) -> Result<LogisticFit> {
    let p = x.columns.len();
    let mut flat = Vec::with_capacity(rows.len() * p);
    for column in &x.columns {
        flat.extend(rows.iter().map(|&r| column[r]));
    }
    let features = Array2::from_shape_vec((rows.len(), p).f(), flat)
        .map_err(|e| ModelError::Training(e.to_string()))?;
    let targets: Array1<bool> = rows.iter().map(|&r| y[r]).collect();
    if targets.iter().all(|&t| t) || targets.iter().all(|&t| !t) {
        return Err(ModelError::Training(
            "the training rows have only one outcome class".into(),
        ));
    }
    let data = Dataset::new(features, targets);
    let mut params = LogisticRegression::default()
        .alpha(alpha)
        .max_iterations(MAX_ITERATIONS)
        .gradient_tolerance(GRADIENT_TOLERANCE_PER_PERSON * rows.len() as f64);
    if let Some(start) = start.filter(|s| s.start.len() == p + 1) {
        params = params.initial_params(Array1::from(start.start.clone()));
    }
    let model = params
        .fit(&data)
        .map_err(|e| ModelError::Training(e.to_string()))?;
    // linfa makes the majority class "positive": orient to P(outcome = true).
    let sign = if model.labels().pos.class { 1.0 } else { -1.0 };
    let mut start: Vec<f64> = model.params().to_vec();
    start.push(model.intercept());
    Ok(LogisticFit {
        intercept: sign * model.intercept(),
        coefficients: model.params().iter().map(|w| sign * w).collect(),
        start,
    })
}

/// Mean held-out log-loss of each λ over the folds; returns (best λ, table of (λ, log-loss)).
///
/// Each fold walks the penalties from the largest down, starting every fit
/// from the previous one's solution; folds are independent, so they run in
/// parallel, and the result does not depend on the number of threads.
pub fn choose_lambda(
    x: &DesignMatrix,
    y: &[bool],
    rows: &[usize],
    folds: &[u64],
) -> Result<(f64, Vec<(f64, f64)>)> {
    let per_fold: Vec<Vec<Option<f64>>> = (0..FOLDS)
        .into_par_iter()
        .map(|fold| fold_losses(x, y, rows, folds, fold))
        .collect::<Result<_>>()?;
    let table: Vec<(f64, f64)> = LAMBDAS
        .iter()
        .enumerate()
        .map(|(k, &lambda)| {
            let losses: Vec<f64> = per_fold.iter().filter_map(|f| f[k]).collect();
            let mean = losses.iter().sum::<f64>() / losses.len().max(1) as f64;
            (lambda, mean)
        })
        .collect();
    let best = table
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(a, _)| *a)
        .ok_or_else(|| ModelError::Training("no penalty could be evaluated".into()))?;
    Ok((best, table))
}

/// Held-out log-loss of each λ (in [`LAMBDAS`] order) for one fold; `None`
/// when the fold has no rows.
fn fold_losses(
    x: &DesignMatrix,
    y: &[bool],
    rows: &[usize],
    folds: &[u64],
    fold: u64,
) -> Result<Vec<Option<f64>>> {
    let in_fold = |keep: bool| -> Vec<usize> {
        rows.iter()
            .zip(folds)
            .filter(|(_, f)| (**f == fold) == keep)
            .map(|(r, _)| *r)
            .collect()
    };
    let (fit_rows, test_rows) = (in_fold(false), in_fold(true));
    let mut losses = vec![None; LAMBDAS.len()];
    if test_rows.is_empty() {
        return Ok(losses);
    }
    let truth: Vec<bool> = test_rows.iter().map(|&r| y[r]).collect();
    let test_x = x.select(&test_rows);
    let mut previous: Option<LogisticFit> = None;
    for (k, &lambda) in LAMBDAS.iter().enumerate().rev() {
        let alpha = lambda * fit_rows.len() as f64;
        let fit = fit_logistic_from(x, y, &fit_rows, alpha, previous.as_ref())?;
        losses[k] = Some(log_loss(&risk_of(&fit, &test_x), &truth));
        previous = Some(fit);
    }
    Ok(losses)
}

/// Risks of `fit` on every row of `x`, by the nightly run's scoring kernel.
fn risk_of(fit: &LogisticFit, x: &DesignMatrix) -> Vec<f64> {
    super::score::linear_risk(fit.intercept, &fit.coefficients, x)
}

/// AUC and Brier score of `fit` on `rows`.
pub fn evaluate(
    fit: &LogisticFit,
    x: &DesignMatrix,
    y: &[bool],
    rows: &[usize],
) -> (Option<f64>, f64) {
    let risk = risk_of(fit, &x.select(rows));
    let truth: Vec<bool> = rows.iter().map(|&r| y[r]).collect();
    (auc(&risk, &truth), brier(&risk, &truth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_a_pure_function_of_the_id() {
        assert_eq!(split_of("P000001"), split_of("P000001"));
        let holdout = (0..10_000)
            .filter(|i| split_of(&format!("P{i:06}")).0)
            .count();
        // One in five, within sampling error (sd ≈ 40).
        assert!((1_800..2_200).contains(&holdout), "{holdout}");
    }

    #[test]
    fn standardisation_uses_mean_and_population_sd() {
        let x = DesignMatrix {
            rows: 4,
            columns: vec![vec![1.0, 3.0, f64::NAN, 5.0]],
        };
        let mut terms = vec![Term::new("x", "x", Transform::Linear)];
        fit_standardisation(&mut terms, &x);
        // mean of 1, 3, 5 = 3; imputed row adds 0; variance (4 + 0 + 0 + 4) / 4 = 2.
        assert_eq!(terms[0].center, 3.0);
        assert_eq!(terms[0].impute, 3.0);
        assert!((terms[0].scale - 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn logistic_fit_recovers_the_direction_of_a_rare_outcome() {
        // Outcome true only at high x and rare: linfa would orient to the majority class.
        let n = 400;
        let column: Vec<f64> = (0..n).map(|i| i as f64 / n as f64 * 4.0 - 2.0).collect();
        let y: Vec<bool> = column
            .iter()
            .enumerate()
            .map(|(i, v)| *v > 1.2 || i % 37 == 0)
            .collect();
        let x = DesignMatrix {
            rows: n,
            columns: vec![column],
        };
        let rows: Vec<usize> = (0..n).collect();
        let fit = fit_logistic(&x, &y, &rows, 1.0).expect("fit");
        assert!(
            fit.coefficients[0] > 0.0,
            "risk must rise with x: {:?}",
            fit.coefficients
        );
        let (a, _) = evaluate(&fit, &x, &y, &rows);
        assert!(a.expect("both classes") > 0.8);
    }
}
