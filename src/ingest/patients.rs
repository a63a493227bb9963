//! Step 4 of ingest: the patients table, read in full.
//!
//! Patients are small (one row per person) and everything after needs them:
//! they are scanned and checked like any table, then materialised; a
//! duplicate person id is fatal, an NHS number failing its check digit is
//! removed (the patient stays), and the valid rows are numbered as [`PID`]
//! (0-based row number), the key of every per-person array downstream.
//! Messages name rows, never values.

use polars::prelude::*;

use super::IngestError;
use super::check::{
    self, Action, BROKEN, Issue, LOC, TableReport, ValidateOptions, check, loc_expr, plan_table,
    summarise, typed, typed_rows,
};
use super::locate::{TableSource, unreadable};
use super::person_index::{self, PID};
use super::scan::scan_table;
use crate::contract;

/// Parses and checks patients, removes malformed NHS numbers, rejects
/// duplicate person ids (fatal) and numbers the valid rows as [`PID`].
pub(super) fn load_patients(
    source: &TableSource,
    options: &ValidateOptions,
) -> Result<(DataFrame, TableReport), IngestError> {
    let scanned = scan_table(source)?;
    let plan = plan_table(source, &scanned, options);
    let checked = check(scanned.raw, &plan);
    // Typed values (under their typed names), whether each row breaks a rule, and where it is.
    let mut kept: Vec<Expr> = plan.names.iter().map(|n| col(typed(n))).collect();
    kept.extend([col(BROKEN), loc_expr()]);
    let counted = checked
        .clone()
        .select(kept)
        .collect()
        .map_err(|e| unreadable(&source.display, &e))?;
    // The same columns under their contract names (no copy: columns are shared).
    let all = typed_rows(counted.clone().lazy(), &plan, &[BROKEN, LOC])
        .collect()
        .map_err(|e| unreadable(&source.display, &e))?;
    check_duplicates(&all, source)?;
    let mut report = summarise(counted.lazy(), checked, source, &plan.rules, None, false)?;
    let (valid, nhs_issue) = remove_bad_nhs_numbers(all.lazy().filter(col(BROKEN).not()), source)?;
    if let Some(issue) = nhs_issue {
        report.issues.push(issue);
    }
    report.check_threshold(source, options.max_reject_fraction)?;
    let patients = valid
        .drop(cols([BROKEN, LOC]))
        .with_row_index(PID, None)
        .with_column(col(PID).cast(DataType::UInt32))
        .collect()
        .map_err(|e| unreadable(&source.display, &e))?;
    if patients.height() == 0 {
        return Err(IngestError::Empty {
            path: source.display.clone(),
        });
    }
    Ok((patients, report))
}

