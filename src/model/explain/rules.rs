//! The table of reason rules: which feature values are clinically notable
//! enough to be written on a clinical list, and in what words.
//!
//! A feature raising a person's modelled risk above the average person's is
//! not, by itself, something a GP can act on: with a negative coefficient on
//! `imd_decile`, a person in decile 6 "raises" risk against a population
//! whose mean decile is 7, and a fit person's eFI of 0.08 can sit above a
//! mean of 0.05. So a reason needs both: the feature raises this person's
//! risk (its contribution), **and** the person's value meets the feature's
//! rule here. A feature without a rule is never a reason; protective and
//! neutral values (decile 6, fit or mild frailty, no admissions) meet no
//! rule. docs/outputs.md ("Reasons") shows this table, rendered by
//! [`markdown_table`]; a test keeps the two the same.

use std::fmt::Write as _;

/// One feature's rule: when its value is notable, and the words then.
#[derive(Debug, Clone, Copy)]
pub struct ReasonRule {
    pub feature: &'static str,
    pub when: When,
    pub words: Template,
}

/// When a value is clinically notable. A missing value, or one that is
/// not a number where a number is needed, never is.
#[derive(Debug, Clone, Copy)]
pub enum When {
    /// A number at least this.
    AtLeast(f64),
    /// A number strictly above this.
    Above(f64),
    /// A number in this inclusive range.
    Between(f64, f64),
    /// A flag that is set.
    Set,
    /// Text that is one of these.
    OneOf(&'static [&'static str]),
}

