//! Parallel scoring of a logistic model.
//!
//! Each row's risk depends only on that row, computed in a fixed order of
//! terms, so results are bit-identical whatever the thread count or row order.

use rayon::prelude::*;

use super::design::DesignMatrix;
use super::file::ModelFile;

/// Rows per parallel task: big enough to amortise scheduling, small enough to balance two cores.
const CHUNK: usize = 16 * 1024;

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
            for (offset, risk) in slot.iter_mut().enumerate() {
                let row = start + offset;
                let mut z = intercept;
                for (w, column) in coefficients.iter().zip(&x.columns) {
                    z += w * column[row];
                }
                *risk = sigmoid(z);
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
    fn linear_risk_matches_hand_computation() {
        // z = −1 + 0.5·2 + 2·0.25 = 0.5 → σ(0.5) = 1 / (1 + e^−0.5).
        let x = DesignMatrix {
            rows: 1,
            columns: vec![vec![2.0], vec![0.25]],
        };
        let r = linear_risk(-1.0, &[0.5, 2.0], &x);
        assert!((r[0] - 1.0 / (1.0 + (-0.5f64).exp())).abs() < 1e-15);
    }
}
