//! Model terms: how a catalogue feature becomes a standardised number.
//!
//! The same term list drives training and scoring, so a model file carries
//! everything needed to rebuild its inputs from a feature table.

use polars::prelude::*;
use rayon::prelude::*;

use super::{ModelError, Result};

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
    /// The given rows only, in that order: a held-out subset to score with
    /// [`super::score::linear_risk`], the nightly scoring kernel itself.
    pub fn select(&self, rows: &[usize]) -> DesignMatrix {
        DesignMatrix {
            rows: rows.len(),
            columns: self
                .columns
                .iter()
                .map(|column| rows.iter().map(|&r| column[r]).collect())
                .collect(),
        }
    }

    /// Builds the transformed values of `terms` from `frame`. Missing numeric
    /// values are left as NaN here and imputed by [`DesignMatrix::standardise`].
    ///
    /// Each feature is prepared once however many terms read it (numbers are
    /// read in their own type, without a Float64 copy), and the terms are
    /// transformed in parallel: each term's values depend only on its own
    /// column, so the result does not depend on the thread count.
    pub fn build(frame: &DataFrame, terms: &[Term]) -> Result<Self> {
        let rows = frame.height();
        let mut inputs: Vec<Input> = Vec::new();
        let mut term_input = Vec::with_capacity(terms.len());
        for term in terms {
            let column = frame.column(&term.feature).map_err(|_| {
                ModelError::Training(format!(
                    "feature `{}` (term `{}`) is not in the feature table",
                    term.feature, term.name
                ))
            })?;
            let kind = InputKind::of(&term.transform);
            let index = match inputs
                .iter()
                .position(|i| i.feature == term.feature && i.kind == kind)
            {
                Some(index) => index,
                None => {
                    inputs.push(Input::prepare(&term.feature, kind, column)?);
                    inputs.len() - 1
                }
            };
            term_input.push(index);
        }
        let columns = terms
            .par_iter()
            .zip(term_input)
            .map(|(term, i)| inputs[i].transform(&term.transform))
            .collect::<Result<Vec<_>>>()?;
        Ok(DesignMatrix { rows, columns })
    }

    /// Replaces NaN by each term's impute value and applies (x − center) / scale.
    pub fn standardise(&mut self, terms: &[Term]) {
        self.columns
            .par_iter_mut()
            .zip(terms)
            .for_each(|(values, term)| {
                for v in values.iter_mut() {
                    let x = if v.is_nan() { term.impute } else { *v };
                    *v = (x - term.center) / term.scale;
                }
            });
    }
}

/// What a transform reads from its feature column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputKind {
    /// The value as a number.
    Number,
    /// The value as text.
    Text,
    /// Only whether it is missing.
    Missing,
}

impl InputKind {
    fn of(transform: &Transform) -> InputKind {
        match transform {
            Transform::Equals { .. } => InputKind::Text,
            Transform::IsMissing => InputKind::Missing,
            _ => InputKind::Number,
        }
    }
}

/// A feature column prepared once for the terms that read it.
struct Input<'a> {
    feature: &'a str,
    kind: InputKind,
    column: Column,
}