/// The words of a notable value; `{n}` is the person's value.
#[derive(Debug, Clone, Copy)]
pub enum Template {
    /// Always the same words.
    Fixed(&'static str),
    /// A whole number before singular or plural words: `{n} <one|many>`.
    Count {
        one: &'static str,
        many: &'static str,
    },
    /// `<before>{n}<after>`, `n` to `decimals` places.
    Number {
        before: &'static str,
        after: &'static str,
        decimals: usize,
    },
    /// The eFI category and the score: `moderate frailty (eFI 0.31)`.
    Efi,
    /// The text value itself.
    Text,
}

const fn fixed(feature: &'static str, when: When, words: &'static str) -> ReasonRule {
    ReasonRule {
        feature,
        when,
        words: Template::Fixed(words),
    }
}

const fn count(
    feature: &'static str,
    at_least: f64,
    one: &'static str,
    many: &'static str,
) -> ReasonRule {
    ReasonRule {
        feature,
        when: When::AtLeast(at_least),
        words: Template::Count { one, many },
    }
}

const fn condition(feature: &'static str, words: &'static str) -> ReasonRule {
    fixed(feature, When::Set, words)
}

/// The words for the most deprived quintile, from deciles or quintiles.
const DEPRIVED: &str = "lives in one of the 20% most deprived areas of England";

/// Every reason rule, one per feature. Thresholds follow clinical use:
/// IMD quintile 1 is Core20 (NHS England's most deprived 20%); eFI moderate
/// or severe frailty is where NHS England asks for a frailty review; ten or
/// more medicines is the polypharmacy of the NHS England polypharmacy
/// prescribing comparators; two or more long-term conditions is
/// multimorbidity; Charlson 3 or more is moderate to severe comorbidity;
/// HFRS above 15 is Gilbert's high-risk band.
pub const REASON_RULES: &[ReasonRule] = &[
    ReasonRule {
        feature: "age",
        when: When::AtLeast(75.0),
        words: Template::Number {
            before: "aged ",
            after: "",
            decimals: 0,
        },
    },
    fixed("imd_decile", When::Between(1.0, 2.0), DEPRIVED),
    fixed("imd_quintile", When::Between(1.0, 1.0), DEPRIVED),
    count(
        "emergency_admissions_12m",
        1.0,
        "emergency admission in the last 12 months",
        "emergency admissions in the last 12 months",
    ),
    count(
        "emergency_admissions_0_6m",
        1.0,
        "emergency admission in the last 6 months",
        "emergency admissions in the last 6 months",
    ),
    count(
        "emergency_admissions_6_12m",
        1.0,
        "emergency admission 6 to 12 months ago",
        "emergency admissions 6 to 12 months ago",
    ),
    count(
        "emergency_admissions_12_24m",
        1.0,
        "emergency admission 1 to 2 years ago",
        "emergency admissions 1 to 2 years ago",
    ),
    count(
        "ae_attendances_12m",
        2.0,
        "A&E attendance in the last 12 months",
        "A&E attendances in the last 12 months",
    ),
    count(
        "outpatient_attendances_12m",
        10.0,
        "outpatient appointment in the last 12 months",
        "outpatient appointments in the last 12 months",
    ),
    count(
        "bed_days_12m",
        7.0,
        "night in hospital in the last 12 months",
        "nights in hospital in the last 12 months",
    ),
    count(
        "medicines_12m",
        10.0,
        "medicine in the last 12 months (polypharmacy)",
        "different medicines in the last 12 months (polypharmacy)",
    ),
    fixed(
        "polypharmacy_10",
        When::Set,
        "10 or more different medicines in the last 12 months (polypharmacy)",
    ),
    count(
        "ltc_count",
        2.0,
        "long-term condition",
        "long-term conditions",
    ),
    ReasonRule {
        feature: "charlson_index",
        when: When::AtLeast(3.0),
        words: Template::Number {
            before: "Charlson comorbidity index ",
            after: "",
            decimals: 0,
        },
    },
    ReasonRule {
        feature: "charlson_quan_2011",
        when: When::AtLeast(3.0),
        words: Template::Number {
            before: "Charlson comorbidity index ",
            after: "",
            decimals: 0,
        },
    },
    ReasonRule {
        feature: "efi",
        when: When::Above(0.24),
        words: Template::Efi,
    },
    ReasonRule {
        feature: "efi_category",
        when: When::OneOf(&["moderate frailty", "severe frailty"]),
        words: Template::Text,
    },
    ReasonRule {
        feature: "hfrs",
        when: When::Above(15.0),
        words: Template::Number {
            before: "high hospital frailty risk score (",
            after: ")",
            decimals: 1,
        },
    },
    condition("care_home_resident", "lives in a care home"),
    condition("social_care_active", "receives adult social care"),
    condition(
        "metastatic_cancer",
        "has cancer that has spread (metastatic)",
    ),
    condition("ltc_hypertension", "has hypertension"),
    condition("ltc_diabetes", "has diabetes"),
    condition("ltc_asthma", "has asthma"),
    condition("ltc_copd", "has COPD"),
    condition("ltc_heart_failure", "has heart failure"),
    condition("ltc_atrial_fibrillation", "has atrial fibrillation"),
    condition("ltc_coronary_heart_disease", "has coronary heart disease"),
    condition("ltc_stroke_tia", "has had a stroke or TIA"),
    condition("ltc_ckd_3_5", "has chronic kidney disease (stage 3-5)"),
    condition("ltc_dementia", "has dementia"),
    condition("ltc_cancer", "has a cancer diagnosis"),
    condition("ltc_depression", "has depression"),
    condition("ltc_serious_mental_illness", "has a serious mental illness"),
    condition("ltc_learning_disability", "has a learning disability"),
];

/// The rule of `feature`, if it has one.
pub fn rule(feature: &str) -> Option<&'static ReasonRule> {
    REASON_RULES.iter().find(|r| r.feature == feature)
}

