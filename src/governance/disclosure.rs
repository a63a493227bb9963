//! Statistical disclosure control (SDC) for aggregate summary tables.
//!
//! Every count that leaves strata in a planning output (neighbourhood, PCN,
//! practice, LSOA, IMD, ethnicity, age-band and sex summaries) passes through
//! [`protect`]. The rules, their sources and the guarantee are written out in
//! `docs/disclosure-control.md`; this doc is the short version.
//!
//! **This module must never emit an unprotected count**: every column of a
//! protected table is either the group label or a protected cell, and a
//! redacted cell is always an explicit null with a `true` flag, never a silent 0.
//!
//! # Data model
//!
//! A [`SummaryTable`] is a [`TableSpec`] plus one [`GroupRow`] per group (one
//! practice, one LSOA, ...). The spec declares what each column *is*:
//!
//! - the **group column** (`practice_code`): a label, published as is. It must
//!   name a group of people (a practice, an age band), never a person;
//! - the **total column** (`population`): the number of people in the group;
//! - **partitions** (`tier_*`, `segment_*`): sets of count columns whose cells
//!   add up exactly to the total (every person is in exactly one tier);
//! - **subset counts** (`ltc_*`, `frail_*`): people with a property, each at
//!   most the total;
//! - **value columns** (`mean_risk`, `expected_admissions`, `cost_12m`):
//!   numbers derived from the people a count column describes (usually the
//!   total); redacted whenever that count is.
//!
//! The counts of a row are positional, in the order of
//! [`TableSpec::count_columns`]: the total, then each partition's cells, then
//! the subsets. Values follow [`TableSpec::values`].
//!
//! # Profiles
//!
//! | profile | small counts | rounding | total row by default |
//! |---|---|---|---|
//! | `opensafely` (default) | 1–7 redacted, 0 kept | nearest 5 | sum of the protected cells |
//! | `opensafely-midpoint6` | none redacted (midpoint labels) | midpoint 6: 0→0, 1–6→3, 7–12→9, … | rounded independently |
//! | `nhs-secondary-care` | 1–7 redacted, 0 kept | nearest 5 | rounded independently |
//! | `custom` | 1–t redacted, 0 kept | nearest b (half up) | sum of the protected cells |
//!
//! Sources: [`OPENSAFELY_REDACT_AT_OR_BELOW`], [`NHS_SECONDARY_CARE_REDACT_AT_OR_BELOW`],
//! [`MIDPOINT6_WIDTH`].
//!
//! # Algorithm (see the doc for the full statement)
//!
//! 1. *Small groups*: a row whose total is 1..=t is suppressed whole (every
//!    count and value, zeros included: "0 of 5 people are frail" describes 5
//!    people).
//! 2. *Primary*: every count in 1..=t is redacted; so is every subset count
//!    whose complement (total − count) is in 1..=t ("45 of 50 have
//!    hypertension" tells that 5 do not).
//! 3. *Secondary*: every additive equation (each partition of each row: total
//!    = Σ cells; and, when the total row is rounded independently, each
//!    column: total-row cell = Σ group cells) must have either no redacted
//!    cell, or at least two and — when its total is published — redacted parts
//!    whose true sum exceeds t. Otherwise the smallest published non-zero part
//!    is redacted too (then the total, then a zero part), repeating over all
//!    equations until nothing changes.
//! 4. *Rounding*: every remaining count is rounded (half up) to the base.
//! 5. *Values* are redacted with the count they describe.
//!
//! # Column naming in DataFrames ([`from_dataframe`], [`to_dataframe`])
//!
//! - every protected column `x` is followed by a Boolean `x_redacted`
//!   (`true` = null because of disclosure control; a null with `false` means
//!   "not applicable", e.g. a mean over nobody);
//! - under midpoint-6 rounding count columns are renamed `x_midpoint6`
//!   (OpenSAFELY's naming convention) and their flag `x_midpoint6_redacted`;
//! - [`TableSpec::by_convention`] classifies columns by name: `population` is
//!   the total, `tier_*` and `segment_*` are partitions, every other integer
//!   column is a subset count, float columns are values of the population
//!   (`mean_*`, `*_rate`, `*_proportion`, `*_pct` are means; `*_lower`,
//!   `*_upper`, `*_lcl`, `*_ucl` are interval bounds; the rest are sums).
//!   Any other column is an error, so nothing unclassified can slip through.
//!
//! Errors name the column, the data row (counted from 1) and the group label;
//! they never quote a count, because an unprotected count in a log is itself
//! a disclosure.

