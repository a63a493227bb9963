//! Features: one row per person in scope at an index date.
//!
//! Conventions (docs/feature-catalogue.md):
//! - features use events up to and including the index date;
//! - a 12-month window is the 365 days ending on the index date
//!   (index − 364 days … index, both inclusive);
//! - people in scope are born, registered (`registered_from` ≤ index) and
//!   alive (no `date_of_death`, or one after the index date) on the index date.
//!
//! Each event table is read in one pass that computes all of its features.

pub mod catalogue;
pub mod outcomes;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use crate::codelists::{CharlsonWeights, charlson_categories, charlson_score};
use crate::error::{Error, Result};
use crate::ingest::{Extract, PID, left_join_in_order};
pub use catalogue::{FeatureInfo, catalogue, feature_info};

/// Days in a 12-month window, counting the index date.
pub const YEAR_DAYS: i64 = 365;

/// The per-person feature table at one index date.
#[derive(Clone)]
pub struct FeatureTable {
    pub index_date: NaiveDate,
    /// [`PID`], person_id, practice_code, pcn_code, lsoa, then one column per catalogue feature.
    pub frame: DataFrame,
}

/// Identifying and grouping columns carried beside the features.
pub const KEY_COLUMNS: &[&str] = &["person_id", "practice_code", "pcn_code", "lsoa"];

/// First day of the 12-month window ending on `index`.
pub fn window_start(index: NaiveDate) -> NaiveDate {
    index - chrono::Duration::days(YEAR_DAYS - 1)
}

/// Whole years from `birth` to `on` (a birthday on 29 February counts on 1 March in other years).
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years
}

/// Computes every catalogue feature for the people in scope at `index`.
pub fn derive_features(extract: &Extract, index: NaiveDate) -> Result<FeatureTable> {
    let population = population(extract, index)?;
    let mut frame = population.lazy();
    for per_person in [
        encounter_features(extract, index),
        medication_features(extract, index),
    ]
    .into_iter()
    .flatten()
    {
        frame = frame.join(per_person, [col(PID)], [col(PID)], left_join_in_order());
    }
    let mut frame = frame.collect()?;
    let charlson = charlson_features(extract, index)?;
    frame = frame
        .lazy()
        .join(
            charlson.lazy(),
            [col(PID)],
            [col(PID)],
            left_join_in_order(),
        )
        .collect()?;
    frame = fill_and_order(frame)?;
    Ok(FeatureTable {
        index_date: index,
        frame,
    })
}

/// People born, registered and alive on `index`, with demographic features.
fn population(extract: &Extract, index: NaiveDate) -> Result<DataFrame> {
    let mut people = extract
        .patients
        .clone()
        .lazy()
        .filter(
            col("date_of_birth")
                .lt_eq(lit(index))
                .and(col("registered_from").lt_eq(lit(index)))
                .and(
                    col("date_of_death")
                        .is_null()
                        .or(col("date_of_death").gt(lit(index))),
                ),
        )
        .select([
            col(PID),
            col("person_id"),
            col("practice_code"),
            col("pcn_code"),
            col("lsoa"),
            col("date_of_birth"),
            col("sex"),
            col("imd_decile").cast(DataType::Int32),
        ])
        .collect()?;
    let births = people.column("date_of_birth")?.cast(&DataType::Int32)?;
    let ages: Int32Chunked = births
        .i32()?
        .iter()
        .map(|d| d.and_then(date_from_days).map(|b| age_on(b, index)))
        .collect();
    people.with_column(ages.with_name("age".into()).into_column())?;
    Ok(people.drop("date_of_birth")?)
}

fn date_from_days(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(i64::from(days)))
}

/// Emergency admissions and A&E attendances in the 12 months to `index`, in one pass.
fn encounter_features(extract: &Extract, index: NaiveDate) -> Option<LazyFrame> {
    let encounters = extract.table("encounters")?;
    let in_window = col("start_date")
        .gt_eq(lit(window_start(index)))
        .and(col("start_date").lt_eq(lit(index)));
    let emergency_admission = col("setting").eq(lit("inpatient")).and(col("emergency"));
    let ae = col("setting").eq(lit("emergency_department"));
    Some(
        encounters
            .clone()
            .filter(in_window)
            .group_by([col(PID)])
            .agg([
                emergency_admission
                    .sum()
                    .cast(DataType::UInt32)
                    .alias("emergency_admissions_12m"),
                ae.sum().cast(DataType::UInt32).alias("ae_attendances_12m"),
            ]),
    )
}

