//! Coverage, so that no feature family falls silent: for each family of
//! features (utilisation per setting, each code-list score, medicines, social
//! care, observations) the rows and people of its sources, counted during
//! the pass that computes the features (no pass of its own), and a warning
//! when a family has no source at all or touches far fewer people than its
//! population should give.
//!
//! The rule (docs/outputs.md, "coverage"):
//! - **absent**: a source table is missing from the extract, or a code-list
//!   score's (table, code system) has no row up to the index date. A score
//!   family all of whose sources are absent is `absent` (HFRS: not
//!   computable, null; the other scores: 0 for everyone); one with some
//!   sources absent is `partial` ("Charlson from SNOMED CT only").
//! - **sparse**: in a population of at least [`SPARSE_MIN_POPULATION`]
//!   people, a family whose sources touch fewer than [`SPARSE_SHARE`] (1%) of
//!   the people in scope ([`SPARSE_SHARE_SOCIAL_CARE`], 0.1%, for social
//!   care). Every other family here reaches well over 1% of a registered
//!   population in England in a year (most over 10%), social care about
//!   1.5%, so a tenth or less of that is "far fewer than expected": a feed
//!   cut short or a code system not mapped.
//!   For a score the people are those with any row of its sources; for an
//!   event family, those with any non-zero value of its features.
//!
//! A model term that reads a feature of an `absent` family makes the run
//! degraded (the pipeline records it in the manifest).

use polars::prelude::*;

use super::scores::Family;
use super::spec::{FeatureDef, FeatureKind, Filter};
use crate::codelists::CodeSystem;
use crate::ingest::ValidationReport;

/// The smallest population the sparse rule applies to.
pub const SPARSE_MIN_POPULATION: u64 = 1000;
/// A family touching fewer than this share of the population is sparse.
pub const SPARSE_SHARE: f64 = 0.01;
/// The same for social care, which reaches far fewer people (adult
/// long-term care: about 1.5% of England's population in a year).
pub const SPARSE_SHARE_SOCIAL_CARE: f64 = 0.001;

/// Rows and people of one (table, code system) a score reads, counted as
/// its rows stream past.
#[derive(Debug, Clone)]
pub(super) struct SourceCount {
    pub table: &'static str,
    pub system: CodeSystem,
    pub rows: u64,
    /// People in scope touched (set by [`SourceCount::restrict`]).
    pub people: u64,
    /// Per person key: any row.
    touched: Vec<bool>,
}

impl SourceCount {
    pub fn new(table: &'static str, system: CodeSystem, people: usize) -> SourceCount {
        SourceCount {
            table,
            system,
            rows: 0,
            people: 0,
            touched: vec![false; people],
        }
    }

    #[inline]
    pub fn add(&mut self, pid: u32) {
        self.rows += 1;
        if let Some(t) = self.touched.get_mut(pid as usize) {
            *t = true;
        }
    }

    /// Keeps only the people in scope (`pids`) and counts them.
    pub fn restrict(mut self, pids: &[u32]) -> SourceCount {
        let mut kept = vec![false; self.touched.len()];
        for &p in pids {
            if let (Some(k), Some(&t)) = (kept.get_mut(p as usize), self.touched.get(p as usize)) {
                *k = t;
            }
        }
        self.people = kept.iter().filter(|t| **t).count() as u64;
        self.touched = kept;
        self
    }
}

fn source_label(table: &str, system: CodeSystem) -> String {
    let system = match system {
        CodeSystem::Icd10 => "ICD-10",
        CodeSystem::Snomed => "SNOMED CT",
        CodeSystem::Bnf => "BNF",
    };
    format!("{system} {table}")
}

/// How well a family is covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageStatus {
    Ok,
    /// Some of a score's sources have no rows.
    Partial,
    /// Present, but touching far fewer people than expected.
    Sparse,
    /// No source at all.
    Absent,
}

/// One source of a family.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SourceCoverage {
    /// e.g. `ICD-10 diagnoses`, `encounters`.
    pub source: String,
    /// Rows read up to the index date; `None` where not counted separately
    /// (an event family that is part of a table).
    pub rows: Option<u64>,
    /// People in scope with any row of the source (for an event family:
    /// with any non-zero value of its features).
    pub people: u64,
}