mod dominance;
mod polars_io;
#[cfg(test)]
mod proptests;
mod release;
#[cfg(test)]
mod tests;

pub use dominance::Dominance;
pub use polars_io::{from_dataframe, protect_dataframe, to_dataframe};
pub use release::{Link, protect_release};

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// OpenSAFELY redacts any count describing 7 or fewer people, then rounds
/// to the nearest 5.
/// Source: OpenSAFELY documentation, "Applying statistical disclosure
/// control" — <https://docs.opensafely.org/sdc/> ("Redacting counts less than
/// or equal to 7", "Rounding counts"), and "Updated disclosure control
/// guidance" — <https://www.opensafely.org/updated-output-checking-processes/>.
pub const OPENSAFELY_REDACT_AT_OR_BELOW: u64 = 7;
/// OpenSAFELY rounding base (nearest 5); source as for
/// [`OPENSAFELY_REDACT_AT_OR_BELOW`].
pub const OPENSAFELY_ROUND_TO: u64 = 5;
/// OpenSAFELY "midpoint 6" rounding: `ceiling(x/6)*6 - floor(6/2)*(x != 0)`,
/// so 0→0, 1–6→3, 7–12→9, 13–18→15.
/// Source: <https://docs.opensafely.org/sdc/#midpoint-6-rounding>.
pub const MIDPOINT6_WIDTH: u64 = 6;
/// NHS England (formerly NHS Digital) secondary care analysis: below national
/// level 0 stays 0, 1–7 are replaced by `*`, all other counts are rounded to
/// the nearest 5, and means over 1–7 values are suppressed.
/// Source: "Disclosure control methodology for Hospital Episode Statistics
/// (HES) and Emergency Care Data Set (ECDS)" —
/// <https://digital.nhs.uk/data-and-information/data-tools-and-services/data-services/hospital-episode-statistics/change-to-disclosure-control-methodology-for-hes-and-ecds-from-september-2018>.
pub const NHS_SECONDARY_CARE_REDACT_AT_OR_BELOW: u64 = 7;
/// NHS secondary care rounding base (nearest 5); source as for
/// [`NHS_SECONDARY_CARE_REDACT_AT_OR_BELOW`].
pub const NHS_SECONDARY_CARE_ROUND_TO: u64 = 5;
/// Suffix of the Boolean flag column that follows every protected column.
pub const REDACTED_SUFFIX: &str = "_redacted";
/// Boolean column of every protected frame: the row has no withheld cell
/// (for the `ALL` row: no group cell is withheld either).
pub const COMPLETE_COLUMN: &str = "complete";
/// Suffix OpenSAFELY asks for on midpoint-6 rounded columns.
pub const MIDPOINT6_SUFFIX: &str = "_midpoint6";

/// A named set of disclosure rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisclosureProfile {
    /// OpenSAFELY: redact 1–7, round to 5; or, with `midpoint6`, midpoint-6
    /// rounding instead of redaction (values over 1–7 people still redacted).
    OpenSafely { midpoint6: bool },
    /// NHS England secondary care (HES/ECDS): 0 stays 0, 1–7 redacted,
    /// others rounded to 5, totals rounded independently.
    NhsSecondaryCare,
    /// Redact counts in `1..=redact_at_or_below`, round the rest to the
    /// nearest `round_to` (half up). `round_to = 1` means no rounding.
    Custom {
        redact_at_or_below: u64,
        round_to: u64,
    },
}

impl Default for DisclosureProfile {
    fn default() -> Self {
        DisclosureProfile::OpenSafely { midpoint6: false }
    }
}

/// How published counts are rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// To the nearest multiple of `base`; an exact half (possible only for
    /// an even base, e.g. 15 with base 10) rounds up, away from zero.
    NearestHalfUp { base: u64 },
    /// OpenSAFELY midpoint rounding: 0 → 0, otherwise
    /// `ceil(x / width) * width - width / 2`.
    Midpoint { width: u64 },
}

