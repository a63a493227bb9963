//! Event features: every feature of one table becomes one aggregation
//! expression, so each table is scanned once.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;

use super::epoch_days;
use super::spec::{Aggregate, CodeFilter, FeatureDef, FeatureKind, Filter, Window, code_columns};
use crate::contract;
use crate::error::Result;
use crate::ingest::{Extract, PID};

/// The date that places a row of each table in time (the start of a period).
fn date_column(table: &str) -> &'static str {
    match contract::table(table).and_then(|t| t.period) {
        Some((start, _)) => start,
        None => "date",
    }
}

/// One lazy per-person frame per event table that has features and is in the extract.
pub fn per_table(
    extract: &Extract,
    index: NaiveDate,
    defs: &[FeatureDef],
) -> Result<Vec<(String, LazyFrame)>> {
    let mut by_table: BTreeMap<&str, Vec<&FeatureDef>> = BTreeMap::new();
    for def in defs {
        if let FeatureKind::Events { table, .. } = &def.kind {
            by_table.entry(table).or_default().push(def);
        }
    }
    by_table
        .into_iter()
        .filter_map(|(table, defs)| {
            extract.table(table).map(|rows| {
                table_features(rows.clone(), table, index, &defs)
                    .map(|plan| (table.to_string(), plan))
            })
        })
        .collect()
}

/// Joins one boolean column per code-list filter onto `rows`, computed once
/// per distinct code; returns the column name for each feature (None if it has no list).
fn attach_code_lists(
    rows: LazyFrame,
    table: &str,
    defs: &[&FeatureDef],
) -> Result<(LazyFrame, Vec<Option<String>>)> {
    let filters: Vec<Option<&CodeFilter>> = defs
        .iter()
        .map(|d| match &d.kind {
            FeatureKind::Events { codes, .. } => codes.as_ref(),
            _ => None,
        })
        .collect();
    let Some((code_column, system_column)) =
        code_columns(table).filter(|_| filters.iter().any(Option::is_some))
    else {
        return Ok((rows, vec![None; defs.len()]));
    };
    let mut keys = vec![col(code_column)];
    keys.extend(system_column.map(col));
    let distinct = crate::ingest::collect_streaming(
        rows.clone()
            .select(keys.clone())
            .unique(None, UniqueKeepStrategy::Any),
    )?;
    let codes = distinct.column(code_column)?.str()?.clone();
    let systems: Option<StringChunked> = match system_column {
        Some(s) => Some(distinct.column(s)?.str()?.clone()),
        None => None,
    };
    let mut mapping = distinct.clone();
    let mut names = Vec::with_capacity(defs.len());
    for (k, filter) in filters.iter().enumerate() {
        let Some(filter) = filter else {
            names.push(None);
            continue;
        };
        let name = format!("__codelist_{k}");
        let hits: BooleanChunked = (0..codes.len())
            .map(|i| {
                let system_fits = systems
                    .as_ref()
                    .is_none_or(|s| s.get(i) == Some(filter.system.name()));
                Some(system_fits && codes.get(i).is_some_and(|c| filter.list.matches(c)))
            })
            .collect();
        mapping.with_column(hits.with_name(name.as_str().into()).into_column())?;
        names.push(Some(name));
    }
    let joined = rows.join(
        mapping.lazy(),
        keys.clone(),
        keys,
        crate::ingest::left_join_in_order(),
    );
    Ok((joined, names))
}

