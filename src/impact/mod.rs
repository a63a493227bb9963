//! Evidence of impact (issue 22): what happened to the people a run flagged,
//! against comparable people it did not flag.
//!
//! `strata impact` reads the flag history of the published runs
//! (`OUT/latest/flag_history.parquet`, which carries every earlier run
//! forward) and an extract holding the emergency admissions after each
//! run's as-of date. For each run since a date, the cohort is the people
//! flagged for the first time on that run; the comparison group is that
//! run's band of unflagged people just below the cut-off
//! (`products::history::run_rows`) who had never been flagged. For each
//! horizon (3, 6, 12 months) the extract covers, it reports both groups'
//! emergency-admission rates, the crude rate ratio, the ratio of
//! standardised admission ratios (observed over the model's expected
//! admissions) and, where numbers allow, a regression-discontinuity
//! estimate at the cut-off. docs/impact.md says what these mean and do not.
//!
//! It is a secondary use: people with a National Data Opt-out or a Type 1
//! objection are left out, and every count is disclosure-controlled under
//! the run's profile; figures derived from a withheld count are withheld.
//! It never writes or logs a person's id.

pub mod stats;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Months, NaiveDate};
use polars::prelude::*;

use crate::error::ExitClass;
use crate::governance::GovernanceError;
use crate::governance::disclosure::DisclosureProfile;
use crate::governance::pseudonym::{self, PseudonymKey};
use crate::ingest::{self, Extract, IngestError, PID, ValidateOptions};
use crate::products::history::FLAG_HISTORY;
use crate::publication::{OutputError, publish};
use stats::Interval;

/// Months after the as-of date over which admissions are counted.
pub const HORIZONS_MONTHS: [u32; 3] = [3, 6, 12];
/// The regression-discontinuity fit needs at least this many people on
/// each side of the cut-off within the bandwidth: a line through fewer is
/// too unstable at its end (the cut-off) to be worth reporting.
pub const MIN_RD_PEOPLE: usize = 100;
/// ... and at least this many admissions on each side.
pub const MIN_RD_ADMISSIONS: u64 = 20;
/// Folder under the output folder that `strata impact` writes into.
pub const IMPACT_DIR: &str = "impact";
/// Days in the model's outcome year (days 1–365 after the as-of date).
const MODEL_YEAR_DAYS: f64 = 365.0;

/// Why an impact analysis failed.
#[derive(Debug, thiserror::Error)]
pub enum ImpactError {
    #[error(
        "{}: no flag history (no published run under this folder, or one written before strata kept a flag history); run `strata run --out` on this folder first",
        path.display()
    )]
    NoHistory { path: PathBuf },
    #[error("{}, column `{column}`: {expected}", path.display())]
    BadHistory {
        path: PathBuf,
        column: &'static str,
        expected: &'static str,
    },
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Governance(#[from] GovernanceError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ImpactError {
    /// The exit class an operator acts on.
    pub fn class(&self) -> ExitClass {
        match self {
            ImpactError::NoHistory { .. } => ExitClass::Usage,
            ImpactError::BadHistory { .. } => ExitClass::Input,
            ImpactError::Ingest(e) => e.class(),
            ImpactError::Governance(e) => e.class(),
            ImpactError::Output(e) => e.class(),
            ImpactError::Io { .. } => ExitClass::Publication,
            ImpactError::Internal(_) => ExitClass::Internal,
        }
    }
}

impl From<PolarsError> for ImpactError {
    fn from(e: PolarsError) -> Self {
        ImpactError::Internal(e.to_string())
    }
}

pub type Result<T, E = ImpactError> = std::result::Result<T, E>;

/// What `strata impact` was asked for.
#[derive(Debug, Clone)]
pub struct ImpactPlan {
    /// The output folder of the runs (holding `latest`).
    pub out: PathBuf,
    /// The extract holding the admissions after the runs' as-of dates.
    pub input: PathBuf,
    /// Runs with an as-of date before this are left out.
    pub since: NaiveDate,
    pub profile: DisclosureProfile,
    /// For an extract whose ids are NHS numbers: the key the runs used.
    pub pseudonym_key: Option<PseudonymKey>,
    pub validate: ValidateOptions,
}