/// One feature family's coverage.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FamilyCoverage {
    pub family: String,
    /// The features it feeds.
    pub features: Vec<String>,
    pub sources: Vec<SourceCoverage>,
    /// People in scope touched by any of its sources.
    pub people: u64,
    pub status: CoverageStatus,
}

/// Coverage of every feature family of a feature table.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Coverage {
    /// People in scope.
    pub population: u64,
    pub families: Vec<FamilyCoverage>,
    /// One line per problem, naming the missing source.
    pub warnings: Vec<String>,
}

impl Coverage {
    /// Whether `feature` belongs to a family with no source at all.
    pub fn is_absent(&self, feature: &str) -> Option<&FamilyCoverage> {
        self.families
            .iter()
            .find(|f| f.status == CoverageStatus::Absent && f.features.iter().any(|n| n == feature))
    }

    /// Fills the rows of whole-table event families (from the ingest counts).
    pub fn fill_table_rows(&mut self, rows: impl Fn(&str) -> Option<u64>) {
        for source in self.families.iter_mut().flat_map(|f| f.sources.iter_mut()) {
            if source.rows.is_none() && !source.source.contains(':') {
                source.rows = rows(&source.source);
            }
        }
    }
}

/// The family of an event feature: its table, and for encounters its
/// setting and emergency filters ("utilisation: inpatient, emergency").
fn event_family(table: &str, filters: &[Filter]) -> (String, String) {
    let name = match table {
        "encounters" => "utilisation",
        "medications" => "medicines",
        "social_care" => "social care",
        other => other,
    };
    let mut parts = Vec::new();
    for f in filters {
        if let Filter::Text { column, any_of } = f
            && column == "setting"
        {
            parts.push(any_of.join("/"));
        }
    }
    for f in filters {
        if let Filter::Bool { column, value } = f
            && column == "emergency"
        {
            parts.push(if *value { "emergency" } else { "not emergency" }.into());
        }
    }
    if table == "encounters" && parts.is_empty() {
        parts.push("all settings".into());
    }
    if parts.is_empty() {
        (name.to_string(), table.to_string())
    } else {
        let part = parts.join(", ");
        (format!("{name}: {part}"), format!("{table}: {part}"))
    }
}

/// Assesses coverage from the score sources counted in the pass and the
/// finished feature frame (one row per person in scope).
pub(super) fn assess(
    frame: &DataFrame,
    defs: &[FeatureDef],
    sources: &[SourceCount],
    present: &[String],
) -> PolarsResult<Coverage> {
    let population = frame.height() as u64;
    let mut families: Vec<FamilyCoverage> = Vec::new();
    let mut warnings = Vec::new();
    // Code-list scores.
    let mut score_families: Vec<Family> = Vec::new();
    for d in defs {
        if let FeatureKind::Score { score, .. } = d.kind {
            let f = Family::of(score);
            if !score_families.contains(&f) {
                score_families.push(f);
            }
        }
    }
    for family in score_families {
        let features: Vec<String> = defs
            .iter()
            .filter(|d| matches!(d.kind, FeatureKind::Score { score, .. } if Family::of(score) == family))
            .map(|d| d.name.clone())
            .collect();
        let counted: Vec<&SourceCount> = family
            .sources()
            .iter()
            .filter_map(|(t, s)| sources.iter().find(|c| c.table == *t && c.system == *s))
            .collect();
        let mut union = vec![false; counted.first().map_or(0, |c| c.touched.len())];
        for c in &counted {
            for (u, t) in union.iter_mut().zip(&c.touched) {
                *u |= *t;
            }
        }
        let people = union.iter().filter(|t| **t).count() as u64;
        let list: Vec<SourceCoverage> = family
            .sources()
            .iter()
            .map(|(t, s)| {
                let c = counted.iter().find(|c| c.table == *t && c.system == *s);
                SourceCoverage {
                    source: source_label(t, *s),
                    rows: Some(c.map_or(0, |c| c.rows)),
                    people: c.map_or(0, |c| c.people),
                }
            })
            .collect();
        let status = score_status(family, &list, people, population, &mut warnings);
        families.push(FamilyCoverage {
            family: family.name().to_string(),
            features,
            sources: list,
            people,
            status,
        });
    }
    // Event features, by table and setting.
    let mut events: Vec<(String, String, String, Vec<String>)> = Vec::new();
    for d in defs {
        if let FeatureKind::Events { table, filters, .. } = &d.kind {
            let (family, source) = event_family(table, filters);
            match events.iter_mut().find(|e| e.0 == family) {
                Some(e) => e.3.push(d.name.clone()),
                None => events.push((family, source, table.to_string(), vec![d.name.clone()])),
            }
        }
    }
    for (family, source, table, features) in events {
        let has_table = present.contains(&table);
        let people = if has_table {
            people_with_values(frame, &features)?
        } else {
            0
        };
        let status = if !has_table {
            warnings.push(format!(
                "no {table} table: {family} features are 0 or empty for everyone"
            ));
            CoverageStatus::Absent
        } else {
            sparse(&family, people, population, &mut warnings)
        };
        families.push(FamilyCoverage {
            family,
            features,
            sources: vec![SourceCoverage {
                source,
                rows: if has_table { None } else { Some(0) },
                people,
            }],
            people,
            status,
        });
    }
    Ok(Coverage {
        population,
        families,
        warnings,
    })
}

