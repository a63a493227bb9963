//! The statistics of `strata impact`, on plain numbers: rates with
//! intervals, the crude rate ratio, the ratio of standardised admission
//! ratios with a robust variance, and local linear regression for the
//! regression-discontinuity estimate. docs/impact.md states each method.

/// The 97.5th percentile of the standard normal (95% two-sided intervals),
/// the one the model's metrics use.
pub use crate::model::metrics::Z_95 as Z95;

/// −ln(0.025): the exact upper 95% limit of a Poisson mean when 0 events
/// are seen (the one-sided 97.5% bound, as the two-sided interval uses).
const POISSON_UPPER_AT_ZERO: f64 = 3.688_879_454_113_936;

/// An estimate with its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
}

impl Interval {
    /// `exp(log ± Z95·se)`: an interval for a ratio from its log and the
    /// standard error of the log.
    fn from_log(log: f64, se: f64) -> Interval {
        Interval {
            estimate: log.exp(),
            lower: (log - Z95 * se).exp(),
            upper: (log + Z95 * se).exp(),
        }
    }

    /// `1 − self`: a ratio turned into a relative reduction (the bounds swap).
    pub fn reduction(self) -> Interval {
        Interval {
            estimate: 1.0 - self.estimate,
            lower: 1.0 - self.upper,
            upper: 1.0 - self.lower,
        }
    }

    /// Each figure multiplied by `k` (rates per person-year to per 1,000).
    pub fn scaled(self, k: f64) -> Interval {
        Interval {
            estimate: self.estimate * k,
            lower: self.lower * k,
            upper: self.upper * k,
        }
    }
}

/// A Poisson rate `events / person_years` with the log-normal interval
/// `exp(ln rate ± Z95/√events)`; with no events, 0 to −ln(0.025)/person-years
/// (the exact upper limit). `None` without person-time.
pub fn rate(events: f64, person_years: f64) -> Option<Interval> {
    if person_years <= 0.0 {
        return None;
    }
    if events <= 0.0 {
        return Some(Interval {
            estimate: 0.0,
            lower: 0.0,
            upper: POISSON_UPPER_AT_ZERO / person_years,
        });
    }
    Some(Interval::from_log(
        (events / person_years).ln(),
        1.0 / events.sqrt(),
    ))
}

/// The crude rate ratio of two Poisson rates, with the interval
/// `exp(ln RR ± Z95·√(1/O₁ + 1/O₂))`. `None` when either arm has no events.
pub fn rate_ratio(events_1: f64, years_1: f64, events_2: f64, years_2: f64) -> Option<Interval> {
    if events_1 <= 0.0 || events_2 <= 0.0 || years_1 <= 0.0 || years_2 <= 0.0 {
        return None;
    }
    let log = (events_1 / years_1).ln() - (events_2 / years_2).ln();
    Some(Interval::from_log(
        log,
        (1.0 / events_1 + 1.0 / events_2).sqrt(),
    ))
}

/// A Poisson regression `log E[yᵢ] = log(exposureᵢ) + xᵢ·β`, fitted by
/// maximum likelihood, with the robust (sandwich, HC1) covariance
/// `n/(n−K)·A⁻¹ B A⁻¹`, `A = Σ μᵢ xᵢxᵢ'`, `B = Σ (yᵢ − μᵢ)² xᵢxᵢ'`. The
/// robust covariance, not the model's `A⁻¹`, because admissions cluster in
/// people (one raises the hazard of the next), so counts are overdispersed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoissonFit<const K: usize> {
    pub coefficients: [f64; K],
    pub covariance: [[f64; K]; K],
}

/// The inverse of a symmetric positive-definite matrix by Gauss–Jordan
/// elimination with partial pivoting; `None` when it is singular.
fn invert<const K: usize>(m: [[f64; K]; K]) -> Option<[[f64; K]; K]> {
    let mut a = m;
    let mut inv = [[0.0; K]; K];
    for (i, row) in inv.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    let scale = (0..K).map(|i| m[i][i].abs()).fold(0.0, f64::max);
    for c in 0..K {
        let pivot = (c..K).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[pivot][c].abs() <= 1e-12 * scale.max(f64::MIN_POSITIVE) {
            return None;
        }
        a.swap(c, pivot);
        inv.swap(c, pivot);
        let p = a[c][c];
        for k in 0..K {
            a[c][k] /= p;
            inv[c][k] /= p;
        }
        for r in 0..K {
            if r != c {
                let f = a[r][c];
                for k in 0..K {
                    a[r][k] -= f * a[c][k];
                    inv[r][k] -= f * inv[c][k];
                }
            }
        }
    }
    Some(inv)
}

