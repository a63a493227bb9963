//! Ingest: find each contract table in an extract folder, check every row,
//! and hand on typed, validated tables keyed by an integer person id.
//!
//! Patients are small (one row per person) and are materialised; event tables
//! stay lazy, so the features stage reads each of them in one streaming pass.
//! This module never logs or reports identifying values, only row numbers.

pub mod batch;
mod error;
mod parse;
mod person_index;
pub mod reference;
pub mod source;
pub mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use polars::prelude::*;

use crate::contract::{self, TableSpec};
pub use batch::{Batch, Collected, Slot};
pub use error::IngestError;
use person_index::PersonIndex;
pub use source::{FileFormat, TableSource};
pub use validate::{Action, Issue, PID, TableReport, ValidateOptions};
use validate::{
    BROKEN, LOC, Rejections, check, loc_expr, plan_table, rejections_sink, report_from, summarise,
    summary_plan, typed, typed_rows,
};

/// A validated event table: the lazy plan of its valid rows (contract
/// columns, typed, plus [`PID`]) and where it came from.
#[derive(Clone)]
pub struct EventTable {
    pub source: TableSource,
    pub rows: LazyFrame,
}

/// A validated extract, ready for feature derivation.
#[derive(Clone)]
pub struct Extract {
    pub dir: PathBuf,
    /// Valid patients, one row each, with [`PID`] = row number (0-based) and `imd_decile`.
    pub patients: DataFrame,
    /// Validated event tables that the extract has, by table name.
    pub events: BTreeMap<&'static str, EventTable>,
    pub report: ValidationReport,
}

impl Extract {
    /// The valid rows of an event table, if the extract has it.
    pub fn table(&self, name: &str) -> Option<&LazyFrame> {
        self.events.get(name).map(|t| &t.rows)
    }
}

/// Where the IMD deciles came from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImdSource {
    /// `extract` (its `lsoa_imd` table) or `built-in IMD 2025`.
    pub source: String,
    /// Patients whose LSOA is given but not in the table (their decile is null).
    pub unmatched_lsoa: u64,
}

/// Everything validation found, table by table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ValidationReport {
    pub tables: Vec<TableReport>,
    pub imd: ImdSource,
    /// Every file read, in table order.
    #[serde(skip)]
    pub files: Vec<PathBuf>,
}

impl ValidationReport {
    /// The report for `table`, if the extract has it.
    pub fn table(&self, table: &str) -> Option<&TableReport> {
        self.tables.iter().find(|t| t.table == table)
    }
}

/// Runs a plan on Polars' streaming engine: event tables are processed in
/// morsels, so memory stays bounded as the extract grows (measured at 1M people:
/// `strata run` peak RSS 9.0 → 3.7 GiB and 355 → 106 s wall; docs/performance.md).
pub fn collect_streaming(plan: LazyFrame) -> PolarsResult<DataFrame> {
    Ok(plan.collect_with_engine(Engine::Streaming)?.unwrap_single())
}

/// A left join that keeps the left frame's row order, so results never
/// depend on hash-table iteration order.
pub fn left_join_in_order() -> JoinArgs {
    let mut args = JoinArgs::new(JoinType::Left);
    args.maintain_order = MaintainOrderJoin::Left;
    args
}

/// Reads and validates the extract in `dir`.
pub fn load_extract(dir: &Path, options: &ValidateOptions) -> Result<Extract, IngestError> {
    let mut batch = Batch::new();
    let pending = open_extract(dir, options, &mut batch)?;
    let mut collected = pending.collect(batch)?;
    pending.finish(&mut collected)
}

/// An extract whose event tables are planned but not yet counted. Its
/// patients, IMD deciles and lazy event tables are ready, so later stages can
/// plan their work on it ([`PendingExtract::extract`]); the event tables'
/// validation summaries wait in a [`Batch`], so that one pass over each table
/// both validates it and feeds the features ([`PendingExtract::finish`]).
pub struct PendingExtract {
    extract: Extract,
    /// Every table in report order.
    tables: Vec<TableState>,
    max_reject_fraction: f64,
}

