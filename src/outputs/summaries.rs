//! Neighbourhood summaries for commissioners: aggregates by PCN, practice,
//! LSOA, IMD quintile, ethnicity group, age band and sex, every one passed
//! through disclosure control before it is written.
//!
//! Purpose: planning (secondary use). People with a National Data Opt-out or
//! a Type 1 objection are excluded before anything is counted. This module
//! never writes an unprotected count and never a person-level column.

use std::path::Path;

use polars::prelude::*;

use super::disclosure::{
    DisclosureProfile, DisclosureReport, TableSpec, TotalRowMethod, protect_dataframe,
};
use super::manifest::OutputFile;
use super::parquet::write_parquet;
use crate::codelists::Ltc;
use crate::cohort::Tier;
use crate::cohort::segments::SEGMENTS;
use crate::error::Result;

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

/// One protected summary and what disclosure control did to it.
pub struct Summary {
    pub dimension: &'static str,
    pub frame: DataFrame,
    pub report: DisclosureReport,
}

/// The people counted by each count column: (column, condition). They are
/// worked out once per person, as 0/1 columns, for all eight summaries.
fn counted() -> Vec<(String, Expr)> {
    let mut counts = Vec::new();
    for tier in Tier::ALL {
        counts.push((
            format!("tier_{}", tier.label()),
            col("tier").eq(lit(tier.label())),
        ));
    }
    for segment in SEGMENTS {
        counts.push((
            format!("segment_{}", segment.label),
            col("segment").eq(lit(segment.label)),
        ));
    }
    for ltc in Ltc::ALL {
        let name = format!("ltc_{}", ltc.key());
        counts.push((name.clone(), col(name.as_str())));
    }
    for (name, category) in FRAILTY {
        counts.push((name.to_string(), col("efi_category").eq(lit(*category))));
    }
    counts
}

/// Column holding whether a person is counted in the count column `name`.
fn indicator(name: &str) -> String {
    format!("__counted_{name}")
}

/// `planning` with one 0/1 column per count ([`counted`]).
fn with_indicators(planning: &DataFrame) -> Result<DataFrame> {
    let indicators: Vec<Expr> = counted()
        .into_iter()
        .map(|(name, condition)| {
            condition
                .fill_null(lit(false))
                .cast(DataType::Int64)
                .alias(indicator(&name).as_str())
        })
        .collect();
    Ok(planning.clone().lazy().with_columns(indicators).collect()?)
}

/// The aggregate columns of one group (before disclosure control), from a
/// frame [`with_indicators`].
fn aggregates() -> Vec<Expr> {
    let mut aggs = vec![len().cast(DataType::Int64).alias("population")];
    aggs.extend(
        counted()
            .into_iter()
            .map(|(name, _)| col(indicator(&name).as_str()).sum().alias(name.as_str())),
    );
    let variance = (col("risk") * (lit(1.0) - col("risk"))).sum();
    aggs.extend([
        col("risk").mean().alias("mean_risk"),
        col("risk").sum().alias("expected_admissions"),
        // Poisson-binomial: the number admitted has variance Σ p(1 − p); a normal 95% interval.
        (col("risk").sum() - lit(1.959964) * variance.clone().sqrt())
            .clip_min(lit(0.0))
            .alias("expected_admissions_lower"),
        (col("risk").sum() + lit(1.959964) * variance.sqrt()).alias("expected_admissions_upper"),
        col("cost_12m").fill_null(lit(0.0)).sum().alias("cost_12m"),
    ]);
    aggs
}

/// The columns of `people` the summaries read: the person key, every
/// dimension, and the inputs of [`aggregates`] (fewer columns to copy when
/// people who opted out are filtered away).
fn summarised(people: &DataFrame) -> Vec<PlSmallStr> {
    let mut inputs: Vec<&str> = vec![
        crate::ingest::PID,
        "tier",
        "segment",
        "efi_category",
        "risk",
        "cost_12m",
    ];
    inputs.extend(DIMENSIONS);
    let ltcs: Vec<String> = Ltc::ALL
        .iter()
        .map(|l| format!("ltc_{}", l.key()))
        .collect();
    inputs.extend(ltcs.iter().map(String::as_str));
    people
        .get_column_names()
        .into_iter()
        .filter(|name| inputs.contains(&name.as_str()))
        .cloned()
        .collect()
}

/// Builds and protects the summary by `dimension` of the planning population.
pub fn summarise(
    planning: &DataFrame,
    dimension: &'static str,
    profile: &DisclosureProfile,
) -> Result<Summary> {
    summarise_counted(&with_indicators(planning)?, dimension, profile)
}

/// [`summarise`] of a planning population [`with_indicators`].
fn summarise_counted(
    planning: &DataFrame,
    dimension: &'static str,
    profile: &DisclosureProfile,
) -> Result<Summary> {
    let group = col(dimension)
        .cast(DataType::String)
        .fill_null(lit(UNKNOWN_LABEL))
        .alias(dimension);
    let raw = planning
        .clone()
        .lazy()
        .group_by([group])
        .agg(aggregates())
        .sort([dimension], SortMultipleOptions::default())
        .collect()?;
    let spec = TableSpec::by_convention(&raw, dimension)?
        .with_total_row(TOTAL_LABEL, TotalRowMethod::ProfileDefault);
    let (frame, report) = protect_dataframe(&raw, &spec, profile)?;
    Ok(Summary {
        dimension,
        frame,
        report,
    })
}

/// What disclosure control did to each summary, by dimension.
pub type DisclosureReports = Vec<(String, DisclosureReport)>;

/// Writes every summary into `dir/summaries/by_<dimension>.parquet`.
pub fn write_summaries(
    dir: &Path,
    people: &DataFrame,
    patients: &DataFrame,
    profile: &DisclosureProfile,
) -> Result<(Vec<OutputFile>, DisclosureReports)> {
    let planning = crate::cohort::secondary_use(&people.select(summarised(people))?, patients)?;
    let planning = with_indicators(&planning)?;
    let folder = dir.join("summaries");
    std::fs::create_dir_all(&folder).map_err(|source| crate::error::OutputError::Io {
        path: folder.clone(),
        action: "creating the summaries folder",
        source,
    })?;
    let mut files = Vec::new();
    let mut reports = Vec::new();
    for dimension in DIMENSIONS {
        let mut summary = summarise_counted(&planning, dimension, profile)?;
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