/// Fits [`PoissonFit`] to `(x, y, exposure)` by Newton–Raphson from the
/// overall rate. `None` with no more points than parameters, no events, a
/// singular design, or no convergence in 100 steps.
pub fn poisson_regression<const K: usize>(
    points: &[([f64; K], f64, f64)],
) -> Option<PoissonFit<K>> {
    let n = points.len();
    let events: f64 = points.iter().map(|p| p.1).sum();
    let exposure: f64 = points.iter().map(|p| p.2).sum();
    if n <= K || events <= 0.0 || exposure <= 0.0 || points.iter().any(|p| p.2 <= 0.0) {
        return None;
    }
    // Start from the overall rate in the first coefficient (the intercept).
    let mut beta = [0.0; K];
    beta[0] = (events / exposure).ln();
    let fitted = |beta: &[f64; K], x: &[f64; K], exposure: f64| {
        exposure * x.iter().zip(beta).map(|(a, b)| a * b).sum::<f64>().exp()
    };
    let information = |beta: &[f64; K]| {
        let mut a = [[0.0; K]; K];
        let mut score = [0.0; K];
        for (x, y, e) in points {
            let mu = fitted(beta, x, *e);
            for i in 0..K {
                score[i] += (y - mu) * x[i];
                for j in 0..K {
                    a[i][j] += mu * x[i] * x[j];
                }
            }
        }
        (a, score)
    };
    for _ in 0..100 {
        let (a, score) = information(&beta);
        let inv = invert(a)?;
        let mut step = [0.0; K];
        for i in 0..K {
            step[i] = (0..K).map(|j| inv[i][j] * score[j]).sum();
            beta[i] += step[i];
        }
        if step.iter().all(|s| s.abs() < 1e-10) {
            let (a, _) = information(&beta);
            let inv = invert(a)?;
            let mut b = [[0.0; K]; K];
            for (x, y, e) in points {
                let u2 = (y - fitted(&beta, x, *e)).powi(2);
                for i in 0..K {
                    for j in 0..K {
                        b[i][j] += u2 * x[i] * x[j];
                    }
                }
            }
            let hc1 = n as f64 / (n - K) as f64;
            let mut covariance = [[0.0; K]; K];
            for i in 0..K {
                for j in 0..K {
                    let mut v = 0.0;
                    for k in 0..K {
                        for l in 0..K {
                            v += inv[i][k] * b[k][l] * inv[l][j];
                        }
                    }
                    covariance[i][j] = hc1 * v;
                }
            }
            return Some(PoissonFit {
                coefficients: beta,
                covariance,
            });
        }
    }
    None
}

/// The rate ratio `exp(β_k)` of coefficient `k` of a fit, with its 95%
/// interval `exp(β_k ± Z95·se)`.
pub fn rate_ratio_of<const K: usize>(fit: &PoissonFit<K>, k: usize) -> Interval {
    Interval::from_log(fit.coefficients[k], fit.covariance[k][k].max(0.0).sqrt())
}

/// A weighted least-squares line `y = a + b·x`: the intercept `a` (the
/// value at x = 0, the cut-off) and its heteroskedasticity-robust (HC1)
/// variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    pub intercept: f64,
    pub slope: f64,
    pub intercept_variance: f64,
}

/// Fits `y = a + b·x` to `(x, y, weight)` by weighted least squares, with
/// the HC1 sandwich variance `n/(n−2)·(X'WX)⁻¹ X'W²diag(u²)X (X'WX)⁻¹` for
/// the intercept. `None` with fewer than 3 points or when all x are equal.
pub fn local_linear(points: &[(f64, f64, f64)]) -> Option<Line> {
    let n = points.len();
    if n < 3 {
        return None;
    }
    let (mut s0, mut s1, mut s2, mut t0, mut t1) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(x, y, w) in points {
        s0 += w;
        s1 += w * x;
        s2 += w * x * x;
        t0 += w * y;
        t1 += w * x * y;
    }
    let det = s0 * s2 - s1 * s1;
    // det = Σw·Σwx² − (Σwx)² ≥ 0, and 0 only when every x is the same.
    if det <= 1e-12 * s0 * s2 || det <= 0.0 {
        return None;
    }
    // (X'WX)⁻¹ = [[s2, −s1], [−s1, s0]] / det.
    let intercept = (s2 * t0 - s1 * t1) / det;
    let slope = (s0 * t1 - s1 * t0) / det;
    let (mut m00, mut m01, mut m11) = (0.0, 0.0, 0.0);
    for &(x, y, w) in points {
        let u = y - intercept - slope * x;
        let k = w * w * u * u;
        m00 += k;
        m01 += k * x;
        m11 += k * x * x;
    }
    // The intercept's row of (X'WX)⁻¹, then row · meat · row'.
    let (r0, r1) = (s2 / det, -s1 / det);
    let hc0 = r0 * r0 * m00 + 2.0 * r0 * r1 * m01 + r1 * r1 * m11;
    let hc1 = hc0 * n as f64 / (n as f64 - 2.0);
    Some(Line {
        intercept,
        slope,
        intercept_variance: hc1,
    })
}

