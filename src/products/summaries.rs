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
use crate::governance::disclosure::{
    DisclosureProfile, DisclosureReport, TableSpec, TotalRowMethod, protect_dataframe,
};
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
    /// `cost_12m` in micro-units (missing counts as 0).
    cost: i64,
}

/// Running totals of one group.
#[derive(Clone, Default)]
struct Totals {
    population: i64,
    counts: [i64; COUNTS],
    risk_n: i64,
    risk: u128,
    variance: u128,
    cost: i128,
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
        }
        self.cost += i128::from(person.cost);
    }

    fn merge(&mut self, other: &Totals) {
        self.population += other.population;
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine += theirs;
        }
        self.risk_n += other.risk_n;
        self.risk += other.risk;
        self.variance += other.variance;
        self.cost += other.cost;
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

fn text(people: &DataFrame, name: &str) -> Result<StringChunked> {
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
            person.cost = cost.map_or(Ok(0), |c| micro_units(c, start + i))?;
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

/// The unprotected summary of one dimension: a row per group, sorted by label.
fn raw_frame(dimension: &str, groups: &[(String, Totals)]) -> Result<DataFrame> {
    let z = 1.959964; // normal 95% interval
    let mut columns = vec![
        Column::new(
            dimension.into(),
            groups.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "population".into(),
            groups.iter().map(|(_, t)| t.population).collect::<Vec<_>>(),
        ),
    ];
    for (i, name) in count_names().into_iter().enumerate() {
        columns.push(Column::new(
            name.into(),
            groups.iter().map(|(_, t)| t.counts[i]).collect::<Vec<_>>(),
        ));
    }
    let sums: Vec<f64> = groups
        .iter()
        .map(|(_, t)| t.risk as f64 / RISK_SCALE)
        .collect();
    // Poisson-binomial: the number admitted has variance Σ p(1 − p).
    let spread: Vec<f64> = groups
        .iter()
        .map(|(_, t)| z * (t.variance as f64 / RISK_SCALE).sqrt())
        .collect();
    let means: Vec<Option<f64>> = groups
        .iter()
        .zip(&sums)
        .map(|((_, t), sum)| (t.risk_n > 0).then(|| sum / t.risk_n as f64))
        .collect();
    let lower: Vec<f64> = sums
        .iter()
        .zip(&spread)
        .map(|(s, d)| (s - d).max(0.0))
        .collect();
    let upper: Vec<f64> = sums.iter().zip(&spread).map(|(s, d)| s + d).collect();
    let cost: Vec<f64> = groups
        .iter()
        .map(|(_, t)| t.cost as f64 / COST_SCALE)
        .collect();
    columns.extend([
        Column::new("mean_risk".into(), means),
        Column::new("expected_admissions".into(), sums),
        Column::new("expected_admissions_lower".into(), lower),
        Column::new("expected_admissions_upper".into(), upper),
        Column::new("cost_12m".into(), cost),
    ]);
    Ok(DataFrame::new_infer_height(columns)?)
}

/// Protects the unprotected summary of `dimension`.
fn protected(
    dimension: &'static str,
    groups: &[(String, Totals)],
    profile: &DisclosureProfile,
) -> Result<Summary> {
    let raw = raw_frame(dimension, groups)?;
    let spec = TableSpec::by_convention(&raw, dimension)?
        .with_total_row(TOTAL_LABEL, TotalRowMethod::ProfileDefault);
    let (frame, report) = protect_dataframe(&raw, &spec, profile)?;
    Ok(Summary {
        dimension,
        frame,
        report,
    })
}

/// Builds and protects the summary by `dimension` of the planning population
/// (people already limited to secondary use).
pub fn summarise(
    planning: &DataFrame,
    dimension: &'static str,
    profile: &DisclosureProfile,
) -> Result<Summary> {
    let at = DIMENSIONS
        .iter()
        .position(|d| *d == dimension)
        .ok_or_else(|| {
            PolarsError::ColumnNotFound(format!("`{dimension}` is not a summary dimension").into())
        })?;
    let groups = tally(planning, None)?;
    protected(DIMENSIONS[at], &groups[at], profile)
}

/// What disclosure control did to each summary, by dimension.
pub type DisclosureReports = Vec<(String, DisclosureReport)>;

/// Writes every summary into `dir/summaries/by_<dimension>.parquet`,
/// counting only the people of `people` who may be used for secondary
/// purposes (no opt-out in `patients`).
pub fn write_summaries(
    dir: &Path,
    people: &DataFrame,
    patients: &DataFrame,
    profile: &DisclosureProfile,
) -> Result<(Vec<OutputFile>, DisclosureReports)> {
    let counted = crate::governance::opt_out::secondary_use_mask(people, patients)?;
    let tallies = tally(people, Some(&counted))?;
    let folder = dir.join("summaries");
    std::fs::create_dir_all(&folder).map_err(|source| crate::publication::OutputError::Io {
        path: folder.clone(),
        action: "creating the summaries folder",
        source,
    })?;
    let mut files = Vec::new();
    let mut reports = Vec::new();
    for (dimension, groups) in DIMENSIONS.iter().zip(&tallies) {
        let mut summary = protected(dimension, groups, profile)?;
        let name = format!("by_{dimension}.parquet");
        let rows = write_parquet(&mut summary.frame, &folder.join(&name))?;
        files.push(OutputFile {
            path: format!("summaries/{name}"),
            rows,
        });
        reports.push((dimension.to_string(), summary.report));
    }
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
    fn the_raw_table_derives_means_intervals_and_costs() {
        let rows = [
            Row {
                cost: Some(10.10),
                ..person(Some("P2"), Some(0.25))
            },
            Row {
                cost: Some(0.000_001),
                ..person(Some("P2"), Some(0.5))
            },
            person(Some("P1"), None),
        ];
        let groups = groups_of(&rows, None, "practice_code");
        let raw = raw_frame("practice_code", &groups).expect("frame");
        let value =
            |name: &str, row: usize| raw.column(name).expect(name).f64().expect("f64").get(row);
        // P1: nobody with a risk, so no mean; sums over nobody are 0.
        assert_eq!(value("mean_risk", 0), None);
        assert_eq!(value("expected_admissions", 0), Some(0.0));
        assert_eq!(value("cost_12m", 0), Some(0.0));
        // P2: mean 0.375, expected 0.75, Σp(1−p) = 0.4375.
        assert_eq!(value("mean_risk", 1), Some(0.375));
        assert_eq!(value("expected_admissions", 1), Some(0.75));
        let half_width = 1.959964 * 0.4375f64.sqrt();
        assert_eq!(value("expected_admissions_lower", 1), Some(0.0));
        assert_eq!(
            value("expected_admissions_upper", 1),
            Some(0.75 + half_width)
        );
        assert_eq!(value("cost_12m", 1), Some(10.100001));
        let population = raw
            .column("population")
            .expect("population")
            .i64()
            .expect("i64");
        assert_eq!(population.get(1), Some(2));
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
                let a = raw_frame(dimension, ours).expect("frame");
                let b = raw_frame(dimension, theirs).expect("frame");
                prop_assert!(a.equals_missing(&b), "{dimension}");
                let population: i64 = ours.iter().map(|(_, t)| t.population).sum();
                prop_assert_eq!(population, rows.len() as i64);
            }
        }
    }
}