/// The analysis, as written to `impact.json`. Counts are published counts
/// (`null` = withheld), never true ones.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImpactReport {
    /// The run whose flag history was read.
    pub history_run: String,
    pub since: NaiveDate,
    /// The extract's last event date: horizons ending after it are not reported.
    pub extract_last_date: Option<NaiveDate>,
    pub disclosure: String,
    pub methods: Methods,
    pub cohorts: Vec<CohortReport>,
}

/// One sentence per method (docs/impact.md has the reasoning).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Methods {
    pub cohort: &'static str,
    pub comparison: &'static str,
    pub outcome: &'static str,
    pub rates: &'static str,
    pub adjusted: &'static str,
    pub discontinuity: &'static str,
    pub disclosure: &'static str,
}

const METHODS: Methods = Methods {
    cohort: "people flagged (very_high or high) for the first time on the run",
    comparison: "the run's band of unflagged people just below the cut-off (as many as were flagged) who had never been flagged",
    outcome: "emergency inpatient admissions starting in the months after the as-of date, follow-up ending at death; people with a National Data Opt-out or Type 1 objection left out",
    rates: "admissions per 1,000 person-years, 95% CI exp(ln rate ± 1.96/sqrt(admissions)); crude rate ratio flagged/comparison, 95% CI exp(ln RR ± 1.96·sqrt(1/O1 + 1/O2))",
    adjusted: "first-flagged people within the bandwidth above the cut-off against the comparison band: Poisson regression of admissions (offset ln person-years) on ln(−ln(1 − risk)) and a flagged indicator, 95% CI from the robust (HC1 sandwich) variance; rate ratio = exp(flagged coefficient), reduction = 1 − ratio",
    discontinuity: "local linear regression of each person's admission rate (weighted by person-years) on risk − threshold on each side of the cut-off, uniform kernel, bandwidth = the comparison band's width in risk on both sides; ratio of the two fitted rates at the cut-off with HC1 robust variances (delta method); needs 100 people and 20 admissions on each side",
    disclosure: "counts of 1–7 withheld and the rest rounded under the run's disclosure profile; rates, ratios and estimates withheld when a count they come from is",
};

/// One run's cohort.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CohortReport {
    pub as_of: NaiveDate,
    pub run_id: String,
    /// The flagging cut-off (risk); `null` for runs recorded before it was.
    pub threshold: Option<f64>,
    /// The lowest risk in the comparison band.
    pub band_floor: Option<f64>,
    /// `analysed`, or why not.
    pub status: String,
    /// People of the run's rows left out for an opt-out (secondary use).
    pub opted_out: Option<u64>,
    /// People of the run's rows not among the extract's valid patients, or
    /// dead by the as-of date.
    pub not_followed: Option<u64>,
    pub horizons: Vec<HorizonReport>,
}

/// One horizon of one cohort.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HorizonReport {
    pub months: u32,
    /// `analysed`, or why not (follow-up not yet in the extract; withheld).
    pub status: String,
    pub flagged: ArmReport,
    pub comparison: ArmReport,
    pub crude_rate_ratio: Option<Interval>,
    /// The first-flagged people within the bandwidth above the cut-off
    /// (the comparison band's width in risk), against the comparison band.
    pub near_threshold: NearThreshold,
    pub discontinuity: Discontinuity,
}

/// The risk-adjusted comparison near the cut-off.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct NearThreshold {
    /// Half-width of the window on each side (risk).
    pub bandwidth: Option<f64>,
    /// First-flagged people with risk from the cut-off to cut-off + bandwidth.
    pub flagged: ArmReport,
    /// Ratio of standardised admission ratios, flagged over comparison.
    pub adjusted_rate_ratio: Option<Interval>,
    /// 1 − the adjusted ratio: the relative reduction in admissions.
    pub reduction: Option<Interval>,
}

