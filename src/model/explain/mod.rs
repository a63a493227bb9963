//! Reasons: each person's top risk-raising factors, in plain words.
//!
//! A term's contribution is its coefficient times the person's standardised
//! value: how far that term moves the person's log-odds above or below the
//! average person in the training population. Terms reading the same feature
//! (age and its hinges) are added together. A feature is a reason when its
//! contribution is positive (above [`MIN_CONTRIBUTION`]) **and** the person's
//! value is clinically notable by the feature's rule in [`rules`] (IMD
//! deciles 1–2, moderate or severe frailty, one or more emergency
//! admissions, …): above-average is not enough, since a decile-6 area or a
//! fit person's eFI can sit above a population mean. Features without a rule
//! are never reasons. The reasons are the notable features with the largest
//! contributions, worded from the person's own values.
//!
//! Each feature column is read once into a typed array before the loop, and
//! rows are worked on in parallel chunks. A person's reasons depend only on
//! their own row, so the result is the same for any thread count or row order.

use std::ops::Range;

use polars::prelude::*;
use rayon::prelude::*;

use super::{ModelError, Result};
use crate::model::{DesignMatrix, ModelFile};

pub mod rules;
use rules::ReasonRule;

/// How many reasons each person gets.
pub const TOP_REASONS: usize = 3;

/// Contributions smaller than this (in log-odds) are not worth naming.
const MIN_CONTRIBUTION: f64 = 0.05;

/// Rows per parallel task.
const CHUNK: usize = 16 * 1024;

/// Rows whose contributions are summed together (a block of them stays in cache).
const BLOCK: usize = 1024;

/// Every person's reasons, strongest first: `reason_1`, `reason_2` and
/// `reason_3` columns, null where a person has fewer reasons.
#[derive(Debug, Clone)]
pub struct Reasons {
    columns: [StringChunked; TOP_REASONS],
}

impl Reasons {
    /// The number of people.
    pub fn len(&self) -> usize {
        self.columns[0].len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The reasons of the person in `row`, strongest first (empty past the end).
    pub fn person(&self, row: usize) -> Vec<&str> {
        if row >= self.len() {
            return Vec::new();
        }
        self.columns.iter().map_while(|c| c.get(row)).collect()
    }

    /// The columns `reason_1..reason_3`, one string per person (null when none).
    pub fn into_columns(self) -> [Column; TOP_REASONS] {
        self.columns.map(IntoColumn::into_column)
    }
}

/// The name of the column holding each person's `(k + 1)`-th reason.
fn column_name(k: usize) -> PlSmallStr {
    format!("reason_{}", k + 1).into()
}

/// Up to [`TOP_REASONS`] plain-English reasons per row of `frame`, strongest first.
///
/// `x` must be the standardised design matrix of `model` built from `frame`.
pub fn top_reasons(model: &ModelFile, x: &DesignMatrix, frame: &DataFrame) -> Result<Reasons> {
    let rows = x.rows;
    if frame.height() != rows
        || x.columns.len() != model.terms.len()
        || x.columns.iter().any(|c| c.len() != rows)
    {
        return Err(ModelError::Internal(format!(
            "reasons: the design matrix ({rows} rows, {} terms) does not match the model ({} terms) and feature table ({} rows)",
            x.columns.len(),
            model.terms.len(),
            frame.height()
        )));
    }
    let features = model.features();
    let sources = features
        .par_iter()
        .map(|f| Source::prepare(frame.column(f)?))
        .collect::<Result<Vec<_>>>()?;
    let plan = Plan {
        values: sources
            .par_iter()
            .map(Source::values)
            .collect::<Result<Vec<_>>>()?,
        words: features.iter().map(|f| Words::new(f)).collect(),
        term_feature: model
            .terms
            .iter()
            .map(|t| features.iter().position(|f| *f == t.feature).unwrap_or(0))
            .collect(),
        coefficients: model.terms.iter().map(|t| t.coefficient).collect(),
        x,
    };
    let parts: Vec<[StringChunked; TOP_REASONS]> = (0..rows.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| plan.chunk(c * CHUNK..((c + 1) * CHUNK).min(rows)))
        .collect();
    let mut columns = plan.chunk(0..0);
    for part in parts {
        for (column, piece) in columns.iter_mut().zip(part) {
            column.append_owned(piece)?;
        }
    }
    Ok(Reasons { columns })
}

/// Everything a parallel task reads.
struct Plan<'a> {
    /// One per feature, in the model's feature order.
    values: Vec<Values<'a>>,
    words: Vec<Words>,
    /// For each term, the index of the feature it reads.
    term_feature: Vec<usize>,
    coefficients: Vec<f64>,
    x: &'a DesignMatrix,
}

