//! Features: one row per person in scope at an index date, computed from
//! declarative definitions ([`spec`]).
//!
//! Conventions (docs/feature-catalogue.md):
//! - features use events up to and including the index date;
//! - a 12-month window is the 365 days ending on the index date
//!   (index − 364 days … index, both inclusive);
//! - people in scope are born, registered (`registered_from` ≤ index) and
//!   alive (no `date_of_death`, or one after the index date) on the index date.
//!
//! Plan: every event feature of a table is folded into dense per-person state
//! ([`tally`]) in **one** streaming pass over the table, whatever the number
//! of features; code-list scores collect each person's categories the same
//! way ([`scores`]). Nothing is joined back: columns are read out by [`PID`].

pub mod catalogue;
pub mod coverage;
mod error;
mod events;
pub mod examples;
pub mod outcomes;
mod person;
mod scores;
pub mod spec;
mod tally;

use std::path::Path;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use crate::codelists::{ScoreLists, SpecError};
use crate::ingest::{Batch, Collected, Extract, PID, Slot};
pub use coverage::{Coverage, CoverageStatus, FamilyCoverage};
pub use error::{FeatureError, Result};
pub use spec::{FeatureDef, FeatureKind, FeatureType, WhenNone};

/// Days in a 12-month window, counting the index date.
pub const YEAR_DAYS: i64 = 365;

/// Identifying and grouping columns carried beside the features.
pub const KEY_COLUMNS: &[&str] = &["person_id", "practice_code", "pcn_code", "lsoa"];

/// A checked set of feature definitions: the built-in catalogue plus any user files.
#[derive(Debug, Clone)]
pub struct FeatureSet {
    defs: Vec<FeatureDef>,
    /// The code lists of the Charlson and Elixhauser scores (built in unless replaced).
    lists: Arc<ScoreLists>,
}

impl FeatureSet {
    /// The built-in catalogue.
    pub fn builtin() -> Result<FeatureSet> {
        Ok(FeatureSet {
            defs: spec::builtin()?,
            lists: Arc::new(ScoreLists::builtin()?.clone()),
        })
    }

    /// The same features, scored with `lists`.
    pub fn with_lists(mut self, lists: ScoreLists) -> FeatureSet {
        self.lists = Arc::new(lists);
        self
    }

    /// The score code lists used (for the manifest's checksums).
    pub fn lists(&self) -> &ScoreLists {
        &self.lists
    }

    /// The built-in catalogue plus the features declared in `path`.
    pub fn with_file(path: &Path) -> Result<FeatureSet> {
        let mut set = FeatureSet::builtin()?;
        let text = std::fs::read_to_string(path).map_err(|e| SpecError::Feature {
            feature: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let extra = spec::parse_features(&text, &path.display().to_string(), base, &set.defs)?;
        set.defs.extend(extra);
        Ok(set)
    }

    pub fn defs(&self) -> &[FeatureDef] {
        &self.defs
    }

    pub fn get(&self, name: &str) -> Option<&FeatureDef> {
        self.defs.iter().find(|f| f.name == name)
    }
}

/// The per-person feature table at one index date.
#[derive(Clone)]
pub struct FeatureTable {
    pub index_date: NaiveDate,
    /// [`PID`], the [`KEY_COLUMNS`], then one column per feature in definition order.
    pub frame: DataFrame,
    /// The rows and people behind each feature family, and what is missing.
    pub coverage: Coverage,
}

/// First day of the 12-month window ending on `index`.
pub fn window_start(index: NaiveDate) -> NaiveDate {
    index - chrono::Duration::days(YEAR_DAYS - 1)
}

/// Whole years from `birth` to `on` (a birthday on 29 February counts on 1 March in other years).
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years
}

pub(crate) use crate::contract::epoch_days;

/// Computes every feature of `set` for the people in scope at `index`.
pub fn derive_features(
    extract: &Extract,
    index: NaiveDate,
    set: &FeatureSet,
) -> Result<FeatureTable> {
    let mut batch = Batch::new();
    let plan = FeaturePlan::new(extract, index, set, &mut batch)?;
    let mut collected = batch.collect()?;
    plan.finish(&mut collected)
}

/// The features of one index date, planned but not yet computed: their
/// passes over the event tables wait in a [`Batch`], which may also hold the
/// extract's validation summaries, so that each table is read once.
pub struct FeaturePlan {
    index: NaiveDate,
    defs: Vec<FeatureDef>,
    /// The population in scope at the index date.
    people: DataFrame,
    /// Each event table's pass and the per-person tally it fills.
    events: Vec<(Slot, events::TablePass)>,
    scores: Option<scores::ScorePlan>,
    /// The event tables the extract has.
    present: Vec<String>,
}

impl FeaturePlan {
    /// Plans every feature of `set` for the people in scope at `index`.
    pub fn new(
        extract: &Extract,
        index: NaiveDate,
        set: &FeatureSet,
        batch: &mut Batch,
    ) -> Result<FeaturePlan> {
        let people = person::population(extract, index, set.defs())?;
        let events = events::per_table(extract, index, set.defs())?
            .into_iter()
            .map(|(table, pass)| (batch.add(&table, pass.pass.clone()), pass))
            .collect();
        Ok(FeaturePlan {
            index,
            defs: set.defs().to_vec(),
            people,
            events,
            scores: scores::ScorePlan::new(
                extract,
                index,
                set.defs(),
                Arc::clone(&set.lists),
                batch,
            )?,
            present: crate::contract::TABLES
                .iter()
                .filter(|t| extract.table(t.name).is_some())
                .map(|t| t.name.to_string())
                .collect(),
        })
    }

