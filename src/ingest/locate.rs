//! Step 1 of ingest: find each contract table's files in an extract folder.
//!
//! A table is `NAME.parquet`, `NAME.csv` or a `NAME/` folder of Parquet
//! parts; none is an absent table (fatal only for `patients`), more than
//! one is an error, because silently preferring one would hide a stale file.
//!
//! This is the seam where another layout of extract (a FHIR bulk export, an
//! OMOP CDM folder) would be recognised: whatever finds the files hands on
//! [`LocatedTables`] of [`TableSource`]s (a new [`FileFormat`] for a new
//! kind of file, read by `scan`), and checking and loading stay as they are.
//!
//! Reads directory entries only, never a row of data.

use std::path::{Path, PathBuf};

use polars::prelude::PolarsError;

use super::IngestError;
use crate::contract::{self, TableSpec};

/// The contract tables found in an extract folder.
#[derive(Debug, Clone)]
pub struct LocatedTables {
    pub patients: TableSource,
    /// The per-person event tables present, in contract order.
    pub events: Vec<TableSource>,
    /// The extract's own LSOA → IMD table, if it has one.
    pub lsoa_imd: Option<TableSource>,
}

impl LocatedTables {
    /// Every file of every table, in table order.
    pub fn files(&self) -> Vec<PathBuf> {
        std::iter::once(&self.patients)
            .chain(&self.events)
            .chain(&self.lsoa_imd)
            .flat_map(|t| t.files.iter().cloned())
            .collect()
    }
}

/// Finds every contract table in `dir`: `patients` is required, the event
/// tables and `lsoa_imd` are optional.
pub fn locate_tables(dir: &Path) -> Result<LocatedTables, IngestError> {
    if !dir.is_dir() {
        return Err(IngestError::MissingExtract {
            dir: dir.to_path_buf(),
        });
    }
    let patients =
        find_table(dir, &contract::PATIENTS)?.ok_or_else(|| IngestError::MissingTable {
            dir: dir.to_path_buf(),
            table: contract::PATIENTS.name.to_string(),
        })?;
    let mut events = Vec::new();
    for spec in contract::TABLES.iter().filter(|t| t.per_person) {
        events.extend(find_table(dir, spec)?);
    }
    let lsoa_imd = find_table(dir, &contract::LSOA_IMD)?;
    Ok(LocatedTables {
        patients,
        events,
        lsoa_imd,
    })
}

/// How a table is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Parquet,
    Csv,
}

/// The files that hold one table of an extract.
#[derive(Debug, Clone)]
pub struct TableSource {
    pub table: &'static TableSpec,
    pub format: FileFormat,
    /// One file, or the Parquet parts of a `NAME/` folder in name order.
    pub files: Vec<PathBuf>,
    /// What to call the table in messages: the file, or the folder.
    pub display: PathBuf,
}

impl TableSource {
    /// Names a row for a message: `row 12`, or `part-1.parquet row 12` when the
    /// table is split into parts.
    pub fn describe_row(&self, part: u32, row: u64) -> String {
        if self.files.len() > 1 {
            let name = self.files[part as usize]
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("{name} row {row}")
        } else {
            format!("{row}")
        }
    }
}

