//! Drift between runs: the distribution of risk, tier shares and feature
//! missingness are recorded in each manifest and compared with the previous
//! published run by the population stability index (PSI).
//!
//! PSI = Σ (p − q) · ln(p / q) over bins, with empty bins smoothed to 1e-4.
//! Conventional reading (Siddiqi 2006): < 0.1 stable, 0.1–0.25 some shift,
//! > 0.25 a major shift. The warning limits are configurable.

use serde::{Deserialize, Serialize};

/// Risk bins on the log-odds scale: edges −7, −6.5, … 3 (risks ≈ 0.001 … 0.95).
const LOGIT_LOW: f64 = -7.0;
const LOGIT_STEP: f64 = 0.5;
const LOGIT_BINS: usize = 20;
const SMOOTH: f64 = 1e-4;

/// Limits beyond which a run warns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DriftLimits {
    /// PSI of the risk distribution or the tier shares.
    pub psi_warn: f64,
    /// Change in the share of missing values of any model feature (0.05 = 5 points).
    pub missingness_warn: f64,
}

impl Default for DriftLimits {
    fn default() -> Self {
        DriftLimits {
            psi_warn: 0.2,
            missingness_warn: 0.05,
        }
    }
}

pub use crate::publication::manifest::{Distribution, Drift};

/// The bin of a risk on the log-odds scale: bin 0 holds everything below the
/// first edge, the last bin everything above the last.
pub fn risk_bin(risk: f64) -> usize {
    let logit = crate::model::score::logit(risk);
    let bin = ((logit - LOGIT_LOW) / LOGIT_STEP).floor() + 1.0;
    bin.clamp(0.0, (LOGIT_BINS + 1) as f64) as usize
}

/// Shares of `risks` in each bin (`LOGIT_BINS + 2` bins including the two open ends).
pub fn risk_bins(risks: &[f64]) -> Vec<f64> {
    let n = risks.len().max(1) as f64;
    risk_bin_counts(risks.iter().copied())
        .into_iter()
        .map(|c| c as f64 / n)
        .collect()
}

/// People of `risks` in each bin (the bins of [`risk_bins`]).
pub fn risk_bin_counts(risks: impl IntoIterator<Item = f64>) -> Vec<u64> {
    let mut counts = vec![0u64; LOGIT_BINS + 2];
    for r in risks {
        counts[risk_bin(r)] += 1;
    }
    counts
}

/// Population stability index between shares `now` and `before` (same bins).
pub fn psi(now: &[f64], before: &[f64]) -> f64 {
    now.iter()
        .zip(before)
        .map(|(p, q)| {
            let (p, q) = (p.max(SMOOTH), q.max(SMOOTH));
            (p - q) * (p / q).ln()
        })
        .sum()
}

/// Compares `now` with `before`, listing what moved beyond `limits`.
pub fn compare(
    now: &Distribution,
    before: &Distribution,
    previous_run_id: &str,
    limits: &DriftLimits,
) -> Drift {
    let psi_risk = psi(&now.risk_bin_shares, &before.risk_bin_shares);
    let share = |list: &[(String, f64)], key: &str| {
        list.iter().find(|(k, _)| k == key).map_or(0.0, |(_, v)| *v)
    };
    let tiers_now: Vec<f64> = now.tier_shares.iter().map(|(_, v)| *v).collect();
    let tiers_before: Vec<f64> = now
        .tier_shares
        .iter()
        .map(|(k, _)| share(&before.tier_shares, k))
        .collect();
    let psi_tiers = psi(&tiers_now, &tiers_before);
    let mut warnings = Vec::new();
    if psi_risk > limits.psi_warn {
        warnings.push(format!(
            "risk distribution shifted: PSI {psi_risk:.3} > {}",
            limits.psi_warn
        ));
    }
    if psi_tiers > limits.psi_warn {
        warnings.push(format!(
            "tier sizes shifted: PSI {psi_tiers:.3} > {}",
            limits.psi_warn
        ));
    }
    for (feature, missing) in &now.missingness {
        let change = missing - share(&before.missingness, feature);
        if change.abs() > limits.missingness_warn {
            warnings.push(format!(
                "`{feature}` missing for {:.1}% of people (was {:.1}%)",
                missing * 100.0,
                (missing - change) * 100.0
            ));
        }
    }
    Drift {
        previous_run_id: previous_run_id.to_string(),
        psi_risk,
        psi_tiers,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_of_identical_distributions_is_zero_and_of_a_shift_matches_the_formula() {
        assert_eq!(psi(&[0.5, 0.5], &[0.5, 0.5]), 0.0);
        // (0.7 − 0.5)·ln(0.7/0.5) + (0.3 − 0.5)·ln(0.3/0.5) = 0.2·0.33647 + 0.2·0.51083 = 0.16946.
        assert!(
            (psi(&[0.7, 0.3], &[0.5, 0.5])
                - (0.2 * (0.7f64 / 0.5).ln() + 0.2 * (0.5f64 / 0.3).ln()))
            .abs()
                < 1e-12
        );
    }

    #[test]
    fn risk_bins_are_half_units_of_log_odds() {
        // logit(0.5) = 0 → (0 + 7) / 0.5 + 1 = bin 15; logit(0.001) ≈ −6.907 → bin 1; tiny risks → bin 0.
        assert_eq!(risk_bin(0.5), 15);
        assert_eq!(risk_bin(0.001), 1);
        assert_eq!(risk_bin(1e-6), 0);
        assert_eq!(risk_bin(0.999), LOGIT_BINS + 1);
        let shares = risk_bins(&[0.5, 0.5, 0.001, 0.999]);
        assert_eq!(shares.len(), LOGIT_BINS + 2);
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn warnings_name_what_moved() {
        let before = Distribution {
            people: 100,
            mean_risk: 0.1,
            risk_bin_shares: vec![0.5, 0.5],
            tier_shares: vec![("low".into(), 1.0)],
            missingness: vec![("imd_decile".into(), 0.01)],
            planning_risk_bins: vec![],
        };
        let now = Distribution {
            risk_bin_shares: vec![0.9, 0.1],
            missingness: vec![("imd_decile".into(), 0.20)],
            ..before.clone()
        };
        let drift = compare(&now, &before, "r1", &DriftLimits::default());
        assert_eq!(drift.warnings.len(), 2, "{:?}", drift.warnings);
        assert!(drift.warnings[1].contains("`imd_decile` missing for 20.0% of people (was 1.0%)"));
    }
}