/// Fails if any person_id appears more than once, naming rows, never values.
fn check_duplicates(typed: &DataFrame, source: &TableSource) -> Result<(), IngestError> {
    let ids = typed
        .column("person_id")
        .and_then(|c| c.str().cloned())
        .map_err(|e| unreadable(&source.display, &e))?;
    if !any_repeated(&ids) {
        return Ok(());
    }
    // Find the (rare) duplicated ids first: grouping every id with a list of
    // its rows built a million one-element lists at 1M people.
    let repeated = typed
        .clone()
        .lazy()
        .filter(col("person_id").is_not_null())
        .group_by([col("person_id")])
        .agg([len().alias("n")])
        .filter(col("n").gt(lit(1)))
        .select([col("person_id")]);
    let dups = typed
        .clone()
        .lazy()
        .join(
            repeated,
            [col("person_id")],
            [col("person_id")],
            JoinArgs::new(JoinType::Semi),
        )
        .group_by([col("person_id")])
        .agg([
            len().alias("n"),
            col(LOC).sort(SortOptions::default()).alias("locs"),
        ])
        .filter(col("n").gt(lit(1)))
        .select([col("locs")])
        .collect()
        .map_err(|e| unreadable(&source.display, &e))?;
    if dups.height() == 0 {
        return Ok(());
    }
    let mut locs: Vec<Vec<u64>> = Vec::new();
    if let Ok(lists) = dups.column("locs").and_then(|c| c.list().cloned()) {
        for s in lists.series_iter().flatten() {
            if let Ok(ca) = s.u64() {
                locs.push(ca.into_no_null_iter().collect());
            }
        }
    }
    locs.sort();
    let rows = locs
        .iter()
        .take(3)
        .map(|group| {
            group
                .iter()
                .map(|l| check::describe_loc(source, *l))
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect::<Vec<_>>()
        .join("; ");
    Err(IngestError::DuplicatePerson {
        path: source.display.clone(),
        count: dups.height() as u64,
        rows,
    })
}

/// Whether any id occurs twice: the ids' hashes, computed and sorted in
/// parallel, then equal neighbours compared as text. The usual answer, no,
/// costs a fifth of a string group-by (1.0 s at 5M people).
fn any_repeated(ids: &StringChunked) -> bool {
    use rayon::prelude::*;
    let ids = ids.rechunk();
    let Some(array) = ids.downcast_iter().next() else {
        return false;
    };
    let mut hashed: Vec<(u64, u32)> = person_index::hash_ids(array, &PlRandomState::default())
        .into_iter()
        .enumerate()
        .filter_map(|(row, hash)| hash.map(|h| (h, row as u32)))
        .collect();
    hashed.par_sort_unstable();
    hashed.chunk_by(|a, b| a.0 == b.0).any(|same_hash| {
        same_hash.iter().enumerate().any(|(k, a)| {
            same_hash[k + 1..]
                .iter()
                .any(|b| array.get(a.1 as usize) == array.get(b.1 as usize))
        })
    })
}

/// Sets NHS numbers that fail the Modulus 11 check to null and reports them.
///
/// The patient is kept: their risk is still needed, but a wrong NHS number on
/// a clinical list could point a clinician at the wrong person.
fn remove_bad_nhs_numbers(
    valid: LazyFrame,
    source: &TableSource,
) -> Result<(LazyFrame, Option<Issue>), IngestError> {
    let mut df = valid
        .collect()
        .map_err(|e| unreadable(&source.display, &e))?;
    let nhs = df
        .column("nhs_number")
        .and_then(|c| c.str().cloned())
        .map_err(|e| unreadable(&source.display, &e))?;
    let locs = df
        .column(LOC)
        .and_then(|c| c.u64().cloned())
        .map_err(|e| unreadable(&source.display, &e))?;
    // Checked first, and a cleaned copy made only when some number fails or
    // is written with separators (`943 476 5919` is kept as `9434765919`).
    let mut bad_locs: Vec<u64> = nhs
        .iter()
        .zip(locs.iter())
        .filter(|(v, _)| v.is_some_and(|v| contract::nhs_number_in(v).is_none()))
        .map(|(_, loc)| loc.unwrap_or(0))
        .collect();
    let all_plain = nhs.iter().flatten().all(contract::nhs_number_is_valid);
    if all_plain {
        return Ok((df.lazy(), None));
    }
    let cleaned: StringChunked = nhs
        .iter()
        .map(|v| v.and_then(contract::nhs_number_in).map(|n| n.into_owned()))
        .collect();
    df.with_column(cleaned.with_name("nhs_number".into()).into_column())
        .map_err(|e| unreadable(&source.display, &e))?;
    if bad_locs.is_empty() {
        return Ok((df.lazy(), None));
    }
    bad_locs.sort_unstable();
    let issue = Issue {
        column: "nhs_number".into(),
        problem: format!("not {}", contract::ColumnType::NhsNumber.expectation()),
        action: Action::ValueRemoved,
        count: bad_locs.len() as u64,
        first_rows: bad_locs
            .iter()
            .take(check::EXAMPLE_ROWS)
            .map(|l| check::describe_loc(source, *l))
            .collect(),
    };
    Ok((df.lazy(), Some(issue)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_ids_are_found_among_many_and_missing_ids_are_not_repeats() {
        let ids =
            |v: Vec<Option<String>>| StringChunked::from_iter_options("id".into(), v.into_iter());
        let many: Vec<Option<String>> = (0..10_000).map(|i| Some(format!("P{i:07}"))).collect();
        assert!(!any_repeated(&ids(many.clone())));
        let mut twice = many.clone();
        twice[9_999] = Some("P0004711".into());
        assert!(any_repeated(&ids(twice)));
        let mut nulls = many;
        nulls[1] = None;
        nulls[2] = None;
        assert!(!any_repeated(&ids(nulls)));
    }
}