impl Plan<'_> {
    /// The reasons of the people in `rows`, as three string arrays.
    fn chunk(&self, rows: Range<usize>) -> [StringChunked; TOP_REASONS] {
        let mut builders: [StringChunkedBuilder; TOP_REASONS] =
            std::array::from_fn(|k| StringChunkedBuilder::new(column_name(k), rows.len()));
        let n_features = self.values.len();
        // Contributions per feature within a block: totals[k * BLOCK + i].
        let mut totals = vec![0.0; n_features * BLOCK];
        let mut person: Vec<f64> = Vec::with_capacity(n_features);
        let mut order: Vec<usize> = Vec::with_capacity(n_features);
        let mut text = String::new();
        let mut chosen: [String; TOP_REASONS] = Default::default();
        for block in rows.clone().step_by(BLOCK) {
            let end = (block + BLOCK).min(rows.end);
            totals.fill(0.0);
            // Term by term, so each person's sum is taken in term order.
            for ((column, &k), w) in self
                .x
                .columns
                .iter()
                .zip(&self.term_feature)
                .zip(&self.coefficients)
            {
                let sums = &mut totals[k * BLOCK..k * BLOCK + (end - block)];
                for (t, v) in sums.iter_mut().zip(&column[block..end]) {
                    *t += w * v;
                }
            }
            for values in &self.values {
                values.touch(block..end);
            }
            for i in 0..end - block {
                person.clear();
                person.extend((0..n_features).map(|k| totals[k * BLOCK + i]));
                order.clear();
                order.extend((0..n_features).filter(|&k| person[k] > MIN_CONTRIBUTION));
                // Largest contribution first; ties broken by feature order so results are deterministic.
                order.sort_unstable_by(|&a, &b| person[b].total_cmp(&person[a]).then(a.cmp(&b)));
                let mut found = 0;
                for &k in &order {
                    if found == TOP_REASONS {
                        break;
                    }
                    if let Some(words) = self.values[k].words(block + i, &self.words[k], &mut text)
                        // Two features can say the same (imd_decile and
                        // imd_quintile): the person's list says it once.
                        && !chosen[..found].iter().any(|c| c == words)
                    {
                        builders[found].append_value(words);
                        chosen[found].clear();
                        chosen[found].push_str(words);
                        found += 1;
                    }
                }
                for builder in &mut builders[found..] {
                    builder.append_null();
                }
            }
        }
        builders.map(StringChunkedBuilder::finish)
    }
}

/// A feature column prepared once for reading person by person.
enum Source {
    /// Any integer or float type, in one chunk.
    Numbers(Column),
    Flags(Column),
    Text(Column),
    /// Any other type (dates, categoricals, ...): read cell by cell.
    Cells(Column),
}

impl Source {
    fn prepare(column: &Column) -> Result<Source> {
        let dtype = column.dtype();
        Ok(if dtype.is_integer() || dtype.is_float() {
            Source::Numbers(column.rechunk())
        } else if dtype.is_bool() {
            Source::Flags(column.clone())
        } else if dtype.is_string() {
            Source::Text(column.clone())
        } else {
            Source::Cells(column.clone())
        })
    }

    fn values(&self) -> Result<Values<'_>> {
        Ok(match self {
            Source::Numbers(c) => match Dense::of(c) {
                Some(dense) => Values::Numbers(dense),
                None => {
                    Values::NullableNumbers(c.cast(&DataType::Float64)?.f64()?.iter().collect())
                }
            },
            Source::Flags(c) => Values::Flags(c.bool()?.iter().collect()),
            Source::Text(c) => Values::Text(c.str()?.iter().collect()),
            Source::Cells(c) => Values::Cells(c),
        })
    }
}

