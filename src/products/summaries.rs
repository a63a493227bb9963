//! Neighbourhood summaries for commissioners: aggregates by PCN, practice,
//! LSOA, IMD quintile, ethnicity group, age band and sex, every one passed
//! through disclosure control before it is written.
//!
//! Purpose: planning (secondary use). People with a National Data Opt-out or
//! a Type 1 objection are excluded before anything is counted. This module
//! never writes an unprotected count and never a person-level column.

use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use super::{ProductError, Result};
use crate::codelists::Ltc;
use crate::cohort::Tier;
use crate::cohort::segments::SEGMENTS;
pub use crate::governance::audit::HIERARCHY_FILE;
use crate::governance::audit::{
    AuditRules, Finding, Hierarchy, Ratio, audit, hierarchy_frame, read_hierarchy,
};
use crate::governance::disclosure::{
    COMPLETE_COLUMN, Contributions, DisclosureError, DisclosureProfile, DisclosureReport,
    Dominance, GroupRow, Link, REDACTED_SUFFIX, SummaryTable, TableSpec, TotalRowMethod, ValueKind,
    protect_release, to_dataframe,
};
use crate::model::metrics::Z_95 as Z95;
use crate::publication::manifest::OutputFile;
use crate::publication::parquet::write_parquet;

/// The grouping columns, one summary file each; `segment` gives the tier × segment table.
pub const DIMENSIONS: &[&str] = &[
    "pcn_code",
    "practice_code",
    "lsoa",
    "imd_quintile",
    "ethnicity_group",
    "age_band",
    "sex",
    "segment",
];

/// Label of the all-groups row.
pub const TOTAL_LABEL: &str = "ALL";

/// Label for people with no value of the grouping column.
pub const UNKNOWN_LABEL: &str = "unknown";

/// eFI categories counted as frailty columns.
const FRAILTY: &[(&str, &str)] = &[
    ("frail_mild", "mild frailty"),
    ("frail_moderate", "moderate frailty"),
    ("frail_severe", "severe frailty"),
];

/// Number of count columns: tiers, segments, long-term conditions, frailty.
const COUNTS: usize = Tier::ALL.len() + SEGMENTS.len() + Ltc::ALL.len() + FRAILTY.len();
/// Where each family of count columns starts, in the order of [`count_names`].
const SEGMENT_AT: usize = Tier::ALL.len();
const LTC_AT: usize = SEGMENT_AT + SEGMENTS.len();
const FRAILTY_AT: usize = LTC_AT + Ltc::ALL.len();

/// Risks are summed in fixed point, as integer multiples of 2⁻⁶², so a
/// group's total does not depend on the order its people are added in
/// (published figures are the same whatever the row order or thread count)
/// and is exact to 2⁻⁶² per person.
const RISK_SCALE: f64 = (1u64 << 62) as f64;
/// Costs are summed in integer micro-units, like the `cost_12m` feature.
const COST_SCALE: f64 = 1e6;
/// People are read in blocks of this many rows: a reused buffer, not a
/// whole-population copy.
const BLOCK: usize = 1 << 16;
/// People worked out per task within a block.
const PEOPLE_CHUNK: usize = 1 << 13;
/// Marks "counted in no column of this family" in [`Person::classes`].
const NONE: u8 = u8::MAX;

/// One protected summary and what disclosure control did to it.
pub struct Summary {
    pub dimension: &'static str,
    pub frame: DataFrame,
    pub report: DisclosureReport,
}

/// The count columns, in order: tiers, segments, long-term conditions, frailty.
fn count_names() -> Vec<String> {
    let mut names = Vec::with_capacity(COUNTS);
    names.extend(Tier::ALL.iter().map(|t| format!("tier_{}", t.label())));
    names.extend(SEGMENTS.iter().map(|s| format!("segment_{}", s.label)));
    names.extend(Ltc::ALL.iter().map(|l| format!("ltc_{}", l.key())));
    names.extend(FRAILTY.iter().map(|(name, _)| name.to_string()));
    names
}

/// What one person adds to every summary.
#[derive(Clone, Copy, Default)]
struct Person {
    /// Count columns of tier, segment and frailty this person is in
    /// ([`NONE`] when in none: no tier, an unknown label, not frail).
    classes: [u8; 3],
    /// Bit `i`: the person has `Ltc::ALL[i]`.
    ltcs: u16,
    /// Risk and risk × (1 − risk) in units of 2⁻⁶²; `None` when risk is missing.
    risk: Option<(u64, u64)>,
    /// `cost_12m` in micro-units; `None` when missing (counted, never summed as 0).
    cost: Option<i64>,
}

/// Running totals of one group.
#[derive(Clone, Default)]
struct Totals {
    population: i64,
    counts: [i64; COUNTS],
    risk_n: i64,
    risk: u128,
    variance: u128,
    /// The two largest risks, for the dominance rule.
    risk_top: [u64; 2],
    /// People with a known cost, their total, and the two largest costs.
    cost_n: i64,
    cost: i128,
    cost_top: [i64; 2],
}

/// Keeps the two largest of `top` and `x`, largest first.
pub(super) fn keep_top<T: Copy + PartialOrd>(top: &mut [T; 2], x: T) {
    if x > top[0] {
        *top = [x, top[0]];
    } else if x > top[1] {
        top[1] = x;
    }
}

