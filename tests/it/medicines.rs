//! Medicines in the codes real data uses (issue #20): the `medications`
//! table's coded form (code_system bnf | dmd | rxnorm, code) beside
//! `bnf_code`, its row rules, and the level each row is counted at.
//! Expected values are worked out by hand from docs/data-contract.md.

use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;
use strata::features::{FeatureSet, derive_features};
use strata::ingest::{Action, Extract, MedicineCodes, ValidateOptions, load_extract};

use crate::support::{ENCOUNTERS_HEADER, PATIENTS_HEADER, csv_extract};

fn options(dmd_bnf: Option<&[(&str, &str)]>) -> ValidateOptions {
    ValidateOptions {
        today: "2026-11-23".parse().expect("date"),
        // Half the rows below break a rule on purpose.
        max_reject_fraction: 1.0,
        dmd_bnf: dmd_bnf.map(|pairs| {
            Arc::new(
                pairs
                    .iter()
                    .map(|(d, b)| (d.to_string(), b.to_string()))
                    .collect(),
            )
        }),
    }
}

fn patients() -> String {
    format!(
        "{PATIENTS_HEADER}
        P1,,1950-06-15,F,A,,A81001,PCN1,2000-01-01,,false,false
        P2,,1960-01-01,M,A,,A81001,PCN1,2000-01-01,,false,false"
    )
}

fn encounters() -> String {
    format!("{ENCOUNTERS_HEADER}\nP1,e1,gp,2025-01-01,,false,")
}

/// Rows 1, 2 and 9 are valid; every other row breaks one rule.
const MIXED: &str = "person_id,date,bnf_code,code_system,code
    P1,2025-01-01,0212000B0AAABAB,,
    P1,2025-01-02,,dmd,322236009
    P1,2025-01-03,,snomed,322236009
    P1,2025-01-04,,dmd,12345
    P1,2025-01-05,,dmd,
    P1,2025-01-06,,,322236009
    P1,2025-01-07,,,
    P1,2025-01-08,,rxnorm,RX1
    P1,2025-01-09,,rxnorm,197361
    P1,2025-01-10,0501013B0AAABAB,dmd,999";

fn load(medications: &str, dmd_bnf: Option<&[(&str, &str)]>) -> (tempfile::TempDir, Extract) {
    let (patients, encounters) = (patients(), encounters());
    let dir = csv_extract(&[
        ("patients", &patients),
        ("encounters", &encounters),
        ("medications", medications),
    ]);
    let extract = load_extract(dir.path(), &options(dmd_bnf)).expect("valid extract");
    (dir, extract)
}

#[test]
fn each_broken_medications_row_is_rejected_for_its_own_reason_naming_column_and_row() {
    let (_dir, extract) = load(MIXED, None);
    let report = extract.report.table("medications").expect("medications");
    assert!(report.path.ends_with("medications.csv"), "{}", report.path);
    assert_eq!((report.rows_read, report.rows_rejected), (10, 7));
    let mut issues: Vec<(String, String, Vec<String>)> = report
        .issues
        .iter()
        .inspect(|i| assert_eq!(i.action, Action::RowRejected))
        .map(|i| (i.column.clone(), i.problem.clone(), i.first_rows.clone()))
        .collect();
    issues.sort();
    let row = |r: &str| vec![r.to_string()];
    let expected: Vec<(String, String, Vec<String>)> = vec![
        (
            "bnf_code",
            "no medicine code: a bnf_code, or a code_system and code, is needed",
            row("7"),
        ),
        ("code", "empty while code_system is given", row("5")),
        // Row 10 has a BNF code, but a coded form given beside it must be valid too.
        (
            "code",
            "not a dm+d code (6 to 18 digits)",
            vec!["4".to_string(), "10".to_string()],
        ),
        (
            "code",
            "not an RxNorm concept id (1 to 10 digits)",
            row("8"),
        ),
        ("code_system", "empty while code is given", row("6")),
        (
            "code_system",
            "unknown code, expected one of bnf, dmd, rxnorm",
            row("3"),
        ),
    ]
    .into_iter()
    .map(|(c, p, r)| (c.to_string(), p.to_string(), r))
    .collect();
    assert_eq!(issues, expected);
}

