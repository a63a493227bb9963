//! Spec tables: each feature family's worked examples, one TOML file per
//! family under `src/features/examples/`. Every case is one person's rows
//! in, the expected values out, and the reason in a sentence. The same
//! cases are run through the real engine (`tests/it/feature_examples.rs`)
//! and printed as the "Worked examples" of `docs/feature-catalogue.md`
//! ([`super::catalogue`]), so the documentation cannot drift from the
//! behaviour. Expected values are worked out by hand from the definitions,
//! never copied from the program's output.
//!
//! ```toml
//! title = "Social care"          # heading of the examples
//! group = "Social care"          # the catalogue group they belong under
//! index_date = "2025-03-31"      # default for the cases
//!
//! [[case]]
//! name = "package ending on the index date"
//! reason = "25 … 31 March, both inclusive: 7 days; active on its end date."
//! social_care = ["2025-03-25, 2025-03-31, home_care"]
//! expect = { social_care_days_12m = 7, social_care_active = true }
//! ```
//!
//! A case may also set `index_date`, `patient` (fields of the person's
//! `patients` row; the rest take [`PATIENT_DEFAULTS`]), `lsoa_imd` rows, and
//! `in_population = false` (the person is not in scope at the index date, so
//! has no features), and `dmd_bnf` rows (`dm+d code, BNF code`: the user's
//! dm+d → BNF map the case runs with). Rows list the columns of [`TABLE_COLUMNS`] in order,
//! separated by commas; missing trailing fields are empty. An expected value
//! is an integer, `true`/`false`, a number, a text, a fraction `"a/b"` (a
//! number equal to a ÷ b, to show the working) or `"null"`.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::codelists::SpecError;

/// The example files, compiled in, in the order the catalogue shows them.
pub const FILES: &[(&str, &str)] = &[
    (
        "demographics.toml",
        include_str!("examples/demographics.toml"),
    ),
    (
        "utilisation.toml",
        include_str!("examples/utilisation.toml"),
    ),
    ("bed_days.toml", include_str!("examples/bed_days.toml")),
    ("medicines.toml", include_str!("examples/medicines.toml")),
    (
        "medicines_coded.toml",
        include_str!("examples/medicines_coded.toml"),
    ),
    (
        "social_care.toml",
        include_str!("examples/social_care.toml"),
    ),
    (
        "comorbidity.toml",
        include_str!("examples/comorbidity.toml"),
    ),
    (
        "long_term_conditions.toml",
        include_str!("examples/long_term_conditions.toml"),
    ),
    ("frailty.toml", include_str!("examples/frailty.toml")),
];

/// The columns a case's rows give for each table, in order (`person_id` is
/// the case's person; an encounter's `encounter_id` is numbered).
pub const TABLE_COLUMNS: &[(&str, &[&str])] = &[
    (
        "encounters",
        &["setting", "start_date", "end_date", "emergency", "cost_gbp"],
    ),
    ("diagnoses", &["date", "code_system", "code"]),
    ("medications", &["date", "bnf_code", "code_system", "code"]),
    (
        "observations",
        &["date", "code_system", "code", "value", "unit"],
    ),
    (
        "social_care",
        &["start_date", "end_date", "service_type", "weekly_cost_gbp"],
    ),
    ("lsoa_imd", &["lsoa", "imd_decile"]),
];

/// The `patients` row of a case's person, unless the case says otherwise:
/// born 1950-01-01, registered since 2000-01-01, alive, no opt-out.
pub const PATIENT_DEFAULTS: &[(&str, &str)] = &[
    ("person_id", "P"),
    ("nhs_number", ""),
    ("date_of_birth", "1950-01-01"),
    ("sex", "F"),
    ("ethnicity", "A"),
    ("lsoa", ""),
    ("practice_code", "A81001"),
    ("pcn_code", "PCN1"),
    ("registered_from", "2000-01-01"),
    ("date_of_death", ""),
    ("opt_out_national", "false"),
    ("opt_out_type1", "false"),
];

/// One family's examples.
#[derive(Debug, Clone)]
pub struct ExampleFile {
    /// File name under `src/features/examples/`.
    pub file: &'static str,
    pub title: String,
    /// The catalogue group the examples are shown under.
    pub group: String,
    /// The index date of cases that do not give their own.
    pub index_date: NaiveDate,
    pub cases: Vec<Case>,
}

