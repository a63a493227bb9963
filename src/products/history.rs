//! Persistence of flags across runs: who was flagged before, and when.
//!
//! Each run compares every person's tier with the previously published run
//! and carries forward a long `flag_history` table (person, as-of date, run,
//! tier) of everyone ever in a flagged tier, so a service can later measure
//! what happened to people after they were first flagged (the Welsh PRISM
//! trial found that lists alone raised admissions; impact must be measurable).

use std::path::Path;

use polars::prelude::*;

use super::Result;
use crate::cohort::Tier;

/// Tiers that put a person on a clinical list.
pub const FLAGGED: [Tier; 2] = [Tier::VeryHigh, Tier::High];

/// File name of the history table inside a run.
pub const FLAG_HISTORY: &str = "flag_history.parquet";

/// True where `column` holds a flagged tier's label.
pub fn flagged_expr(column: &str) -> Expr {
    let labels: Vec<&str> = FLAGGED.iter().map(|t| t.label()).collect();
    col(column).is_in(
        lit(Series::new("tiers".into(), labels)).implode(false),
        false,
    )
}

fn is_flagged(label: &str) -> bool {
    FLAGGED.iter().any(|t| t.label() == label)
}

/// (person_id, tier) of the previous run's patients, if there is a previous run.
pub fn previous_tiers(previous_run: Option<&Path>) -> Result<Option<DataFrame>> {
    let Some(run) = previous_run else {
        return Ok(None);
    };
    let pattern = run.join("patient_risk").join("*").join("*.parquet");
    if !run.join("patient_risk").is_dir() {
        return Ok(None);
    }
    let frame = LazyFrame::scan_parquet(
        PlRefPath::new(pattern.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )?
    .select([col("person_id"), col("tier").alias("previous_tier")])
    .collect()?;
    Ok(Some(frame))
}

/// Adds `previous_tier` (null when the person was not in the previous run)
/// and `new_to_flagged` (flagged now, not flagged before) to `frame`, which
/// must hold `person_id` and `tier`.
pub fn compare_with_previous(frame: DataFrame, previous: Option<DataFrame>) -> Result<DataFrame> {
    let previous = match previous {
        Some(p) => p,
        None => DataFrame::new(
            0,
            vec![
                Column::new("person_id".into(), Vec::<String>::new()),
                Column::new("previous_tier".into(), Vec::<String>::new()),
            ],
        )?,
    };
    let joined = frame
        .lazy()
        .join(
            previous.lazy(),
            [col("person_id")],
            [col("person_id")],
            crate::ingest::left_join_in_order(),
        )
        .collect()?;
    let tiers = joined.column("tier")?.str()?.clone();
    let before = joined.column("previous_tier")?.str()?.clone();
    let new: BooleanChunked = tiers
        .iter()
        .zip(before.iter())
        .map(|(now, then)| Some(now.is_some_and(is_flagged) && !then.is_some_and(is_flagged)))
        .collect();
    let mut out = joined;
    out.with_column(new.with_name("new_to_flagged".into()).into_column())?;
    Ok(out)
}

/// The previous history plus this run's flagged people. Rows of an earlier
/// run with the same as-of date are replaced (a re-run of the same night).
pub fn update_history(
    previous_run: Option<&Path>,
    current: &DataFrame,
    as_of: chrono::NaiveDate,
    run_id: &str,
) -> Result<DataFrame> {
    let now = current.clone().lazy().filter(flagged_expr("tier")).select([
        col("person_id"),
        lit(as_of).cast(DataType::Date).alias("as_of"),
        lit(run_id).alias("run_id"),
        col("tier"),
    ]);
    let path = previous_run
        .map(|r| r.join(FLAG_HISTORY))
        .filter(|p| p.is_file());
    let all = match path {
        Some(p) => {
            let before = LazyFrame::scan_parquet(
                PlRefPath::new(p.to_string_lossy().as_ref()),
                ScanArgsParquet::default(),
            )?
            .filter(col("as_of").neq(lit(as_of)));
            concat([before, now], UnionArgs::default())?
        }
        None => now,
    };
    Ok(all
        .sort(
            ["as_of", "person_id"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?)
}

/// First date each person was flagged, from the history.
pub fn first_flagged(history: &DataFrame) -> Result<DataFrame> {
    Ok(history
        .clone()
        .lazy()
        .group_by([col("person_id")])
        .agg([col("as_of").min().alias("first_flagged")])
        .collect()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_to_flagged_means_flagged_now_but_not_in_the_previous_run() {
        let current = DataFrame::new(
            4,
            vec![
                Column::new("person_id".into(), ["a", "b", "c", "d"]),
                Column::new("tier".into(), ["very_high", "high", "rising", "high"]),
            ],
        )
        .expect("frame");
        let previous = DataFrame::new(
            3,
            vec![
                Column::new("person_id".into(), ["a", "b", "c"]),
                Column::new("previous_tier".into(), ["high", "rising", "very_high"]),
            ],
        )
        .expect("frame");
        let out = compare_with_previous(current, Some(previous)).expect("compare");
        let new: Vec<Option<bool>> = out
            .column("new_to_flagged")
            .expect("col")
            .bool()
            .expect("bool")
            .iter()
            .collect();
        // a: high → very_high (still flagged); b: rising → high (new); c: no longer flagged; d: not in the previous run (new).
        assert_eq!(new, vec![Some(false), Some(true), Some(false), Some(true)]);
    }
}