#[test]
fn the_report_counts_valid_rows_by_the_level_they_are_counted_at() {
    // Valid rows: 1 (a BNF code), 2 (dm+d 322236009), 9 (RxNorm 197361).
    let (_dir, unmapped) = load(MIXED, None);
    let codes = |e: &Extract| {
        e.report
            .table("medications")
            .and_then(|t| t.medicine_codes.clone())
            .expect("medicine codes")
    };
    let without = codes(&unmapped);
    assert_eq!(
        without,
        MedicineCodes {
            bnf_substance_rows: 1,
            product_code_rows: 2,
            dmd_bnf_map: false,
            non_medicine_rows: 0,
        }
    );
    let warning = without.warning().expect("product codes were counted");
    assert!(
        warning.starts_with(
            "medications: 2 of 3 rows have no BNF code and were counted by product code"
        ),
        "{warning}"
    );
    // With the map, row 2 counts as paracetamol (0407010H0); RxNorm has no map.
    let (_dir, mapped) = load(MIXED, Some(&[("322236009", "0407010H0AAAMAM")]));
    assert_eq!(
        codes(&mapped),
        MedicineCodes {
            bnf_substance_rows: 2,
            product_code_rows: 1,
            dmd_bnf_map: true,
            non_medicine_rows: 0,
        }
    );
    // BNF codes only: nothing to warn about.
    let (_dir, plain) = load(
        "person_id,date,bnf_code\nP1,2025-01-01,0212000B0AAABAB",
        None,
    );
    let plain = codes(&plain);
    assert_eq!((plain.bnf_substance_rows, plain.product_code_rows), (1, 0));
    assert_eq!(plain.warning(), None);
}

#[test]
fn the_report_counts_rows_that_are_not_medicines() {
    // Valid rows, by hand: 1 atorvastatin (chapter 2); 2 a dressing as
    // bnf_code (chapter 20); 3 a colostomy bag cover as code_system bnf
    // (23); 4 dm+d 322236009, which the map sends to lancets (21); 5 dm+d
    // 322280009, mapped to paracetamol (chapter 4); 6 RxNorm, no chapter.
    // Not medicines: rows 2, 3 and 4.
    let rows = "person_id,date,bnf_code,code_system,code
        P1,2025-01-01,0212000B0AAABAB,,
        P1,2025-01-02,20030000022,,
        P1,2025-01-03,,bnf,23251002500
        P1,2025-01-04,,dmd,322236009
        P1,2025-01-05,,dmd,322280009
        P1,2025-01-06,,rxnorm,197361";
    let map = [
        ("322236009", "21010900435"),
        ("322280009", "0407010H0AAAIAI"),
    ];
    let (_dir, extract) = load(rows, Some(&map));
    let codes = extract
        .report
        .table("medications")
        .and_then(|t| t.medicine_codes.clone())
        .expect("medicine codes");
    assert_eq!(
        codes,
        MedicineCodes {
            bnf_substance_rows: 5,
            product_code_rows: 1,
            dmd_bnf_map: true,
            non_medicine_rows: 3,
        }
    );
    // The medicines: atorvastatin, paracetamol and the RxNorm product, 3.
    let index = NaiveDate::from_ymd_opt(2025, 3, 31).expect("date");
    let set = FeatureSet::builtin().expect("catalogue");
    let table = derive_features(&extract, index, &set).expect("features");
    let frame = table
        .frame
        .sort(["person_id"], Default::default())
        .expect("sort");
    let medicines = frame
        .column("medicines_12m")
        .expect("medicines_12m")
        .cast(&DataType::Int32)
        .expect("int");
    // P1 3; P2 has no prescriptions.
    assert_eq!(
        medicines
            .i32()
            .expect("i32")
            .into_no_null_iter()
            .collect::<Vec<_>>(),
        vec![3, 0]
    );
}

/// Every feature of the built-in catalogue for the extract, at 2025-03-31.
fn features(medications: &str) -> DataFrame {
    let (_dir, extract) = load(medications, None);
    let set = FeatureSet::builtin().expect("catalogue");
    let index: NaiveDate = "2025-03-31".parse().expect("date");
    derive_features(&extract, index, &set)
        .expect("features")
        .frame
}

