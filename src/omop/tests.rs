//! One test per mapping rule, on the hand-built CDM rows of
//! `tests/fixtures/omop/cdm` (real OMOP concept ids; the one ICD-10 source
//! concept is a local id, 2000000001, standing in for the vocabulary's).
//! Expected contract rows are worked out by hand from docs/omop.md.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{ConversionSummary, ConvertOptions, IssueKind, OmopError, convert, is_cdm};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/omop/cdm")
}

struct Converted {
    _dir: tempfile::TempDir,
    out: PathBuf,
    summary: ConversionSummary,
}

fn converted() -> Converted {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("extract");
    let summary = convert(&fixture(), &out, &ConvertOptions::default()).expect("convert");
    Converted {
        _dir: dir,
        out,
        summary,
    }
}

impl Converted {
    fn table(&self, name: &str) -> DataFrame {
        let path = self.out.join(name).join("*.parquet");
        LazyFrame::scan_parquet(
            PlRefPath::new(path.to_string_lossy().as_ref()),
            ScanArgsParquet::default(),
        )
        .and_then(LazyFrame::collect)
        .expect("read part")
    }

    /// Column `c` of `table` as text, one entry per row, in the order of
    /// the rows' key column `key`.
    fn text(&self, table: &str, key: &str, c: &str) -> Vec<(String, Option<String>)> {
        let df = self.table(table);
        let k = df
            .column(key)
            .expect("key")
            .cast(&DataType::String)
            .expect("cast");
        let v = df
            .column(c)
            .expect("column")
            .cast(&DataType::String)
            .expect("cast");
        let mut out: Vec<(String, Option<String>)> = k
            .str()
            .expect("str")
            .iter()
            .zip(v.str().expect("str").iter())
            .map(|(k, v)| (k.unwrap_or("").to_string(), v.map(str::to_string)))
            .collect();
        out.sort();
        out
    }
}

fn row(k: &str, v: Option<&str>) -> (String, Option<String>) {
    (k.to_string(), v.map(str::to_string))
}

#[test]
fn a_folder_with_person_and_visit_files_is_a_cdm_and_a_contract_extract_is_not() {
    assert!(is_cdm(&fixture()));
    let c = converted();
    // The converted folder has `patients`: it is a contract extract.
    assert!(!is_cdm(&c.out));
}

#[test]
fn person_gender_concepts_give_sex() {
    let c = converted();
    // 8507 male, 8532 female, 0 (no matching concept) unknown.
    assert_eq!(
        c.text("patients", "person_id", "sex"),
        vec![
            row("1", Some("M")),
            row("2", Some("F")),
            row("3", Some("U"))
        ]
    );
}

#[test]
fn date_of_birth_from_its_parts_or_the_birth_datetime() {
    let c = converted();
    // 1948/5/20; birth_datetime 1960-01-02 00:00:00; year 1990 alone → 1 January.
    assert_eq!(
        c.text("patients", "person_id", "date_of_birth"),
        vec![
            row("1", Some("1948-05-20")),
            row("2", Some("1960-01-02")),
            row("3", Some("1990-01-01"))
        ]
    );
}

#[test]
fn ethnicity_from_an_nhs_letter_in_the_source_values_else_z() {
    let c = converted();
    // ethnicity_source_value A; "British" is not a letter, race_source_value J; nothing → Z.
    assert_eq!(
        c.text("patients", "person_id", "ethnicity"),
        vec![
            row("1", Some("A")),
            row("2", Some("J")),
            row("3", Some("Z"))
        ]
    );
}

#[test]
fn lsoa_only_from_a_location_field_holding_an_lsoa_2021_code() {
    let c = converted();
    // location 10: source value E01000001; 12: county W01000123; 11: a postcode only → null.
    assert_eq!(
        c.text("patients", "person_id", "lsoa"),
        vec![
            row("1", Some("E01000001")),
            row("2", Some("W01000123")),
            row("3", None)
        ]
    );
}

#[test]
fn practice_from_the_care_site_source_value() {
    let c = converted();
    assert_eq!(
        c.text("patients", "person_id", "practice_code"),
        vec![
            row("1", Some("A81001")),
            row("2", Some("B82005")),
            row("3", Some("B82005"))
        ]
    );
}

