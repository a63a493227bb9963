//! ROC and precision–recall curves as short lists of points, for charts.
//!
//! Both functions are pure: slices in, points out, identical whatever the row
//! order (rows are ranked canonically by [`Ranked`], and people with equal
//! risk move together, so a tie is one straight segment of the ROC curve and
//! one point of the PR curve). Long curves are decimated to at most
//! `max_points` points by arc length, always keeping the first and last
//! point, so a chart of a million people stays a few kilobytes.
//!
//! Points are `(x, y)` with x and y in [0, 1]:
//! - ROC: (false-positive rate, true-positive rate), from (0, 0) to (1, 1).
//! - PR: (recall, precision) at each distinct risk threshold, highest risk
//!   first; read as a step function, it is the curve whose area is the
//!   average precision of [`crate::model::metrics::average_precision`].
//!
//! With a single class (no events, or no non-events) a ROC curve is not
//! defined and both functions return an empty list (PR needs events only).

use crate::model::metrics::Ranked;

/// The ROC curve of `risk` against `outcome`, at most `max_points` points
/// (at least 2 are kept when the curve exists). Rows beyond the shorter slice
/// are ignored.
pub fn roc_points(risk: &[f64], outcome: &[bool], max_points: usize) -> Vec<(f64, f64)> {
    roc_of(&Ranked::new(risk, outcome), max_points)
}

/// [`roc_points`] of rows already ranked.
pub fn roc_of(ranked: &Ranked, max_points: usize) -> Vec<(f64, f64)> {
    let positives = ranked.events();
    let negatives = ranked.len() as u64 - positives;
    if positives == 0 || negatives == 0 {
        return Vec::new();
    }
    let (p, n) = (positives as f64, negatives as f64);
    let mut points = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0u64, 0u64);
    for block in ranked.blocks() {
        tp += block.events;
        fp += block.non_events();
        points.push((fp as f64 / n, tp as f64 / p));
    }
    decimate(points, max_points)
}

/// The precision–recall curve of `risk` against `outcome`: one point
/// (recall, precision) per distinct risk, highest risk first, at most
/// `max_points` points. Empty when nobody has the outcome.
pub fn pr_points(risk: &[f64], outcome: &[bool], max_points: usize) -> Vec<(f64, f64)> {
    pr_of(&Ranked::new(risk, outcome), max_points)
}

/// [`pr_points`] of rows already ranked.
pub fn pr_of(ranked: &Ranked, max_points: usize) -> Vec<(f64, f64)> {
    let positives = ranked.events();
    if positives == 0 {
        return Vec::new();
    }
    let mut points = Vec::new();
    let mut tp = 0u64;
    for block in ranked.blocks() {
        tp += block.events;
        points.push((tp as f64 / positives as f64, tp as f64 / block.end as f64));
    }
    decimate(points, max_points)
}

