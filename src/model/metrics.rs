//! Discrimination and accuracy metrics on (risk, outcome) pairs.
//!
//! The evaluation functions take a [`Ranked`] view: the rows sorted into a
//! canonical order (risk descending, then people with the outcome first).
//! Rows that compare equal in that order are interchangeable, so every sum
//! runs in the same order whatever the input order, and results are
//! bit-identical under any permutation of the rows. Sorting once also lets
//! AUC, average precision, top-share and decile tables share the work.
//!
//! Ties in risk are handled in *blocks* of equal risk: AUC counts a tied
//! (outcome, no outcome) pair as one half; average precision and top-share
//! cuts take a tied block whole, never splitting people with equal risk.

pub use super::schema::{AucEstimate, TopShare};

/// Φ⁻¹(0.975): the normal quantile for a two-sided 95% interval.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// Rows sorted canonically: risk descending, then outcome `true` first.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    risk: Vec<f64>,
    outcome: Vec<bool>,
}

/// A run of rows with equal risk, `start..end` in canonical order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Block {
    pub start: usize,
    pub end: usize,
    pub risk: f64,
    /// People in the block with the outcome.
    pub events: u64,
}

impl Block {
    /// People in the block (never 0 for a block from [`Ranked::blocks`]).
    pub fn len(&self) -> u64 {
        (self.end - self.start) as u64
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// People in the block without the outcome.
    pub fn non_events(&self) -> u64 {
        self.len() - self.events
    }
}

impl Ranked {
    /// Sorts `(risk, outcome)` pairs canonically. Pairs beyond the shorter
    /// slice are ignored (callers check lengths). `-0.0` is stored as `0.0`
    /// so it ties with `0.0`. Risks should be finite (callers validate).
    pub fn new(risk: &[f64], outcome: &[bool]) -> Ranked {
        let mut pairs: Vec<(f64, bool)> = risk
            .iter()
            .zip(outcome)
            .map(|(&r, &y)| (r + 0.0, y))
            .collect();
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
        Ranked {
            risk: pairs.iter().map(|p| p.0).collect(),
            outcome: pairs.iter().map(|p| p.1).collect(),
        }
    }

    /// Risks in canonical order (descending).
    pub fn risks(&self) -> &[f64] {
        &self.risk
    }

    /// Outcomes in canonical order.
    pub fn outcomes(&self) -> &[bool] {
        &self.outcome
    }

    pub fn len(&self) -> usize {
        self.risk.len()
    }

    pub fn is_empty(&self) -> bool {
        self.risk.is_empty()
    }

    /// People with the outcome.
    pub fn events(&self) -> u64 {
        self.outcome.iter().filter(|&&y| y).count() as u64
    }

    /// The blocks of equal risk, highest risk first.
    pub fn blocks(&self) -> Vec<Block> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < self.risk.len() {
            let risk = self.risk[start];
            let mut end = start;
            let mut events = 0;
            while end < self.risk.len() && self.risk[end] == risk {
                events += u64::from(self.outcome[end]);
                end += 1;
            }
            out.push(Block {
                start,
                end,
                risk,
                events,
            });
            start = end;
        }
        out
    }
}

