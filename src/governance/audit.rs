//! The intruder's attack on a published release, run before publication and
//! by `strata audit --run DIR`.
//!
//! It reads only what a commissioner receives (the protected summary
//! tables) plus public facts (which practices make up each PCN, which LSOAs
//! each IMD quintile: `summaries/hierarchy.parquet`) and the published
//! rules (threshold, rounding base, value precision), and tries to recover
//! what disclosure control withheld:
//!
//! - **interval narrowing**: every published count stands for the range of
//!   true counts that round to it; every withheld count for any count. Each
//!   additive equation of the release (a row's partitions, a column against
//!   its `ALL` row, a parent group against its children in another table)
//!   narrows those ranges, repeated until nothing changes (bound
//!   propagation). A withheld count narrowed to fewer possible values than
//!   the rounding base, or a set of withheld counts whose sum is shown to be
//!   1..=t, is a finding; so are ranges with no solution (an `ALL` row off
//!   the true total by more than rounding);
//! - **ratio inversion**: a mean must equal the published numerator over
//!   the published denominator at its precision; one that does not carries
//!   information beyond them (the old `mean_risk` gave exact populations);
//! - **differencing of sums**: in every sum equation, one withheld part with
//!   the rest published is recovered; several whose people number at most t
//!   are recovered as a small group's sum;
//! - **form**: no published count in 1..=t, counts and sums multiples of
//!   their base, and no `ALL` row claiming to be complete when parts are
//!   withheld.
//!
//! Bound propagation is weaker than the linear-programming attack of
//! τ-ARGUS's audit (it can miss a leak found only by solving many
//! equations at once); anything it reports is a real leak.

use std::collections::BTreeMap;
use std::fmt;

use polars::prelude::*;

use super::disclosure::{
    COMPLETE_COLUMN, DisclosureError, DisclosureProfile, REDACTED_SUFFIX, Rounding,
};

/// File of the release holding the public hierarchy the audit uses.
pub const HIERARCHY_FILE: &str = "hierarchy.parquet";

/// A parent group that is exactly the union of child groups of another
/// table (a PCN and its practices), known to the reader from public facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    pub parent_dimension: String,
    pub parent: String,
    pub child_dimension: String,
    pub children: Vec<String>,
    /// (parent column, child column) pairs the link equates; empty = every
    /// column the two tables share (see [`Link`](super::disclosure::Link)).
    pub columns: Vec<(String, String)>,
}

impl Hierarchy {
    /// The `columns` field as one text cell: `p=c;p=c` (empty: by name).
    fn columns_text(&self) -> String {
        self.columns
            .iter()
            .map(|(p, c)| format!("{p}={c}"))
            .collect::<Vec<_>>()
            .join(";")
    }

    fn parse_columns(text: &str) -> Vec<(String, String)> {
        text.split(';')
            .filter_map(|pair| pair.split_once('='))
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect()
    }
}

/// A published mean and what it must be derived from.
#[derive(Debug, Clone)]
pub struct Ratio {
    pub name: String,
    pub numerator: String,
    pub denominator: String,
    pub decimals: i32,
}

/// What the audit knows of the release: the published rules.
#[derive(Debug, Clone)]
pub struct AuditRules {
    pub profile: DisclosureProfile,
    /// Label of the all-groups row.
    pub total_label: String,
    /// Sum columns and the multiple they are published to.
    pub sums: Vec<(String, f64)>,
    pub ratios: Vec<Ratio>,
}

/// The attacks, named as in `docs/disclosure-control.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attack {
    SmallCountPublished,
    NotRounded,
    IntervalNarrowing,
    SmallWithheldSum,
    Inconsistent,
    RatioInversion,
    SumDifferencing,
    PartialTotalUnflagged,
}

impl fmt::Display for Attack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Attack::SmallCountPublished => "small count published",
            Attack::NotRounded => "not rounded",
            Attack::IntervalNarrowing => "interval narrowing",
            Attack::SmallWithheldSum => "small withheld sum",
            Attack::Inconsistent => "inconsistent totals",
            Attack::RatioInversion => "ratio inversion",
            Attack::SumDifferencing => "differencing of sums",
            Attack::PartialTotalUnflagged => "partial total unflagged",
        })
    }
}

