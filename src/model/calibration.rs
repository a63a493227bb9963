//! Calibration: logistic recalibration (intercept and slope) and calibration
//! by decile of risk.
//!
//! Definitions follow the calibration hierarchy of Van Calster et al. (2016,
//! J Clin Epidemiol 74:167–176; 2019, BMC Med 17:230), with l = logit(risk):
//!
//! - **Calibration slope** b: from the two-parameter fit
//!   logit P(y = 1) = a + b·l. b = 1 is ideal; b < 1 means risks are too
//!   extreme (typical of overfitting), b > 1 too moderate.
//! - **Calibration intercept** (calibration-in-the-large) a: from the fit with
//!   the slope fixed at 1, logit P(y = 1) = a + l (l as an offset). a = 0 is
//!   ideal; a > 0 means risks are too low on average, a < 0 too high.
//!
//! Both are maximum-likelihood estimates found by Newton–Raphson with step
//! halving. Risks are clipped to [[`RISK_EPSILON`], 1 − [`RISK_EPSILON`]]
//! before taking logits, so a risk of exactly 0 or 1 stays finite. The fits
//! run over blocks of equal risk (count, events), which is exact and makes
//! the result independent of row order.

use super::metrics::{Block, Ranked, Z_95, wilson_interval};

pub use super::schema::{DecileRow, Recalibration};

pub use super::score::{RISK_EPSILON, logit};

const MAX_ITERATIONS: usize = 100;
/// Convergence: the largest Newton step component is below this.
const STEP_TOLERANCE: f64 = 1e-12;
/// A Newton step is first shortened so no component exceeds this (logit
/// units): far from the optimum, with risks near 0 or 1, the information is
/// tiny and the raw step astronomically long.
const MAX_STEP: f64 = 5.0;
const MAX_HALVINGS: usize = 60;

/// One distinct logit with its count and events.
#[derive(Debug, Clone, Copy)]
struct Level {
    logit: f64,
    count: f64,
    events: f64,
}

fn levels(ranked: &Ranked) -> Vec<Level> {
    ranked
        .blocks()
        .iter()
        .map(|b: &Block| Level {
            logit: logit(b.risk),
            count: b.len() as f64,
            events: b.events as f64,
        })
        .collect()
}

/// ln(1 + eᶻ) without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

fn sigmoid(z: f64) -> f64 {
    super::score::sigmoid(z)
}

/// Log-likelihood of logit P(y) = a + b·l over the levels.
fn log_likelihood(levels: &[Level], a: f64, b: f64) -> f64 {
    levels
        .iter()
        .map(|v| {
            let eta = a + b * v.logit;
            v.events * eta - v.count * softplus(eta)
        })
        .sum()
}

/// Both calibration fits of `ranked`.
pub fn recalibrate(ranked: &Ranked) -> Recalibration {
    let levels = levels(ranked);
    let slope_fit = if slope_is_estimable(ranked) {
        fit_intercept_and_slope(&levels)
    } else {
        None
    };
    Recalibration {
        intercept: fit_intercept_with_offset(&levels),
        slope: slope_fit.map(|(_, b)| b),
        slope_fit_intercept: slope_fit.map(|(a, _)| a),
    }
}

/// The two-parameter MLE exists iff the risks of the two classes overlap
/// strictly (Albert & Anderson 1984): lowest event risk < highest non-event
/// risk, and lowest non-event risk < highest event risk. Ties at a single
/// shared risk (quasi-complete separation) and a single distinct risk fail it.
fn slope_is_estimable(ranked: &Ranked) -> bool {
    let range = |class: bool| {
        let mut it = ranked
            .risks()
            .iter()
            .zip(ranked.outcomes())
            .filter(|(_, y)| **y == class)
            .map(|(r, _)| logit(*r));
        let first = it.next()?;
        Some(it.fold((first, first), |(lo, hi), l| (lo.min(l), hi.max(l))))
    };
    match (range(true), range(false)) {
        (Some((event_lo, event_hi)), Some((none_lo, none_hi))) => {
            event_lo < none_hi && none_lo < event_hi
        }
        _ => false,
    }
}

