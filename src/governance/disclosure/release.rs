//! Disclosure control of a whole release: every summary table of one run is
//! protected together, so that no withheld cell can be recovered by
//! differencing within a table, against its `ALL` row, or across tables
//! linked by a public hierarchy (practice ⊂ PCN, LSOA ⊂ IMD quintile).
//!
//! [`protect`](super::protect) is this engine with one table and no links.
//! The steps are those of the module doc, with two additions: equations span
//! tables (a [`Link`] says a parent group is exactly the sum of its child
//! groups), and sums over people (expected admissions, cost) are
//! *magnitudes* with rules of their own: a contributor threshold, a
//! [`Dominance`] rule, and secondary suppression over the same equations.

use super::{
    Cell, DisclosureError, DisclosureProfile, DisclosureReport, Dominance, Layout, ProtectedRow,
    ProtectedTable, RedactionReason, SummaryTable, TotalRowMethod, ValueKind, primary_redaction,
    sum_of_protected, total_row_true_values, validate_rows,
};

/// A parent group that is exactly the union of some child groups, e.g. a PCN
/// and its practices: `parent_table`'s row `parent` = Σ `child_table`'s rows
/// `children`, for every count column and every sum the two tables share.
/// With `columns`, only for those (parent column, child column) pairs: e.g.
/// the people with a learning disability (`population` of that group) are
/// the `ltc_learning_disability` cell of another table's `ALL` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub parent_table: usize,
    pub parent: String,
    pub child_table: usize,
    pub children: Vec<String>,
    /// (parent column, child column); empty = every column both tables have.
    pub columns: Vec<(String, String)>,
}

impl Link {
    /// The (parent, child) column indices this link equates.
    fn pairs(&self, parent: &[String], child: &[String]) -> Vec<(usize, usize)> {
        let at = |names: &[String], name: &str| names.iter().position(|n| n == name);
        if self.columns.is_empty() {
            parent
                .iter()
                .enumerate()
                .filter_map(|(k, name)| Some((k, at(child, name)?)))
                .collect()
        } else {
            self.columns
                .iter()
                .filter_map(|(p, c)| Some((at(parent, p)?, at(child, c)?)))
                .collect()
        }
    }
}

/// A cell of the release: (table, row, column).
type CellId = (usize, usize, usize);

/// An additive equation `total = Σ parts`.
#[derive(Debug, Clone)]
struct Equation {
    total: CellId,
    parts: Vec<CellId>,
}

/// One table being protected: its true figures, with the independent total
/// row (if any) as the last row.
struct Grid<'a> {
    table: &'a SummaryTable,
    layout: Layout,
    method: Option<TotalRowMethod>,
    truth: Vec<Vec<u64>>,
    values: Vec<Vec<Option<f64>>>,
    /// Per row and value: contributors and the two largest contributions.
    contributions: Vec<Vec<Contribution>>,
    total_row: Option<usize>,
    /// Row of each group label.
    rows: std::collections::HashMap<&'a str, usize>,
}

/// What a value sums over: how many people, and the two largest of them.
#[derive(Debug, Clone, Copy, Default)]
struct Contribution {
    people: u64,
    largest: [f64; 2],
}

impl Contribution {
    fn merge(self, other: Contribution) -> Contribution {
        let mut all = [
            self.largest[0],
            self.largest[1],
            other.largest[0],
            other.largest[1],
        ];
        all.sort_by(|a, b| b.total_cmp(a));
        Contribution {
            people: self.people + other.people,
            largest: [all[0], all[1]],
        }
    }
}