/// One group of one horizon.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ArmReport {
    pub people: Option<u64>,
    pub admissions: Option<u64>,
    pub rate_per_1000: Option<Interval>,
}

/// The regression-discontinuity estimate at the cut-off.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Discontinuity {
    /// `estimated`, or why not.
    pub status: String,
    /// Half-width of the window on each side (risk).
    pub bandwidth: Option<f64>,
    pub people_below: Option<u64>,
    pub people_above: Option<u64>,
    pub admissions_below: Option<u64>,
    pub admissions_above: Option<u64>,
    /// Fitted admissions per 1,000 person-years at the cut-off, from below and from above.
    pub rate_below_per_1000: Option<f64>,
    pub rate_above_per_1000: Option<f64>,
    pub ratio: Option<Interval>,
    pub reduction: Option<Interval>,
}

/// One person's follow-up over one horizon.
#[derive(Debug, Clone, Copy)]
struct FollowUp {
    /// Risk minus the cut-off.
    x: f64,
    years: f64,
    observed: u64,
    expected: f64,
}

/// The extract's valid patients by id: PID, death (epoch days), and
/// whether secondary use is allowed.
struct Patients {
    by_id: BTreeMap<String, (u32, Option<i32>, bool)>,
}

/// One row of the flag history.
struct Row {
    id: String,
    as_of: i32,
    run_id: String,
    risk: Option<f64>,
    threshold: Option<f64>,
    flagged: bool,
}

const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => panic!("1970-01-01 is a date"),
};

fn days(d: NaiveDate) -> i32 {
    (d - EPOCH).num_days() as i32
}

fn date(days: i32) -> NaiveDate {
    EPOCH + chrono::Duration::days(i64::from(days))
}

/// Runs the analysis: reads the history and the extract, and returns the
/// disclosure-controlled report (nothing written; see [`write()`]).
pub fn analyse(plan: &ImpactPlan) -> Result<ImpactReport> {
    let latest = publish::latest_run(&plan.out).ok_or_else(|| ImpactError::NoHistory {
        path: plan.out.join("latest"),
    })?;
    let path = latest.join(FLAG_HISTORY);
    if !path.is_file() {
        return Err(ImpactError::NoHistory { path });
    }
    let history = read_history(&path)?;
    let extract = ingest::load_extract(&plan.input, &plan.validate)?;
    let patients = patients(&extract, &plan.input, plan.pseudonym_key.as_ref())?;
    let admissions = admissions(&extract)?;
    let last = extract.last_event_date();
    tracing::info!(rows = history.len(), "flag history read");

    // The first run on which each person was flagged, over the whole history.
    let mut first: BTreeMap<&str, i32> = BTreeMap::new();
    for row in history.iter().filter(|r| r.flagged) {
        let entry = first.entry(row.id.as_str()).or_insert(row.as_of);
        *entry = (*entry).min(row.as_of);
    }
    let mut runs: BTreeMap<i32, Vec<&Row>> = BTreeMap::new();
    for row in history.iter().filter(|r| r.as_of >= days(plan.since)) {
        runs.entry(row.as_of).or_default().push(row);
    }
    let cohorts = runs
        .iter()
        .map(|(&as_of, rows)| {
            cohort(
                as_of,
                rows,
                &first,
                &patients,
                &admissions,
                last.map(days),
                &plan.profile,
            )
        })
        .collect();
    Ok(ImpactReport {
        history_run: latest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        since: plan.since,
        extract_last_date: last,
        disclosure: plan.profile.name().to_string(),
        methods: METHODS,
        cohorts,
    })
}

