//! Code lists swapped in `strata.toml` through the real binary: `strata
//! features --config` scores HFRS, the eFI and the long-term conditions from
//! the replacement files (values worked out by hand below), `strata run`
//! records each file's blake3 in the manifest, and a replacement with an
//! unknown category is refused with exit 11, naming file, line and column.

use polars::prelude::*;

use crate::support::{PATIENTS_HEADER, copy_dir, csv_extract, root, stderr, strata};

/// Replacement lists: I21 (MI) as HFRS group F00 (published weight 7.1);
/// acute viral pharyngitis (195662009) as the eFI deficit `falls` and as the
/// long-term condition asthma; pneumonia (J18) as COPD. Nothing else.
const LISTS: [(&str, &str); 4] = [
    (
        "hfrs_icd10",
        "code,description,category\nI21,Acute myocardial infarction,F00\n",
    ),
    (
        "efi_snomed",
        "code,description,category\n195662009,Acute viral pharyngitis,falls\n",
    ),
    (
        "ltc_icd10",
        "code,description,category\nJ18,Pneumonia,copd\n",
    ),
    (
        "ltc_snomed",
        "code,description,category\n195662009,Acute viral pharyngitis,asthma\n",
    ),
];

/// Writes the four lists and a strata.toml naming them into `dir`.
fn write_lists(dir: &std::path::Path) {
    let mut toml = String::from("[codelists]\n");
    for (key, text) in LISTS {
        std::fs::write(dir.join(format!("{key}.csv")), text).expect("list");
        toml.push_str(&format!("{key} = \"{key}.csv\"\n"));
    }
    std::fs::write(dir.join("strata.toml"), toml).expect("config");
}

fn features(dir: &std::path::Path, out: &str, config: bool) -> DataFrame {
    let mut args = vec![
        "features",
        "--input",
        ".",
        "--index-date",
        "2025-03-31",
        "--out",
        out,
    ];
    if config {
        args.extend(["--config", "strata.toml"]);
    }
    let result = strata(dir, &args);
    assert!(result.status.success(), "{}", stderr(&result));
    ParquetReader::new(std::fs::File::open(dir.join(out)).expect("open"))
        .finish()
        .expect("read features")
}

fn row(frame: &DataFrame, person: &str) -> usize {
    frame
        .column("person_id")
        .expect("ids")
        .str()
        .expect("str")
        .iter()
        .position(|v| v == Some(person))
        .unwrap_or_else(|| panic!("{person} not in the table"))
}

fn f64_of(frame: &DataFrame, person: &str, column: &str) -> f64 {
    let c = frame.column(column).expect(column);
    c.f64()
        .expect("f64")
        .get(row(frame, person))
        .expect("not null")
}

fn bool_of(frame: &DataFrame, person: &str, column: &str) -> bool {
    let c = frame.column(column).expect(column);
    c.bool()
        .expect("bool")
        .get(row(frame, person))
        .expect("not null")
}

fn count_of(frame: &DataFrame, person: &str, column: &str) -> i64 {
    let c = frame
        .column(column)
        .expect(column)
        .cast(&DataType::Int64)
        .expect("int");
    c.i64()
        .expect("i64")
        .get(row(frame, person))
        .expect("not null")
}