impl<'a> Input<'a> {
    fn prepare(feature: &'a str, kind: InputKind, column: &Column) -> Result<Input<'a>> {
        let column = match kind {
            // Common numeric types are read as they are (see `numbers`), others cast.
            InputKind::Number => match column.dtype() {
                DataType::Float64
                | DataType::Float32
                | DataType::Int32
                | DataType::Int64
                | DataType::UInt32
                | DataType::UInt64
                | DataType::Boolean => column.clone(),
                _ => column.cast(&DataType::Float64)?,
            },
            InputKind::Text => column.cast(&DataType::String)?,
            InputKind::Missing => column.clone(),
        };
        Ok(Input {
            feature,
            kind,
            column,
        })
    }

    fn transform(&self, transform: &Transform) -> Result<Vec<f64>> {
        match transform {
            Transform::Equals { value } => Ok(self
                .column
                .str()?
                .iter()
                .map(|v| if v == Some(value.as_str()) { 1.0 } else { 0.0 })
                .collect()),
            Transform::IsMissing => Ok(if self.column.null_count() == 0 {
                vec![0.0; self.column.len()]
            } else {
                self.column
                    .is_null()
                    .iter()
                    .map(|missing| if missing == Some(true) { 1.0 } else { 0.0 })
                    .collect()
            }),
            Transform::Log1p => {
                // Counts: ln(1 + k) of small whole numbers is looked up, not recomputed.
                let table = Log1pTable::new();
                numbers(&self.column, |x| table.apply(x))
            }
            _ => numbers(&self.column, |x| apply(transform, x)),
        }
    }
}

/// `f` of each value of a numeric (or flag) column read as f64, NaN where
/// missing. The values are those of a cast to Float64 (`as f64`, flags 1 and
/// 0), without making the cast column.
fn numbers(column: &Column, f: impl Fn(f64) -> f64) -> Result<Vec<f64>> {
    Ok(match column.dtype() {
        DataType::Float32 => map_numbers(column.f32()?, |v| v as f64, f),
        DataType::Int32 => map_numbers(column.i32()?, |v| v as f64, f),
        DataType::Int64 => map_numbers(column.i64()?, |v| v as f64, f),
        DataType::UInt32 => map_numbers(column.u32()?, |v| v as f64, f),
        DataType::UInt64 => map_numbers(column.u64()?, |v| v as f64, f),
        DataType::Boolean => column
            .bool()?
            .iter()
            .map(|v| v.map_or(f64::NAN, |b| f(if b { 1.0 } else { 0.0 })))
            .collect(),
        _ => map_numbers(column.f64()?, |v| v, f),
    })
}

fn map_numbers<T: PolarsNumericType>(
    numbers: &ChunkedArray<T>,
    to_f64: impl Fn(T::Native) -> f64,
    f: impl Fn(f64) -> f64,
) -> Vec<f64> {
    let mut out = Vec::with_capacity(numbers.len());
    for chunk in numbers.downcast_iter() {
        match chunk.validity() {
            // No nulls: a plain loop over the values.
            None => out.extend(chunk.values().iter().map(|&v| f(to_f64(v)))),
            Some(_) => out.extend(chunk.iter().map(|v| v.map_or(f64::NAN, |&v| f(to_f64(v))))),
        }
    }
    out
}

/// [`Transform::Log1p`] with its values at 0, 1, …, 255 computed once: the
/// same numbers, bit for bit, as computing each.
struct Log1pTable([f64; 256]);

impl Log1pTable {
    fn new() -> Self {
        Log1pTable(std::array::from_fn(|k| apply(&Transform::Log1p, k as f64)))
    }

    #[inline]
    fn apply(&self, x: f64) -> f64 {
        let k = x as usize;
        match self.0.get(k) {
            // Exactly the whole number k (so not NaN, and not −0, whose sign ln_1p keeps).
            Some(&y) if k as f64 == x && x.is_sign_positive() => y,
            _ => apply(&Transform::Log1p, x),
        }
    }
}

#[inline]
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
    fn log1p_table_gives_the_computed_values_bit_for_bit() {
        let table = Log1pTable::new();
        let mut xs = vec![
            -0.0,
            -1.0,
            0.5,
            254.5,
            255.0,
            256.0,
            1e300,
            f64::NAN,
            f64::INFINITY,
        ];
        xs.extend((0..300).map(f64::from));
        for x in xs {
            let (looked_up, computed) = (table.apply(x), apply(&Transform::Log1p, x));
            assert_eq!(looked_up.to_bits(), computed.to_bits(), "ln(1 + {x})");
        }
    }

    /// The term-by-term, cast-per-term build this one replaced, kept as an oracle.
    fn reference_column(column: &Column, transform: &Transform) -> Vec<f64> {
        if let Transform::Equals { value } = transform {
            let text = column.cast(&DataType::String).expect("cast");
            return text
                .str()
                .expect("str")
                .iter()
                .map(|v| if v == Some(value.as_str()) { 1.0 } else { 0.0 })
                .collect();
        }
        if let Transform::IsMissing = transform {
            return column
                .is_null()
                .iter()
                .map(|missing| if missing == Some(true) { 1.0 } else { 0.0 })
                .collect();
        }
        let numbers = column.cast(&DataType::Float64).expect("cast");
        numbers
            .f64()
            .expect("f64")
            .iter()
            .map(|v| v.map_or(f64::NAN, |x| apply(transform, x)))
            .collect()
    }