impl<'a> Grid<'a> {
    fn new(table: &'a SummaryTable, profile: &DisclosureProfile) -> Result<Self, DisclosureError> {
        let spec = &table.spec;
        spec.validate()?;
        let layout = Layout::new(spec);
        validate_rows(table, &layout)?;
        let method = spec.total_row.as_ref().map(|r| match r.method {
            TotalRowMethod::ProfileDefault => profile.default_total_row_method(),
            m => m,
        });
        let mut truth: Vec<Vec<u64>> = table.rows.iter().map(|r| r.counts.clone()).collect();
        let mut values: Vec<Vec<Option<f64>>> =
            table.rows.iter().map(|r| r.values.clone()).collect();
        let mut contributions: Vec<Vec<Contribution>> = table
            .rows
            .iter()
            .map(|r| {
                (0..layout.value_names.len())
                    .map(|j| match r.contributions.get(j) {
                        Some(c) => Contribution {
                            people: c.people,
                            largest: c.largest,
                        },
                        // Unknown: the described count, no dominance test.
                        None => Contribution {
                            people: r.counts[layout.value_describes[j]],
                            largest: [0.0, 0.0],
                        },
                    })
                    .collect()
            })
            .collect();
        let mut total_row = None;
        if method == Some(TotalRowMethod::RoundedIndependently) {
            let mut sums = vec![0u64; layout.n_counts];
            for row in &table.rows {
                for (k, c) in row.counts.iter().enumerate() {
                    sums[k] = sums[k]
                        .checked_add(*c)
                        .ok_or_else(|| DisclosureError::Overflow {
                            column: layout.count_names[k].clone(),
                        })?;
                }
            }
            values.push(total_row_true_values(table, &layout));
            let merged = (0..layout.value_names.len())
                .map(|j| {
                    contributions
                        .iter()
                        .map(|c| c[j])
                        .fold(Contribution::default(), Contribution::merge)
                })
                .collect();
            contributions.push(merged);
            truth.push(sums);
            total_row = Some(truth.len() - 1);
        }
        let mut rows: std::collections::HashMap<&str, usize> = table
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.label.as_str(), i))
            .collect();
        if let (Some(tr), Some(label)) = (total_row, spec.total_row.as_ref()) {
            rows.insert(label.label.as_str(), tr);
        }
        Ok(Grid {
            rows,
            table,
            layout,
            method,
            truth,
            values,
            contributions,
            total_row,
        })
    }

    /// Row of each group label, and of the independent total row's label.
    fn row_of(&self, label: &str) -> Option<usize> {
        self.rows.get(label).copied()
    }

    /// Within-table count equations: each partition of each row, and each
    /// column against an independent total row.
    fn count_equations(&self, t: usize, out: &mut Vec<Equation>) {
        let n_groups = self.table.rows.len();
        for r in 0..self.truth.len() {
            for cells in &self.layout.partitions {
                out.push(Equation {
                    total: (t, r, 0),
                    parts: cells.iter().map(|&k| (t, r, k)).collect(),
                });
            }
        }
        if let Some(tr) = self.total_row {
            for k in 0..self.layout.n_counts {
                out.push(Equation {
                    total: (t, tr, k),
                    parts: (0..n_groups).map(|r| (t, r, k)).collect(),
                });
            }
        }
    }

    /// Within-table magnitude equations: each sum column against an
    /// independent total row.
    fn sum_equations(&self, t: usize, out: &mut Vec<Equation>) {
        let Some(tr) = self.total_row else { return };
        for (j, kind) in self.layout.value_kinds.iter().enumerate() {
            if *kind == ValueKind::Sum {
                out.push(Equation {
                    total: (t, tr, j),
                    parts: (0..self.table.rows.len()).map(|r| (t, r, j)).collect(),
                });
            }
        }
    }
}

