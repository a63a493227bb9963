//! The run report: `report.html` in a published run directory, from the
//! manifest and the disclosure-controlled summaries only.
//!
//! Must never read `patient_risk/` or `clinical_lists/` (person-level) and
//! never show a count that has not passed disclosure control: counts from
//! the manifest are protected here with the run's own disclosure profile,
//! counts from `summaries/` were protected when they were written.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::charts::{self, Bar, Column, PyramidBand};
use super::html::{self, Page, Status, Table, Td, callout, columns, figure, note, p, tile, tiles};
use super::{ReportError, format_count, format_number, format_percent, write_atomically};
use crate::outputs::disclosure::{
    Cell, DisclosureProfile, GroupRow, MIDPOINT6_SUFFIX, REDACTED_SUFFIX, SummaryTable, TableSpec,
    protect,
};
use crate::outputs::manifest::Manifest;

/// The report's file name inside the run directory.
pub const REPORT_FILE: &str = "report.html";

/// Ids of the page's sections, in order (the browser test checks them).
pub const SECTION_IDS: &[&str] = &[
    "run-summary",
    "risk-pyramid",
    "tiers-and-segments",
    "score-distribution",
    "drift",
    "neighbourhoods",
    "data-quality",
];

/// Ids of the charts of a run report.
pub const CHART_IDS: &[&str] = &[
    "chart-risk-pyramid",
    "chart-segments",
    "chart-score-distribution",
    "chart-neighbourhoods",
];

/// Ids of the tables of a run report.
pub const TABLE_IDS: &[&str] = &[
    "table-inputs",
    "table-stages",
    "table-tiers",
    "table-tier-segment",
    "table-drift",
    "table-lsoa",
    "table-pcn",
    "table-imd",
    "table-data-quality",
];

/// Writes `run_dir/report.html` from `run_dir/manifest.json` and
/// `run_dir/summaries/*.parquet`; returns the report's path.
pub fn write_run_report(run_dir: &Path) -> Result<PathBuf, ReportError> {
    let html = render_run_report(run_dir)?;
    let path = run_dir.join(REPORT_FILE);
    write_atomically(&path, &html)?;
    Ok(path)
}

/// A figure ready to show: a published number, withheld, or not applicable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Figure {
    Count(u64),
    Number(f64),
    Redacted,
    Missing,
}

impl Figure {
    fn of_cell(cell: &Cell<u64>) -> Figure {
        match (cell.value, cell.is_redacted()) {
            (_, true) => Figure::Redacted,
            (Some(v), false) => Figure::Count(v),
            (None, false) => Figure::Missing,
        }
    }

    fn value(self) -> Option<f64> {
        match self {
            Figure::Count(n) => Some(n as f64),
            Figure::Number(v) => Some(v),
            _ => None,
        }
    }
}

/// How figures are shown: withheld counts as "≤t".
#[derive(Debug, Clone, Copy)]
struct Shower {
    threshold: u64,
}

impl Shower {
    fn text(self, f: Figure) -> String {
        match f {
            Figure::Count(n) => format_count(n, false),
            Figure::Number(v) => format_number(v),
            Figure::Redacted => format!("≤{}", self.threshold),
            Figure::Missing => "–".into(),
        }
    }

    fn td(self, f: Figure) -> Td {
        match f {
            Figure::Redacted => Td::redacted(self.text(f)),
            _ => Td::num(self.text(f)),
        }
    }

    fn value_td(self, f: Figure) -> Td {
        match f {
            Figure::Redacted => Td::redacted("redacted"),
            _ => Td::num(self.text(f)),
        }
    }

    fn people(self, f: Figure) -> String {
        match f {
            Figure::Count(1) => "1 person".into(),
            Figure::Missing => "not available".into(),
            _ => format!("{} people", self.text(f)),
        }
    }
}

/// Manifest counts after disclosure control.
struct ProtectedCounts {
    people: Figure,
    tiers: Vec<(String, Figure)>,
    segments: Vec<(String, Figure)>,
    /// Per risk bin, aligned with `manifest.distribution.risk_bin_shares`.
    bins: Vec<Figure>,
    bins_total: Figure,
    imd_unmatched: Figure,
}

/// Protects the manifest's whole-population counts as one summary row:
/// people, tiers and segments as partitions of people, risk bins as a
/// partition of their own total, unmatched LSOAs as a subset. If the
/// partitions do not add up (an older manifest), each list is protected on
/// its own as subsets, which is stricter.
fn protect_manifest_counts(
    manifest: &Manifest,
    profile: &DisclosureProfile,
    path: &Path,
) -> Result<ProtectedCounts, ReportError> {
    let bins_total = manifest.distribution.people;
    let bins: Vec<u64> = manifest
        .distribution
        .risk_bin_shares
        .iter()
        .map(|s| (s * bins_total as f64).round().max(0.0) as u64)
        .collect();
    let tier_cols: Vec<String> = manifest
        .tier_counts
        .iter()
        .map(|(t, _)| format!("tier_{t}"))
        .collect();
    let segment_cols: Vec<String> = manifest
        .segment_counts
        .iter()
        .map(|(s, _)| format!("segment_{s}"))
        .collect();
    let bin_cols: Vec<String> = (0..bins.len()).map(|i| format!("bin_{i}")).collect();
    let disclosure = |source| ReportError::Disclosure {
        path: path.to_path_buf(),
        source,
    };

    // One table: people = Σ tiers = Σ segments; unmatched ⊂ people.
    let mut spec = TableSpec::new("group", "people");
    if !tier_cols.is_empty() {
        spec = spec.partition("tier", tier_cols.clone());
    }
    if !segment_cols.is_empty() {
        spec = spec.partition("segment", segment_cols.clone());
    }
    spec = spec.subset("imd_unmatched");
    let mut counts = vec![manifest.people_scored];
    counts.extend(manifest.tier_counts.iter().map(|(_, n)| *n));
    counts.extend(manifest.segment_counts.iter().map(|(_, n)| *n));
    counts.push(manifest.imd_unmatched_lsoa);
    let table = SummaryTable {
        spec,
        rows: vec![GroupRow {
            label: "all".into(),
            counts: counts.clone(),
            values: vec![],
        }],
    };
    let (people, tiers, segments, imd_unmatched) = match protect(&table, profile) {
        Ok(t) => {
            let cells: Vec<Figure> = t.rows[0].counts.iter().map(Figure::of_cell).collect();
            let nt = tier_cols.len();
            let ns = segment_cols.len();
            (
                cells[0],
                cells[1..1 + nt].to_vec(),
                cells[1 + nt..1 + nt + ns].to_vec(),
                cells[1 + nt + ns],
            )
        }
        Err(_) => {
            // Each count as a subset of people: primary suppression of
            // small counts and small complements, no partition arithmetic.
            let mut spec = TableSpec::new("group", "people");
            for c in tier_cols.iter().chain(&segment_cols) {
                spec = spec.subset(c.clone());
            }
            spec = spec.subset("imd_unmatched");
            let table = SummaryTable {
                spec,
                rows: vec![GroupRow {
                    label: "all".into(),
                    counts: counts
                        .iter()
                        .map(|&c| c.min(manifest.people_scored))
                        .collect(),
                    values: vec![],
                }],
            };
            let t = protect(&table, profile).map_err(disclosure)?;
            let cells: Vec<Figure> = t.rows[0].counts.iter().map(Figure::of_cell).collect();
            let nt = tier_cols.len();
            let ns = segment_cols.len();
            (
                cells[0],
                cells[1..1 + nt].to_vec(),
                cells[1 + nt..1 + nt + ns].to_vec(),
                cells[1 + nt + ns],
            )
        }
    };

    // The score distribution: counts per bin, a partition of its total.
    let (bins_total_fig, bin_figs) = if bins.is_empty() {
        (Figure::Missing, Vec::new())
    } else {
        let sum: u64 = bins.iter().sum();
        let spec = TableSpec::new("group", "people").partition("risk_bin", bin_cols.clone());
        let table = SummaryTable {
            spec,
            rows: vec![GroupRow {
                label: "all".into(),
                counts: std::iter::once(sum).chain(bins.iter().copied()).collect(),
                values: vec![],
            }],
        };
        let t = protect(&table, profile).map_err(disclosure)?;
        let cells: Vec<Figure> = t.rows[0].counts.iter().map(Figure::of_cell).collect();
        (cells[0], cells[1..].to_vec())
    };

    Ok(ProtectedCounts {
        people,
        tiers: manifest
            .tier_counts
            .iter()
            .map(|(t, _)| t.clone())
            .zip(tiers)
            .collect(),
        segments: manifest
            .segment_counts
            .iter()
            .map(|(s, _)| s.clone())
            .zip(segments)
            .collect(),
        bins: bin_figs,
        bins_total: bins_total_fig,
        imd_unmatched,
    })
}

