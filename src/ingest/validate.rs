//! Row-level checks against the contract. Each table gets an ordered list of
//! rules; a row is rejected for the first rule it breaks, counted under it,
//! and the run goes on. Fatal problems (missing table or column, unreadable
//! file, duplicate person, too many rejections) stop the run.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;

use super::parse::{ParsedColumn, is_known_code, parse_column};
use super::source::{PART, ROW, TableSource};
use crate::contract::{ColumnType, TableSpec};
use crate::error::IngestError;

/// Column holding the index of the first rule a row breaks (null = valid).
pub(crate) const REASON: &str = "__reason";
/// Column packing part and row into one sortable number.
pub(crate) const LOC: &str = "__loc";
/// Integer person key (row of the person in the validated patients table).
pub const PID: &str = "__pid";
/// The person's date of birth and death, joined onto event rows for the date checks.
pub(crate) const BIRTH: &str = "__birth";
pub(crate) const DEATH: &str = "__death";

/// Aggregate column: the latest main event date of a group of rows.
const LAST_DATE: &str = "__last_date";

/// How many example rows an issue lists.
pub const EXAMPLE_ROWS: usize = 5;

/// Settings for validation.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// Dates after this are "in the future" (normally today's date).
    pub today: NaiveDate,
    /// A table with a larger share of rejected rows is fatal (0.05 = 5%).
    pub max_reject_fraction: f64,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self {
            today: chrono::Local::now().date_naive(),
            max_reject_fraction: 0.05,
        }
    }
}

/// What happens to a row with an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The whole row is left out of the run.
    RowRejected,
    /// The row is kept but the offending value is set to null.
    ValueRemoved,
}

/// One kind of problem in one column, with how often it happened.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Issue {
    pub column: String,
    pub problem: String,
    pub action: Action,
    pub count: u64,
    /// Where the first few happened (data rows counted from 1, header excluded).
    pub first_rows: Vec<String>,
}

/// The validation outcome for one table.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TableReport {
    pub table: String,
    pub path: String,
    pub rows_read: u64,
    pub rows_rejected: u64,
    pub issues: Vec<Issue>,
    /// The latest main event date among valid rows (event tables only): the
    /// extract's last date is the latest of these, known without another pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event_date: Option<NaiveDate>,
}

impl TableReport {
    /// Fails when more than `max_fraction` of the rows were rejected, naming
    /// the most frequent reason.
    pub fn check_threshold(
        &self,
        source: &TableSource,
        max_fraction: f64,
    ) -> Result<(), IngestError> {
        if self.rows_read == 0
            || (self.rows_rejected as f64) <= max_fraction * self.rows_read as f64
        {
            return Ok(());
        }
        let worst = self
            .issues
            .iter()
            .filter(|i| i.action == Action::RowRejected)
            .max_by_key(|i| i.count);
        let (column, reason, rows) = match worst {
            Some(i) => (i.column.clone(), i.problem.clone(), i.first_rows.join(", ")),
            None => (String::new(), String::new(), String::new()),
        };
        Err(IngestError::TooManyRejected {
            path: source.display.clone(),
            column,
            reason,
            rows,
            rejected: self.rows_rejected,
            read: self.rows_read,
            limit_percent: max_fraction * 100.0,
        })
    }
}

/// One row-level rule: a condition that rejects the row, and how to describe it.
pub(crate) struct Rule {
    pub column: &'static str,
    pub problem: String,
    pub breaks: Expr,
}

/// The typed columns of a table and the rules its rows must keep.
pub(crate) struct TablePlan {
    /// Typed value expressions, one per contract column (absent optional columns are typed nulls).
    pub values: Vec<Expr>,
    pub rules: Vec<Rule>,
}

