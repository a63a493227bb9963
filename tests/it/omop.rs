//! OMOP CDM 5.4 folders through the real binary: `convert` then `validate`,
//! `run --input CDM` with no other flag (and its manifest), `--format
//! contract` refusing a CDM folder, Charlson from a GP-only (SNOMED CT)
//! extract, and the round trip of a generated population.
//! The folder is tests/fixtures/omop/cdm (hand-written CDM rows).

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::support::{
    assert_round_trip, by_person, copy_dir, read_parquet, root, stderr, stdout, strata,
};

fn fixture() -> PathBuf {
    root().join("tests/fixtures/omop/cdm")
}

#[test]
fn convert_writes_a_contract_extract_that_validate_accepts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("extract");
    let result = strata(
        dir.path(),
        &[
            "convert",
            "--input",
            fixture().to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    let text = stdout(&result);
    assert!(
        text.contains(
            "contract rows: diagnoses 5, encounters 10, medications 3, observations 2, patients 3"
        ),
        "{text}"
    );
    assert!(
        text.contains("visit_occurrence dropped 1: visit_concept_id not mapped to a care setting"),
        "{text}"
    );
    assert!(out.join("omop_conversion.json").is_file());
    let result = strata(
        dir.path(),
        &["validate", "--input", out.to_str().expect("utf-8")],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    assert!(
        stdout(&result).contains("patients                 3 rows read          0 rejected"),
        "{}",
        stdout(&result)
    );
}

#[test]
fn run_on_a_cdm_folder_needs_no_other_flag_and_the_manifest_says_so() {
    let cdm = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture(), cdm.path());
    let out = tempfile::tempdir().expect("tempdir");
    let model = root().join("models/emergency_admission.json");
    let result = strata(
        cdm.path(),
        &[
            "run",
            "--input",
            ".",
            "--model",
            model.to_str().expect("utf-8"),
            "--out",
            out.path().to_str().expect("utf-8"),
            "--as-of",
            "2025-12-31",
        ],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("OMOP CDM folder .: read"),
        "{}",
        stderr(&result)
    );
    // Person 3 died on 2025-12-01, before the as-of date: two people are scored.
    let risk = crate::pipeline::read_parts(&out.path().join("latest/patient_risk"));
    assert_eq!(risk.height(), 2);
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("latest/manifest.json")).expect("manifest"),
    )
    .expect("json");
    let from = &manifest["settings"]["converted_from"];
    assert_eq!(from["format"], "omop");
    assert_eq!(from["input"], ".");
    assert_eq!(from["conversion"]["read"]["person"], 3);
    assert_eq!(from["conversion"]["rows"]["encounters"], 10);
}