/// Count and magnitude equations of each link, over the columns both tables
/// have. A link naming a group a table does not have is an error: the
/// hierarchy and the tables disagree.
fn link_equations(
    grids: &[Grid],
    links: &[Link],
) -> Result<(Vec<Equation>, Vec<Equation>), DisclosureError> {
    let mut counts = Vec::new();
    let mut sums = Vec::new();
    for link in links {
        let table = |i: usize| {
            grids.get(i).ok_or_else(|| DisclosureError::InvalidSpec {
                reason: format!("a link names table {i}, which is not in the release"),
            })
        };
        let (parent, child) = (table(link.parent_table)?, table(link.child_table)?);
        let row = |grid: &Grid, label: &str| {
            grid.row_of(label)
                .ok_or_else(|| DisclosureError::InvalidSpec {
                    reason: format!(
                        "a link names group `{label}`, which table `{}` does not have",
                        grid.table.spec.group_column
                    ),
                })
        };
        let p = row(parent, &link.parent)?;
        let children = link
            .children
            .iter()
            .map(|c| row(child, c))
            .collect::<Result<Vec<_>, _>>()?;
        for (k, kc) in link.pairs(&parent.layout.count_names, &child.layout.count_names) {
            counts.push(Equation {
                total: (link.parent_table, p, k),
                parts: children
                    .iter()
                    .map(|&r| (link.child_table, r, kc))
                    .collect(),
            });
        }
        let sum = |layout: &Layout, j: usize| layout.value_kinds[j] == ValueKind::Sum;
        for (j, jc) in link.pairs(&parent.layout.value_names, &child.layout.value_names) {
            if sum(&parent.layout, j) && sum(&child.layout, jc) {
                sums.push(Equation {
                    total: (link.parent_table, p, j),
                    parts: children
                        .iter()
                        .map(|&r| (link.child_table, r, jc))
                        .collect(),
                });
            }
        }
    }
    Ok((counts, sums))
}

/// Withheld state of every cell of every table.
type State = Vec<Vec<Vec<Option<RedactionReason>>>>;

/// The cell to withhold next so that `eq` becomes safe, or `None` when it is
/// safe. `safe_mass` says whether withheld parts are together safe to be
/// recovered as a sum; `size` orders candidates (smallest first).
fn complement_for(
    eq: &Equation,
    state: &State,
    safe_mass: &dyn Fn(&[CellId]) -> bool,
    size: &dyn Fn(CellId) -> f64,
) -> Option<CellId> {
    let is_withheld = |(t, r, k): CellId| state[t][r][k].is_some();
    let total_published = !is_withheld(eq.total);
    let withheld: Vec<CellId> = eq
        .parts
        .iter()
        .copied()
        .filter(|&c| is_withheld(c))
        .collect();
    let n_withheld = withheld.len() + usize::from(!total_published);
    if n_withheld == 0 {
        return None;
    }
    if n_withheld >= 2 && (!total_published || safe_mass(&withheld)) {
        return None;
    }
    let smallest = |nonzero: bool| {
        eq.parts
            .iter()
            .copied()
            .filter(|&c| !is_withheld(c) && ((size(c) > 0.0) == nonzero))
            .min_by(|&a, &b| size(a).total_cmp(&size(b)))
    };
    smallest(true)
        .or(total_published.then_some(eq.total))
        .or_else(|| smallest(false))
}

/// Withholds complementary cells until every equation is safe. Only ever
/// adds withheld cells, so it stops. Returns the number of passes.
fn suppress(
    equations: &[Equation],
    state: &mut State,
    safe_mass: &dyn Fn(&[CellId]) -> bool,
    size: &dyn Fn(CellId) -> f64,
) -> usize {
    let mut passes = 0;
    loop {
        passes += 1;
        let mut changed = false;
        for eq in equations {
            while let Some((t, r, k)) = complement_for(eq, state, safe_mass, size) {
                state[t][r][k] = Some(RedactionReason::Secondary);
                changed = true;
            }
        }
        if !changed {
            return passes;
        }
    }
}

