//! Manifest counts after disclosure control, and how a figure is shown.

use std::path::Path;

use crate::governance::disclosure::{
    Cell, DisclosureProfile, GroupRow, SummaryTable, TableSpec, protect,
};
use crate::publication::manifest::Manifest;
use crate::report::html::Td;
use crate::report::{ReportError, format_count, format_number};

/// A figure ready to show: a published number, withheld, or not applicable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Figure {
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

    pub(super) fn value(self) -> Option<f64> {
        match self {
            Figure::Count(n) => Some(n as f64),
            Figure::Number(v) => Some(v),
            _ => None,
        }
    }
}

/// How figures are shown: withheld counts as "≤t".
#[derive(Debug, Clone, Copy)]
pub(super) struct Shower {
    pub(super) threshold: u64,
}

impl Shower {
    pub(super) fn text(self, f: Figure) -> String {
        match f {
            Figure::Count(n) => format_count(n, false),
            Figure::Number(v) => format_number(v),
            Figure::Redacted => format!("≤{}", self.threshold),
            Figure::Missing => "–".into(),
        }
    }

    pub(super) fn td(self, f: Figure) -> Td {
        match f {
            Figure::Redacted => Td::redacted(self.text(f)),
            _ => Td::num(self.text(f)),
        }
    }

    pub(super) fn value_td(self, f: Figure) -> Td {
        match f {
            Figure::Redacted => Td::redacted("redacted"),
            _ => Td::num(self.text(f)),
        }
    }

    pub(super) fn people(self, f: Figure) -> String {
        match f {
            Figure::Count(1) => "1 person".into(),
            Figure::Missing => "not available".into(),
            _ => format!("{} people", self.text(f)),
        }
    }
}

/// Whose counts the page's tiles, pyramid, segments and histogram show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Population {
    /// The planning population, from the `ALL` row of the protected
    /// summaries (and the manifest's planning risk bins): the figures
    /// commissioners see everywhere else.
    Planning,
    /// Everyone scored, from the manifest protected here: runs without
    /// summaries only.
    EveryoneScored,
}

impl Population {
    /// The population in words, for captions.
    pub(super) fn words(self) -> &'static str {
        match self {
            Population::Planning => "planning population",
            Population::EveryoneScored => "everyone scored",
        }
    }
}

/// Manifest counts after disclosure control.
pub(super) struct ProtectedCounts {
    /// Whose counts `people`, `tiers`, `segments` and `bins` are.
    pub(super) population: Population,
    pub(super) people: Figure,
    pub(super) tiers: Vec<(String, Figure)>,
    pub(super) segments: Vec<(String, Figure)>,
    /// Per risk bin, aligned with `manifest.distribution.risk_bin_shares`.
    pub(super) bins: Vec<Figure>,
    pub(super) bins_total: Figure,
    pub(super) imd_unmatched: Figure,
}

/// Protects the manifest's whole-population counts as one summary row:
/// people, tiers and segments as partitions of people, risk bins as a
/// partition of their own total, unmatched LSOAs as a subset. If the
/// partitions do not add up (an older manifest), each list is protected on
/// its own as subsets, which is stricter.
pub(super) fn protect_manifest_counts(
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
            contributions: Vec::new(),
        }],
    };
    let protected = match protect(&table, profile) {
        Ok(t) => t,
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
                    contributions: Vec::new(),
                }],
            };
            protect(&table, profile).map_err(disclosure)?
        }
    };
    // Cells in the order counted: people, tiers, segments, unmatched.
    let cells: Vec<Figure> = protected.rows[0]
        .counts
        .iter()
        .map(Figure::of_cell)
        .collect();
    let (nt, ns) = (tier_cols.len(), segment_cols.len());
    let (people, tiers, segments, imd_unmatched) = (
        cells[0],
        cells[1..1 + nt].to_vec(),
        cells[1 + nt..1 + nt + ns].to_vec(),
        cells[1 + nt + ns],
    );

    // The score distribution: counts per bin, a partition of its total.
    let (bins_total_fig, bin_figs) = protect_bins(&bins, profile, path)?;

    Ok(ProtectedCounts {
        population: Population::EveryoneScored,
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

/// Protects people per risk bin as one partition of their total (withheld
/// 1–t, rounded, secondary suppression) before any share is taken: the
/// published total and the published bins.
pub(super) fn protect_bins(
    bins: &[u64],
    profile: &DisclosureProfile,
    path: &Path,
) -> Result<(Figure, Vec<Figure>), ReportError> {
    if bins.is_empty() {
        return Ok((Figure::Missing, Vec::new()));
    }
    let bin_cols: Vec<String> = (0..bins.len()).map(|i| format!("bin_{i}")).collect();
    let sum: u64 = bins.iter().sum();
    let spec = TableSpec::new("group", "people").partition("risk_bin", bin_cols);
    let table = SummaryTable {
        spec,
        rows: vec![GroupRow {
            label: "all".into(),
            counts: std::iter::once(sum).chain(bins.iter().copied()).collect(),
            values: vec![],
            contributions: Vec::new(),
        }],
    };
    let t = protect(&table, profile).map_err(|source| ReportError::Disclosure {
        path: path.to_path_buf(),
        source,
    })?;
    let cells: Vec<Figure> = t.rows[0].counts.iter().map(Figure::of_cell).collect();
    Ok((cells[0], cells[1..].to_vec()))
}

/// The page's counts from the planning population: people, tiers and
/// segments as published in the `ALL` row (`row`) of a protected summary,
/// never re-summed from its groups; the risk histogram from the manifest's
/// planning bins, protected here. `manifest_counts` gives the rest (people
/// unmatched to IMD, a data-quality figure about everyone scored) and the
/// histogram of runs that did not record planning bins.
pub(super) fn planning_counts(
    summary: &super::summary::Summary,
    row: usize,
    manifest: &Manifest,
    manifest_counts: ProtectedCounts,
    profile: &DisclosureProfile,
    path: &Path,
) -> Result<ProtectedCounts, ReportError> {
    let cell =
        |name: &str| -> Result<Figure, ReportError> { Ok(summary.figures(name, true)?[row]) };
    let people = cell("population")?;
    let tiers = manifest
        .tier_counts
        .iter()
        .map(|(t, _)| Ok((t.clone(), cell(&format!("tier_{t}"))?)))
        .collect::<Result<Vec<_>, ReportError>>()?;
    let segments = manifest
        .segment_counts
        .iter()
        .map(|(s, _)| Ok((s.clone(), cell(&format!("segment_{s}"))?)))
        .collect::<Result<Vec<_>, ReportError>>()?;
    let (bins_total, bins) = if manifest.distribution.planning_risk_bins.is_empty() {
        (manifest_counts.bins_total, manifest_counts.bins)
    } else {
        protect_bins(&manifest.distribution.planning_risk_bins, profile, path)?
    };
    Ok(ProtectedCounts {
        population: Population::Planning,
        people,
        tiers,
        segments,
        bins,
        bins_total,
        imd_unmatched: manifest_counts.imd_unmatched,
    })
}
