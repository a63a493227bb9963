//! Population segments after Bridges to Health (Lynn et al., Milbank Q 2007),
//! so commissioners can plan by need as well as by risk.
//!
//! Every person is in exactly one segment: the first rule (in the order of
//! [`SEGMENTS`], greatest need first) that their features meet.

use polars::prelude::*;
use rayon::prelude::*;

use polars::error::PolarsResult as Result;

/// A segment: its label, and the rule in words (docs/outputs.md repeats these).
pub struct Segment {
    pub label: &'static str,
    pub rule: &'static str,
}

/// The segments in priority order; the last ("healthy") catches everyone else.
pub const SEGMENTS: &[Segment] = &[
    Segment {
        label: "frailty_and_dementia",
        rule: "dementia, moderate or severe frailty (eFI > 0.24; the eFI is reported from age 65), a high Hospital Frailty Risk Score (> 15), or living in a care home",
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

/// People whose segment is worked out per task: columns are read a block at
/// a time, so no whole-population temporary is allocated (the rules as
/// Polars expressions cast and compared whole columns: 1.5 s of scoring at
/// 10M people, ×3.4 of 5M).
const BLOCK: usize = 1 << 14;

/// The values the rules read, for one block of people; numbers as floating
/// point whatever their stored type.
struct Block {
    dementia: BooleanChunked,
    care_home: BooleanChunked,
    metastatic_cancer: BooleanChunked,
    heart_failure: BooleanChunked,
    copd: BooleanChunked,
    ckd_3_5: BooleanChunked,
    learning_disability: BooleanChunked,
    efi: Float64Chunked,
    hfrs: Float64Chunked,
    emergency_admissions: Float64Chunked,
    ae_attendances: Float64Chunked,
    ltc_count: Float64Chunked,
    age: Float64Chunked,
}

impl Block {
    fn read(features: &DataFrame, start: usize, len: usize) -> Result<Block> {
        let slice =
            |name: &str| -> Result<Column> { Ok(features.column(name)?.slice(start as i64, len)) };
        let flag = |name: &str| -> Result<BooleanChunked> { Ok(slice(name)?.bool()?.clone()) };
        let number = |name: &str| -> Result<Float64Chunked> {
            Ok(slice(name)?.cast(&DataType::Float64)?.f64()?.clone())
        };
        Ok(Block {
            dementia: flag("ltc_dementia")?,
            care_home: flag("care_home_resident")?,
            metastatic_cancer: flag("metastatic_cancer")?,
            heart_failure: flag("ltc_heart_failure")?,
            copd: flag("ltc_copd")?,
            ckd_3_5: flag("ltc_ckd_3_5")?,
            learning_disability: flag("ltc_learning_disability")?,
            efi: number("efi")?,
            hfrs: number("hfrs")?,
            emergency_admissions: number("emergency_admissions_12m")?,
            ae_attendances: number("ae_attendances_12m")?,
            ltc_count: number("ltc_count")?,
            age: number("age")?,
        })
    }

    /// The segment position of row `i` of the block: the first rule it
    /// meets, in the order of [`SEGMENTS`]. A missing value meets no rule.
    fn segment(&self, i: usize) -> usize {
        let flag = |c: &BooleanChunked| c.get(i).unwrap_or(false);
        let above = |c: &Float64Chunked, v: f64| c.get(i).is_some_and(|x| x > v);
        let any = |c: &Float64Chunked| c.get(i).is_some_and(|x| x >= 1.0);
        let rules = [
            flag(&self.dementia)
                || above(&self.efi, 0.24)
                || above(&self.hfrs, 15.0)
                || flag(&self.care_home),
            flag(&self.metastatic_cancer),
            flag(&self.heart_failure)
                || flag(&self.copd)
                || (flag(&self.ckd_3_5) && any(&self.emergency_admissions)),
            flag(&self.learning_disability),
            any(&self.ltc_count),
            any(&self.emergency_admissions) || any(&self.ae_attendances),
            self.age.get(i).is_some_and(|a| a < 1.0),
        ];
        rules
            .iter()
            .position(|met| *met)
            .unwrap_or(SEGMENTS.len() - 1)
    }
}

/// The segment label of each row of `features` (which must hold [`SEGMENT_FEATURES`]).
pub fn assign_segments(features: &DataFrame) -> Result<Column> {
    let mut positions = vec![0u8; features.height()];
    positions
        .par_chunks_mut(BLOCK)
        .enumerate()
        .try_for_each(|(b, out)| -> Result<()> {
            let block = Block::read(features, b * BLOCK, out.len())?;
            for (i, slot) in out.iter_mut().enumerate() {
                *slot = block.segment(i) as u8;
            }
            Ok(())
        })?;
    let labels: StringChunked = positions
        .iter()
        .map(|&k| Some(SEGMENTS[usize::from(k)].label))
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

    #[test]
    fn missing_values_meet_no_rule_and_counts_may_be_integers() {
        let mut frame = person(&[("age", 40.0)]);
        for name in ["efi", "hfrs", "age"] {
            frame
                .with_column(Column::full_null(name.into(), 1, &DataType::Float64))
                .expect("null");
        }
        frame
            .with_column(Column::new("ae_attendances_12m".into(), [2i32]))
            .expect("counts");
        let segments = assign_segments(&frame).expect("segments");
        assert_eq!(segments.str().expect("str").get(0), Some("acute_illness"));
        frame
            .with_column(Column::new("ae_attendances_12m".into(), [None::<i32>]))
            .expect("counts");
        let segments = assign_segments(&frame).expect("segments");
        assert_eq!(segments.str().expect("str").get(0), Some("healthy"));
    }
}
