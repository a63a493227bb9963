//! Every reason the real binary writes is a clinically notable value by the
//! documented rules (docs/outputs.md, "Reasons"), checked against the
//! person's own feature values in `patient_risk`: no IMD reason unless the
//! decile is 1 or 2, no frailty reason for fit or mild frailty, no count
//! below its threshold, and no reason whose words the rules do not have.
//!
//! The rules are written out here again from the documentation, as text
//! patterns, not taken from `strata::model::explain`.

use polars::prelude::*;

use crate::pipeline::read_parts;
use crate::support::{root, stderr, strata};

/// One person's values of the default model's features.
struct Person {
    age: Option<f64>,
    imd_decile: Option<f64>,
    values: Vec<(&'static str, Option<f64>)>,
}

impl Person {
    fn get(&self, feature: &str) -> Option<f64> {
        match feature {
            "age" => self.age,
            "imd_decile" => self.imd_decile,
            _ => self.values.iter().find(|(f, _)| *f == feature)?.1,
        }
    }
}

/// Counts written as `{n} {words}` (singular for 1): feature, threshold,
/// the words after the number (plural; the singular drops an `s`).
const COUNTS: &[(&str, f64, &str, &str)] = &[
    (
        "emergency_admissions_12m",
        1.0,
        "emergency admission in the last 12 months",
        "emergency admissions in the last 12 months",
    ),
    (
        "emergency_admissions_12_24m",
        1.0,
        "emergency admission 1 to 2 years ago",
        "emergency admissions 1 to 2 years ago",
    ),
    (
        "ae_attendances_12m",
        2.0,
        "A&E attendance in the last 12 months",
        "A&E attendances in the last 12 months",
    ),
    (
        "outpatient_attendances_12m",
        10.0,
        "outpatient appointment in the last 12 months",
        "outpatient appointments in the last 12 months",
    ),
    (
        "bed_days_12m",
        7.0,
        "night in hospital in the last 12 months",
        "nights in hospital in the last 12 months",
    ),
    (
        "medicines_12m",
        10.0,
        "medicine in the last 12 months (polypharmacy)",
        "different medicines in the last 12 months (polypharmacy)",
    ),
    (
        "ltc_count",
        2.0,
        "long-term condition",
        "long-term conditions",
    ),
];

/// The numeric features the checks read (flags as 0/1).
const NUMERIC: &[&str] = &[
    "emergency_admissions_12m",
    "emergency_admissions_12_24m",
    "ae_attendances_12m",
    "outpatient_attendances_12m",
    "bed_days_12m",
    "medicines_12m",
    "charlson_index",
    "ltc_count",
    "efi",
    "hfrs",
    "care_home_resident",
    "social_care_active",
];

/// Why `reason` breaks the rules for `p`, or `None` when it keeps them; the
/// second value names the rule the reason was read as.
fn check(reason: &str, p: &Person) -> (&'static str, Option<String>) {
    let number = |s: &str| s.parse::<f64>().ok();
    let fail = |rule: &'static str, why: String| (rule, Some(why));
    if let Some(n) = reason.strip_prefix("aged ").and_then(number) {
        return match p.age {
            Some(a) if a == n && a >= 75.0 => ("age", None),
            other => fail("age", format!("age is {other:?}")),
        };
    }
    if reason == "lives in one of the 20% most deprived areas of England" {
        return match p.imd_decile {
            Some(d) if d == 1.0 || d == 2.0 => ("imd_decile", None),
            other => fail("imd_decile", format!("IMD decile is {other:?}, not 1 or 2")),
        };
    }
    for &(feature, min, one, many) in COUNTS {
        for words in [one, many] {
            if let Some(n) = reason
                .strip_suffix(words)
                .and_then(|s| s.strip_suffix(' '))
                .and_then(number)
            {
                let value = p.get(feature);
                let plural_ok = (n == 1.0) == (words == one);
                return if value == Some(n) && n >= min && plural_ok {
                    (feature, None)
                } else {
                    fail(feature, format!("{feature} is {value:?}; needs ≥ {min}"))
                };
            }
        }
    }
    if let Some(n) = reason
        .strip_prefix("Charlson comorbidity index ")
        .and_then(number)
    {
        let value = p.get("charlson_index");
        return if value == Some(n) && n >= 3.0 {
            ("charlson_index", None)
        } else {
            fail("charlson_index", format!("charlson_index is {value:?}"))
        };
    }
    for (category, lo, hi) in [
        ("moderate frailty", 0.24, 0.36),
        ("severe frailty", 0.36, f64::INFINITY),
    ] {
        if let Some(shown) = reason
            .strip_prefix(category)
            .and_then(|s| s.strip_prefix(" (eFI "))
            .and_then(|s| s.strip_suffix(')'))
            .and_then(number)
        {
            let efi = p.get("efi");
            // eFI is reported from age 65 (the population it was validated in).
            let ok = efi.is_some_and(|e| e > lo && e <= hi && (e - shown).abs() <= 0.005)
                && p.age.is_some_and(|a| a >= 65.0);
            return if ok {
                ("efi", None)
            } else {
                fail("efi", format!("efi is {efi:?}, age {:?}", p.age))
            };
        }
    }
    if let Some(shown) = reason
        .strip_prefix("high hospital frailty risk score (")
        .and_then(|s| s.strip_suffix(')'))
        .and_then(number)
    {
        let hfrs = p.get("hfrs");
        return if hfrs.is_some_and(|h| h > 15.0 && (h - shown).abs() <= 0.05) {
            ("hfrs", None)
        } else {
            fail("hfrs", format!("hfrs is {hfrs:?}"))
        };
    }
    for (feature, words) in [
        ("care_home_resident", "lives in a care home"),
        ("social_care_active", "receives adult social care"),
    ] {
        if reason == words {
            return if p.get(feature) == Some(1.0) {
                (feature, None)
            } else {
                fail(feature, format!("{feature} is {:?}", p.get(feature)))
            };
        }
    }
    ("unknown", Some("no rule has these words".into()))
}

/// Checks every reason in a run's `patient_risk` folder; returns the
/// number of reasons per rule, and the breaches.
pub fn check_run(patient_risk: &std::path::Path) -> (Vec<(&'static str, usize)>, Vec<String>) {
    let df = read_parts(patient_risk);
    let float = |name: &str| -> Vec<Option<f64>> {
        let c = df
            .column(name)
            .unwrap_or_else(|_| panic!("patient_risk has {name}"))
            .cast(&DataType::Float64)
            .expect("cast");
        c.f64().expect("f64").iter().collect()
    };
    let age = float("age");
    let imd = float("imd_decile");
    let numeric: Vec<(&'static str, Vec<Option<f64>>)> =
        NUMERIC.iter().map(|f| (*f, float(f))).collect();
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    let mut breaches = Vec::new();
    for k in 1..=3 {
        let column = df.column(&format!("reason_{k}")).expect("reason column");
        let column = column.str().expect("text");
        for (row, reason) in column.iter().enumerate() {
            let Some(reason) = reason else { continue };
            let person = Person {
                age: age[row],
                imd_decile: imd[row],
                values: numeric.iter().map(|(f, v)| (*f, v[row])).collect(),
            };
            let (rule, breach) = check(reason, &person);
            match counts.iter_mut().find(|(r, _)| *r == rule) {
                Some((_, n)) => *n += 1,
                None => counts.push((rule, 1)),
            }
            if let Some(why) = breach {
                breaches.push(format!("row {row} reason_{k} {reason:?}: {why}"));
            }
        }
    }
    counts.sort();
    // The clinical lists carry the same reasons as patient_risk, so the
    // check above covers every reason a practice sees.
    let lists = read_parts(&patient_risk.with_file_name("clinical_lists"));
    let reasons_of = |df: &DataFrame| -> std::collections::BTreeMap<String, Vec<Option<String>>> {
        let ids = df.column("person_id").expect("person_id");
        let ids = ids.str().expect("text");
        let columns: Vec<Vec<Option<String>>> = (1..=3)
            .map(|k| {
                let c = df.column(&format!("reason_{k}")).expect("reason");
                let c = c.str().expect("text");
                c.iter().map(|r| r.map(str::to_string)).collect()
            })
            .collect();
        ids.iter()
            .enumerate()
            .filter_map(|(row, id)| {
                Some((
                    id?.to_string(),
                    columns.iter().map(|c| c[row].clone()).collect(),
                ))
            })
            .collect()
    };
    let everyone = reasons_of(&df);
    let listed = reasons_of(&lists);
    assert!(!listed.is_empty(), "the clinical lists hold people");
    for (id, reasons) in &listed {
        if everyone.get(id) != Some(reasons) {
            breaches.push(format!(
                "a clinical-list row's reasons differ from patient_risk: {reasons:?}"
            ));
        }
    }
    (counts, breaches)
}

#[test]
fn every_reason_on_the_sample_run_is_clinically_notable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = root().join("models/emergency_admission.json");
    let input = root().join("sample-data");
    let result = strata(
        dir.path(),
        &[
            "run",
            "--input",
            input.to_str().expect("utf-8"),
            "--model",
            model.to_str().expect("utf-8"),
            "--out",
            "out",
        ],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    let (counts, breaches) = check_run(&dir.path().join("out/latest/patient_risk"));
    assert!(
        breaches.is_empty(),
        "{} breaches: {breaches:#?}",
        breaches.len()
    );
    // Not vacuous: the sample run gives reasons of several kinds.
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    assert!(total >= 500, "{total} reasons: {counts:?}");
    assert!(counts.len() >= 5, "{counts:?}");
}

/// The same check on any published run: `STRATA_REASONS_RUN=out/latest
/// cargo test --test it reasons_of_a_given_run -- --ignored --nocapture`.
#[test]
#[ignore = "reads the run named by STRATA_REASONS_RUN"]
fn reasons_of_a_given_run_are_clinically_notable() {
    let run = std::env::var("STRATA_REASONS_RUN").expect("STRATA_REASONS_RUN");
    let (counts, breaches) = check_run(&std::path::Path::new(&run).join("patient_risk"));
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    println!("{total} reasons by rule: {counts:?}");
    println!("{} breaches", breaches.len());
    assert!(breaches.is_empty(), "{breaches:#?}");
}