#[test]
fn nhs_number_from_a_person_source_value_passing_modulus_11() {
    let c = converted();
    // 9434765919 passes; 1234567890 is ten digits but fails (counted).
    assert_eq!(
        c.text("patients", "person_id", "nhs_number"),
        vec![row("1", Some("9434765919")), row("2", None), row("3", None)]
    );
    assert_eq!(
        c.summary.count(
            "person",
            "person_source_value is ten digits but not a valid NHS number: kept without one"
        ),
        1
    );
}

#[test]
fn registration_from_the_earliest_observation_period_else_birth() {
    let c = converted();
    // Person 1 has two periods (2010-04-01, 2005-01-01); person 3 none.
    assert_eq!(
        c.text("patients", "person_id", "registered_from"),
        vec![
            row("1", Some("2005-01-01")),
            row("2", Some("2015-06-01")),
            row("3", Some("1990-01-01"))
        ]
    );
    assert_eq!(
        c.summary
            .count("person", "no observation_period: registered from birth"),
        1
    );
}

#[test]
fn death_date_from_the_death_table_and_no_opt_outs() {
    let c = converted();
    assert_eq!(
        c.text("patients", "person_id", "date_of_death"),
        vec![row("1", None), row("2", None), row("3", Some("2025-12-01"))]
    );
    assert_eq!(
        c.text("patients", "person_id", "opt_out_national"),
        vec![
            row("1", Some("false")),
            row("2", Some("false")),
            row("3", Some("false"))
        ]
    );
}

#[test]
fn visit_concepts_give_settings_and_unmapped_ones_are_dropped() {
    let c = converted();
    assert_eq!(
        c.text("encounters", "encounter_id", "setting"),
        vec![
            row("1000", Some("emergency_department")), // 9203
            row("1001", Some("inpatient")),            // 9201
            row("1002", Some("inpatient")),            // 262
            row("1003", Some("inpatient")),
            row("1004", Some("inpatient")),
            row("1005", Some("inpatient")),
            row("1006", Some("outpatient")), // 9202
            row("1007", Some("gp")),         // 581477
            row("1008", Some("community")),  // 581476
            row("1010", Some("inpatient")),
        ]
    );
    // 1009 (5083 telehealth) is dropped, counted with its row.
    let dropped: Vec<_> = c
        .summary
        .issues
        .iter()
        .filter(|i| i.table == "visit_occurrence" && i.kind == IssueKind::Dropped)
        .collect();
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].count, 1);
    assert_eq!(dropped[0].first, vec!["visit_occurrence.csv row 10"]);
}

#[test]
fn emergency_admissions_from_262_a_preceding_er_visit_admitted_from_er_or_the_sus_method() {
    let c = converted();
    assert_eq!(
        c.text("encounters", "encounter_id", "emergency"),
        vec![
            row("1000", Some("true")),  // an ER visit is an emergency attendance
            row("1001", Some("true")),  // 9201 preceded by ER visit 1000
            row("1002", Some("true")),  // 262
            row("1003", Some("true")),  // admitted_from_concept_id 8870
            row("1004", Some("true")),  // visit_source_value admimeth=21
            row("1005", Some("false")), // admission method 11: elective
            row("1006", Some("false")),
            row("1007", Some("false")),
            row("1008", Some("false")),
            row("1010", Some("false")), // 9201 with no emergency signal
        ]
    );
}

#[test]
fn visit_cost_is_the_sum_of_its_visit_costs_else_null() {
    let c = converted();
    let cost = c.text("encounters", "encounter_id", "cost_gbp");
    // 2500.50 + 100 for visit 1001; the Drug-domain cost is not a visit's.
    assert_eq!(cost[1], row("1001", Some("2600.5")));
    assert_eq!(cost.iter().filter(|(_, v)| v.is_some()).count(), 1);
}