    #[test]
    fn the_matrix_is_the_same_bit_for_bit_as_term_by_term_and_on_any_thread_count() {
        let rows = 5_000;
        let count: Vec<Option<i32>> = (0..rows)
            .map(|i| (i % 7 != 0).then_some((i * 37 % 300) as i32 - 3))
            .collect();
        let number: Vec<f64> = (0..rows)
            .map(|i| match i % 5 {
                0 => f64::NAN,
                1 => -0.0,
                _ => (i as f64).sqrt(),
            })
            .collect();
        let text: Vec<Option<&str>> = (0..rows)
            .map(|i| [Some("F"), Some("M"), None][i % 3])
            .collect();
        let flag: Vec<Option<bool>> = (0..rows)
            .map(|i| (i % 11 != 0).then_some(i % 2 == 0))
            .collect();
        let mut frame = DataFrame::new(
            rows,
            vec![
                Column::new("count".into(), count),
                Column::new("number".into(), number),
                Column::new("text".into(), text),
                Column::new("flag".into(), flag),
                Column::new(
                    "wide".into(),
                    (0..rows)
                        .map(|i| (i % 4 != 0).then_some((i as i64 - 2_000) << 40))
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "unsigned".into(),
                    (0..rows).map(|i| (i % 13) as u32).collect::<Vec<_>>(),
                ),
                Column::new(
                    "big_unsigned".into(),
                    (0..rows).map(|i| u64::MAX - i as u64).collect::<Vec<_>>(),
                ),
                Column::new(
                    "single".into(),
                    (0..rows)
                        .map(|i| (i % 6 != 0).then_some(i as f32 / 7.0))
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "small".into(),
                    (0..rows).map(|i| (i % 9) as i32).collect::<Vec<_>>(),
                )
                .cast(&DataType::Int8)
                .expect("i8"),
            ],
        )
        .expect("frame");
        // Several chunks, as a feature table built by joins may have.
        let tail = frame.slice(2_000, 3_000);
        let mut frame_parts = frame.slice(0, 2_000);
        frame_parts.vstack_mut(&tail).expect("vstack");
        frame = frame_parts;
        let term = |feature: &str, transform: Transform| {
            let mut t = Term::new(feature, feature, transform);
            t.impute = 0.5;
            t.center = 0.25;
            t.scale = 1.5;
            t
        };
        let terms = vec![
            term("count", Transform::Linear),
            term("count", Transform::Log1p),
            term("count", Transform::Above { knot: 65.0 }),
            term("count", Transform::Below { knot: 5.0 }),
            term("count", Transform::IsMissing),
            term("number", Transform::Log1p),
            term("number", Transform::Linear),
            term("text", Transform::Equals { value: "F".into() }),
            term("text", Transform::IsMissing),
            term("flag", Transform::Linear),
            term("flag", Transform::Log1p),
            term("wide", Transform::Linear),
            term("wide", Transform::IsMissing),
            term("unsigned", Transform::Log1p),
            term("big_unsigned", Transform::Linear),
            term("single", Transform::Log1p),
            term("single", Transform::Below { knot: 100.0 }),
            term("small", Transform::Log1p),
        ];
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool")
                .install(|| {
                    let mut m = DesignMatrix::build(&frame, &terms).expect("matrix");
                    m.standardise(&terms);
                    m
                })
        };
        let bits = |m: &DesignMatrix| -> Vec<Vec<u64>> {
            m.columns
                .iter()
                .map(|c| c.iter().map(|v| v.to_bits()).collect())
                .collect()
        };
        let mut reference = DesignMatrix {
            rows,
            columns: terms
                .iter()
                .map(|t| reference_column(frame.column(&t.feature).expect("column"), &t.transform))
                .collect(),
        };
        for (values, t) in reference.columns.iter_mut().zip(&terms) {
            for v in values.iter_mut() {
                let x = if v.is_nan() { t.impute } else { *v };
                *v = (x - t.center) / t.scale;
            }
        }
        let one = on(1);
        assert_eq!(bits(&one), bits(&reference));
        assert_eq!(bits(&on(4)), bits(&one));
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