/// One worked example: one person's rows in, expected values out.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    /// Why the values are what they are.
    pub reason: String,
    pub index_date: NaiveDate,
    /// Fields of the person's `patients` row that differ from [`PATIENT_DEFAULTS`].
    pub patient: BTreeMap<String, String>,
    /// Rows by table (columns as in [`TABLE_COLUMNS`]), in the file's order.
    pub rows: Vec<(&'static str, Vec<String>)>,
    /// Whether the person is in scope at the index date.
    pub in_population: bool,
    /// Expected values by feature name.
    pub expect: Vec<(String, Expected)>,
    /// The dm+d → BNF map the case runs with: (dm+d code, BNF code).
    pub dmd_bnf: Vec<(String, String)>,
}

/// An expected feature value.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    Int(i64),
    Bool(bool),
    Number(f64),
    /// A number written as a fraction `numerator/denominator`.
    Fraction(i64, i64),
    Text(String),
    Null,
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expected::Int(n) => write!(f, "{n}"),
            Expected::Bool(b) => write!(f, "{b}"),
            Expected::Number(x) => write!(f, "{x}"),
            Expected::Fraction(a, b) => write!(f, "{a}/{b}"),
            Expected::Text(t) => write!(f, "\"{t}\""),
            Expected::Null => write!(f, "null"),
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    title: String,
    group: String,
    index_date: String,
    #[serde(default)]
    case: Vec<RawCase>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    reason: String,
    index_date: Option<String>,
    #[serde(default)]
    patient: BTreeMap<String, String>,
    #[serde(default)]
    encounters: Vec<String>,
    #[serde(default)]
    diagnoses: Vec<String>,
    #[serde(default)]
    medications: Vec<String>,
    #[serde(default)]
    observations: Vec<String>,
    #[serde(default)]
    social_care: Vec<String>,
    #[serde(default)]
    lsoa_imd: Vec<String>,
    #[serde(default)]
    dmd_bnf: Vec<String>,
    in_population: Option<bool>,
    #[serde(default)]
    expect: toml::Table,
}

/// Every example file, parsed and checked.
pub fn load() -> Result<Vec<ExampleFile>, SpecError> {
    FILES.iter().map(|(file, text)| parse(file, text)).collect()
}

fn problem(file: &str, reason: impl Into<String>) -> SpecError {
    SpecError::Feature {
        feature: format!("examples/{file}"),
        reason: reason.into(),
    }
}

/// Parses one example file.
pub fn parse(file: &'static str, text: &str) -> Result<ExampleFile, SpecError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| problem(file, e.to_string()))?;
    let date = |s: &str, case: &str| {
        s.parse::<NaiveDate>().map_err(|_| {
            problem(
                file,
                format!("case `{case}`: `{s}` is not a YYYY-MM-DD date"),
            )
        })
    };
    let index_date = date(&raw.index_date, "(file)")?;
    let mut cases = Vec::with_capacity(raw.case.len());
    for c in raw.case {
        let index_date = match &c.index_date {
            Some(s) => date(s, &c.name)?,
            None => index_date,
        };
        if let Some(field) = c
            .patient
            .keys()
            .find(|k| !PATIENT_DEFAULTS.iter().any(|(f, _)| f == k) || *k == "person_id")
        {
            return Err(problem(
                file,
                format!(
                    "case `{}`: `patient.{field}` is not a patients column",
                    c.name
                ),
            ));
        }
        let rows: Vec<(&'static str, Vec<String>)> = [
            ("encounters", c.encounters),
            ("diagnoses", c.diagnoses),
            ("medications", c.medications),
            ("observations", c.observations),
            ("social_care", c.social_care),
            ("lsoa_imd", c.lsoa_imd),
        ]
        .into_iter()
        .filter(|(_, rows)| !rows.is_empty())
        .collect();
        for (table, rows) in &rows {
            let width = columns(table).len();
            if let Some(row) = rows.iter().find(|r| r.split(',').count() > width) {
                return Err(problem(
                    file,
                    format!(
                        "case `{}`: `{table}` row `{row}` has more than {width} fields",
                        c.name
                    ),
                ));
            }
        }
        let mut expect = Vec::with_capacity(c.expect.len());
        for (feature, value) in c.expect {
            let value = expected(&value).ok_or_else(|| {
                problem(
                    file,
                    format!("case `{}`: `expect.{feature}`: unsupported value", c.name),
                )
            })?;
            expect.push((feature, value));
        }
        let mut dmd_bnf = Vec::with_capacity(c.dmd_bnf.len());
        for pair in &c.dmd_bnf {
            let Some((dmd, bnf)) = pair.split_once(',') else {
                return Err(problem(
                    file,
                    format!(
                        "case `{}`: `dmd_bnf` row `{pair}` is not `dm+d code, BNF code`",
                        c.name
                    ),
                ));
            };
            dmd_bnf.push((dmd.trim().to_string(), bnf.trim().to_string()));
        }
        let in_population = c.in_population.unwrap_or(true);
        if expect.is_empty() == in_population {
            return Err(problem(
                file,
                format!(
                    "case `{}`: expects values for a person in scope, none for one out of scope",
                    c.name
                ),
            ));
        }
        cases.push(Case {
            name: c.name,
            reason: c.reason,
            index_date,
            patient: c.patient,
            rows,
            in_population,
            expect,
            dmd_bnf,
        });
    }
    Ok(ExampleFile {
        file,
        title: raw.title,
        group: raw.group,
        index_date,
        cases,
    })
}