impl Totals {
    fn add(&mut self, person: &Person) {
        self.population += 1;
        for class in person.classes {
            if class != NONE {
                self.counts[usize::from(class)] += 1;
            }
        }
        let mut ltcs = person.ltcs;
        while ltcs != 0 {
            self.counts[LTC_AT + ltcs.trailing_zeros() as usize] += 1;
            ltcs &= ltcs - 1;
        }
        if let Some((risk, variance)) = person.risk {
            self.risk_n += 1;
            self.risk += u128::from(risk);
            self.variance += u128::from(variance);
            keep_top(&mut self.risk_top, risk);
        }
        if let Some(cost) = person.cost {
            self.cost_n += 1;
            self.cost += i128::from(cost);
            keep_top(&mut self.cost_top, cost);
        }
    }

    fn merge(&mut self, other: &Totals) {
        self.population += other.population;
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine += theirs;
        }
        self.risk_n += other.risk_n;
        self.risk += other.risk;
        self.variance += other.variance;
        for x in other.risk_top {
            keep_top(&mut self.risk_top, x);
        }
        self.cost_n += other.cost_n;
        self.cost += other.cost;
        for x in other.cost_top {
            keep_top(&mut self.cost_top, x);
        }
    }
}

/// One summary being filled: a group number per distinct label of the
/// dimension, and each group's totals.
#[derive(Default)]
struct Groups {
    codes: hashbrown::HashMap<Box<str>, u32>,
    missing: Option<u32>,
    labels: Vec<Option<Box<str>>>,
    totals: Vec<Totals>,
}

impl Groups {
    fn group_of(&mut self, label: Option<&str>) -> usize {
        let code = match label {
            None => *self.missing.get_or_insert(self.labels.len() as u32),
            Some(label) => match self.codes.get(label) {
                Some(code) => *code,
                None => {
                    let code = self.labels.len() as u32;
                    self.codes.insert(label.into(), code);
                    code
                }
            },
        } as usize;
        if code == self.labels.len() {
            self.labels.push(label.map(Into::into));
            self.totals.push(Totals::default());
        }
        code
    }

    /// Adds one block of people, `labels` being their values of the dimension.
    /// Neighbours usually share a label (people come grouped by practice), so
    /// the last label's group is reused without hashing.
    fn add(&mut self, labels: &StringChunked, people: &[Option<Person>]) {
        let mut last: Option<(Option<&str>, usize)> = None;
        for (label, person) in labels.iter().zip(people) {
            let Some(person) = person else { continue };
            let group = match last {
                Some((seen, group)) if seen == label => group,
                _ => {
                    let group = self.group_of(label);
                    last = Some((label, group));
                    group
                }
            };
            self.totals[group].add(person);
        }
    }

    /// Each group's label (missing values as [`UNKNOWN_LABEL`], merged with
    /// any real value of that text) and totals, sorted by label.
    fn finish(self) -> Vec<(String, Totals)> {
        let mut groups: Vec<(String, Totals)> = self
            .labels
            .into_iter()
            .zip(self.totals)
            .map(|(label, totals)| {
                (
                    label.map_or_else(|| UNKNOWN_LABEL.into(), String::from),
                    totals,
                )
            })
            .collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        let mut merged: Vec<(String, Totals)> = Vec::with_capacity(groups.len());
        for (label, totals) in groups {
            match merged.last_mut() {
                Some((last, sum)) if *last == label => sum.merge(&totals),
                _ => merged.push((label, totals)),
            }
        }
        merged
    }
}

/// The columns of `people` the summaries read, as typed columns: labels as
/// text whatever their stored type.
struct Inputs {
    tier: StringChunked,
    segment: StringChunked,
    efi_category: StringChunked,
    ltcs: Vec<BooleanChunked>,
    risk: Float64Chunked,
    cost: Float64Chunked,
    dimensions: Vec<StringChunked>,
}

/// A column of `people` as text, whatever its stored type.
pub(super) fn text(people: &DataFrame, name: &str) -> Result<StringChunked> {
    Ok(people.column(name)?.cast(&DataType::String)?.str()?.clone())
}

impl Inputs {
    fn of(people: &DataFrame) -> Result<Inputs> {
        let ltcs = Ltc::ALL
            .iter()
            .map(|l| Ok(people.column(&format!("ltc_{}", l.key()))?.bool()?.clone()))
            .collect::<Result<Vec<_>>>()?;
        let dimensions = DIMENSIONS
            .iter()
            .map(|d| text(people, d))
            .collect::<Result<Vec<_>>>()?;
        Ok(Inputs {
            tier: text(people, "tier")?,
            segment: text(people, "segment")?,
            efi_category: text(people, "efi_category")?,
            ltcs,
            risk: people
                .column("risk")?
                .cast(&DataType::Float64)?
                .f64()?
                .clone(),
            cost: people
                .column("cost_12m")?
                .cast(&DataType::Float64)?
                .f64()?
                .clone(),
            dimensions,
        })
    }