/// AUC with DeLong's variance (DeLong, DeLong & Clarke-Pearson 1988), in the
/// O(n log n) midrank form of Sun & Xu (2014).
///
/// With m people with the outcome (risks X) and n without (risks Y) and
/// ψ(x, y) = 1 if x > y, ½ if x = y, 0 otherwise, the structural components are
/// V10(Xᵢ) = (1/n)·Σⱼ ψ(Xᵢ, Yⱼ) and V01(Yⱼ) = (1/m)·Σᵢ ψ(Xᵢ, Yⱼ); AUC is the
/// mean of either. Sun & Xu write V10(Xᵢ) = (Rᵢ − Rᵢˣ)/n with Rᵢ the midrank
/// of Xᵢ among all risks and Rᵢˣ its midrank among X; that difference is the
/// number of Y below Xᵢ plus half the Y tied with it, which is what this
/// computes block by block in canonical order. Then
/// S10 = Σᵢ (V10ᵢ − AUC)²/(m − 1), S01 = Σⱼ (V01ⱼ − AUC)²/(n − 1) and
/// Var(AUC) = S10/m + S01/n.
///
/// `None` when either class is empty.
pub fn auc_delong(ranked: &Ranked) -> Option<AucEstimate> {
    let blocks = ranked.blocks();
    let m = blocks.iter().map(|b| b.events).sum::<u64>();
    let n = ranked.len() as u64 - m;
    if m == 0 || n == 0 {
        return None;
    }
    let (mf, nf) = (m as f64, n as f64);
    // (count, component) per block for each class.
    let mut v10 = Vec::with_capacity(blocks.len());
    let mut v01 = Vec::with_capacity(blocks.len());
    let (mut events_above, mut non_events_down_to_here) = (0u64, 0u64);
    for b in &blocks {
        non_events_down_to_here += b.non_events();
        let non_events_below = n - non_events_down_to_here;
        v10.push((
            b.events,
            (non_events_below as f64 + 0.5 * b.non_events() as f64) / nf,
        ));
        v01.push((
            b.non_events(),
            (events_above as f64 + 0.5 * b.events as f64) / mf,
        ));
        events_above += b.events;
    }
    let auc = v10.iter().map(|&(c, v)| c as f64 * v).sum::<f64>() / mf;
    let spread = |parts: &[(u64, f64)], count: f64| -> Option<f64> {
        (count >= 2.0).then(|| {
            parts
                .iter()
                .map(|&(c, v)| c as f64 * (v - auc).powi(2))
                .sum::<f64>()
                / (count - 1.0)
        })
    };
    let se = match (spread(&v10, mf), spread(&v01, nf)) {
        (Some(s10), Some(s01)) => Some((s10 / mf + s01 / nf).sqrt()),
        _ => None,
    };
    Some(AucEstimate {
        auc,
        se,
        lower: se.map(|s| (auc - Z_95 * s).clamp(0.0, 1.0)),
        upper: se.map(|s| (auc + Z_95 * s).clamp(0.0, 1.0)),
    })
}

/// Area under the precision–recall curve as average precision, exactly as
/// scikit-learn's `average_precision_score`: AP = Σₖ (Rₖ − Rₖ₋₁)·Pₖ over the
/// distinct risk thresholds from highest to lowest, where Pₖ and Rₖ are the
/// precision and recall of flagging everyone with risk ≥ threshold k. A tied
/// block enters at one threshold (no interpolation, no splitting of ties).
/// `None` when nobody has the outcome.
pub fn average_precision(ranked: &Ranked) -> Option<f64> {
    let events = ranked.events();
    if events == 0 {
        return None;
    }
    let (mut ap, mut true_positives, mut recall_before) = (0.0, 0u64, 0.0);
    for b in ranked.blocks() {
        true_positives += b.events;
        let recall = true_positives as f64 / events as f64;
        let precision = true_positives as f64 / b.end as f64;
        ap += (recall - recall_before) * precision;
        recall_before = recall;
    }
    Some(ap)
}

/// Flags the top `share` of risk with the rule of `cohort::tiers`: the cut-off
/// is the risk of the ⌈share·n⌉-th highest person and everyone at or above it
/// is flagged, so people with equal risk are never split (the result does not
/// depend on row order, and describes the list a tier actually produces).
pub fn top_share(ranked: &Ranked, share: f64) -> TopShare {
    let n = ranked.len();
    // The same tolerance as `cohort::tiers`, so 0.05 × 1000 is 50, not 51.
    let target = ((share * n as f64 - 1e-9).ceil().max(0.0) as usize).min(n);
    let events = ranked.events();
    let (flagged, threshold) = if target == 0 {
        (0, None)
    } else {
        let cut = ranked.risk[target - 1];
        let flagged = target
            + ranked.risk[target..]
                .iter()
                .take_while(|&&r| r == cut)
                .count();
        (flagged, Some(cut))
    };
    let true_positives = ranked.outcome[..flagged].iter().filter(|&&y| y).count() as u64;
    TopShare {
        share,
        target: Some(target as u64),
        flagged: Some(flagged as u64),
        threshold,
        true_positives: Some(true_positives),
        ppv: (flagged > 0).then(|| true_positives as f64 / flagged as f64),
        sensitivity: (events > 0).then(|| true_positives as f64 / events as f64),
    }
}

/// Wilson score interval for a proportion `successes / n` (Wilson 1927;
/// recommended over the Wald interval by Brown, Cai & DasGupta 2001):
/// centre (p̂ + z²/2n)/(1 + z²/n), half-width z/(1 + z²/n)·√(p̂(1−p̂)/n + z²/4n²).
/// `None` when `n` is 0.
pub fn wilson_interval(successes: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (x, n) = (successes.min(n) as f64, n as f64);
    let p = x / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At 0 or n successes the bound is exactly 0 or 1; the subtraction can
    // leave a rounding error of 1e-18 above an observed rate of 0.
    let lower = if x == 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let upper = if x == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Some((lower, upper))
}