impl Rounding {
    /// The true counts that are published as `shown`, as an inclusive
    /// range: what a reader who knows the rule can infer from it.
    pub fn preimage(self, shown: u64) -> (u64, u64) {
        match self {
            _ if shown == 0 => (0, 0),
            Rounding::NearestHalfUp { base } if base <= 1 => (shown, shown),
            Rounding::NearestHalfUp { base } => {
                (shown.saturating_sub(base / 2), shown + base.div_ceil(2) - 1)
            }
            Rounding::Midpoint { width } => (
                (shown + 1).saturating_sub(width / 2).max(1),
                shown + width / 2,
            ),
        }
    }

    /// Rounds a count. Saturates instead of overflowing (counts near
    /// `u64::MAX` do not occur in practice).
    pub fn apply(self, x: u64) -> u64 {
        match self {
            Rounding::NearestHalfUp { base } if base <= 1 => x,
            Rounding::NearestHalfUp { base } => {
                let down = x - x % base;
                // half up: remainder * 2 >= base rounds up
                if (x % base) * 2 >= base {
                    down.saturating_add(base)
                } else {
                    down
                }
            }
            Rounding::Midpoint { width } => {
                if x == 0 || width == 0 {
                    x
                } else {
                    x.div_ceil(width).saturating_mul(width) - width / 2
                }
            }
        }
    }
}

impl DisclosureProfile {
    /// The profile's name as written in configuration.
    pub fn name(&self) -> &'static str {
        match self {
            DisclosureProfile::OpenSafely { midpoint6: false } => "opensafely",
            DisclosureProfile::OpenSafely { midpoint6: true } => "opensafely-midpoint6",
            DisclosureProfile::NhsSecondaryCare => "nhs-secondary-care",
            DisclosureProfile::Custom { .. } => "custom",
        }
    }

    /// Counts in `1..=this` describe too few people to publish.
    pub fn redact_at_or_below(&self) -> u64 {
        match self {
            DisclosureProfile::OpenSafely { .. } => OPENSAFELY_REDACT_AT_OR_BELOW,
            DisclosureProfile::NhsSecondaryCare => NHS_SECONDARY_CARE_REDACT_AT_OR_BELOW,
            DisclosureProfile::Custom {
                redact_at_or_below, ..
            } => *redact_at_or_below,
        }
    }

    /// The rounding applied to every published count.
    pub fn rounding(&self) -> Rounding {
        match self {
            DisclosureProfile::OpenSafely { midpoint6: false } => Rounding::NearestHalfUp {
                base: OPENSAFELY_ROUND_TO,
            },
            DisclosureProfile::OpenSafely { midpoint6: true } => Rounding::Midpoint {
                width: MIDPOINT6_WIDTH,
            },
            DisclosureProfile::NhsSecondaryCare => Rounding::NearestHalfUp {
                base: NHS_SECONDARY_CARE_ROUND_TO,
            },
            DisclosureProfile::Custom { round_to, .. } => {
                Rounding::NearestHalfUp { base: *round_to }
            }
        }
    }

    /// Whether counts are shown as midpoint labels rather than redacted.
    pub fn is_midpoint(&self) -> bool {
        matches!(self.rounding(), Rounding::Midpoint { .. })
    }

    /// How the optional total row is computed when the spec says
    /// [`TotalRowMethod::ProfileDefault`]: OpenSAFELY's tables show totals
    /// as the sum of the rounded counts; NHS England rounds totals computed
    /// from unrounded data; midpoint labels do not add up, so their totals
    /// are rounded independently too.
    pub fn default_total_row_method(&self) -> TotalRowMethod {
        match self {
            DisclosureProfile::OpenSafely { midpoint6: false } => TotalRowMethod::SumOfProtected,
            DisclosureProfile::OpenSafely { midpoint6: true } => {
                TotalRowMethod::RoundedIndependently
            }
            DisclosureProfile::NhsSecondaryCare => TotalRowMethod::RoundedIndependently,
            DisclosureProfile::Custom { .. } => TotalRowMethod::SumOfProtected,
        }
    }

    /// Rejects custom profiles that would publish a silent zero: with base
    /// `b` and threshold `t`, the smallest published count `t + 1` must not
    /// round to 0.
    pub fn validate(&self) -> Result<(), DisclosureError> {
        if let DisclosureProfile::Custom {
            redact_at_or_below,
            round_to,
        } = *self
        {
            if round_to == 0 {
                return Err(DisclosureError::InvalidProfile {
                    reason: "round_to must be at least 1 (1 means no rounding)".into(),
                });
            }
            let smallest = redact_at_or_below.saturating_add(1);
            if self.rounding().apply(smallest) == 0 {
                return Err(DisclosureError::InvalidProfile {
                    reason: format!(
                        "rounding to {round_to} would publish counts of {smallest} as 0 (a silent zero); \
                         raise redact_at_or_below to at least {} or lower round_to",
                        round_to.div_ceil(2).saturating_sub(1)
                    ),
                });
            }
        }
        Ok(())
    }
}

