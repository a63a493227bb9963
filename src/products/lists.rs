//! Clinical lists: for each practice, its own very-high and high tier
//! patients, highest risk first, with the reasons each is flagged.
//!
//! Purpose: direct care. National opt-outs stay in (the opt-out does not apply
//! to direct care). The NHS number is included where the extract holds one, so
//! the practice can find the patient; it appears in no other output. A list
//! holds only the practice's own registered patients.

use polars::prelude::*;

use super::history::flagged_expr;
use super::ranking::ranked_order;
use super::{ProductError, Result};
use crate::ingest::PID;

/// Columns of a clinical list, in order.
pub const LIST_COLUMNS: &[&str] = &[
    "practice_code",
    "rank",
    "person_id",
    "nhs_number",
    "age",
    "sex",
    "tier",
    "risk",
    "segment",
    "reason_1",
    "reason_2",
    "reason_3",
    "last_emergency_admission",
    "new_to_flagged",
    "first_flagged",
];

/// The clinical list rows of every practice.
///
/// `scored` holds one row per person with [`PID`], `person_id`, `practice_code`,
/// `age`, `sex`, `tier`, `risk`, `segment`, `reason_1..3`,
/// `days_since_emergency_admission` and `new_to_flagged`; `patients` is the
/// validated patients table (for `nhs_number`); `first_flagged` maps
/// person_id → date first flagged.
pub fn clinical_lists(
    scored: &DataFrame,
    patients: &DataFrame,
    first_flagged: &DataFrame,
    as_of: chrono::NaiveDate,
) -> Result<DataFrame> {
    let as_of_days = crate::features::epoch_days(as_of);
    let mut flagged = scored
        .clone()
        .lazy()
        .filter(flagged_expr("tier"))
        .collect()?;
    flagged.with_column(nhs_numbers(&flagged, patients)?)?;
    let frame = flagged
        .lazy()
        .join(
            first_flagged.clone().lazy(),
            [col("person_id")],
            [col("person_id")],
            crate::ingest::left_join_in_order(),
        )
        .with_column(
            (lit(as_of_days) - col("days_since_emergency_admission"))
                .cast(DataType::Date)
                .alias("last_emergency_admission"),
        )
        .collect()?;
    let mut frame = frame.take(&ranked_order(&frame, "practice_code", "risk", "person_id")?)?;
    frame.with_column(rank_within(&frame, "practice_code")?)?;
    Ok(frame.select(LIST_COLUMNS.iter().copied())?)
}

/// The NHS number of each person of `flagged`, read from `patients` at the
/// row numbered by the person's [`PID`] (valid patients are numbered by row),
/// not by a join that hashes the whole population. The PIDs found there are
/// checked, so a broken numbering is an error, never another person's number.
fn nhs_numbers(flagged: &DataFrame, patients: &DataFrame) -> Result<Column> {
    let pids = flagged.column(PID)?.u32()?.clone();
    let found = patients.column(PID)?.take(&pids)?;
    if !found.u32()?.equal_missing(&pids).all() {
        return Err(ProductError::Internal(
            "clinical lists: the patients table is not numbered by row (PID)".into(),
        ));
    }
    Ok(patients.column("nhs_number")?.take(&pids)?)
}

/// 1, 2, 3 … within each run of equal `key` values (the frame is sorted by key).
fn rank_within(frame: &DataFrame, key: &str) -> Result<Column> {
    let keys = frame.column(key)?.str()?.clone();
    let mut ranks = Vec::with_capacity(keys.len());
    let mut previous: Option<&str> = None;
    let mut rank = 0i32;
    for k in keys.iter() {
        rank = if k == previous { rank + 1 } else { 1 };
        previous = k;
        ranks.push(rank);
    }
    Ok(Column::new("rank".into(), ranks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers_are_read_at_each_persons_row_and_a_broken_numbering_is_an_error() {
        let patients = df!(
            PID => [0u32, 1, 2],
            "nhs_number" => [Some("9434765919"), None, Some("9434765870")],
        )
        .expect("patients");
        let flagged = df!(PID => [2u32, 0, 1]).expect("flagged");
        let nhs = nhs_numbers(&flagged, &patients).expect("numbers");
        let got: Vec<Option<&str>> = nhs.str().expect("str").iter().collect();
        assert_eq!(got, [Some("9434765870"), Some("9434765919"), None]);

        let renumbered = df!(
            PID => [1u32, 0, 2],
            "nhs_number" => [Some("9434765919"), None, Some("9434765870")],
        )
        .expect("patients");
        assert!(nhs_numbers(&flagged, &renumbered).is_err());
    }
}