/// One protected summary table read back from Parquet.
struct Summary {
    path: PathBuf,
    frame: DataFrame,
    group: String,
}

impl Summary {
    /// Reads `run_dir/summaries/by_<dimension>.parquet`; `Ok(None)` when absent.
    fn read(run_dir: &Path, dimension: &str) -> Result<Option<Summary>, ReportError> {
        let path = run_dir
            .join("summaries")
            .join(format!("by_{dimension}.parquet"));
        if !path.exists() {
            return Ok(None);
        }
        let file = File::open(&path).map_err(|source| ReportError::Io {
            path: path.clone(),
            action: "opening",
            source,
        })?;
        let frame = ParquetReader::new(file)
            .finish()
            .map_err(|source| ReportError::Parquet {
                path: path.clone(),
                source,
            })?;
        if frame.column(dimension).is_err() {
            return Err(ReportError::Invalid {
                path,
                problem: format!("expected a group column `{dimension}`"),
            });
        }
        Ok(Some(Summary {
            path,
            frame,
            group: dimension.to_string(),
        }))
    }

    fn invalid(&self, problem: String) -> ReportError {
        ReportError::Invalid {
            path: self.path.clone(),
            problem,
        }
    }

    fn labels(&self) -> Result<Vec<String>, ReportError> {
        let col = self
            .frame
            .column(&self.group)
            .and_then(|c| c.cast(&DataType::String))
            .map_err(|e| self.invalid(format!("column `{}`: {e}", self.group)))?;
        let ca = col
            .str()
            .map_err(|e| self.invalid(format!("column `{}`: {e}", self.group)))?;
        Ok(ca
            .iter()
            .map(|v| {
                v.unwrap_or(crate::outputs::summaries::UNKNOWN_LABEL)
                    .to_string()
            })
            .collect())
    }

    /// Whether the table has a (count or value) column `name`.
    fn has(&self, name: &str) -> bool {
        self.frame.column(name).is_ok()
            || self
                .frame
                .column(&format!("{name}{MIDPOINT6_SUFFIX}"))
                .is_ok()
    }

    /// Every cell of column `name` (or its midpoint-6 twin) with its flag;
    /// all [`Figure::Missing`] when the table has no such column (an older
    /// run), but an error when a column has no `_redacted` flag.
    fn figures(&self, name: &str, integer: bool) -> Result<Vec<Figure>, ReportError> {
        if !self.has(name) {
            return Ok(vec![Figure::Missing; self.frame.height()]);
        }
        let actual = if self.frame.column(name).is_ok() {
            name.to_string()
        } else {
            format!("{name}{MIDPOINT6_SUFFIX}")
        };
        let values = self
            .frame
            .column(&actual)
            .and_then(|c| c.cast(&DataType::Float64))
            .map_err(|_| self.invalid(format!("expected a numeric column `{name}`")))?;
        let values = values
            .f64()
            .map_err(|e| self.invalid(format!("column `{actual}`: {e}")))?
            .clone();
        let flag_name = format!("{actual}{REDACTED_SUFFIX}");
        let flags: Vec<bool> = match self.frame.column(&flag_name) {
            Ok(c) => c
                .bool()
                .map_err(|_| self.invalid(format!("expected a Boolean column `{flag_name}`")))?
                .iter()
                .map(|v| v.unwrap_or(false))
                .collect(),
            Err(_) => {
                return Err(self.invalid(format!(
                    "column `{actual}` has no `{flag_name}` flag, so it may not have passed disclosure control"
                )));
            }
        };
        Ok(values
            .iter()
            .zip(flags)
            .map(|(v, redacted)| match (v, redacted) {
                (_, true) => Figure::Redacted,
                (Some(v), false) if integer && v >= 0.0 => Figure::Count(v.round() as u64),
                (Some(v), false) => Figure::Number(v),
                (None, false) => Figure::Missing,
            })
            .collect())
    }

    /// Row index of the all-groups row.
    fn total_row(&self) -> Result<Option<usize>, ReportError> {
        Ok(self
            .labels()?
            .iter()
            .position(|l| l == crate::outputs::summaries::TOTAL_LABEL))
    }
}