/// The absent and partial rules of a code-list score (module docs), then
/// the sparse rule.
fn score_status(
    family: Family,
    list: &[SourceCoverage],
    people: u64,
    population: u64,
    warnings: &mut Vec<String>,
) -> CoverageStatus {
    let missing: Vec<&str> = list
        .iter()
        .filter(|s| s.rows == Some(0))
        .map(|s| s.source.as_str())
        .collect();
    let found: Vec<&str> = list
        .iter()
        .filter(|s| s.rows != Some(0))
        .map(|s| s.source.as_str())
        .collect();
    if found.is_empty() {
        let what = if family == Family::Hfrs {
            "not computable (null for everyone)"
        } else {
            "0 for everyone"
        };
        warnings.push(format!(
            "no {}: {} {what}",
            missing.join(" or "),
            family.name()
        ));
        CoverageStatus::Absent
    } else if !missing.is_empty() {
        warnings.push(format!(
            "no {}: {} from {} only",
            missing.join(" or "),
            family.name(),
            found.join(" and ")
        ));
        CoverageStatus::Partial
    } else {
        sparse(family.name(), people, population, warnings)
    }
}

/// The warnings about absent sources that a validation report alone can
/// give (`strata validate`: no feature pass, so no people counts and no
/// sparse rule): tables missing, and code systems with no valid row.
pub fn source_warnings(report: &ValidationReport, defs: &[FeatureDef]) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut seen: Vec<Family> = Vec::new();
    for d in defs {
        let FeatureKind::Score { score, .. } = d.kind else {
            continue;
        };
        let family = Family::of(score);
        if seen.contains(&family) {
            continue;
        }
        seen.push(family);
        let list: Vec<SourceCoverage> = family
            .sources()
            .iter()
            .map(|(table, system)| SourceCoverage {
                source: source_label(table, *system),
                rows: Some(report.table(table).map_or(0, |t| {
                    t.code_systems
                        .iter()
                        .find(|(s, _)| s == system.name())
                        .map_or(0, |(_, n)| *n)
                })),
                people: 0,
            })
            .collect();
        score_status(family, &list, 0, 0, &mut warnings);
    }
    let mut tables: Vec<(&str, String)> = Vec::new();
    for d in defs {
        if let FeatureKind::Events { table, filters, .. } = &d.kind
            && report.table(table).is_none()
            && !tables.iter().any(|(t, _)| t == table)
        {
            tables.push((table, event_family(table, filters).0));
        }
    }
    for (table, family) in tables {
        let family = family.split(':').next().unwrap_or(&family).to_string();
        warnings.push(format!(
            "no {table} table: {family} features are 0 or empty for everyone"
        ));
    }
    warnings
}

/// The sparse rule (module docs).
fn sparse(
    family: &str,
    people: u64,
    population: u64,
    warnings: &mut Vec<String>,
) -> CoverageStatus {
    let share = if family == "social care" {
        SPARSE_SHARE_SOCIAL_CARE
    } else {
        SPARSE_SHARE
    };
    if population >= SPARSE_MIN_POPULATION && (people as f64) < share * population as f64 {
        // No count in the text: it is shown in reports, where small counts are withheld.
        warnings.push(format!(
            "{family}: its sources touch under {}% of the people in scope, far fewer than expected",
            share * 100.0
        ));
        CoverageStatus::Sparse
    } else {
        CoverageStatus::Ok
    }
}