#[test]
fn conditions_take_icd10_source_codes_first_then_snomed_standard_concepts() {
    let c = converted();
    let df = c.table("diagnoses");
    let mut rows: Vec<(String, String, String, String)> = (0..df.height())
        .map(|i| {
            let get = |name: &str| {
                df.column(name)
                    .and_then(|c| c.cast(&DataType::String))
                    .ok()
                    .and_then(|c| c.str().ok().and_then(|s| s.get(i).map(str::to_string)))
                    .unwrap_or_default()
            };
            (
                get("person_id"),
                get("date"),
                get("code_system"),
                get("code"),
            )
        })
        .collect();
    rows.sort();
    let r = |p: &str, d: &str, s: &str, c: &str| {
        (p.to_string(), d.to_string(), s.to_string(), c.to_string())
    };
    assert_eq!(
        rows,
        vec![
            // source concept 2000000001 is ICD10 I21.9 (its code, not the source value I219)
            r("1", "2024-01-01", "icd10", "E11.9"), // source value looks like ICD-10
            r("1", "2025-03-01", "icd10", "I21.9"),
            r("2", "2024-05-05", "snomed", "13645005"), // Read code source: SNOMED of concept 255573
            r("2", "2025-02-02", "icd10", "F03"),
            r("3", "2025-01-01", "snomed", "52448006"), // concept 0: source value as given (noted)
        ]
    );
    // Row 5 (concept 0, source value "dementia") gives no code.
    assert_eq!(
        c.summary.count(
            "condition_occurrence",
            "no ICD-10 or SNOMED CT code (source concept, source value or standard concept)"
        ),
        1
    );
    assert_eq!(
        c.text("diagnoses", "code", "encounter_id")[4],
        row("I21.9", Some("1001"))
    );
}

#[test]
fn drugs_give_bnf_codes_and_the_coded_form() {
    let c = converted();
    // Row 3 has no BNF code (free-text source value): empty key, kept in
    // its coded form, RxNorm 6809 (concept 1503297).
    assert_eq!(
        c.text("medications", "bnf_code", "code_system"),
        vec![
            row("", Some("rxnorm")),
            row("0212000B0AAABAB", Some("bnf")), // concept 0: the BNF source value
            row("0601022B0AAABAB", Some("rxnorm")), // concept 1503297 (RxNorm 6809)
        ]
    );
    assert_eq!(
        c.text("medications", "bnf_code", "code"),
        vec![
            row("", Some("6809")),
            row("0212000B0AAABAB", Some("0212000B0AAABAB")),
            row("0601022B0AAABAB", Some("6809")),
        ]
    );
    let dropped = c
        .summary
        .issues
        .iter()
        .filter(|i| i.table == "drug_exposure")
        .count();
    assert_eq!(dropped, 0, "every drug row has a medicine code");
}

#[test]
fn measurements_and_observations_give_snomed_observations_with_value_and_unit() {
    let c = converted();
    assert_eq!(
        c.text("observations", "code", "value"),
        vec![
            row("228273003", None),          // observation: source value as given
            row("271649006", Some("150.0")), // concept 4152194 (SNOMED)
        ]
    );
    // Unit from unit_concept_id 8876 (UCUM mm[Hg]) when no unit_source_value.
    assert_eq!(
        c.text("observations", "code", "unit"),
        vec![row("228273003", None), row("271649006", Some("mm[Hg]"))]
    );
    // Body weight is a LOINC concept with a LOINC source value: dropped.
    assert_eq!(
        c.summary.count(
            "measurement",
            "no SNOMED CT code (standard concept or source value)"
        ),
        1
    );
}