fn table_features(
    rows: LazyFrame,
    table: &str,
    index: NaiveDate,
    defs: &[&FeatureDef],
) -> Result<LazyFrame> {
    let (rows, listed) = attach_code_lists(rows, table, defs)?;
    let date = date_column(table);
    let earliest = defs
        .iter()
        .map(|d| match &d.kind {
            FeatureKind::Events {
                window, aggregate, ..
            } => lower_bound(*window, aggregate, index),
            _ => None,
        })
        .try_fold(i32::MAX, |lo, bound| bound.map(|b| lo.min(b)));
    // Nothing after the index date counts; nothing before the earliest window either
    // (periods are kept when they might still be running into a window).
    let mut keep = col(date).lt_eq(lit(index));
    if let (Some(lo), Some((_, end))) = (earliest, contract::table(table).and_then(|t| t.period)) {
        keep = keep.and(
            col(end)
                .is_null()
                .or(col(end).cast(DataType::Int32).gt_eq(lit(lo))),
        );
    } else if let Some(lo) = earliest {
        keep = keep.and(col(date).cast(DataType::Int32).gt_eq(lit(lo)));
    }
    let mut selections = Selections::default();
    let aggs: Vec<Expr> = defs
        .iter()
        .zip(&listed)
        .filter_map(|(d, list)| match &d.kind {
            FeatureKind::Events {
                filters,
                window,
                aggregate,
                ..
            } => {
                let selected = selections.column(selection_expr(filters, list.as_deref()));
                Some(
                    aggregate_expr(table, selected, *window, aggregate, index)
                        .alias(d.name.as_str()),
                )
            }
            _ => None,
        })
        .collect();
    Ok(rows
        .filter(keep)
        .with_columns(selections.columns)
        .group_by([col(PID)])
        .agg(aggs))
}

/// The distinct row selections (`where` filters and code lists) of a table's
/// features, each computed once per row as a boolean column. Many features
/// share one (emergency admissions over five windows); as separate
/// expressions inside the aggregation each repeated its text comparisons on
/// every row (string equality was 4–5% of `strata features` CPU at 1M people).
#[derive(Default)]
struct Selections {
    columns: Vec<Expr>,
    seen: Vec<String>,
}

impl Selections {
    /// The column holding `selected` (`lit(true)`, selecting every row, is left as it is).
    fn column(&mut self, selected: Expr) -> Expr {
        if selected == lit(true) {
            return selected;
        }
        let key = format!("{selected:?}");
        let k = self.seen.iter().position(|s| *s == key).unwrap_or_else(|| {
            self.seen.push(key);
            self.seen.len() - 1
        });
        let name = format!("__selected_{k}");
        if k == self.columns.len() {
            self.columns.push(selected.alias(name.as_str()));
        }
        col(name.as_str())
    }
}

/// Rows a feature reads: its `where` filters and, if any, its code list column.
fn selection_expr(filters: &[Filter], listed: Option<&str>) -> Expr {
    if filters.is_empty() && listed.is_none() {
        return lit(true);
    }
    match listed {
        Some(column) => filters_expr(filters).and(col(column).fill_null(lit(false))),
        None => filters_expr(filters),
    }
}

/// The earliest day (epoch days) a feature can need, `None` for unbounded.
fn lower_bound(window: Window, aggregate: &Aggregate, index: NaiveDate) -> Option<i32> {
    match (window, aggregate) {
        (Window::All, _) | (_, Aggregate::ActiveOnIndex) => None,
        (w, _) => w.bounds(index).0.map(epoch_days),
    }
}

fn filters_expr(filters: &[Filter]) -> Expr {
    filters.iter().fold(lit(true), |acc, f| {
        let one = match f {
            Filter::Bool { column, value } => col(column.as_str()).eq(lit(*value)),
            Filter::Text { column, any_of } => any_of
                .iter()
                .map(|v| col(column.as_str()).eq(lit(v.as_str())))
                .reduce(|a, b| a.or(b))
                .unwrap_or(lit(false)),
        };
        acc.and(one.fill_null(lit(false)))
    })
}

