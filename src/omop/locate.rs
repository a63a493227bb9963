//! Finding an OMOP CDM folder's tables (one CSV or Parquet file per table,
//! named as in the CDM, any case) and scanning them lazily as text columns.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::OmopError;

/// The CDM tables strata reads, in reading order.
pub const TABLES: &[&str] = &[
    "concept",
    "location",
    "care_site",
    "person",
    "observation_period",
    "death",
    "visit_occurrence",
    "cost",
    "condition_occurrence",
    "drug_exposure",
    "measurement",
    "observation",
];

/// The row number column added to every scan (data rows count from 1).
pub const ROW: &str = "__row";

/// The lower-case CDM table name of a file, when it is a CSV or Parquet file.
fn table_of(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let stem = lower
        .strip_suffix(".csv")
        .or_else(|| lower.strip_suffix(".parquet"))?;
    Some(stem.to_string())
}

/// True when `dir` holds `person` and `visit_occurrence` files and no
/// contract `patients` table.
pub fn is_cdm(dir: &Path) -> bool {
    let Ok(found) = find(dir) else {
        return false;
    };
    let contract = std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().to_ascii_lowercase();
            name == "patients" || name.starts_with("patients.")
        })
    });
    found.contains_key("person") && found.contains_key("visit_occurrence") && !contract
}

/// Each CDM table strata reads, and its file.
pub fn find(dir: &Path) -> Result<BTreeMap<String, PathBuf>, OmopError> {
    let unreadable = |e: std::io::Error| OmopError::Unreadable {
        path: dir.to_path_buf(),
        reason: e.kind().to_string(),
    };
    if !dir.is_dir() {
        return Err(OmopError::NoCdm {
            dir: dir.to_path_buf(),
        });
    }
    let mut found: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(unreadable)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(unreadable)?;
    paths.sort();
    for path in paths {
        let Some(table) = path.file_name().and_then(|n| n.to_str()).and_then(table_of) else {
            continue;
        };
        if !TABLES.contains(&table.as_str()) || !path.is_file() {
            continue;
        }
        if let Some(first) = found.get(&table) {
            return Err(OmopError::Ambiguous {
                table,
                first: first.clone(),
                second: path,
            });
        }
        found.insert(table, path);
    }
    Ok(found)
}

/// A scanned table: every column as trimmed text (empty = null), names in
/// lower case, and the row number in [`ROW`].
pub struct Scanned {
    pub lf: LazyFrame,
    pub columns: Vec<String>,
    pub label: String,
}

impl Scanned {
    /// The column `name` as text, or a null column when the file lacks it.
    pub fn text(&self, name: &str) -> Expr {
        if self.columns.iter().any(|c| c == name) {
            col(name)
        } else {
            lit(NULL).cast(DataType::String)
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }
}

pub fn scan(path: &Path) -> Result<Scanned, OmopError> {
    let unreadable = |e: PolarsError| OmopError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let row_index = RowIndex {
        name: ROW.into(),
        offset: 1,
    };
    let pl_path = PlRefPath::new(path.to_string_lossy().as_ref());
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let mut lf = if is_csv {
        LazyCsvReader::new(pl_path)
            .with_infer_schema_length(Some(0))
            .with_has_header(true)
            .with_row_index(Some(row_index))
            .finish()
    } else {
        LazyFrame::scan_parquet(
            pl_path,
            ScanArgsParquet {
                row_index: Some(row_index),
                ..Default::default()
            },
        )
    }
    .map_err(unreadable)?;
    let schema = lf.collect_schema().map_err(unreadable)?;
    let mut columns = Vec::new();
    let mut exprs = vec![col(ROW).cast(DataType::UInt64)];
    for (name, dtype) in schema.iter() {
        if name.as_str() == ROW {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        let text = match dtype {
            DataType::String => col(name.clone()),
            _ => col(name.clone()).cast(DataType::String),
        };
        let trimmed = text.str().strip_chars(lit(NULL));
        exprs.push(
            when(trimmed.clone().eq(lit("")))
                .then(lit(NULL).cast(DataType::String))
                .otherwise(trimmed)
                .alias(lower.as_str()),
        );
        columns.push(lower);
    }
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Ok(Scanned {
        lf: lf.select(exprs),
        columns,
        label,
    })
}
