//! Event features: every feature of one table is tallied in the same
//! streaming pass over it ([`Tally`]), so each table is scanned once.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;

use super::Result;
use super::epoch_days;
use super::spec::{Aggregate, CodeFilter, FeatureDef, FeatureKind, Filter, Window, code_columns};
use super::tally::{DAY, END, Feature, Tally};
use crate::contract;
use crate::ingest::{Extract, PID};

/// The date that places a row of each table in time (the start of a period).
fn date_column(table: &str) -> &'static str {
    match contract::table(table).and_then(|t| t.period) {
        Some((start, _)) => start,
        None => "date",
    }
}

/// One tallying pass per event table that has features and is in the extract.
pub fn per_table(
    extract: &Extract,
    index: NaiveDate,
    defs: &[FeatureDef],
) -> Result<Vec<(String, TablePass)>> {
    let people = extract.patients.height();
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
                table_features(rows.clone(), table, index, &defs, people)
                    .map(|pass| (table.to_string(), pass))
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

/// The pass over one event table that tallies its features: the rows in
/// reach of some window, each with its person, day, selections and values,
/// streamed into a [`Tally`].
fn table_features(
    rows: LazyFrame,
    table: &str,
    index: NaiveDate,
    defs: &[&FeatureDef],
    people: usize,
) -> Result<TablePass> {
    let (rows, listed) = attach_code_lists(rows, table, defs)?;
    let date = date_column(table);
    let period = contract::table(table).and_then(|t| t.period);
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
    if let (Some(lo), Some((_, end))) = (earliest, period) {
        keep = keep.and(
            col(end)
                .is_null()
                .or(col(end).cast(DataType::Int32).gt_eq(lit(lo))),
        );
    } else if let Some(lo) = earliest {
        keep = keep.and(col(date).cast(DataType::Int32).gt_eq(lit(lo)));
    }
    let text_column = |name: &str| {
        name == contract::INGREDIENT
            || contract::table(table)
                .and_then(|t| t.column(name))
                .is_some_and(|c| {
                    matches!(
                        c.ty,
                        contract::ColumnType::Text
                            | contract::ColumnType::Code(_)
                            | contract::ColumnType::NhsNumber
                    )
                })
    };
    let mut selections = Selections::default();
    let mut inputs = Vec::new();
    let mut features = Vec::new();
    for (position, (def, list)) in defs.iter().zip(&listed).enumerate() {
        let FeatureKind::Events {
            filters,
            window,
            aggregate,
            ..
        } = &def.kind
        else {
            continue;
        };
        let selected = selections.column(selection_expr(filters, list.as_deref()));
        let (lo, hi) = window.bounds(index);
        features.push(Feature::new(
            &def.name,
            position,
            aggregate,
            selected,
            (lo.map(epoch_days), epoch_days(hi)),
            epoch_days(index),
            &text_column,
            &mut inputs,
        ));
    }
    let mut columns = vec![col(PID), col(date).cast(DataType::Int32).alias(DAY)];
    if let Some((_, end)) = period {
        columns.push(col(end).cast(DataType::Int32).alias(END));
    }
    columns.extend(selections.columns);
    columns.extend(inputs);
    let tally = Arc::new(Tally::new(people, features));
    let folding = Arc::clone(&tally);
    // The fold runs as an elementwise function, on every worker thread at
    // once (see `tally`); its output is a column of nulls, summed to one row.
    let fold = map_multiple(
        move |batch: &mut [Column]| {
            folding.fold(batch)?;
            let rows = batch.first().map_or(0, Column::len);
            Ok(Column::full_null(TALLIED.into(), rows, &DataType::UInt32))
        },
        columns,
        |_, _| Ok(Field::new(TALLIED.into(), DataType::UInt32)),
    );
    let pass = rows
        .filter(keep)
        .select([fold.alias(TALLIED)])
        .select([col(TALLIED).null_count()]);
    Ok(TablePass { pass, tally })
}

/// The (empty) output column of a tally's fold.
const TALLIED: &str = "__tallied";

/// An event table's feature pass and the tally it fills.
pub struct TablePass {
    /// The streaming pass (its result is empty: the work is in `tally`).
    pub pass: LazyFrame,
    pub tally: Arc<Tally>,
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
    /// The column holding `selected`; `None` when it selects every row.
    fn column(&mut self, selected: Expr) -> Option<String> {
        if selected == lit(true) {
            return None;
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
        Some(name)
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
