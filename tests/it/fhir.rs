//! FHIR R4 bulk exports through the real binary: `convert` then `validate`,
//! `run --input EXPORT` (with a gzipped file), the manifest, and bad input.
//! The export is tests/fixtures/fhir/export (hand-written UK Core resources).

use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::support::{assert_round_trip, copy_dir, read_parquet, root, stderr, stdout, strata};

fn fixture() -> PathBuf {
    root().join("tests/fixtures/fhir/export")
}

/// A scratch copy of the fixture export, with `Encounter.ndjson` gzipped.
fn gzipped_export() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture(), dir.path());
    let plain = dir.path().join("Encounter.ndjson");
    let text = std::fs::read(&plain).expect("read");
    let gz = std::fs::File::create(dir.path().join("Encounter.ndjson.gz")).expect("create");
    let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::default());
    enc.write_all(&text).expect("gzip");
    enc.finish().expect("gzip finish");
    std::fs::remove_file(plain).expect("remove plain file");
    dir
}

fn read_table(extract: &Path, table: &str) -> DataFrame {
    let pattern = extract.join(table).join("*.parquet");
    LazyFrame::scan_parquet(
        PlRefPath::new(pattern.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )
    .expect("scan")
    .collect()
    .expect("read")
}

fn strs(df: &DataFrame, col: &str) -> Vec<Option<String>> {
    df.column(col)
        .expect("column")
        .cast(&DataType::String)
        .expect("cast")
        .str()
        .expect("str")
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[test]
fn convert_writes_a_contract_extract_that_validate_accepts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("extract");
    let dmd = root().join("tests/fixtures/fhir/dmd_bnf.csv");
    let result = strata(
        dir.path(),
        &[
            "convert",
            "--input",
            fixture().to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
            "--dmd-bnf",
            dmd.to_str().expect("utf-8"),
        ],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    let text = stdout(&result);
    assert!(
        text.contains("skipped (types not mapped): Practitioner 1"),
        "{text}"
    );
    assert!(
        text.contains(
            "Condition dropped 1: verificationStatus refuted (first at Condition.ndjson line 2)"
        ),
        "{text}"
    );

    // Patients, worked from Patient.ndjson and Organization.ndjson by hand.
    let p = read_table(&out, "patients")
        .sort(["person_id"], Default::default())
        .expect("sort");
    assert_eq!(strs(&p, "person_id"), [s("p1"), s("p2"), s("p3")]);
    assert_eq!(
        strs(&p, "nhs_number"),
        [s("9434765919"), s("4010232137"), None]
    );
    assert_eq!(strs(&p, "sex"), [s("F"), s("M"), s("I")]);
    // p2's ethnic category 99 (not known) → Z; p3 has none.
    assert_eq!(strs(&p, "ethnicity"), [s("A"), s("Z"), None]);
    // p1 through Organization/org-1 (ODS A81001); p2, p3 logical references.
    assert_eq!(
        strs(&p, "practice_code"),
        [s("A81001"), s("A81002"), s("A81001")]
    );
    assert_eq!(
        strs(&p, "date_of_birth"),
        [s("1950-03-15"), s("1962-07-01"), s("1980-01-01")]
    );
    assert_eq!(strs(&p, "registered_from"), strs(&p, "date_of_birth"));
    assert_eq!(strs(&p, "date_of_death"), [None, s("2025-12-01"), None]);
    assert_eq!(
        strs(&p, "lsoa"),
        [None, None, None],
        "no postcode lookup given"
    );

    let e = read_table(&out, "encounters")
        .sort(["encounter_id"], Default::default())
        .expect("sort");
    assert_eq!(
        strs(&e, "setting"),
        [
            s("inpatient"),
            s("gp"),
            s("emergency_department"),
            s("outpatient"),
            s("inpatient")
        ]
    );
    // e1 admission method 21, e3 an ED attendance; e5 method 11 (elective).
    assert_eq!(
        strs(&e, "emergency"),
        [s("true"), s("false"), s("true"), s("false"), s("false")]
    );
    assert_eq!(strs(&e, "start_date")[2], s("2025-03-01"));

    let d = read_table(&out, "diagnoses")
        .sort(["code"], Default::default())
        .expect("sort");
    assert_eq!(strs(&d, "code"), [s("44054006"), s("E11.9"), s("I10X")]);
    assert_eq!(
        strs(&d, "code_system"),
        [s("snomed"), s("icd10"), s("icd10")]
    );
    assert_eq!(
        strs(&d, "date"),
        [s("2025-05-03"), s("2025-05-03"), s("2024-02-10")]
    );

    let m = read_table(&out, "medications");
    // m1: SNOMED 322236009 (dm+d), mapped by dmd_bnf.csv; the dm+d code is kept beside it.
    assert_eq!(
        (
            strs(&m, "bnf_code"),
            strs(&m, "code_system"),
            strs(&m, "code")
        ),
        (
            vec![s("0407010H0AAAMAM")],
            vec![s("dmd")],
            vec![s("322236009")]
        )
    );
    let o = read_table(&out, "observations");
    assert_eq!(
        (strs(&o, "code"), strs(&o, "unit")),
        (vec![s("27113001")], vec![s("kg")])
    );

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
fn run_on_a_bulk_export_with_a_gzipped_file_needs_no_other_flag() {
    let export = gzipped_export();
    let out = tempfile::tempdir().expect("tempdir");
    let model = root().join("models/emergency_admission.json");
    let result = strata(
        export.path(),
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
        stderr(&result).contains("Encounter 5"),
        "{}",
        stderr(&result)
    );
    // p2 died on 2025-12-01, before the as-of date: two people are scored.
    let risk = crate::pipeline::read_parts(&out.path().join("latest/patient_risk"));
    assert_eq!(risk.height(), 2);
    // The manifest says the input was FHIR, with the conversion's counts.
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("latest/manifest.json")).expect("manifest"),
    )
    .expect("json");
    let from = &manifest["settings"]["converted_from"];
    assert_eq!(from["format"], "fhir");
    assert_eq!(from["input"], ".");
    assert_eq!(from["conversion"]["resources"]["Patient"], 3);
    assert_eq!(from["conversion"]["rows"]["encounters"], 5);
    assert_eq!(from["conversion"]["skipped"]["Practitioner"], 1);
    // No dm+d → BNF map: m1 (dm+d 322236009) is a medications row counted by
    // its product code, and the run says so in the manifest and on stderr.
    assert_eq!(from["conversion"]["rows"]["medications"], 1);
    let medications = manifest["validation"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["table"] == "medications"))
        .expect("medications validated");
    assert_eq!(
        medications["medicine_codes"],
        serde_json::json!({"bnf_substance_rows": 0, "product_code_rows": 1, "dmd_bnf_map": false,
            "non_medicine_rows": 0})
    );
    assert!(
        stderr(&result).contains("1 of 1 rows have no BNF code and were counted by product code"),
        "{}",
        stderr(&result)
    );
}