/// Every row of the history file. A history from before the comparison
/// band (no `flagged` column) holds flagged people only.
fn read_history(path: &Path) -> Result<Vec<Row>> {
    let scan = LazyFrame::scan_parquet(
        PlRefPath::new(path.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )?;
    let schema = scan.clone().collect_schema()?;
    let or_default = |name: &str, default: Expr| {
        if schema.contains(name) {
            col(name)
        } else {
            default.alias(name)
        }
    };
    for column in ["person_id", "as_of", "run_id"] {
        if !schema.contains(column) {
            return Err(ImpactError::BadHistory {
                path: path.to_path_buf(),
                column: match column {
                    "person_id" => "person_id",
                    "as_of" => "as_of",
                    _ => "run_id",
                },
                expected: "a column of every flag history",
            });
        }
    }
    let frame = scan
        .select([
            col("person_id").cast(DataType::String),
            col("as_of").cast(DataType::Date).cast(DataType::Int32),
            col("run_id").cast(DataType::String),
            or_default("risk", lit(NULL)).cast(DataType::Float64),
            or_default("threshold", lit(NULL)).cast(DataType::Float64),
            or_default("flagged", lit(true)).cast(DataType::Boolean),
        ])
        .collect()?;
    let ids = frame.column("person_id")?.str()?;
    let as_of = frame.column("as_of")?.i32()?;
    let run_ids = frame.column("run_id")?.str()?;
    let risks = frame.column("risk")?.f64()?;
    let thresholds = frame.column("threshold")?.f64()?;
    let flagged = frame.column("flagged")?.bool()?;
    let mut rows = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let (Some(id), Some(d)) = (ids.get(i), as_of.get(i)) else {
            return Err(ImpactError::BadHistory {
                path: path.to_path_buf(),
                column: if ids.get(i).is_none() {
                    "person_id"
                } else {
                    "as_of"
                },
                expected: "no missing values",
            });
        };
        rows.push(Row {
            id: id.to_string(),
            as_of: d,
            run_id: run_ids.get(i).unwrap_or_default().to_string(),
            risk: risks.get(i),
            threshold: thresholds.get(i),
            flagged: flagged.get(i).unwrap_or(true),
        });
    }
    Ok(rows)
}

/// The extract's valid patients by the id the runs wrote: NHS-number ids
/// are pseudonymised with the runs' key (refused without one), as
/// `pipeline` does for every person-level output.
fn patients(extract: &Extract, input: &Path, key: Option<&PseudonymKey>) -> Result<Patients> {
    let mut frame = extract.patients.select([
        PlSmallStr::from("person_id"),
        PlSmallStr::from(PID),
        PlSmallStr::from("date_of_death"),
        PlSmallStr::from("opt_out_national"),
        PlSmallStr::from("opt_out_type1"),
    ])?;
    let allowed = crate::governance::opt_out::secondary_use_mask(&frame, &frame)?;
    if pseudonym::ids_are_nhs_numbers(frame.column("person_id")?.str()?) {
        let key = key.ok_or_else(|| GovernanceError::IdentifiersWithoutKey {
            path: input.join("patients"),
        })?;
        pseudonym::pseudonymise(&mut frame, "person_id", key)?;
    }
    let ids = frame.column("person_id")?.str()?;
    let pids = frame.column(PID)?.u32()?;
    let deaths = frame
        .column("date_of_death")?
        .cast(&DataType::Int32)?
        .i32()?
        .clone();
    let mut by_id = BTreeMap::new();
    for i in 0..frame.height() {
        if let (Some(id), Some(pid)) = (ids.get(i), pids.get(i)) {
            by_id.insert(
                id.to_string(),
                (pid, deaths.get(i), allowed.get(i).copied().unwrap_or(false)),
            );
        }
    }
    Ok(Patients { by_id })
}