/// One thing the attack recovered. Never quotes a recovered value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub attack: Attack,
    pub table: String,
    pub group: String,
    pub column: String,
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: by_{}, group `{}`, column `{}`: {}",
            self.attack, self.table, self.group, self.column, self.detail
        )
    }
}

/// "Any count": the upper bound of a withheld cell before any equation.
const INF: i64 = i64::MAX / 4;

/// An inclusive range of possible true values.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Range {
    lo: i64,
    hi: i64,
}

/// One published table as the attack sees it.
struct Table {
    dimension: String,
    labels: Vec<String>,
    /// Row of each label.
    index: std::collections::HashMap<String, usize>,
    total_row: Option<usize>,
    complete: Option<Vec<bool>>,
    counts: Vec<String>,
    /// Per row, per count column: the shown value (`None` = withheld).
    shown: Vec<Vec<Option<i64>>>,
    values: BTreeMap<String, (Vec<Option<f64>>, Vec<bool>)>,
}

fn polars(action: &'static str) -> impl FnOnce(PolarsError) -> DisclosureError {
    move |source| DisclosureError::Polars { action, source }
}

fn flags(frame: &DataFrame, name: &str) -> Result<Vec<bool>, DisclosureError> {
    let flag = format!("{name}{REDACTED_SUFFIX}");
    let column = frame
        .column(&flag)
        .map_err(|_| DisclosureError::MissingColumn {
            column: flag.clone(),
            found: frame
                .get_column_names()
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    Ok(column
        .bool()
        .map_err(polars("reading a withheld flag"))?
        .iter()
        .map(|f| f.unwrap_or(true))
        .collect())
}

impl Table {
    fn read(
        dimension: &str,
        frame: &DataFrame,
        total_label: &str,
    ) -> Result<Self, DisclosureError> {
        let labels: Vec<String> = frame
            .column(dimension)
            .map_err(polars("reading the group column"))?
            .cast(&DataType::String)
            .map_err(polars("reading the group column"))?
            .str()
            .map_err(polars("reading the group column"))?
            .iter()
            .map(|l| l.unwrap_or_default().to_string())
            .collect();
        let total_row = labels.iter().position(|l| l == total_label);
        let complete = match frame.column(COMPLETE_COLUMN) {
            Ok(c) => Some(
                c.bool()
                    .map_err(polars("reading `complete`"))?
                    .iter()
                    .map(|f| f.unwrap_or(false))
                    .collect(),
            ),
            Err(_) => None,
        };
        let mut counts = Vec::new();
        let mut shown = vec![Vec::new(); frame.height()];
        let mut values = BTreeMap::new();
        for column in frame.columns() {
            let name = column.name().as_str();
            if name == dimension || name.ends_with(REDACTED_SUFFIX) {
                continue;
            }
            if column.dtype().is_integer() {
                let withheld = flags(frame, name)?;
                let cells = column
                    .cast(&DataType::Int64)
                    .map_err(polars("reading a count"))?;
                let cells = cells.i64().map_err(polars("reading a count"))?;
                for ((row, v), w) in shown.iter_mut().zip(cells.iter()).zip(withheld) {
                    row.push(if w { None } else { Some(v.unwrap_or(0)) });
                }
                counts.push(name.to_string());
            } else if column.dtype().is_float() {
                let withheld = flags(frame, name)?;
                let cells = column.f64().map_err(polars("reading a value"))?;
                values.insert(name.to_string(), (cells.iter().collect(), withheld));
            }
        }
        let index = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), i))
            .collect();
        Ok(Table {
            dimension: dimension.to_string(),
            index,
            labels,
            total_row,
            complete,
            counts,
            shown,
            values,
        })
    }

    fn groups(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.labels.len()).filter(move |r| Some(*r) != self.total_row)
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.counts
            .iter()
            .position(|c| c == name || c.strip_suffix("_midpoint6") == Some(name))
    }

    fn row(&self, label: &str) -> Option<usize> {
        self.index.get(label).copied()
    }
}

