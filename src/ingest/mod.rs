//! Ingest: find each contract table in an extract folder, check every row,
//! and hand on typed, validated tables keyed by an integer person id.
//!
//! The steps, in order; each is one file, and calls only the steps before it:
//!
//! 1. `locate`: find each table's files in the folder (CSV, Parquet, a
//!    folder of Parquet parts); a missing `patients` or an ambiguous table is
//!    fatal. Another kind of extract (FHIR, OMOP) would be recognised here.
//! 2. `scan`: scan a table's files lazily, check its columns against the
//!    contract and type each contract column.
//! 3. `check`: the row rules, the rejected rows' reasons and first rows,
//!    each table's [`TableReport`] and its rejection limit.
//! 4. `patients`: read and check the patients table in full and number the
//!    valid patients ([`PID`]); `person_index` then keys event rows by it.
//! 5. `events`: key and check each event table as a lazy plan, its summary
//!    registered in a [`Batch`] to share the features' pass.
//! 6. [`reference`](mod@reference): each patient's IMD decile, by LSOA.
//!
//! [`open_extract`] runs them and returns a [`PendingExtract`]: patients are
//! materialised, event tables stay lazy. The caller adds its own plans to the
//! batch, collects it ([`batch`]: one streaming pass per table) and
//! [`PendingExtract::finish`]es the extract, which applies the rejection
//! limits; [`load_extract`] does all of that when nothing else shares the pass.
//! This module never logs or reports identifying values, only row numbers.

pub mod batch;
mod check;
mod error;
mod events;
mod locate;
mod patients;
mod person_index;
pub mod reference;
mod scan;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;

pub use batch::{Batch, Collected, Slot, collect_streaming, left_join_in_order};
pub use check::{Action, DmdBnf, Issue, MedicineCodes, TableReport, ValidateOptions};
pub use error::IngestError;
use events::PendingTable;
pub use locate::{FileFormat, LocatedTables, TableSource, locate_tables};
pub use person_index::PID;
use person_index::PersonIndex;
pub use reference::ImdSource;

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

/// Finds the tables, checks files, columns and patients now, and registers
/// each event table's validation summary in `batch`.
pub fn open_extract(
    dir: &Path,
    options: &ValidateOptions,
    batch: &mut Batch,
) -> Result<PendingExtract, IngestError> {
    let located = locate_tables(dir)?;
    let mut tables = Vec::new();
    let (patients, patients_report) = patients::load_patients(&located.patients, options)?;
    tables.push(TableState::Reported(patients_report));
    let keys = Arc::new(
        PersonIndex::new(&patients)
            .map_err(|e| locate::unreadable(&located.patients.display, &e))?,
    );
    let mut events = BTreeMap::new();
    for source in &located.events {
        let (rows, pending) = events::plan_events(source, &keys, options, batch)?;
        tables.push(TableState::Pending(Box::new(pending)));
        let source = source.clone();
        events.insert(source.table.name, EventTable { source, rows });
    }
    let (patients, imd, imd_report) = reference::attach_imd_deciles(
        patients,
        &located.patients,
        located.lsoa_imd.as_ref(),
        options,
    )?;
    tables.extend(imd_report.map(TableState::Reported));
    Ok(PendingExtract {
        extract: Extract {
            dir: dir.to_path_buf(),
            patients,
            events,
            report: ValidationReport {
                tables: Vec::new(),
                imd,
                files: located.files(),
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
        self.tables
            .iter()
            .find_map(|t| match t {
                TableState::Pending(table) => table.fails_alone(),
                TableState::Reported(_) => None,
            })
            .unwrap_or_else(|| locate::unreadable(&self.extract.dir, e))
    }

    /// Builds each event table's report from the collected summaries and
    /// applies the rejection limit: the extract is valid only after this.
    pub fn finish(self, collected: &mut Collected) -> Result<Extract, IngestError> {
        let mut extract = self.extract;
        for table in self.tables {
            let report = match table {
                TableState::Reported(report) => report,
                TableState::Pending(table) => table.finish(collected, self.max_reject_fraction)?,
            };
            extract.report.tables.push(report);
        }
        Ok(extract)
    }
}
