//! The nightly job end to end on the bundled sample data, through the real binary.

use polars::prelude::*;

use crate::support::{root, stderr, stdout, strata};

/// The columns documented in docs/outputs.md for patient_risk, in order.
const PATIENT_RISK_COLUMNS: &[&str] = &[
    "person_id",
    "practice_code",
    "pcn_code",
    "lsoa",
    // the default model's features, in its term order
    "age",
    "sex",
    "imd_decile",
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
    "risk",
    "tier",
    "segment",
    "reason_1",
    "reason_2",
    "reason_3",
    "new_to_flagged",
];

/// Reads every part of a Hive-partitioned output folder.
pub fn read_parts(folder: &std::path::Path) -> DataFrame {
    let pattern = folder.join("*").join("*.parquet");
    LazyFrame::scan_parquet(
        PlRefPath::new(pattern.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )
    .expect("scan")
    .collect()
    .expect("read parts")
}

#[test]
fn run_with_no_flags_publishes_latest_with_manifest_and_patient_risk() {
    // A working folder laid out like the repository: sample-data/ and models/ beside out/.
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["sample-data", "models"] {
        std::os::unix::fs::symlink(root().join(name), dir.path().join(name)).expect("link");
    }
    let result = strata(dir.path(), &["run"]);
    assert!(result.status.success(), "{}", stderr(&result));
    assert!(
        stdout(&result).contains("published run"),
        "{}",
        stdout(&result)
    );

    let latest = dir.path().join("out/latest");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(latest.join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    for key in [
        "run_id",
        "as_of",
        "software_version",
        "model",
        "inputs",
        "tables",
        "outputs",
        "stages",
    ] {
        assert!(manifest.get(key).is_some(), "manifest has {key}");
    }
    assert!(
        manifest["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .all(|i| i["blake3"].as_str().is_some_and(|h| h.len() == 64))
    );

    let frame = read_parts(&latest.join("patient_risk"));
    let names: Vec<&str> = frame
        .get_column_names()
        .into_iter()
        .map(|n| n.as_str())
        .collect();
    assert_eq!(names, PATIENT_RISK_COLUMNS);
    assert_eq!(
        manifest["people_scored"].as_u64(),
        Some(frame.height() as u64)
    );
    // Every output the manifest lists exists with the row count it states.
    for output in manifest["outputs"].as_array().expect("outputs") {
        let path = latest.join(output["path"].as_str().expect("path"));
        let file = std::fs::File::open(&path).expect("listed output exists");
        let rows = ParquetReader::new(file).finish().expect("parquet").height();
        assert_eq!(
            output["rows"].as_u64(),
            Some(rows as u64),
            "{}",
            path.display()
        );
    }
    for folder in ["patient_risk", "clinical_lists", "summaries"] {
        assert!(latest.join(folder).is_dir(), "{folder}/");
    }
    let risk = frame
        .column("risk")
        .expect("risk")
        .f64()
        .expect("f64")
        .clone();
    assert!(risk.into_no_null_iter().all(|r| (0.0..=1.0).contains(&r)));
}

#[test]
fn validate_reports_no_fatal_errors_on_the_sample_data() {
    let result = strata(&root(), &["validate", "--input", "sample-data"]);
    assert!(result.status.success(), "{}", stderr(&result));
    let text = stdout(&result);
    for table in ["patients", "encounters"] {
        assert!(text.contains(table), "{text}");
    }
}

#[test]
fn a_second_run_switches_latest_and_keeps_the_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let args = |o: &str| {
        vec![
            "run".to_string(),
            "--input".into(),
            root().join("sample-data").display().to_string(),
            "--model".into(),
            root()
                .join("models/emergency_admission.json")
                .display()
                .to_string(),
            "--out".into(),
            o.to_string(),
        ]
    };
    let out_s = out.display().to_string();
    let a: Vec<String> = args(&out_s);
    let first = strata(
        dir.path(),
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let first_target = std::fs::read_link(out.join("latest")).expect("latest");
    let second = strata(
        dir.path(),
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(second.status.success(), "{}", stderr(&second));
    let second_target = std::fs::read_link(out.join("latest")).expect("latest");
    assert_ne!(first_target, second_target);
    assert!(
        out.join(&first_target).join("manifest.json").exists(),
        "earlier runs stay readable"
    );
}

#[test]
fn retraining_on_the_sample_data_reproduces_the_default_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("emergency_admission.json");
    let result = strata(
        &root(),
        &[
            "train",
            "--input",
            "sample-data",
            "--index-date",
            "2025-03-31",
            "--out",
            out.to_str().expect("utf-8"),
            "--synthetic",
        ],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    let load = |p: &std::path::Path| strata::model::ModelFile::load(p).expect("model loads");
    let fresh = load(&out);
    let shipped = load(&root().join("models/emergency_admission.json"));
    // Floating-point results may differ in the last bits on another CPU (SIMD kernels).
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()));
    assert!(
        close(fresh.intercept, shipped.intercept),
        "intercept {} vs {}",
        fresh.intercept,
        shipped.intercept
    );
    assert_eq!(fresh.terms.len(), shipped.terms.len());
    for (a, b) in fresh.terms.iter().zip(&shipped.terms) {
        assert_eq!(
            (&a.name, &a.feature, &a.transform),
            (&b.name, &b.feature, &b.transform)
        );
        for (x, y) in [
            (a.coefficient, b.coefficient),
            (a.center, b.center),
            (a.scale, b.scale),
            (a.impute, b.impute),
        ] {
            assert!(close(x, y), "term {}: {x} vs {y}", a.name);
        }
    }
    assert_eq!(
        fresh.training.input_checksums, shipped.training.input_checksums,
        "same sample data"
    );
    assert_eq!(fresh.training.n_train, shipped.training.n_train);
    assert_eq!(fresh.training.lambda, shipped.training.lambda);
}