impl fmt::Display for DisclosureProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisclosureProfile::Custom {
                redact_at_or_below,
                round_to,
            } => write!(
                f,
                "custom(redact_at_or_below={redact_at_or_below}, round_to={round_to})"
            ),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for DisclosureProfile {
    type Err = DisclosureError;

    /// Parses `opensafely`, `opensafely-midpoint6`, `nhs-secondary-care`, or
    /// `custom:<redact_at_or_below>:<round_to>` (e.g. `custom:10:10`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let profile = match s.trim() {
            "opensafely" => DisclosureProfile::OpenSafely { midpoint6: false },
            "opensafely-midpoint6" => DisclosureProfile::OpenSafely { midpoint6: true },
            "nhs-secondary-care" => DisclosureProfile::NhsSecondaryCare,
            other => {
                let parts: Vec<&str> = other.split(':').collect();
                match parts.as_slice() {
                    ["custom", t, b] => {
                        let parse = |v: &str, what: &str| {
                            v.parse::<u64>()
                                .map_err(|_| DisclosureError::InvalidProfile {
                                    reason: format!("`{s}`: {what} must be a whole number"),
                                })
                        };
                        DisclosureProfile::Custom {
                            redact_at_or_below: parse(t, "redact_at_or_below")?,
                            round_to: parse(b, "round_to")?,
                        }
                    }
                    _ => {
                        return Err(DisclosureError::InvalidProfile {
                            reason: format!(
                                "unknown profile `{s}` (expected opensafely, opensafely-midpoint6, \
                                 nhs-secondary-care or custom:<redact_at_or_below>:<round_to>)"
                            ),
                        });
                    }
                }
            }
        };
        profile.validate()?;
        Ok(profile)
    }
}

/// Cells of one breakdown that add up exactly to the group total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// A name for messages, e.g. `tier`.
    pub name: String,
    /// The count columns, e.g. `tier_very_high`, `tier_high`, ...
    pub cells: Vec<String>,
}

/// How a value column aggregates over groups (used only for the total row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A mean (or rate, proportion) over the people its count describes;
    /// the total row gets the count-weighted mean.
    Mean,
    /// A sum over those people (expected admissions, cost); the total row
    /// gets the sum.
    Sum,
    /// Not aggregable (interval bounds, medians): the total row's cell is
    /// null, flagged not redacted.
    Other,
}

/// A value column and the count column whose people it describes.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueColumn {
    pub name: String,
    /// A count column of the spec (usually the total column).
    pub describes: String,
    pub kind: ValueKind,
    /// Published values are rounded to a multiple of this (half away from
    /// zero); `None` publishes them as computed.
    pub round_to: Option<f64>,
}

impl ValueColumn {
    /// A true value as published: rounded to `round_to`, if set.
    pub fn publish(&self, value: f64) -> f64 {
        match self.round_to {
            Some(step) if step > 0.0 => (value / step).round() * step,
            _ => value,
        }
    }
}

/// How the optional "all groups" row is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalRowMethod {
    /// The profile's choice ([`DisclosureProfile::default_total_row_method`]).
    ProfileDefault,
    /// Each count is the sum of the published group cells (redacted = 0);
    /// sums of values likewise, means weighted by the published counts. Uses
    /// only published numbers, so it can reveal nothing about a redacted cell.
    SumOfProtected,
    /// Each count is the true column sum, protected like any other row; each
    /// column then becomes an additive equation and takes part in secondary
    /// suppression.
    RoundedIndependently,
}

/// The optional row of column totals appended after the groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalRow {
    /// Its label in the group column, e.g. `ALL`.
    pub label: String,
    pub method: TotalRowMethod,
}

/// What each column of a summary table is.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSpec {
    pub group_column: String,
    pub total_column: String,
    pub partitions: Vec<Partition>,
    pub subsets: Vec<String>,
    pub values: Vec<ValueColumn>,
    pub total_row: Option<TotalRow>,
}