/// The start days of each person's emergency inpatient admissions (the
/// model's outcome, `features::outcomes`), sorted, indexed by PID.
fn admissions(extract: &Extract) -> Result<Vec<Vec<i32>>> {
    let mut by_pid = vec![Vec::new(); extract.patients.height()];
    let Some(encounters) = extract.table("encounters") else {
        return Ok(by_pid);
    };
    let rows = ingest::collect_streaming(
        encounters
            .clone()
            .filter(
                col("setting")
                    .eq(lit("inpatient"))
                    .and(col("emergency"))
                    .and(col("start_date").is_not_null()),
            )
            .select([col(PID), col("start_date").cast(DataType::Int32)]),
    )?;
    let pids = rows.column(PID)?.u32()?;
    let starts = rows.column("start_date")?.i32()?;
    for (pid, start) in pids.iter().zip(starts.iter()) {
        if let (Some(pid), Some(start)) = (pid, start)
            && let Some(list) = by_pid.get_mut(pid as usize)
        {
            list.push(start);
        }
    }
    for list in &mut by_pid {
        list.sort_unstable();
    }
    Ok(by_pid)
}

/// A count as published: withheld (`None`) in 1..=the profile's limit,
/// otherwise rounded by the profile (midpoint profiles round instead).
pub fn protect(profile: &DisclosureProfile, n: u64) -> Option<u64> {
    if !profile.is_midpoint() && (1..=profile.redact_at_or_below()).contains(&n) {
        return None;
    }
    Some(profile.rounding().apply(n))
}

fn round_to(x: f64, places: i32) -> f64 {
    let k = 10f64.powi(places);
    (x * k).round() / k
}

fn rounded(i: Interval, places: i32) -> Interval {
    Interval {
        estimate: round_to(i.estimate, places),
        lower: round_to(i.lower, places),
        upper: round_to(i.upper, places),
    }
}

/// One run's cohort and comparison group, over each horizon.
fn cohort(
    as_of: i32,
    rows: &[&Row],
    first: &BTreeMap<&str, i32>,
    patients: &Patients,
    admissions: &[Vec<i32>],
    last: Option<i32>,
    profile: &DisclosureProfile,
) -> CohortReport {
    let run_id = rows.first().map(|r| r.run_id.clone()).unwrap_or_default();
    let threshold = rows.iter().find_map(|r| r.threshold);
    let band_floor = rows
        .iter()
        .filter(|r| !r.flagged)
        .filter_map(|r| r.risk)
        .min_by(f64::total_cmp);
    let mut report = CohortReport {
        as_of: date(as_of),
        run_id,
        threshold: threshold.map(|t| round_to(t, 4)),
        band_floor: band_floor.map(|t| round_to(t, 4)),
        status: "analysed".into(),
        opted_out: None,
        not_followed: None,
        horizons: Vec::new(),
    };
    let (Some(threshold), Some(floor)) = (threshold, band_floor) else {
        report.status = "no comparison group recorded for this run (its flag history was written before strata kept one)".into();
        return report;
    };
    // (in the cohort?, risk, pid, death) of everyone analysed.
    let mut people: Vec<(bool, f64, u32, Option<i32>)> = Vec::new();
    let (mut opted_out, mut not_followed) = (0u64, 0u64);
    for row in rows {
        let first_flagged = first.get(row.id.as_str()).copied();
        let in_cohort = row.flagged && first_flagged == Some(as_of);
        let in_comparison = !row.flagged && first_flagged.is_none_or(|f| f > as_of);
        if !(in_cohort || in_comparison) {
            continue;
        }
        let Some(risk) = row.risk else { continue };
        match patients.by_id.get(&row.id) {
            None => not_followed += 1,
            Some((_, death, _)) if death.is_some_and(|d| d <= as_of) => not_followed += 1,
            Some((_, _, false)) => opted_out += 1,
            Some((pid, death, true)) => people.push((in_cohort, risk, *pid, *death)),
        }
    }
    report.opted_out = protect(profile, opted_out);
    report.not_followed = protect(profile, not_followed);
    for months in HORIZONS_MONTHS {
        let end = date(as_of)
            .checked_add_months(Months::new(months))
            .map(days)
            .unwrap_or(i32::MAX);
        if last.is_none_or(|l| l < end) {
            report.horizons.push(HorizonReport {
                months,
                status: format!(
                    "follow-up to {} is not yet in the extract",
                    date(end.min(days(NaiveDate::MAX) - 1))
                ),
                flagged: ArmReport::default(),
                comparison: ArmReport::default(),
                crude_rate_ratio: None,
                near_threshold: NearThreshold::default(),
                discontinuity: Discontinuity::default(),
            });
            continue;
        }
        let follow = |&(in_cohort, risk, pid, death): &(bool, f64, u32, Option<i32>)| {
            let stop = death.map_or(end, |d| d.min(end));
            let list = admissions.get(pid as usize).map_or(&[][..], Vec::as_slice);
            let observed = (list.partition_point(|&d| d <= stop)
                - list.partition_point(|&d| d <= as_of)) as u64;
            let span = f64::from(stop - as_of);
            let yearly = -(1.0 - risk.min(1.0 - 1e-9)).ln();
            (
                in_cohort,
                FollowUp {
                    x: risk - threshold,
                    years: span / MODEL_YEAR_DAYS,
                    observed,
                    expected: yearly * span / MODEL_YEAR_DAYS,
                },
            )
        };
        let all: Vec<(bool, FollowUp)> = people.iter().map(follow).collect();
        let cohort: Vec<FollowUp> = all.iter().filter(|p| p.0).map(|p| p.1).collect();
        let comparison: Vec<FollowUp> = all.iter().filter(|p| !p.0).map(|p| p.1).collect();
        report.horizons.push(horizon(
            months,
            &cohort,
            &comparison,
            threshold - floor,
            profile,
        ));
    }
    report
}