/// One feature's values for every person, typed and contiguous.
enum Values<'a> {
    Numbers(Dense<'a>),
    NullableNumbers(Vec<Option<f64>>),
    Flags(Vec<Option<bool>>),
    Text(Vec<Option<&'a str>>),
    Cells(&'a Column),
}

impl Values<'_> {
    /// The words for the person in `row`, `None` when there is nothing to
    /// say; words not written in advance are written into `buf`.
    ///
    /// Values are read as Polars' `AnyValue` would give them: a number for
    /// any numeric type (1 for a set flag, and parsed from text that is a
    /// number), text for strings; a flag that is not set says nothing.
    fn words<'a>(&'a self, row: usize, words: &'a Words, buf: &'a mut String) -> Option<&'a str> {
        buf.clear();
        let written = match self {
            Values::Numbers(v) => return words.number(Some(v.get(row)?), buf),
            Values::NullableNumbers(v) => return words.number(*v.get(row)?, buf),
            Values::Flags(v) => match v.get(row)? {
                Some(false) => false,
                Some(true) => return words.number(Some(1.0), buf),
                None => return words.number(None, buf),
            },
            Values::Text(v) => {
                let text = *v.get(row)?;
                let number = text.and_then(|s| AnyValue::String(s).extract::<f64>());
                write_rule(words.rule, number, text, buf)
            }
            Values::Cells(c) => c
                .get(row)
                .is_ok_and(|value| write_any(&value, words.rule, buf)),
        };
        if written { Some(buf.as_str()) } else { None }
    }

    /// Reads `rows` once in order, a value per cache line, so that the
    /// scattered reads of single people that follow find them in cache.
    fn touch(&self, rows: Range<usize>) {
        match self {
            Values::Numbers(v) => v.touch(rows),
            Values::NullableNumbers(v) => lines(v, rows),
            Values::Flags(v) => lines(v, rows),
            Values::Text(v) => lines(v, rows),
            Values::Cells(_) => {}
        }
    }
}

