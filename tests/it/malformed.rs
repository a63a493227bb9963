//! Broken extracts: each must stop the run with exit code 10 and a one-line
//! reason naming the file and column (and row where there is one), publish
//! nothing, and leave `out/latest` on the previous good run.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::support::{copy_dir, root, stderr, strata};

/// A scratch copy of the sample data with a good run already published.
struct Scene {
    _dir: tempfile::TempDir,
    extract: PathBuf,
    out: PathBuf,
    latest_before: PathBuf,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::tempdir().expect("tempdir");
        let extract = dir.path().join("extract");
        copy_dir(&root().join("sample-data"), &extract);
        let out = dir.path().join("out");
        let good = run(&extract, &out);
        assert!(
            good.status.success(),
            "the unbroken copy runs: {}",
            stderr(&good)
        );
        let latest_before = std::fs::read_link(out.join("latest")).expect("latest link");
        Scene {
            _dir: dir,
            extract,
            out,
            latest_before,
        }
    }

    /// Runs on the (now broken) extract and checks nothing was published.
    fn run_broken(&self) -> String {
        let result = run(&self.extract, &self.out);
        let message = stderr(&result);
        assert_eq!(
            result.status.code(),
            Some(10),
            "input errors exit 10: {message}"
        );
        assert_eq!(
            std::fs::read_link(self.out.join("latest")).expect("latest"),
            self.latest_before,
            "latest must not move"
        );
        let runs = std::fs::read_dir(self.out.join("runs"))
            .expect("runs")
            .count();
        assert_eq!(runs, 1, "no second run may appear");
        let staging = self.out.join(".staging");
        assert!(
            !staging.exists() || std::fs::read_dir(&staging).expect("staging").count() == 0,
            "no staged leftovers"
        );
        let lines: Vec<&str> = message
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(lines.len(), 1, "one error line: {message}");
        lines[0].to_string()
    }

    fn table(&self, name: &str) -> PathBuf {
        self.extract.join(format!("{name}.parquet"))
    }
}

fn run(extract: &Path, out: &Path) -> std::process::Output {
    let model = root().join("models/emergency_admission.json");
    strata(
        extract,
        &[
            "run",
            "--input",
            extract.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
            "--model",
            model.to_str().expect("utf-8"),
        ],
    )
}

fn read(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).expect("open"))
        .finish()
        .expect("read parquet")
}

fn write(path: &Path, frame: &mut DataFrame) {
    ParquetWriter::new(std::fs::File::create(path).expect("create"))
        .finish(frame)
        .expect("write parquet");
}

/// Replaces patients.parquet by a CSV whose `column` is rewritten by `edit`.
fn patients_as_csv(scene: &Scene, column: &str, edit: impl Fn(Option<&str>) -> Option<String>) {
    let parquet = scene.table("patients");
    let mut frame = read(&parquet);
    std::fs::remove_file(&parquet).expect("remove parquet");
    let text = frame
        .column(column)
        .expect("column")
        .cast(&DataType::String)
        .expect("cast");
    let edited: StringChunked = text.str().expect("str").iter().map(&edit).collect();
    frame
        .with_column(edited.with_name(column.into()).into_column())
        .expect("replace");
    let mut file = std::fs::File::create(scene.extract.join("patients.csv")).expect("create csv");
    CsvWriter::new(&mut file)
        .finish(&mut frame)
        .expect("write csv");
}

#[test]
fn truncated_parquet_is_fatal_and_names_the_file() {
    let scene = Scene::new();
    let path = scene.table("patients");
    let bytes = std::fs::read(&path).expect("read");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncate");
    let line = scene.run_broken();
    assert!(line.contains("patients.parquet: cannot be read"), "{line}");
}

#[test]
fn missing_required_column_is_fatal_and_names_file_and_column() {
    let scene = Scene::new();
    let path = scene.table("encounters");
    let mut frame = read(&path).drop("setting").expect("drop");
    write(&path, &mut frame);
    let line = scene.run_broken();
    assert!(
        line.contains("encounters.parquet: required column `setting` is missing"),
        "{line}"
    );
}

#[test]
fn duplicate_person_id_is_fatal_and_names_rows_not_values() {
    let scene = Scene::new();
    let path = scene.table("patients");
    let frame = read(&path);
    let n = frame.height();
    let mut doubled = frame.vstack(&frame.slice(0, 1)).expect("vstack");
    write(&path, &mut doubled);
    let line = scene.run_broken();
    // Row 1 and the appended copy, row n + 1.
    assert!(
        line.contains("patients.parquet, column `person_id`: 1 duplicate person_id values"),
        "{line}"
    );
    assert!(line.contains(&format!("rows 1 and {}", n + 1)), "{line}");
    let first_id = frame
        .column("person_id")
        .expect("id")
        .str()
        .expect("str")
        .get(0)
        .expect("id")
        .to_string();
    assert!(
        !line.contains(&first_id),
        "the identifier itself must not be printed: {line}"
    );
}

#[test]
fn a_column_of_unparseable_dates_is_fatal_and_names_column_and_rows() {
    let scene = Scene::new();
    // 1950-06-15 → 15/06/1950, a common export mistake.
    patients_as_csv(&scene, "date_of_birth", |v| {
        v.map(|iso| {
            let parts: Vec<&str> = iso.split('-').collect();
            format!("{}/{}/{}", parts[2], parts[1], parts[0])
        })
    });
    let line = scene.run_broken();
    assert!(
        line.contains("patients.csv, column `date_of_birth`"),
        "{line}"
    );
    assert!(
        line.contains("not a date as YYYY-MM-DD; first at rows 1, 2, 3, 4, 5"),
        "{line}"
    );
}

#[test]
fn unknown_sex_codes_are_fatal_when_they_exceed_the_threshold() {
    let scene = Scene::new();
    patients_as_csv(&scene, "sex", |v| {
        v.map(|s| match s {
            "F" => "Female".to_string(),
            "M" => "Male".to_string(),
            other => other.to_string(),
        })
    });
    let line = scene.run_broken();
    assert!(line.contains("patients.csv, column `sex`"), "{line}");
    assert!(
        line.contains("unknown code, expected one of F, M, I, U"),
        "{line}"
    );
}