/// Newton–Raphson for a with b fixed at 1: score Σ(y − σ(a + l)), information
/// Σ σ(1 − σ). `None` unless 0 < events < n.
fn fit_intercept_with_offset(levels: &[Level]) -> Option<f64> {
    let events: f64 = levels.iter().map(|v| v.events).sum();
    let count: f64 = levels.iter().map(|v| v.count).sum();
    if events <= 0.0 || events >= count {
        return None;
    }
    let mut a = 0.0;
    for _ in 0..MAX_ITERATIONS {
        let (mut score, mut information) = (0.0, 0.0);
        for v in levels {
            let p = sigmoid(a + v.logit);
            score += v.events - v.count * p;
            information += v.count * p * (1.0 - p);
        }
        if information <= 0.0 {
            return None;
        }
        let step = halve_until_better(levels, (a, 1.0), (score / information, 0.0), true)?;
        a += step.0;
        if step.0.abs() < STEP_TOLERANCE {
            return a.is_finite().then_some(a);
        }
    }
    None
}

/// Newton–Raphson for (a, b): score U = Σ (y − π)(1, l), information
/// I = Σ π(1 − π)(1, l)(1, l)ᵀ, step I⁻¹U. Starts at (0, 1), the ideal.
fn fit_intercept_and_slope(levels: &[Level]) -> Option<(f64, f64)> {
    let (mut a, mut b) = (0.0, 1.0);
    for _ in 0..MAX_ITERATIONS {
        let (mut u0, mut u1, mut i00, mut i01, mut i11) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for v in levels {
            let p = sigmoid(a + b * v.logit);
            let residual = v.events - v.count * p;
            let w = v.count * p * (1.0 - p);
            u0 += residual;
            u1 += residual * v.logit;
            i00 += w;
            i01 += w * v.logit;
            i11 += w * v.logit * v.logit;
        }
        let det = i00 * i11 - i01 * i01;
        if !(det.is_finite() && det > 0.0) {
            return None;
        }
        let newton = ((i11 * u0 - i01 * u1) / det, (i00 * u1 - i01 * u0) / det);
        let step = halve_until_better(levels, (a, b), newton, false)?;
        a += step.0;
        b += step.1;
        if step.0.abs().max(step.1.abs()) < STEP_TOLERANCE {
            return (a.is_finite() && b.is_finite()).then_some((a, b));
        }
    }
    None
}

/// Shortens a Newton step to at most [`MAX_STEP`] per component, then halves
/// it until the log-likelihood does not decrease. With `offset_only` the
/// slope stays at 1.
fn halve_until_better(
    levels: &[Level],
    (a, b): (f64, f64),
    mut step: (f64, f64),
    offset_only: bool,
) -> Option<(f64, f64)> {
    let slope = |db: f64| if offset_only { 1.0 } else { b + db };
    let base = log_likelihood(levels, a, slope(0.0));
    let longest = step.0.abs().max(step.1.abs());
    if !longest.is_finite() {
        return None;
    }
    if longest > MAX_STEP {
        step = (step.0 * MAX_STEP / longest, step.1 * MAX_STEP / longest);
    }
    for _ in 0..MAX_HALVINGS {
        let next = log_likelihood(levels, a + step.0, slope(step.1));
        if next.is_finite() && next >= base - 1e-12 * base.abs().max(1.0) {
            return Some(step);
        }
        step = (step.0 / 2.0, step.1 / 2.0);
    }
    None
}