#[test]
fn validate_detects_a_cdm_folder_and_format_contract_refuses_it() {
    let result = strata(
        &root(),
        &["validate", "--input", fixture().to_str().expect("utf-8")],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    assert!(
        stdout(&result).contains("encounters              10 rows read"),
        "{}",
        stdout(&result)
    );
    let forced = strata(
        &root(),
        &[
            "validate",
            "--input",
            fixture().to_str().expect("utf-8"),
            "--format",
            "contract",
        ],
    );
    assert_eq!(forced.status.code(), Some(10), "{}", stderr(&forced));
    assert!(
        stderr(&forced).contains("required table `patients` not found"),
        "{}",
        stderr(&forced)
    );
}

/// A GP extract in OMOP: conditions as SNOMED CT standard concepts only
/// (Read codes as source values, no ICD-10 anywhere).
const GP_CONDITIONS: &str = "condition_occurrence_id,person_id,condition_concept_id,condition_start_date,condition_type_concept_id,condition_source_value,condition_source_concept_id
1,1,4329847,2025-03-01,32817,G30..,0
2,1,201826,2024-01-01,32817,C10F.,0
3,2,255573,2024-05-05,32817,H3...,0
4,2,4182210,2025-02-02,32817,Eu02z,0
";

#[test]
fn a_gp_only_cdm_folder_gives_charlson_from_snomed_concepts() {
    let cdm = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture(), cdm.path());
    std::fs::write(cdm.path().join("condition_occurrence.csv"), GP_CONDITIONS).expect("write");
    let result = strata(
        cdm.path(),
        &[
            "features",
            "--input",
            ".",
            "--index-date",
            "2025-11-30",
            "--out",
            "features.parquet",
        ],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    let f = by_person(read_parquet(&cdm.path().join("features.parquet")));
    let charlson: Vec<Option<f64>> = f
        .column("charlson_index")
        .expect("charlson_index")
        .cast(&DataType::Float64)
        .expect("cast")
        .f64()
        .expect("f64")
        .iter()
        .collect();
    // Charlson 1987 weights: person 1 MI (22298006) 1 + diabetes (44054006) 1 = 2;
    // person 2 COPD (13645005) 1 + dementia (52448006) 1 = 2; person 3 none.
    assert_eq!(charlson, vec![Some(2.0), Some(2.0), Some(0.0)]);
    let column = |name: &str| -> Vec<Option<f64>> {
        f.column(name)
            .expect(name)
            .cast(&DataType::Float64)
            .expect("cast")
            .f64()
            .expect("f64")
            .iter()
            .collect()
    };
    // van Walraven weights: diabetes uncomplicated 0 (MI is no Elixhauser
    // category); chronic pulmonary disease 3 + other neurological (dementia) 6.
    assert_eq!(
        column("elixhauser_score"),
        vec![Some(0.0), Some(9.0), Some(0.0)]
    );
    // No ICD-10 anywhere: HFRS is not computable (null), not 0.
    assert_eq!(column("hfrs"), vec![None, None, None]);
}

/// Applies to a contract extract what the OMOP mapping cannot carry
/// (docs/omop.md, "Round trip"): person and visit ids become integers (the
/// generator's `P…` / `E…` pseudonyms as the value of their hex digits), no
/// opt-outs, no PCN, no social care, sex `I` becomes `U` (no concept in the
/// export), a missing ethnicity becomes `Z`, and the emergency flag is
/// true exactly for emergency inpatient stays and ER visits.
fn apply_omop_losses(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    let read = |t: &str| read_parquet(&from.join(format!("{t}.parquet")));
    let write = |t: &str, mut df: DataFrame| {
        let f = std::fs::File::create(to.join(format!("{t}.parquet"))).expect("create");
        ParquetWriter::new(f).finish(&mut df).expect("write");
    };
    let hex_to_decimal = |df: &mut DataFrame, name: &str| {
        let values: StringChunked = df
            .column(name)
            .expect("column")
            .str()
            .expect("str")
            .iter()
            .map(|v| {
                v.map(|v| {
                    i64::from_str_radix(&v[1..], 16)
                        .expect("generated ids are a letter and hex digits")
                        .to_string()
                })
            })
            .collect();
        df.with_column(values.with_name(name.into()).into_column())
            .expect("replace");
    };
    let mut patients = read("patients")
        .lazy()
        .with_columns([
            lit(false).alias("opt_out_national"),
            lit(false).alias("opt_out_type1"),
            lit(NULL).cast(DataType::String).alias("pcn_code"),
            when(col("sex").eq(lit("I")))
                .then(lit("U"))
                .otherwise(col("sex"))
                .alias("sex"),
            col("ethnicity").fill_null(lit("Z")).alias("ethnicity"),
        ])
        .collect()
        .expect("patients");
    hex_to_decimal(&mut patients, "person_id");
    write("patients", patients);
    let mut encounters = read("encounters")
        .lazy()
        .with_column(
            col("emergency")
                .and(col("setting").eq(lit("inpatient")))
                .or(col("setting").eq(lit("emergency_department")))
                .alias("emergency"),
        )
        .collect()
        .expect("encounters");
    hex_to_decimal(&mut encounters, "person_id");
    hex_to_decimal(&mut encounters, "encounter_id");
    write("encounters", encounters);
    let mut diagnoses = read("diagnoses");
    hex_to_decimal(&mut diagnoses, "person_id");
    hex_to_decimal(&mut diagnoses, "encounter_id");
    write("diagnoses", diagnoses);
    for table in ["medications", "observations"] {
        let mut df = read(table);
        hex_to_decimal(&mut df, "person_id");
        write(table, df);
    }
}

#[test]
fn a_generated_population_gives_the_same_features_risks_tiers_and_summaries_as_omop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = assert_round_trip(dir.path(), "omop", apply_omop_losses);
    // Nothing is rejected, dropped or noted from the generator's CDM folder:
    // its concept table covers every code it uses.
    assert!(
        !err.contains(" rejected ") && !err.contains(" dropped ") && !err.contains(" noted "),
        "{err}"
    );
}