impl TableSpec {
    /// A spec with a group column and a total column and nothing else yet.
    pub fn new(group_column: impl Into<String>, total_column: impl Into<String>) -> Self {
        TableSpec {
            group_column: group_column.into(),
            total_column: total_column.into(),
            partitions: Vec::new(),
            subsets: Vec::new(),
            values: Vec::new(),
            total_row: None,
        }
    }

    /// Adds a partition of the total.
    pub fn partition<S: Into<String>>(
        mut self,
        name: impl Into<String>,
        cells: impl IntoIterator<Item = S>,
    ) -> Self {
        self.partitions.push(Partition {
            name: name.into(),
            cells: cells.into_iter().map(Into::into).collect(),
        });
        self
    }

    /// Adds a subset count (at most the total).
    pub fn subset(mut self, name: impl Into<String>) -> Self {
        self.subsets.push(name.into());
        self
    }

    /// Adds several subset counts.
    pub fn subsets<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.subsets.extend(names.into_iter().map(Into::into));
        self
    }

    /// Adds a value column describing the people of count column `describes`.
    pub fn value(
        mut self,
        name: impl Into<String>,
        describes: impl Into<String>,
        kind: ValueKind,
    ) -> Self {
        self.values.push(ValueColumn {
            name: name.into(),
            describes: describes.into(),
            kind,
            round_to: None,
        });
        self
    }

    /// Publishes the last value column added rounded to a multiple of
    /// `step` (e.g. 1 for expected admissions, 100 for pounds).
    pub fn rounded_to(mut self, step: f64) -> Self {
        if let Some(last) = self.values.last_mut() {
            last.round_to = Some(step);
        }
        self
    }

    /// Appends a total row labelled `label`.
    pub fn with_total_row(mut self, label: impl Into<String>, method: TotalRowMethod) -> Self {
        self.total_row = Some(TotalRow {
            label: label.into(),
            method,
        });
        self
    }

    /// The count columns in row order: the total, each partition's cells,
    /// then the subsets.
    pub fn count_columns(&self) -> Vec<&str> {
        let mut out = vec![self.total_column.as_str()];
        for p in &self.partitions {
            out.extend(p.cells.iter().map(String::as_str));
        }
        out.extend(self.subsets.iter().map(String::as_str));
        out
    }

    /// Checks names are unique and every reference resolves.
    pub fn validate(&self) -> Result<(), DisclosureError> {
        let invalid = |reason: String| Err(DisclosureError::InvalidSpec { reason });
        let mut seen = BTreeSet::new();
        let all = std::iter::once(self.group_column.as_str())
            .chain(self.count_columns())
            .chain(self.values.iter().map(|v| v.name.as_str()));
        for name in all {
            if name.is_empty() {
                return invalid("a column name is empty".into());
            }
            if name.ends_with(REDACTED_SUFFIX) {
                return invalid(format!(
                    "column `{name}`: names ending in `{REDACTED_SUFFIX}` are reserved for flags"
                ));
            }
            if !seen.insert(name) {
                return invalid(format!("column `{name}` is declared more than once"));
            }
        }
        for p in &self.partitions {
            if p.cells.is_empty() {
                return invalid(format!("partition `{}` has no cells", p.name));
            }
        }
        let counts = self.count_columns();
        for v in &self.values {
            if !counts.contains(&v.describes.as_str()) {
                return invalid(format!(
                    "value column `{}` describes `{}`, which is not a count column",
                    v.name, v.describes
                ));
            }
        }
        Ok(())
    }
}

/// One group's true (unprotected) figures.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    /// The group label (practice code, age band). Never a person.
    pub label: String,
    /// True counts, aligned with [`TableSpec::count_columns`].
    pub counts: Vec<u64>,
    /// True values, aligned with [`TableSpec::values`]; `None` = missing.
    pub values: Vec<Option<f64>>,
    /// Who contributes to each value, aligned with [`TableSpec::values`]
    /// (the magnitude rules need it for sums). Empty when unknown: a value
    /// is then taken to describe the people of its count, with no
    /// dominance test.
    pub contributions: Vec<Contributions>,
}

/// The people a sum over people adds up, as disclosure control needs them:
/// how many, and the two largest contributions (for the [`Dominance`] rule).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Contributions {
    pub people: u64,
    /// Largest first; 0 where there are fewer than two contributors.
    pub largest: [f64; 2],
}

