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
    let result = train_on_sample_data(&out, "2025-03-31", &["--synthetic"]);
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
    // The shipped file predates disclosure control and records the exact
    // count; a fresh one rounds it to the nearest 5 (3,473 → 3,475).
    assert_eq!(
        fresh.training.n_train,
        (shipped.training.n_train + 2) / 5 * 5
    );
    assert_eq!(fresh.training.lambda, shipped.training.lambda);
}

#[test]
fn train_predicts_mortality_and_validates_at_a_later_index_date() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("mortality.json");
    let result = train_on_sample_data(
        &out,
        "2024-03-31",
        &[
            "--temporal-index-date",
            "2025-03-31",
            "--outcome",
            "mortality_12m",
            "--synthetic",
        ],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    let model = strata::model::ModelFile::load(&out).expect("model loads");
    assert_eq!(model.outcome, "mortality_12m");
    let temporal = model.temporal_evaluation.as_ref().expect("temporal");
    assert_eq!(
        temporal.context.index_date,
        Some("2025-03-31".parse().expect("date"))
    );
    // Independently: people in the cohort on 2025-03-31 (born, registered,
    // alive, no opt-out) and those of them who die in 2025-04-01 … 2026-03-31.
    let patients = LazyFrame::scan_parquet(
        PlRefPath::new(
            root()
                .join("sample-data/patients.parquet")
                .to_str()
                .expect("utf-8"),
        ),
        Default::default(),
    )
    .expect("scan")
    .filter(
        col("date_of_birth")
            .lt_eq(lit(d("2025-03-31")))
            .and(col("registered_from").lt_eq(lit(d("2025-03-31"))))
            .and(
                col("date_of_death")
                    .is_null()
                    .or(col("date_of_death").gt(lit(d("2025-03-31")))),
            )
            .and(col("opt_out_national").not())
            .and(col("opt_out_type1").not()),
    )
    .select([
        len().alias("n"),
        col("date_of_death")
            .lt_eq(lit(d("2026-03-31")))
            .sum()
            .alias("deaths"),
    ])
    .collect()
    .expect("counts");
    let n = patients.column("n").expect("n").get(0).expect("n");
    let deaths = patients
        .column("deaths")
        .expect("deaths")
        .get(0)
        .expect("d");
    // The model file publishes counts under the default disclosure profile:
    // 1–7 withheld, others to the nearest 5 (half up).
    let published = |x: u64| (!(1..=7).contains(&x)).then_some((x + 2) / 5 * 5);
    assert_eq!(
        temporal.overall.n,
        published(n.extract::<u64>().expect("u64"))
    );
    assert_eq!(
        temporal.overall.events,
        published(deaths.extract::<u64>().expect("u64"))
    );
    let card = std::fs::read_to_string(out.with_extension("card.md")).expect("card");
    assert!(card.contains("## Temporal validation"), "{card}");
    assert!(card.contains("death from any cause"), "{card}");
}

#[test]
fn train_refuses_an_outcome_year_past_the_extract_and_too_few_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("m.json");
    let late = train_on_sample_data(&out, "2025-06-30", &[]);
    assert_eq!(late.status.code(), Some(12), "{}", stderr(&late));
    assert!(
        stderr(&late).contains("choose an index date on or before 2025-03-31"),
        "{}",
        stderr(&late)
    );
    let rare = train_on_sample_data(&out, "2024-03-31", &["--outcome", "care_home_entry_12m"]);
    assert_eq!(rare.status.code(), Some(12), "{}", stderr(&rare));
    assert!(
        stderr(&rare).contains("training needs at least 20"),
        "{}",
        stderr(&rare)
    );
    assert!(!out.exists(), "no model file on failure");
}

/// `strata train --input sample-data --index-date INDEX --out OUT EXTRA...`.
fn train_on_sample_data(
    out: &std::path::Path,
    index: &str,
    extra: &[&str],
) -> std::process::Output {
    let out = out.to_str().expect("utf-8");
    let mut args = vec![
        "train",
        "--input",
        "sample-data",
        "--index-date",
        index,
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    strata(&root(), &args)
}

fn d(s: &str) -> chrono::NaiveDate {
    s.parse().expect("date")
}