/// A count cell: (table, row, column).
type CellId = (usize, usize, usize);

struct Equation {
    total: CellId,
    parts: Vec<CellId>,
}

/// The count equations of the release, and subset constraints (part ≤ total).
fn count_equations(
    tables: &[Table],
    links: &[ResolvedLink],
) -> (Vec<Equation>, Vec<(CellId, CellId)>) {
    let mut eqs = Vec::new();
    let mut subsets = Vec::new();
    for (t, table) in tables.iter().enumerate() {
        let Some(population) = table.column("population") else {
            continue;
        };
        let family = |prefix: &str| -> Vec<usize> {
            (0..table.counts.len())
                .filter(|&k| table.counts[k].starts_with(prefix))
                .collect()
        };
        let (tiers, segments) = (family("tier_"), family("segment_"));
        for r in 0..table.labels.len() {
            for cells in [&tiers, &segments] {
                if !cells.is_empty() {
                    eqs.push(Equation {
                        total: (t, r, population),
                        parts: cells.iter().map(|&k| (t, r, k)).collect(),
                    });
                }
            }
            for k in 0..table.counts.len() {
                if k != population && !tiers.contains(&k) && !segments.contains(&k) {
                    subsets.push(((t, r, k), (t, r, population)));
                }
            }
        }
        if let Some(tr) = table.total_row {
            for k in 0..table.counts.len() {
                eqs.push(Equation {
                    total: (t, tr, k),
                    parts: table.groups().map(|r| (t, r, k)).collect(),
                });
            }
        }
    }
    for link in links {
        let (parent, child) = (&tables[link.parent_table], &tables[link.child_table]);
        for (pn, cn) in link.pairs(parent.counts.iter(), |c| child.column(c).is_some()) {
            if let (Some(k), Some(kc)) = (parent.column(&pn), child.column(&cn)) {
                eqs.push(Equation {
                    total: (link.parent_table, link.parent, k),
                    parts: link
                        .children
                        .iter()
                        .map(|&r| (link.child_table, r, kc))
                        .collect(),
                });
            }
        }
    }
    (eqs, subsets)
}

