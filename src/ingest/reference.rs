//! Step 6 of ingest: each patient's IMD decile, by LSOA.
//!
//! From the extract's own `lsoa_imd` table when it has one (scanned and
//! checked like any table, then read: it is small), or else from the
//! built-in table compiled into the binary, so a fresh install needs nothing
//! beside the extract.

use std::io::Cursor;

use polars::prelude::*;

use super::IngestError;
use super::batch::left_join_in_order;
use super::check::{
    BROKEN, TableReport, ValidateOptions, check, plan_table, summarise, typed_rows,
};
use super::locate::{TableSource, unreadable};
use super::scan::scan_table;

/// Where the IMD deciles came from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImdSource {
    /// `extract` (its `lsoa_imd` table) or `built-in IMD 2025`.
    pub source: String,
    /// Patients whose LSOA is given but not in the table (their decile is null).
    pub unmatched_lsoa: u64,
}

/// `patients` with `imd_decile` joined by LSOA from `table` (the extract's
/// `lsoa_imd`, validated here) or the built-in table; where the deciles came
/// from; and the report of the extract's table, if it has one. Join errors
/// name `patients_source`.
pub(super) fn attach_imd_deciles(
    patients: DataFrame,
    patients_source: &TableSource,
    table: Option<&TableSource>,
    options: &ValidateOptions,
) -> Result<(DataFrame, ImdSource, Option<TableReport>), IngestError> {
    let (imd, label, report) = match table {
        Some(source) => {
            let (rows, report) = load_reference(source, options)?;
            (rows, "extract".to_string(), Some(report))
        }
        None => (builtin_imd()?, BUILTIN_IMD_LABEL.to_string(), None),
    };
    let (patients, unmatched) = attach_imd(patients, imd, patients_source)?;
    let source = ImdSource {
        source: label,
        unmatched_lsoa: unmatched,
    };
    Ok((patients, source, report))
}

/// English Indices of Deprivation 2025 by LSOA 2021 (MHCLG, OGL v3); see
/// `reference/README.md` for provenance.
const IMD_2025_CSV: &str = include_str!("../../reference/imd2025_lsoa21.csv");

/// How reports name the built-in table.
pub const BUILTIN_IMD_LABEL: &str = "built-in IMD 2025 (LSOA 2021)";

/// The built-in LSOA → IMD decile table as (`lsoa`, `imd_decile` i32).
pub fn builtin_imd() -> Result<LazyFrame, IngestError> {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .into_reader_with_file_handle(Cursor::new(IMD_2025_CSV.as_bytes()))
        .finish()
        .map_err(|e| IngestError::Unreadable {
            path: "built-in IMD 2025 table".into(),
            reason: e.to_string(),
        })?;
    Ok(df.lazy().select([
        col("lsoa21_code").cast(DataType::String).alias("lsoa"),
        col("imd_decile").cast(DataType::Int32),
    ]))
}

/// Validates a reference table (no person key) and returns its valid rows.
fn load_reference(
    source: &TableSource,
    options: &ValidateOptions,
) -> Result<(LazyFrame, TableReport), IngestError> {
    let scanned = scan_table(source)?;
    let plan = plan_table(source, &scanned, options);
    let checked = check(scanned.raw, &plan);
    let report = summarise(
        checked.clone(),
        checked.clone(),
        source,
        &plan.rules,
        None,
        false,
    )?;
    report.check_threshold(source, options.max_reject_fraction)?;
    Ok((
        typed_rows(checked, &plan, &[BROKEN])
            .filter(col(BROKEN).not())
            .drop(cols([BROKEN])),
        report,
    ))
}

/// Joins each patient's IMD decile by LSOA and counts LSOAs not found.
fn attach_imd(
    patients: DataFrame,
    imd: LazyFrame,
    source: &TableSource,
) -> Result<(DataFrame, u64), IngestError> {
    let imd = imd
        .select([col("lsoa"), col("imd_decile")])
        .unique(None, UniqueKeepStrategy::First);
    let joined = patients
        .lazy()
        .join(imd, [col("lsoa")], [col("lsoa")], left_join_in_order())
        .collect()
        .map_err(|e| unreadable(&source.display, &e))?;
    let unmatched = joined
        .column("lsoa")
        .map(|c| c.is_not_null())
        .and_then(|has| joined.column("imd_decile").map(|d| (has, d.is_null())))
        .map(|(has, missing)| (&has & &missing).sum().unwrap_or(0) as u64)
        .map_err(|e| unreadable(&source.display, &e))?;
    Ok((joined, unmatched))
}