/// Writes `files` (name, CSV text) into a new CDM folder.
fn cdm(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

const PERSON: &str =
    "person_id,gender_concept_id,year_of_birth,care_site_id\n1,8507,1950,1\n2,8532,1955,1\n";
const CARE_SITE: &str = "care_site_id,care_site_source_value\n1,A81001\n";

#[test]
fn rows_with_no_person_or_a_bad_date_are_rejected_with_file_and_row_and_too_many_stop() {
    let visits = "visit_occurrence_id,person_id,visit_concept_id,visit_start_date\n\
                  1,1,9202,2025-01-01\n2,9,9202,2025-01-02\n3,2,9202,01/03/2025\n";
    let dir = cdm(&[
        ("person.csv", PERSON),
        ("care_site.csv", CARE_SITE),
        ("visit_occurrence.csv", visits),
    ]);
    let out = tempfile::tempdir().expect("tempdir");
    let lenient = ConvertOptions {
        max_reject_fraction: 1.0,
    };
    let s = convert(dir.path(), &out.path().join("a"), &lenient).expect("convert");
    assert_eq!(s.rows["encounters"], 1);
    let rejected: Vec<(String, Vec<String>)> = s
        .issues
        .iter()
        .filter(|i| i.kind == IssueKind::Rejected)
        .map(|i| (i.reason.clone(), i.first.clone()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (
                "no visit_start_date, or one that is not a date".to_string(),
                vec!["visit_occurrence.csv row 3".to_string()]
            ),
            (
                "person_id not in the person table".to_string(),
                vec!["visit_occurrence.csv row 2".to_string()]
            ),
        ]
    );
    // With the default 5% limit, 2 of 3 rejected stops the conversion.
    let err = convert(
        dir.path(),
        &out.path().join("b"),
        &ConvertOptions::default(),
    )
    .expect_err("too many rejected");
    assert!(
        matches!(err, OmopError::TooManyRejected { ref table, rejected: 2, read: 3, .. } if table == "visit_occurrence"),
        "{err}"
    );
}

#[test]
fn a_folder_without_a_visit_table_or_with_two_person_files_is_refused() {
    let dir = cdm(&[("person.csv", PERSON)]);
    let out = tempfile::tempdir().expect("tempdir");
    let err = convert(
        dir.path(),
        &out.path().join("x"),
        &ConvertOptions::default(),
    )
    .expect_err("no visits");
    assert!(matches!(
        err,
        OmopError::MissingTable {
            table: "visit_occurrence",
            ..
        }
    ));
    let dir = cdm(&[
        ("person.csv", PERSON),
        ("PERSON.parquet", ""),
        ("visit_occurrence.csv", "visit_occurrence_id\n"),
    ]);
    let err = convert(
        dir.path(),
        &out.path().join("y"),
        &ConvertOptions::default(),
    )
    .expect_err("two person files");
    assert!(matches!(err, OmopError::Ambiguous { .. }), "{err}");
}

#[test]
fn a_parquet_cdm_folder_converts_like_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["PERSON", "care_site", "visit_occurrence"] {
        let from = fixture().join(format!("{name}.csv"));
        let mut df = LazyCsvReader::new(PlRefPath::new(from.to_string_lossy().as_ref()))
            .with_has_header(true)
            .finish()
            .and_then(LazyFrame::collect)
            .expect("read csv");
        let file =
            std::fs::File::create(dir.path().join(format!("{name}.parquet"))).expect("create");
        ParquetWriter::new(file).finish(&mut df).expect("write");
    }
    let out = tempfile::tempdir().expect("tempdir");
    let s = convert(
        dir.path(),
        &out.path().join("x"),
        &ConvertOptions::default(),
    )
    .expect("convert");
    // Integer-typed Parquet columns are read as text like CSV cells.
    assert_eq!(s.rows["patients"], 3);
    assert_eq!(s.rows["encounters"], 10);
}

#[test]
fn pattern_tests_follow_their_definitions() {
    use super::map::{is_bnf, is_emergency_method, is_icd10, is_lsoa};
    assert!(is_icd10("I21") && is_icd10("I21.4") && is_icd10("I214") && is_icd10("F00.0*"));
    assert!(!is_icd10("H3z..") && !is_icd10("22298006") && !is_icd10("i21"));
    assert!(is_bnf("0212000B0AAABAB") && is_bnf("0601022B0"));
    assert!(!is_bnf("322237008") && !is_bnf("021200000000000"));
    assert!(is_lsoa("E01000001") && is_lsoa("W01000123") && !is_lsoa("E02000001"));
    for m in [
        "21",
        "2A",
        "2d",
        "28",
        "admimeth=24",
        "ADMISSION_METHOD: 2B",
    ] {
        assert!(is_emergency_method(m), "{m}");
    }
    for m in ["11", "12", "31", "81", "admimeth=13", "2E", "210"] {
        assert!(!is_emergency_method(m), "{m}");
    }
}