/// The ratio of two intercepts (above the cut-off over below), with the
/// delta-method interval `exp(ln(a₁/a₂) ± Z95·√(v₁/a₁² + v₂/a₂²))`. `None`
/// unless both intercepts are positive.
pub fn intercept_ratio(above: &Line, below: &Line) -> Option<Interval> {
    if above.intercept <= 0.0 || below.intercept <= 0.0 {
        return None;
    }
    let log = above.intercept.ln() - below.intercept.ln();
    let variance = above.intercept_variance / above.intercept.powi(2)
        + below.intercept_variance / below.intercept.powi(2);
    Some(Interval::from_log(log, variance.sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn a_rate_interval_is_log_normal_and_exact_at_zero() {
        // 100 admissions in 400 person-years: 0.25 a year, ln(0.25) ± 1.96/10.
        let r = rate(100.0, 400.0).expect("rate");
        assert!(close(r.estimate, 0.25));
        assert!(close(r.lower, 0.25 * (-0.1959963984540054_f64).exp()));
        assert!(close(r.upper, 0.25 * 0.1959963984540054_f64.exp()));
        // None seen in 10 years: upper −ln(0.025)/10 = 0.36889.
        let zero = rate(0.0, 10.0).expect("rate");
        assert_eq!((zero.estimate, zero.lower), (0.0, 0.0));
        assert!((zero.upper - 0.368_888).abs() < 1e-6);
        assert!(rate(3.0, 0.0).is_none());
    }

    #[test]
    fn the_crude_rate_ratio_uses_both_counts() {
        // 50 in 100 years over 25 in 100 years: RR 2, se √(1/50 + 1/25) = √0.06.
        let rr = rate_ratio(50.0, 100.0, 25.0, 100.0).expect("ratio");
        let se = 0.06_f64.sqrt();
        assert!(close(rr.estimate, 2.0));
        assert!(close(rr.lower, 2.0 * (-Z95 * se).exp()));
        assert!(close(rr.upper, 2.0 * (Z95 * se).exp()));
        assert!(rate_ratio(0.0, 100.0, 25.0, 100.0).is_none());
    }

    #[test]
    fn poisson_regression_on_one_indicator_is_the_ratio_of_two_rates() {
        // Group 0 (x = [1, 0]): 2 and 0 admissions in 1 year each: rate 1.
        // Group 1 (x = [1, 1]): 1, 1, 0, 2 in 1, 1, 0.5, 1.5 years: O = 4,
        // T = 4, rate 1. The fit is saturated: exp(β₀) = 1, exp(β₁) = 1/1.
        // Robust variance of β₁ without the HC1 factor: Σ(y − μ)²/O² in
        // each group: (1² + 1²)/2² = 0.5 and (0 + 0 + 0.5² + 0.5²)/4² =
        // 0.03125, so 0.53125; HC1 multiplies by n/(n − 2) = 6/4.
        let points = [
            ([1.0, 0.0], 2.0, 1.0),
            ([1.0, 0.0], 0.0, 1.0),
            ([1.0, 1.0], 1.0, 1.0),
            ([1.0, 1.0], 1.0, 1.0),
            ([1.0, 1.0], 0.0, 0.5),
            ([1.0, 1.0], 2.0, 1.5),
        ];
        let fit = poisson_regression(&points).expect("fit");
        assert!(fit.coefficients[0].abs() < 1e-9 && fit.coefficients[1].abs() < 1e-9);
        assert!(close(fit.covariance[1][1], 0.53125 * 6.0 / 4.0), "{fit:?}");
        let ratio = rate_ratio_of(&fit, 1);
        let se = (0.53125_f64 * 1.5).sqrt();
        assert!(close(ratio.estimate, 1.0));
        assert!(close(ratio.lower, (-Z95 * se).exp()));
        // As a reduction: 1 − ratio, the bounds swapped.
        let reduction = ratio.reduction();
        assert!(close(reduction.lower, 1.0 - ratio.upper));
    }

    #[test]
    fn poisson_regression_recovers_a_rate_that_follows_the_model_exactly() {
        // log rate = ln 0.2 + 1.0·z + ln 0.7·d: counts set to their expected
        // values (fractions are allowed in the likelihood), so the fit is exact.
        let (a, b, t) = (0.2_f64.ln(), 1.0, 0.7_f64.ln());
        let points: Vec<([f64; 3], f64, f64)> = [
            (-1.0, 0.0),
            (-0.5, 0.0),
            (0.0, 1.0),
            (0.5, 1.0),
            (0.25, 0.0),
        ]
        .iter()
        .map(|&(z, d)| {
            let years = 2.0;
            ([1.0, z, d], years * (a + b * z + t * d).exp(), years)
        })
        .collect();
        let fit = poisson_regression(&points).expect("fit");
        assert!((fit.coefficients[0] - a).abs() < 1e-8);
        assert!((fit.coefficients[1] - b).abs() < 1e-8);
        assert!((rate_ratio_of(&fit, 2).estimate - 0.7).abs() < 1e-8);
        // No events, or fewer points than parameters: no fit.
        assert!(poisson_regression(&[([1.0], 0.0, 1.0), ([1.0], 0.0, 1.0)]).is_none());
        assert!(poisson_regression(&[([1.0, 0.0], 1.0, 1.0), ([1.0, 1.0], 1.0, 1.0)]).is_none());
    }

    #[test]
    fn local_linear_fits_the_line_and_its_robust_intercept_variance() {
        // An exact line y = 1 + 2x: no residuals, no variance.
        let exact =
            local_linear(&[(0.0, 1.0, 1.0), (1.0, 3.0, 1.0), (2.0, 5.0, 1.0)]).expect("fit");
        assert!(close(exact.intercept, 1.0) && close(exact.slope, 2.0));
        assert!(exact.intercept_variance.abs() < 1e-12);
        // (0, 0), (1, 2), (2, 1): x̄ = 1, ȳ = 1, Sxy = 1, Sxx = 2, so b = 0.5,
        // a = 1 − 0.5 = 0.5; residuals −0.5, 1, −0.5. (X'X)⁻¹ = [[5, −3],
        // [−3, 3]]/6; meat Σu²xx' = [[1.5, 1.5], [1.5, 2]]; the intercept's
        // HC0 variance (5/6, −1/2)·meat·(5/6, −1/2)' = 7/24, HC1 ×3/1 = 7/8.
        let fit = local_linear(&[(0.0, 0.0, 1.0), (1.0, 2.0, 1.0), (2.0, 1.0, 1.0)]).expect("fit");
        assert!(close(fit.intercept, 0.5) && close(fit.slope, 0.5));
        assert!(close(fit.intercept_variance, 7.0 / 8.0), "{fit:?}");
        // Weight 2 on a point counts it twice in the fit.
        let weighted =
            local_linear(&[(0.0, 0.0, 2.0), (1.0, 2.0, 1.0), (2.0, 1.0, 1.0)]).expect("fit");
        let doubled = local_linear(&[
            (0.0, 0.0, 1.0),
            (0.0, 0.0, 1.0),
            (1.0, 2.0, 1.0),
            (2.0, 1.0, 1.0),
        ])
        .expect("fit");
        assert!(close(weighted.intercept, doubled.intercept));
        assert!(local_linear(&[(1.0, 0.0, 1.0), (1.0, 2.0, 1.0), (1.0, 1.0, 1.0)]).is_none());
    }

    #[test]
    fn the_intercept_ratio_is_a_delta_method_interval() {
        let above = Line {
            intercept: 0.3,
            slope: 0.0,
            intercept_variance: 0.0009,
        };
        let below = Line {
            intercept: 0.6,
            slope: 0.0,
            intercept_variance: 0.0036,
        };
        // ln(0.5); variance 0.0009/0.09 + 0.0036/0.36 = 0.02.
        let ratio = intercept_ratio(&above, &below).expect("ratio");
        let se = 0.02_f64.sqrt();
        assert!(close(ratio.estimate, 0.5));
        assert!(close(ratio.lower, 0.5 * (-Z95 * se).exp()));
        let zero = Line {
            intercept: 0.0,
            ..above
        };
        assert!(intercept_ratio(&zero, &below).is_none());
    }
}
