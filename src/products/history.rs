//! Persistence of flags across runs: who was flagged before, and when.
//!
//! Each run compares every person's tier with the previously published run
//! and carries forward a long `flag_history` table (person, as-of date, run,
//! tier, risk, threshold, flagged) of everyone ever in a flagged tier and,
//! for each run, a comparison band of unflagged people just below the
//! cut-off, so a service can later measure what happened to people after
//! they were first flagged against comparable people who were not
//! (`strata impact`; the Welsh PRISM trial found that lists alone raised
//! admissions; impact must be measurable). Person ids are those of the run's
//! other person-level outputs (pseudonymised when they are NHS numbers).

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

/// Columns of the history table, in order.
pub const HISTORY_COLUMNS: [&str; 7] = [
    "person_id",
    "as_of",
    "run_id",
    "tier",
    "risk",
    "threshold",
    "flagged",
];

/// The people one run adds to the history: everyone flagged, and a
/// comparison band of as many unflagged people again, the highest-risk
/// people just below the cut-off (the next 5 percentiles of risk with the
/// default tiers). What happens to flagged people can only be judged
/// against similar people who were not flagged (docs/impact.md says why the
/// band sits just below the threshold rather than anywhere else).
///
/// `threshold` is the flagging cut-off: the lowest risk of a flagged tier
/// under absolute thresholds; `None` under population shares, where the
/// cut-off is the risk of the last person inside the share, which is the
/// lowest risk of anyone flagged (tiers::assign_tiers_over). `current` must
/// hold `person_id`, `tier` and `risk`. Ties at the band's lower edge are all
/// kept, as ties at a tier's cut-off are.
pub fn run_rows(
    current: &DataFrame,
    as_of: chrono::NaiveDate,
    run_id: &str,
    threshold: Option<f64>,
) -> Result<DataFrame> {
    let tiers = current.column("tier")?.str()?;
    let risks = current.column("risk")?.f64()?;
    let flagged: Vec<bool> = tiers.iter().map(|t| t.is_some_and(is_flagged)).collect();
    let n_flagged = flagged.iter().filter(|f| **f).count();
    let threshold = threshold.or_else(|| {
        risks
            .iter()
            .zip(&flagged)
            .filter_map(|(r, f)| r.filter(|_| *f))
            .min_by(f64::total_cmp)
    });
    let mut below: Vec<f64> = risks
        .iter()
        .zip(&flagged)
        .filter_map(|(r, f)| r.filter(|_| !*f))
        .collect();
    // The band's lower edge: the n_flagged-th highest unflagged risk, by
    // selection (linear time), as tier cut-offs are found.
    let band_floor = if n_flagged == 0 || below.is_empty() {
        None
    } else {
        let k = n_flagged.min(below.len());
        let (_, kth, _) = below.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
        Some(*kth)
    };
    let keep: BooleanChunked = risks
        .iter()
        .zip(&flagged)
        .map(|(r, f)| Some(*f || band_floor.is_some_and(|floor| r.is_some_and(|r| r >= floor))))
        .collect();
    let rows = current.filter(&keep)?;
    let flagged_kept: BooleanChunked = flagged
        .iter()
        .zip(keep.iter())
        .filter(|(_, k)| k.unwrap_or(false))
        .map(|(f, _)| Some(*f))
        .collect();
    let mut rows = rows
        .lazy()
        .select([
            col("person_id"),
            lit(as_of).cast(DataType::Date).alias("as_of"),
            lit(run_id).alias("run_id"),
            col("tier"),
            col("risk"),
            threshold
                .map_or(lit(NULL), lit)
                .cast(DataType::Float64)
                .alias("threshold"),
        ])
        .collect()?;
    rows.with_column(flagged_kept.with_name("flagged".into()).into_column())?;
    Ok(rows)
}