/// Brier score of ranked rows: mean of (risk − outcome)², summed in
/// canonical order. `None` when there are no rows.
pub fn brier_ranked(ranked: &Ranked) -> Option<f64> {
    if ranked.is_empty() {
        return None;
    }
    let total: f64 = ranked
        .risk
        .iter()
        .zip(&ranked.outcome)
        .map(|(p, &y)| (p - f64::from(u8::from(y))).powi(2))
        .sum();
    Some(total / ranked.len() as f64)
}

/// Mean risk of ranked rows, summed in canonical order. `None` when empty.
pub fn mean_risk(ranked: &Ranked) -> Option<f64> {
    (!ranked.is_empty()).then(|| ranked.risk.iter().sum::<f64>() / ranked.len() as f64)
}

/// Area under the ROC curve: the probability that a random person with the
/// outcome scores above a random person without it (ties count one half).
/// Computed from ranks (Mann–Whitney U) with average ranks for ties.
/// `None` when either class is empty.
pub fn auc(scores: &[f64], outcomes: &[bool]) -> Option<f64> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let positives = outcomes.iter().filter(|&&y| y).count() as f64;
    let negatives = outcomes.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return None;
    }
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let average_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += order[i..=j].iter().filter(|&&k| outcomes[k]).count() as f64 * average_rank;
        i = j + 1;
    }
    Some((rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives))
}

/// Mean squared difference between risk and outcome.
pub fn brier(scores: &[f64], outcomes: &[bool]) -> f64 {
    if scores.is_empty() {
        return f64::NAN;
    }
    let total: f64 = scores
        .iter()
        .zip(outcomes)
        .map(|(p, &y)| (p - f64::from(u8::from(y))).powi(2))
        .sum();
    total / scores.len() as f64
}