/// A summary table before disclosure control.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryTable {
    pub spec: TableSpec,
    pub rows: Vec<GroupRow>,
}

/// Why a cell is null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RedactionReason {
    /// The whole row: the group's total is 1..=t.
    SmallGroup,
    /// The count is 1..=t.
    SmallCount,
    /// A subset count whose complement (total − count) is 1..=t.
    SmallComplement,
    /// Redacted so that another redacted cell cannot be recovered by
    /// subtraction.
    Secondary,
    /// A value whose described count is redacted.
    CountRedacted,
    /// A value describing 1..=t people (midpoint profile, where counts are
    /// labels rather than redacted).
    SmallDescribedCount,
    /// A total-row value derived from published cells when every
    /// contributing cell was redacted.
    NothingPublished,
    /// A sum dominated by one or two contributors ([`Dominance`]).
    Dominance,
}

/// A published cell: `value` is `None` whenever `redacted` is `Some`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell<T> {
    pub value: Option<T>,
    pub redacted: Option<RedactionReason>,
}

impl<T> Cell<T> {
    fn shown(value: Option<T>) -> Self {
        Cell {
            value,
            redacted: None,
        }
    }
    fn redacted(reason: RedactionReason) -> Self {
        Cell {
            value: None,
            redacted: Some(reason),
        }
    }
    /// Whether the cell was withheld by disclosure control.
    pub fn is_redacted(&self) -> bool {
        self.redacted.is_some()
    }
}

/// One published row.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtectedRow {
    pub label: String,
    /// True for the appended total row.
    pub is_total: bool,
    /// No cell of this row is withheld; for the total row, no cell of any
    /// group row either (the total is still the rounded true total, but the
    /// groups will not add up to it).
    pub complete: bool,
    pub counts: Vec<Cell<u64>>,
    pub values: Vec<Cell<f64>>,
}

/// What disclosure control did, in counts only (safe for logs and the
/// manifest).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisclosureReport {
    pub profile: String,
    pub groups: usize,
    pub groups_suppressed: usize,
    pub count_cells: usize,
    pub redacted_small: usize,
    pub redacted_complement: usize,
    pub redacted_secondary: usize,
    pub values_redacted: usize,
    /// Values withheld by the dominance rule (included in `values_redacted`).
    pub values_dominated: usize,
    /// Passes over all equations until stable (the last changes nothing).
    pub secondary_passes: usize,
}

/// A summary table after disclosure control.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtectedTable {
    pub spec: TableSpec,
    pub profile: DisclosureProfile,
    /// The resolved total-row method, when a total row was asked for.
    pub total_row_method: Option<TotalRowMethod>,
    /// The groups in input order, then the total row if any.
    pub rows: Vec<ProtectedRow>,
    pub report: DisclosureReport,
}

/// Why disclosure control refused a table. Rows are data rows counted from 1;
/// messages never quote a count or a value.
#[derive(Debug, thiserror::Error)]
pub enum DisclosureError {
    #[error("disclosure profile: {reason}")]
    InvalidProfile { reason: String },
    #[error("summary table spec: {reason}")]
    InvalidSpec { reason: String },
    #[error(
        "summary table, row {row} (group `{group}`): has {found_counts} counts and {found_values} values, the spec declares {expected_counts} and {expected_values}"
    )]
    RowShape {
        row: usize,
        group: String,
        expected_counts: usize,
        found_counts: usize,
        expected_values: usize,
        found_values: usize,
    },
    #[error(
        "summary table, row {row} (group `{group}`), column `{column}`: count is larger than the group total `{total}`"
    )]
    CellExceedsTotal {
        row: usize,
        group: String,
        column: String,
        total: String,
    },
    #[error(
        "summary table, row {row} (group `{group}`), partition `{partition}`: cells do not add up to the group total `{total}`"
    )]
    PartitionMismatch {
        row: usize,
        group: String,
        partition: String,
        total: String,
    },
    #[error(
        "summary table, row {row} (group `{group}`), column `{column}`: value is not finite (NaN or infinite); use a null for a missing value"
    )]
    NonFiniteValue {
        row: usize,
        group: String,
        column: String,
    },
    #[error(
        "summary table, row {row}: group `{group}` appears more than once (or clashes with the total row label)"
    )]
    DuplicateGroup { row: usize, group: String },
    #[error("summary table, column `{column}`: a column sum overflows")]
    Overflow { column: String },
    #[error("summary frame: required column `{column}` is missing (columns found: {found})")]
    MissingColumn { column: String, found: String },
    #[error("summary frame, column `{column}`: has type {found}, expected {expected}")]
    ColumnType {
        column: String,
        found: String,
        expected: String,
    },
    #[error(
        "summary frame, column `{column}`: not declared in the table spec; every column must be the group, a count or a value so nothing leaves unprotected"
    )]
    UnclassifiedColumn { column: String },
    #[error("summary frame, row {row}, column `{column}`: {problem}")]
    BadCell {
        row: usize,
        column: String,
        problem: &'static str,
    },
    #[error(
        "disclosure audit: an intruder's attack on the summaries recovered {findings} withheld or unrounded figure(s); first: {first}"
    )]
    AuditFailed { findings: usize, first: String },
    #[error("summary frame: {action}: {source}")]
    Polars {
        action: &'static str,
        #[source]
        source: polars::error::PolarsError,
    },
}