/// Applies disclosure control jointly to every table of a release.
///
/// Tables are protected as by [`protect`](super::protect), and in addition
/// every link is an equation over the tables it joins, for counts and sums
/// alike. The result has one [`ProtectedTable`] per input, in order.
pub fn protect_release(
    tables: &[SummaryTable],
    links: &[Link],
    profile: &DisclosureProfile,
    dominance: &Dominance,
) -> Result<Vec<ProtectedTable>, DisclosureError> {
    profile.validate()?;
    dominance.validate()?;
    let grids = tables
        .iter()
        .map(|t| Grid::new(t, profile))
        .collect::<Result<Vec<_>, _>>()?;
    let threshold = profile.redact_at_or_below();
    let (link_counts, link_sums) = link_equations(&grids, links)?;

    // Counts.
    let mut counts: State = grids
        .iter()
        .map(|g| vec![vec![None; g.layout.n_counts]; g.truth.len()])
        .collect();
    let mut count_passes = 0;
    if !profile.is_midpoint() && threshold > 0 {
        let mut equations = Vec::new();
        for (t, grid) in grids.iter().enumerate() {
            primary_redaction(&grid.truth, &grid.layout, threshold, &mut counts[t]);
            grid.count_equations(t, &mut equations);
        }
        equations.extend(link_counts);
        let truth = |(t, r, k): CellId| grids[t].truth[r][k] as f64;
        let mass_ok =
            |cells: &[CellId]| cells.iter().map(|&c| truth(c)).sum::<f64>() > threshold as f64;
        count_passes = suppress(&equations, &mut counts, &mass_ok, &truth);
    }

    // Values: primary, then secondary over the sums' equations.
    let mut values: State = grids
        .iter()
        .map(|g| vec![vec![None; g.layout.value_names.len()]; g.truth.len()])
        .collect();
    for (t, grid) in grids.iter().enumerate() {
        primary_values(grid, &counts[t], profile, dominance, &mut values[t]);
    }
    let mut sum_equations = Vec::new();
    for (t, grid) in grids.iter().enumerate() {
        grid.sum_equations(t, &mut sum_equations);
    }
    sum_equations.extend(link_sums);
    let magnitude = |(t, r, j): CellId| grids[t].values[r][j].unwrap_or(0.0).abs();
    let mass_ok = |cells: &[CellId]| {
        let (sum, combined) =
            cells
                .iter()
                .fold((0.0, Contribution::default()), |(s, c), &(t, r, j)| {
                    (
                        s + magnitude((t, r, j)),
                        c.merge(grids[t].contributions[r][j]),
                    )
                });
        combined.people > threshold && !dominance.dominated(sum, combined.largest)
    };
    suppress(&sum_equations, &mut values, &mass_ok, &magnitude);

    grids
        .iter()
        .enumerate()
        .map(|(t, grid)| publish(grid, &counts[t], &values[t], profile, count_passes))
        .collect()
}

/// Values withheld on their own account: with their count, over 1..=t
/// contributors, or dominated by one or two contributors.
fn primary_values(
    grid: &Grid,
    counts: &[Vec<Option<RedactionReason>>],
    profile: &DisclosureProfile,
    dominance: &Dominance,
    out: &mut [Vec<Option<RedactionReason>>],
) {
    let t = profile.redact_at_or_below();
    let small = |n: u64| n >= 1 && n <= t;
    for (r, row) in out.iter_mut().enumerate() {
        for (j, slot) in row.iter_mut().enumerate() {
            let k = grid.layout.value_describes[j];
            let contribution = grid.contributions[r][j];
            let value = grid.values[r][j];
            *slot = if profile.is_midpoint() && small(grid.truth[r][k]) {
                Some(RedactionReason::SmallDescribedCount)
            } else if !profile.is_midpoint() && counts[r][k].is_some() {
                Some(RedactionReason::CountRedacted)
            } else if grid.layout.value_kinds[j] != ValueKind::Sum {
                None
            } else if small(contribution.people) {
                Some(RedactionReason::SmallDescribedCount)
            } else if value.is_some_and(|v| dominance.dominated(v.abs(), contribution.largest)) {
                Some(RedactionReason::Dominance)
            } else {
                None
            };
        }
    }
}

