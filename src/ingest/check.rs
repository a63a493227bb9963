//! Step 3 of ingest: the row rules of a scanned table, and what they found.
//!
//! Each table gets an ordered list of rules (a value given but unreadable, a
//! required value missing, an unknown code, an unknown person, dates out of
//! order); a row is rejected for the first rule it breaks, counted under it,
//! and the run goes on. The counts are plain reductions, and the rejected
//! rows stream into [`Rejections`] (a count and the first rows per rule), so
//! both share the table's one pass with the features. Too many rejections
//! ([`TableReport::check_threshold`]) stop the run, as do the fatal problems
//! found by the earlier steps (missing table or column, unreadable file).

use std::collections::{BTreeMap, BinaryHeap};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use polars::prelude::*;

use super::IngestError;
use super::batch::collect_streaming;
use super::locate::{TableSource, unreadable};
use super::person_index::{BIRTH, DEATH, PID};
use super::scan::{PART, ROW, ScannedTable, is_known_code};
use crate::contract::{self, ColumnType, TableSpec};

/// Column holding the index of the first rule a row breaks (rejected rows only).
pub(crate) const REASON: &str = "__reason";
/// Column: true where a row breaks any rule.
pub(crate) const BROKEN: &str = "__broken";
/// Column packing part and row into one sortable number.
pub(crate) const LOC: &str = "__loc";

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
    /// The user's dm+d → BNF map (`[medicines] dmd_bnf`, `--dmd-bnf`): a
    /// dm+d row found in it counts as its BNF chemical substance.
    pub dmd_bnf: Option<Arc<DmdBnf>>,
}

/// dm+d code → BNF presentation code.
pub type DmdBnf = std::collections::HashMap<String, String>;