/// Mean negative log-likelihood, with risks clipped away from 0 and 1.
pub fn log_loss(scores: &[f64], outcomes: &[bool]) -> f64 {
    let total: f64 = scores
        .iter()
        .zip(outcomes)
        .map(|(p, &y)| {
            let p = p.clamp(1e-15, 1.0 - 1e-15);
            if y { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    total / scores.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_correctly_ordered_pairs() {
        // Positives 0.8, 0.4; negatives 0.6, 0.2: pairs (0.8>0.6)(0.8>0.2)(0.4<0.6)(0.4>0.2) = 3/4.
        assert_eq!(
            auc(&[0.8, 0.4, 0.6, 0.2], &[true, true, false, false]),
            Some(0.75)
        );
    }

    #[test]
    fn auc_counts_ties_as_half() {
        assert_eq!(auc(&[0.5, 0.5], &[true, false]), Some(0.5));
        // Positive 0.5 vs negatives 0.5 (tie, ½) and 0.1 (win, 1) = 1.5/2.
        assert_eq!(auc(&[0.5, 0.5, 0.1], &[true, false, false]), Some(0.75));
    }

    #[test]
    fn auc_needs_both_classes() {
        assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
    }

    #[test]
    fn brier_of_hand_example() {
        // (0.9−1)² + (0.2−0)² = 0.01 + 0.04 = 0.05 → mean 0.025.
        assert!((brier(&[0.9, 0.2], &[true, false]) - 0.025).abs() < 1e-12);
    }

    fn ranked(risk: &[f64], outcome: &[bool]) -> Ranked {
        Ranked::new(risk, outcome)
    }

    /// DeLong by definition: O(m·n) pairwise structural components.
    fn delong_by_pairs(risk: &[f64], outcome: &[bool]) -> Option<(f64, f64)> {
        let x: Vec<f64> = (0..risk.len())
            .filter(|&i| outcome[i])
            .map(|i| risk[i])
            .collect();
        let y: Vec<f64> = (0..risk.len())
            .filter(|&i| !outcome[i])
            .map(|i| risk[i])
            .collect();
        let (m, n) = (x.len() as f64, y.len() as f64);
        if x.len() < 2 || y.len() < 2 {
            return None;
        }
        let psi = |a: f64, b: f64| {
            if a > b {
                1.0
            } else if a == b {
                0.5
            } else {
                0.0
            }
        };
        let v10: Vec<f64> = x
            .iter()
            .map(|&a| y.iter().map(|&b| psi(a, b)).sum::<f64>() / n)
            .collect();
        let v01: Vec<f64> = y
            .iter()
            .map(|&b| x.iter().map(|&a| psi(a, b)).sum::<f64>() / m)
            .collect();
        let auc = v10.iter().sum::<f64>() / m;
        let s10 = v10.iter().map(|v| (v - auc).powi(2)).sum::<f64>() / (m - 1.0);
        let s01 = v01.iter().map(|v| (v - auc).powi(2)).sum::<f64>() / (n - 1.0);
        Some((auc, s10 / m + s01 / n))
    }

    #[test]
    fn delong_variance_of_two_plus_two_by_hand() {
        // Events 0.8, 0.4; non-events 0.6, 0.2.
        // V10: 0.8 beats both → 1; 0.4 beats 0.2 only → ½.  AUC = ¾.
        // V01: 0.6 is below 0.8 only → ½; 0.2 is below both → 1.
        // S10 = ((1−¾)² + (½−¾)²)/1 = ⅛;  S01 = ((½−¾)² + (1−¾)²)/1 = ⅛.
        // Var = ⅛/2 + ⅛/2 = ⅛.
        let e = auc_delong(&ranked(&[0.8, 0.4, 0.6, 0.2], &[true, true, false, false]))
            .expect("both classes");
        assert_eq!(e.auc, 0.75);
        let se = e.se.expect("two per class");
        assert!((se * se - 0.125).abs() < 1e-15);
        assert!((e.lower.expect("ci") - (0.75 - Z_95 * 0.125f64.sqrt())).abs() < 1e-15);
        assert_eq!(e.upper, Some(1.0), "clipped at 1");
    }

    #[test]
    fn delong_variance_of_three_plus_three_with_a_tie_by_hand() {
        // Events 0.9, 0.7, 0.5; non-events 0.7, 0.3, 0.1 (0.7 is tied across classes).
        // V10: 0.9 → 3/3 = 1; 0.7 → (2 below + ½ tie)/3 = 5/6; 0.5 → 2/3.   AUC = 5/6.
        // V01: 0.7 → (1 above + ½ tie)/3 = ½; 0.3 → 1; 0.1 → 1.          mean = 5/6.
        // S10 = ((1/6)² + 0 + (1/6)²)/2 = 1/36.
        // S01 = ((1/3)² + (1/6)² + (1/6)²)/2 = (4 + 1 + 1)/36/2 = 1/12.
        // Var = (1/36)/3 + (1/12)/3 = 1/108 + 3/108 = 1/27;  SE = 0.19245.
        let risk = [0.1, 0.7, 0.9, 0.3, 0.5, 0.7];
        let outcome = [false, true, true, false, true, false];
        let e = auc_delong(&ranked(&risk, &outcome)).expect("both classes");
        assert!((e.auc - 5.0 / 6.0).abs() < 1e-15);
        let se = e.se.expect("three per class");
        assert!((se * se - 1.0 / 27.0).abs() < 1e-15, "{}", se * se);
        assert_eq!(auc(&risk, &outcome), Some(e.auc));
    }

    #[test]
    fn delong_without_variance_for_a_single_event() {
        let e = auc_delong(&ranked(&[0.9, 0.1, 0.2], &[true, false, false])).expect("auc");
        assert_eq!(e.auc, 1.0);
        assert_eq!((e.se, e.lower, e.upper), (None, None, None));
        assert_eq!(auc_delong(&ranked(&[], &[])), None);
        assert_eq!(auc_delong(&ranked(&[0.3, 0.4], &[false, false])), None);
    }

    #[test]
    fn average_precision_of_the_scikit_learn_example() {
        // sklearn docs: average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.8333…
        // Descending: 0.8 (event) P = 1, R = ½; 0.4 (none) P = ½, R = ½;
        // 0.35 (event) P = ⅔, R = 1; 0.1 (none) R unchanged.  AP = ½·1 + ½·⅔ = ⅚.
        let ap = average_precision(&ranked(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]));
        assert!((ap.expect("events") - 5.0 / 6.0).abs() < 1e-15);
    }

    #[test]
    fn average_precision_takes_a_tied_block_at_one_threshold() {
        // 0.9 (event): P = 1, R = ½.  0.7 block {event, none}: P = 2/3, R = 1.  0.2 (none).
        // AP = ½·1 + ½·⅔ = ⅚ — not ½·1 + ½·1 as an event-first tie break would give.
        let ap = average_precision(&ranked(&[0.7, 0.9, 0.2, 0.7], &[false, true, false, true]));
        assert!((ap.expect("events") - 5.0 / 6.0).abs() < 1e-15);
        // Everyone tied: one threshold, P = prevalence.
        let flat = average_precision(&ranked(&[0.5; 4], &[true, false, false, false]));
        assert_eq!(flat, Some(0.25));
        assert_eq!(average_precision(&ranked(&[0.5], &[false])), None);
    }

    /// 20 rows, written out of order. By risk, descending:
    /// 0.90 E, 0.80 -, 0.70 E, 0.60 E, 0.60 -, 0.50 E, then 0.40 … 0.27 with one event at 0.30.
    fn twenty_rows() -> (Vec<f64>, Vec<bool>) {
        let mut rows = vec![
            (0.60, false),
            (0.90, true),
            (0.50, true),
            (0.80, false),
            (0.60, true),
            (0.70, true),
        ];
        for k in 0..14 {
            let r = 0.40 - 0.01 * k as f64;
            rows.push((r, k == 10)); // 0.30 has the outcome
        }
        rows.reverse();
        rows.into_iter().unzip()
    }

    #[test]
    fn wilson_bounds_are_exactly_0_and_1_at_the_ends() {
        // 0 of 85: centre − half is 0 in exact arithmetic (p = 0), but not in floating point.
        assert_eq!(wilson_interval(0, 85, Z_95).map(|i| i.0), Some(0.0));
        assert_eq!(wilson_interval(85, 85, Z_95).map(|i| i.1), Some(1.0));
    }

    #[test]
    fn top_share_on_twenty_hand_written_rows() {
        let (risk, outcome) = twenty_rows();
        let r = ranked(&risk, &outcome);
        assert_eq!(r.events(), 5);
        // 0.5% of 20 = 0.1 → target 1: only 0.90 (event). PPV 1, sensitivity 1/5.
        let t = top_share(&r, 0.005);
        assert_eq!(
            (t.target, t.flagged, t.true_positives),
            (Some(1), Some(1), Some(1))
        );
        assert_eq!(
            (t.threshold, t.ppv, t.sensitivity),
            (Some(0.9), Some(1.0), Some(0.2))
        );
        // 5% of 20 = 1 exactly (not 2): the same person.
        let t = top_share(&r, 0.05);
        assert_eq!((t.target, t.flagged), (Some(1), Some(1)));
        // 10% → 2: 0.90 E, 0.80 −. PPV ½.
        let t = top_share(&r, 0.10);
        assert_eq!(
            (t.flagged, t.true_positives, t.ppv),
            (Some(2), Some(1), Some(0.5))
        );
        // 20% → target 4, the 4th risk is 0.60, tied with the 5th: both flagged.
        // Flagged: 0.90 E, 0.80 −, 0.70 E, 0.60 E, 0.60 − → 3 events of 5: PPV 3/5, sens 3/5.
        let t = top_share(&r, 0.20);
        assert_eq!(
            (t.target, t.flagged, t.true_positives),
            (Some(4), Some(5), Some(3))
        );
        assert_eq!(
            (t.threshold, t.ppv, t.sensitivity),
            (Some(0.6), Some(0.6), Some(0.6))
        );
        // 30% → 6: adds 0.50 E → 4 of 6.
        let t = top_share(&r, 0.30);
        assert_eq!((t.flagged, t.true_positives), (Some(6), Some(4)));
        // Everyone: PPV = prevalence, sensitivity 1. Nobody: no PPV.
        let t = top_share(&r, 1.0);
        assert_eq!(
            (t.flagged, t.ppv, t.sensitivity),
            (Some(20), Some(0.25), Some(1.0))
        );
        let t = top_share(&r, 0.0);
        assert_eq!(
            (t.target, t.flagged, t.threshold, t.ppv),
            (Some(0), Some(0), None, None)
        );
    }

    #[test]
    fn top_share_of_nobody() {
        let t = top_share(&ranked(&[], &[]), 0.05);
        assert_eq!(
            (t.target, t.flagged, t.ppv, t.sensitivity),
            (Some(0), Some(0), None, None)
        );
    }

    #[test]
    fn wilson_interval_matches_published_values() {
        // 0/10: lower 0, upper z²/10 / (1 + z²/10) = 0.2775 (Brown, Cai & DasGupta 2001).
        let (lo, hi) = wilson_interval(0, 10, Z_95).expect("n > 0");
        let z2 = Z_95 * Z_95;
        assert_eq!(lo, 0.0);
        assert!((hi - (z2 / 10.0) / (1.0 + z2 / 10.0)).abs() < 1e-15);
        assert!((hi - 0.2775).abs() < 5e-5);
        // 5/10: symmetric about ½, 0.2366–0.7634.
        let (lo, hi) = wilson_interval(5, 10, Z_95).expect("n > 0");
        assert!(
            (lo - 0.2366).abs() < 5e-5 && (hi - 0.7634).abs() < 5e-5,
            "{lo} {hi}"
        );
        assert!((lo + hi - 1.0).abs() < 1e-15);
        assert_eq!(wilson_interval(0, 0, Z_95), None);
    }

    #[test]
    fn ranked_rows_are_canonical() {
        let a = ranked(&[0.2, -0.0, 0.2, 0.0], &[false, true, true, false]);
        assert_eq!(a.risks(), &[0.2, 0.2, 0.0, 0.0]);
        assert_eq!(a.outcomes(), &[true, false, true, false]);
        assert_eq!(a.blocks().len(), 2);
    }

    mod properties {
        use super::super::*;
        use super::delong_by_pairs;
        use proptest::prelude::*;

        /// Risks on a grid of 1/64 (many ties; 1 − r exact), with outcomes.
        fn rows() -> impl Strategy<Value = Vec<(f64, bool)>> {
            prop::collection::vec(
                ((0u32..=64).prop_map(|k| f64::from(k) / 64.0), any::<bool>()),
                0..80,
            )
        }

        proptest! {
            #[test]
            fn auc_and_its_interval_lie_in_the_unit_interval(rows in rows()) {
                let (risk, outcome): (Vec<f64>, Vec<bool>) = rows.into_iter().unzip();
                if let Some(e) = auc_delong(&Ranked::new(&risk, &outcome)) {
                    prop_assert!((0.0..=1.0).contains(&e.auc));
                    if let (Some(lo), Some(hi)) = (e.lower, e.upper) {
                        prop_assert!(0.0 <= lo && lo <= e.auc && e.auc <= hi && hi <= 1.0);
                    }
                }
            }

            #[test]
            fn reversing_risk_reverses_auc(rows in rows()) {
                let (risk, outcome): (Vec<f64>, Vec<bool>) = rows.into_iter().unzip();
                let flipped: Vec<f64> = risk.iter().map(|r| 1.0 - r).collect();
                let a = auc_delong(&Ranked::new(&risk, &outcome));
                let b = auc_delong(&Ranked::new(&flipped, &outcome));
                match (a, b) {
                    (Some(a), Some(b)) => {
                        prop_assert!((a.auc + b.auc - 1.0).abs() < 1e-12);
                        prop_assert_eq!(a.se.is_some(), b.se.is_some());
                        if let (Some(x), Some(y)) = (a.se, b.se) {
                            prop_assert!((x - y).abs() < 1e-12);
                        }
                    }
                    (None, None) => {}
                    other => prop_assert!(false, "{:?}", other),
                }
            }

            #[test]
            fn fast_delong_equals_the_pairwise_definition(rows in rows()) {
                let (risk, outcome): (Vec<f64>, Vec<bool>) = rows.into_iter().unzip();
                let fast = auc_delong(&Ranked::new(&risk, &outcome));
                match (fast.and_then(|e| e.se.map(|s| (e.auc, s * s))), delong_by_pairs(&risk, &outcome)) {
                    (Some((a, v)), Some((b, w))) => {
                        prop_assert!((a - b).abs() < 1e-12);
                        prop_assert!((v - w).abs() < 1e-12);
                    }
                    (None, None) => {}
                    other => prop_assert!(false, "{:?}", other),
                }
            }

            #[test]
            fn delong_auc_equals_mann_whitney(rows in rows()) {
                let (risk, outcome): (Vec<f64>, Vec<bool>) = rows.into_iter().unzip();
                let a = auc_delong(&Ranked::new(&risk, &outcome)).map(|e| e.auc);
                let b = auc(&risk, &outcome);
                prop_assert_eq!(a.is_some(), b.is_some());
                if let (Some(a), Some(b)) = (a, b) {
                    prop_assert!((a - b).abs() < 1e-12);
                }
            }
        }
    }
}
