//! Golden checks on the sample run: a canonical text rendering of what the
//! nightly job publishes from `sample-data/`, compared with
//! `tests/golden/sample_run.txt`. A change detector, not a proof (the feature
//! specs prove correctness): regenerate with `STRATA_BLESS=1 cargo test golden`
//! and explain every golden diff in its commit.

use std::fmt::Write;

use polars::prelude::*;

use crate::pipeline::read_parts;
use crate::support::{root, stderr, strata};

fn render(frame: &DataFrame) -> String {
    let mut out = String::new();
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let _ = writeln!(out, "{}", names.join(" | "));
    for row in 0..frame.height() {
        let cells: Vec<String> = frame
            .columns()
            .iter()
            .map(|c| match c.get(row) {
                Ok(AnyValue::Float64(v)) => format!("{v:.4}"),
                Ok(AnyValue::Null) | Err(_) => "null".to_string(),
                Ok(AnyValue::String(s)) => s.to_string(),
                Ok(other) => other.to_string(),
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join(" | "));
    }
    out
}

#[test]
fn golden_sample_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let result = strata(
        &root(),
        &[
            "run",
            "--input",
            "sample-data",
            "--out",
            out.to_str().expect("utf-8"),
        ],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    let latest = out.join("latest");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(latest.join("manifest.json")).expect("manifest"),
    )
    .expect("json");

    let mut golden = String::new();
    let _ = writeln!(golden, "as_of: {}", manifest["as_of"]);
    let _ = writeln!(golden, "people_scored: {}", manifest["people_scored"]);
    let _ = writeln!(golden, "tier_counts: {}", manifest["tier_counts"]);
    let _ = writeln!(golden, "segment_counts: {}", manifest["segment_counts"]);
    let _ = writeln!(golden, "tables: {}", manifest["tables"]);

    // Feature sums over everyone scored (golden feature values on sample-data).
    let risk = read_parts(&latest.join("patient_risk"));
    let sums = risk
        .clone()
        .lazy()
        .select([
            col("emergency_admissions_12m").sum(),
            col("ae_attendances_12m").sum(),
            col("medicines_12m").sum(),
            col("charlson_index").sum(),
            col("ltc_count").sum(),
            col("bed_days_12m").sum(),
            col("efi").mean(),
            col("hfrs").mean(),
            col("risk").mean(),
        ])
        .collect()
        .expect("sums");
    let _ = write!(golden, "\n# feature sums and means\n{}", render(&sums));

    let top = risk
        .lazy()
        .sort(
            ["risk"],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .select([
            col("age"),
            col("sex"),
            col("risk"),
            col("tier"),
            col("segment"),
            col("reason_1"),
        ])
        .limit(5)
        .collect()
        .expect("top");
    let _ = write!(golden, "\n# five highest risks\n{}", render(&top));

    for dimension in ["age_band", "segment"] {
        let path = latest.join(format!("summaries/by_{dimension}.parquet"));
        let frame = ParquetReader::new(std::fs::File::open(&path).expect("summary"))
            .finish()
            .expect("parquet");
        let keep: Vec<&str> = frame
            .get_column_names()
            .into_iter()
            .map(|n| n.as_str())
            .filter(|n| {
                !n.ends_with("_redacted")
                    && (n.starts_with("tier_")
                        || *n == dimension
                        || *n == "population"
                        || *n == "expected_admissions")
            })
            .collect();
        let _ = write!(
            golden,
            "\n# summaries/by_{dimension} (selected columns)\n{}",
            render(&frame.select(keep).expect("select"))
        );
    }
    let lists = read_parts(&latest.join("clinical_lists"));
    let _ = writeln!(golden, "\nclinical list rows: {}", lists.height());

    let path = root().join("tests/golden/sample_run.txt");
    if std::env::var_os("STRATA_BLESS").is_some() {
        std::fs::write(&path, &golden).expect("bless golden");
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == golden,
        "the sample run changed; if intended, run STRATA_BLESS=1 cargo test golden and explain the diff.\n--- expected\n{expected}\n--- got\n{golden}"
    );
}