/// A table of a pending extract: already reported, or waiting for its summary.
enum TableState {
    Reported(TableReport),
    Pending(Box<PendingTable>),
}

/// An event table whose validation summary is registered in a batch.
struct PendingTable {
    source: TableSource,
    rules: Vec<validate::Rule>,
    /// Every row, raw and typed, with whether it breaks a rule (the summary's input).
    checked: LazyFrame,
    /// The summary's counts.
    slot: Slot,
    /// The pass that fills `rejections` (its own result is empty).
    rejections_slot: Slot,
    rejections: Arc<Mutex<Rejections>>,
}

/// Checks files, columns and patients now, and registers each event table's
/// validation summary in `batch`.
pub fn open_extract(
    dir: &Path,
    options: &ValidateOptions,
    batch: &mut Batch,
) -> Result<PendingExtract, IngestError> {
    if !dir.is_dir() {
        return Err(IngestError::MissingExtract {
            dir: dir.to_path_buf(),
        });
    }
    let mut tables = Vec::new();
    let mut files = Vec::new();
    let patients_source = require(dir, &contract::PATIENTS)?;
    files.extend(patients_source.files.iter().cloned());
    let (patients, patients_report) = load_patients(&patients_source, options)?;
    tables.push(TableState::Reported(patients_report));

    let keys = Arc::new(
        PersonIndex::new(&patients)
            .map_err(|e| source::unreadable(&patients_source.display, &e))?,
    );
    let mut events = BTreeMap::new();
    for spec in contract::TABLES.iter().filter(|t| t.per_person) {
        let Some(source) = find(dir, spec)? else {
            continue;
        };
        files.extend(source.files.iter().cloned());
        let (rows, pending) = plan_events(&source, &keys, options, batch)?;
        tables.push(TableState::Pending(Box::new(pending)));
        events.insert(spec.name, EventTable { source, rows });
    }

    let (imd_table, imd_label) = match find(dir, &contract::LSOA_IMD)? {
        Some(source) => {
            files.extend(source.files.iter().cloned());
            let (lf, report) = load_reference(&source, options)?;
            tables.push(TableState::Reported(report));
            (lf, "extract".to_string())
        }
        None => (
            reference::builtin_imd()?,
            reference::BUILTIN_IMD_LABEL.to_string(),
        ),
    };
    let (patients, unmatched) = attach_imd(patients, imd_table, &patients_source)?;
    Ok(PendingExtract {
        extract: Extract {
            dir: dir.to_path_buf(),
            patients,
            events,
            report: ValidationReport {
                tables: Vec::new(),
                imd: ImdSource {
                    source: imd_label,
                    unmatched_lsoa: unmatched,
                },
                files,
            },
        },
        tables,
        max_reject_fraction: options.max_reject_fraction,
    })
}

impl PendingExtract {
    /// The extract as far as it is known: patients and lazy event tables are
    /// ready to plan on; its validation report is empty until [`Self::finish`].
    pub fn extract(&self) -> &Extract {
        &self.extract
    }

    /// Runs `batch` (which holds this extract's summaries and whatever the
    /// caller added). If the pass fails, each table is summarised alone to
    /// name the file at fault.
    pub fn collect(&self, batch: Batch) -> Result<Collected, IngestError> {
        batch.collect().map_err(|e| self.explain(&e))
    }

    /// The error of the first table that fails on its own, or `e` itself.
    fn explain(&self, e: &PolarsError) -> IngestError {
        let pending = self.tables.iter().filter_map(|t| match t {
            TableState::Pending(p) => Some(p),
            TableState::Reported(_) => None,
        });
        for table in pending {
            let checked = table.checked.clone();
            if let Err(own) = summarise(checked.clone(), checked, &table.source, &table.rules) {
                return own;
            }
        }
        source::unreadable(&self.extract.dir, e)
    }