/// Totals of a group: people, admissions, person-years.
fn totals(group: &[FollowUp]) -> (u64, u64, f64) {
    (
        group.len() as u64,
        group.iter().map(|p| p.observed).sum(),
        group.iter().map(|p| p.years).sum(),
    )
}

/// The first-flagged people within `bandwidth` above the cut-off.
fn near(cohort: &[FollowUp], bandwidth: f64) -> Vec<FollowUp> {
    cohort
        .iter()
        .filter(|p| p.x >= 0.0 && p.x <= bandwidth)
        .copied()
        .collect()
}

/// The comparison of one horizon, disclosure-controlled.
fn horizon(
    months: u32,
    cohort: &[FollowUp],
    comparison: &[FollowUp],
    bandwidth: f64,
    profile: &DisclosureProfile,
) -> HorizonReport {
    let above = near(cohort, bandwidth);
    let (n1, o1, y1) = totals(cohort);
    let (n2, o2, y2) = totals(comparison);
    let (n3, o3, y3) = totals(&above);
    let published = [n1, o1, n2, o2, n3, o3].map(|n| protect(profile, n));
    let mut report = HorizonReport {
        months,
        status: "analysed".into(),
        flagged: ArmReport {
            people: published[0],
            admissions: published[1],
            rate_per_1000: None,
        },
        comparison: ArmReport {
            people: published[2],
            admissions: published[3],
            rate_per_1000: None,
        },
        crude_rate_ratio: None,
        near_threshold: NearThreshold {
            bandwidth: Some(round_to(bandwidth, 4)),
            flagged: ArmReport {
                people: published[4],
                admissions: published[5],
                rate_per_1000: None,
            },
            adjusted_rate_ratio: None,
            reduction: None,
        },
        discontinuity: discontinuity(&above, comparison, bandwidth, profile),
    };
    if published.iter().any(Option::is_none) {
        report.status =
            "withheld: a count of 1–7 people or admissions, which the rates and ratios would reveal"
                .into();
        return report;
    }
    let per_1000 = |o: u64, y: f64| stats::rate(o as f64, y).map(|r| rounded(r.scaled(1000.0), 1));
    report.flagged.rate_per_1000 = per_1000(o1, y1);
    report.comparison.rate_per_1000 = per_1000(o2, y2);
    report.near_threshold.flagged.rate_per_1000 = per_1000(o3, y3);
    report.crude_rate_ratio =
        stats::rate_ratio(o1 as f64, y1, o2 as f64, y2).map(|r| rounded(r, 3));
    let adjusted = adjusted_ratio(&above, comparison);
    report.near_threshold.adjusted_rate_ratio = adjusted.map(|r| rounded(r, 3));
    report.near_threshold.reduction = adjusted.map(|r| rounded(r.reduction(), 3));
    report
}

