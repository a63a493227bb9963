//! The fitted coefficients of `train::fit_logistic` (linfa) against an
//! independent L2 logistic regression on a fixed matrix (issue 5's quality bar).
//!
//! Reference values come from scikit-learn 1.9.1 `LogisticRegression(C = 1/α,
//! solver = "lbfgs", tol = 1e-12)`, cross-checked to 1e-6 against a direct
//! scipy BFGS minimisation of linfa's objective −Σ log σ(y·z) + α/2‖w‖²
//! (intercept not penalised in either). The matrix, outcome and the script
//! are in tests/fixtures/model/ (`logistic_reference.csv`, `.py`); rerun with
//! `cd tests/fixtures/model && python logistic_reference.py`.

use crate::model::design::DesignMatrix;
use crate::model::train::fit_logistic;

const CSV: &str = include_str!("../../../tests/fixtures/model/logistic_reference.csv");

/// (α, intercept, coefficients) printed by logistic_reference.py.
const REFERENCE: [(f64, f64, [f64; 3]); 2] = [
    (
        1.0,
        -1.4946534773,
        [1.2615308443, -0.5567307396, 0.3481859244],
    ),
    (
        20.0,
        -1.2080453311,
        [0.6754152082, -0.3192872283, 0.2825473199],
    ),
];

fn fixture() -> (DesignMatrix, Vec<bool>) {
    let mut columns = vec![Vec::new(), Vec::new(), Vec::new()];
    let mut y = Vec::new();
    for line in CSV.lines().skip(1).filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        for (column, field) in columns.iter_mut().zip(&fields) {
            column.push(field.parse::<f64>().expect("a number in the fixture"));
        }
        y.push(fields[3] == "1");
    }
    (
        DesignMatrix {
            rows: y.len(),
            columns,
        },
        y,
    )
}

#[test]
fn linfa_fit_agrees_with_scikit_learn_to_1e_4() {
    let (x, y) = fixture();
    assert_eq!((x.rows, y.iter().filter(|&&v| v).count()), (200, 54));
    let rows: Vec<usize> = (0..x.rows).collect();
    for (alpha, intercept, coefficients) in REFERENCE {
        let fit = fit_logistic(&x, &y, &rows, alpha).expect("fit");
        assert!(
            (fit.intercept - intercept).abs() < 1e-4,
            "α = {alpha}: intercept {} vs {intercept}",
            fit.intercept
        );
        for (got, want) in fit.coefficients.iter().zip(coefficients) {
            assert!(
                (got - want).abs() < 1e-4,
                "α = {alpha}: {:?} vs {coefficients:?}",
                fit.coefficients
            );
        }
    }
}