    /// Builds each event table's report from the collected summaries and
    /// applies the rejection limit: the extract is valid only after this.
    pub fn finish(self, collected: &mut Collected) -> Result<Extract, IngestError> {
        let mut extract = self.extract;
        for table in self.tables {
            let report = match table {
                TableState::Reported(report) => report,
                TableState::Pending(pending) => {
                    let fail = |e: PolarsError| source::unreadable(&pending.source.display, &e);
                    let counts = collected.take(pending.slot).map_err(fail)?;
                    collected.take(pending.rejections_slot).map_err(fail)?;
                    let rejections =
                        std::mem::take(&mut *pending.rejections.lock().map_err(|_| {
                            fail(polars_err!(ComputeError: "a validation pass panicked"))
                        })?);
                    let report = report_from(&counts, rejections, &pending.source, &pending.rules)?;
                    report.check_threshold(&pending.source, self.max_reject_fraction)?;
                    report
                }
            };
            extract.report.tables.push(report);
        }
        Ok(extract)
    }
}

fn find(dir: &Path, spec: &'static TableSpec) -> Result<Option<TableSource>, IngestError> {
    source::find_table(dir, spec)
}

fn require(dir: &Path, spec: &'static TableSpec) -> Result<TableSource, IngestError> {
    find(dir, spec)?.ok_or_else(|| IngestError::MissingTable {
        dir: dir.to_path_buf(),
        table: spec.name.to_string(),
    })
}

/// Parses and checks patients, removes malformed NHS numbers, rejects
/// duplicate person ids (fatal) and numbers the valid rows as [`PID`].
fn load_patients(
    source: &TableSource,
    options: &ValidateOptions,
) -> Result<(DataFrame, TableReport), IngestError> {
    let (raw, schema) = source::scan(source)?;
    let plan = plan_table(source, &schema, options)?;
    let checked = check(raw, &plan);
    // Typed values (under their typed names), whether each row breaks a rule, and where it is.
    let mut kept: Vec<Expr> = plan.names.iter().map(|n| col(typed(n))).collect();
    kept.extend([col(BROKEN), loc_expr()]);
    let counted = checked
        .clone()
        .select(kept)
        .collect()
        .map_err(|e| source::unreadable(&source.display, &e))?;
    // The same columns under their contract names (no copy: columns are shared).
    let all = typed_rows(counted.clone().lazy(), &plan, &[BROKEN, LOC])
        .collect()
        .map_err(|e| source::unreadable(&source.display, &e))?;
    check_duplicates(&all, source)?;
    let mut report = summarise(counted.lazy(), checked, source, &plan.rules)?;
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
        .map_err(|e| source::unreadable(&source.display, &e))?;
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
        .map_err(|e| source::unreadable(&source.display, &e))?;
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
        .map_err(|e| source::unreadable(&source.display, &e))?;
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
                .map(|l| validate::describe_loc(source, *l))
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
        .map_err(|e| source::unreadable(&source.display, &e))?;
    let nhs = df
        .column("nhs_number")
        .and_then(|c| c.str().cloned())
        .map_err(|e| source::unreadable(&source.display, &e))?;
    let locs = df
        .column(LOC)
        .and_then(|c| c.u64().cloned())
        .map_err(|e| source::unreadable(&source.display, &e))?;
    // Checked first, and a cleaned copy made only when some number fails.
    let mut bad_locs: Vec<u64> = nhs
        .iter()
        .zip(locs.iter())
        .filter(|(v, _)| v.is_some_and(|v| !contract::nhs_number_is_valid(v)))
        .map(|(_, loc)| loc.unwrap_or(0))
        .collect();
    if bad_locs.is_empty() {
        return Ok((df.lazy(), None));
    }
    let cleaned: StringChunked = nhs
        .iter()
        .map(|v| v.filter(|v| contract::nhs_number_is_valid(v)))
        .collect();
    df.with_column(cleaned.with_name("nhs_number".into()).into_column())
        .map_err(|e| source::unreadable(&source.display, &e))?;
    bad_locs.sort_unstable();
    let issue = Issue {
        column: "nhs_number".into(),
        problem: format!("not {}", contract::ColumnType::NhsNumber.expectation()),
        action: Action::ValueRemoved,
        count: bad_locs.len() as u64,
        first_rows: bad_locs
            .iter()
            .take(validate::EXAMPLE_ROWS)
            .map(|l| validate::describe_loc(source, *l))
            .collect(),
    };
    Ok((df.lazy(), Some(issue)))
}

