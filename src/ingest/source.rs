//! Finding a table's files in an extract folder and scanning them as text-or-typed
//! lazy frames, each row tagged with where it came from (part and row number).

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::IngestError;
use crate::contract::TableSpec;

/// Column holding the 1-based data row number within its file (header excluded).
pub const ROW: &str = "__row";
/// Column holding the index of the file (part) the row came from.
pub const PART: &str = "__part";

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
    pub fn locate(&self, part: u32, row: u64) -> String {
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

/// A lazy scan of every part of `source`, with [`PART`] and [`ROW`] columns,
/// and the union of column names and types found (checked against the contract
/// before any data is read).
pub fn scan(source: &TableSource) -> Result<(LazyFrame, Schema), IngestError> {
    let mut frames = Vec::with_capacity(source.files.len());
    let mut schema: Option<Schema> = None;
    for (part, path) in source.files.iter().enumerate() {
        let (lf, part_schema) = scan_file(path, source.format)?;
        if let Some(first) = &schema {
            if first != &part_schema {
                return Err(IngestError::Unreadable {
                    path: path.clone(),
                    reason: format!(
                        "its columns differ from {}; every part must have the same columns",
                        source.files[0].display()
                    ),
                });
            }
        } else {
            schema = Some(part_schema);
        }
        frames.push(lf.with_column(lit(part as u32).alias(PART)));
    }
    let schema = schema.ok_or_else(|| IngestError::Empty {
        path: source.display.clone(),
    })?;
    let lf = if frames.len() == 1 {
        frames.pop().expect("one frame")
    } else {
        concat(frames, UnionArgs::default()).map_err(|e| unreadable(&source.display, &e))?
    };
    Ok((lf, schema))
}

fn scan_file(path: &Path, format: FileFormat) -> Result<(LazyFrame, Schema), IngestError> {
    let row_index = RowIndex {
        name: ROW.into(),
        offset: 1,
    };
    let pl_path = PlRefPath::new(path.to_string_lossy().as_ref());
    let mut lf = match format {
        FileFormat::Csv => LazyCsvReader::new(pl_path)
            // Every CSV cell is read as text and parsed against the contract,
            // so a bad cell rejects one row instead of failing the whole file.
            .with_infer_schema_length(Some(0))
            .with_has_header(true)
            .with_row_index(Some(row_index))
            .finish(),
        FileFormat::Parquet => {
            let args = ScanArgsParquet {
                row_index: Some(row_index),
                ..Default::default()
            };
            LazyFrame::scan_parquet(pl_path, args)
        }
    }
    .map_err(|e| unreadable(path, &e))?;
    let schema = lf.collect_schema().map_err(|e| unreadable(path, &e))?;
    let mut schema = (*schema).clone();
    let _ = schema.shift_remove(ROW);
    Ok((lf.with_column(col(ROW).cast(DataType::UInt64)), schema))
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
