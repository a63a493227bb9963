//! Coverage through the real binary: an extract whose diagnoses are SNOMED CT
//! only (GP records) gives a null HFRS, names the missing source on stderr
//! and in manifest.json, and its report cannot read "healthy" (the default
//! model has an `hfrs` term). A code list swapped in strata.toml changes the
//! checksum the manifest records.

use polars::prelude::*;

use crate::pipeline::read_parts;
use crate::support::{copy_dir, root, stderr, strata};

/// The sample data with every ICD-10 diagnosis dropped (SNOMED CT rows kept),
/// and the models folder, in a scratch working folder.
fn gp_only_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&root().join("sample-data"), &dir.path().join("sample-data"));
    std::os::unix::fs::symlink(root().join("models"), dir.path().join("models")).expect("link");
    let path = dir.path().join("sample-data/diagnoses.parquet");
    let all = ParquetReader::new(std::fs::File::open(&path).expect("open"))
        .finish()
        .expect("read diagnoses");
    let mut snomed = all
        .lazy()
        .filter(col("code_system").eq(lit("snomed")))
        .collect()
        .expect("filter");
    assert!(
        snomed.height() > 0,
        "the sample data has SNOMED CT diagnoses"
    );
    ParquetWriter::new(std::fs::File::create(&path).expect("create"))
        .finish(&mut snomed)
        .expect("write");
    dir
}

fn manifest(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(dir.join("out/latest/manifest.json")).expect("manifest"),
    )
    .expect("json")
}

#[test]
fn an_extract_without_icd10_gives_null_hfrs_a_named_warning_and_a_degraded_run() {
    let dir = gp_only_folder();
    let result = strata(dir.path(), &["run"]);
    assert!(result.status.success(), "{}", stderr(&result));
    let err = stderr(&result);
    assert!(
        err.contains("no ICD-10 diagnoses: HFRS not computable"),
        "{err}"
    );
    assert!(
        err.contains("no ICD-10 diagnoses: Charlson from SNOMED CT diagnoses only"),
        "{err}"
    );
    assert!(
        err.contains("run degraded") && err.contains("`hfrs`"),
        "{err}"
    );

    let m = manifest(dir.path());
    assert_eq!(m["health"], "degraded");
    let warnings: Vec<&str> = m["coverage"]["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("no ICD-10 diagnoses: HFRS not computable")),
        "{warnings:?}"
    );
    let degraded = m["degraded_terms"].as_array().expect("degraded terms");
    assert!(
        degraded
            .iter()
            .any(|d| d.as_str().is_some_and(|d| d.contains("`hfrs`"))),
        "{degraded:?}"
    );
    let hfrs = m["coverage"]["families"]
        .as_array()
        .expect("families")
        .iter()
        .find(|f| f["family"] == "HFRS")
        .expect("HFRS family");
    assert_eq!(hfrs["status"], "absent");
    assert_eq!(hfrs["sources"][0]["rows"], 0);

    // HFRS is null for everyone; Charlson is not 0 for everyone (the sample's
    // SNOMED CT diagnoses include Charlson conditions).
    let people = read_parts(&dir.path().join("out/latest/patient_risk"));
    let hfrs = people.column("hfrs").expect("hfrs");
    assert_eq!(hfrs.null_count(), people.height());
    let charlson = people
        .column("charlson_index")
        .expect("charlson")
        .cast(&DataType::Int64)
        .expect("int");
    assert!(
        charlson
            .i64()
            .expect("i64")
            .into_no_null_iter()
            .any(|c| c > 0),
        "some person has a Charlson condition coded in SNOMED CT"
    );

    let report =
        std::fs::read_to_string(dir.path().join("out/latest/report.html")).expect("report");
    assert!(!report.contains("Healthy run"), "the banner is not healthy");
    assert!(report.contains("degraded"), "the report says degraded");
    assert!(report.contains("HFRS not computable"));
}

#[test]
fn a_code_list_named_in_strata_toml_replaces_the_built_in_one_and_its_checksum_is_recorded() {
    let dir = gp_only_folder();
    let first = strata(dir.path(), &["run"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let checksum = |m: &serde_json::Value, list: &str| {
        m["codelists"]
            .as_array()
            .expect("codelists")
            .iter()
            .find(|l| l["list"] == list)
            .map(|l| (l["origin"].clone(), l["blake3"].clone()))
            .expect("list recorded")
    };
    let (origin, built_in) = checksum(&manifest(dir.path()), "charlson_snomed");
    assert_eq!(origin, "built-in:charlson_aurum_snomed.csv");
    // The built-in checksum is the blake3 of the file in codelists/.
    let text = std::fs::read(root().join("codelists/snomed/charlson_aurum_snomed.csv"))
        .expect("built-in list");
    assert_eq!(built_in, blake3::hash(&text).to_hex().to_string());

    // A one-line list: "heart attack" is myocardial infarction, nothing else counts.
    let list = "code,description,category\n22298006,Myocardial infarction,ami\n";
    std::fs::write(dir.path().join("charlson_snomed.csv"), list).expect("list");
    std::fs::write(
        dir.path().join("strata.toml"),
        "[codelists]\ncharlson_snomed = \"charlson_snomed.csv\"\n",
    )
    .expect("config");
    let second = strata(dir.path(), &["run", "--config", "strata.toml"]);
    assert!(second.status.success(), "{}", stderr(&second));
    let (origin, swapped) = checksum(&manifest(dir.path()), "charlson_snomed");
    assert_eq!(origin, "charlson_snomed.csv");
    assert_eq!(swapped, blake3::hash(list.as_bytes()).to_hex().to_string());
    assert_ne!(swapped, built_in);
    // The other lists are still the built-in ones.
    let (origin, _) = checksum(&manifest(dir.path()), "charlson_icd10");
    assert_eq!(origin, "built-in:charlson_quan2005.csv");
}

#[test]
fn a_code_list_with_an_unknown_category_is_refused_naming_file_line_and_column() {
    let dir = gp_only_folder();
    std::fs::write(
        dir.path().join("bad.csv"),
        "code,description,category\n22298006,Myocardial infarction,ami\n84114007,Heart failure,heart\n",
    )
    .expect("list");
    std::fs::write(
        dir.path().join("strata.toml"),
        "[codelists]\ncharlson_snomed = \"bad.csv\"\n",
    )
    .expect("config");
    let result = strata(dir.path(), &["run", "--config", "strata.toml"]);
    assert!(!result.status.success());
    let err = stderr(&result);
    assert!(
        err.contains("bad.csv") && err.contains("line 3") && err.contains("`category`"),
        "{err}"
    );
}

#[test]
fn validate_names_the_absent_source_from_its_one_pass() {
    let dir = gp_only_folder();
    let result = strata(dir.path(), &["validate", "--input", "sample-data"]);
    assert!(result.status.success(), "{}", stderr(&result));
    let out = crate::support::stdout(&result);
    assert!(
        out.contains("diagnoses by code system: icd10 0, snomed "),
        "{out}"
    );
    assert!(
        out.contains(
            "coverage warning: no ICD-10 diagnoses: HFRS not computable (null for everyone)"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "coverage warning: no ICD-10 diagnoses: Charlson from SNOMED CT diagnoses only"
        ),
        "{out}"
    );
    // The full sample data has every source.
    let full = strata(&root(), &["validate", "--input", "sample-data"]);
    let out = crate::support::stdout(&full);
    assert!(
        out.contains("coverage: every feature source is present"),
        "{out}"
    );
}