/// Applies disclosure control to `table` under `profile`: the release
/// engine ([`protect_release`]) with one table and no links.
///
/// Never panics; a table that breaks its own spec (a cell above its total,
/// a partition that does not add up) is a caller bug and an error.
pub fn protect(
    table: &SummaryTable,
    profile: &DisclosureProfile,
) -> Result<ProtectedTable, DisclosureError> {
    let mut tables = protect_release(
        std::slice::from_ref(table),
        &[],
        profile,
        &Dominance::default(),
    )?;
    tables.pop().ok_or_else(|| DisclosureError::InvalidSpec {
        reason: "the release engine returned no table".into(),
    })
}

/// Column indices resolved from a spec.
struct Layout {
    n_counts: usize,
    count_names: Vec<String>,
    /// Count-column indices of each partition's cells.
    partitions: Vec<Vec<usize>>,
    partition_names: Vec<String>,
    /// Count-column indices of the subsets.
    subsets: Vec<usize>,
    /// For each value column, the index of the count column it describes.
    value_describes: Vec<usize>,
    value_names: Vec<String>,
    value_kinds: Vec<ValueKind>,
}

impl Layout {
    /// Assumes `spec.validate()` passed.
    fn new(spec: &TableSpec) -> Self {
        let count_names: Vec<String> = spec
            .count_columns()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let mut next = 1;
        let mut partitions = Vec::new();
        for p in &spec.partitions {
            partitions.push((next..next + p.cells.len()).collect());
            next += p.cells.len();
        }
        let subsets = (next..count_names.len()).collect();
        let value_describes = spec
            .values
            .iter()
            .map(|v| {
                count_names
                    .iter()
                    .position(|c| *c == v.describes)
                    .unwrap_or(0)
            })
            .collect();
        Layout {
            n_counts: count_names.len(),
            count_names,
            partitions,
            partition_names: spec.partitions.iter().map(|p| p.name.clone()).collect(),
            subsets,
            value_describes,
            value_names: spec.values.iter().map(|v| v.name.clone()).collect(),
            value_kinds: spec.values.iter().map(|v| v.kind).collect(),
        }
    }
}

fn validate_rows(table: &SummaryTable, layout: &Layout) -> Result<(), DisclosureError> {
    let mut labels = BTreeSet::new();
    if let Some(t) = &table.spec.total_row {
        labels.insert(t.label.as_str());
    }
    for (i, row) in table.rows.iter().enumerate() {
        let n = i + 1;
        let group = || row.label.clone();
        if row.counts.len() != layout.n_counts || row.values.len() != layout.value_names.len() {
            return Err(DisclosureError::RowShape {
                row: n,
                group: group(),
                expected_counts: layout.n_counts,
                found_counts: row.counts.len(),
                expected_values: layout.value_names.len(),
                found_values: row.values.len(),
            });
        }
        if !labels.insert(row.label.as_str()) {
            return Err(DisclosureError::DuplicateGroup {
                row: n,
                group: group(),
            });
        }
        let total = row.counts[0];
        for (k, &c) in row.counts.iter().enumerate().skip(1) {
            if c > total {
                return Err(DisclosureError::CellExceedsTotal {
                    row: n,
                    group: group(),
                    column: layout.count_names[k].clone(),
                    total: layout.count_names[0].clone(),
                });
            }
        }
        for (p, cells) in layout.partitions.iter().enumerate() {
            // each cell <= total, so the sum of at most usize cells fits in u128
            let sum: u128 = cells.iter().map(|&k| u128::from(row.counts[k])).sum();
            if sum != u128::from(total) {
                return Err(DisclosureError::PartitionMismatch {
                    row: n,
                    group: group(),
                    partition: layout.partition_names[p].clone(),
                    total: layout.count_names[0].clone(),
                });
            }
        }
        for (j, v) in row.values.iter().enumerate() {
            if v.is_some_and(|x| !x.is_finite()) {
                return Err(DisclosureError::NonFiniteValue {
                    row: n,
                    group: group(),
                    column: layout.value_names[j].clone(),
                });
            }
        }
    }
    Ok(())
}