/// Distinct BNF chemical substances (first 9 characters) prescribed in the 12 months to `index`.
fn medication_features(extract: &Extract, index: NaiveDate) -> Option<LazyFrame> {
    let medications = extract.table("medications")?;
    let in_window = col("date")
        .gt_eq(lit(window_start(index)))
        .and(col("date").lt_eq(lit(index)));
    Some(
        medications
            .clone()
            .filter(in_window.and(col("bnf_code").str().len_bytes().gt_eq(lit(9))))
            .group_by([col(PID)])
            .agg([col("bnf_code")
                .str()
                .slice(lit(0), lit(9))
                .n_unique()
                .cast(DataType::UInt32)
                .alias("medicines_12m")]),
    )
}

/// The Charlson index (1987 weights, Quan 2005 ICD-10 coding) over every
/// ICD-10 diagnosis up to and including `index`.
///
/// Codes are matched once per distinct code, then joined back to people.
fn charlson_features(extract: &Extract, index: NaiveDate) -> Result<DataFrame> {
    let empty = || -> Result<DataFrame> {
        Ok(DataFrame::new(
            0,
            vec![
                Column::new(PID.into(), Vec::<u32>::new()),
                Column::new("charlson_index".into(), Vec::<u32>::new()),
            ],
        )?)
    };
    let Some(diagnoses) = extract.table("diagnoses") else {
        return empty();
    };
    let person_codes = diagnoses
        .clone()
        .filter(
            col("code_system")
                .eq(lit("icd10"))
                .and(col("date").lt_eq(lit(index))),
        )
        .select([col(PID), col("code")])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()?;
    let codes = person_codes.column("code")?.unique()?;
    let (matched_codes, sets): (Vec<String>, Vec<u32>) = codes
        .str()?
        .iter()
        .flatten()
        .map(|c| (c.to_string(), charlson_categories(c)))
        .filter(|(_, set)| *set != 0)
        .unzip();
    if matched_codes.is_empty() {
        return empty();
    }
    let code_sets = DataFrame::new(
        matched_codes.len(),
        vec![
            Column::new("code".into(), matched_codes),
            Column::new("set".into(), sets),
        ],
    )?;
    let person_sets = person_codes
        .lazy()
        .join(
            code_sets.lazy(),
            [col("code")],
            [col("code")],
            JoinArgs::new(JoinType::Inner),
        )
        .select([col(PID), col("set")])
        .collect()?;
    let mut by_person: std::collections::BTreeMap<u32, u32> = std::collections::BTreeMap::new();
    for (pid, set) in person_sets
        .column(PID)?
        .u32()?
        .iter()
        .zip(person_sets.column("set")?.u32()?.iter())
    {
        if let (Some(pid), Some(set)) = (pid, set) {
            *by_person.entry(pid).or_default() |= set;
        }
    }
    let (pids, scores): (Vec<u32>, Vec<u32>) = by_person
        .into_iter()
        .map(|(pid, set)| (pid, charlson_score(set, CharlsonWeights::Charlson1987)))
        .unzip();
    Ok(DataFrame::new(
        pids.len(),
        vec![
            Column::new(PID.into(), pids),
            Column::new("charlson_index".into(), scores),
        ],
    )?)
}

/// Counts missing after a join mean "no events": zero. Columns are put in
/// key-then-catalogue order so outputs have a stable layout.
fn fill_and_order(frame: DataFrame) -> Result<DataFrame> {
    let mut lf = frame.lazy();
    let mut select = vec![col(PID)];
    select.extend(KEY_COLUMNS.iter().map(|c| col(*c)));
    for info in catalogue() {
        let present = info.name;
        let expr = if info.count_like {
            col(present).fill_null(lit(0)).cast(DataType::Int32)
        } else {
            col(present)
        };
        select.push(expr.alias(info.name));
    }
    lf = lf.select(select);
    lf.collect().map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn age_counts_whole_years_and_turns_on_the_birthday() {
        assert_eq!(age_on(d(1950, 6, 15), d(2025, 6, 14)), 74);
        assert_eq!(age_on(d(1950, 6, 15), d(2025, 6, 15)), 75);
        assert_eq!(age_on(d(2025, 1, 1), d(2025, 1, 1)), 0);
    }

    #[test]
    fn twelve_month_window_is_365_days_ending_on_the_index_date() {
        // 2025-03-31 − 364 days = 2024-04-01 (2024 is a leap year: Feb has 29 days).
        assert_eq!(window_start(d(2025, 3, 31)), d(2024, 4, 1));
        assert_eq!(
            (d(2025, 3, 31) - window_start(d(2025, 3, 31))).num_days() + 1,
            365
        );
    }
}
