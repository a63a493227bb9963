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