/// Human label of a tier or segment key: `very_high` → "Very high".
fn humanise(key: &str) -> String {
    let words = key.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

/// Tier definitions from the run's settings (shares from the top of the ranking).
fn tier_definitions(manifest: &Manifest) -> Vec<(String, String)> {
    let share = |key: &str, default: f64| {
        manifest
            .settings
            .get("tiers")
            .and_then(|t| t.get(key))
            .and_then(|v| v.as_f64())
            .unwrap_or(default)
    };
    let (vh, h, r) = (
        share("very_high", 0.005),
        share("high", 0.045),
        share("rising", 0.15),
    );
    vec![
        (
            "very_high".into(),
            format!("top {} of risk", format_percent(vh)),
        ),
        ("high".into(), format!("next {}", format_percent(h))),
        ("rising".into(), format!("next {}", format_percent(r))),
        (
            "low".into(),
            format!("the remaining {}", format_percent(1.0 - vh - h - r)),
        ),
    ]
}

fn bytes_text(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

fn seconds_text(s: f64) -> String {
    if s < 0.01 {
        "<0.01 s".into()
    } else if s < 60.0 {
        format!("{s:.2} s")
    } else {
        format!("{}m {:02.0}s", (s / 60.0).floor(), s % 60.0)
    }
}

/// PSI in words (Siddiqi 2006).
fn psi_reading(psi: f64) -> (&'static str, Status) {
    if psi < 0.1 {
        ("stable", Status::Good)
    } else if psi < 0.25 {
        ("some shift", Status::Warn)
    } else {
        ("major shift", Status::Bad)
    }
}

/// Risk at a log-odds edge.
fn risk_at_logit(logit: f64) -> f64 {
    1.0 / (1.0 + (-logit).exp())
}

fn short_percent(p: f64) -> String {
    let v = p * 100.0;
    if v < 1.0 {
        format!("{v:.2}%")
    } else if v < 10.0 {
        format!("{v:.1}%")
    } else {
        format!("{v:.0}%")
    }
}

/// Data-quality issues found anywhere under the manifest's optional
/// `validation` key: (table, column, problem, action, count). Row numbers
/// (`first_rows`) are left out on purpose.
fn validation_issues(value: &serde_json::Value) -> Vec<[String; 5]> {
    fn walk(v: &serde_json::Value, table: &str, out: &mut Vec<[String; 5]>) {
        match v {
            serde_json::Value::Object(map) => {
                let table = map
                    .get("table")
                    .and_then(|t| t.as_str())
                    .unwrap_or(table)
                    .to_string();
                if let Some(problem) = map.get("problem").and_then(|p| p.as_str()) {
                    let text = |k: &str| {
                        map.get(k).map_or(String::new(), |v| match v {
                            serde_json::Value::String(s) => s.replace('_', " "),
                            other => other.to_string(),
                        })
                    };
                    out.push([
                        table.clone(),
                        text("column"),
                        problem.to_string(),
                        text("action"),
                        map.get("count")
                            .and_then(|c| c.as_u64())
                            .map_or(String::new(), |c| format_count(c, false)),
                    ]);
                    return;
                }
                for (k, child) in map {
                    if k != "first_rows" {
                        walk(child, &table, out);
                    }
                }
            }
            serde_json::Value::Array(items) => {
                for i in items {
                    walk(i, table, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}

/// Renders the run report of `run_dir` without writing it.
pub(crate) fn render_run_report(run_dir: &Path) -> Result<String, ReportError> {
    let manifest_path = run_dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path).map_err(|source| ReportError::Io {
        path: manifest_path.clone(),
        action: "reading the run manifest",
        source,
    })?;
    let raw: serde_json::Value = serde_json::from_str(&text).map_err(|e| ReportError::Invalid {
        path: manifest_path.clone(),
        problem: format!("not valid JSON: {e}"),
    })?;
    let manifest: Manifest =
        serde_json::from_value(raw.clone()).map_err(|e| ReportError::Invalid {
            path: manifest_path.clone(),
            problem: format!("not a strata run manifest: {e}"),
        })?;
    let profile_name = manifest
        .settings
        .get("disclosure")
        .and_then(|v| v.as_str())
        .unwrap_or("opensafely");
    let profile: DisclosureProfile = profile_name.parse().unwrap_or_default();
    let show = Shower {
        threshold: profile.redact_at_or_below(),
    };
    let counts = protect_manifest_counts(&manifest, &profile, &manifest_path)?;
    let report_path = run_dir.join(REPORT_FILE);
    let chart_err = ReportError::chart(&report_path);

    let summaries: Vec<(&str, Option<Summary>)> = crate::outputs::summaries::DIMENSIONS
        .iter()
        .map(|d| Summary::read(run_dir, d).map(|s| (*d, s)))
        .collect::<Result<_, _>>()?;
    let summary = |d: &str| {
        summaries
            .iter()
            .find(|(k, _)| *k == d)
            .and_then(|(_, s)| s.as_ref())
    };

    // The planning-population totals: the all-groups row with the most
    // people (sum-of-protected totals lose redacted cells, so the largest is
    // the most complete), from the summaries by a low-cardinality dimension.
    let mut planning: Option<(&Summary, usize, f64)> = None;
    for d in [
        "sex",
        "age_band",
        "pcn_code",
        "imd_quintile",
        "ethnicity_group",
    ] {
        if let Some(s) = summary(d)
            && let Some(row) = s.total_row()?
        {
            // Score: people, then the published tier and segment cells of
            // the row (sum-of-protected totals lose every withheld cell).
            let mut score = s.figures("population", true)?[row].value().unwrap_or(0.0) * 2.0;
            for (key, _) in manifest.tier_counts.iter().chain(&manifest.segment_counts) {
                for prefix in ["tier_", "segment_"] {
                    let name = format!("{prefix}{key}");
                    if s.has(&name) {
                        score += s.figures(&name, true)?[row].value().unwrap_or(0.0);
                    }
                }
            }
            if planning.is_none_or(|(_, _, best)| score > best) {
                planning = Some((s, row, score));
            }
        }
    }

    let mut findings: Vec<(Status, String)> = Vec::new();
    let mut page = Page {
        title: "Nightly risk stratification — run report".into(),
        subtitle: format!(
            "Risk as of {} · run {} · model {} · strata {}",
            manifest.as_of.format("%-d %B %Y"),
            manifest.run_id,
            manifest.model.model_id,
            manifest.software_version
        ),
        ..Page::default()
    };

    // ---- Run summary -------------------------------------------------------
    let mut inputs = Table::new("table-inputs", "Input files", &["file", "size", "blake3"]);
    for f in &manifest.inputs {
        inputs.row(vec![
            Td::text(&f.path),
            Td::num(bytes_text(f.bytes)),
            Td::text(f.blake3.chars().take(12).collect::<String>() + "…"),
        ]);
    }
    let mut stages = Table::new("table-stages", "Time per stage", &["stage", "time"]);
    let total_seconds: f64 = manifest.stages.iter().map(|s| s.seconds).sum();
    for s in &manifest.stages {
        stages.row(vec![Td::text(&s.stage), Td::num(seconds_text(s.seconds))]);
    }
    stages.row(vec![
        Td::text("total"),
        Td::num(seconds_text(total_seconds)),
    ]);
    let rows_read: u64 = manifest.tables.iter().map(|t| t.rows_read).sum();
    let rows_rejected: u64 = manifest.tables.iter().map(|t| t.rows_rejected).sum();
    page.section(
        "run-summary",
        "Run summary",
        format!(
            "{}{}{}",
            p(&format!(
                "This run scored everyone alive and registered on {} for their risk of an emergency hospital admission in the following 12 months, using model {} ({}). It read {} files ({} rows in {} tables) and took {} in total. Started {}.",
                manifest.as_of.format("%-d %B %Y"),
                manifest.model.model_id,
                manifest.model.path,
                manifest.inputs.len(),
                format_count(rows_read, false),
                manifest.tables.len(),
                seconds_text(total_seconds),
                manifest.started_at
            )),
            columns(&[inputs.render(), stages.render()]),
            note(&format!(
                "Settings: input `{}`, disclosure profile {}.",
                manifest
                    .settings
                    .get("input")
                    .and_then(|v| v.as_str())
                    .unwrap_or("?"),
                profile
            ))
        ),
    );

    // ---- Risk pyramid --------------------------------------------------------
    let definitions = tier_definitions(&manifest);
    let definition = |tier: &str| {
        definitions
            .iter()
            .find(|(k, _)| k == tier)
            .map_or(String::new(), |(_, d)| d.clone())
    };
    let people_value = counts.people.value();
    let share_text = |f: Figure| match (f.value(), people_value) {
        (Some(v), Some(total)) if total > 0.0 => format_percent(v / total),
        (_, _) if f == Figure::Redacted => "–".into(),
        _ => "–".into(),
    };
    let bands: Vec<PyramidBand> = counts
        .tiers
        .iter()
        .map(|(tier, f)| PyramidBand {
            name: humanise(tier),
            definition: format!("{} · {} of people", definition(tier), share_text(*f)),
            people: show.people(*f),
        })
        .collect();
    let pyramid = charts::pyramid(&bands).map_err(&chart_err)?;
    let mut tier_table = Table::new(
        "table-tiers",
        "People per risk tier (everyone scored)",
        &["tier", "definition", "people", "share"],
    );
    for (tier, f) in &counts.tiers {
        tier_table.row(vec![
            Td::text(humanise(tier)),
            Td::text(definition(tier)),
            show.td(*f),
            Td::num(share_text(*f)),
        ]);
    }
    tier_table.row(vec![
        Td::text("All"),
        Td::text(""),
        show.td(counts.people),
        Td::num(if people_value.is_some() {
            "100%"
        } else {
            "–"
        }),
    ]);
    page.section(
        "risk-pyramid",
        "Risk pyramid",
        format!(
            "{}{}{}",
            p("Everyone scored is ranked by predicted risk and placed in one of four tiers. The very-high and high tiers are the people care teams are asked to review; rising-risk people are candidates for prevention."),
            columns(&[
                figure(
                    "chart-risk-pyramid",
                    &pyramid,
                    "Bands are drawn equal in height to stay readable; the labels give the real numbers."
                ),
                tier_table.render()
            ]),
            note("Counts are rounded to the nearest 5 and small counts withheld, as in every published summary.")
        ),
    );

    // ---- Tiers and segments ------------------------------------------------
    let segment_bars: Vec<Bar> = counts
        .segments
        .iter()
        .map(|(s, f)| Bar {
            label: humanise(s),
            value: f.value(),
            interval: None,
            text: show.text(*f),
        })
        .collect();
    let segments_chart = charts::horizontal_bars(
        "chart-segments",
        "People per population segment",
        &segment_bars,
        "people",
        charts::TIER_COLOURS[0],
        600,
    )
    .map_err(&chart_err)?;
    let tier_keys: Vec<String> = counts.tiers.iter().map(|(t, _)| t.clone()).collect();
    let segment_keys: Vec<String> = counts.segments.iter().map(|(s, _)| s.clone()).collect();
    let cross_tab = match summary("segment") {
        Some(s) if tier_keys.iter().all(|t| s.has(&format!("tier_{t}"))) => {
            let mut headers = vec!["segment".to_string(), "people".to_string()];
            headers.extend(tier_keys.iter().map(|t| humanise(t)));
            let headers_ref: Vec<&str> = headers.iter().map(String::as_str).collect();
            let mut table = Table::new(
                "table-tier-segment",
                "People by segment and risk tier (planning population)",
                &headers_ref,
            );
            let labels = s.labels()?;
            let population = s.figures("population", true)?;
            let tiers: Vec<Vec<Figure>> = tier_keys
                .iter()
                .map(|t| s.figures(&format!("tier_{t}"), true))
                .collect::<Result<_, _>>()?;
            // The all-groups row is left out: as published it sums only the
            // cells shown (a withheld cell counts 0), so it would read, say,
            // 0 very-high-risk people. The pyramid above gives the totals.
            let mut order: Vec<usize> = (0..labels.len())
                .filter(|&i| labels[i] != crate::outputs::summaries::TOTAL_LABEL)
                .collect();
            order.sort_by_key(|&i| {
                let pos = segment_keys.iter().position(|k| *k == labels[i]);
                (
                    labels[i] == crate::outputs::summaries::TOTAL_LABEL,
                    pos.unwrap_or(usize::MAX),
                )
            });
            for i in order {
                let mut cells = vec![Td::text(humanise(&labels[i])), show.td(population[i])];
                cells.extend(tiers.iter().map(|col| show.td(col[i])));
                table.row(cells);
            }
            format!(
                "{}{}",
                table.render(),
                note(
                    "From summaries/by_segment.parquet: the planning population (people with a national data opt-out or a Type 1 objection are not counted). Segments with nobody in them are not listed."
                )
            )
        }
        _ => {
            // Side by side from the planning-population total row.
            let mut table = Table::new(
                "table-tier-segment",
                "Tiers and segments side by side (planning population)",
                &["risk tier", "people", "segment", "people"],
            );
            let (tier_figs, segment_figs) = match planning {
                Some((s, row, _)) => (
                    tier_keys
                        .iter()
                        .map(|t| {
                            if s.has(&format!("tier_{t}")) {
                                s.figures(&format!("tier_{t}"), true).map(|v| v[row])
                            } else {
                                Ok(Figure::Missing)
                            }
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    segment_keys
                        .iter()
                        .map(|k| {
                            if s.has(&format!("segment_{k}")) {
                                s.figures(&format!("segment_{k}"), true).map(|v| v[row])
                            } else {
                                Ok(Figure::Missing)
                            }
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                None => (
                    vec![Figure::Missing; tier_keys.len()],
                    vec![Figure::Missing; segment_keys.len()],
                ),
            };
            for i in 0..tier_keys.len().max(segment_keys.len()) {
                let mut cells = Vec::new();
                match tier_keys.get(i) {
                    Some(t) => {
                        cells.push(Td::text(humanise(t)));
                        cells.push(show.td(tier_figs[i]));
                    }
                    None => cells.extend([Td::text(""), Td::text("")]),
                }
                match segment_keys.get(i) {
                    Some(k) => {
                        cells.push(Td::text(humanise(k)));
                        cells.push(show.td(segment_figs[i]));
                    }
                    None => cells.extend([Td::text(""), Td::text("")]),
                }
                table.row(cells);
            }
            format!(
                "{}{}",
                table.render(),
                note(
                    "The planning population excludes people with a national data opt-out or a Type 1 objection. A cross-tabulation of tier by segment will appear here once the run writes summaries/by_segment.parquet."
                )
            )
        }
    };
    page.section(
        "tiers-and-segments",
        "Tiers and segments",
        format!(
            "{}{}",
            p("Segments group people by their main health need (Bridges to Health), whatever their risk; a person is in exactly one segment."),
            columns(&[
                figure(
                    "chart-segments",
                    &segments_chart,
                    "People per segment, everyone scored. Grey stubs are numbers withheld because they are small."
                ),
                cross_tab
            ])
        ),
    );

    // ---- Score distribution ------------------------------------------------
    let bin_count = counts.bins.len();
    let bins_value = counts.bins_total.value();
    let non_empty: Vec<usize> = (0..bin_count)
        .filter(|&i| counts.bins[i] != Figure::Count(0))
        .collect();
    let (first, last) = match (non_empty.first(), non_empty.last()) {
        (Some(&a), Some(&b)) => (
            a.saturating_sub(1),
            (b + 1).min(bin_count.saturating_sub(1)),
        ),
        _ => (0, bin_count.saturating_sub(1)),
    };
    let bin_label = |i: usize| -> String {
        // Bin i ≥ 1 starts at logit −7 + 0.5·(i − 1); bin 0 is everything below −7.
        if i == 0 {
            format!("<{}", short_percent(risk_at_logit(-7.0)))
        } else if i + 1 == bin_count {
            format!(
                ">{}",
                short_percent(risk_at_logit(-7.0 + 0.5 * (i as f64 - 1.0)))
            )
        } else if i % 2 == 1 {
            short_percent(risk_at_logit(-7.0 + 0.5 * (i as f64 - 1.0)))
        } else {
            String::new()
        }
    };
    let cols: Vec<Column> = (first..=last.max(first))
        .filter(|&i| i < bin_count)
        .map(|i| Column {
            label: bin_label(i),
            share: match (counts.bins[i], bins_value) {
                (Figure::Count(c), Some(t)) if t > 0.0 => Some(c as f64 / t),
                (Figure::Count(_), _) => Some(0.0),
                _ => None,
            },
        })
        .collect();
    let distribution_body = if cols.is_empty() {
        note("The manifest has no score distribution.")
    } else {
        let chart = charts::columns(
            "chart-score-distribution",
            "Share of people by predicted risk",
            &cols,
            "predicted 12-month risk of emergency admission (bar starts at; log-odds scale)",
            "share of people",
        )
        .map_err(&chart_err)?;
        figure(
            "chart-score-distribution",
            &chart,
            "Each bar is half a unit of log-odds wide, so the scale stretches the rare high risks. Grey stubs are bins withheld because they hold few people.",
        )
    };
    page.section(
        "score-distribution",
        "Score distribution",
        format!(
            "{}{}",
            p(&format!(
                "Most people have a low predicted risk; a long tail has a high one. The mean predicted risk is {}, so about {} in 100 people are expected to have an emergency admission in the next year.",
                format_percent(manifest.distribution.mean_risk),
                (manifest.distribution.mean_risk * 100.0).round()
            )),
            distribution_body
        ),
    );

    // ---- Drift ---------------------------------------------------------------
    let drift_body = match &manifest.drift {
        None => {
            let mut table = Table::new(
                "table-drift",
                "Compared with the previous run",
                &["measure", "PSI", "reading"],
            );
            for name in ["distribution of predicted risk", "sizes of the risk tiers"] {
                table.row(vec![Td::text(name), Td::num("–"), Td::text("not compared")]);
            }
            format!(
                "{}{}",
                callout(
                    Status::Neutral,
                    "Not compared: there is no earlier run in this output folder to compare with (or the run did not record a comparison).",
                    &[],
                ),
                table.render()
            )
        }
        Some(d) => {
            let mut table = Table::new(
                "table-drift",
                &format!("Compared with run {}", d.previous_run_id),
                &["measure", "PSI", "reading"],
            );
            for (name, psi) in [
                ("distribution of predicted risk", d.psi_risk),
                ("sizes of the risk tiers", d.psi_tiers),
            ] {
                let (reading, status) = psi_reading(psi);
                if status != Status::Good {
                    findings.push((status, format!("{name}: {reading} (PSI {psi:.3})")));
                }
                table.row(vec![
                    Td::text(name),
                    Td::num(format!("{:.3}", psi.max(0.0))),
                    Td::text(reading),
                ]);
            }
            for w in &d.warnings {
                findings.push((Status::Warn, format!("drift: {w}")));
            }
            let warnings = if d.warnings.is_empty() {
                callout(Status::Good, "No drift warnings.", &[])
            } else {
                callout(
                    Status::Warn,
                    &format!("{} drift warning(s):", d.warnings.len()),
                    &d.warnings,
                )
            };
            format!(
                "{}{}{}",
                warnings,
                table.render(),
                note(
                    "Population stability index (PSI): below 0.1 stable, 0.1–0.25 some shift, above 0.25 a major shift. A shift is not an error, but it is worth knowing why (new data feed, a change in coding, a new model)."
                )
            )
        }
    };
    page.section("drift", "Change since the previous run", drift_body);

    // ---- Neighbourhoods ----------------------------------------------------
    let neighbourhood_table = |s: &Summary,
                               id: &str,
                               caption: &str,
                               label_header: &str,
                               top: usize|
     -> Result<(Table, Vec<Bar>), ReportError> {
        let labels = s.labels()?;
        let population = s.figures("population", true)?;
        let mean = s.figures("mean_risk", false)?;
        let expected = s.figures("expected_admissions", false)?;
        let lower = s.figures("expected_admissions_lower", false)?;
        let upper = s.figures("expected_admissions_upper", false)?;
        // Two columns, not their sum: a sum with a withheld part is unknown.
        let tier = |name: &str| -> Result<Vec<Figure>, ReportError> {
            if s.has(name) {
                s.figures(name, true)
            } else {
                Ok(vec![Figure::Missing; labels.len()])
            }
        };
        let very_high = tier("tier_very_high")?;
        let high = tier("tier_high")?;
        let mut order: Vec<usize> = (0..labels.len())
            .filter(|&i| {
                labels[i] != crate::outputs::summaries::TOTAL_LABEL && expected[i].value().is_some()
            })
            .collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (
                expected[a].value().unwrap_or(0.0),
                expected[b].value().unwrap_or(0.0),
            );
            y.total_cmp(&x).then(labels[a].cmp(&labels[b]))
        });
        order.truncate(top);
        let mut table = Table::new(
            id,
            caption,
            &[
                label_header,
                "people",
                "mean risk",
                "expected admissions",
                "95% interval",
                "very high risk",
                "high risk",
            ],
        );
        let mut bars = Vec::new();
        for &i in &order {
            let interval = match (lower[i].value(), upper[i].value()) {
                (Some(l), Some(u)) => format!("{} – {}", format_number(l), format_number(u)),
                _ => "–".into(),
            };
            table.row(vec![
                Td::text(&labels[i]),
                show.td(population[i]),
                match mean[i] {
                    Figure::Number(v) => Td::num(format_percent(v)),
                    f => show.value_td(f),
                },
                show.value_td(expected[i]),
                Td::num(interval),
                show.td(very_high[i]),
                show.td(high[i]),
            ]);
            bars.push(Bar {
                label: labels[i].clone(),
                value: expected[i].value(),
                interval: lower[i].value().zip(upper[i].value()),
                text: expected[i].value().map_or("redacted".into(), format_number),
            });
        }
        table.empty = "No neighbourhood has published figures.".into();
        Ok((table, bars))
    };
    let mut neighbourhood_parts = vec![p(
        "Expected emergency admissions are the sum of predicted risks of the people living in an area (or registered with a PCN) in the next 12 months — where demand is likely to come from. The interval reflects chance alone (95%).",
    )];
    match summary("lsoa") {
        Some(s) => {
            let (table, bars) = neighbourhood_table(
                s,
                "table-lsoa",
                "Top 10 neighbourhoods (LSOA) by expected emergency admissions",
                "LSOA",
                10,
            )?;
            let chart = charts::horizontal_bars(
                "chart-neighbourhoods",
                "Expected emergency admissions by neighbourhood",
                &bars,
                "expected emergency admissions in the next 12 months (with 95% interval)",
                charts::TIER_COLOURS[1],
                960,
            )
            .map_err(&chart_err)?;
            neighbourhood_parts.push(figure(
                "chart-neighbourhoods",
                &chart,
                "Top 10 LSOAs by expected emergency admissions; black lines are 95% intervals. Neighbourhoods with very few residents are withheld and not ranked.",
            ));
            neighbourhood_parts.push(table.render());
        }
        None => {
            neighbourhood_parts.push(note("summaries/by_lsoa.parquet is missing from this run."))
        }
    }
    let mut tables_row = Vec::new();
    if let Some(s) = summary("pcn_code") {
        let (table, _) = neighbourhood_table(
            s,
            "table-pcn",
            "Primary Care Networks by expected emergency admissions",
            "PCN",
            20,
        )?;
        tables_row.push(table.render());
    }
    if let Some(s) = summary("imd_quintile") {
        let labels = s.labels()?;
        let population = s.figures("population", true)?;
        let expected = s.figures("expected_admissions", false)?;
        let mean = s.figures("mean_risk", false)?;
        let mut table = Table::new(
            "table-imd",
            "By deprivation (IMD quintile; 1 = most deprived)",
            &[
                "IMD quintile",
                "people",
                "mean risk",
                "expected admissions",
                "per 1,000 people",
            ],
        );
        let mut order: Vec<usize> = (0..labels.len()).collect();
        order.sort_by_key(|&i| {
            (
                labels[i] == crate::outputs::summaries::TOTAL_LABEL,
                labels[i] == crate::outputs::summaries::UNKNOWN_LABEL,
                labels[i].clone(),
            )
        });
        for i in order {
            let label = match labels[i].as_str() {
                "1" => "1 (most deprived)".to_string(),
                "5" => "5 (least deprived)".to_string(),
                crate::outputs::summaries::TOTAL_LABEL => "Total of published rows".to_string(),
                other => humanise(other),
            };
            let rate = match (expected[i].value(), population[i].value()) {
                (Some(e), Some(n)) if n > 0.0 => Td::num(format_number((1000.0 * e / n).round())),
                _ => Td::num("–"),
            };
            table.row(vec![
                Td::text(label),
                show.td(population[i]),
                match mean[i] {
                    Figure::Number(v) => Td::num(format_percent(v)),
                    f => show.value_td(f),
                },
                show.value_td(expected[i]),
                rate,
            ]);
        }
        tables_row.push(table.render());
    }
    if !tables_row.is_empty() {
        neighbourhood_parts.push(columns(&tables_row));
    }
    page.section(
        "neighbourhoods",
        "Neighbourhoods",
        neighbourhood_parts.concat(),
    );

    // ---- Data quality --------------------------------------------------------
    let mut dq = Table::new(
        "table-data-quality",
        "Rows read and rejected per table",
        &["table", "rows read", "rows rejected", "rejected"],
    );
    for t in &manifest.tables {
        let share = if t.rows_read > 0 {
            t.rows_rejected as f64 / t.rows_read as f64
        } else {
            0.0
        };
        if t.rows_rejected > 0 {
            findings.push((
                Status::Warn,
                format!(
                    "{}: {} of {} rows rejected ({})",
                    t.table,
                    format_count(t.rows_rejected, false),
                    format_count(t.rows_read, false),
                    format_percent(share)
                ),
            ));
        }
        dq.highlighted_row(
            vec![
                Td::text(&t.table),
                Td::num(format_count(t.rows_read, false)),
                Td::num(format_count(t.rows_rejected, false)),
                Td::num(format_percent(share)),
            ],
            t.rows_rejected > 0,
        );
    }
    let mut dq_parts = vec![
        p(
            "Every input row is checked against the data contract. Rejected rows are left out of the run; the run stops if any table loses more than its allowed share.",
        ),
        dq.render(),
    ];
    match raw.get("validation") {
        Some(v) if !v.is_null() => {
            let issues = validation_issues(v);
            let mut table = Table::new(
                "table-validation-issues",
                "Problems found",
                &["table", "column", "problem", "action", "rows"],
            );
            for issue in &issues {
                table.row(vec![
                    Td::text(&issue[0]),
                    Td::text(&issue[1]),
                    Td::text(&issue[2]),
                    Td::text(&issue[3]),
                    Td::num(&issue[4]),
                ]);
            }
            table.empty = "No problems found.".into();
            dq_parts.push(table.render());
        }
        _ => dq_parts.push(note(
            "Details of each problem (column and reason) are not recorded in this run's manifest.",
        )),
    }
    match counts.imd_unmatched {
        Figure::Count(0) => {}
        f => {
            findings.push((
                Status::Warn,
                format!(
                    "{} could not be matched to a deprivation score (LSOA missing from the {} IMD table)",
                    show.people(f),
                    manifest.imd_source
                ),
            ));
            dq_parts.push(p(&format!(
                "{} had an LSOA that is not in the IMD table ({}), so their deprivation is unknown.",
                show.people(f),
                manifest.imd_source
            )));
        }
    }
    dq_parts.push(note(
        "Row counts are counts of records in the input files, not of people, and are shown exactly.",
    ));
    page.section("data-quality", "Data quality", dq_parts.concat());

    // ---- Headline ---------------------------------------------------------------
    let worst = findings
        .iter()
        .map(|(s, _)| *s)
        .max_by_key(|s| match s {
            Status::Bad => 3,
            Status::Warn => 2,
            Status::Neutral => 1,
            Status::Good => 0,
        })
        .unwrap_or(Status::Good);
    let very_high = counts
        .tiers
        .iter()
        .find(|(t, _)| t == "very_high")
        .map_or(Figure::Missing, |(_, f)| *f);
    let expected_total = planning
        .map(|(s, row, _)| s.figures("expected_admissions", false).map(|v| v[row]))
        .transpose()?
        .unwrap_or(Figure::Missing);
    let drift_tile = match &manifest.drift {
        None => tile(
            "Change since last run",
            "not compared",
            "no earlier run to compare with",
            Status::Neutral,
        ),
        Some(d) => {
            let (reading, status) = psi_reading(d.psi_risk.max(d.psi_tiers));
            tile(
                "Change since last run",
                reading,
                &format!(
                    "PSI {:.3} (risk), {:.3} (tiers)",
                    d.psi_risk.max(0.0),
                    d.psi_tiers.max(0.0)
                ),
                status,
            )
        }
    };
    let headline = tiles(&[
        tile(
            "Run health",
            match worst {
                Status::Good | Status::Neutral => "healthy",
                Status::Warn => "check warnings",
                Status::Bad => "needs attention",
            },
            &format!(
                "{} rows read, {} rejected",
                format_count(rows_read, false),
                format_count(rows_rejected, false)
            ),
            worst,
        ),
        tile(
            "People scored",
            &show.text(counts.people),
            &format!(
                "alive and registered on {}",
                manifest.as_of.format("%-d %b %Y")
            ),
            Status::Neutral,
        ),
        tile(
            "Very high risk",
            &show.text(very_high),
            &format!("people in the {}", definition("very_high")),
            Status::Neutral,
        ),
        tile(
            "Expected admissions",
            &match expected_total {
                Figure::Number(v) => format_number(v.round()),
                f => show.text(f),
            },
            "emergency admissions in the next 12 months (planning population)",
            Status::Neutral,
        ),
        drift_tile,
    ]);
    let health = if findings.is_empty() {
        callout(
            Status::Good,
            "Healthy run: no rejected rows, no drift warnings, every person matched to a deprivation score.",
            &[],
        )
    } else {
        callout(
            worst,
            "Things to look at:",
            &findings.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(),
        )
    };
    page.lead = format!("{headline}{health}");
    page.footer = html::p(&format!(
        "All figures are aggregates. Counts of people pass statistical disclosure control ({profile}): counts of {} or fewer are withheld and shown as “≤{}”, other counts are rounded. Generated by strata {} from {} and summaries/ only.",
        show.threshold,
        show.threshold,
        crate::VERSION,
        manifest_path
            .file_name()
            .map_or("manifest.json".into(), |f| f.to_string_lossy().into_owned())
    ));
    Ok(page.render())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::disclosure::protect_dataframe;
    /// A manifest as JSON (so the tests do not depend on every field of the
    /// struct; `validation` is an empty list, as a clean run writes it).
    fn manifest(tiers: [u64; 4]) -> serde_json::Value {
        let people: u64 = tiers.iter().sum();
        let mut shares = vec![0.0; 22];
        shares[8] = 6.0 / people as f64;
        shares[9] = (people - 6) as f64 / people as f64;
        serde_json::json!({
            "run_id": "20261123T000000Z-00000000",
            "as_of": "2026-03-31",
            "software_version": "0.1.0",
            "started_at": "2026-11-23T00:00:00Z",
            "model": {"model_id": "m-<1>", "path": "models/m.json", "blake3": "ab".repeat(32)},
            "inputs": [{"path": "sample-data/patients.parquet", "bytes": 93_642, "blake3": "cd".repeat(32)}],
            "tables": [{"table": "patients", "rows_read": 1000, "rows_rejected": 2}],
            "validation": [],
            "imd_source": "extract",
            "imd_unmatched_lsoa": 3,
            "people_scored": people,
            "tier_counts": [["very_high", tiers[0]], ["high", tiers[1]], ["rising", tiers[2]], ["low", tiers[3]]],
            "segment_counts": [["frailty_and_dementia", 6], ["healthy", people - 6]],
            "distribution": {"people": people, "mean_risk": 0.07, "risk_bin_shares": shares,
                "tier_shares": [], "missingness": []},
            "drift": {"previous_run_id": "r0", "psi_risk": 0.3, "psi_tiers": 0.01,
                "warnings": ["risk distribution shifted: PSI 0.300 > 0.2"]},
            "outputs": [],
            "stages": [{"stage": "scoring", "seconds": 0.5}],
            "settings": {"disclosure": "opensafely", "input": "sample-data"}
        })
    }

    fn run_dir(manifest: &serde_json::Value) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("manifest.json"), manifest.to_string()).expect("manifest");
        dir
    }

    #[test]
    fn small_counts_in_the_manifest_are_never_printed() {
        // very_high = 6 people, a segment of 6, a score bin of 6, 3 unmatched LSOAs.
        let m = manifest([6, 44, 150, 800]);
        let dir = run_dir(&m);
        let html = render_run_report(dir.path()).expect("report");
        assert!(html.contains("≤7"), "withheld counts read ≤7");
        for leak in [">6<", "6 people", ">3<", "3 people", "Very high — 6"] {
            assert!(!html.contains(leak), "{leak} leaks a small count");
        }
        // Secondary suppression: the high tier is withheld too, or 6 = total − others.
        assert!(
            !html.contains(">44<") && !html.contains(">45<"),
            "high tier must be withheld"
        );
        // A withheld count is never shown as 0.
        assert!(!html.contains("Very high — 0"));
        // Published counts are rounded.
        assert!(html.contains(">1,000<") && html.contains(">800<"));
    }

    #[test]
    fn every_section_chart_and_table_is_present_and_text_is_escaped() {
        let m = manifest([10, 45, 150, 795]);
        let dir = run_dir(&m);
        let html = render_run_report(dir.path()).expect("report");
        for id in SECTION_IDS {
            assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
        }
        for id in [
            "chart-risk-pyramid",
            "chart-segments",
            "chart-score-distribution",
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        }
        for id in [
            "table-inputs",
            "table-stages",
            "table-tiers",
            "table-tier-segment",
            "table-drift",
            "table-data-quality",
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(html.contains("m-&lt;1&gt;") && !html.contains("m-<1>"));
        assert!(html.contains("risk distribution shifted"));
        assert!(html.contains("summaries/by_lsoa.parquet is missing"));
        assert!(html.contains("No problems found."));
        for outside in [
            "<script",
            "<link",
            "@import",
            "url(",
            "src=\"http",
            "href=\"http",
        ] {
            assert!(!html.contains(outside), "{outside}");
        }
    }

    #[test]
    fn validation_details_are_shown_when_the_manifest_has_them() {
        let mut m = manifest([10, 45, 150, 795]);
        m["validation"] = serde_json::json!([{"table": "patients", "path": "p.csv", "rows_read": 1000,
            "rows_rejected": 2, "issues": [{"column": "date_of_birth", "problem": "date in the future",
            "action": "row_rejected", "count": 2, "first_rows": ["17", "18"]}]}]);
        let dir = run_dir(&m);
        let html = render_run_report(dir.path()).expect("report");
        assert!(html.contains("id=\"table-validation-issues\""));
        assert!(html.contains("date in the future") && html.contains("row rejected"));
        assert!(!html.contains(">17<"), "row numbers are not shown");
    }

    #[test]
    fn summaries_feed_the_neighbourhood_and_cross_tab_tables() {
        let m = manifest([10, 45, 150, 795]);
        let dir = run_dir(&m);
        let folder = dir.path().join("summaries");
        std::fs::create_dir_all(&folder).expect("mkdir");
        let write = |dimension: &str, frame: DataFrame| {
            let spec = TableSpec::by_convention(&frame, dimension)
                .expect("spec")
                .with_total_row(
                    "ALL",
                    crate::outputs::disclosure::TotalRowMethod::ProfileDefault,
                );
            let (mut protected, _) =
                protect_dataframe(&frame, &spec, &DisclosureProfile::default()).expect("protect");
            crate::outputs::parquet::write_parquet(
                &mut protected,
                &folder.join(format!("by_{dimension}.parquet")),
            )
            .expect("write");
        };
        write(
            "lsoa",
            df!(
                "lsoa" => ["E01000001", "E01000002", "E01000003"],
                "population" => [400i64, 300, 5],
                "tier_very_high" => [20i64, 10, 0],
                "tier_low" => [380i64, 290, 5],
                "mean_risk" => [0.1, 0.05, 0.2],
                "expected_admissions" => [40.0, 15.0, 1.0],
                "expected_admissions_lower" => [30.0, 9.0, 0.0],
                "expected_admissions_upper" => [50.0, 21.0, 3.0],
            )
            .expect("frame"),
        );
        write(
            "segment",
            df!(
                "segment" => ["healthy", "frailty_and_dementia"],
                "population" => [900i64, 100],
                "tier_very_high" => [2i64, 8],
                "tier_high" => [20i64, 25],
                "tier_rising" => [100i64, 50],
                "tier_low" => [778i64, 17],
            )
            .expect("frame"),
        );
        let html = render_run_report(dir.path()).expect("report");
        assert!(html.contains("id=\"chart-neighbourhoods\""));
        assert!(html.contains("E01000001") && html.contains("30 – 50"));
        assert!(
            !html.contains("E01000003"),
            "a suppressed LSOA is not ranked"
        );
        assert!(html.contains("People by segment and risk tier"));
        let start = html.find("id=\"table-tier-segment\"").expect("cross-tab");
        let cross_tab = &html[start..start + html[start..].find("</table>").expect("end")];
        assert!(
            !cross_tab.contains(">2<") && !cross_tab.contains(">8<"),
            "{cross_tab}"
        );
        assert!(cross_tab.contains(">≤7<"), "{cross_tab}");
    }

    #[test]
    fn a_summary_column_without_its_redaction_flag_is_refused() {
        let dir = run_dir(&manifest([10, 45, 150, 795]));
        let folder = dir.path().join("summaries");
        std::fs::create_dir_all(&folder).expect("mkdir");
        let mut frame = df!(
            "pcn_code" => ["P1", "ALL"],
            "population" => [3i64, 3],
        )
        .expect("frame");
        crate::outputs::parquet::write_parquet(&mut frame, &folder.join("by_pcn_code.parquet"))
            .expect("write");
        let err = render_run_report(dir.path()).expect_err("unprotected column");
        let text = err.to_string();
        assert!(
            text.contains("by_pcn_code.parquet") && text.contains("population_redacted"),
            "{text}"
        );
    }

    /// Writes the report of a real run: until `strata report --run DIR`
    /// exists, `STRATA_REPORT_RUN_DIR=out/latest cargo test --lib
    /// report::run::tests::report_of_a_real_run -- --ignored`.
    #[test]
    #[ignore = "needs a run directory in STRATA_REPORT_RUN_DIR"]
    fn report_of_a_real_run() {
        let dir = std::env::var("STRATA_REPORT_RUN_DIR").expect("STRATA_REPORT_RUN_DIR");
        let path = write_run_report(Path::new(&dir)).expect("report");
        eprintln!("wrote {}", path.display());
    }

    #[test]
    fn a_missing_manifest_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = write_run_report(dir.path()).expect_err("no manifest");
        assert!(err.to_string().contains("manifest.json"), "{err}");
        std::fs::write(dir.path().join("manifest.json"), "{}").expect("write");
        let err = write_run_report(dir.path()).expect_err("bad manifest");
        assert!(
            err.to_string().contains("not a strata run manifest"),
            "{err}"
        );
    }
}