#[test]
fn features_with_config_scores_hfrs_efi_and_ltcs_from_the_replacement_lists() {
    let patients = format!(
        "{PATIENTS_HEADER}
        P1,,1940-06-15,F,A,,A81001,PCN1,2000-01-01,,false,false
        P2,,1945-01-01,M,A,,A81001,PCN1,2000-01-01,,false,false"
    );
    let diagnoses = "person_id,date,code_system,code,encounter_id
        P1,2024-06-01,icd10,I21.9,
        P1,2024-07-01,icd10,R29.6,
        P1,2024-05-01,snomed,195662009,
        P2,2024-05-01,snomed,161898004,
        P2,2024-08-01,icd10,J18.9,";
    let dir = csv_extract(&[("patients", &patients), ("diagnoses", diagnoses)]);
    write_lists(dir.path());

    // Built-in lists. P1: HFRS R29 3.6 (I21 is no group); eFI 0 (pharyngitis
    // is no deficit, no medicines); I21 is coronary heart disease: 1 LTC.
    // P2: HFRS J18 1.1; eFI falls 1/36; no LTC.
    let base = features(dir.path(), "base.parquet", false);
    assert_eq!(f64_of(&base, "P1", "hfrs"), 3.6);
    assert_eq!(f64_of(&base, "P1", "efi"), 0.0);
    assert!(bool_of(&base, "P1", "ltc_coronary_heart_disease"));
    assert_eq!(count_of(&base, "P1", "ltc_count"), 1);
    assert_eq!(f64_of(&base, "P2", "hfrs"), 1.1);
    assert_eq!(f64_of(&base, "P2", "efi"), 1.0 / 36.0);
    assert_eq!(count_of(&base, "P2", "ltc_count"), 0);

    // The replacements. P1: I21 in F00: 7.1, R29 no longer listed; eFI
    // pharyngitis is falls: 0 + 1/36; LTCs: I21 is nothing now, pharyngitis
    // is asthma: 1. P2: J18 no longer an HFRS group: 0; falls (161898004) is
    // not in the eFI list: 1/36 - 1/36 = 0; J18 is COPD: 1.
    let mine = features(dir.path(), "mine.parquet", true);
    assert_eq!(f64_of(&mine, "P1", "hfrs"), 7.1);
    assert_eq!(f64_of(&mine, "P1", "efi"), 1.0 / 36.0);
    assert!(!bool_of(&mine, "P1", "ltc_coronary_heart_disease"));
    assert!(bool_of(&mine, "P1", "ltc_asthma"));
    assert_eq!(count_of(&mine, "P1", "ltc_count"), 1);
    assert_eq!(f64_of(&mine, "P2", "hfrs"), 0.0);
    assert_eq!(f64_of(&mine, "P2", "efi"), 0.0);
    assert!(bool_of(&mine, "P2", "ltc_copd"));
    assert_eq!(count_of(&mine, "P2", "ltc_count"), 1);
}

#[test]
fn run_records_the_blake3_of_each_replacement_list_in_the_manifest() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&root().join("sample-data"), &dir.path().join("sample-data"));
    std::os::unix::fs::symlink(root().join("models"), dir.path().join("models")).expect("link");
    write_lists(dir.path());
    let result = strata(dir.path(), &["run", "--config", "strata.toml"]);
    assert!(result.status.success(), "{}", stderr(&result));
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/latest/manifest.json")).expect("manifest"),
    )
    .expect("json");
    let used = manifest["codelists"].as_array().expect("codelists");
    for (key, text) in LISTS {
        let entry = used
            .iter()
            .find(|l| l["list"] == key)
            .unwrap_or_else(|| panic!("{key} recorded"));
        assert_eq!(entry["origin"], format!("{key}.csv"), "{key}");
        assert_eq!(entry["entries"], 1, "{key}");
        assert_eq!(
            entry["blake3"],
            blake3::hash(text.as_bytes()).to_hex().to_string(),
            "{key}"
        );
    }
    // The lists not named stay built in.
    let charlson = used
        .iter()
        .find(|l| l["list"] == "charlson_icd10")
        .expect("charlson_icd10");
    assert_eq!(charlson["origin"], "built-in:charlson_quan2005.csv");
}

#[test]
fn features_refuses_an_efi_list_with_an_unknown_deficit_with_exit_11() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&root().join("sample-data"), &dir.path().join("sample-data"));
    std::fs::write(
        dir.path().join("efi.csv"),
        "code,description,category\n161898004,Falls,falls\n195662009,Acute viral pharyngitis,sore-throat\n",
    )
    .expect("list");
    std::fs::write(
        dir.path().join("strata.toml"),
        "[codelists]\nefi_snomed = \"efi.csv\"\n",
    )
    .expect("config");
    let result = strata(
        dir.path(),
        &[
            "features",
            "--input",
            "sample-data",
            "--index-date",
            "2026-03-31",
            "--out",
            "f.parquet",
            "--config",
            "strata.toml",
        ],
    );
    assert_eq!(result.status.code(), Some(11), "{}", stderr(&result));
    let err = stderr(&result);
    assert!(
        err.contains("efi.csv") && err.contains("line 3") && err.contains("`category`"),
        "{err}"
    );
    assert!(!dir.path().join("f.parquet").exists(), "no feature table");
}