fn expected(value: &toml::Value) -> Option<Expected> {
    Some(match value {
        toml::Value::Integer(n) => Expected::Int(*n),
        toml::Value::Boolean(b) => Expected::Bool(*b),
        toml::Value::Float(x) => Expected::Number(*x),
        toml::Value::String(s) if s == "null" => Expected::Null,
        toml::Value::String(s) => match s.split_once('/') {
            Some((a, b)) => match (a.trim().parse(), b.trim().parse::<i64>()) {
                (Ok(a), Ok(b)) if b != 0 => Expected::Fraction(a, b),
                _ => Expected::Text(s.clone()),
            },
            None => Expected::Text(s.clone()),
        },
        _ => return None,
    })
}

/// The columns of a table's rows in a case.
pub fn columns(table: &str) -> &'static [&'static str] {
    TABLE_COLUMNS
        .iter()
        .find(|(t, _)| *t == table)
        .map_or(&[], |(_, c)| c)
}

impl Case {
    /// The person's `patients` row as (column, value), defaults filled in.
    pub fn patient_row(&self) -> Vec<(&'static str, String)> {
        PATIENT_DEFAULTS
            .iter()
            .map(|(column, default)| {
                let value = self.patient.get(*column).map_or(*default, String::as_str);
                (*column, value.to_string())
            })
            .collect()
    }

    /// A row's fields, trimmed and padded to the table's columns.
    pub fn fields(table: &str, row: &str) -> Vec<String> {
        let mut fields: Vec<String> = row.split(',').map(|f| f.trim().to_string()).collect();
        fields.resize(columns(table).len().max(fields.len()), String::new());
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_file_parses() {
        let files = load().expect("example files");
        assert_eq!(files.len(), FILES.len());
        assert!(files.iter().all(|f| !f.cases.is_empty()));
    }

    #[test]
    fn fractions_nulls_and_texts_are_told_apart() {
        let v = |s: &str| expected(&toml::Value::String(s.into()));
        assert_eq!(v("3/36"), Some(Expected::Fraction(3, 36)));
        assert_eq!(v("null"), Some(Expected::Null));
        assert_eq!(v("45-64"), Some(Expected::Text("45-64".into())));
        assert_eq!(v("1/0"), Some(Expected::Text("1/0".into())));
    }

    #[test]
    fn a_case_naming_an_unknown_patient_column_is_refused() {
        let text = "title = \"t\"\ngroup = \"g\"\nindex_date = \"2025-03-31\"\n\
                    [[case]]\nname = \"c\"\nreason = \"r\"\npatient = { birthday = \"1950-01-01\" }\n\
                    expect = { age = 75 }\n";
        let e = parse("t.toml", text).expect_err("unknown column");
        assert!(e.to_string().contains("patient.birthday"), "{e}");
    }
}