    /// Rows `start..start + out.len()` as [`Person`]s; `None` for people
    /// not counted (`counted[row]` false).
    fn people(
        &self,
        start: usize,
        counted: Option<&[bool]>,
        out: &mut [Option<Person>],
    ) -> Result<()> {
        let (offset, len) = (start as i64, out.len());
        let position = |labels: &StringChunked, of: &dyn Fn(&str) -> Option<usize>| -> Vec<u8> {
            labels
                .slice(offset, len)
                .iter()
                .map(|label| label.and_then(of).map_or(NONE, |i| i as u8))
                .collect()
        };
        let tiers = position(&self.tier, &|l| {
            Tier::ALL.iter().position(|t| t.label() == l)
        });
        let segments = position(&self.segment, &|l| {
            SEGMENTS
                .iter()
                .position(|s| s.label == l)
                .map(|i| SEGMENT_AT + i)
        });
        let frailty = position(&self.efi_category, &|l| {
            FRAILTY
                .iter()
                .position(|(_, c)| *c == l)
                .map(|i| FRAILTY_AT + i)
        });
        for (i, slot) in out.iter_mut().enumerate() {
            let included = counted.is_none_or(|c| c.get(start + i).copied().unwrap_or(false));
            *slot = included.then(|| Person {
                classes: [tiers[i], segments[i], frailty[i]],
                ..Person::default()
            });
        }
        for (bit, ltc) in self.ltcs.iter().enumerate() {
            for (slot, has) in out.iter_mut().zip(ltc.slice(offset, len).iter()) {
                if let (Some(person), Some(true)) = (slot, has) {
                    person.ltcs |= 1 << bit;
                }
            }
        }
        let values = self.risk.slice(offset, len);
        let costs = self.cost.slice(offset, len);
        for (i, ((slot, risk), cost)) in out
            .iter_mut()
            .zip(values.iter())
            .zip(costs.iter())
            .enumerate()
        {
            let Some(person) = slot else { continue };
            person.risk = risk.map(|p| fixed_risk(p, start + i)).transpose()?;
            person.cost = cost.map(|c| micro_units(c, start + i)).transpose()?;
        }
        Ok(())
    }
}

/// A probability and its p(1 − p) in units of 2⁻⁶².
fn fixed_risk(p: f64, row: usize) -> Result<(u64, u64)> {
    if !(0.0..=1.0).contains(&p) {
        return Err(invalid(row, "risk", "a probability between 0 and 1"));
    }
    Ok((
        (p * RISK_SCALE).round() as u64,
        (p * (1.0 - p) * RISK_SCALE).round() as u64,
    ))
}

/// A cost in micro-units.
fn micro_units(cost: f64, row: usize) -> Result<i64> {
    let micros = (cost * COST_SCALE).round();
    if !micros.is_finite() || micros.abs() >= i64::MAX as f64 {
        return Err(invalid(row, "cost_12m", "a finite amount"));
    }
    Ok(micros as i64)
}

/// A scored value the summaries cannot count: a fault upstream, named by row
/// and column, never by value (the value is about a person).
fn invalid(row: usize, column: &str, expected: &str) -> ProductError {
    ProductError::Internal(format!(
        "summaries: row {} of the scored population, column `{column}`: expected {expected}",
        row + 1
    ))
}

/// Fills every dimension's groups in one pass over `people` (those with
/// `counted[row]`, or everyone), block by block; the dimensions are filled in
/// parallel.
fn tally(people: &DataFrame, counted: Option<&[bool]>) -> Result<Vec<Vec<(String, Totals)>>> {
    tally_in_blocks(people, counted, BLOCK)
}

/// [`tally`], reading `rows` people at a time.
fn tally_in_blocks(
    people: &DataFrame,
    counted: Option<&[bool]>,
    rows: usize,
) -> Result<Vec<Vec<(String, Totals)>>> {
    let rows = rows.max(1);
    let inputs = Inputs::of(people)?;
    let mut groups: Vec<Groups> = DIMENSIONS.iter().map(|_| Groups::default()).collect();
    let mut block = vec![None; rows];
    for start in (0..people.height()).step_by(rows) {
        let len = rows.min(people.height() - start);
        let block = &mut block[..len];
        block
            .par_chunks_mut(PEOPLE_CHUNK)
            .enumerate()
            .try_for_each(|(i, people)| inputs.people(start + i * PEOPLE_CHUNK, counted, people))?;
        groups
            .par_iter_mut()
            .zip(&inputs.dimensions)
            .for_each(|(groups, labels)| groups.add(&labels.slice(start as i64, len), block));
    }
    Ok(groups.into_iter().map(Groups::finish).collect())
}

/// Expected admissions are published to the nearest whole admission.
pub const EXPECTED_ROUND_TO: f64 = 1.0;
/// Costs are published to the nearest £100.
pub const COST_ROUND_TO: f64 = 100.0;
/// `mean_risk` is published to this many decimal places.
pub const MEAN_DECIMALS: i32 = 4;
/// Count of people whose cost is missing (they add nothing to `cost_12m`).
const COST_MISSING: &str = "cost_12m_missing";

/// The columns of every summary: what disclosure control protects. The
/// mean and the interval bounds are not here: they are derived afterwards
/// from published figures only ([`derive_from_published`]).
fn spec(dimension: &str) -> TableSpec {
    let names = count_names();
    TableSpec::new(dimension, "population")
        .partition("tier", names[..SEGMENT_AT].to_vec())
        .partition("segment", names[SEGMENT_AT..LTC_AT].to_vec())
        .subsets(names[LTC_AT..].iter().cloned().chain([COST_MISSING.into()]))
        .value("expected_admissions", "population", ValueKind::Sum)
        .rounded_to(EXPECTED_ROUND_TO)
        .value("cost_12m", "population", ValueKind::Sum)
        .rounded_to(COST_ROUND_TO)
        .with_total_row(TOTAL_LABEL, TotalRowMethod::RoundedIndependently)
}