/// The rate ratio of flagged (`above`) over unflagged (`below`) people near
/// the cut-off, adjusted for risk: a Poisson regression of each person's
/// admissions (exposure: person-years) on `ln(−ln(1 − risk))` (the log of
/// the yearly hazard the model's 12-month risk implies, centred at the
/// cut-off's) and a flagged indicator. The calibration slope is estimated
/// from the people, not assumed: counts rise faster with risk than the
/// implied hazard does (recurrent admissions), so dividing by the model's
/// expected admissions would make the flagged look worse than they are.
fn adjusted_ratio(above: &[FollowUp], below: &[FollowUp]) -> Option<Interval> {
    let log_hazard = |p: &FollowUp| (p.expected / p.years).ln();
    let centre = below
        .iter()
        .chain(above)
        .filter(|p| p.years > 0.0)
        .map(|p| (p.x.abs(), log_hazard(p)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(0.0, |(_, h)| h);
    let points: Vec<([f64; 3], f64, f64)> = [(above, 1.0), (below, 0.0)]
        .iter()
        .flat_map(|(group, flagged)| {
            group.iter().filter(|p| p.years > 0.0).map(move |p| {
                (
                    [1.0, log_hazard(p) - centre, *flagged],
                    p.observed as f64,
                    p.years,
                )
            })
        })
        .collect();
    stats::poisson_regression(&points).map(|fit| stats::rate_ratio_of(&fit, 2))
}

/// The regression-discontinuity estimate: a line on each side of the cut-off
/// within `bandwidth` (`above`: the first-flagged people already within it),
/// compared at the cut-off.
fn discontinuity(
    above: &[FollowUp],
    comparison: &[FollowUp],
    bandwidth: f64,
    profile: &DisclosureProfile,
) -> Discontinuity {
    let above: Vec<FollowUp> = above.iter().filter(|p| p.years > 0.0).copied().collect();
    let below: Vec<FollowUp> = comparison
        .iter()
        .filter(|p| p.x < 0.0 && p.x >= -bandwidth && p.years > 0.0)
        .copied()
        .collect();
    let (n_above, o_above, _) = totals(&above);
    let (n_below, o_below, _) = totals(&below);
    let mut out = Discontinuity {
        status: "estimated".into(),
        bandwidth: Some(round_to(bandwidth, 4)),
        people_below: protect(profile, n_below),
        people_above: protect(profile, n_above),
        admissions_below: protect(profile, o_below),
        admissions_above: protect(profile, o_above),
        ..Discontinuity::default()
    };
    let enough = |n: u64, o: u64| n as usize >= MIN_RD_PEOPLE && o >= MIN_RD_ADMISSIONS;
    if !(enough(n_above, o_above) && enough(n_below, o_below)) {
        out.status = format!(
            "too few people: a local linear fit needs {MIN_RD_PEOPLE} people and \
             {MIN_RD_ADMISSIONS} admissions on each side of the cut-off within the bandwidth"
        );
        return out;
    }
    let points = |g: &[FollowUp]| -> Vec<(f64, f64, f64)> {
        g.iter()
            .map(|p| (p.x, p.observed as f64 / p.years, p.years))
            .collect()
    };
    let (Some(a), Some(b)) = (
        stats::local_linear(&points(&above)),
        stats::local_linear(&points(&below)),
    ) else {
        out.status = "no fit: every person on one side has the same risk".into();
        return out;
    };
    out.rate_above_per_1000 = Some(round_to(a.intercept * 1000.0, 1));
    out.rate_below_per_1000 = Some(round_to(b.intercept * 1000.0, 1));
    match stats::intercept_ratio(&a, &b) {
        Some(ratio) => {
            out.ratio = Some(rounded(ratio, 3));
            out.reduction = Some(rounded(ratio.reduction(), 3));
        }
        None => out.status = "no estimate: a fitted rate at the cut-off is not positive".into(),
    }
    out
}

fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "withheld".to_string(), |n| n.to_string())
}