/// Builds typed values and rules for `source` given the schema found in its files.
///
/// `birth` and `death` are the person's dates: the parsed columns for
/// `patients`, the joined [`BIRTH`]/[`DEATH`] columns for event tables.
pub(crate) fn plan_table(
    source: &TableSource,
    schema: &Schema,
    options: &ValidateOptions,
) -> Result<TablePlan, IngestError> {
    let spec: &TableSpec = source.table;
    check_columns(source, schema)?;
    let mut values = Vec::new();
    let mut rules = Vec::new();
    let mut typed: Vec<(&'static str, Expr)> = Vec::new();
    for column in spec.columns {
        let Some(found) = schema.get(column.name) else {
            values.push(lit(NULL).cast(null_type(&column.ty)).alias(column.name));
            continue;
        };
        let ParsedColumn {
            value,
            unparseable,
            missing,
        } = parse_column(column, found, &source.display)?;
        if let Some(missing) = missing {
            rules.push(Rule {
                column: column.name,
                problem: "empty".into(),
                breaks: missing,
            });
        }
        if column.ty != ColumnType::NhsNumber {
            rules.push(Rule {
                column: column.name,
                problem: format!("not {}", column.ty.expectation()),
                breaks: unparseable,
            });
        }
        if let ColumnType::Code(codes) = column.ty {
            rules.push(Rule {
                column: column.name,
                problem: format!("unknown code, expected {}", column.ty.expectation()),
                breaks: value
                    .clone()
                    .is_not_null()
                    .and(is_known_code(value.clone(), codes).not()),
            });
        }
        typed.push((column.name, value.clone()));
        values.push(value);
    }
    let get = |name: &str| {
        typed
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, e)| e.clone())
    };
    let (birth, death) = if spec.per_person {
        rules.push(Rule {
            column: "person_id",
            problem: "person_id not found in patients".into(),
            breaks: col(PID).is_null().and(col("person_id").is_not_null()),
        });
        (Some(col(BIRTH)), Some(col(DEATH)))
    } else {
        (get("date_of_birth"), get("date_of_death"))
    };
    for &date in spec.event_dates {
        let Some(value) = get(date) else { continue };
        if let Some(birth) = &birth {
            rules.push(Rule {
                column: date,
                problem: "before date of birth".into(),
                breaks: value.clone().lt(birth.clone()),
            });
        }
        if let Some(death) = death.as_ref().filter(|_| date != "date_of_death") {
            rules.push(Rule {
                column: date,
                problem: "after date of death".into(),
                breaks: value.clone().gt(death.clone()),
            });
        }
        rules.push(Rule {
            column: date,
            problem: "in the future".into(),
            breaks: value.gt(lit(options.today)),
        });
    }
    if let (false, Some(birth)) = (spec.per_person, &birth) {
        rules.push(Rule {
            column: "date_of_birth",
            problem: "in the future".into(),
            breaks: birth.clone().gt(lit(options.today)),
        });
    }
    if let Some((start, end)) = spec.period
        && let (Some(s), Some(e)) = (get(start), get(end))
    {
        rules.push(Rule {
            column: end,
            problem: format!("before {start}"),
            breaks: e.lt(s),
        });
    }
    Ok(TablePlan { values, rules })
}

/// Every required column must be present; extra columns are ignored.
fn check_columns(source: &TableSource, schema: &Schema) -> Result<(), IngestError> {
    for column in source.table.columns.iter().filter(|c| c.required) {
        if schema.get(column.name).is_none() {
            let names: Vec<&str> = schema
                .iter_names()
                .map(|n| n.as_str())
                .filter(|n| *n != PART)
                .collect();
            let mut found = names.join(", ");
            if names.len() == 1
                && (found.contains(';') || found.contains('\t') || found.contains('|'))
            {
                found.push_str("; the file looks delimited by something other than commas, and strata reads comma-separated CSV");
            }
            return Err(IngestError::MissingColumn {
                path: source.display.clone(),
                column: column.name.to_string(),
                found,
            });
        }
    }
    Ok(())
}

fn null_type(ty: &ColumnType) -> DataType {
    match ty {
        ColumnType::Date => DataType::Date,
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Number => DataType::Float64,
        ColumnType::Integer { .. } => DataType::Int32,
        ColumnType::Text | ColumnType::Code(_) | ColumnType::NhsNumber => DataType::String,
    }
}

/// The index of the first rule each row breaks, or null.
pub(crate) fn reason_expr(rules: &[Rule]) -> Expr {
    if rules.is_empty() {
        return lit(NULL).cast(DataType::UInt32).alias(REASON);
    }
    let firsts: Vec<Expr> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            when(r.breaks.clone().fill_null(lit(false)))
                .then(lit(i as u32))
                .otherwise(lit(NULL).cast(DataType::UInt32))
        })
        .collect();
    coalesce(&firsts).alias(REASON)
}

/// Part and row packed into one number that sorts in file order.
pub(crate) fn loc_expr() -> Expr {
    (col(PART).cast(DataType::UInt64) * lit(1u64 << 40) + col(ROW)).alias(LOC)
}

/// Splits a packed location back into a readable row reference.
pub(crate) fn describe_loc(source: &TableSource, loc: u64) -> String {
    source.locate((loc >> 40) as u32, loc & ((1u64 << 40) - 1))
}