#[test]
fn validate_reads_an_export_and_format_contract_refuses_it() {
    let export = gzipped_export();
    let result = strata(export.path(), &["validate", "--input", "."]);
    assert!(result.status.success(), "{}", stderr(&result));
    assert!(
        stdout(&result).contains("encounters               5 rows read"),
        "{}",
        stdout(&result)
    );
    let forced = strata(
        export.path(),
        &["validate", "--input", ".", "--format", "contract"],
    );
    assert_eq!(forced.status.code(), Some(10), "{}", stderr(&forced));
    assert!(
        stderr(&forced).contains("required table `patients` not found"),
        "{}",
        stderr(&forced)
    );
}

#[test]
fn a_manifest_names_the_files_to_read_and_a_listed_file_must_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture(), dir.path());
    // The manifest lists Organization, Patient and Encounter only: the other files are not read.
    let manifest = r#"{"transactionTime":"2026-01-01T00:00:00Z","request":"https://example.nhs.uk/fhir/$export","requiresAccessToken":true,"output":[{"type":"Organization","url":"https://example.nhs.uk/files/Organization.ndjson"},{"type":"Patient","url":"https://example.nhs.uk/files/Patient.ndjson"},{"type":"Encounter","url":"https://example.nhs.uk/files/Encounter.ndjson?sig=abc"}],"error":[]}"#;
    std::fs::write(dir.path().join("manifest.json"), manifest).expect("write");
    let out = dir.path().join("extract");
    let result = strata(
        dir.path(),
        &[
            "convert",
            "--input",
            ".",
            "--out",
            out.to_str().expect("utf-8"),
        ],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    assert!(
        stdout(&result).contains("read Encounter 5, Organization 1, Patient 3\n"),
        "{}",
        stdout(&result)
    );
    assert!(!out.join("diagnoses").exists());

    std::fs::remove_file(dir.path().join("Encounter.ndjson")).expect("remove");
    let out2 = dir.path().join("extract2");
    let result = strata(
        dir.path(),
        &[
            "convert",
            "--input",
            ".",
            "--out",
            out2.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(result.status.code(), Some(10), "{}", stderr(&result));
    assert!(
        stderr(&result)
            .contains("lists `Encounter.ndjson` (Encounter), which is not in the export folder"),
        "{}",
        stderr(&result)
    );
}

#[test]
fn bad_lines_are_counted_with_file_and_line_and_too_many_stop_the_conversion() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture(), dir.path());
    let patients = dir.path().join("Patient.ndjson");
    let mut text = std::fs::read_to_string(&patients).expect("read");
    // A byte-order mark on line 1 is not an error.
    text.insert(0, '\u{feff}');
    // Line 4: malformed; line 5: unparseable birthDate. 2 of 5 Patients rejected.
    text.push_str("{\"resourceType\":\"Patient\",\"id\":\"p4\",\n");
    text.push_str("{\"resourceType\":\"Patient\",\"id\":\"p5\",\"birthDate\":\"1970-02-30\",\"generalPractitioner\":[{\"reference\":\"Organization/org-1\"}]}\n");
    std::fs::write(&patients, text).expect("write");
    let out = dir.path().join("extract");
    let lenient = dir.path().join("lenient.toml");
    std::fs::write(&lenient, "[validation]\nmax_reject_fraction = 0.5\n").expect("write");
    let result = strata(
        dir.path(),
        &[
            "convert",
            "--input",
            ".",
            "--out",
            out.to_str().expect("utf-8"),
            "--config",
            lenient.to_str().expect("utf-8"),
        ],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    let text = stdout(&result);
    assert!(
        text.contains("Patient rejected 1: malformed JSON line (first at Patient.ndjson line 4)"),
        "{text}"
    );
    assert!(
        text.contains(
            "Patient rejected 1: birthDate is not a full date (first at Patient.ndjson line 5)"
        ),
        "{text}"
    );
    assert_eq!(read_table(&out, "patients").height(), 3);

    // With the default 5% limit, 2 of 5 stops the conversion (exit 10).
    let out2 = dir.path().join("extract2");
    let result = strata(
        dir.path(),
        &[
            "convert",
            "--input",
            ".",
            "--out",
            out2.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(result.status.code(), Some(10), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("Patient: 2 of 5 resources rejected"),
        "{}",
        stderr(&result)
    );
}

#[test]
fn convert_refuses_a_folder_that_is_not_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("old.txt"), "x").expect("write");
    let result = strata(
        dir.path(),
        &[
            "convert",
            "--input",
            fixture().to_str().expect("utf-8"),
            "--out",
            ".",
        ],
    );
    assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
}

/// Applies to a contract extract what the FHIR mapping cannot carry
/// (docs/fhir.md, "Round trip"): no registration date (registered from
/// birth), no opt-outs, no LSOA or PCN (no postcode in the generator), no
/// encounter costs, no medications (no dm+d codes in the generator), no
/// social care, an observation's unit only with its value, and the
/// emergency flag of an ED attendance always true.
fn apply_fhir_losses(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    let read = |t: &str| read_parquet(&from.join(format!("{t}.parquet")));
    let write = |t: &str, mut df: DataFrame| {
        let f = std::fs::File::create(to.join(format!("{t}.parquet"))).expect("create");
        ParquetWriter::new(f).finish(&mut df).expect("write");
    };
    let patients = read("patients")
        .lazy()
        .with_columns([
            col("date_of_birth").alias("registered_from"),
            lit(false).alias("opt_out_national"),
            lit(false).alias("opt_out_type1"),
            lit(NULL).cast(DataType::String).alias("lsoa"),
            lit(NULL).cast(DataType::String).alias("pcn_code"),
        ])
        .collect()
        .expect("patients");
    write("patients", patients);
    let encounters = read("encounters")
        .lazy()
        .with_columns([
            lit(NULL).cast(DataType::Float64).alias("cost_gbp"),
            col("emergency")
                .and(col("setting").eq(lit("inpatient")))
                .or(col("setting").eq(lit("emergency_department")))
                .alias("emergency"),
        ])
        .collect()
        .expect("encounters");
    write("encounters", encounters);
    write("diagnoses", read("diagnoses"));
    let observations = read("observations")
        .lazy()
        .with_column(
            when(col("value").is_null())
                .then(lit(NULL).cast(DataType::String))
                .otherwise(col("unit"))
                .alias("unit"),
        )
        .collect()
        .expect("observations");
    write("observations", observations);
}

#[test]
fn a_generated_population_gives_the_same_features_risks_tiers_and_summaries_as_fhir() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_round_trip(dir.path(), "fhir", apply_fhir_losses);
}
