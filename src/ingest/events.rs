//! Step 5 of ingest: the event tables, checked in the features' pass.
//!
//! An event table is never read here. Its rows are keyed by person
//! ([`PersonIndex::attach`]) and checked as a lazy plan; its summary (counts
//! and rejections) is registered in the caller's [`Batch`] under the table's
//! name, so that the one streaming pass that derives the features also
//! validates the table (CONTRIBUTING.md, "Reading event tables"). The table's
//! report is built, and its rejection limit applied, once the batch has been
//! collected ([`PendingTable::finish`]).

use std::sync::{Arc, Mutex};

use polars::prelude::*;

use super::IngestError;
use super::batch::{Batch, Collected, Slot};
use super::check::{
    BROKEN, DmdBnf, Rejections, Rule, TableReport, ValidateOptions, check, has_coded_columns,
    ingredient_expr, medicine_expr, plan_table, rejections_sink, report_from, summarise,
    summary_plan, typed_rows,
};
use super::locate::{TableSource, unreadable};
use super::person_index::{PID, PersonIndex};
use super::scan::scan_table;
use crate::contract;

/// An event table whose validation summary is registered in a batch.
pub(super) struct PendingTable {
    pub source: TableSource,
    rules: Vec<Rule>,
    dmd_bnf: Option<Arc<DmdBnf>>,
    /// Whether the file has the medications' coded columns.
    coded: bool,
    /// Every row, raw and typed, with whether it breaks a rule (the summary's input).
    checked: LazyFrame,
    /// The summary's counts.
    slot: Slot,
    /// The pass that fills `rejections` (its own result is empty).
    rejections_slot: Slot,
    rejections: Arc<Mutex<Rejections>>,
}

/// Plans an event table's validation against the patients (`keys`): the lazy
/// plan of its valid rows, and its summary registered in `batch`.
pub(super) fn plan_events(
    source: &TableSource,
    keys: &Arc<PersonIndex>,
    options: &ValidateOptions,
    batch: &mut Batch,
) -> Result<(LazyFrame, PendingTable), IngestError> {
    let scanned = scan_table(source)?;
    let coded = has_coded_columns(&scanned);
    let plan = plan_table(source, &scanned, options);
    let person = plan.values[0].clone();
    let checked = check(keys.attach(scanned.raw.with_column(person)), &plan);
    let slot = batch.add(
        source.table.name,
        summary_plan(checked.clone(), source, options.dmd_bnf.as_ref(), coded),
    );
    let rejections = Arc::new(Mutex::new(Rejections::default()));
    let sink = rejections_sink(checked.clone(), &plan.rules, Arc::clone(&rejections))
        .map_err(|e| unreadable(&source.display, &e))?;
    let rejections_slot = batch.add(source.table.name, sink);
    // Raw columns are dropped before the filter, so that it copies only the typed ones.
    let mut rows = typed_rows(checked.clone(), &plan, &[PID, BROKEN])
        .filter(col(BROKEN).not())
        .drop(cols(["person_id", BROKEN]));
    if source.table.name == contract::MEDICATIONS.name {
        // The ingredient each row counts as (contract::ingredient_key), for
        // the features that read it; unused, it is never computed.
        let names = ["bnf_code", "code_system", "code"].map(String::from);
        rows = rows
            .with_column(
                ingredient_expr(&names, options.dmd_bnf.as_ref(), coded)
                    .alias(contract::INGREDIENT),
            )
            .with_column(medicine_expr().alias(contract::MEDICINE));
    }
    let pending = PendingTable {
        source: source.clone(),
        rules: plan.rules,
        dmd_bnf: options.dmd_bnf.clone(),
        coded,
        checked,
        slot,
        rejections_slot,
        rejections,
    };
    Ok((rows, pending))
}

impl PendingTable {
    /// Summarises the table in its own passes, to name it when a shared
    /// pass failed: its error, or `None` if it reads cleanly alone.
    pub(super) fn fails_alone(&self) -> Option<IngestError> {
        let checked = self.checked.clone();
        summarise(
            checked.clone(),
            checked,
            &self.source,
            &self.rules,
            self.dmd_bnf.as_ref(),
            self.coded,
        )
        .err()
    }

    /// The table's report from the collected batch, after its rejection limit.
    pub(super) fn finish(
        self,
        collected: &mut Collected,
        max_reject_fraction: f64,
    ) -> Result<TableReport, IngestError> {
        let fail = |e: PolarsError| unreadable(&self.source.display, &e);
        let counts = collected.take(self.slot).map_err(fail)?;
        collected.take(self.rejections_slot).map_err(fail)?;
        let rejections = std::mem::take(
            &mut *self
                .rejections
                .lock()
                .map_err(|_| fail(polars_err!(ComputeError: "a validation pass panicked")))?,
        );
        let report = report_from(
            &counts,
            rejections,
            &self.source,
            &self.rules,
            self.dmd_bnf.is_some(),
        )?;
        report.check_threshold(&self.source, max_reject_fraction)?;
        Ok(report)
    }
}