fn aggregate_expr(
    table: &str,
    selected: Expr,
    window: Window,
    aggregate: &Aggregate,
    index: NaiveDate,
) -> Expr {
    let date = col(date_column(table)).cast(DataType::Int32);
    let (lo, hi) = window.bounds(index);
    let (lo, hi) = (lo.map(epoch_days), epoch_days(hi));
    let in_window = lo
        .map_or(lit(true), |lo| date.clone().gt_eq(lit(lo)))
        .and(date.clone().lt_eq(lit(hi)));
    let cond = selected.clone().and(in_window);
    match aggregate {
        Aggregate::Exists => cond.sum().gt(lit(0)),
        Aggregate::Count => cond.sum().cast(DataType::Int32),
        Aggregate::CountDistinct { column, prefix } => {
            let value = match prefix {
                Some(n) => col(column.as_str()).str().slice(lit(0), lit(*n as u64)),
                None => col(column.as_str()),
            };
            value.filter(cond).n_unique().cast(DataType::Int32)
        }
        Aggregate::Sum { column } => {
            non_empty(column, &cond, exact_sum(col(column.as_str()), cond.clone()))
        }
        Aggregate::Min { column } => col(column.as_str())
            .filter(cond)
            .min()
            .cast(DataType::Float64),
        Aggregate::Max { column } => col(column.as_str())
            .filter(cond)
            .max()
            .cast(DataType::Float64),
        // Ties on the latest date go to the greatest value, so the result does
        // not depend on the order rows reach the group (it varies with the
        // streaming engine's scheduling).
        Aggregate::Last { column } => col(column.as_str())
            .filter(cond.clone())
            .sort_by(
                [date.filter(cond.clone()), col(column.as_str()).filter(cond)],
                SortMultipleOptions::default(),
            )
            .last()
            .cast(DataType::String),
        Aggregate::DaysSinceLast => {
            (lit(epoch_days(index)) - date.filter(cond).max()).cast(DataType::Int32)
        }
        Aggregate::DaysCovered => days_covered(table, selected, lo, hi),
        Aggregate::ActiveOnIndex => active_on(table, selected, epoch_days(index)),
    }
}

/// Units per 1 of a summed value: sums are taken in integer micro-units.
const SUM_SCALE: f64 = 1e6;

/// The sum of `values` where `cond` holds, independent of the order they
/// arrive in: each value is rounded to a millionth and added as an integer. A
/// floating-point sum depends on the order of its terms, which the streaming
/// engine does not fix, so the same extract gave totals differing in the last
/// bits from run to run. The range is ±9.2 × 10¹² per person, far beyond any cost.
///
/// The filter must be the last step before the sum: Polars' streaming
/// group-by lowers `elementwise(x).filter(c).sum()` but not
/// `elementwise(x.filter(c)).sum()`, which falls back to an in-memory
/// group-by over the whole table (measured at 1M people: the encounters pass
/// took 21 s instead of 6; docs/performance.md).
fn exact_sum(values: Expr, cond: Expr) -> Expr {
    (values.cast(DataType::Float64) * lit(SUM_SCALE))
        .round(0, RoundMode::HalfAwayFromZero)
        .cast(DataType::Int64)
        .filter(cond)
        .sum()
        .cast(DataType::Float64)
        / lit(SUM_SCALE)
}

/// `agg` when at least one selected row has a value, else null (a sum over nothing is unknown, not 0).
fn non_empty(column: &str, cond: &Expr, agg: Expr) -> Expr {
    when(col(column).filter(cond.clone()).count().gt(lit(0)))
        .then(agg.cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

fn period(table: &str) -> (Expr, Expr) {
    let (start, end) = contract::table(table)
        .and_then(|t| t.period)
        .unwrap_or(("start_date", "end_date"));
    (
        col(start).cast(DataType::Int32),
        col(end).cast(DataType::Int32),
    )
}

/// Days of [start, end) inside [lo, hi + 1), summed over selected rows; an
/// open end runs to the day after `hi` (the index date for `-Nd..0d`).
fn days_covered(table: &str, selected: Expr, lo: Option<i32>, hi: i32) -> Expr {
    let (start, end) = period(table);
    let stop = lit(hi + 1);
    let e = when(end.clone().is_null().or(end.clone().gt(stop.clone())))
        .then(stop)
        .otherwise(end);
    let s = match lo {
        Some(lo) => when(start.clone().lt(lit(lo)))
            .then(lit(lo))
            .otherwise(start),
        None => start,
    };
    let days = when(e.clone().gt(s.clone())).then(e - s).otherwise(lit(0));
    days.filter(selected).sum().cast(DataType::Int32)
}

/// Some selected period covers day `on`: start ≤ on and (no end or end ≥ on).
fn active_on(table: &str, selected: Expr, on: i32) -> Expr {
    let (start, end) = period(table);
    let covers = start
        .lt_eq(lit(on))
        .and(end.clone().is_null().or(end.gt_eq(lit(on))));
    selected.and(covers).sum().gt(lit(0))
}
