//! Reasons: each person's top risk-raising factors, in plain words.
//!
//! A term's contribution is its coefficient times the person's standardised
//! value: how far that term moves the person's log-odds above or below the
//! average person in the training population. Terms reading the same feature
//! (age and its hinges) are added together; the features with the largest
//! positive contributions are the reasons, worded from the person's own values.

use polars::prelude::*;

use crate::error::Result;
use crate::model::{DesignMatrix, ModelFile};

/// How many reasons each person gets.
pub const TOP_REASONS: usize = 3;

/// Contributions smaller than this (in log-odds) are not worth naming.
const MIN_CONTRIBUTION: f64 = 0.05;

/// Up to [`TOP_REASONS`] plain-English reasons per row of `frame`, strongest first.
///
/// `x` must be the standardised design matrix of `model` built from `frame`.
pub fn top_reasons(
    model: &ModelFile,
    x: &DesignMatrix,
    frame: &DataFrame,
) -> Result<Vec<Vec<String>>> {
    let features = model.features();
    let term_feature: Vec<usize> = model
        .terms
        .iter()
        .map(|t| features.iter().position(|f| *f == t.feature).unwrap_or(0))
        .collect();
    let columns: Vec<Column> = features
        .iter()
        .map(|f| frame.column(f).cloned())
        .collect::<PolarsResult<Vec<_>>>()?;
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
        // Largest contribution first; ties broken by feature order so results are deterministic.
        order.sort_by(|&a, &b| totals[b].total_cmp(&totals[a]).then(a.cmp(&b)));
        let reasons = order
            .into_iter()
            .filter_map(|k| describe(features[k], &columns[k], row))
            .take(TOP_REASONS)
            .collect();
        out.push(reasons);
    }
    Ok(out)
}

/// Words for one feature value of one person; `None` when there is nothing to say.
pub fn describe(feature: &str, column: &Column, row: usize) -> Option<String> {
    let value = column.get(row).ok()?;
    if let AnyValue::Boolean(flag) = value {
        // A flag is a reason only when it is set.
        if !flag {
            return None;
        }
    }
    let number = value.extract::<f64>();
    let text = value.get_str().map(str::to_string);
    let n = number.unwrap_or(0.0);
    let plural = |one: &str, many: &str| {
        if (n - 1.0).abs() < f64::EPSILON {
            one.to_string()
        } else {
            many.to_string()
        }
    };
    Some(match feature {
        "age" => format!("aged {}", number? as i64),
        "sex" => match text.as_deref()? {
            "F" => "female".into(),
            "M" => "male".into(),
            _ => return None,
        },
        "imd_decile" => format!("lives in a deprived area (IMD decile {})", number? as i64),
        "emergency_admissions_12m" => format!(
            "{} emergency {} in the last 12 months",
            n as i64,
            plural("admission", "admissions")
        ),
        "ae_attendances_12m" => format!(
            "{} A&E {} in the last 12 months",
            n as i64,
            plural("attendance", "attendances")
        ),
        "medicines_12m" => format!(
            "{} {} in the last 12 months",
            n as i64,
            plural("medicine", "different medicines")
        ),
        "charlson_index" | "charlson_quan_2011" => format!(
            "multiple long-term conditions (Charlson index {})",
            n as i64
        ),
        "bed_days_12m" => format!("{} bed days in hospital in the last 12 months", n as i64),
        "emergency_admissions_12_24m" => {
            format!(
                "{} emergency {} 1 to 2 years ago",
                n as i64,
                plural("admission", "admissions")
            )
        }
        "outpatient_attendances_12m" => {
            format!(
                "{} outpatient {} in the last 12 months",
                n as i64,
                plural("appointment", "appointments")
            )
        }
        "ltc_count" => format!(
            "{} long-term {}",
            n as i64,
            plural("condition", "conditions")
        ),
        "efi" => format!("{} (eFI {n:.2})", crate::codelists::efi_category(n).label()),
        "hfrs" => format!("hospital frailty risk score {n:.1}"),
        "care_home_resident" => "lives in a care home".into(),
        "social_care_active" => "receives adult social care".into(),
        other => match (number, text) {
            (Some(v), _) => format!("{} = {}", other.replace('_', " "), trim_number(v)),
            (None, Some(t)) => format!("{} = {t}", other.replace('_', " ")),
            _ => return None,
        },
    })
}

fn trim_number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Term, Transform};

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
            reasons[0],
            vec![
                "3 emergency admissions in the last 12 months".to_string(),
                "aged 87".to_string()
            ]
        );
        // Person 2: admissions −0.4, age −0.5, medicines +0.2 → one reason.
        assert_eq!(
            reasons[1],
            vec!["1 medicine in the last 12 months".to_string()]
        );
    }
}