/// A number as the tables write it: whole numbers without decimals.
fn plain(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

impl When {
    /// Whether a value read as `number` and `text` is notable. A flag is
    /// read as the number 1 when set.
    pub fn met(&self, number: Option<f64>, text: Option<&str>) -> bool {
        match *self {
            When::AtLeast(min) => number.is_some_and(|n| n >= min),
            When::Above(min) => number.is_some_and(|n| n > min),
            When::Between(lo, hi) => number.is_some_and(|n| (lo..=hi).contains(&n)),
            When::Set => number == Some(1.0),
            When::OneOf(values) => text.is_some_and(|t| values.contains(&t)),
        }
    }

    /// The condition in words, for the documentation table.
    pub fn describe(&self) -> String {
        match *self {
            When::AtLeast(min) => format!("≥ {}", plain(min)),
            When::Above(min) => format!("> {}", plain(min)),
            When::Between(lo, hi) if lo == hi => format!("= {}", plain(lo)),
            When::Between(lo, hi) => format!("{} to {}", plain(lo), plain(hi)),
            When::Set => "true".to_string(),
            When::OneOf(values) => values.join(" or "),
        }
    }
}

impl Template {
    /// Writes the words for a notable value into `out`.
    pub fn write(&self, number: Option<f64>, text: Option<&str>, out: &mut String) {
        let n = number.unwrap_or(0.0);
        // Writing into a String cannot fail.
        let _ = match *self {
            Template::Fixed(words) => write!(out, "{words}"),
            Template::Count { one, many } => {
                let words = if n == 1.0 { one } else { many };
                write!(out, "{} {words}", n as i64)
            }
            Template::Number {
                before,
                after,
                decimals,
            } => write!(out, "{before}{n:.decimals$}{after}"),
            Template::Efi => write!(
                out,
                "{} (eFI {n:.2})",
                crate::codelists::efi_category(n).label()
            ),
            Template::Text => write!(out, "{}", text.unwrap_or_default()),
        };
    }

    /// The template in words, for the documentation table.
    pub fn describe(&self) -> String {
        match *self {
            Template::Fixed(words) => words.to_string(),
            // Singular for 1 ("1 emergency admission …"), as the tests show.
            Template::Count { many, .. } => format!("{{n}} {many}"),
            Template::Number {
                before,
                after,
                decimals: 0,
            } => format!("{before}{{n}}{after}"),
            Template::Number {
                before,
                after,
                decimals,
            } => format!("{before}{{n, {decimals} decimal}}{after}"),
            Template::Efi => {
                "moderate frailty (eFI {n, 2 decimals}); severe frailty (eFI {n, 2 decimals})"
                    .to_string()
            }
            Template::Text => "the value itself".to_string(),
        }
    }
}

impl ReasonRule {
    /// The words for a value read as `number` and `text`, written into
    /// `out`; false, with nothing written, when the value is not notable.
    pub fn write(&self, number: Option<f64>, text: Option<&str>, out: &mut String) -> bool {
        if !self.when.met(number, text) {
            return false;
        }
        self.words.write(number, text, out);
        true
    }
}

/// The table of rules as Markdown, as docs/outputs.md shows it.
pub fn markdown_table() -> String {
    let mut out = String::from("| feature | notable when | reason |\n|---|---|---|\n");
    for r in REASON_RULES {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            r.feature,
            r.when.describe(),
            r.words.describe()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words for `feature` at a number, or `None` when not notable.
    fn say(feature: &str, number: Option<f64>) -> Option<String> {
        let mut out = String::new();
        rule(feature)
            .expect("a rule")
            .write(number, None, &mut out)
            .then_some(out)
    }

    fn say_text(feature: &str, text: &str) -> Option<String> {
        let mut out = String::new();
        rule(feature)
            .expect("a rule")
            .write(None, Some(text), &mut out)
            .then_some(out)
    }

    #[test]
    fn age_from_75() {
        assert_eq!(say("age", Some(74.0)), None);
        assert_eq!(say("age", Some(75.0)).as_deref(), Some("aged 75"));
        assert_eq!(say("age", Some(91.0)).as_deref(), Some("aged 91"));
        assert_eq!(say("age", None), None);
    }

    #[test]
    fn deprivation_only_in_the_most_deprived_fifth() {
        let deprived = Some(DEPRIVED.to_string());
        assert_eq!(say("imd_decile", Some(1.0)), deprived);
        assert_eq!(say("imd_decile", Some(2.0)), deprived);
        // The middle of the scale, and the least deprived, are not reasons.
        for decile in [3.0, 6.0, 10.0, 0.0, f64::NAN] {
            assert_eq!(say("imd_decile", Some(decile)), None, "decile {decile}");
        }
        assert_eq!(say("imd_decile", None), None);
        assert_eq!(say("imd_quintile", Some(1.0)), deprived);
        assert_eq!(say("imd_quintile", Some(2.0)), None);
        assert_eq!(
            DEPRIVED,
            "lives in one of the 20% most deprived areas of England"
        );
    }

    #[test]
    fn emergency_admissions_from_one() {
        assert_eq!(say("emergency_admissions_12m", Some(0.0)), None);
        assert_eq!(
            say("emergency_admissions_12m", Some(1.0)).as_deref(),
            Some("1 emergency admission in the last 12 months")
        );
        assert_eq!(
            say("emergency_admissions_12m", Some(3.0)).as_deref(),
            Some("3 emergency admissions in the last 12 months")
        );
        assert_eq!(say("emergency_admissions_0_6m", Some(0.0)), None);
        assert_eq!(
            say("emergency_admissions_0_6m", Some(2.0)).as_deref(),
            Some("2 emergency admissions in the last 6 months")
        );
        assert_eq!(
            say("emergency_admissions_6_12m", Some(1.0)).as_deref(),
            Some("1 emergency admission 6 to 12 months ago")
        );
        assert_eq!(say("emergency_admissions_12_24m", Some(0.0)), None);
        assert_eq!(
            say("emergency_admissions_12_24m", Some(2.0)).as_deref(),
            Some("2 emergency admissions 1 to 2 years ago")
        );
    }

    #[test]
    fn repeated_ae_attendance_from_two() {
        assert_eq!(say("ae_attendances_12m", Some(1.0)), None);
        assert_eq!(
            say("ae_attendances_12m", Some(2.0)).as_deref(),
            Some("2 A&E attendances in the last 12 months")
        );
    }

    #[test]
    fn outpatients_from_ten_and_bed_days_from_seven() {
        assert_eq!(say("outpatient_attendances_12m", Some(9.0)), None);
        assert_eq!(
            say("outpatient_attendances_12m", Some(10.0)).as_deref(),
            Some("10 outpatient appointments in the last 12 months")
        );
        assert_eq!(say("bed_days_12m", Some(6.0)), None);
        assert_eq!(
            say("bed_days_12m", Some(7.0)).as_deref(),
            Some("7 nights in hospital in the last 12 months")
        );
    }

    #[test]
    fn polypharmacy_from_ten_medicines() {
        assert_eq!(say("medicines_12m", Some(9.0)), None);
        assert_eq!(
            say("medicines_12m", Some(10.0)).as_deref(),
            Some("10 different medicines in the last 12 months (polypharmacy)")
        );
        assert_eq!(say("polypharmacy_10", Some(0.0)), None);
        assert_eq!(
            say("polypharmacy_10", Some(1.0)).as_deref(),
            Some("10 or more different medicines in the last 12 months (polypharmacy)")
        );
        // Five to nine medicines is not a reason.
        assert!(rule("polypharmacy_5").is_none());
    }

    #[test]
    fn multimorbidity_from_two_conditions_and_charlson_from_three() {
        assert_eq!(say("ltc_count", Some(1.0)), None);
        assert_eq!(
            say("ltc_count", Some(2.0)).as_deref(),
            Some("2 long-term conditions")
        );
        assert_eq!(say("charlson_index", Some(2.0)), None);
        assert_eq!(
            say("charlson_index", Some(3.0)).as_deref(),
            Some("Charlson comorbidity index 3")
        );
        assert_eq!(
            say("charlson_quan_2011", Some(5.0)).as_deref(),
            Some("Charlson comorbidity index 5")
        );
    }

    #[test]
    fn frailty_only_when_moderate_or_severe() {
        // 8/36 = 0.222 is mild; 9/36 = 0.25 moderate; 13/36 = 0.361 severe.
        assert_eq!(say("efi", Some(0.08)), None);
        assert_eq!(say("efi", Some(8.0 / 36.0)), None);
        assert_eq!(say("efi", Some(0.24)), None);
        assert_eq!(
            say("efi", Some(9.0 / 36.0)).as_deref(),
            Some("moderate frailty (eFI 0.25)")
        );
        assert_eq!(
            say("efi", Some(13.0 / 36.0)).as_deref(),
            Some("severe frailty (eFI 0.36)")
        );
        assert_eq!(say("efi", None), None);
        assert_eq!(say_text("efi_category", "fit"), None);
        assert_eq!(say_text("efi_category", "mild frailty"), None);
        assert_eq!(
            say_text("efi_category", "moderate frailty").as_deref(),
            Some("moderate frailty")
        );
        assert_eq!(
            say_text("efi_category", "severe frailty").as_deref(),
            Some("severe frailty")
        );
    }

    #[test]
    fn hospital_frailty_only_when_high() {
        assert_eq!(say("hfrs", Some(15.0)), None);
        assert_eq!(
            say("hfrs", Some(15.25)).as_deref(),
            Some("high hospital frailty risk score (15.2)")
        );
    }

    #[test]
    fn flags_only_when_set() {
        let cases = [
            ("care_home_resident", "lives in a care home"),
            ("social_care_active", "receives adult social care"),
            (
                "metastatic_cancer",
                "has cancer that has spread (metastatic)",
            ),
            ("ltc_hypertension", "has hypertension"),
            ("ltc_diabetes", "has diabetes"),
            ("ltc_asthma", "has asthma"),
            ("ltc_copd", "has COPD"),
            ("ltc_heart_failure", "has heart failure"),
            ("ltc_atrial_fibrillation", "has atrial fibrillation"),
            ("ltc_coronary_heart_disease", "has coronary heart disease"),
            ("ltc_stroke_tia", "has had a stroke or TIA"),
            ("ltc_ckd_3_5", "has chronic kidney disease (stage 3-5)"),
            ("ltc_dementia", "has dementia"),
            ("ltc_cancer", "has a cancer diagnosis"),
            ("ltc_depression", "has depression"),
            ("ltc_serious_mental_illness", "has a serious mental illness"),
            ("ltc_learning_disability", "has a learning disability"),
        ];
        for (feature, words) in cases {
            assert_eq!(say(feature, Some(1.0)).as_deref(), Some(words), "{feature}");
            assert_eq!(say(feature, Some(0.0)), None, "{feature}");
            assert_eq!(say(feature, None), None, "{feature}");
        }
    }

    #[test]
    fn features_without_a_rule_are_never_reasons() {
        for feature in [
            "sex",
            "ethnicity_group",
            "age_band",
            "gp_contacts_12m",
            "cost_12m",
        ] {
            assert!(rule(feature).is_none(), "{feature}");
        }
    }

    #[test]
    fn every_rule_has_a_test_above() {
        // One feature per rule, and every rule named in this file's tests.
        let source = include_str!("rules.rs");
        let tests = &source[source.find("mod tests").expect("tests")..];
        for r in REASON_RULES {
            assert_eq!(
                REASON_RULES
                    .iter()
                    .filter(|o| o.feature == r.feature)
                    .count(),
                1,
                "{} has one rule",
                r.feature
            );
            assert!(
                tests.contains(&format!("\"{}\"", r.feature)),
                "{} has no test",
                r.feature
            );
        }
    }

    #[test]
    fn the_documentation_shows_this_table() {
        let doc = include_str!("../../../docs/outputs.md");
        let table = markdown_table();
        assert!(
            doc.contains(&table),
            "docs/outputs.md must hold the reason rules table exactly:\n{table}"
        );
    }
}
