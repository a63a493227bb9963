//! Scores over code lists: codes are matched once per distinct code, the
//! categories joined back to people, and each person's set scored in Rust.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;

use super::epoch_days;
use super::spec::{FeatureDef, FeatureKind, Score, Window};
use crate::codelists::{CharlsonWeights, charlson_categories, charlson_score};
use crate::error::Result;
use crate::ingest::{Extract, PID};

/// A frame of [`PID`] plus one column per score feature, or `None` if there are none.
pub fn score_features(
    extract: &Extract,
    index: NaiveDate,
    defs: &[FeatureDef],
) -> Result<Option<DataFrame>> {
    let wanted: Vec<(&str, Score, Window)> = defs
        .iter()
        .filter_map(|d| match d.kind {
            FeatureKind::Score { score, window } => Some((d.name.as_str(), score, window)),
            _ => None,
        })
        .collect();
    if wanted.is_empty() {
        return Ok(None);
    }
    let mut windows: Vec<Window> = wanted.iter().map(|w| w.2).collect();
    windows.dedup();
    let mut sets_by_window = Vec::new();
    for window in &windows {
        sets_by_window.push((*window, charlson_sets(extract, index, *window)?));
    }
    let mut pids: Vec<u32> = sets_by_window
        .iter()
        .flat_map(|(_, s)| s.keys().copied())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    let mut columns = vec![Column::new(PID.into(), &pids)];
    for (name, score, window) in wanted {
        let sets = sets_by_window
            .iter()
            .find(|(w, _)| *w == window)
            .map(|(_, s)| s);
        let weights = match score {
            Score::Charlson1987 => CharlsonWeights::Charlson1987,
            Score::CharlsonQuan2011 => CharlsonWeights::Quan2011,
        };
        let values: Vec<i32> = pids
            .iter()
            .map(|p| {
                sets.and_then(|s| s.get(p))
                    .map_or(0, |set| charlson_score(*set, weights) as i32)
            })
            .collect();
        columns.push(Column::new(name.into(), values));
    }
    Ok(Some(DataFrame::new(pids.len(), columns)?))
}

/// Each person's set of Charlson categories from ICD-10 diagnoses in `window`.
fn charlson_sets(
    extract: &Extract,
    index: NaiveDate,
    window: Window,
) -> Result<BTreeMap<u32, u32>> {
    let mut by_person = BTreeMap::new();
    let Some(diagnoses) = extract.table("diagnoses") else {
        return Ok(by_person);
    };
    let (lo, hi) = window.bounds(index);
    let date = col("date").cast(DataType::Int32);
    let mut keep = col("code_system")
        .eq(lit("icd10"))
        .and(date.clone().lt_eq(lit(epoch_days(hi))));
    if let Some(lo) = lo {
        keep = keep.and(date.gt_eq(lit(epoch_days(lo))));
    }
    let person_codes = diagnoses
        .clone()
        .filter(keep)
        .select([col(PID), col("code")])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()?;
    let codes = person_codes.column("code")?.unique()?;
    let (matched, sets): (Vec<String>, Vec<u32>) = codes
        .str()?
        .iter()
        .flatten()
        .map(|c| (c.to_string(), charlson_categories(c)))
        .filter(|(_, set)| *set != 0)
        .unzip();
    if matched.is_empty() {
        return Ok(by_person);
    }
    let code_sets = DataFrame::new(
        matched.len(),
        vec![
            Column::new("code".into(), matched),
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
    for (pid, set) in person_sets
        .column(PID)?
        .u32()?
        .iter()
        .zip(person_sets.column("set")?.u32()?.iter())
    {
        if let (Some(pid), Some(set)) = (pid, set) {
            *by_person.entry(pid).or_insert(0) |= set;
        }
    }
    Ok(by_person)
}
