//! Population segments after Bridges to Health (Lynn et al., Milbank Q 2007),
//! so commissioners can plan by need as well as by risk.
//!
//! Every person is in exactly one segment: the first rule (in the order of
//! [`SEGMENTS`], greatest need first) that their features meet.

use polars::prelude::*;

use crate::error::Result;

/// A segment: its label, and the rule in words (docs/outputs.md repeats these).
pub struct Segment {
    pub label: &'static str,
    pub rule: &'static str,
}

/// The segments in priority order; the last ("healthy") catches everyone else.
pub const SEGMENTS: &[Segment] = &[
    Segment {
        label: "frailty_and_dementia",
        rule: "dementia, moderate or severe frailty (eFI > 0.24), a high Hospital Frailty Risk Score (> 15), or living in a care home",
    },
    Segment {
        label: "incurable_cancer",
        rule: "a metastatic solid tumour (Charlson category, ICD-10 C77–C80)",
    },
    Segment {
        label: "organ_failure",
        rule: "heart failure or COPD, or chronic kidney disease stages 3–5 with an emergency admission in the last 12 months",
    },
    Segment {
        label: "disability",
        rule: "a learning disability",
    },
    Segment {
        label: "long_term_conditions",
        rule: "at least one of the 14 long-term conditions",
    },
    Segment {
        label: "acute_illness",
        rule: "an emergency admission or A&E attendance in the last 12 months",
    },
    Segment {
        label: "maternal_and_infant_health",
        rule: "aged under 1",
    },
    Segment {
        label: "healthy",
        rule: "everyone else",
    },
];

/// The features the rules read.
pub const SEGMENT_FEATURES: &[&str] = &[
    "ltc_dementia",
    "efi",
    "hfrs",
    "care_home_resident",
    "metastatic_cancer",
    "ltc_heart_failure",
    "ltc_copd",
    "ltc_ckd_3_5",
    "emergency_admissions_12m",
    "ae_attendances_12m",
    "ltc_learning_disability",
    "ltc_count",
    "age",
];

fn rules() -> Vec<Expr> {
    let flag = |name: &str| col(name).fill_null(lit(false));
    let at_least = |name: &str, v: f64| {
        col(name)
            .cast(DataType::Float64)
            .gt(lit(v))
            .fill_null(lit(false))
    };
    let any = |name: &str| {
        col(name)
            .cast(DataType::Float64)
            .gt_eq(lit(1.0))
            .fill_null(lit(false))
    };
    vec![
        flag("ltc_dementia")
            .or(at_least("efi", 0.24))
            .or(at_least("hfrs", 15.0))
            .or(flag("care_home_resident")),
        flag("metastatic_cancer"),
        flag("ltc_heart_failure")
            .or(flag("ltc_copd"))
            .or(flag("ltc_ckd_3_5").and(any("emergency_admissions_12m"))),
        flag("ltc_learning_disability"),
        any("ltc_count"),
        any("emergency_admissions_12m").or(any("ae_attendances_12m")),
        col("age").lt(lit(1)).fill_null(lit(false)),
    ]
}

/// The segment label of each row of `features` (which must hold [`SEGMENT_FEATURES`]).
pub fn assign_segments(features: &DataFrame) -> Result<Column> {
    // Built from the last rule back, so the first matching rule wins. The
    // rules choose a segment's position, and labels are put in at the end: a
    // `when/then` over text labels copied strings for every person (1.45 s
    // of the scoring stage at 5M people).
    let last = SEGMENTS.len() as u32 - 1;
    let mut segment = lit(last);
    for (k, rule) in rules().into_iter().enumerate().take(SEGMENTS.len()).rev() {
        segment = when(rule).then(lit(k as u32)).otherwise(segment);
    }
    let frame = features
        .clone()
        .lazy()
        .select([segment.cast(DataType::UInt32).alias("segment")])
        .collect()?;
    let labels: StringChunked = frame
        .column("segment")?
        .u32()?
        .iter()
        .map(|k| k.and_then(|k| SEGMENTS.get(k as usize)).map(|s| s.label))
        .collect();
    Ok(labels.with_name("segment".into()).into_column())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(overrides: &[(&str, f64)]) -> DataFrame {
        let columns = SEGMENT_FEATURES
            .iter()
            .map(|name| {
                let v = overrides
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(0.0, |(_, v)| *v);
                if name.starts_with("ltc_") && *name != "ltc_count"
                    || *name == "care_home_resident"
                    || *name == "metastatic_cancer"
                {
                    Column::new((*name).into(), [v > 0.0])
                } else {
                    Column::new((*name).into(), [v])
                }
            })
            .collect();
        DataFrame::new(1, columns).expect("frame")
    }

    fn segment_of(overrides: &[(&str, f64)]) -> String {
        let c = assign_segments(&person(overrides)).expect("segments");
        c.str().expect("str").get(0).expect("label").to_string()
    }

    #[test]
    fn each_rule_and_its_priority() {
        assert_eq!(segment_of(&[("age", 40.0)]), "healthy");
        assert_eq!(segment_of(&[("age", 0.0)]), "maternal_and_infant_health");
        assert_eq!(
            segment_of(&[("age", 40.0), ("ae_attendances_12m", 1.0)]),
            "acute_illness"
        );
        assert_eq!(
            segment_of(&[
                ("age", 40.0),
                ("ltc_count", 1.0),
                ("ae_attendances_12m", 1.0)
            ]),
            "long_term_conditions"
        );
        assert_eq!(
            segment_of(&[
                ("age", 40.0),
                ("ltc_learning_disability", 1.0),
                ("ltc_count", 1.0)
            ]),
            "disability"
        );
        assert_eq!(
            segment_of(&[("age", 70.0), ("ltc_ckd_3_5", 1.0), ("ltc_count", 1.0)]),
            "long_term_conditions"
        );
        assert_eq!(
            segment_of(&[
                ("age", 70.0),
                ("ltc_ckd_3_5", 1.0),
                ("emergency_admissions_12m", 1.0)
            ]),
            "organ_failure"
        );
        assert_eq!(
            segment_of(&[
                ("age", 70.0),
                ("ltc_heart_failure", 1.0),
                ("metastatic_cancer", 1.0)
            ]),
            "incurable_cancer"
        );
        // eFI exactly 0.24 is mild frailty (not above 0.24); 0.25 is moderate.
        assert_eq!(segment_of(&[("age", 80.0), ("efi", 0.24)]), "healthy");
        assert_eq!(
            segment_of(&[("age", 80.0), ("efi", 0.25), ("metastatic_cancer", 1.0)]),
            "frailty_and_dementia"
        );
        assert_eq!(
            segment_of(&[("age", 80.0), ("hfrs", 15.1)]),
            "frailty_and_dementia"
        );
        assert_eq!(segment_of(&[("age", 80.0), ("hfrs", 15.0)]), "healthy");
    }
}
