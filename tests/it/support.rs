//! Helpers shared by the integration tests: tiny extracts written from text
//! tables, and running the real binary.

use std::path::{Path, PathBuf};
use std::process::Output;

/// The repository root (where sample-data/ and models/ live).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `strata` binary with `args` in `dir`.
pub fn strata(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("the strata binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Writes `NAME.csv` files into a fresh folder: `tables` is (name, csv text).
pub fn csv_extract(tables: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in tables {
        let body: String = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(dir.path().join(format!("{name}.csv")), body + "\n").expect("write csv");
    }
    dir
}

/// A header line for patients, so tests only write the rows.
pub const PATIENTS_HEADER: &str = "person_id,nhs_number,date_of_birth,sex,ethnicity,lsoa,practice_code,pcn_code,registered_from,date_of_death,opt_out_national,opt_out_type1";
pub const ENCOUNTERS_HEADER: &str =
    "person_id,encounter_id,setting,start_date,end_date,emergency,cost_gbp";

/// Copies a folder tree (sample data into a scratch folder).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A Parquet file read whole.
pub fn read_parquet(path: &Path) -> polars::prelude::DataFrame {
    use polars::prelude::*;
    LazyFrame::scan_parquet(
        PlRefPath::new(path.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )
    .expect("scan")
    .collect()
    .expect("read")
}

/// Rows in `person_id` order.
pub fn by_person(df: polars::prelude::DataFrame) -> polars::prelude::DataFrame {
    df.sort(["person_id"], Default::default()).expect("sort")
}

/// The round trip of another input form (`fhir`, `omop`): generates 600
/// people (seed 11) as a contract extract and as `format` in `d`, applies
/// the form's documented losses to the contract copy (`lossy`), derives
/// features and runs on both, and requires identical features, risks,
/// tiers, segments, reasons and summaries. Returns the stderr of the run on
/// the converted form, for the caller's own checks.
pub fn assert_round_trip(d: &Path, format: &str, apply_losses: fn(&Path, &Path)) -> String {
    for (form, out) in [("parquet", "contract"), (format, format)] {
        let args = ["generate", "--patients", "600", "--seed", "11"];
        let result = strata(d, &[&args[..], &["--format", form, "--out", out]].concat());
        assert!(result.status.success(), "{}", stderr(&result));
    }
    apply_losses(&d.join("contract"), &d.join("lossy"));

    let model = root().join("models/emergency_admission.json");
    let model = model.to_str().expect("utf-8");
    let mut converted_stderr = String::new();
    for input in ["lossy", format] {
        let features = format!("{input}-features.parquet");
        let result = strata(
            d,
            &[
                "features",
                "--input",
                input,
                "--index-date",
                "2026-03-31",
                "--out",
                &features,
            ],
        );
        assert!(result.status.success(), "{}", stderr(&result));
        let out = format!("{input}-out");
        let result = strata(
            d,
            &[
                "run",
                "--input",
                input,
                "--model",
                model,
                "--out",
                &out,
                "--as-of",
                "2026-03-31",
            ],
        );
        assert!(result.status.success(), "{}", stderr(&result));
        converted_stderr = stderr(&result);
    }

    let features = by_person(read_parquet(&d.join("lossy-features.parquet")));
    assert!(
        features.height() > 500,
        "most of the 600 people are in scope"
    );
    assert_eq!(
        features,
        by_person(read_parquet(&d.join(format!("{format}-features.parquet"))))
    );

    let risk = |input: &str| {
        by_person(
            crate::pipeline::read_parts(&d.join(format!("{input}-out/latest/patient_risk")))
                .select([
                    "person_id",
                    "risk",
                    "tier",
                    "segment",
                    "reason_1",
                    "reason_2",
                    "reason_3",
                ])
                .expect("columns"),
        )
    };
    assert_eq!(risk("lossy"), risk(format));

    let summaries = d.join("lossy-out/latest/summaries");
    let mut compared = 0;
    for entry in std::fs::read_dir(&summaries).expect("summaries") {
        let name = entry.expect("entry").file_name();
        let a = read_parquet(&summaries.join(&name));
        let b = read_parquet(&d.join(format!("{format}-out/latest/summaries")).join(&name));
        assert_eq!(a, b, "{name:?}");
        compared += 1;
    }
    assert!(compared >= 8, "the eight neighbourhood summaries");
    converted_stderr
}