/// The unprotected summary of one dimension: a row per group, sorted by
/// label, with who contributes to each sum.
fn raw_table(dimension: &str, groups: &[(String, Totals)]) -> SummaryTable {
    let rows = groups
        .iter()
        .map(|(label, t)| {
            let mut counts = Vec::with_capacity(COUNTS + 2);
            counts.push(t.population as u64);
            counts.extend(t.counts.iter().map(|&c| c as u64));
            counts.push((t.population - t.cost_n) as u64);
            GroupRow {
                label: label.clone(),
                counts,
                values: vec![
                    Some(t.risk as f64 / RISK_SCALE),
                    (t.cost_n > 0).then(|| t.cost as f64 / COST_SCALE),
                ],
                contributions: vec![
                    Contributions {
                        people: t.risk_n as u64,
                        largest: t.risk_top.map(|r| r as f64 / RISK_SCALE),
                    },
                    Contributions {
                        people: t.cost_n as u64,
                        largest: t.cost_top.map(|c| c as f64 / COST_SCALE),
                    },
                ],
            }
        })
        .collect();
    SummaryTable {
        spec: spec(dimension),
        rows,
    }
}

/// Half-width of the 95% interval of each group's expected admissions
/// (Poisson-binomial: variance Σ p(1 − p)), and of the whole population
/// for the `ALL` row, keyed by label.
fn spreads(groups: &[(String, Totals)]) -> Vec<(String, f64)> {
    let width = |variance: u128| Z95 * (variance as f64 / RISK_SCALE).sqrt();
    let all: u128 = groups.iter().map(|(_, t)| t.variance).sum();
    groups
        .iter()
        .map(|(label, t)| (label.clone(), width(t.variance)))
        .chain([(TOTAL_LABEL.to_string(), width(all))])
        .collect()
}

/// Adds the figures derived from published ones: `mean_risk` = published
/// expected admissions ÷ published population, and the interval bounds =
/// published expected admissions ∓ the half-width rounded like them. They
/// reveal nothing the published figures do not, and are withheld when
/// what they come from is.
fn derive_from_published(frame: &DataFrame, spreads: &[(String, f64)]) -> Result<DataFrame> {
    let labels = frame
        .column(frame.get_column_names()[0].as_str())?
        .str()?
        .clone();
    let population = frame.column("population")?.i32()?.clone();
    let expected = frame.column("expected_admissions")?.f64()?.clone();
    let scale = 10f64.powi(MEAN_DECIMALS);
    // By label, not by scanning: by_lsoa has a row per LSOA.
    let spread_of: hashbrown::HashMap<&str, f64> =
        spreads.iter().map(|(l, w)| (l.as_str(), *w)).collect();
    let mut mean = Vec::with_capacity(frame.height());
    let (mut lower, mut upper) = (Vec::new(), Vec::new());
    for ((label, n), e) in labels.iter().zip(population.iter()).zip(expected.iter()) {
        mean.push(match (n, e) {
            (Some(n), Some(e)) if n > 0 => Some((e / f64::from(n) * scale).round() / scale),
            _ => None,
        });
        let spread = label
            .and_then(|l| spread_of.get(l))
            .map(|w| (w / EXPECTED_ROUND_TO).round() * EXPECTED_ROUND_TO);
        let (lo, hi) = match (e, spread) {
            (Some(e), Some(w)) => (Some((e - w).max(0.0)), Some(e + w)),
            _ => (None, None),
        };
        lower.push(lo);
        upper.push(hi);
    }
    let withheld = |name: &str| -> Result<BooleanChunked> {
        Ok(frame
            .column(&format!("{name}{REDACTED_SUFFIX}"))?
            .bool()?
            .clone())
    };
    let mean_withheld = (&withheld("population")? | &withheld("expected_admissions")?)
        .with_name(format!("mean_risk{REDACTED_SUFFIX}").into());
    let bound_withheld = withheld("expected_admissions")?;
    let mut out = frame.drop(COMPLETE_COLUMN)?;
    out.with_column(Column::new("mean_risk".into(), mean))?;
    out.with_column(mean_withheld.into_column())?;
    for (name, values) in [
        ("expected_admissions_lower", lower),
        ("expected_admissions_upper", upper),
    ] {
        out.with_column(Column::new(name.into(), values))?;
        out.with_column(
            bound_withheld
                .clone()
                .with_name(format!("{name}{REDACTED_SUFFIX}").into())
                .into_column(),
        )?;
    }
    out.with_column(frame.column(COMPLETE_COLUMN)?.clone())?;
    Ok(out)
}