/// People (rows of `frame`) with a non-zero, non-empty value in any of `features`.
fn people_with_values(frame: &DataFrame, features: &[String]) -> PolarsResult<u64> {
    let mut any = vec![false; frame.height()];
    for name in features {
        let Ok(column) = frame.column(name) else {
            continue;
        };
        match column.dtype() {
            DataType::Boolean => {
                for (a, v) in any.iter_mut().zip(column.bool()?.iter()) {
                    *a |= v == Some(true);
                }
            }
            DataType::String => {
                for (a, v) in any.iter_mut().zip(column.str()?.iter()) {
                    *a |= v.is_some_and(|s| !s.is_empty());
                }
            }
            dt if dt.is_primitive_numeric() => {
                let values = column.cast(&DataType::Float64)?;
                for (a, v) in any.iter_mut().zip(values.f64()?.iter()) {
                    *a |= v.is_some_and(|x| x != 0.0);
                }
            }
            _ => {
                for (a, n) in any.iter_mut().zip(column.is_not_null().iter()) {
                    *a |= n == Some(true);
                }
            }
        }
    }
    Ok(any.iter().filter(|a| **a).count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(rows: u64) -> SourceCoverage {
        SourceCoverage {
            source: "x".into(),
            rows: Some(rows),
            people: 0,
        }
    }

    #[test]
    fn the_sparse_rule_is_under_one_percent_of_at_least_a_thousand_people() {
        let mut w = Vec::new();
        // 1,000 people: 9 touched is under 1% (10), sparse; 10 is not.
        assert_eq!(sparse("medicines", 9, 1000, &mut w), CoverageStatus::Sparse);
        assert_eq!(sparse("medicines", 10, 1000, &mut w), CoverageStatus::Ok);
        // Under 1,000 people the rule does not apply, even with nobody touched.
        assert_eq!(sparse("medicines", 0, 999, &mut w), CoverageStatus::Ok);
        // Social care: 0.1%, so 1 of 1,000 is enough, 0 is not.
        assert_eq!(sparse("social care", 1, 1000, &mut w), CoverageStatus::Ok);
        assert_eq!(
            sparse("social care", 0, 1000, &mut w),
            CoverageStatus::Sparse
        );
        assert_eq!(w.len(), 2);
        assert!(
            w[0].starts_with("medicines: its sources touch under 1%"),
            "{w:?}"
        );
        assert!(w[1].contains("under 0.1%"), "{w:?}");
    }

    #[test]
    fn a_score_without_one_code_system_is_partial_and_without_all_absent() {
        let labelled = |label: &str, rows| SourceCoverage {
            source: label.into(),
            ..source(rows)
        };
        let mut w = Vec::new();
        let both = [
            labelled("ICD-10 diagnoses", 0),
            labelled("SNOMED CT diagnoses", 5),
        ];
        assert_eq!(
            score_status(Family::Charlson, &both, 5, 10, &mut w),
            CoverageStatus::Partial
        );
        assert_eq!(
            w,
            ["no ICD-10 diagnoses: Charlson from SNOMED CT diagnoses only"]
        );
        w.clear();
        let icd10 = [labelled("ICD-10 diagnoses", 0)];
        assert_eq!(
            score_status(Family::Hfrs, &icd10, 0, 10, &mut w),
            CoverageStatus::Absent
        );
        assert_eq!(
            w,
            ["no ICD-10 diagnoses: HFRS not computable (null for everyone)"]
        );
        w.clear();
        let present = [labelled("ICD-10 diagnoses", 3)];
        assert_eq!(
            score_status(Family::Hfrs, &present, 3, 10, &mut w),
            CoverageStatus::Ok
        );
        assert!(w.is_empty());
    }

    #[test]
    fn encounter_families_are_named_by_setting_then_emergency() {
        let filters = [
            Filter::Bool {
                column: "emergency".into(),
                value: true,
            },
            Filter::Text {
                column: "setting".into(),
                any_of: vec!["inpatient".into()],
            },
        ];
        assert_eq!(
            event_family("encounters", &filters).0,
            "utilisation: inpatient, emergency"
        );
        assert_eq!(
            event_family("encounters", &[]).0,
            "utilisation: all settings"
        );
        assert_eq!(event_family("medications", &[]).0, "medicines");
    }
}