impl Default for ValidateOptions {
    fn default() -> Self {
        Self {
            today: chrono::Local::now().date_naive(),
            max_reject_fraction: 0.05,
            dmd_bnf: None,
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
    /// Valid rows per code system (tables with a `code_system` column), in
    /// the contract's order, counted in the same pass: a code system with 0
    /// rows is a feature source that is absent (no ICD-10 diagnoses: HFRS
    /// not computable).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code_systems: Vec<(String, u64)>,
    /// `medications` only: the level its valid rows are counted at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medicine_codes: Option<MedicineCodes>,
}

/// How the valid rows of `medications` count as ingredients
/// ([`contract::ingredient_key`]), found in the validation pass.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MedicineCodes {
    /// Rows counted as a BNF chemical substance (a BNF code, given or
    /// through the dm+d → BNF map).
    pub bnf_substance_rows: u64,
    /// Rows counted as a product code (dm+d without a mapping, RxNorm):
    /// strengths and brands of one ingredient count apart.
    pub product_code_rows: u64,
    /// Whether a dm+d → BNF map was given.
    pub dmd_bnf_map: bool,
    /// Rows whose BNF code (given, or through the map) is in chapters
    /// 18–23 (`contract::NON_MEDICINE_BNF_CHAPTERS`: diagnostic agents,
    /// other preparations, dressings, appliances, incontinence and stoma
    /// products): valid, but not medicines, so not in `medicines_12m` or
    /// polypharmacy. Included in `bnf_substance_rows`.
    #[serde(default)]
    pub non_medicine_rows: u64,
}

impl MedicineCodes {
    /// The warning a run gives when product codes were counted.
    pub fn warning(&self) -> Option<String> {
        (self.product_code_rows > 0).then(|| {
            format!(
                "medications: {} of {} rows have no BNF code{} and were counted by product code \
                 (dm+d or RxNorm), so polypharmacy and medicines_12m may over-count strengths \
                 and brands of one ingredient, and count them as medicines with no BNF chapter \
                 to exclude dressings and appliances by{}",
                self.product_code_rows,
                self.product_code_rows + self.bnf_substance_rows,
                if self.dmd_bnf_map {
                    " in the dm+d → BNF map"
                } else {
                    ""
                },
                if self.dmd_bnf_map {
                    ""
                } else {
                    "; give a dm+d → BNF map ([medicines] dmd_bnf in strata.toml, or --dmd-bnf)"
                },
            )
        })
    }
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
    /// The contract column each of `values` is named after.
    pub names: Vec<&'static str>,
    pub rules: Vec<Rule>,
}

/// The typed values and rules of a [`ScannedTable`].
///
/// `birth` and `death` are the person's dates: the parsed columns for
/// `patients`, the joined [`BIRTH`]/[`DEATH`] columns for event tables.
pub(crate) fn plan_table(
    source: &TableSource,
    scanned: &ScannedTable,
    options: &ValidateOptions,
) -> TablePlan {
    let spec: &TableSpec = source.table;
    let mut rules = Vec::new();
    let mut typed: Vec<(&'static str, Expr)> = Vec::new();
    for column in &scanned.columns {
        let Some(parsed) = &column.parsed else {
            continue;
        };
        let (name, ty) = (column.spec.name, column.spec.ty);
        if let Some(missing) = &parsed.missing {
            rules.push(Rule {
                column: name,
                problem: "empty".into(),
                breaks: missing.clone(),
            });
        }
        if ty != ColumnType::NhsNumber {
            rules.push(Rule {
                column: name,
                problem: format!("not {}", ty.expectation()),
                breaks: parsed.unparseable.clone(),
            });
        }
        if let ColumnType::Code(codes) = ty {
            rules.push(Rule {
                column: name,
                problem: format!("unknown code, expected {}", ty.expectation()),
                breaks: column
                    .value
                    .clone()
                    .is_not_null()
                    .and(is_known_code(column.value.clone(), codes).not()),
            });
        }
        typed.push((name, column.value.clone()));
    }
    if spec.name == contract::MEDICATIONS.name {
        rules.extend(medicine_rules(scanned));
    }
    let values = scanned.columns.iter().map(|c| c.value.clone()).collect();
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
    let names = spec.columns.iter().map(|c| c.name).collect();
    TablePlan {
        values,
        names,
        rules,
    }
}

/// The rules of a medications row beyond its columns' types
/// (docs/data-contract.md): a medicine code is needed, as a `bnf_code` or a
/// `code_system` and `code` pair; a dm+d code is 6–18 digits, an RxNorm code
/// 1–10. An unknown `code_system` breaks the column's own code rule.
fn medicine_rules(scanned: &ScannedTable) -> Vec<Rule> {
    let value = |name: &str| {
        scanned
            .columns
            .iter()
            .find(|c| c.spec.name == name)
            .map_or(lit(NULL).cast(DataType::String), |c| c.value.clone())
    };
    let given = |name: &str| value(name).is_not_null().and(value(name).neq(lit("")));
    let (bnf, system, code) = (given("bnf_code"), given("code_system"), given("code"));
    let in_system = |s: &str| system.clone().and(value("code_system").eq(lit(s)));
    vec![
        Rule {
            column: "bnf_code",
            problem: "no medicine code: a bnf_code, or a code_system and code, is needed".into(),
            breaks: bnf
                .clone()
                .not()
                .and(system.clone().not())
                .and(code.clone().not()),
        },
        Rule {
            column: "code_system",
            problem: "empty while code is given".into(),
            breaks: code.clone().and(system.clone().not()),
        },
        Rule {
            column: "code",
            problem: "empty while code_system is given".into(),
            breaks: system.clone().and(code.clone().not()),
        },
        Rule {
            column: "code",
            problem: "not a dm+d code (6 to 18 digits)".into(),
            breaks: in_system("dmd")
                .and(code.clone())
                .and(text_test(value("code"), contract::dmd_code_is_valid).not()),
        },
        Rule {
            column: "code",
            problem: "not an RxNorm concept id (1 to 10 digits)".into(),
            breaks: in_system("rxnorm")
                .and(code)
                .and(text_test(value("code"), contract::rxnorm_code_is_valid).not()),
        },
    ]
}

/// `test` applied to each value of a text expression (null stays null).
fn text_test(value: Expr, test: fn(&str) -> bool) -> Expr {
    value.map(
        move |c: Column| {
            let out: BooleanChunked = c.str()?.iter().map(|v| v.map(test)).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
    )
}

/// Column of the summary: rows that break a rule.
const REJECTED: &str = "rejected";

/// Whether a row breaks any rule: one OR of booleans per row. Which rule it
/// breaks first ([`reason_expr`]) is worked out only for the rows that break
/// one: as a `when/then` chain and `coalesce` over every row it was 6–8% of
/// validation CPU at 1M people, for the few rows an extract rejects.
fn broken_expr(rules: &[Rule]) -> Expr {
    rules
        .iter()
        .map(|r| r.breaks.clone().fill_null(lit(false)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false))
        .alias(BROKEN)
}

/// The column a typed value is carried under beside its raw column, until
/// [`typed_rows`] names it after the contract column.
pub(crate) fn typed(name: &str) -> String {
    format!("__typed_{name}")
}

/// `raw` with every typed value (under its [`typed`] name) and [`BROKEN`].
/// The raw columns stay, so that the reason a row was rejected can still be
/// worked out from them ([`rejected_rows`]).
pub(crate) fn check(raw: LazyFrame, plan: &TablePlan) -> LazyFrame {
    let mut columns: Vec<Expr> = plan
        .values
        .iter()
        .zip(&plan.names)
        .map(|(value, name)| value.clone().alias(typed(name)))
        .collect();
    columns.push(broken_expr(&plan.rules));
    raw.with_columns(columns)
}

/// The typed values of `checked` under their contract names, with the
/// `keep` columns as they are.
pub(crate) fn typed_rows(checked: LazyFrame, plan: &TablePlan, keep: &[&str]) -> LazyFrame {
    let mut columns: Vec<Expr> = plan
        .names
        .iter()
        .map(|name| col(typed(name)).alias(*name))
        .collect();
    columns.extend(keep.iter().map(|k| col(*k)));
    checked.select(columns)
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
    source.describe_row((loc >> 40) as u32, loc & ((1u64 << 40) - 1))
}

/// The rows of a [`check`]ed frame that break a rule, as the first rule each
/// breaks ([`REASON`]) and where it is ([`LOC`]).
fn rejected_rows(checked: LazyFrame, rules: &[Rule]) -> LazyFrame {
    checked
        .filter(col(BROKEN))
        .select([reason_expr(rules), loc_expr()])
}

/// Rejected rows counted by the first rule they break, with the first
/// [`EXAMPLE_ROWS`] locations of each, in file order. Memory is bounded by
/// the number of rules, however many rows are rejected, and the result does
/// not depend on the order rows arrive in.
#[derive(Debug, Default)]
pub(crate) struct Rejections {
    /// Rule index → (rows, the smallest locations seen, at most [`EXAMPLE_ROWS`]).
    by_rule: BTreeMap<u32, (u64, BinaryHeap<u64>)>,
}

impl Rejections {
    /// Counts a batch of [`rejected_rows`].
    fn add(&mut self, rows: &DataFrame) -> PolarsResult<()> {
        let reasons = rows.column(REASON)?.u32()?;
        let locs = rows.column(LOC)?.u64()?;
        for (reason, loc) in reasons.iter().zip(locs.iter()) {
            let (Some(reason), Some(loc)) = (reason, loc) else {
                continue;
            };
            let (count, firsts) = self.by_rule.entry(reason).or_default();
            *count += 1;
            firsts.push(loc);
            if firsts.len() > EXAMPLE_ROWS {
                firsts.pop();
            }
        }
        Ok(())
    }
}

/// A plan that streams the [`rejected_rows`] of `checked` into `into`
/// (collect it with the table's other plans to share the pass; its own
/// result is empty).
pub(crate) fn rejections_sink(
    checked: LazyFrame,
    rules: &[Rule],
    into: Arc<Mutex<Rejections>>,
) -> PolarsResult<LazyFrame> {
    rejected_rows(checked, rules).sink_batches(
        PlanCallback::new(move |rows: DataFrame| {
            into.lock()
                .map_err(|_| polars_err!(ComputeError: "a validation pass panicked"))?
                .add(&rows)?;
            Ok(false)
        }),
        false,
        None,
    )
}

/// Validates a table in memory or in its own passes: the counts from
/// `counted` (which holds [`BROKEN`] and the typed values under their
/// [`typed`] names), and, only when rows were rejected, their reasons from
/// `checked` (which also holds the raw columns).
pub(crate) fn summarise(
    counted: LazyFrame,
    checked: LazyFrame,
    source: &TableSource,
    rules: &[Rule],
    dmd_bnf: Option<&Arc<DmdBnf>>,
    coded: bool,
) -> Result<TableReport, IngestError> {
    let fail = |e: PolarsError| unreadable(&source.display, &e);
    let counts = collect_streaming(summary_plan(counted, source, dmd_bnf, coded)).map_err(fail)?;
    let mut rejections = Rejections::default();
    if rejected(&counts).map_err(fail)? > 0 {
        let rows = collect_streaming(rejected_rows(checked, rules)).map_err(fail)?;
        rejections.add(&rows).map_err(fail)?;
    }
    report_from(&counts, rejections, source, rules, dmd_bnf.is_some())
}

/// The one-pass counts of a [`check`]ed table: rows, rejected rows and, for
/// event tables, the latest main date among valid rows. Plain reductions, so
/// the streaming engine runs them alongside the table's other plans.
pub(crate) fn summary_plan(
    checked: LazyFrame,
    source: &TableSource,
    dmd_bnf: Option<&Arc<DmdBnf>>,
    coded: bool,
) -> LazyFrame {
    let mut aggregates = vec![
        len().cast(DataType::UInt64).alias("n"),
        col(BROKEN).sum().cast(DataType::UInt64).alias(REJECTED),
    ];
    if source.table.name == contract::MEDICATIONS.name {
        // Without the coded columns every valid row has a BNF code.
        let product = if coded {
            product_code_rows(dmd_bnf)
        } else {
            lit(false)
        }
        .filter(col(BROKEN).not());
        aggregates.push(
            product
                .clone()
                .sum()
                .cast(DataType::UInt64)
                .alias(PRODUCT_ROWS),
        );
        aggregates.push(
            product
                .not()
                .sum()
                .cast(DataType::UInt64)
                .alias(SUBSTANCE_ROWS),
        );
        aggregates.push(
            non_medicine_rows(dmd_bnf, coded)
                .filter(col(BROKEN).not())
                .sum()
                .cast(DataType::UInt64)
                .alias(NON_MEDICINE_ROWS),
        );
    }
    if let Some(date) = main_date(source) {
        aggregates.push(
            col(typed(date))
                .filter(col(BROKEN).not())
                .max()
                .cast(DataType::Int32)
                .alias(LAST_DATE),
        );
    }
    for system in code_systems(source) {
        aggregates.push(
            col(typed("code_system"))
                .eq(lit(*system))
                .and(col(BROKEN).not())
                .fill_null(lit(false))
                .sum()
                .cast(DataType::UInt64)
                .alias(system_count(system)),
        );
    }
    checked.select(aggregates)
}

/// The code systems a table's `code_system` column allows (none without one).
fn code_systems(source: &TableSource) -> &'static [&'static str] {
    match source.table.column("code_system").map(|c| c.ty) {
        Some(crate::contract::ColumnType::Code(codes)) => codes,
        _ => &[],
    }
}

fn system_count(system: &str) -> String {
    format!("__rows_{system}")
}

/// Summary columns: valid medications rows counted by product code / by BNF substance.
const PRODUCT_ROWS: &str = "__product_rows";
const SUBSTANCE_ROWS: &str = "__substance_rows";
/// Summary column: valid medications rows in BNF chapters 18–23.
const NON_MEDICINE_ROWS: &str = "__non_medicine_rows";

/// The medications columns under their [`typed`] names (bnf_code, code_system, code).
fn typed_names() -> [String; 3] {
    ["bnf_code", "code_system", "code"].map(typed)
}

/// Whether each medications row counts by product code rather than as a BNF
/// chemical substance ([`contract::ingredient_key`]'s rules 1–3 fail), from
/// the typed columns: plain column tests, no per-row text is built, so the
/// validation pass costs the same on an extract with only BNF codes.
fn product_code_rows(dmd_bnf: Option<&Arc<DmdBnf>>) -> Expr {
    let [bnf, system, code] = typed_names().map(|n| col(n).cast(DataType::String));
    let given = |e: &Expr| e.clone().is_not_null().and(e.clone().neq(lit("")));
    let mut substance = given(&bnf).or(given(&system)
        .and(system.clone().eq(lit("bnf")))
        .and(given(&code)));
    if let Some(map) = dmd_bnf {
        let keys: Series = Series::new("dmd".into(), map.keys().cloned().collect::<Vec<_>>());
        substance = substance.or(system
            .eq(lit("dmd"))
            .and(code.is_in(lit(keys).implode(false), false))
            .fill_null(lit(false)));
    }
    substance.not()
}

/// Whether each medications row's BNF code — `bnf_code`, else `code` of
/// `code_system` bnf, else a dm+d code's mapped BNF code — is in a chapter
/// that holds no medicines (`contract::NON_MEDICINE_BNF_CHAPTERS`), from the
/// typed columns, as [`product_code_rows`] does: the rows that
/// `contract::ingredient_is_medicine` leaves out.
fn non_medicine_rows(dmd_bnf: Option<&Arc<DmdBnf>>, coded: bool) -> Expr {
    let not_medicine = |e: Expr| in_non_medicine_chapter(e).fill_null(lit(false));
    let [bnf, system, code] = typed_names().map(|n| col(n).cast(DataType::String));
    if !coded {
        return not_medicine(bnf);
    }
    let given = |e: &Expr| e.clone().is_not_null().and(e.clone().neq(lit("")));
    let no_bnf = given(&bnf).not();
    let mut out = given(&bnf).and(not_medicine(bnf.clone())).or(no_bnf
        .clone()
        .and(system.clone().eq(lit("bnf")))
        .and(not_medicine(code.clone())));
    if let Some(map) = dmd_bnf {
        let keys: Vec<String> = map
            .iter()
            .filter(|(_, b)| !contract::ingredient_is_medicine(b))
            .map(|(d, _)| d.clone())
            .collect();
        if !keys.is_empty() {
            let keys = Series::new("dmd".into(), keys);
            out = out.or(no_bnf
                .and(system.eq(lit("dmd")))
                .and(code.is_in(lit(keys).implode(false), false)));
        }
    }
    out.fill_null(lit(false))
}

/// The [`contract::ingredient_key`] of each row of the medications columns
/// `names` (bnf_code, code_system, code), as text: elementwise, so it runs
/// inside whatever pass reads the table. `coded` says whether the file has
/// the coded columns at all: without them every row's key is its BNF code's
/// first characters, a plain string slice (the Rust function below builds a
/// string per row, a third of the features pass at 1M people).
pub(crate) fn ingredient_expr(
    names: &[String; 3],
    dmd_bnf: Option<&Arc<DmdBnf>>,
    coded: bool,
) -> Expr {
    if !coded {
        return col(names[0].as_str())
            .cast(DataType::String)
            .str()
            .slice(lit(0), lit(contract::BNF_SUBSTANCE_CHARS as u64));
    }
    let map = dmd_bnf.cloned();
    map_multiple(
        move |columns: &mut [Column]| {
            let text = |k: usize| columns[k].str();
            let (bnf, system, code) = (text(0)?, text(1)?, text(2)?);
            fn given(v: Option<&str>) -> Option<&str> {
                v.filter(|s| !s.is_empty())
            }
            let out: StringChunked = bnf
                .iter()
                .zip(system.iter())
                .zip(code.iter())
                .map(|((b, s), c)| {
                    contract::ingredient_key(given(b), given(s), given(c), map.as_deref())
                })
                .collect();
            Ok(out.with_name(contract::INGREDIENT.into()).into_column())
        },
        names
            .iter()
            .map(|n| col(n.as_str()).cast(DataType::String))
            .collect::<Vec<_>>(),
        |_, _| Ok(Field::new(contract::INGREDIENT.into(), DataType::String)),
    )
}

/// [`contract::ingredient_is_medicine`] of the [`contract::INGREDIENT`]
/// column, elementwise: false for a BNF substance in chapters 18–23. A
/// product key (`dmd:…`, `rxnorm:…`) begins with a letter, never a chapter,
/// so it is a medicine without a test of its own.
pub(crate) fn medicine_expr() -> Expr {
    in_non_medicine_chapter(col(contract::INGREDIENT))
        .not()
        .fill_null(lit(false))
}

/// Whether text starts with one of `contract::NON_MEDICINE_BNF_CHAPTERS`:
/// a chain of prefix tests, elementwise and allocation-free, so it streams
/// with the pass that reads the table (slicing the text and testing
/// membership in a list materialised the whole medications table: 1M
/// people went from 1.2 to 3.8 GiB peak).
fn in_non_medicine_chapter(e: Expr) -> Expr {
    contract::NON_MEDICINE_BNF_CHAPTERS
        .iter()
        .map(|chapter| e.clone().str().starts_with(lit(*chapter)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false))
}

/// Whether a scanned medications file has the coded form's columns
/// (`code_system`, `code`), not only `bnf_code`.
pub(crate) fn has_coded_columns(scanned: &ScannedTable) -> bool {
    scanned
        .columns
        .iter()
        .any(|c| matches!(c.spec.name, "code_system" | "code") && c.parsed.is_some())
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

fn count(counts: &DataFrame, name: &str) -> PolarsResult<u64> {
    Ok(counts.column(name)?.u64()?.get(0).unwrap_or(0))
}

fn rejected(counts: &DataFrame) -> PolarsResult<u64> {
    count(counts, REJECTED)
}

/// The table's report from its collected [`summary_plan`] and [`Rejections`].
pub(crate) fn report_from(
    counts: &DataFrame,
    rejections: Rejections,
    source: &TableSource,
    rules: &[Rule],
    dmd_bnf_given: bool,
) -> Result<TableReport, IngestError> {
    let fail = |e: PolarsError| unreadable(&source.display, &e);
    let mut report = TableReport {
        table: source.table.name.to_string(),
        path: source.display.display().to_string(),
        rows_read: count(counts, "n").map_err(fail)?,
        rows_rejected: rejected(counts).map_err(fail)?,
        issues: Vec::new(),
        last_event_date: None,
        code_systems: Vec::new(),
        medicine_codes: None,
    };
    for system in code_systems(source) {
        let n = count(counts, &system_count(system)).map_err(fail)?;
        report.code_systems.push((system.to_string(), n));
    }
    if source.table.name == contract::MEDICATIONS.name {
        report.medicine_codes = Some(MedicineCodes {
            bnf_substance_rows: count(counts, SUBSTANCE_ROWS).map_err(fail)?,
            product_code_rows: count(counts, PRODUCT_ROWS).map_err(fail)?,
            dmd_bnf_map: dmd_bnf_given,
            non_medicine_rows: count(counts, NON_MEDICINE_ROWS).map_err(fail)?,
        });
    }
    if main_date(source).is_some() {
        report.last_event_date = counts
            .column(LAST_DATE)
            .and_then(|c| c.i32().map(|c| c.get(0)))
            .map_err(fail)?
            .and_then(crate::contract::date_from_epoch_days);
    }
    for (reason, (n, firsts)) in rejections.by_rule {
        let Some(rule) = rules.get(reason as usize) else {
            continue;
        };
        report.issues.push(Issue {
            column: rule.column.to_string(),
            problem: rule.problem.clone(),
            action: Action::RowRejected,
            count: n,
            first_rows: firsts
                .into_sorted_vec()
                .into_iter()
                .map(|l| describe_loc(source, l))
                .collect(),
        });
    }
    report
        .issues
        .sort_by(|a, b| b.count.cmp(&a.count).then(a.column.cmp(&b.column)));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_keep_the_count_and_the_first_rows_of_each_rule_in_any_order() -> PolarsResult<()>
    {
        // Rule 1 breaks at rows 9, 3, 7, 1, 8, 2, 6 (in arrival order); rule 0 at row 5.
        let batches = [
            df!(REASON => [1u32, 1, 0], LOC => [9u64, 3, 5])?,
            df!(REASON => [1u32, 1, 1, 1, 1], LOC => [7u64, 1, 8, 2, 6])?,
        ];
        let mut forward = Rejections::default();
        let mut backward = Rejections::default();
        for b in &batches {
            forward.add(b)?;
        }
        for b in batches.iter().rev() {
            backward.add(b)?;
        }
        for got in [forward, backward] {
            let firsts: Vec<(u32, u64, Vec<u64>)> = got
                .by_rule
                .into_iter()
                .map(|(rule, (n, heap))| (rule, n, heap.into_sorted_vec()))
                .collect();
            assert_eq!(
                firsts,
                [(0, 1, vec![5]), (1, 7, vec![1, 2, 3, 6, 7])],
                "counts, and the five earliest rows in file order"
            );
        }
        Ok(())
    }
}
