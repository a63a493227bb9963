//! The spec tables (`src/features/examples/*.toml`): every case's rows are
//! written to a tiny extract of their own and run through the real engine
//! (`load_extract` + `derive_features`), and each expected value is compared
//! with the feature table. The same cases are the worked examples of
//! docs/feature-catalogue.md, so the documentation shows tested behaviour.

use chrono::NaiveDate;
use polars::prelude::*;
use strata::features::examples::{self, Case, ExampleFile, Expected};
use strata::features::{FeatureSet, derive_features};
use strata::ingest::{ValidateOptions, load_extract};

use crate::support::csv_extract;

/// The CSV text of each table a case needs: one `patients` row and its rows.
fn tables(case: &Case) -> Vec<(&'static str, String)> {
    let patient = case.patient_row();
    let header: Vec<&str> = patient.iter().map(|(c, _)| *c).collect();
    let values: Vec<&str> = patient.iter().map(|(_, v)| v.as_str()).collect();
    let mut out = vec![(
        "patients",
        format!("{}\n{}", header.join(","), values.join(",")),
    )];
    for (table, rows) in &case.rows {
        // Every column of the contract; those a case does not give are empty.
        let spec = strata::contract::table(table).expect("a contract table");
        let header: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
        let given = examples::columns(table);
        let mut text = header.join(",");
        for (k, row) in rows.iter().enumerate() {
            let fields = Case::fields(table, row);
            let line: Vec<String> = header
                .iter()
                .map(|&column| match column {
                    "person_id" => "P".to_string(),
                    "encounter_id" if *table == "encounters" => format!("e{}", k + 1),
                    _ => given
                        .iter()
                        .position(|g| *g == column)
                        .map_or(String::new(), |i| fields[i].clone()),
                })
                .collect();
            text.push('\n');
            text.push_str(&line.join(","));
        }
        out.push((table, text));
    }
    out
}

/// Whether `found` is the `expected` value.
fn matches(expected: &Expected, found: &AnyValue<'_>) -> bool {
    let close = |x: f64, y: f64| (x - y).abs() < 1e-9;
    match (expected, found) {
        (Expected::Null, v) => v.is_null(),
        (Expected::Int(n), AnyValue::Int32(v)) => i64::from(*v) == *n,
        (Expected::Int(n), AnyValue::Int64(v)) => v == n,
        (Expected::Bool(b), AnyValue::Boolean(v)) => v == b,
        (Expected::Number(x), AnyValue::Float64(v)) => close(*x, *v),
        (Expected::Fraction(a, b), AnyValue::Float64(v)) => close(*a as f64 / *b as f64, *v),
        (Expected::Text(t), AnyValue::String(v)) => t == v,
        (Expected::Text(t), AnyValue::StringOwned(v)) => t.as_str() == v.as_str(),
        _ => false,
    }
}

/// Runs one case; returns its failures.
fn run(file: &ExampleFile, case: &Case, set: &FeatureSet) -> Vec<String> {
    let here = format!("examples/{}, case `{}`", file.file, case.name);
    let tables = tables(case);
    let borrowed: Vec<(&str, &str)> = tables.iter().map(|(t, c)| (*t, c.as_str())).collect();
    let dir = csv_extract(&borrowed);
    let options = ValidateOptions {
        today: NaiveDate::from_ymd_opt(2030, 1, 1).expect("date"),
        // Every row of a case is meant to be valid: a rejected row is a broken case.
        max_reject_fraction: 0.0,
        dmd_bnf: (!case.dmd_bnf.is_empty())
            .then(|| std::sync::Arc::new(case.dmd_bnf.iter().cloned().collect())),
    };
    let extract = match load_extract(dir.path(), &options) {
        Ok(e) => e,
        Err(e) => return vec![format!("{here}: the extract is refused: {e}")],
    };
    let frame = match derive_features(&extract, case.index_date, set) {
        Ok(t) => t.frame,
        Err(e) => return vec![format!("{here}: features failed: {e}")],
    };
    match (frame.height(), case.in_population) {
        (0, false) => return Vec::new(),
        (1, true) => {}
        (n, true) => {
            return vec![format!(
                "{here}: expected the person in scope, found {n} rows"
            )];
        }
        (_, false) => return vec![format!("{here}: expected no one in scope, found a row")],
    }
    let mut failures = Vec::new();
    for (feature, expected) in &case.expect {
        let found = match frame.column(feature) {
            Ok(c) => c.get(0).map(|v| v.into_static()),
            Err(_) => {
                failures.push(format!("{here}: no feature `{feature}`"));
                continue;
            }
        };
        match found {
            Ok(v) if matches(expected, &v) => {}
            Ok(v) => failures.push(format!(
                "{here}: `{feature}` expected {expected}, found {v}"
            )),
            Err(e) => failures.push(format!("{here}: `{feature}`: {e}")),
        }
    }
    failures
}

#[test]
fn every_spec_table_case_gives_its_expected_values() {
    let files = examples::load().expect("example files parse");
    let set = FeatureSet::builtin().expect("built-in catalogue");
    let mut failures = Vec::new();
    let mut cases = 0;
    for file in &files {
        for case in &file.cases {
            cases += 1;
            failures.extend(run(file, case, &set));
        }
    }
    assert!(cases > 0);
    assert!(
        failures.is_empty(),
        "{} of {cases} spec-table checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The runner can fail: a wrong expectation is reported with its file, case and feature.
#[test]
fn a_wrong_expectation_is_reported_by_file_case_and_feature() {
    let text = "title = \"t\"\ngroup = \"Social care\"\nindex_date = \"2025-03-31\"\n\
                [[case]]\nname = \"one-day package\"\nreason = \"deliberately wrong\"\n\
                social_care = [\"2025-01-10, 2025-01-10, reablement\"]\n\
                expect = { social_care_days_12m = 0 }\n";
    let file = examples::parse("wrong.toml", text).expect("parses");
    let set = FeatureSet::builtin().expect("built-in catalogue");
    let failures = run(&file, &file.cases[0], &set);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].contains("examples/wrong.toml, case `one-day package`: `social_care_days_12m` expected 0, found 1"),
        "{}",
        failures[0]
    );
}