/// The parent → children links of the release that a reader can know from
/// public facts (a practice's PCN, an LSOA's IMD quintile), as observed in
/// the counted people. A parent is linked only when every person in it is
/// in a child that belongs to that parent alone, so that it really is the
/// sum of its children.
fn hierarchy(people: &DataFrame, counted: Option<&[bool]>) -> Result<Vec<Hierarchy>> {
    let mut links = Vec::new();
    for (parent, child) in HIERARCHIES {
        let parents = text(people, parent)?;
        let children = text(people, child)?;
        let mut seen: hashbrown::HashSet<(&str, &str)> = Default::default();
        for (row, (p, c)) in parents.iter().zip(children.iter()).enumerate() {
            if counted.is_none_or(|m| m.get(row).copied().unwrap_or(false)) {
                seen.insert((p.unwrap_or(UNKNOWN_LABEL), c.unwrap_or(UNKNOWN_LABEL)));
            }
        }
        let pairs: std::collections::BTreeSet<(String, String)> = seen
            .into_iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect();
        let mut parents_of: std::collections::BTreeMap<&str, usize> = Default::default();
        for (_, c) in &pairs {
            *parents_of.entry(c.as_str()).or_default() += 1;
        }
        let mut by_parent: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
        let mut broken: std::collections::BTreeSet<&str> = Default::default();
        for (p, c) in &pairs {
            if parents_of.get(c.as_str()).copied().unwrap_or(0) == 1 {
                by_parent.entry(p.as_str()).or_default().push(c.clone());
            } else {
                broken.insert(p.as_str());
            }
        }
        for (p, children) in by_parent {
            if !broken.contains(p) {
                links.push(Hierarchy {
                    parent_dimension: parent.to_string(),
                    parent: p.to_string(),
                    child_dimension: child.to_string(),
                    children,
                    columns: Vec::new(),
                });
            }
        }
    }
    Ok(links)
}

/// Public hierarchies between dimensions: (parent, child).
pub const HIERARCHIES: &[(&str, &str)] = &[("pcn_code", "practice_code"), ("imd_quintile", "lsoa")];

/// The release's links as the disclosure engine takes them, tables named
/// by `names`.
fn engine_links(names: &[String], links: &[Hierarchy]) -> Vec<Link> {
    let index = |d: &str| names.iter().position(|x| x == d);
    links
        .iter()
        .filter_map(|h| {
            Some(Link {
                parent_table: index(&h.parent_dimension)?,
                parent: h.parent.clone(),
                child_table: index(&h.child_dimension)?,
                children: h.children.clone(),
                columns: h.columns.clone(),
            })
        })
        .collect()
}

/// What the audit of a release needs to know about strata's summaries.
pub fn audit_rules(profile: &DisclosureProfile) -> AuditRules {
    AuditRules {
        profile: *profile,
        total_label: TOTAL_LABEL.into(),
        sums: vec![
            ("expected_admissions".into(), EXPECTED_ROUND_TO),
            ("cost_12m".into(), COST_ROUND_TO),
        ],
        ratios: vec![Ratio {
            name: "mean_risk".into(),
            numerator: "expected_admissions".into(),
            denominator: "population".into(),
            decimals: MEAN_DECIMALS,
        }],
    }
}

/// Every summary of the planning population, protected as one release and
/// audited; `counted` limits it to people who may be used for planning.
fn release(
    people: &DataFrame,
    counted: Option<&[bool]>,
    profile: &DisclosureProfile,
    dominance: &Dominance,
) -> Result<Release> {
    let tallies = tally(people, counted)?;
    let inequalities = super::inequalities::tally(people, counted)?;
    let mut links = hierarchy(people, counted)?;
    let labels: Vec<(&str, Vec<String>)> = DIMENSIONS
        .iter()
        .zip(&tallies)
        .map(|(d, groups)| (*d, groups.iter().map(|(l, _)| l.clone()).collect()))
        .collect();
    links.extend(inequalities.links(&labels, DIMENSIONS[0]));
    let mut names: Vec<String> = DIMENSIONS.iter().map(|d| d.to_string()).collect();
    let mut tables: Vec<SummaryTable> = DIMENSIONS
        .iter()
        .zip(&tallies)
        .map(|(d, groups)| raw_table(d, groups))
        .collect();
    for (name, table) in inequalities.tables() {
        names.push(name);
        tables.push(table);
    }
    let protected = protect_release(&tables, &engine_links(&names, &links), profile, dominance)?;
    let mut summaries = Vec::with_capacity(DIMENSIONS.len());
    let mut groupings = Vec::new();
    for (i, table) in protected.into_iter().enumerate() {
        match (DIMENSIONS.get(i), tallies.get(i)) {
            (Some(dimension), Some(groups)) => summaries.push(Summary {
                dimension,
                frame: derive_from_published(&to_dataframe(&table)?, &spreads(groups))?,
                report: table.report,
            }),
            _ => groupings.push(to_dataframe(&table)?),
        }
    }
    let core20plus5 = inequalities.publish(&groupings, profile.redact_at_or_below())?;
    let split = super::inequalities::split(&core20plus5)?;
    let published: Vec<(&str, &DataFrame)> = summaries
        .iter()
        .map(|s| (s.dimension, &s.frame))
        .chain(split.iter().map(|(n, f)| (n.as_str(), f)))
        .collect();
    let findings = audit(&published, &links, &audit_rules(profile))?;
    if !findings.is_empty() {
        return Err(DisclosureError::AuditFailed {
            findings: findings.len(),
            first: findings[0].to_string(),
        }
        .into());
    }
    Ok(Release {
        summaries,
        core20plus5,
        links,
    })
}

/// A protected, audited release: the summaries by dimension, the
/// Core20PLUS5 file and the public links they were protected over.
struct Release {
    summaries: Vec<Summary>,
    core20plus5: DataFrame,
    links: Vec<Hierarchy>,
}