fn interval(i: Option<Interval>) -> String {
    i.map_or_else(
        || "–".to_string(),
        |i| format!("{} ({} to {})", i.estimate, i.lower, i.upper),
    )
}

/// A few lines per cohort for a terminal and `impact.txt`.
pub fn summary(report: &ImpactReport) -> String {
    let mut s = format!(
        "impact of flagging since {} (flag history of run {}; extract to {}; disclosure {})\n",
        report.since,
        report.history_run,
        report
            .extract_last_date
            .map_or_else(|| "–".to_string(), |d| d.to_string()),
        report.disclosure
    );
    if report.cohorts.is_empty() {
        s.push_str("no run since that date\n");
    }
    for c in &report.cohorts {
        s.push_str(&format!(
            "\nrun {} (as of {}): cut-off {}, comparison band from {}: {}\n",
            c.run_id,
            c.as_of,
            c.threshold.map_or("–".into(), |t| t.to_string()),
            c.band_floor.map_or("–".into(), |t| t.to_string()),
            c.status
        ));
        for h in &c.horizons {
            s.push_str(&format!("  {} months: {}\n", h.months, h.status));
            if h.flagged.people.is_none() && h.comparison.people.is_none() {
                continue;
            }
            for (name, arm) in [("first flagged", &h.flagged), ("comparison", &h.comparison)] {
                s.push_str(&format!(
                    "    {name}: {} people, {} admissions, {} per 1,000 person-years\n",
                    count(arm.people),
                    count(arm.admissions),
                    interval(arm.rate_per_1000)
                ));
            }
            let n = &h.near_threshold;
            s.push_str(&format!(
                "    crude rate ratio {}\n    near the cut-off (bandwidth {}): {} first flagged, {} admissions; \
                 risk-adjusted rate ratio {}; reduction {}\n",
                interval(h.crude_rate_ratio),
                n.bandwidth.map_or("–".into(), |b| b.to_string()),
                count(n.flagged.people),
                count(n.flagged.admissions),
                interval(n.adjusted_rate_ratio),
                interval(n.reduction)
            ));
            let d = &h.discontinuity;
            s.push_str(&format!(
                "    discontinuity at the cut-off: {}; reduction {}\n",
                d.status,
                interval(d.reduction)
            ));
        }
    }
    s.push_str("\nobservational: see docs/impact.md for what these figures mean and do not mean\n");
    s
}

/// Writes `impact.json` and `impact.txt` into `OUT/impact/` (each through a
/// temporary file and a rename, so a reader never sees half a file) and
/// returns the folder.
pub fn write(report: &ImpactReport, out: &Path) -> Result<PathBuf> {
    let dir = out.join(IMPACT_DIR);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ImpactError::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let json =
        serde_json::to_string_pretty(report).map_err(|e| ImpactError::Internal(e.to_string()))?;
    for (name, text) in [
        ("impact.json", json + "\n"),
        ("impact.txt", summary(report)),
    ] {
        let path = dir.join(name);
        let temporary = dir.join(format!(".{name}.tmp"));
        std::fs::write(&temporary, text).map_err(io(&temporary))?;
        std::fs::rename(&temporary, &path).map_err(io(&path))?;
    }
    Ok(dir)
}