/// Counts rows and rejections per rule in one pass over `frame`, which must
/// hold [`REASON`] and [`LOC`].
pub(crate) fn summarise(
    frame: LazyFrame,
    source: &TableSource,
    rules: &[Rule],
) -> Result<TableReport, IngestError> {
    let counts = super::collect_streaming(summary_plan(frame.clone(), source))
        .map_err(|e| super::source::unreadable(&source.display, &e))?;
    report_from_counts(&counts, frame, source, rules)
}

/// The one-pass part of [`summarise`]: rows per rejection reason (null =
/// valid) and, for event tables, the latest main date per reason. Collect it
/// with other plans over the same rows to share the pass (see `batch`).
pub(crate) fn summary_plan(frame: LazyFrame, source: &TableSource) -> LazyFrame {
    let mut aggregates = vec![len().cast(DataType::UInt64).alias("n")];
    if let Some(date) = main_date(source) {
        aggregates.push(col(date).max().cast(DataType::Int32).alias(LAST_DATE));
    }
    frame.group_by([col(REASON)]).agg(aggregates)
}

/// An event table's main date column (the first of its event dates).
fn main_date(source: &TableSource) -> Option<&'static str> {
    source
        .table
        .event_dates
        .first()
        .copied()
        .filter(|_| source.table.per_person)
}

/// The table's report from the collected [`summary_plan`]; `frame` is read
/// again only when rows were rejected, for the first example rows.
pub(crate) fn report_from_counts(
    counts: &DataFrame,
    frame: LazyFrame,
    source: &TableSource,
    rules: &[Rule],
) -> Result<TableReport, IngestError> {
    let fail = |e: PolarsError| super::source::unreadable(&source.display, &e);
    let main_date = main_date(source);
    let reasons = counts
        .column(REASON)
        .and_then(|c| c.u32().cloned())
        .map_err(fail)?;
    let ns = counts
        .column("n")
        .and_then(|c| c.u64().cloned())
        .map_err(fail)?;
    let mut examples = if reasons.null_count() < reasons.len() {
        first_rows_by_reason(frame, source)?
    } else {
        BTreeMap::new()
    };
    let mut report = TableReport {
        table: source.table.name.to_string(),
        path: source.display.display().to_string(),
        rows_read: 0,
        rows_rejected: 0,
        issues: Vec::new(),
        last_event_date: None,
    };
    if main_date.is_some() {
        let last = counts
            .column(LAST_DATE)
            .and_then(|c| c.i32().cloned())
            .map_err(fail)?;
        report.last_event_date = reasons
            .iter()
            .zip(last.iter())
            .find_map(|(reason, last)| if reason.is_none() { last } else { None })
            .and_then(crate::contract::date_from_epoch_days);
    }
    for (reason, n) in reasons.iter().zip(ns.iter()) {
        let n = n.unwrap_or(0);
        report.rows_read += n;
        let Some(reason) = reason else { continue };
        report.rows_rejected += n;
        let rule = &rules[reason as usize];
        let first = examples.remove(&reason).unwrap_or_default();
        report.issues.push(Issue {
            column: rule.column.to_string(),
            problem: rule.problem.clone(),
            action: Action::RowRejected,
            count: n,
            first_rows: first.iter().map(|l| describe_loc(source, *l)).collect(),
        });
    }
    report
        .issues
        .sort_by(|a, b| b.count.cmp(&a.count).then(a.column.cmp(&b.column)));
    Ok(report)
}

/// The first [`EXAMPLE_ROWS`] locations of each rejection reason, in file
/// order. A second pass, made only when something was rejected.
fn first_rows_by_reason(
    frame: LazyFrame,
    source: &TableSource,
) -> Result<BTreeMap<u32, Vec<u64>>, IngestError> {
    let fail = |e: PolarsError| super::source::unreadable(&source.display, &e);
    let firsts = frame
        .filter(col(REASON).is_not_null())
        .select([col(REASON), col(LOC)])
        .sort([LOC], SortMultipleOptions::default())
        .group_by_stable([col(REASON)])
        .head(Some(EXAMPLE_ROWS))
        .collect()
        .map_err(fail)?;
    let reasons = firsts
        .column(REASON)
        .and_then(|c| c.u32().cloned())
        .map_err(fail)?;
    let locs = firsts
        .column(LOC)
        .and_then(|c| c.u64().cloned())
        .map_err(fail)?;
    let mut examples: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for (reason, loc) in reasons.iter().zip(locs.iter()) {
        if let (Some(reason), Some(loc)) = (reason, loc) {
            examples.entry(reason).or_default().push(loc);
        }
    }
    Ok(examples)
}
