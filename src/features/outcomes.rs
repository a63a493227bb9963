//! Outcomes measured after an index date, for training and evaluation.
//! They count from the day after the index date: days 1–365.

use chrono::NaiveDate;
use polars::prelude::*;

use super::YEAR_DAYS;
use crate::error::Result;
use crate::ingest::{Extract, PID};

/// Name of the default outcome column.
pub const EMERGENCY_ADMISSION_12M: &str = "emergency_admission_12m";

/// One row per person with at least one emergency admission starting in
/// days 1–365 after `index` ([`PID`], `emergency_admission_12m` = true).
pub fn emergency_admission_12m(extract: &Extract, index: NaiveDate) -> Result<DataFrame> {
    let first = index + chrono::Duration::days(1);
    let last = index + chrono::Duration::days(YEAR_DAYS);
    let Some(encounters) = extract.table("encounters") else {
        return Ok(DataFrame::new(
            0,
            vec![
                Column::new(PID.into(), Vec::<u32>::new()),
                Column::new(EMERGENCY_ADMISSION_12M.into(), Vec::<bool>::new()),
            ],
        )?);
    };
    Ok(crate::ingest::collect_streaming(
        encounters
            .clone()
            .filter(
                col("setting")
                    .eq(lit("inpatient"))
                    .and(col("emergency"))
                    .and(col("start_date").gt_eq(lit(first)))
                    .and(col("start_date").lt_eq(lit(last))),
            )
            .select([col(PID)])
            .unique(None, UniqueKeepStrategy::Any)
            .with_column(lit(true).alias(EMERGENCY_ADMISSION_12M)),
    )?)
}