/// Plans an event table's validation against the patients (`keys`): the lazy
/// plan of its valid rows, and its summary registered in `batch`.
fn plan_events(
    source: &TableSource,
    keys: &Arc<PersonIndex>,
    options: &ValidateOptions,
    batch: &mut Batch,
) -> Result<(LazyFrame, PendingTable), IngestError> {
    let (raw, schema) = source::scan(source)?;
    let plan = plan_table(source, &schema, options)?;
    let person = plan.values[0].clone();
    let checked = check(keys.attach(raw.with_column(person)), &plan);
    let slot = batch.add(source.table.name, summary_plan(checked.clone(), source));
    let rejections = Arc::new(Mutex::new(Rejections::default()));
    let sink = rejections_sink(checked.clone(), &plan.rules, Arc::clone(&rejections))
        .map_err(|e| source::unreadable(&source.display, &e))?;
    let rejections_slot = batch.add(source.table.name, sink);
    // Raw columns are dropped before the filter, so that it copies only the typed ones.
    let rows = typed_rows(checked.clone(), &plan, &[PID, BROKEN])
        .filter(col(BROKEN).not())
        .drop(cols(["person_id", BROKEN]));
    let pending = PendingTable {
        source: source.clone(),
        rules: plan.rules,
        checked,
        slot,
        rejections_slot,
        rejections,
    };
    Ok((rows, pending))
}

/// Validates a reference table (no person key) and returns its valid rows.
fn load_reference(
    source: &TableSource,
    options: &ValidateOptions,
) -> Result<(LazyFrame, TableReport), IngestError> {
    let (raw, schema) = source::scan(source)?;
    let plan = plan_table(source, &schema, options)?;
    let checked = check(raw, &plan);
    let report = summarise(checked.clone(), checked.clone(), source, &plan.rules)?;
    report.check_threshold(source, options.max_reject_fraction)?;
    Ok((
        typed_rows(checked, &plan, &[BROKEN])
            .filter(col(BROKEN).not())
            .drop(cols([BROKEN])),
        report,
    ))
}

/// Joins each patient's IMD decile by LSOA and counts LSOAs not found.
fn attach_imd(
    patients: DataFrame,
    imd: LazyFrame,
    source: &TableSource,
) -> Result<(DataFrame, u64), IngestError> {
    let imd = imd
        .select([col("lsoa"), col("imd_decile")])
        .unique(None, UniqueKeepStrategy::First);
    let joined = patients
        .lazy()
        .join(imd, [col("lsoa")], [col("lsoa")], left_join_in_order())
        .collect()
        .map_err(|e| source::unreadable(&source.display, &e))?;
    let unmatched = joined
        .column("lsoa")
        .map(|c| c.is_not_null())
        .and_then(|has| joined.column("imd_decile").map(|d| (has, d.is_null())))
        .map(|(has, missing)| (&has & &missing).sum().unwrap_or(0) as u64)
        .map_err(|e| source::unreadable(&source.display, &e))?;
    Ok((joined, unmatched))
}

impl Extract {
    /// The latest valid event date in the extract (the default as-of date),
    /// found by validation: no extra pass over the data.
    pub fn last_event_date(&self) -> Option<chrono::NaiveDate> {
        self.report
            .tables
            .iter()
            .filter_map(|t| t.last_event_date)
            .max()
    }
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
