//! Human-readable text for the terminal. Aggregates and row numbers only.

use std::fmt::Write;
use std::path::Path;

use strata::ingest::{Action, ValidationReport};
use strata::model::ModelFile;
use strata::pipeline::RunOutcome;

/// The per-table validation report.
pub fn validation(report: &ValidationReport, coverage: &[String]) -> String {
    let mut out = String::new();
    for t in &report.tables {
        let _ = writeln!(
            out,
            "{:<13} {:>12} rows read {:>10} rejected   {}",
            t.table, t.rows_read, t.rows_rejected, t.path
        );
        for i in &t.issues {
            let action = match i.action {
                Action::RowRejected => "rows rejected",
                Action::ValueRemoved => "values removed",
            };
            let _ = writeln!(
                out,
                "    {:>10} {action}: `{}` {} (first at rows {})",
                i.count,
                i.column,
                i.problem,
                i.first_rows.join(", ")
            );
        }
    }
    let _ = writeln!(
        out,
        "IMD deciles: {}; {} patients with an LSOA not in the table",
        report.imd.source, report.imd.unmatched_lsoa
    );
    for t in report.tables.iter().filter(|t| !t.code_systems.is_empty()) {
        let systems: Vec<String> = t
            .code_systems
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        let _ = writeln!(out, "{} by code system: {}", t.table, systems.join(", "));
    }
    if coverage.is_empty() {
        let _ = writeln!(out, "coverage: every feature source is present");
    }
    for w in coverage {
        let _ = writeln!(out, "coverage warning: {w}");
    }
    out
}

/// One paragraph after a run.
pub fn run_summary(outcome: &RunOutcome) -> String {
    let m = &outcome.manifest;
    let tiers: Vec<String> = m
        .tier_counts
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    format!(
        "published run {} (as of {}) to {}\n{} people scored with model {}: {}",
        m.run_id,
        m.as_of,
        outcome.run_dir.display(),
        m.people_scored,
        m.model.model_id,
        tiers.join(", ")
    )
}

/// One paragraph after training.
pub fn trained(model: &ModelFile, path: &Path) -> String {
    format!(
        "wrote {} ({}): trained on {} people at {}, outcome prevalence {:.3}, alpha {}; holdout AUC {}, Brier {} (n = {}; counts rounded for disclosure control)",
        path.display(),
        model.model_id,
        model.training.n_train,
        model.training.index_date,
        model.training.outcome_prevalence,
        model.training.alpha,
        model
            .holdout
            .auc
            .map_or("withheld".into(), |a| format!("{a:.3}")),
        model
            .holdout
            .brier
            .map_or("withheld".into(), |b| format!("{b:.4}")),
        model.holdout.n
    )
}
