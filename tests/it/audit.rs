//! `strata audit` through the real binary: a published run survives the
//! intruder's attack; copies of it edited to leak as earlier releases did
//! are refused with exit 13, naming the attack that worked.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::support::{copy_dir, read_parquet, root, stderr, stdout, strata};

/// A sample run in a scratch folder laid out like the repository.
fn sample_run() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["sample-data", "models"] {
        std::os::unix::fs::symlink(root().join(name), dir.path().join(name)).expect("link");
    }
    let result = strata(dir.path(), &["run"]);
    assert!(result.status.success(), "{}", stderr(&result));
    let run = std::fs::canonicalize(dir.path().join("out/latest")).expect("latest");
    (dir, run)
}

fn audit(dir: &Path, run: &Path) -> std::process::Output {
    strata(dir, &["audit", "--run", run.to_str().expect("utf-8")])
}

/// A copy of `run` with `summaries/by_<dimension>.parquet` edited.
fn leaky_copy(
    dir: &Path,
    run: &Path,
    name: &str,
    dimension: &str,
    edit: impl FnOnce(DataFrame) -> DataFrame,
) -> PathBuf {
    let copy = dir.join(name);
    copy_dir(run, &copy);
    let path = copy.join(format!("summaries/by_{dimension}.parquet"));
    let mut frame = edit(read_parquet(&path));
    let file = std::fs::File::create(&path).expect("create");
    ParquetWriter::new(file).finish(&mut frame).expect("write");
    copy
}

fn row_of(frame: &DataFrame, dimension: &str, label: &str) -> usize {
    let labels = frame
        .column(dimension)
        .expect("group")
        .str()
        .expect("text")
        .clone();
    labels
        .iter()
        .position(|l| l == Some(label))
        .unwrap_or_else(|| panic!("no group {label}"))
}

/// Replaces one cell of a float column (and publishes it).
fn set_value(mut frame: DataFrame, column: &str, row: usize, value: f64) -> DataFrame {
    let mut values: Vec<Option<f64>> = frame
        .column(column)
        .expect(column)
        .f64()
        .expect("f64")
        .iter()
        .collect();
    values[row] = Some(value);
    let mut flags: Vec<Option<bool>> = frame
        .column(&format!("{column}_redacted"))
        .expect("flag")
        .bool()
        .expect("bool")
        .iter()
        .collect();
    flags[row] = Some(false);
    frame
        .with_column(Column::new(column.into(), values))
        .expect("set");
    frame
        .with_column(Column::new(format!("{column}_redacted").into(), flags))
        .expect("set");
    frame
}

fn assert_refused(dir: &Path, run: &Path, attack: &str) {
    let result = audit(dir, run);
    assert_eq!(
        result.status.code(),
        Some(13),
        "{}{}",
        stdout(&result),
        stderr(&result)
    );
    assert!(
        stdout(&result).contains(attack),
        "{attack}: {}",
        stdout(&result)
    );
    assert!(
        stderr(&result).contains("disclosure audit"),
        "{}",
        stderr(&result)
    );
}

#[test]
fn a_published_run_survives_and_leaky_copies_are_refused() {
    let (dir, run) = sample_run();
    let result = audit(dir.path(), &run);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}{}",
        stdout(&result),
        stderr(&result)
    );
    assert!(
        stdout(&result).contains("nothing recovered"),
        "{}",
        stdout(&result)
    );
    assert!(run.join("summaries/hierarchy.parquet").exists());

    // Ratio inversion: a mean computed from the true population, as before
    // (expected 17 over a true 312 people instead of the published 315).
    let copy = leaky_copy(dir.path(), &run, "ratio", "age_band", |f| {
        let row = row_of(&f, "age_band", "0-4");
        let expected = f
            .column("expected_admissions")
            .expect("e")
            .f64()
            .expect("f64")
            .get(row)
            .expect("published");
        set_value(f, "mean_risk", row, expected / 312.0)
    });
    assert_refused(dir.path(), &copy, "ratio inversion");

    // Differencing: publish every withheld cost of by_sex but one; that one
    // is the ALL row's cost less the others.
    let copy = leaky_copy(dir.path(), &run, "differencing", "sex", |mut f| {
        let withheld: Vec<usize> = f
            .column("cost_12m_redacted")
            .expect("flag")
            .bool()
            .expect("bool")
            .iter()
            .enumerate()
            .filter(|(_, w)| *w == Some(true))
            .map(|(i, _)| i)
            .collect();
        assert!(withheld.len() >= 2, "the sample run withholds costs by sex");
        for &row in &withheld[1..] {
            f = set_value(f, "cost_12m", row, 1000.0);
        }
        f
    });
    assert_refused(dir.path(), &copy, "differencing of sums");

    // A small count published.
    let copy = leaky_copy(dir.path(), &run, "small", "age_band", |mut f| {
        let row = row_of(&f, "age_band", "85+");
        let mut v: Vec<Option<i32>> = f
            .column("tier_very_high")
            .expect("c")
            .i32()
            .expect("i32")
            .iter()
            .collect();
        v[row] = Some(3);
        f.with_column(Column::new("tier_very_high".into(), v))
            .expect("set");
        f
    });
    assert_refused(dir.path(), &copy, "small count published");

    // An ALL row that does not say parts of it are withheld.
    let copy = leaky_copy(dir.path(), &run, "partial", "lsoa", |f| {
        f.drop("complete").expect("drop")
    });
    assert_refused(dir.path(), &copy, "partial total unflagged");
}