/// Builds, protects and audits the summary by `dimension` of the planning
/// population (people already limited to secondary use), as part of the
/// whole release.
pub fn summarise(
    planning: &DataFrame,
    dimension: &'static str,
    profile: &DisclosureProfile,
) -> Result<Summary> {
    release(planning, None, profile, &Dominance::default())?
        .summaries
        .into_iter()
        .find(|s| s.dimension == dimension)
        .ok_or_else(|| {
            PolarsError::ColumnNotFound(format!("`{dimension}` is not a summary dimension").into())
                .into()
        })
}

/// Attacks the published release in `run_dir/summaries/` (as
/// `strata audit --run` does): every summary table present, the hierarchy
/// it was published with (none for runs made before it was written), and
/// the profile the run used.
pub fn audit_run(run_dir: &Path, profile: &DisclosureProfile) -> Result<Vec<Finding>> {
    let folder = run_dir.join("summaries");
    let read = |name: &str| -> Result<Option<DataFrame>> {
        let path = folder.join(name);
        if !path.exists() {
            return Ok(None);
        }
        let file =
            std::fs::File::open(&path).map_err(|source| crate::publication::OutputError::Io {
                path: path.clone(),
                action: "opening",
                source,
            })?;
        let frame = ParquetReader::new(file)
            .finish()
            .map_err(|e| ProductError::Internal(format!("reading {}: {e}", path.display())))?;
        Ok(Some(frame))
    };
    let mut frames: Vec<(String, DataFrame)> = Vec::new();
    for dimension in DIMENSIONS {
        if let Some(frame) = read(&format!("by_{dimension}.parquet"))? {
            frames.push((dimension.to_string(), frame));
        }
    }
    if let Some(file) = read(super::inequalities::FILE)? {
        frames.extend(super::inequalities::split(&file)?);
    }
    if frames.is_empty() {
        return Err(ProductError::Internal(format!(
            "{}: no summary tables to audit (expected by_<dimension>.parquet)",
            folder.display()
        )));
    }
    let links = match read(HIERARCHY_FILE)? {
        Some(frame) => read_hierarchy(&frame)?,
        None => Vec::new(),
    };
    let tables: Vec<(&str, &DataFrame)> = frames.iter().map(|(d, f)| (d.as_str(), f)).collect();
    Ok(audit(&tables, &links, &audit_rules(profile))?)
}

/// What disclosure control did to each summary, by dimension.
pub type DisclosureReports = Vec<(String, DisclosureReport)>;