/// Calibration by decile of risk. A person's decile is ⌈10·R/n⌉ where R is
/// the highest ascending rank (1 = lowest risk) among people with their risk:
/// with distinct risks the deciles are equal in size (±1), and people with
/// equal risk share the higher decile, as in `cohort::tiers`. Only non-empty
/// deciles are listed (heavy ties or n < 10 can leave some empty), lowest first.
pub fn calibration_by_decile(ranked: &Ranked) -> Vec<DecileRow> {
    let n = ranked.len();
    if n == 0 {
        return Vec::new();
    }
    // (n, events, Σ risk) per decile 1..=10, summed in canonical order.
    let mut sums = [(0u64, 0u64, 0.0f64); 10];
    for b in ranked.blocks() {
        let highest_rank = n - b.start;
        let decile = (10 * highest_rank).div_ceil(n).clamp(1, 10);
        let slot = &mut sums[decile - 1];
        slot.0 += b.len();
        slot.1 += b.events;
        slot.2 += ranked.risks()[b.start..b.end].iter().sum::<f64>();
    }
    sums.iter()
        .enumerate()
        .filter(|(_, s)| s.0 > 0)
        .map(|(i, &(count, events, total))| {
            let (lower, upper) = wilson_interval(events, count, Z_95).unwrap_or((0.0, 1.0));
            DecileRow {
                decile: (i + 1) as u8,
                n: Some(count),
                events: Some(events),
                mean_risk: Some(total / count as f64),
                observed: Some(events as f64 / count as f64),
                observed_lower: Some(lower),
                observed_upper: Some(upper),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `count` people at `risk`, the first `events` of them with the outcome.
    fn level(risk: f64, count: usize, events: usize) -> Vec<(f64, bool)> {
        (0..count).map(|i| (risk, i < events)).collect()
    }

    fn ranked(levels: &[Vec<(f64, bool)>]) -> Ranked {
        let (risk, outcome): (Vec<f64>, Vec<bool>) = levels.concat().into_iter().unzip();
        Ranked::new(&risk, &outcome)
    }

    #[test]
    fn perfectly_calibrated_groups_give_slope_one_and_intercept_zero() {
        // Two risk levels, observed rate = predicted in each. With two distinct
        // logits the two-parameter model is saturated, so its MLE reproduces the
        // observed rates: a′ + b·logit(0.2) = logit(0.2), a′ + b·logit(0.5) = 0 → a′ = 0, b = 1.
        // With b fixed at 1, Σ σ(a + l) = 2 + 5 = Σ y holds at a = 0.
        let fit = recalibrate(&ranked(&[level(0.2, 10, 2), level(0.5, 10, 5)]));
        assert!((fit.slope.expect("slope") - 1.0).abs() < 1e-12);
        assert!(fit.slope_fit_intercept.expect("a′").abs() < 1e-12);
        assert!(fit.intercept.expect("intercept").abs() < 1e-12);
    }

    #[test]
    fn slope_of_a_known_closed_form() {
        // Risk 0.2 (logit −ln 4) observed 2/6 = ⅓ (logit −ln 2); risk 0.5 (logit 0) observed 2/4 = ½.
        // Saturated fit: a′ + b·0 = 0 and a′ − b·ln 4 = −ln 2 → a′ = 0, b = ½ (risks too extreme).
        let fit = recalibrate(&ranked(&[level(0.2, 6, 2), level(0.5, 4, 2)]));
        assert!((fit.slope.expect("slope") - 0.5).abs() < 1e-12);
        assert!(fit.slope_fit_intercept.expect("a′").abs() < 1e-12);
    }

    #[test]
    fn intercept_of_a_known_closed_form() {
        // Risks ⅓ (logit −ln 2) ×2 and ⅔ (logit ln 2) ×5, 5 events in all.
        // At a = ln 2: σ(0) = ½ and σ(ln 4) = 0.8, so Σ σ(a + l) = 2·½ + 5·0.8 = 5 = Σ y:
        // the score is zero and a = ln 2 (risks too low by a factor 2 in odds).
        let fit = recalibrate(&ranked(&[level(1.0 / 3.0, 2, 1), level(2.0 / 3.0, 5, 4)]));
        assert!((fit.intercept.expect("intercept") - 2f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn a_single_risk_level_has_an_intercept_but_no_slope() {
        // Everyone at 0.2, half have the outcome: a = logit(½) − logit(0.2) = ln 4.
        let fit = recalibrate(&ranked(&[level(0.2, 10, 5)]));
        assert!((fit.intercept.expect("intercept") - 4f64.ln()).abs() < 1e-12);
        assert_eq!(fit.slope, None);
    }

    #[test]
    fn no_estimate_without_both_classes_or_with_separation() {
        let none = Recalibration {
            intercept: None,
            slope: None,
            slope_fit_intercept: None,
        };
        assert_eq!(recalibrate(&ranked(&[])), none);
        assert_eq!(
            recalibrate(&ranked(&[level(0.3, 5, 0), level(0.6, 5, 0)])),
            none
        );
        // Complete separation: every event above every non-event → b = +∞.
        let fit = recalibrate(&ranked(&[level(0.2, 5, 0), level(0.6, 5, 5)]));
        assert_eq!(fit.slope, None);
        assert!(fit.intercept.is_some());
        // Quasi-complete: the classes share only the risk 0.4.
        let fit = recalibrate(&ranked(&[
            level(0.2, 5, 0),
            level(0.4, 4, 2),
            level(0.6, 5, 5),
        ]));
        assert_eq!(fit.slope, None);
    }

    #[test]
    fn risks_of_zero_and_one_stay_finite() {
        let fit = recalibrate(&ranked(&[
            level(0.0, 10, 1),
            level(1.0, 10, 9),
            level(0.5, 10, 5),
        ]));
        // Symmetric about ½, so a′ = 0 and the score for b vanishes when
        // σ(b·L) = 0.9 with L = logit(1 − ε): b = logit(0.9)/L = ln 9 / 27.63.
        let b = fit.slope.expect("slope");
        assert!((b - 9f64.ln() / logit(1.0)).abs() < 1e-6, "{b}");
        assert!(fit.intercept.expect("intercept").is_finite());
    }

    #[test]
    fn deciles_of_one_hundred_rows() {
        // Risk (i + ½)/100 for i = 0…99; decile d holds i = 10(d−1) … 10d − 1, and
        // its first d − 1 people (by i mod 10) have the outcome.
        // Mean risk in decile d: (10(d−1) + 4.5 + ½)/100 = (d − 1)/10 + 0.05; observed (d − 1)/10.
        let (risk, outcome): (Vec<f64>, Vec<bool>) = (0..100)
            .rev()
            .map(|i| ((i as f64 + 0.5) / 100.0, i % 10 < i / 10))
            .unzip();
        let rows = calibration_by_decile(&Ranked::new(&risk, &outcome));
        assert_eq!(rows.len(), 10);
        for (k, row) in rows.iter().enumerate() {
            let d = k as f64;
            assert_eq!(
                (row.decile as usize, row.n, row.events),
                (k + 1, Some(10), Some(k as u64))
            );
            assert!((row.mean_risk.expect("mean") - (d / 10.0 + 0.05)).abs() < 1e-12);
            assert_eq!(row.observed, Some(d / 10.0));
            let (lo, hi) = wilson_interval(k as u64, 10, Z_95).expect("n");
            assert_eq!(
                (row.observed_lower, row.observed_upper),
                (Some(lo), Some(hi))
            );
        }
        // Decile 1 has no events: Wilson 0 – 0.2775.
        assert_eq!(rows[0].observed_lower, Some(0.0));
        assert!((rows[0].observed_upper.expect("upper") - 0.2775).abs() < 5e-5);
    }

    #[test]
    fn tied_risks_share_the_higher_decile() {
        // 20 people: 0.01 … 0.17 (17 distinct) then three at 0.9.
        // Ascending ranks 18–20 tie; their highest rank 20 → decile ⌈10·20/20⌉ = 10.
        // Ranks 17 → ⌈8.5⌉ = 9 and 18 is not used by anyone else: decile 9 has one person.
        let mut risk: Vec<f64> = (1..=17).map(|i| i as f64 / 100.0).collect();
        risk.extend([0.9; 3]);
        let outcome = vec![false; 20];
        let rows = calibration_by_decile(&Ranked::new(&risk, &outcome));
        let sizes: Vec<(u8, u64)> = rows
            .iter()
            .map(|r| (r.decile, r.n.expect("exact")))
            .collect();
        assert_eq!(
            sizes,
            [
                (1, 2),
                (2, 2),
                (3, 2),
                (4, 2),
                (5, 2),
                (6, 2),
                (7, 2),
                (8, 2),
                (9, 1),
                (10, 3)
            ]
        );
        assert!(calibration_by_decile(&Ranked::new(&[], &[])).is_empty());
    }
}
