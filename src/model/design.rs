//! Model terms: how a catalogue feature becomes a standardised number.
//!
//! The same term list drives training and scoring, so a model file carries
//! everything needed to rebuild its inputs from a feature table.

use polars::prelude::*;

use crate::error::{ModelError, Result};

/// How a feature value becomes a model input before standardisation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Transform {
    /// The value itself.
    Linear,
    /// ln(1 + value): for counts, where the 1st event matters more than the 10th.
    Log1p,
    /// max(value − knot, 0): a slope that starts at `knot`.
    Above { knot: f64 },
    /// max(knot − value, 0): a slope that ends at `knot`.
    Below { knot: f64 },
    /// 1 when the (text) value equals `value`, else 0.
    Equals { value: String },
    /// 1 when the value is missing, else 0.
    IsMissing,
}

/// One input of a linear model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Term {
    /// A readable name, unique within the model.
    pub name: String,
    /// The catalogue feature it reads.
    pub feature: String,
    pub transform: Transform,
    /// Used for a missing numeric value (the training mean of the transformed value).
    pub impute: f64,
    /// Standardisation: z = (x − center) / scale.
    pub center: f64,
    pub scale: f64,
    /// Coefficient on the standardised value.
    pub coefficient: f64,
}

impl Term {
    /// A term before fitting: no imputation, identity standardisation, zero weight.
    pub fn new(name: &str, feature: &str, transform: Transform) -> Self {
        Term {
            name: name.into(),
            feature: feature.into(),
            transform,
            impute: 0.0,
            center: 0.0,
            scale: 1.0,
            coefficient: 0.0,
        }
    }
}

/// Transformed (not yet standardised) term values, column-major: one
/// contiguous `Vec` per term, the layout scoring and training both want.
#[derive(Debug, Clone)]
pub struct DesignMatrix {
    pub rows: usize,
    pub columns: Vec<Vec<f64>>,
}

impl DesignMatrix {
    /// Builds the transformed values of `terms` from `frame`. Missing numeric
    /// values are left as NaN here and imputed by [`DesignMatrix::standardise`].
    pub fn build(frame: &DataFrame, terms: &[Term]) -> Result<Self> {
        let rows = frame.height();
        let mut columns = Vec::with_capacity(terms.len());
        for term in terms {
            let column = frame.column(&term.feature).map_err(|_| {
                ModelError::Training(format!(
                    "feature `{}` (term `{}`) is not in the feature table",
                    term.feature, term.name
                ))
            })?;
            columns.push(transform_column(column, &term.transform)?);
        }
        Ok(DesignMatrix { rows, columns })
    }

    /// Replaces NaN by each term's impute value and applies (x − center) / scale.
    pub fn standardise(&mut self, terms: &[Term]) {
        for (values, term) in self.columns.iter_mut().zip(terms) {
            for v in values.iter_mut() {
                let x = if v.is_nan() { term.impute } else { *v };
                *v = (x - term.center) / term.scale;
            }
        }
    }
}

fn transform_column(column: &Column, transform: &Transform) -> Result<Vec<f64>> {
    if let Transform::Equals { value } = transform {
        let text = column.cast(&DataType::String)?;
        return Ok(text
            .str()?
            .iter()
            .map(|v| if v == Some(value.as_str()) { 1.0 } else { 0.0 })
            .collect());
    }
    if let Transform::IsMissing = transform {
        return Ok(column
            .is_null()
            .iter()
            .map(|missing| if missing == Some(true) { 1.0 } else { 0.0 })
            .collect());
    }
    let numbers = column.cast(&DataType::Float64)?;
    Ok(numbers
        .f64()?
        .iter()
        .map(|v| v.map_or(f64::NAN, |x| apply(transform, x)))
        .collect())
}

fn apply(transform: &Transform, x: f64) -> f64 {
    match transform {
        Transform::Linear => x,
        Transform::Log1p => x.max(0.0).ln_1p(),
        Transform::Above { knot } => (x - knot).max(0.0),
        Transform::Below { knot } => (knot - x).max(0.0),
        Transform::Equals { .. } | Transform::IsMissing => unreachable!("handled before"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms_follow_their_definitions() {
        assert_eq!(apply(&Transform::Linear, 3.0), 3.0);
        assert!((apply(&Transform::Log1p, 1.0) - 2f64.ln()).abs() < 1e-12);
        assert_eq!(apply(&Transform::Above { knot: 65.0 }, 70.0), 5.0);
        assert_eq!(apply(&Transform::Above { knot: 65.0 }, 60.0), 0.0);
        assert_eq!(apply(&Transform::Below { knot: 5.0 }, 2.0), 3.0);
        assert_eq!(apply(&Transform::Below { knot: 5.0 }, 9.0), 0.0);
    }

    #[test]
    fn missing_values_are_imputed_then_standardised() {
        let df = DataFrame::new(
            3,
            vec![Column::new("x".into(), [Some(1.0), None, Some(3.0)])],
        )
        .expect("frame");
        let mut term = Term::new("x", "x", Transform::Linear);
        term.impute = 2.0;
        term.center = 2.0;
        term.scale = 0.5;
        let mut m = DesignMatrix::build(&df, std::slice::from_ref(&term)).expect("matrix");
        m.standardise(&[term]);
        assert_eq!(m.columns[0], vec![-2.0, 0.0, 2.0]);
    }

    #[test]
    fn equals_and_missing_indicators() {
        let df = DataFrame::new(
            3,
            vec![Column::new("sex".into(), [Some("F"), Some("M"), None])],
        )
        .expect("frame");
        let female = Term::new("female", "sex", Transform::Equals { value: "F".into() });
        let missing = Term::new("sex_missing", "sex", Transform::IsMissing);
        let m = DesignMatrix::build(&df, &[female, missing]).expect("matrix");
        assert_eq!(m.columns[0], vec![1.0, 0.0, 0.0]);
        assert_eq!(m.columns[1], vec![0.0, 0.0, 1.0]);
    }
}