/// Writes every summary into `dir/summaries/by_<dimension>.parquet`, and
/// the public hierarchy the audit used into `summaries/hierarchy.parquet`,
/// counting only the people of `people` who may be used for secondary
/// purposes (no opt-out in `patients`). Refuses (exit 13) when the audit
/// recovers anything.
pub fn write_summaries(
    dir: &Path,
    people: &DataFrame,
    patients: &DataFrame,
    profile: &DisclosureProfile,
    dominance: &Dominance,
) -> Result<(Vec<OutputFile>, DisclosureReports)> {
    let counted = crate::governance::opt_out::secondary_use_mask(people, patients)?;
    let Release {
        summaries,
        mut core20plus5,
        links,
    } = release(people, Some(&counted), profile, dominance)?;
    let folder = dir.join("summaries");
    std::fs::create_dir_all(&folder).map_err(|source| crate::publication::OutputError::Io {
        path: folder.clone(),
        action: "creating the summaries folder",
        source,
    })?;
    let mut files = Vec::new();
    let mut reports = Vec::new();
    for mut summary in summaries {
        let name = format!("by_{}.parquet", summary.dimension);
        let rows = write_parquet(&mut summary.frame, &folder.join(&name))?;
        files.push(OutputFile {
            path: format!("summaries/{name}"),
            rows,
        });
        reports.push((summary.dimension.to_string(), summary.report));
    }
    let rows = write_parquet(&mut core20plus5, &folder.join(super::inequalities::FILE))?;
    files.push(OutputFile {
        path: format!("summaries/{}", super::inequalities::FILE),
        rows,
    });
    let mut frame = hierarchy_frame(&links)?;
    let rows = write_parquet(&mut frame, &folder.join(HIERARCHY_FILE))?;
    files.push(OutputFile {
        path: format!("summaries/{HIERARCHY_FILE}"),
        rows,
    });
    Ok((files, reports))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One person of the test population.
    #[derive(Clone, Debug)]
    struct Row {
        practice: Option<&'static str>,
        imd_quintile: Option<i32>,
        tier: &'static str,
        segment: &'static str,
        efi_category: &'static str,
        ltcs: &'static [&'static str],
        risk: Option<f64>,
        cost: Option<f64>,
    }

    /// A scored population: `practice_code` and `imd_quintile` as given,
    /// every other dimension the same for everyone.
    fn frame(rows: &[Row]) -> DataFrame {
        let n = rows.len();
        let mut columns = vec![
            Column::new(
                "practice_code".into(),
                rows.iter().map(|r| r.practice).collect::<Vec<_>>(),
            ),
            Column::new(
                "imd_quintile".into(),
                rows.iter().map(|r| r.imd_quintile).collect::<Vec<_>>(),
            ),
            Column::new(
                "tier".into(),
                rows.iter().map(|r| r.tier).collect::<Vec<_>>(),
            ),
            Column::new(
                "segment".into(),
                rows.iter().map(|r| r.segment).collect::<Vec<_>>(),
            ),
            Column::new(
                "efi_category".into(),
                rows.iter().map(|r| r.efi_category).collect::<Vec<_>>(),
            ),
            Column::new(
                "risk".into(),
                rows.iter().map(|r| r.risk).collect::<Vec<_>>(),
            ),
            Column::new(
                "cost_12m".into(),
                rows.iter().map(|r| r.cost).collect::<Vec<_>>(),
            ),
        ];
        for dimension in DIMENSIONS {
            if !["practice_code", "imd_quintile", "segment"].contains(dimension) {
                columns.push(Column::new((*dimension).into(), vec!["x"; n]));
            }
        }
        for ltc in Ltc::ALL {
            let has: Vec<bool> = rows.iter().map(|r| r.ltcs.contains(&ltc.key())).collect();
            columns.push(Column::new(format!("ltc_{}", ltc.key()).into(), has));
        }
        DataFrame::new(n, columns).expect("frame")
    }

    fn person(practice: Option<&'static str>, risk: Option<f64>) -> Row {
        Row {
            practice,
            imd_quintile: Some(1),
            tier: "low",
            segment: "healthy",
            efi_category: "fit",
            ltcs: &[],
            risk,
            cost: None,
        }
    }

    fn groups_of(rows: &[Row], counted: Option<&[bool]>, dimension: &str) -> Vec<(String, Totals)> {
        let at = DIMENSIONS
            .iter()
            .position(|d| *d == dimension)
            .expect("dimension");
        tally_in_blocks(&frame(rows), counted, 2)
            .expect("tally")
            .swap_remove(at)
    }

    fn count(totals: &Totals, name: &str) -> i64 {
        let at = count_names()
            .iter()
            .position(|n| n == name)
            .expect("count column");
        totals.counts[at]
    }

    #[test]
    fn groups_count_tiers_segments_conditions_and_frailty_by_hand() {
        let rows = [
            Row {
                tier: "very_high",
                segment: "frailty_and_dementia",
                efi_category: "severe frailty",
                ltcs: &["dementia", "copd"],
                cost: Some(10.10),
                ..person(Some("P2"), Some(0.25))
            },
            Row {
                tier: "high",
                segment: "organ_failure",
                efi_category: "mild frailty",
                ltcs: &["copd"],
                cost: Some(0.000_001),
                ..person(Some("P2"), Some(0.5))
            },
            Row {
                imd_quintile: None,
                ..person(Some("P1"), None)
            },
            person(None, Some(0.1)),
            person(Some("unknown"), Some(0.3)),
        ];
        let groups = groups_of(&rows, None, "practice_code");
        let labels: Vec<&str> = groups.iter().map(|(l, _)| l.as_str()).collect();
        // Sorted by label; a missing practice is "unknown", with the practice of that name.
        assert_eq!(labels, ["P1", "P2", "unknown"]);
        let (_, p1) = &groups[0];
        assert_eq!((p1.population, p1.risk_n), (1, 0));
        assert_eq!(count(p1, "tier_low"), 1);
        let (_, p2) = &groups[1];
        assert_eq!(p2.population, 2);
        for (name, expected) in [
            ("tier_very_high", 1),
            ("tier_high", 1),
            ("tier_low", 0),
            ("segment_frailty_and_dementia", 1),
            ("segment_organ_failure", 1),
            ("segment_healthy", 0),
            ("ltc_copd", 2),
            ("ltc_dementia", 1),
            ("ltc_asthma", 0),
            ("frail_mild", 1),
            ("frail_moderate", 0),
            ("frail_severe", 1),
        ] {
            assert_eq!(count(p2, name), expected, "{name}");
        }
        // 0.25 + 0.5 and 0.25·0.75 + 0.5·0.5, exactly in units of 2⁻⁶².
        assert_eq!(p2.risk, 3 << 60);
        assert_eq!(p2.variance, 7 << 58);
        assert_eq!(p2.cost, 10_100_001);
        let (_, unknown) = &groups[2];
        assert_eq!((unknown.population, unknown.risk_n), (2, 2));

        let quintiles = groups_of(&rows, None, "imd_quintile");
        let labels: Vec<(&str, i64)> = quintiles
            .iter()
            .map(|(l, t)| (l.as_str(), t.population))
            .collect();
        assert_eq!(labels, [("1", 4), ("unknown", 1)]);
    }

    #[test]
    fn the_raw_table_sums_known_costs_and_counts_missing_ones() {
        let rows = [
            Row {
                cost: Some(10.10),
                ..person(Some("P2"), Some(0.25))
            },
            Row {
                cost: Some(0.000_001),
                ..person(Some("P2"), Some(0.5))
            },
            person(Some("P2"), Some(0.125)),
            person(Some("P1"), None),
        ];
        let groups = groups_of(&rows, None, "practice_code");
        let table = raw_table("practice_code", &groups);
        let missing = table
            .spec
            .count_columns()
            .iter()
            .position(|c| *c == COST_MISSING)
            .expect("cost_12m_missing");
        let (p1, p2) = (&table.rows[0], &table.rows[1]);
        // P1: nobody with a risk or a cost: expected 0, cost unknown (not £0).
        assert_eq!(p1.values, [Some(0.0), None]);
        assert_eq!(p1.counts[missing], 1);
        assert_eq!(p1.contributions[1].people, 0);
        // P2: expected 0.25 + 0.5 + 0.125; two known costs, one missing.
        assert_eq!(p2.values, [Some(0.875), Some(10.100001)]);
        assert_eq!(p2.counts[missing], 1);
        assert_eq!(p2.contributions[0].people, 3);
        assert_eq!(p2.contributions[0].largest, [0.5, 0.25]);
        assert_eq!(p2.contributions[1].people, 2);
        assert_eq!(p2.contributions[1].largest, [10.1, 0.000_001]);
    }

    #[test]
    fn means_and_intervals_come_from_published_figures_only() {
        // Published: population 10 (true 12), expected admissions 3 (true 3.4).
        let frame = df!(
            "practice_code" => ["P1", "P2"],
            "population" => [Some(10i32), None],
            "population_redacted" => [false, true],
            "expected_admissions" => [Some(3.0), None],
            "expected_admissions_redacted" => [false, true],
            "complete" => [true, false],
        )
        .expect("frame");
        let spreads = vec![("P1".to_string(), 1.6), ("P2".to_string(), 1.0)];
        let out = derive_from_published(&frame, &spreads).expect("derived");
        let value =
            |name: &str, row: usize| out.column(name).expect(name).f64().expect("f64").get(row);
        let flag = |name: &str, row: usize| {
            out.column(&format!("{name}_redacted"))
                .expect(name)
                .bool()
                .expect("bool")
                .get(row)
        };
        // 3 / 10, not 3.4 / 12: nothing beyond the published figures.
        assert_eq!(value("mean_risk", 0), Some(0.3));
        // 3 ∓ 2 (the half-width 1.6 rounded to a whole admission).
        assert_eq!(value("expected_admissions_lower", 0), Some(1.0));
        assert_eq!(value("expected_admissions_upper", 0), Some(5.0));
        for name in [
            "mean_risk",
            "expected_admissions_lower",
            "expected_admissions_upper",
        ] {
            assert_eq!(value(name, 1), None, "{name}");
            assert_eq!(flag(name, 1), Some(true), "{name}");
            assert_eq!(flag(name, 0), Some(false), "{name}");
        }
        let names = out.get_column_names();
        assert_eq!(names.last().map(|n| n.as_str()), Some("complete"));
    }

    #[test]
    fn people_not_counted_are_left_out_of_every_dimension() {
        let rows = [
            person(Some("P1"), Some(0.5)),
            person(Some("P2"), Some(0.5)),
            person(Some("P1"), Some(0.25)),
        ];
        let counted = [true, false, true];
        let tallies = tally_in_blocks(&frame(&rows), Some(&counted), 2).expect("tally");
        for (dimension, groups) in DIMENSIONS.iter().zip(&tallies) {
            let total: i64 = groups.iter().map(|(_, t)| t.population).sum();
            assert_eq!(total, 2, "{dimension}");
            assert!(groups.iter().all(|(label, _)| label != "P2"), "{dimension}");
        }
    }

    #[test]
    fn a_risk_that_is_not_a_probability_is_an_error_naming_row_and_column() {
        let rows = [
            person(Some("P1"), Some(0.5)),
            person(Some("P1"), Some(f64::NAN)),
        ];
        let err = tally_in_blocks(&frame(&rows), None, 1)
            .err()
            .expect("error")
            .to_string();
        assert!(err.contains("row 2") && err.contains("`risk`"), "{err}");
    }

    fn arbitrary_row() -> impl Strategy<Value = Row> {
        let practice = prop::option::of(prop::sample::select(vec!["P1", "P2", "P3", "unknown"]));
        let tier = prop::sample::select(Tier::ALL.iter().map(|t| t.label()).collect::<Vec<_>>());
        let segment = prop::sample::select(SEGMENTS.iter().map(|s| s.label).collect::<Vec<_>>());
        let frailty = prop::sample::select(vec![
            "fit",
            "mild frailty",
            "moderate frailty",
            "severe frailty",
        ]);
        let ltcs = prop::sample::select(vec![&[][..], &["copd"][..], &["asthma", "cancer"][..]]);
        (
            practice,
            prop::option::of(1..=5i32),
            tier,
            segment,
            frailty,
            ltcs,
            prop::option::of(0.0..=1.0f64),
            prop::option::of(0.0..5000.0f64),
        )
            .prop_map(
                |(practice, imd_quintile, tier, segment, efi_category, ltcs, risk, cost)| Row {
                    practice,
                    imd_quintile,
                    tier,
                    segment,
                    efi_category,
                    ltcs,
                    risk,
                    cost,
                },
            )
    }

    proptest! {
        /// Published figures do not depend on the order of the rows or the
        /// size of the blocks they are read in (sums in fixed point), and
        /// every person is in exactly one group of every dimension.
        #[test]
        fn summaries_do_not_depend_on_row_order_or_blocks(
            rows in prop::collection::vec(arbitrary_row(), 1..40),
            seed in any::<u64>(),
            block in 1usize..9,
        ) {
            let mut shuffled = rows.clone();
            let mut state = seed;
            for i in (1..shuffled.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (state >> 33) as usize % (i + 1));
            }
            let tallies = tally_in_blocks(&frame(&rows), None, 64).expect("tally");
            let again = tally_in_blocks(&frame(&shuffled), None, block).expect("tally");
            for ((dimension, ours), theirs) in DIMENSIONS.iter().zip(&tallies).zip(&again) {
                let a = raw_table(dimension, ours);
                let b = raw_table(dimension, theirs);
                prop_assert!(a == b, "{dimension}");
                let population: i64 = ours.iter().map(|(_, t)| t.population).sum();
                prop_assert_eq!(population, rows.len() as i64);
            }
        }
    }
}
