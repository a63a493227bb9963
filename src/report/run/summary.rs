//! The run's disclosure-controlled summary tables, read back from Parquet.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::figures::Figure;
use crate::governance::disclosure::{MIDPOINT6_SUFFIX, REDACTED_SUFFIX};
use crate::report::ReportError;

/// One protected summary table read back from Parquet.
pub(super) struct Summary {
    path: PathBuf,
    frame: DataFrame,
    group: String,
}

impl Summary {
    /// Reads `run_dir/summaries/by_<dimension>.parquet`; `Ok(None)` when absent.
    pub(super) fn read(run_dir: &Path, dimension: &str) -> Result<Option<Summary>, ReportError> {
        let path = run_dir
            .join("summaries")
            .join(format!("by_{dimension}.parquet"));
        if !path.exists() {
            return Ok(None);
        }
        let file = File::open(&path).map_err(|source| ReportError::Io {
            path: path.clone(),
            action: "opening",
            source,
        })?;
        let frame = ParquetReader::new(file)
            .finish()
            .map_err(|source| ReportError::Parquet {
                path: path.clone(),
                source,
            })?;
        if frame.column(dimension).is_err() {
            return Err(ReportError::Invalid {
                path,
                problem: format!("expected a group column `{dimension}`"),
            });
        }
        Ok(Some(Summary {
            path,
            frame,
            group: dimension.to_string(),
        }))
    }

    fn invalid(&self, problem: String) -> ReportError {
        ReportError::Invalid {
            path: self.path.clone(),
            problem,
        }
    }

    pub(super) fn labels(&self) -> Result<Vec<String>, ReportError> {
        let col = self
            .frame
            .column(&self.group)
            .and_then(|c| c.cast(&DataType::String))
            .map_err(|e| self.invalid(format!("column `{}`: {e}", self.group)))?;
        let ca = col
            .str()
            .map_err(|e| self.invalid(format!("column `{}`: {e}", self.group)))?;
        Ok(ca
            .iter()
            .map(|v| {
                v.unwrap_or(crate::products::summaries::UNKNOWN_LABEL)
                    .to_string()
            })
            .collect())
    }

    /// Whether the table has a (count or value) column `name`.
    pub(super) fn has(&self, name: &str) -> bool {
        self.frame.column(name).is_ok()
            || self
                .frame
                .column(&format!("{name}{MIDPOINT6_SUFFIX}"))
                .is_ok()
    }

    /// Every cell of column `name` (or its midpoint-6 twin) with its flag;
    /// all [`Figure::Missing`] when the table has no such column (an older
    /// run), but an error when a column has no `_redacted` flag.
    pub(super) fn figures(&self, name: &str, integer: bool) -> Result<Vec<Figure>, ReportError> {
        if !self.has(name) {
            return Ok(vec![Figure::Missing; self.frame.height()]);
        }
        let actual = if self.frame.column(name).is_ok() {
            name.to_string()
        } else {
            format!("{name}{MIDPOINT6_SUFFIX}")
        };
        let values = self
            .frame
            .column(&actual)
            .and_then(|c| c.cast(&DataType::Float64))
            .map_err(|_| self.invalid(format!("expected a numeric column `{name}`")))?;
        let values = values
            .f64()
            .map_err(|e| self.invalid(format!("column `{actual}`: {e}")))?
            .clone();
        let flag_name = format!("{actual}{REDACTED_SUFFIX}");
        let flags: Vec<bool> = match self.frame.column(&flag_name) {
            Ok(c) => c
                .bool()
                .map_err(|_| self.invalid(format!("expected a Boolean column `{flag_name}`")))?
                .iter()
                .map(|v| v.unwrap_or(false))
                .collect(),
            Err(_) => {
                return Err(self.invalid(format!(
                    "column `{actual}` has no `{flag_name}` flag, so it may not have passed disclosure control"
                )));
            }
        };
        Ok(values
            .iter()
            .zip(flags)
            .map(|(v, redacted)| match (v, redacted) {
                (_, true) => Figure::Redacted,
                (Some(v), false) if integer && v >= 0.0 => Figure::Count(v.round() as u64),
                (Some(v), false) => Figure::Number(v),
                (None, false) => Figure::Missing,
            })
            .collect())
    }

    /// Row index of the all-groups row.
    pub(super) fn total_row(&self) -> Result<Option<usize>, ReportError> {
        Ok(self
            .labels()?
            .iter()
            .position(|l| l == crate::products::summaries::TOTAL_LABEL))
    }
}