/// Finds `NAME.parquet`, `NAME.csv` or `NAME/*.parquet` for `table` in `dir`.
///
/// Returns `Ok(None)` when the table is absent; more than one form is an error,
/// because silently preferring one would hide a stale file.
pub fn find_table(
    dir: &Path,
    table: &'static TableSpec,
) -> Result<Option<TableSource>, IngestError> {
    let parquet = dir.join(format!("{}.parquet", table.name));
    let csv = dir.join(format!("{}.csv", table.name));
    let folder = dir.join(table.name);
    let mut found: Vec<TableSource> = Vec::new();
    if parquet.is_file() {
        found.push(TableSource {
            table,
            format: FileFormat::Parquet,
            files: vec![parquet.clone()],
            display: parquet,
        });
    }
    if csv.is_file() {
        found.push(TableSource {
            table,
            format: FileFormat::Csv,
            files: vec![csv.clone()],
            display: csv,
        });
    }
    if folder.is_dir() {
        let parts = parquet_parts(&folder)?;
        if !parts.is_empty() {
            found.push(TableSource {
                table,
                format: FileFormat::Parquet,
                files: parts,
                display: folder,
            });
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(IngestError::AmbiguousTable {
            dir: dir.to_path_buf(),
            table: table.name.to_string(),
            found: found
                .iter()
                .map(|s| s.display.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// The `*.parquet` files directly inside `folder`, sorted by name so row
/// numbers and outputs do not depend on directory order.
fn parquet_parts(folder: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let entries = std::fs::read_dir(folder).map_err(|e| IngestError::Unreadable {
        path: folder.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut parts: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    parts.sort();
    Ok(parts)
}

/// Turns a Polars read failure into a one-line message about the file.
pub fn unreadable(path: &Path, e: &PolarsError) -> IngestError {
    let text = e.to_string();
    let first = text
        .lines()
        .next()
        .unwrap_or("unknown error")
        .trim()
        .to_string();
    IngestError::Unreadable {
        path: path.to_path_buf(),
        reason: first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::write(path, b"").expect("write");
    }

    fn names(source: &TableSource) -> Vec<String> {
        source
            .files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn tables_are_found_in_each_form_in_contract_order_and_parts_by_name() {
        let dir = tempfile::tempdir().expect("dir");
        let d = dir.path();
        touch(&d.join("patients.csv"));
        touch(&d.join("diagnoses.parquet"));
        std::fs::create_dir(d.join("encounters")).expect("mkdir");
        // Written out of order, with a file that is not a part.
        for f in ["part-b.parquet", "part-a.parquet", "README.txt"] {
            touch(&d.join("encounters").join(f));
        }
        // A folder without Parquet parts is no table.
        std::fs::create_dir(d.join("medications")).expect("mkdir");

        let found = locate_tables(d).expect("located");
        assert_eq!(found.patients.format, FileFormat::Csv);
        let events: Vec<(&str, FileFormat, Vec<String>)> = found
            .events
            .iter()
            .map(|t| (t.table.name, t.format, names(t)))
            .collect();
        assert_eq!(
            events,
            [
                (
                    "encounters",
                    FileFormat::Parquet,
                    vec!["part-a.parquet".to_string(), "part-b.parquet".to_string()]
                ),
                (
                    "diagnoses",
                    FileFormat::Parquet,
                    vec!["diagnoses.parquet".to_string()]
                ),
            ]
        );
        assert!(found.lsoa_imd.is_none());
        assert_eq!(
            found.files(),
            [
                d.join("patients.csv"),
                d.join("encounters/part-a.parquet"),
                d.join("encounters/part-b.parquet"),
                d.join("diagnoses.parquet"),
            ]
        );
        // Rows are named by part only when the table has several.
        assert_eq!(found.events[0].describe_row(1, 12), "part-b.parquet row 12");
        assert_eq!(found.events[1].describe_row(0, 12), "12");
    }

    #[test]
    fn a_table_given_twice_a_missing_patients_table_and_a_missing_folder_are_fatal() {
        let dir = tempfile::tempdir().expect("dir");
        let d = dir.path();
        touch(&d.join("encounters.csv"));
        assert!(matches!(
            locate_tables(d),
            Err(IngestError::MissingTable { table, .. }) if table == "patients"
        ));
        touch(&d.join("patients.parquet"));
        touch(&d.join("encounters.parquet"));
        assert!(matches!(
            locate_tables(d),
            Err(IngestError::AmbiguousTable { table, .. }) if table == "encounters"
        ));
        assert!(matches!(
            locate_tables(&d.join("nowhere")),
            Err(IngestError::MissingExtract { .. })
        ));
    }
}