/// A numeric column without nulls, in its own type; read `as f64`, the
/// values a cast to Float64 gives.
enum Dense<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U32(&'a [u32]),
    U64(&'a [u64]),
}

impl<'a> Dense<'a> {
    /// `None` for other types, nulls or several chunks (read as nullable numbers instead).
    fn of(column: &'a Column) -> Option<Dense<'a>> {
        Some(match column.dtype() {
            DataType::Float64 => Dense::F64(column.f64().ok()?.cont_slice().ok()?),
            DataType::Float32 => Dense::F32(column.f32().ok()?.cont_slice().ok()?),
            DataType::Int32 => Dense::I32(column.i32().ok()?.cont_slice().ok()?),
            DataType::Int64 => Dense::I64(column.i64().ok()?.cont_slice().ok()?),
            DataType::UInt32 => Dense::U32(column.u32().ok()?.cont_slice().ok()?),
            DataType::UInt64 => Dense::U64(column.u64().ok()?.cont_slice().ok()?),
            _ => return None,
        })
    }

    fn get(&self, row: usize) -> Option<f64> {
        match self {
            Dense::F64(v) => v.get(row).copied(),
            Dense::F32(v) => v.get(row).map(|&x| x as f64),
            Dense::I32(v) => v.get(row).map(|&x| x as f64),
            Dense::I64(v) => v.get(row).map(|&x| x as f64),
            Dense::U32(v) => v.get(row).map(|&x| x as f64),
            Dense::U64(v) => v.get(row).map(|&x| x as f64),
        }
    }

    fn touch(&self, rows: Range<usize>) {
        match self {
            Dense::F64(v) => lines(v, rows),
            Dense::F32(v) => lines(v, rows),
            Dense::I32(v) => lines(v, rows),
            Dense::I64(v) => lines(v, rows),
            Dense::U32(v) => lines(v, rows),
            Dense::U64(v) => lines(v, rows),
        }
    }
}

/// Reads one value per cache line of `values[rows]`.
fn lines<T: Copy>(values: &[T], rows: Range<usize>) {
    let step = (64 / size_of::<T>()).max(1);
    for v in values.get(rows).unwrap_or_default().iter().step_by(step) {
        std::hint::black_box(*v);
    }
}

/// The words for one `AnyValue`, read the way [`Values::words`] reads typed values.
fn write_any(value: &AnyValue, rule: Option<&ReasonRule>, out: &mut String) -> bool {
    if let AnyValue::Boolean(false) = value {
        // A flag is a reason only when it is set.
        return false;
    }
    write_rule(rule, value.extract::<f64>(), value.get_str(), out)
}

/// The words of `rule` for a value, written into `out`; false, with nothing
/// written, when the feature has no rule or the value is not notable.
fn write_rule(
    rule: Option<&ReasonRule>,
    number: Option<f64>,
    text: Option<&str>,
    out: &mut String,
) -> bool {
    rule.is_some_and(|r| r.write(number, text, out))
}

/// Words for one feature value of one person; `None` when it is not a
/// reason (no rule for the feature, or a value its rule does not call notable).
pub fn describe(feature: &str, column: &Column, row: usize) -> Option<String> {
    let value = column.get(row).ok()?;
    let mut out = String::new();
    write_any(&value, rules::rule(feature), &mut out).then_some(out)
}

/// Whole numbers below this are worded once per feature, not once per person.
const SMALL: usize = 256;

/// A feature's wording, with the words for its small whole numbers written in advance.
struct Words {
    /// The feature's reason rule; `None`: never a reason.
    rule: Option<&'static ReasonRule>,
    /// `small[k]`: the words for the number `k` (and no text), `None` when there is nothing to say.
    small: Vec<Option<Box<str>>>,
}

impl Words {
    fn new(feature: &str) -> Words {
        let rule = rules::rule(feature);
        let small = (0..SMALL)
            .map(|k| {
                let mut out = String::new();
                write_rule(rule, Some(k as f64), None, &mut out).then(|| out.into_boxed_str())
            })
            .collect();
        Words { rule, small }
    }

    /// The words for a value read as a number (no text), written into `buf`
    /// unless written in advance.
    fn number<'a>(&'a self, number: Option<f64>, buf: &'a mut String) -> Option<&'a str> {
        match number.and_then(small_index) {
            Some(k) => self.small[k].as_deref(),
            None => {
                if write_rule(self.rule, number, None, buf) {
                    Some(buf.as_str())
                } else {
                    None
                }
            }
        }
    }
}

/// `Some(k)` when `n` is exactly the whole number `k` < [`SMALL`] (not −0, not NaN).
fn small_index(n: f64) -> Option<usize> {
    let k = n as usize;
    (k < SMALL && k as f64 == n && n.is_sign_positive()).then_some(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Term, Transform};
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn model(terms: Vec<Term>) -> ModelFile {
        let text = format!(
            r#"{{"schema_version":1,"model_id":"m","name":"m","model_type":"logistic","outcome":"o","intercept":0.0,
            "terms":{},"training":{{"index_date":"2025-03-31","n_train":1,"n_holdout":1,"outcome_prevalence":0.1,
            "lambda":0.0,"alpha":0.0,"cv_log_loss":[],"input_checksums":[],"synthetic_data":true}},
            "holdout":{{"auc":0.5,"brier":0.1,"n":1,"outcomes":0}},"software_version":"0"}}"#,
            serde_json::to_string(&terms).expect("terms")
        );
        serde_json::from_str(&text).expect("model json")
    }

    fn all(reasons: &Reasons) -> Vec<Vec<&str>> {
        (0..reasons.len()).map(|r| reasons.person(r)).collect()
    }

    #[test]
    fn reasons_are_the_largest_positive_contributions_in_plain_words() {
        let mut admissions = Term::new("adm", "emergency_admissions_12m", Transform::Linear);
        admissions.coefficient = 0.8;
        let mut age = Term::new("age", "age", Transform::Linear);
        age.coefficient = 0.5;
        let mut medicines = Term::new("meds", "medicines_12m", Transform::Linear);
        medicines.coefficient = -0.4;
        let m = model(vec![admissions, age, medicines]);
        let frame = DataFrame::new(
            2,
            vec![
                Column::new("emergency_admissions_12m".into(), [3i32, 0]),
                Column::new("age".into(), [87i32, 30]),
                Column::new("medicines_12m".into(), [12i32, 1]),
            ],
        )
        .expect("frame");
        // Standardised values: person 1 is high on all three; person 2 is below average on all.
        let x = DesignMatrix {
            rows: 2,
            columns: vec![vec![2.0, -0.5], vec![1.0, -1.0], vec![2.0, -0.5]],
        };
        let reasons = top_reasons(&m, &x, &frame).expect("reasons");
        // Person 1: admissions 0.8·2 = 1.6, age 0.5·1 = 0.5, medicines −0.4·2 = −0.8 (lowers risk: not a reason).
        assert_eq!(
            reasons.person(0),
            vec!["3 emergency admissions in the last 12 months", "aged 87"]
        );
        // Person 2: admissions −0.4, age −0.5, medicines +0.2: one medicine
        // raises this person's risk above the average person's, but is not
        // polypharmacy (10 or more), so it is no reason.
        assert_eq!(reasons.person(1), Vec::<&str>::new());
        let [first, second, third] = reasons.into_columns();
        assert_eq!(first.name().as_str(), "reason_1");
        assert_eq!(first.null_count(), 1);
        assert_eq!(second.null_count(), 1);
        assert_eq!(third.null_count(), 2);
    }

    #[test]
    fn a_feature_with_nothing_to_say_gives_way_to_the_next() {
        // Four features all raise risk; the flag is the largest but not set,
        // so the next three in order of contribution are the reasons.
        let terms = ["care_home_resident", "ltc_count", "hfrs", "age"]
            .iter()
            .zip([0.9, 0.3, 0.3, 0.1])
            .map(|(f, w)| {
                let mut t = Term::new(f, f, Transform::Linear);
                t.coefficient = w;
                t
            })
            .collect();
        let frame = DataFrame::new(
            1,
            vec![
                Column::new("care_home_resident".into(), [false]),
                Column::new("ltc_count".into(), [2u32]),
                Column::new("hfrs".into(), [16.34f64]),
                Column::new("age".into(), [Some(90i32)]),
            ],
        )
        .expect("frame");
        let x = DesignMatrix {
            rows: 1,
            columns: vec![vec![1.0]; 4],
        };
        let reasons = top_reasons(&model(terms), &x, &frame).expect("reasons");
        // ltc_count and hfrs tie at 0.3: feature order puts ltc_count first.
        assert_eq!(
            reasons.person(0),
            vec![
                "2 long-term conditions",
                "high hospital frailty risk score (16.3)",
                "aged 90"
            ]
        );
    }

    /// One term per feature, each with coefficient `w`.
    fn terms(features: &[(&str, f64)]) -> Vec<Term> {
        features
            .iter()
            .map(|(f, w)| {
                let mut t = Term::new(f, f, Transform::Linear);
                t.coefficient = *w;
                t
            })
            .collect()
    }

    #[test]
    fn raising_risk_is_not_enough_the_value_must_be_notable() {
        // imd_decile has a negative coefficient, so a decile below the mean
        // raises risk; efi 0.08 above a mean of 0.05 raises it too. Person 1
        // (decile 6, eFI 0.08, female, 1 A&E attendance) has four positive
        // contributions and not one notable value; person 2 (decile 2, eFI
        // 0.31, 2 attendances) has three.
        let m = model(terms(&[
            ("imd_decile", -0.4),
            ("efi", 0.6),
            ("sex", 0.3),
            ("ae_attendances_12m", 0.2),
        ]));
        let frame = DataFrame::new(
            2,
            vec![
                Column::new("imd_decile".into(), [6i32, 2]),
                Column::new("efi".into(), [0.08f64, 0.31]),
                Column::new("sex".into(), ["F", "F"]),
                Column::new("ae_attendances_12m".into(), [1u32, 2]),
            ],
        )
        .expect("frame");
        // Standardised: decile −0.5 (below the mean), efi +0.5, sex +1, A&E +1.
        let x = DesignMatrix {
            rows: 2,
            columns: vec![vec![-0.5; 2], vec![0.5; 2], vec![1.0; 2], vec![1.0; 2]],
        };
        let reasons = top_reasons(&m, &x, &frame).expect("reasons");
        assert_eq!(reasons.person(0), Vec::<&str>::new());
        // Contributions: efi 0.6·0.5 = 0.3 = sex 0.3 (no rule) > decile
        // 0.4·0.5 = 0.2 = A&E 0.2 (the tie goes to the earlier feature).
        assert_eq!(
            reasons.person(1),
            vec![
                "moderate frailty (eFI 0.31)",
                "lives in one of the 20% most deprived areas of England",
                "2 A&E attendances in the last 12 months"
            ]
        );
    }

    #[test]
    fn the_same_words_from_two_features_are_said_once() {
        let m = model(terms(&[
            ("imd_decile", -0.4),
            ("imd_quintile", -0.3),
            ("age", 0.1),
        ]));
        let frame = DataFrame::new(
            1,
            vec![
                Column::new("imd_decile".into(), [1i32]),
                Column::new("imd_quintile".into(), [1i32]),
                Column::new("age".into(), [80i32]),
            ],
        )
        .expect("frame");
        let x = DesignMatrix {
            rows: 1,
            columns: vec![vec![-2.0], vec![-2.0], vec![1.0]],
        };
        let reasons = top_reasons(&m, &x, &frame).expect("reasons");
        assert_eq!(
            reasons.person(0),
            vec![
                "lives in one of the 20% most deprived areas of England",
                "aged 80"
            ]
        );
    }

    #[test]
    fn a_design_matrix_of_another_size_is_refused() {
        let mut age = Term::new("age", "age", Transform::Linear);
        age.coefficient = 1.0;
        let frame = DataFrame::new(2, vec![Column::new("age".into(), [80i32, 81])]).expect("frame");
        let x = DesignMatrix {
            rows: 1,
            columns: vec![vec![1.0]],
        };
        assert!(top_reasons(&model(vec![age]), &x, &frame).is_err());
    }

    // --- the cell-by-cell implementation these reasons replaced, kept as an oracle ---

    fn reference_top_reasons(
        model: &ModelFile,
        x: &DesignMatrix,
        frame: &DataFrame,
    ) -> Vec<Vec<String>> {
        let features = model.features();
        let term_feature: Vec<usize> = model
            .terms
            .iter()
            .map(|t| features.iter().position(|f| *f == t.feature).unwrap_or(0))
            .collect();
        let columns: Vec<Column> = features
            .iter()
            .map(|f| frame.column(f).cloned().expect("column"))
            .collect();
        let mut out = Vec::with_capacity(x.rows);
        let mut totals = vec![0.0; features.len()];
        for row in 0..x.rows {
            totals.iter_mut().for_each(|t| *t = 0.0);
            for (j, term) in model.terms.iter().enumerate() {
                totals[term_feature[j]] += term.coefficient * x.columns[j][row];
            }
            let mut order: Vec<usize> = (0..features.len())
                .filter(|&k| totals[k] > MIN_CONTRIBUTION)
                .collect();
            order.sort_by(|&a, &b| totals[b].total_cmp(&totals[a]).then(a.cmp(&b)));
            let mut reasons: Vec<String> = Vec::new();
            for k in order {
                if let Some(r) = reference_describe(features[k], &columns[k], row)
                    && !reasons.contains(&r)
                    && reasons.len() < TOP_REASONS
                {
                    reasons.push(r);
                }
            }
            out.push(reasons);
        }
        out
    }

    /// The reason rules of docs/outputs.md for the features of the random
    /// populations, written out again one by one (not through `rules`).
    fn reference_describe(feature: &str, column: &Column, row: usize) -> Option<String> {
        let value = column.get(row).ok()?;
        if let AnyValue::Boolean(false) = value {
            return None;
        }
        let number = value.extract::<f64>();
        let count = |min: f64, one: &str, many: &str| {
            let n = number.filter(|n| *n >= min)?;
            Some(format!(
                "{} {}",
                n as i64,
                if n == 1.0 { one } else { many }
            ))
        };
        let set = |words: &str| (number == Some(1.0)).then(|| words.to_string());
        match feature {
            "age" => number
                .filter(|a| *a >= 75.0)
                .map(|a| format!("aged {}", a as i64)),
            "imd_decile" => number
                .filter(|d| *d == 1.0 || *d == 2.0)
                .map(|_| "lives in one of the 20% most deprived areas of England".to_string()),
            "emergency_admissions_12m" => count(
                1.0,
                "emergency admission in the last 12 months",
                "emergency admissions in the last 12 months",
            ),
            "ae_attendances_12m" => count(
                2.0,
                "A&E attendance in the last 12 months",
                "A&E attendances in the last 12 months",
            ),
            "medicines_12m" => count(
                10.0,
                "medicine in the last 12 months (polypharmacy)",
                "different medicines in the last 12 months (polypharmacy)",
            ),
            "charlson_index" => number
                .filter(|c| *c >= 3.0)
                .map(|c| format!("Charlson comorbidity index {}", c as i64)),
            "bed_days_12m" => count(
                7.0,
                "night in hospital in the last 12 months",
                "nights in hospital in the last 12 months",
            ),
            "outpatient_attendances_12m" => count(
                10.0,
                "outpatient appointment in the last 12 months",
                "outpatient appointments in the last 12 months",
            ),
            "ltc_count" => count(2.0, "long-term condition", "long-term conditions"),
            "efi" => number.filter(|e| *e > 0.24).map(|e| {
                let category = if e > 0.36 { "severe" } else { "moderate" };
                format!("{category} frailty (eFI {e:.2})")
            }),
            "hfrs" => number
                .filter(|h| *h > 15.0)
                .map(|h| format!("high hospital frailty risk score ({h:.1})")),
            "care_home_resident" => set("lives in a care home"),
            "social_care_active" => set("receives adult social care"),
            _ => None,
        }
    }

    // --- random populations: every column type, nulls, ties and the threshold ---

    /// The features of the random populations, one term each except age (two).
    const FEATURES: [&str; 17] = [
        "age",
        "age",
        "sex",
        "imd_decile",
        "emergency_admissions_12m",
        "ae_attendances_12m",
        "medicines_12m",
        "charlson_index",
        "bed_days_12m",
        "outpatient_attendances_12m",
        "ltc_count",
        "efi",
        "hfrs",
        "care_home_resident",
        "social_care_active",
        "ethnic_group",
        "last_contact",
    ];

    /// A population of `rows` people: a feature table with integer, float,
    /// flag, text and date columns (with nulls, NaN, and text that reads as a
    /// number), a model of [`FEATURES`], and a design matrix whose values and
    /// coefficients make ties and contributions of exactly 0.05 common.
    fn population(rows: usize, seed: u64) -> (ModelFile, DesignMatrix, DataFrame) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let weights = [0.1, 0.2, 0.4, -0.3];
        let terms: Vec<Term> = FEATURES
            .iter()
            .enumerate()
            .map(|(j, f)| {
                let mut t = Term::new(&format!("t{j}"), f, Transform::Linear);
                t.coefficient = weights[rng.random_range(0..weights.len())];
                t
            })
            .collect();
        let levels = [-1.0, 0.0, 0.25, 0.5, 1.0, 2.0];
        let x = DesignMatrix {
            rows,
            columns: (0..terms.len())
                .map(|_| {
                    (0..rows)
                        .map(|_| levels[rng.random_range(0..levels.len())])
                        .collect()
                })
                .collect(),
        };
        // Mostly 0–3 (with 1, which is singular), sometimes either side of
        // the whole numbers worded in advance, sometimes negative.
        let ints = |rng: &mut ChaCha8Rng, null: f64| -> Vec<Option<i32>> {
            (0..rows)
                .map(|_| {
                    (!rng.random_bool(null)).then(|| match rng.random_range(0..10) {
                        0 => rng.random_range(SMALL as i32 - 2..SMALL as i32 + 2),
                        1 => rng.random_range(-2..0),
                        _ => rng.random_range(0..4),
                    })
                })
                .collect()
        };
        // Either side of 75 as well.
        let age: Vec<Option<i32>> = ints(&mut rng, 0.1)
            .into_iter()
            .map(|a| {
                a.map(|a| {
                    if a == 2 {
                        73 + rng.random_range(0..4)
                    } else {
                        a
                    }
                })
            })
            .collect();
        let imd = ints(&mut rng, 0.2);
        let admissions: Vec<u32> = (0..rows).map(|_| rng.random_range(0..4)).collect();
        let ae: Vec<i32> = ints(&mut rng, 0.0)
            .into_iter()
            .map(|v| v.unwrap_or(0))
            .collect();
        // Either side of polypharmacy (10).
        let medicines: Vec<f64> = (0..rows)
            .map(|_| f64::from(rng.random_range(7..13)))
            .collect();
        // Without nulls, in each numeric type read in place.
        let charlson: Vec<i64> = ints(&mut rng, 0.0)
            .into_iter()
            .map(|v| i64::from(v.unwrap_or(0)))
            .collect();
        let bed_days = ints(&mut rng, 0.3);
        let outpatient: Vec<u64> = ints(&mut rng, 0.0)
            .into_iter()
            .map(|v| v.unwrap_or(0).max(0) as u64)
            .collect();
        let ltc: Vec<f32> = ints(&mut rng, 0.0)
            .into_iter()
            .map(|v| v.unwrap_or(0) as f32)
            .collect();
        let floats = |rng: &mut ChaCha8Rng| -> Vec<Option<f64>> {
            let special = [
                0.0,
                -0.0,
                0.12,
                0.125,
                1.0,
                2.0,
                255.0,
                256.0,
                f64::NAN,
                0.3333,
            ];
            (0..rows)
                .map(|_| {
                    (!rng.random_bool(0.15)).then(|| special[rng.random_range(0..special.len())])
                })
                .collect()
        };
        let efi = floats(&mut rng);
        let hfrs: Vec<Option<f32>> = floats(&mut rng)
            .into_iter()
            .map(|v| v.map(|v| v as f32 * 20.0))
            .collect();
        let flags = |rng: &mut ChaCha8Rng| -> Vec<Option<bool>> {
            (0..rows)
                .map(|_| (!rng.random_bool(0.2)).then(|| rng.random_bool(0.5)))
                .collect()
        };
        let care_home = flags(&mut rng);
        let social_care = flags(&mut rng);
        let texts = |rng: &mut ChaCha8Rng, values: &[&'static str]| -> Vec<Option<&'static str>> {
            (0..rows)
                .map(|_| {
                    (!rng.random_bool(0.15)).then(|| values[rng.random_range(0..values.len())])
                })
                .collect()
        };
        let sex = texts(&mut rng, &["F", "M", "U", "1"]);
        let ethnic = texts(&mut rng, &["White", "12", "2.5", "-0", "1e3", "NaN", ""]);
        let last_contact = ints(&mut rng, 0.3);
        let frame = DataFrame::new(
            rows,
            vec![
                Column::new("age".into(), age),
                Column::new("sex".into(), sex),
                Column::new("imd_decile".into(), imd),
                Column::new("emergency_admissions_12m".into(), admissions),
                Column::new("ae_attendances_12m".into(), ae),
                Column::new("medicines_12m".into(), medicines),
                Column::new("charlson_index".into(), charlson),
                Column::new("bed_days_12m".into(), bed_days),
                Column::new("outpatient_attendances_12m".into(), outpatient),
                Column::new("ltc_count".into(), ltc),
                Column::new("efi".into(), efi),
                Column::new("hfrs".into(), hfrs),
                Column::new("care_home_resident".into(), care_home),
                Column::new("social_care_active".into(), social_care),
                Column::new("ethnic_group".into(), ethnic),
                Column::new("last_contact".into(), last_contact)
                    .cast(&DataType::Date)
                    .expect("date column"),
            ],
        )
        .expect("frame");
        (model(terms), x, frame)
    }

    fn cases() -> u32 {
        std::env::var("STRATA_PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(24)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]

        /// Typed, chunked, parallel reasons say exactly what the cell-by-cell
        /// implementation said, for every type of column, null and tie.
        #[test]
        fn reasons_match_the_cell_by_cell_reference(rows in 0usize..400, seed in any::<u64>()) {
            let (m, x, frame) = population(rows, seed);
            let reasons = top_reasons(&m, &x, &frame).expect("reasons");
            prop_assert_eq!(reasons.len(), rows);
            prop_assert_eq!(all(&reasons), reference_top_reasons(&m, &x, &frame));
        }
    }

    /// More rows than one parallel task takes, and a block boundary inside each task.
    fn big_population() -> (ModelFile, DesignMatrix, DataFrame) {
        population(2 * CHUNK + BLOCK + 7, 11)
    }

    #[test]
    fn reasons_are_the_same_on_one_thread_and_many() {
        let (m, x, frame) = big_population();
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool")
                .install(|| top_reasons(&m, &x, &frame).expect("reasons"))
        };
        let one = on(1);
        let many = on(4);
        assert_eq!(all(&one), all(&many));
        assert_eq!(all(&one), reference_top_reasons(&m, &x, &frame));
    }

    #[test]
    fn a_persons_reasons_do_not_depend_on_the_other_rows() {
        let (m, x, frame) = big_population();
        let reasons = top_reasons(&m, &x, &frame).expect("reasons");
        // Reverse, then rotate by a third: every person lands in another chunk and block.
        let rows = x.rows as IdxSize;
        let order: Vec<IdxSize> = (0..rows)
            .rev()
            .cycle()
            .skip(x.rows / 3)
            .take(x.rows)
            .collect();
        let shuffled_frame = frame
            .take(&IdxCa::from_vec("order".into(), order.clone()))
            .expect("take");
        let shuffled_x = DesignMatrix {
            rows: x.rows,
            columns: x
                .columns
                .iter()
                .map(|c| order.iter().map(|&r| c[r as usize]).collect())
                .collect(),
        };
        let shuffled = top_reasons(&m, &shuffled_x, &shuffled_frame).expect("reasons");
        for (i, &r) in order.iter().enumerate() {
            assert_eq!(shuffled.person(i), reasons.person(r as usize), "row {r}");
        }
    }

    #[test]
    fn describe_words_one_cell() {
        let column = Column::new("medicines_12m".into(), [Some(12i32), None, Some(9)]);
        assert_eq!(
            describe("medicines_12m", &column, 0).as_deref(),
            Some("12 different medicines in the last 12 months (polypharmacy)")
        );
        // Unknown, and nine medicines, are not reasons.
        assert_eq!(describe("medicines_12m", &column, 1), None);
        assert_eq!(describe("medicines_12m", &column, 2), None);
        assert_eq!(describe("medicines_12m", &column, 3), None);
        let flag = Column::new("care_home_resident".into(), [false]);
        assert_eq!(describe("care_home_resident", &flag, 0), None);
    }
}