    /// The feature table, from the collected batch.
    pub fn finish(self, collected: &mut Collected) -> Result<FeatureTable> {
        let mut frame = self.people;
        let pids: Vec<u32> = frame.column(PID)?.u32()?.into_no_null_iter().collect();
        for (slot, pass) in self.events {
            collected.take(slot)?;
            let columns = pass.tally.columns(&pids)?;
            frame.hstack_mut(&columns)?;
        }
        let mut sources = Vec::new();
        if let Some(scores) = self.scores {
            let (scored, counted) = scores.finish(collected, &frame)?;
            frame.hstack_mut(&scored)?;
            sources = counted;
        }
        // A score with no source of its code system at all (HFRS without
        // ICD-10) stays null: not computable, not 0.
        let not_computable: Vec<String> = frame
            .columns()
            .iter()
            .filter(|c| !c.is_empty() && c.null_count() == c.len())
            .filter(|c| {
                self.defs.iter().any(|d| {
                    d.name == c.name().as_str() && matches!(d.kind, FeatureKind::Score { .. })
                })
            })
            .map(|c| c.name().to_string())
            .collect();
        let frame = finish(frame, &self.defs, &not_computable)?;
        let coverage = coverage::assess(&frame, &self.defs, &sources, &self.present)?;
        Ok(FeatureTable {
            index_date: self.index,
            frame,
            coverage,
        })
    }
}

/// Fills "no events" (0 or false), derives thresholds and puts columns in order.
/// A feature whose source table the extract lacks (a GP-only extract has no
/// `social_care`) is computed over no events: 0, false or null by its type.
fn finish(frame: DataFrame, defs: &[FeatureDef], not_computable: &[String]) -> Result<DataFrame> {
    let absent: Vec<Expr> = defs
        .iter()
        .filter(|d| {
            !matches!(d.kind, FeatureKind::Threshold { .. }) && frame.column(&d.name).is_err()
        })
        .map(|d| {
            lit(NULL)
                .cast(null_type(d.output_type()))
                .alias(d.name.as_str())
        })
        .collect();
    let frame = if absent.is_empty() {
        frame
    } else {
        frame.lazy().with_columns(absent).collect()?
    };
    let mut select = vec![col(PID)];
    select.extend(KEY_COLUMNS.iter().map(|c| col(*c)));
    let mut filled = Vec::new();
    for def in defs {
        if matches!(def.kind, FeatureKind::Threshold { .. }) {
            continue;
        }
        let column = col(def.name.as_str());
        if not_computable.contains(&def.name) {
            filled.push(column.alias(def.name.as_str()));
            continue;
        }
        // A score over no codes is the score of an empty set, not unknown.
        let expr = match (def.when_none(), def.output_type()) {
            (spec::WhenNone::Zero, FeatureType::Number) => column.fill_null(lit(0.0)),
            (spec::WhenNone::Zero, _) => column.fill_null(lit(0)).cast(DataType::Int32),
            (spec::WhenNone::False, _) => column.fill_null(lit(false)),
            (spec::WhenNone::Text(value), _) => column.fill_null(lit(value)),
            (spec::WhenNone::Null | spec::WhenNone::Never, _) => column,
        };
        filled.push(expr.alias(def.name.as_str()));
    }
    let thresholds: Vec<Expr> = defs
        .iter()
        .filter_map(|def| match &def.kind {
            FeatureKind::Threshold { feature, at_least } => Some(
                col(feature.as_str())
                    .cast(DataType::Float64)
                    .gt_eq(lit(*at_least))
                    .fill_null(lit(false))
                    .alias(def.name.as_str()),
            ),
            _ => None,
        })
        .collect();
    select.extend(defs.iter().map(|d| col(d.name.as_str())));
    Ok(frame
        .lazy()
        .with_columns(filled)
        .with_columns(thresholds)
        .select(select)
        .collect()?)
}

fn null_type(t: FeatureType) -> DataType {
    match t {
        FeatureType::Count | FeatureType::Integer => DataType::Int32,
        FeatureType::Flag => DataType::Boolean,
        FeatureType::Number => DataType::Float64,
        FeatureType::Text => DataType::String,
    }
}