#[test]
fn an_old_extract_and_its_coded_spellings_give_the_same_feature_table() {
    // The same prescriptions: P1 three substances (one twice, as two
    // presentations), P2 one; one issue before the window.
    let old = "person_id,date,bnf_code
        P1,2025-01-01,0212000B0AAABAB
        P1,2025-02-01,0212000B0AAACAC
        P1,2024-06-01,0501013B0AAABAB
        P1,2025-03-01,0407010H0AAAMAM
        P2,2024-01-01,0205051R0AAAAAA
        P2,2025-03-31,0205051R0AAAAAA";
    let with_empty_columns = "person_id,date,bnf_code,code_system,code
        P1,2025-01-01,0212000B0AAABAB,,
        P1,2025-02-01,0212000B0AAACAC,,
        P1,2024-06-01,0501013B0AAABAB,,
        P1,2025-03-01,0407010H0AAAMAM,,
        P2,2024-01-01,0205051R0AAAAAA,,
        P2,2025-03-31,0205051R0AAAAAA,,";
    let coded = "person_id,date,code_system,code
        P1,2025-01-01,bnf,0212000B0AAABAB
        P1,2025-02-01,bnf,0212000B0AAACAC
        P1,2024-06-01,bnf,0501013B0AAABAB
        P1,2025-03-01,bnf,0407010H0AAAMAM
        P2,2024-01-01,bnf,0205051R0AAAAAA
        P2,2025-03-31,bnf,0205051R0AAAAAA";
    let reference = features(old);
    let medicines: Vec<Option<i32>> = reference
        .column("medicines_12m")
        .and_then(|c| c.i32().map(|c| c.iter().collect()))
        .expect("medicines_12m");
    // P1: 0212000B0, 0501013B0, 0407010H0; P2: 0205051R0 on the index date only.
    assert_eq!(medicines, [Some(3), Some(1)]);
    for other in [with_empty_columns, coded] {
        assert!(
            features(other).equals_missing(&reference),
            "the feature table differs for\n{other}"
        );
    }
}

#[test]
fn validate_warns_about_product_codes_until_it_is_given_the_map() {
    let (patients, encounters) = (patients(), encounters());
    let medications = "person_id,date,bnf_code,code_system,code
        P1,2025-01-01,0212000B0AAABAB,,
        P1,2025-01-02,,dmd,322236009";
    let dir = csv_extract(&[
        ("patients", &patients),
        ("encounters", &encounters),
        ("medications", medications),
    ]);
    let input = dir.path().to_str().expect("utf-8");
    let unmapped = crate::support::strata(dir.path(), &["validate", "--input", input]);
    assert!(
        unmapped.status.success(),
        "{}",
        crate::support::stderr(&unmapped)
    );
    let stderr = crate::support::stderr(&unmapped);
    assert!(
        stderr.contains("1 of 2 rows have no BNF code and were counted by product code")
            && stderr.contains("--dmd-bnf"),
        "{stderr}"
    );
    // The FHIR reader's map format, given to a contract extract.
    let map = dir.path().join("dmd_bnf.csv");
    std::fs::write(&map, "SNOMED Code,BNF Code\n322236009,0407010H0AAAMAM\n").expect("write");
    let mapped = crate::support::strata(
        dir.path(),
        &[
            "validate",
            "--input",
            input,
            "--dmd-bnf",
            map.to_str().expect("utf-8"),
            "--json",
        ],
    );
    assert!(
        mapped.status.success(),
        "{}",
        crate::support::stderr(&mapped)
    );
    assert!(
        !crate::support::stderr(&mapped).contains("counted by product code"),
        "{}",
        crate::support::stderr(&mapped)
    );
    let report: serde_json::Value =
        serde_json::from_str(&crate::support::stdout(&mapped)).expect("json");
    let medications = report["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["table"] == "medications"))
        .expect("medications");
    assert_eq!(
        medications["medicine_codes"],
        serde_json::json!({"bnf_substance_rows": 2, "product_code_rows": 0, "dmd_bnf_map": true,
            "non_medicine_rows": 0})
    );
}