/// The published table: counts rounded or withheld, values rounded to their
/// precision or withheld, the derived total row if asked for, and whether
/// each row is complete.
fn publish(
    grid: &Grid,
    counts: &[Vec<Option<RedactionReason>>],
    values: &[Vec<Option<RedactionReason>>],
    profile: &DisclosureProfile,
    passes: usize,
) -> Result<ProtectedTable, DisclosureError> {
    let spec = &grid.table.spec;
    let rounding = profile.rounding();
    let total_label = || {
        spec.total_row
            .as_ref()
            .map(|t| t.label.clone())
            .unwrap_or_default()
    };
    let mut rows: Vec<ProtectedRow> = Vec::with_capacity(grid.truth.len() + 1);
    for (r, truth) in grid.truth.iter().enumerate() {
        let is_total = Some(r) == grid.total_row;
        let counts = truth
            .iter()
            .zip(&counts[r])
            .map(|(&v, s)| match s {
                Some(reason) => Cell::redacted(*reason),
                None => Cell::shown(Some(rounding.apply(v))),
            })
            .collect();
        let values = grid.values[r]
            .iter()
            .zip(&values[r])
            .zip(&spec.values)
            .map(|((v, s), column)| match s {
                Some(reason) => Cell::redacted(*reason),
                None => Cell::shown(v.map(|v| column.publish(v))),
            })
            .collect();
        rows.push(ProtectedRow {
            label: if is_total {
                total_label()
            } else {
                grid.table.rows[r].label.clone()
            },
            is_total,
            complete: true,
            counts,
            values,
        });
    }
    if let Some(tr) = grid.total_row {
        mean_column_equations(&mut rows, &grid.layout, tr);
    }
    if grid.method == Some(TotalRowMethod::SumOfProtected) {
        rows.push(sum_of_protected(&rows, &grid.layout, total_label())?);
    }
    mark_complete(&mut rows);
    let report = report(grid, &rows, counts, profile, passes);
    Ok(ProtectedTable {
        spec: spec.clone(),
        profile: *profile,
        total_row_method: grid.method,
        rows,
        report,
    })
}

/// With an independent total row, a mean column is an equation too (a
/// count-weighted mean): no mean may be the only withheld one in its column.
/// The total row's mean is withheld, since it is one cell that protects
/// them all. Sums are protected by their own equations instead, which never
/// withhold the total row first.
fn mean_column_equations(rows: &mut [ProtectedRow], layout: &Layout, total_row: usize) {
    for (j, kind) in layout.value_kinds.iter().enumerate() {
        if *kind != ValueKind::Mean {
            continue;
        }
        let withheld = rows.iter().filter(|r| r.values[j].is_redacted()).count();
        if withheld == 1 && !rows[total_row].values[j].is_redacted() {
            rows[total_row].values[j] = Cell::redacted(RedactionReason::Secondary);
        }
    }
}

/// A group row is complete when none of its cells is withheld; a total row
/// when no group cell is withheld either (it is still the rounded true
/// total, but the rows above will not add up to it).
fn mark_complete(rows: &mut [ProtectedRow]) {
    let own = |row: &ProtectedRow| {
        !row.counts.iter().any(Cell::is_redacted) && !row.values.iter().any(Cell::is_redacted)
    };
    let groups_complete = rows.iter().filter(|r| !r.is_total).all(own);
    for row in rows.iter_mut() {
        row.complete = own(row) && (!row.is_total || groups_complete);
    }
}

/// What disclosure control did to one table, in counts only.
fn report(
    grid: &Grid,
    rows: &[ProtectedRow],
    counts: &[Vec<Option<RedactionReason>>],
    profile: &DisclosureProfile,
    passes: usize,
) -> DisclosureReport {
    let mut report = DisclosureReport {
        profile: profile.to_string(),
        groups: grid.table.rows.len(),
        count_cells: grid.truth.len() * grid.layout.n_counts,
        secondary_passes: passes,
        ..Default::default()
    };
    for (r, row_state) in counts.iter().enumerate() {
        let suppressed = row_state
            .first()
            .is_some_and(|s| *s == Some(RedactionReason::SmallGroup));
        if suppressed && Some(r) != grid.total_row {
            report.groups_suppressed += 1;
        }
        for s in row_state.iter().flatten() {
            match s {
                RedactionReason::SmallGroup | RedactionReason::SmallCount => {
                    report.redacted_small += 1
                }
                RedactionReason::SmallComplement => report.redacted_complement += 1,
                _ => report.redacted_secondary += 1,
            }
        }
    }
    let cells = rows.iter().flat_map(|r| r.values.iter());
    report.values_redacted = cells.clone().filter(|c| c.is_redacted()).count();
    report.values_dominated = cells
        .filter(|c| c.redacted == Some(RedactionReason::Dominance))
        .count();
    report
}
