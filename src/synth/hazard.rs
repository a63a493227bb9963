//! The emergency-admission hazard: one generative model for the whole
//! history window and for the truth after the as-of date, so the signal a
//! model learns at any index date inside the extract is the one that
//! generates the outcome it is judged on (docs/synthetic-data.md).

use super::catalogue::CONDITIONS;
use super::population::{Person, Sex};

// Parameters of the emergency-admission hazard (per year, log scale).

/// Baseline log-rate, tuned so the all-ages rate is near 110 per 1,000.
pub const B0: f64 = -0.35;
/// Log-rate per unit of eFI (0–1).
pub const FRAILTY: f64 = 2.5;
/// Log-rate per unit of deprivation (−1 least, +1 most deprived).
pub const DEPRIVATION: f64 = 0.3;
pub const MALE: f64 = 0.1;
/// Standard deviation of the unobserved person effect.
pub const SIGMA: f64 = 0.6;
/// Log-rate per emergency admission in the previous 365 days (max 3 count).
pub const PRIOR: f64 = 0.35;
/// Log-rate added in the last 90 days of life (history only).
pub const END_OF_LIFE: f64 = 1.4;
/// Age knots (years) and log-rate multipliers, linearly interpolated.
pub const AGE_KNOTS: [(f64, f64); 10] = [
    (0.0, -1.0),
    (2.0, -1.85),
    (8.0, -3.1),
    (18.0, -2.5),
    (35.0, -2.58),
    (55.0, -2.47),
    (70.0, -2.45),
    (80.0, -2.42),
    (90.0, -2.29),
    (105.0, -2.05),
];

fn age_term(age: f64) -> f64 {
    let k = &AGE_KNOTS;
    if age <= k[0].0 {
        return k[0].1;
    }
    for w in k.windows(2) {
        let ((a0, v0), (a1, v1)) = (w[0], w[1]);
        if age <= a1 {
            return v0 + (v1 - v0) * (age - a0) / (a1 - a0);
        }
    }
    k[k.len() - 1].1
}

/// Log of the emergency-admission rate per year at `day`, given the number
/// of emergency admissions in the 365 days before. The generative model:
/// `log λ = B0 + age(t) + Σ β_c·[condition c diagnosed by t] + FRAILTY·eFI(t)
///  + DEPRIVATION·dep + MALE·[male] + SIGMA·ε − SIGMA²/2 + PRIOR·min(prior, 3)`.
pub fn emergency_log_rate(p: &Person, day: i32, prior: usize) -> f64 {
    let mut lp = B0 + age_term(p.age_at(day));
    for c in &p.conditions {
        if c.onset <= day {
            lp += CONDITIONS[c.condition].admission;
        }
    }
    lp += FRAILTY * p.efi(day);
    lp += DEPRIVATION * p.dep;
    if p.sex == Sex::Male {
        lp += MALE;
    }
    lp += SIGMA * p.noise - SIGMA * SIGMA / 2.0;
    lp += PRIOR * prior.min(3) as f64;
    lp
}

/// The true probability of at least one emergency admission in the 12
/// months after the as-of date: the hazard is held at its as-of value
/// (conditions, frailty, age, prior admissions), so the count is Poisson and
/// `P = 1 − exp(−λ)`. Death after the as-of date is not simulated.
pub fn true_risk(p: &Person, as_of: i32, prior: usize) -> f64 {
    1.0 - (-emergency_log_rate(p, as_of, prior).exp()).exp()
}

/// The risk a model could know from the record: [`true_risk`] averaged over
/// the unobserved person effect ε ~ N(0, 1) instead of using the person's own
/// draw. Its AUC is the reference for what a model fitted to the record can
/// reach; the oracle AUC of [`true_risk`] also counts ε, which no record shows
/// (it is only hinted at by the person's use of services).
pub fn record_risk(p: &Person, as_of: i32, prior: usize) -> f64 {
    let without_noise = emergency_log_rate(p, as_of, prior) - SIGMA * p.noise;
    expected_over_noise(without_noise)
}

/// `E[1 − exp(−exp(lp + SIGMA·ε))]` for ε ~ N(0, 1), by the trapezoid rule on
/// ε ∈ [−6, 6] (step 0.25): the integrand is smooth and the Gaussian tails
/// beyond ±6 weigh under 1e-8, so the error is far below 1e-6.
fn expected_over_noise(lp: f64) -> f64 {
    const STEP: f64 = 0.25;
    const HALF_NODES: i32 = 24;
    let mut total = 0.0;
    let mut weights = 0.0;
    for k in -HALF_NODES..=HALF_NODES {
        let eps = f64::from(k) * STEP;
        let w = (-0.5 * eps * eps).exp();
        total += w * (1.0 - (-(lp + SIGMA * eps).exp()).exp());
        weights += w;
    }
    total / weights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_term_interpolates_between_knots() {
        assert!((age_term(0.0) - AGE_KNOTS[0].1).abs() < 1e-12);
        let (a0, v0) = AGE_KNOTS[5];
        let (a1, v1) = AGE_KNOTS[6];
        let mid = (a0 + a1) / 2.0;
        assert!((age_term(mid) - (v0 + v1) / 2.0).abs() < 1e-12);
        assert!((age_term(200.0) - AGE_KNOTS[9].1).abs() < 1e-12);
    }

    #[test]
    fn expected_over_noise_matches_closed_forms() {
        // With a tiny rate, 1 − exp(−λ) ≈ λ and E[exp(σε)] = exp(σ²/2) (lognormal mean).
        let lp = -12.0_f64;
        let expected = lp.exp() * (SIGMA * SIGMA / 2.0).exp();
        let got = expected_over_noise(lp);
        assert!((got / expected - 1.0).abs() < 1e-4, "{got} vs {expected}");
        // A huge rate makes an admission certain whatever ε.
        assert!((expected_over_noise(8.0) - 1.0).abs() < 1e-9);
        // Averaging over ε lowers the risk of a high-rate person below the
        // risk at ε = 0 (the function is concave there) and raises a low one.
        assert!(expected_over_noise(1.0) < 1.0 - (-(1.0_f64).exp()).exp());
        assert!(expected_over_noise(-3.0) > 1.0 - (-(-3.0_f64).exp()).exp());
    }
}