/// The previous history plus this run's rows ([`run_rows`]). Rows of an
/// earlier run with the same as-of date are replaced (a re-run of the same
/// night). A history written before the comparison band existed (columns
/// `person_id`, `as_of`, `run_id`, `tier`) is carried forward with its rows
/// marked flagged and no risk or threshold.
pub fn update_history(
    previous_run: Option<&Path>,
    now: DataFrame,
    as_of: chrono::NaiveDate,
) -> Result<DataFrame> {
    let path = previous_run
        .map(|r| r.join(FLAG_HISTORY))
        .filter(|p| p.is_file());
    let all = match path {
        Some(p) => {
            let before = LazyFrame::scan_parquet(
                PlRefPath::new(p.to_string_lossy().as_ref()),
                ScanArgsParquet::default(),
            )?;
            let names = before.clone().collect_schema()?;
            let or_default = |name: &str, default: Expr| {
                if names.contains(name) {
                    col(name)
                } else {
                    default.alias(name)
                }
            };
            let before = before.filter(col("as_of").neq(lit(as_of))).select([
                col("person_id"),
                col("as_of"),
                col("run_id"),
                col("tier"),
                or_default("risk", lit(NULL).cast(DataType::Float64)),
                or_default("threshold", lit(NULL).cast(DataType::Float64)),
                or_default("flagged", lit(true)),
            ]);
            concat([before, now.lazy()], UnionArgs::default())?
        }
        None => now.lazy(),
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
        .filter(col("flagged"))
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

    fn people(risks: &[f64], tiers: &[&str]) -> DataFrame {
        let ids: Vec<String> = (0..risks.len()).map(|i| format!("p{i}")).collect();
        DataFrame::new(
            risks.len(),
            vec![
                Column::new("person_id".into(), ids),
                Column::new("tier".into(), tiers.to_vec()),
                Column::new("risk".into(), risks.to_vec()),
            ],
        )
        .expect("frame")
    }

    fn strings(frame: &DataFrame, name: &str) -> Vec<String> {
        frame
            .column(name)
            .expect("column")
            .str()
            .expect("str")
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect()
    }

    #[test]
    fn a_run_keeps_the_flagged_and_as_many_unflagged_people_just_below_the_cut_off() {
        // Two flagged (p0 0.9 very_high, p1 0.7 high); below them p2 0.5,
        // p3 0.4 and p4 0.4 (a tie at the band's edge), p5 0.1. The band holds
        // two people (as many as flagged): the 2nd highest unflagged risk is
        // 0.4, and the tie keeps p4 too. p5 is left out.
        let frame = people(
            &[0.9, 0.7, 0.5, 0.4, 0.4, 0.1],
            &["very_high", "high", "rising", "rising", "low", "low"],
        );
        let date = chrono::NaiveDate::from_ymd_opt(2025, 3, 31).expect("date");
        let rows = run_rows(&frame, date, "run-1", None).expect("rows");
        assert_eq!(strings(&rows, "person_id"), ["p0", "p1", "p2", "p3", "p4"]);
        let flagged: Vec<Option<bool>> = rows
            .column("flagged")
            .expect("flagged")
            .bool()
            .expect("bool")
            .iter()
            .collect();
        assert_eq!(
            flagged,
            [
                Some(true),
                Some(true),
                Some(false),
                Some(false),
                Some(false)
            ]
        );
        // Under shares the threshold is the lowest flagged risk.
        let threshold = rows.column("threshold").expect("t").f64().expect("f64");
        assert!(threshold.iter().all(|t| t == Some(0.7)));
        // Under absolute thresholds it is the setting, whoever was flagged.
        let rows = run_rows(&frame, date, "run-1", Some(0.6)).expect("rows");
        let threshold = rows.column("threshold").expect("t").f64().expect("f64");
        assert!(threshold.iter().all(|t| t == Some(0.6)));
        assert_eq!(rows.get_column_names(), HISTORY_COLUMNS);
    }

    #[test]
    fn nobody_flagged_means_no_comparison_band() {
        let frame = people(&[0.3, 0.2], &["rising", "low"]);
        let date = chrono::NaiveDate::from_ymd_opt(2025, 3, 31).expect("date");
        assert_eq!(run_rows(&frame, date, "r", None).expect("rows").height(), 0);
    }

    #[test]
    fn an_old_history_is_carried_forward_as_flagged_and_first_flagged_ignores_the_band() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d1 = chrono::NaiveDate::from_ymd_opt(2024, 3, 31).expect("date");
        let d2 = chrono::NaiveDate::from_ymd_opt(2025, 3, 31).expect("date");
        // Written before the band existed: four columns, flagged people only.
        let mut old =
            df!("person_id" => ["p2"], "run_id" => ["run-0"], "tier" => ["high"]).expect("frame");
        old.with_column(
            Column::new("as_of".into(), [d1])
                .cast(&DataType::Date)
                .expect("date"),
        )
        .expect("as_of");
        let file = std::fs::File::create(dir.path().join(FLAG_HISTORY)).expect("create");
        ParquetWriter::new(file).finish(&mut old).expect("write");
        let frame = people(&[0.9, 0.5, 0.4], &["high", "rising", "low"]);
        let now = run_rows(&frame, d2, "run-1", None).expect("rows");
        let all = update_history(Some(dir.path()), now, d2).expect("history");
        assert_eq!(all.get_column_names(), HISTORY_COLUMNS);
        assert_eq!(strings(&all, "person_id"), ["p2", "p0", "p1"]);
        let flagged: Vec<Option<bool>> = all
            .column("flagged")
            .expect("f")
            .bool()
            .expect("b")
            .iter()
            .collect();
        assert_eq!(flagged, [Some(true), Some(true), Some(false)]);
        // p1 is in the comparison band only: never flagged.
        let first = first_flagged(&all).expect("first");
        let mut ids = strings(&first, "person_id");
        ids.sort();
        assert_eq!(ids, ["p0", "p2"]);
    }
}