/// Narrows every range by every equation until nothing changes (or a
/// range becomes empty, which is returned).
fn propagate(
    ranges: &mut [Vec<Vec<Range>>],
    eqs: &[Equation],
    subsets: &[(CellId, CellId)],
) -> Option<CellId> {
    let get = |ranges: &[Vec<Vec<Range>>], (t, r, k): CellId| ranges[t][r][k];
    for _ in 0..64 {
        let mut changed = false;
        for eq in eqs {
            let (mut lo_sum, mut hi_sum, mut infinite) = (0i64, 0i64, 0usize);
            for &c in &eq.parts {
                let x = get(ranges, c);
                lo_sum = lo_sum.saturating_add(x.lo);
                if x.hi >= INF {
                    infinite += 1;
                } else {
                    hi_sum += x.hi;
                }
            }
            let total = get(ranges, eq.total);
            let mut narrowed = total;
            narrowed.lo = narrowed.lo.max(lo_sum);
            if infinite == 0 {
                narrowed.hi = narrowed.hi.min(hi_sum);
            }
            for &c in &eq.parts {
                let x = get(ranges, c);
                let others_infinite = infinite - usize::from(x.hi >= INF);
                let mut y = x;
                if others_infinite == 0 {
                    let others_hi = hi_sum - if x.hi >= INF { 0 } else { x.hi };
                    y.lo = y.lo.max(total.lo - others_hi);
                }
                if total.hi < INF {
                    y.hi = y.hi.min(total.hi - (lo_sum - x.lo));
                }
                if y != x {
                    if y.lo > y.hi {
                        return Some(c);
                    }
                    ranges[c.0][c.1][c.2] = y;
                    changed = true;
                }
            }
            if narrowed != total {
                if narrowed.lo > narrowed.hi {
                    return Some(eq.total);
                }
                ranges[eq.total.0][eq.total.1][eq.total.2] = narrowed;
                changed = true;
            }
        }
        for &(part, total) in subsets {
            let (x, y) = (get(ranges, part), get(ranges, total));
            if x.hi > y.hi || y.lo < x.lo {
                ranges[part.0][part.1][part.2].hi = x.hi.min(y.hi);
                ranges[total.0][total.1][total.2].lo = y.lo.max(x.lo);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    None
}

/// Attacks a published release and returns what it recovered (empty: the
/// release passed). `tables` are (dimension, published frame).
pub fn audit(
    tables: &[(&str, &DataFrame)],
    hierarchy: &[Hierarchy],
    rules: &AuditRules,
) -> Result<Vec<Finding>, DisclosureError> {
    let tables = tables
        .iter()
        .map(|(d, f)| Table::read(d, f, &rules.total_label))
        .collect::<Result<Vec<_>, _>>()?;
    let mut findings = Vec::new();
    let links = resolve_links(&tables, hierarchy);
    let profile = rules.profile;
    let t = profile.redact_at_or_below() as i64;
    let rounding = profile.rounding();
    let base = match rounding {
        Rounding::NearestHalfUp { base } => base.max(1) as i64,
        Rounding::Midpoint { width } => width.max(1) as i64,
    };
    let finding = |attack, table: &Table, r: usize, column: &str, detail: String| Finding {
        attack,
        table: table.dimension.clone(),
        group: table.labels[r].clone(),
        column: column.to_string(),
        detail,
    };

    // Form of the published counts, and their ranges.
    let mut ranges: Vec<Vec<Vec<Range>>> = Vec::with_capacity(tables.len());
    for table in &tables {
        let mut grid = Vec::with_capacity(table.labels.len());
        for (r, row) in table.shown.iter().enumerate() {
            let mut cells = Vec::with_capacity(row.len());
            for (k, shown) in row.iter().enumerate() {
                let range = match *shown {
                    None => Range { lo: 0, hi: INF },
                    Some(v) if v < 0 => {
                        findings.push(finding(
                            Attack::NotRounded,
                            table,
                            r,
                            &table.counts[k],
                            "a negative count".into(),
                        ));
                        Range { lo: 0, hi: INF }
                    }
                    Some(v) => {
                        if !profile.is_midpoint() && t > 0 && (1..=t).contains(&v) {
                            findings.push(finding(
                                Attack::SmallCountPublished,
                                table,
                                r,
                                &table.counts[k],
                                format!("a count of 1 to {t} is published"),
                            ));
                        } else if !profile.is_midpoint() && base > 1 && v % base != 0 {
                            findings.push(finding(
                                Attack::NotRounded,
                                table,
                                r,
                                &table.counts[k],
                                format!("not a multiple of {base}"),
                            ));
                        }
                        let (lo, hi) = rounding.preimage(v as u64);
                        let lo = if v > 0 && !profile.is_midpoint() {
                            lo.max(t as u64 + 1)
                        } else {
                            lo
                        };
                        Range {
                            lo: lo as i64,
                            hi: hi as i64,
                        }
                    }
                };
                cells.push(range);
            }
            grid.push(cells);
        }
        ranges.push(grid);
    }

    // Interval narrowing over every count equation of the release.
    let (eqs, subsets) = count_equations(&tables, &links);
    if let Some((ti, r, k)) = propagate(&mut ranges, &eqs, &subsets) {
        let table = &tables[ti];
        findings.push(finding(Attack::Inconsistent, table, r, &table.counts[k], "no true counts fit every published total and its parts: a total differs from its parts by more than rounding".into()));
    } else if !profile.is_midpoint() {
        let min_values = base.max(2);
        for (ti, table) in tables.iter().enumerate() {
            for (r, row) in table.shown.iter().enumerate() {
                for (k, shown) in row.iter().enumerate() {
                    let x = ranges[ti][r][k];
                    if shown.is_none() && x.lo <= t && x.hi - x.lo + 1 < min_values {
                        let detail = if x.lo == x.hi {
                            "recovered exactly".to_string()
                        } else {
                            format!("narrowed to {} possible values", x.hi - x.lo + 1)
                        };
                        findings.push(finding(
                            Attack::IntervalNarrowing,
                            table,
                            r,
                            &table.counts[k],
                            detail,
                        ));
                    }
                }
            }
        }
        for eq in &eqs {
            let (tt, tr, tk) = eq.total;
            if tables[tt].shown[tr][tk].is_none() {
                continue;
            }
            let withheld: Vec<CellId> = eq
                .parts
                .iter()
                .copied()
                .filter(|&(a, b, c)| tables[a].shown[b][c].is_none())
                .collect();
            if withheld.len() < 2 {
                continue;
            }
            let shown_lo: i64 = eq
                .parts
                .iter()
                .filter(|&&(a, b, c)| tables[a].shown[b][c].is_some())
                .map(|&(a, b, c)| ranges[a][b][c].lo)
                .sum();
            let hi = ranges[tt][tr][tk].hi - shown_lo;
            if (1..=t).contains(&hi) {
                let (a, b, c) = withheld[0];
                findings.push(finding(
                    Attack::SmallWithheldSum,
                    &tables[a],
                    b,
                    &tables[a].counts[c],
                    format!(
                        "{} withheld cells together hold at most {t} people",
                        withheld.len()
                    ),
                ));
            }
        }
    }

    ratio_findings(&tables, rules, &ranges, &mut findings);
    sum_findings(&tables, &links, rules, &ranges, t, &mut findings);
    total_row_findings(&tables, &mut findings);
    findings.sort();
    findings.dedup();
    Ok(findings)
}

/// A link resolved to rows: parent table and row, child table and rows, and
/// the (parent, child) column-name pairs it equates (empty: by name).
struct ResolvedLink {
    parent_table: usize,
    parent: usize,
    child_table: usize,
    children: Vec<usize>,
    columns: Vec<(String, String)>,
}

impl ResolvedLink {
    /// Equated (parent, child) names among `parent_names`, found in the
    /// child by `child_has`.
    fn pairs<'a>(
        &'a self,
        parent_names: impl Iterator<Item = &'a String> + 'a,
        child_has: impl Fn(&str) -> bool + 'a,
    ) -> Vec<(String, String)> {
        if self.columns.is_empty() {
            parent_names
                .filter(|n| child_has(n))
                .map(|n| (n.clone(), n.clone()))
                .collect()
        } else {
            self.columns
                .iter()
                .filter(|(_, c)| child_has(c))
                .cloned()
                .collect()
        }
    }
}

/// Links resolved to rows; a link the
/// tables cannot resolve is skipped (it constrains nothing published).
fn resolve_links(tables: &[Table], hierarchy: &[Hierarchy]) -> Vec<ResolvedLink> {
    let index = |d: &str| tables.iter().position(|t| t.dimension == d);
    hierarchy
        .iter()
        .filter_map(|h| {
            let (pt, ct) = (index(&h.parent_dimension)?, index(&h.child_dimension)?);
            let p = tables[pt].row(&h.parent)?;
            let children = h
                .children
                .iter()
                .map(|c| tables[ct].row(c))
                .collect::<Option<Vec<_>>>()?;
            Some(ResolvedLink {
                parent_table: pt,
                parent: p,
                child_table: ct,
                children,
                columns: h.columns.clone(),
            })
        })
        .collect()
}

/// A published mean must be its published numerator over its published
/// denominator: anything else carries information they do not.
fn ratio_findings(
    tables: &[Table],
    rules: &AuditRules,
    ranges: &[Vec<Vec<Range>>],
    out: &mut Vec<Finding>,
) {
    for (ti, table) in tables.iter().enumerate() {
        for ratio in &rules.ratios {
            let (Some((means, mean_withheld)), Some((nums, _))) = (
                table.values.get(&ratio.name),
                table.values.get(&ratio.numerator),
            ) else {
                continue;
            };
            let Some(k) = table.column(&ratio.denominator) else {
                continue;
            };
            let scale = 10f64.powi(ratio.decimals);
            for r in 0..table.labels.len() {
                let Some(mean) = means[r].filter(|_| !mean_withheld[r]) else {
                    continue;
                };
                let detail = match (nums[r], table.shown[r][k]) {
                    (Some(num), Some(den)) if den > 0 => {
                        let derived = (num / den as f64 * scale).round() / scale;
                        if (derived - mean).abs() <= 0.5 / scale + 1e-12 {
                            continue;
                        }
                        let x = ranges[ti][r][k];
                        let fits = (x.lo.max(1)..=x.hi.min(x.lo.max(1) + 10_000))
                            .filter(|n| {
                                ((num / *n as f64) - mean).abs()
                                    <= 0.5 / scale + 1e-9 * num.abs().max(1.0)
                            })
                            .count();
                        format!(
                            "not {} ÷ {} as published; it narrows the {} to {fits} of the values its rounding allows",
                            ratio.numerator, ratio.denominator, ratio.denominator
                        )
                    }
                    _ => format!(
                        "published while its {} or {} is withheld",
                        ratio.numerator, ratio.denominator
                    ),
                };
                out.push(Finding {
                    attack: Attack::RatioInversion,
                    table: table.dimension.clone(),
                    group: table.labels[r].clone(),
                    column: ratio.name.clone(),
                    detail,
                });
            }
        }
    }
}

/// A sum equation over (table, row) cells: total and parts.
type SumEquation = ((usize, usize), Vec<(usize, usize)>);

/// Sums: published ones rounded to their base; in every sum equation (a
/// column against its `ALL` row, a parent against its children) a withheld
/// part must not be recoverable.
fn sum_findings(
    tables: &[Table],
    links: &[ResolvedLink],
    rules: &AuditRules,
    ranges: &[Vec<Vec<Range>>],
    t: i64,
    out: &mut Vec<Finding>,
) {
    for (name, step) in &rules.sums {
        let mut eqs: Vec<SumEquation> = Vec::new();
        for (ti, table) in tables.iter().enumerate() {
            let Some((values, withheld)) = table.values.get(name) else {
                continue;
            };
            for r in 0..table.labels.len() {
                if let Some(v) = values[r].filter(|_| !withheld[r]) {
                    let q = v / step;
                    if *step > 0.0 && (q - q.round()).abs() > 1e-6 {
                        out.push(Finding {
                            attack: Attack::NotRounded,
                            table: table.dimension.clone(),
                            group: table.labels[r].clone(),
                            column: name.clone(),
                            detail: format!("not a multiple of {step}"),
                        });
                    }
                }
            }
            if let Some(tr) = table.total_row {
                eqs.push(((ti, tr), table.groups().map(|r| (ti, r)).collect()));
            }
        }
        let equates = |l: &ResolvedLink| {
            l.columns.is_empty() || l.columns.iter().any(|(p, c)| p == name && c == name)
        };
        for link in links.iter().filter(|l| equates(l)) {
            eqs.push((
                (link.parent_table, link.parent),
                link.children
                    .iter()
                    .map(|&r| (link.child_table, r))
                    .collect(),
            ));
        }
        let is_withheld =
            |(ti, r): (usize, usize)| tables[ti].values.get(name).is_none_or(|(_, w)| w[r]);
        for (total, parts) in eqs {
            if is_withheld(total) {
                continue;
            }
            let withheld: Vec<(usize, usize)> =
                parts.iter().copied().filter(|&c| is_withheld(c)).collect();
            // How many people the withheld parts hold together: at most
            // the sum of their own bounds, and at most the total's
            // population less the published parts' populations.
            let population = |(ti, r): (usize, usize)| {
                tables[ti]
                    .column("population")
                    .map_or(Range { lo: 0, hi: INF }, |k| ranges[ti][r][k])
            };
            let own: i64 = withheld
                .iter()
                .map(|&c| population(c).hi)
                .fold(0i64, i64::saturating_add);
            let shown_lo: i64 = parts
                .iter()
                .filter(|&&c| !is_withheld(c))
                .map(|&c| population(c).lo)
                .sum();
            let people_hi = own.min(population(total).hi.saturating_sub(shown_lo));
            let detail = match withheld.len() {
                0 => continue,
                1 => format!(
                    "the only withheld part of `{}` in by_{}: recovered by differencing",
                    tables[total.0].labels[total.1], tables[total.0].dimension
                ),
                n if people_hi <= t => format!(
                    "{n} withheld parts of `{}` in by_{} hold at most {t} people together, and their sum is recovered by differencing",
                    tables[total.0].labels[total.1], tables[total.0].dimension
                ),
                _ => continue,
            };
            let (ti, r) = withheld[0];
            out.push(Finding {
                attack: Attack::SumDifferencing,
                table: tables[ti].dimension.clone(),
                group: tables[ti].labels[r].clone(),
                column: name.clone(),
                detail,
            });
        }
    }
}

/// An `ALL` row must say when parts of it are withheld.
fn total_row_findings(tables: &[Table], out: &mut Vec<Finding>) {
    for table in tables {
        let Some(tr) = table.total_row else { continue };
        let parts_withheld = table.groups().any(|r| {
            table.shown[r].iter().any(Option::is_none) || table.values.values().any(|(_, w)| w[r])
        });
        let claims_complete = table.complete.as_ref().is_none_or(|c| c[tr]);
        if parts_withheld && claims_complete {
            out.push(Finding {
                attack: Attack::PartialTotalUnflagged,
                table: table.dimension.clone(),
                group: table.labels[tr].clone(),
                column: COMPLETE_COLUMN.into(),
                detail: "parts of this total are withheld but the row does not say so".into(),
            });
        }
    }
}

/// The hierarchy as a table: one row per child.
pub fn hierarchy_frame(links: &[Hierarchy]) -> Result<DataFrame, DisclosureError> {
    let rows = links
        .iter()
        .flat_map(|h| h.children.iter().map(move |c| (h, c)));
    let column = |name: &str, f: &dyn Fn(&Hierarchy, &String) -> String| {
        Column::new(
            name.into(),
            rows.clone().map(|(h, c)| f(h, c)).collect::<Vec<_>>(),
        )
    };
    DataFrame::new_infer_height(vec![
        column("parent_dimension", &|h, _| h.parent_dimension.clone()),
        column("parent", &|h, _| h.parent.clone()),
        column("child_dimension", &|h, _| h.child_dimension.clone()),
        column("child", &|_, c| c.clone()),
        column("columns", &|h, _| h.columns_text()),
    ])
    .map_err(polars("building the hierarchy table"))
}

/// Reads [`hierarchy_frame`]'s table back.
pub fn read_hierarchy(frame: &DataFrame) -> Result<Vec<Hierarchy>, DisclosureError> {
    let text = |name: &str| -> Result<Vec<String>, DisclosureError> {
        Ok(frame
            .column(name)
            .map_err(polars("reading the hierarchy"))?
            .str()
            .map_err(polars("reading the hierarchy"))?
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect())
    };
    let (pd, p, cd, c, cols) = (
        text("parent_dimension")?,
        text("parent")?,
        text("child_dimension")?,
        text("child")?,
        text("columns")?,
    );
    let mut links: Vec<Hierarchy> = Vec::new();
    for i in 0..p.len() {
        match links.last_mut() {
            Some(h)
                if h.parent_dimension == pd[i]
                    && h.parent == p[i]
                    && h.child_dimension == cd[i]
                    && h.columns_text() == cols[i] =>
            {
                h.children.push(c[i].clone())
            }
            _ => links.push(Hierarchy {
                parent_dimension: pd[i].clone(),
                parent: p[i].clone(),
                child_dimension: cd[i].clone(),
                children: vec![c[i].clone()],
                columns: Hierarchy::parse_columns(&cols[i]),
            }),
        }
    }
    Ok(links)
}

#[cfg(test)]
mod tests;
