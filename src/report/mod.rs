//! Self-contained HTML reports: one page per run (`report.html` in the run
//! directory) and one per model evaluation.
//!
//! - [`write_run_report`] reads **only aggregate files** of a published run —
//!   `manifest.json` and `summaries/*.parquet` — never `patient_risk/` or
//!   `clinical_lists/`, which are person-level. Counts taken from the
//!   manifest (whole-population tier, segment and score-bin counts) pass
//!   through the same disclosure control as `summaries/`
//!   ([`crate::governance::disclosure::protect`]) before they are shown, so the
//!   page never shows an unprotected small count: a withheld count reads
//!   "≤7", never 0.
//! - [`write_evaluation_report`] renders an
//!   [`Evaluation`](crate::model::evaluate::Evaluation): ROC and
//!   precision–recall curves, calibration by decile with 95% intervals, PPV
//!   and sensitivity at the top shares, subgroups with their fairness flags,
//!   and the oracle comparison on synthetic data.
//!
//! Pages load nothing: no scripts, no fonts, no network requests (a
//! Content-Security-Policy forbids them); charts are SVG drawn by `plotters`
//! and inlined; CSS uses the system font stack and has print rules.

mod charts;
mod evaluation;
mod html;
mod run;

use std::path::{Path, PathBuf};

pub use evaluation::write_evaluation_report;
pub use html::escape;
pub use run::{REPORT_FILE, write_run_report};

/// Ids of every section, chart and table of each report, for tests that
/// check a rendered page is complete.
pub mod ids {
    pub use super::evaluation::{
        CHART_IDS as EVALUATION_CHARTS, SECTION_IDS as EVALUATION_SECTIONS,
        TABLE_IDS as EVALUATION_TABLES,
    };
    pub use super::run::{
        CHART_IDS as RUN_CHARTS, SECTION_IDS as RUN_SECTIONS, TABLE_IDS as RUN_TABLES,
    };
}

/// Why a report could not be written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {problem}")]
    Invalid { path: PathBuf, problem: String },
    #[error("{path}: reading Parquet: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: polars::error::PolarsError,
    },
    #[error("{path}: chart `{chart}`: {reason}")]
    Chart {
        path: PathBuf,
        chart: &'static str,
        reason: String,
    },
    #[error("{path}: disclosure control refused the counts: {source}")]
    Disclosure {
        path: PathBuf,
        #[source]
        source: crate::governance::disclosure::DisclosureError,
    },
}

impl ReportError {
    fn chart(path: &Path) -> impl Fn(charts::ChartError) -> ReportError + '_ {
        move |e| ReportError::Chart {
            path: path.to_path_buf(),
            chart: e.chart,
            reason: e.reason,
        }
    }
}

impl ReportError {
    /// The exit class an operator acts on: a report is an output.
    pub fn class(&self) -> crate::error::ExitClass {
        crate::error::ExitClass::Publication
    }
}

/// Writes `text` to `path` through a temporary file and a rename, so a
/// reader never sees half a page.
fn write_atomically(path: &Path, text: &str) -> Result<(), ReportError> {
    let tmp = path.with_extension("html.tmp");
    let io = |action, source| ReportError::Io {
        path: path.to_path_buf(),
        action,
        source,
    };
    std::fs::write(&tmp, text).map_err(|e| io("writing", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("renaming the finished report into place", e))
}

/// 1234567 → "1,234,567"; fractional numbers get sensible precision.
pub(crate) fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format_count(v.abs() as u64, v < 0.0);
    }
    if v.abs() >= 100.0 {
        return format_count(v.abs().round() as u64, v < 0.0);
    }
    if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Thousands separators.
pub(crate) fn format_count(n: u64, negative: bool) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if negative { format!("−{out}") } else { out }
}

/// A share as a percentage with precision that suits its size.
pub(crate) fn format_percent(share: f64) -> String {
    let p = share * 100.0;
    if !p.is_finite() {
        "–".into()
    } else if p == 0.0 {
        "0%".into()
    } else if p.abs() < 1.0 {
        format!("{p:.2}%")
    } else if p.abs() < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_formatted_for_people() {
        assert_eq!(format_number(4842.0), "4,842");
        assert_eq!(format_number(1234567.0), "1,234,567");
        assert_eq!(format_number(322.571), "323");
        assert_eq!(format_number(23.37), "23.4");
        assert_eq!(format_number(0.0714), "0.07");
        assert_eq!(format_number(-1500.0), "−1,500");
        assert_eq!(format_percent(0.005), "0.50%");
        assert_eq!(format_percent(0.045), "4.5%");
        assert_eq!(format_percent(0.8), "80%");
    }
}
