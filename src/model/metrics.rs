//! Discrimination and accuracy metrics.

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
}
