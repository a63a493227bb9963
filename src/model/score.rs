//! Parallel scoring of a logistic model.
//!
//! Each row's risk depends only on that row, computed in a fixed order of
//! terms, so results are bit-identical whatever the thread count or row order.

use rayon::prelude::*;

use super::design::DesignMatrix;
use super::schema::ModelFile;

/// Rows per parallel task: big enough to amortise scheduling, small enough to balance two cores.
const CHUNK: usize = 16 * 1024;

/// Risks are clipped to [ε, 1 − ε] before the logit (logit(1e-12) ≈ −27.6).
pub const RISK_EPSILON: f64 = 1e-12;

/// ln(p / (1 − p)) with p clipped to [ε, 1 − ε]: the inverse of [`sigmoid`].
/// The one definition: calibration and the drift bins both use it.
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(RISK_EPSILON, 1.0 - RISK_EPSILON);
    (p / (1.0 - p)).ln()
}

/// The logistic function, written to stay accurate for large |z|.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Risk (probability of the outcome) for every row of a standardised design matrix.
pub fn score(model: &ModelFile, x: &DesignMatrix) -> Vec<f64> {
    let coefficients: Vec<f64> = model.terms.iter().map(|t| t.coefficient).collect();
    linear_risk(model.intercept, &coefficients, x)
}

/// σ(intercept + Σ coefficient_j · x_ij) for each row i, in parallel over row chunks.
pub fn linear_risk(intercept: f64, coefficients: &[f64], x: &DesignMatrix) -> Vec<f64> {
    let mut out = vec![0.0; x.rows];
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(chunk, slot)| {
            let start = chunk * CHUNK;
            // Term by term over the chunk (contiguous reads); each row's sum is
            // still taken in term order, so the result is the same as row by row.
            let rows = start..start + slot.len();
            slot.fill(intercept);
            for (w, column) in coefficients.iter().zip(&x.columns) {
                for (z, v) in slot.iter_mut().zip(&column[rows.clone()]) {
                    *z += w * v;
                }
            }
            for z in slot.iter_mut() {
                *z = sigmoid(*z);
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_is_symmetric_and_stable() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!((sigmoid(2.0) + sigmoid(-2.0) - 1.0).abs() < 1e-15);
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
    }

    #[test]
    fn risks_are_the_same_bit_for_bit_as_row_by_row_and_on_any_thread_count() {
        let rows = 2 * CHUNK + 123;
        let columns: Vec<Vec<f64>> = (0..5)
            .map(|j| {
                (0..rows)
                    .map(|i| ((i * (j + 3)) % 101) as f64 / 17.0 - 2.5)
                    .collect()
            })
            .collect();
        let x = DesignMatrix { rows, columns };
        let coefficients = [0.3, -1.7, 0.01, 2.2, -0.4];
        // The row-by-row loop this replaced.
        let reference: Vec<u64> = (0..rows)
            .map(|row| {
                let mut z = -1.25;
                for (w, column) in coefficients.iter().zip(&x.columns) {
                    z += w * column[row];
                }
                sigmoid(z).to_bits()
            })
            .collect();
        for threads in [1, 4] {
            let risks = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool")
                .install(|| linear_risk(-1.25, &coefficients, &x));
            let bits: Vec<u64> = risks.iter().map(|r| r.to_bits()).collect();
            assert_eq!(bits, reference, "{threads} threads");
        }
    }

    #[test]
    fn linear_risk_matches_hand_computation() {
        // z = −1 + 0.5·2 + 2·0.25 = 0.5 → σ(0.5) = 1 / (1 + e^−0.5).
        let x = DesignMatrix {
            rows: 1,
            columns: vec![vec![2.0], vec![0.25]],
        };
        let r = linear_risk(-1.0, &[0.5, 2.0], &x);
        assert!((r[0] - 1.0 / (1.0 + (-0.5f64).exp())).abs() < 1e-15);
    }

    #[test]
    fn scoring_selected_rows_is_bit_identical_to_scoring_every_row() {
        // Terms whose sum depends on the order of addition: (1e16 + 1) − 1e16
        // is 0 in floating point, 1e16 − 1e16 + 1 is 1.
        let x = DesignMatrix {
            rows: 3,
            columns: vec![
                vec![1.0, 2.0, -1.0],
                vec![1.0, 0.5, 3.0],
                vec![-1.0, 0.0, 0.25],
            ],
        };
        let coefficients = [1e16, 1.0, 1e16];
        let all = linear_risk(-0.5, &coefficients, &x);
        let picked = linear_risk(-0.5, &coefficients, &x.select(&[2, 0]));
        assert_eq!(picked[0].to_bits(), all[2].to_bits());
        assert_eq!(picked[1].to_bits(), all[0].to_bits());
        // Row 0: ((−0.5 + 1e16) + 1) − 1e16 = 0 (1e16 absorbs the −0.5 and the 1) → σ(0) = 0.5.
        assert_eq!(all[0], 0.5);
    }
}