/// Keeps the first and last point and, between them, the first point at or
/// beyond each of `max_points − 1` equal steps of cumulative arc length
/// (|Δx| + |Δy|), so steep and flat stretches are both drawn faithfully.
pub(crate) fn decimate(points: Vec<(f64, f64)>, max_points: usize) -> Vec<(f64, f64)> {
    let max_points = max_points.max(2);
    if points.len() <= max_points {
        return points;
    }
    let step_length = |a: (f64, f64), b: (f64, f64)| (b.0 - a.0).abs() + (b.1 - a.1).abs();
    let total: f64 = points.windows(2).map(|w| step_length(w[0], w[1])).sum();
    let last = points.len() - 1;
    let mut kept = vec![points[0]];
    if total <= 0.0 {
        kept.push(points[last]);
        return kept;
    }
    let step = total / (max_points - 1) as f64;
    let mut travelled = 0.0;
    let mut next = step;
    for i in 1..last {
        travelled += step_length(points[i - 1], points[i]);
        // Leave room for the last point.
        if travelled >= next && kept.len() < max_points - 1 {
            kept.push(points[i]);
            while next <= travelled {
                next += step;
            }
        }
    }
    kept.push(points[last]);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metrics::{auc_delong, average_precision};

    /// Trapezoidal area under a ROC curve.
    fn area(points: &[(f64, f64)]) -> f64 {
        points
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
            .sum()
    }

    #[test]
    fn roc_of_a_hand_worked_example() {
        // Ranked: 0.9 (event), 0.8 (no), 0.7 (event), 0.1 (no). P = 2, N = 2.
        let risk = [0.1, 0.9, 0.7, 0.8];
        let outcome = [false, true, true, false];
        let roc = roc_points(&risk, &outcome, 100);
        assert_eq!(
            roc,
            vec![(0.0, 0.0), (0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]
        );
        assert!((area(&roc) - 0.75).abs() < 1e-12);
    }

    #[test]
    fn ties_are_one_diagonal_segment() {
        let roc = roc_points(&[0.5, 0.5, 0.5, 0.5], &[true, false, true, false], 100);
        assert_eq!(roc, vec![(0.0, 0.0), (1.0, 1.0)]);
        assert_eq!(
            pr_points(&[0.5, 0.5, 0.5, 0.5], &[true, false, true, false], 100),
            vec![(1.0, 0.5)]
        );
    }

    #[test]
    fn pr_of_a_hand_worked_example() {
        let risk = [0.1, 0.9, 0.7, 0.8];
        let outcome = [false, true, true, false];
        // After 0.9: TP 1 of 1 flagged; after 0.8: 1 of 2; 0.7: 2 of 3; 0.1: 2 of 4.
        assert_eq!(
            pr_points(&risk, &outcome, 100),
            vec![(0.5, 1.0), (0.5, 0.5), (1.0, 2.0 / 3.0), (1.0, 0.5)]
        );
    }

    #[test]
    fn single_class_gives_no_roc_and_no_events_gives_no_pr() {
        assert!(roc_points(&[0.1, 0.2], &[false, false], 10).is_empty());
        assert!(roc_points(&[0.1, 0.2], &[true, true], 10).is_empty());
        assert!(pr_points(&[0.1, 0.2], &[false, false], 10).is_empty());
        assert_eq!(pr_points(&[0.1, 0.2], &[true, true], 10).len(), 2);
        assert!(roc_points(&[], &[], 10).is_empty());
    }

    /// 5,000 people with distinct risks and outcomes that follow them.
    fn population() -> (Vec<f64>, Vec<bool>) {
        (0..5000)
            .map(|i| {
                let risk = (i as f64 + 0.5) / 5000.0;
                // A deterministic, well-spread "random" number in [0, 1).
                let u = ((i as u64 * 2_654_435_761) % 10_007) as f64 / 10_007.0;
                (risk, u < risk)
            })
            .unzip()
    }

    #[test]
    fn decimated_curves_keep_their_ends_and_shape() {
        let (risk, outcome) = population();
        let full = roc_points(&risk, &outcome, usize::MAX);
        assert_eq!(full.len(), 5001);
        let short = roc_points(&risk, &outcome, 200);
        assert!(short.len() <= 200 && short.len() > 150, "{}", short.len());
        assert_eq!(short.first(), Some(&(0.0, 0.0)));
        assert_eq!(short.last(), Some(&(1.0, 1.0)));
        assert!(
            short
                .windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1)
        );
        let auc = auc_delong(&Ranked::new(&risk, &outcome)).expect("auc").auc;
        assert!((area(&full) - auc).abs() < 1e-9, "{} {auc}", area(&full));
        assert!((area(&short) - auc).abs() < 0.005, "{} {auc}", area(&short));

        let pr_full = pr_points(&risk, &outcome, usize::MAX);
        let ap = average_precision(&Ranked::new(&risk, &outcome)).expect("ap");
        let step_area: f64 = std::iter::once((0.0, 0.0))
            .chain(pr_full.iter().copied())
            .collect::<Vec<_>>()
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * w[1].1)
            .sum();
        assert!((step_area - ap).abs() < 1e-9);
        let pr = pr_points(&risk, &outcome, 50);
        assert!(pr.len() <= 50);
        assert_eq!(pr.last(), pr_full.last());
    }

    #[test]
    fn curves_do_not_depend_on_row_order() {
        let (risk, outcome) = population();
        let mut rows: Vec<(f64, bool)> =
            risk.iter().copied().zip(outcome.iter().copied()).collect();
        rows.reverse();
        rows.rotate_left(1234);
        let (r2, o2): (Vec<f64>, Vec<bool>) = rows.into_iter().unzip();
        assert_eq!(roc_points(&risk, &outcome, 100), roc_points(&r2, &o2, 100));
        assert_eq!(pr_points(&risk, &outcome, 100), pr_points(&r2, &o2, 100));
    }
}