/// True values of the independent total row: sums, count-weighted means,
/// or nothing for non-aggregable columns.
fn total_row_true_values(table: &SummaryTable, layout: &Layout) -> Vec<Option<f64>> {
    (0..layout.value_names.len())
        .map(|j| {
            let k = layout.value_describes[j];
            let present = table
                .rows
                .iter()
                .filter_map(|r| r.values[j].map(|v| (v, r.counts[k] as f64)));
            match layout.value_kinds[j] {
                ValueKind::Other => None,
                ValueKind::Sum => {
                    let mut any = false;
                    let s = present.inspect(|_| any = true).map(|(v, _)| v).sum();
                    any.then_some(s)
                }
                ValueKind::Mean => {
                    let (num, den) = present.fold((0.0, 0.0), |(a, b), (v, n)| (a + v * n, b + n));
                    (den > 0.0).then(|| num / den)
                }
            }
        })
        .collect()
}

/// Steps 1 and 2: small groups, small counts, small complements.
fn primary_redaction(
    truth: &[Vec<u64>],
    layout: &Layout,
    t: u64,
    state: &mut [Vec<Option<RedactionReason>>],
) {
    let small = |v: u64| v >= 1 && v <= t;
    for (r, counts) in truth.iter().enumerate() {
        let total = counts[0];
        if small(total) {
            state[r].fill(Some(RedactionReason::SmallGroup));
            continue;
        }
        for (k, &v) in counts.iter().enumerate() {
            if small(v) {
                state[r][k] = Some(RedactionReason::SmallCount);
            }
        }
        for &k in &layout.subsets {
            if state[r][k].is_none() && small(total - counts[k].min(total)) {
                state[r][k] = Some(RedactionReason::SmallComplement);
            }
        }
    }
}

/// The total row computed from published cells only.
fn sum_of_protected(
    rows: &[ProtectedRow],
    layout: &Layout,
    label: String,
) -> Result<ProtectedRow, DisclosureError> {
    let groups: Vec<&ProtectedRow> = rows.iter().filter(|r| !r.is_total).collect();
    let mut counts = Vec::with_capacity(layout.n_counts);
    for k in 0..layout.n_counts {
        let mut sum = 0u64;
        for r in &groups {
            if let Some(v) = r.counts[k].value {
                sum = sum
                    .checked_add(v)
                    .ok_or_else(|| DisclosureError::Overflow {
                        column: layout.count_names[k].clone(),
                    })?;
            }
        }
        counts.push(Cell::shown(Some(sum)));
    }
    let values = (0..layout.value_names.len())
        .map(|j| {
            let k = layout.value_describes[j];
            let any_redacted = groups.iter().any(|r| r.values[j].is_redacted());
            let published = groups.iter().filter_map(|r| {
                r.values[j]
                    .value
                    .and_then(|v| r.counts[k].value.map(|n| (v, n as f64)))
            });
            let derived = match layout.value_kinds[j] {
                ValueKind::Other => return Cell::shown(None),
                ValueKind::Sum => {
                    let mut any = false;
                    let s: f64 = published.inspect(|_| any = true).map(|(v, _)| v).sum();
                    any.then_some(s)
                }
                ValueKind::Mean => {
                    let (num, den) =
                        published.fold((0.0, 0.0), |(a, b), (v, n)| (a + v * n, b + n));
                    (den > 0.0).then(|| num / den)
                }
            };
            match derived {
                None if any_redacted => Cell::redacted(RedactionReason::NothingPublished),
                d => Cell::shown(d),
            }
        })
        .collect();
    Ok(ProtectedRow {
        label,
        is_total: true,
        complete: true,
        counts,
        values,
    })
}
