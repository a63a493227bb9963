//! The one place that calls the stages in order:
//! ingest → features → model → cohort → outputs → publish.

pub mod error;
pub mod input;
mod study;

pub use study::{EvaluatePlan, TrainPlan, evaluate_model, train_model};

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use polars::prelude::*;

use crate::cohort::segments::{SEGMENTS, assign_segments};
use crate::cohort::{Tier, TierMethod, assign_tiers_over};
use crate::config::RunPlan;
pub use error::{Error, Result};

use crate::codelists::ScoreLists;
use crate::features::{
    Coverage, FeaturePlan, FeatureSet, FeatureTable, KEY_COLUMNS, derive_features,
};
use crate::governance::GovernanceError;
use crate::governance::disclosure::{DisclosureProfile, Dominance};
use crate::governance::pseudonym::{self, PseudonymKey};
use crate::ingest::IngestError;
use crate::ingest::{self, Batch, Extract, PID, ValidateOptions, ValidationReport};
use crate::model::explain::top_reasons;
use crate::model::{DesignMatrix, ModelFile, score};
use crate::products::ranking::ranked_order;
use crate::products::{drift, history, lists, summaries};
use crate::publication::manifest::{self, Manifest, ModelRef, OutputFile, StageTime};
use crate::publication::parquet::{write_parquet, write_parquet_with_metadata, write_partitioned};
use crate::publication::{OutputLock, Staging, publish};

/// Times stages and shows a spinner on a terminal (nothing otherwise).
struct Stages {
    times: Vec<StageTime>,
}

impl Stages {
    fn new() -> Self {
        Stages { times: Vec::new() }
    }

    fn run<T, E: Into<Error>>(
        &mut self,
        name: &str,
        work: impl FnOnce() -> Result<T, E>,
    ) -> Result<T> {
        let spinner = ProgressBar::new_spinner();
        spinner.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        spinner.set_message(name.to_string());
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        let start = Instant::now();
        let result = work();
        spinner.finish_and_clear();
        let seconds = start.elapsed().as_secs_f64();
        let memory = crate::usage::memory();
        tracing::info!(
            stage = name,
            seconds,
            resident_mib = memory.map(|m| m.resident_mib.round()),
            process_peak_mib = memory.map(|m| m.peak_mib.round()),
            "stage finished"
        );
        self.times.push(StageTime {
            stage: name.to_string(),
            seconds,
        });
        result.map_err(Into::into)
    }
}

/// What a published run produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub run_dir: PathBuf,
    pub manifest: Manifest,
    /// The published `patient_risk` rows as one table, in their published
    /// order (practice, then descending risk): what the Python binding's
    /// `strata.run` returns, without reading the files back.
    pub patient_risk: DataFrame,
}

/// The built-in catalogue, plus the features declared in `file` if given.
pub fn feature_set(file: Option<&Path>) -> Result<FeatureSet> {
    match file {
        Some(path) => Ok(FeatureSet::with_file(path)?),
        None => Ok(FeatureSet::builtin()?),
    }
}

/// Reads and validates an extract.
/// Reads the user's dm+d → BNF map (the format of the FHIR reader's
/// `--dmd-bnf`, `fhir::lookup::dmd_bnf`), if one is given.
pub fn dmd_bnf_map(path: Option<&Path>) -> Result<Option<std::sync::Arc<ingest::DmdBnf>>> {
    Ok(path
        .map(crate::fhir::lookup::dmd_bnf)
        .transpose()?
        .map(std::sync::Arc::new))
}

/// Warns (stderr) when medicines were counted by product code rather than
/// by BNF chemical substance; the manifest and report say it too.
pub fn warn_about_medicines(extract: &Extract) {
    if let Some(warning) = extract
        .report
        .table(crate::contract::MEDICATIONS.name)
        .and_then(|t| t.medicine_codes.as_ref())
        .and_then(ingest::MedicineCodes::warning)
    {
        tracing::warn!("{warning}");
    }
}

pub fn validate(input: &Path, options: &ValidateOptions) -> Result<Extract> {
    Ok(ingest::load_extract(input, options)?)
}

/// Validates an extract and derives the features at `index` in one pass over
/// each event table: the validation summaries and the feature aggregations
/// are collected together, so the shared work (reading, parsing, the person
/// join, the rules) runs once. The extract is checked (rejection limits)
/// before the features are used.
pub fn validate_and_derive(
    input: &Path,
    options: &ValidateOptions,
    index: NaiveDate,
    set: &FeatureSet,
) -> Result<(Extract, FeatureTable)> {
    let mut batch = Batch::new();
    let pending = ingest::open_extract(input, options, &mut batch)?;
    let plan = FeaturePlan::new(pending.extract(), index, set, &mut batch)?;
    let mut collected = pending.collect(batch)?;
    let extract = pending.finish(&mut collected)?;
    let features = plan.finish(&mut collected)?;
    Ok((extract, features))
}

/// The nightly job: validate, derive features, score, assign tiers and
/// segments, and publish every output atomically and durably.
///
/// `lock` is the output lock of `plan.out`, taken by the caller before any
/// work (before a FHIR export is converted or the extract read), so a second
/// run fails at once instead of after hours of work. A publication left
/// half-done by an interrupted run is finished first ([`publish::recover`]);
/// after publishing, runs beyond `plan.keep_runs` are removed.
pub fn run(plan: &RunPlan, lock: &OutputLock) -> Result<RunOutcome> {
    let started = chrono::Utc::now();
    publish::recover(&plan.out, lock)?;
    let mut stages = Stages::new();
    let feature_set = feature_set(plan.features.as_deref())?.with_lists(
        ScoreLists::load(&plan.codelists).map_err(crate::features::FeatureError::from)?,
    );
    let model = stages.run("loading model", || ModelFile::load(&plan.model))?;
    model.require_features(&feature_set, &plan.model)?;
    let options = ValidateOptions {
        today: plan.today,
        max_reject_fraction: plan.max_reject_fraction,
        dmd_bnf: dmd_bnf_map(plan.dmd_bnf.as_deref())?,
    };
    let (extract, features, as_of) = match plan.as_of {
        // The as-of date is known: validate and derive in one pass.
        Some(as_of) => {
            let (extract, features) = stages
                .run("validating extract and deriving features", || {
                    validate_and_derive(&plan.input, &options, as_of, &feature_set)
                })?;
            (extract, features, as_of)
        }
        // The default as-of date is the extract's last event date, known only
        // after validation: two passes.
        None => {
            let extract = stages.run("validating extract", || validate(&plan.input, &options))?;
            let as_of = extract
                .last_event_date()
                .ok_or_else(|| IngestError::Empty {
                    path: plan.input.join("encounters"),
                })?;
            let features = stages.run("deriving features", || {
                derive_features(&extract, as_of, &feature_set)
            })?;
            (extract, features, as_of)
        }
    };
    tracing::info!(%as_of, "as-of date");
    let mut coverage = features.coverage.clone();
    let counts = Manifest::table_counts(&extract.report);
    coverage.fill_table_rows(|table| {
        counts
            .iter()
            .find(|t| t.table == table)
            .map(|t| t.rows_read.saturating_sub(t.rows_rejected))
    });
    let degraded_terms = degraded_terms(&model, &coverage);
    warn_coverage(&coverage, &degraded_terms);
    warn_about_medicines(&extract);
    let mut people = stages.run("scoring", || {
        score_population(&model, &features, &extract.patients, plan)
    })?;
    guard_identifiers(&mut people, plan, &extract)?;

    let previous = publish::latest_run(&plan.out);
    let people =
        history::compare_with_previous(people, history::previous_tiers(previous.as_deref())?)?;
    let run_id = make_run_id(started, &model.model_id, as_of);
    let staging = Staging::create(&plan.out, &run_id, lock)?;
    let (outputs, patient_risk) = stages.run("writing outputs", || {
        write_person_outputs(
            staging.dir(),
            &people,
            &model,
            &extract,
            &RunIdentity {
                run_id: &run_id,
                as_of,
                previous: previous.as_deref(),
                threshold: flag_threshold(&plan.tiers),
            },
            &plan.disclosure,
            &plan.dominance,
        )
    })?;
    let inputs = stages.run("hashing inputs", || {
        extract
            .report
            .files
            .iter()
            .map(|f| manifest::describe_file(f).map_err(Error::from))
            .collect::<Result<Vec<_>>>()
    })?;
    let distribution = describe_distribution(&people, &model, &extract.patients)?;
    let drift = previous
        .as_deref()
        .and_then(|run| Manifest::read(&run.join("manifest.json")).ok())
        .map(|before| {
            drift::compare(
                &distribution,
                &before.distribution,
                &before.run_id,
                &plan.drift,
            )
        });
    for warning in drift.iter().flat_map(|d| &d.warnings) {
        tracing::warn!("drift since the previous run: {warning}");
    }
    let manifest = Manifest {
        run_id: run_id.clone(),
        as_of,
        software_version: crate::VERSION.to_string(),
        started_at: started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        model: ModelRef {
            model_id: model.model_id.clone(),
            path: plan.model.display().to_string(),
            blake3: manifest::describe_file(&plan.model)?.blake3,
        },
        inputs,
        tables: Manifest::table_counts(&extract.report),
        validation: extract.report.tables.clone(),
        imd_source: extract.report.imd.source.clone(),
        imd_unmatched_lsoa: extract.report.imd.unmatched_lsoa,
        people_scored: people.height() as u64,
        tier_counts: count_by(&people, "tier", Tier::ALL.iter().map(|t| t.label()))?,
        segment_counts: count_by(&people, "segment", SEGMENTS.iter().map(|s| s.label))?,
        distribution,
        drift,
        outputs,
        stages: stages.times,
        settings: serde_json::to_value(plan).unwrap_or(serde_json::Value::Null),
        health: if degraded_terms.is_empty() {
            "healthy"
        } else {
            "degraded"
        }
        .into(),
        coverage,
        degraded_terms,
        codelists: feature_set.lists().used().to_vec(),
    };
    manifest.write(&staging.dir().join("manifest.json"))?;
    crate::report::write_run_report(staging.dir())?;
    let run_dir = staging.publish()?;
    if let Some(keep) = plan.keep_runs {
        // The run is published: a pruning failure is reported, not a failed run.
        match publish::prune(&plan.out, keep, lock) {
            Ok(removed) if !removed.is_empty() => {
                tracing::info!(
                    removed = removed.len(),
                    keep,
                    "old runs removed (keep_runs)"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!("removing old runs (keep_runs = {keep}) failed: {e}"),
        }
    }
    Ok(RunOutcome {
        run_dir,
        manifest,
        patient_risk,
    })
}

/// `YYYYMMDDTHHMMSSZ-<8 hex>`: sortable by start time, unique per start instant, model and date.
fn make_run_id(started: chrono::DateTime<chrono::Utc>, model_id: &str, as_of: NaiveDate) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(model_id.as_bytes());
    hasher.update(as_of.to_string().as_bytes());
    hasher.update(
        &started
            .timestamp_nanos_opt()
            .unwrap_or_default()
            .to_le_bytes(),
    );
    hasher.update(&std::process::id().to_le_bytes());
    format!(
        "{}-{}",
        started.format("%Y%m%dT%H%M%SZ"),
        &hasher.finalize().to_hex()[..8]
    )
}

/// The feature table with `risk`, `tier`, `segment` and `reason_1..3` added.
fn score_population(
    model: &ModelFile,
    features: &FeatureTable,
    patients: &DataFrame,
    plan: &RunPlan,
) -> Result<DataFrame> {
    let mut x = DesignMatrix::build(&features.frame, &model.terms)?;
    x.standardise(&model.terms);
    let risks = score(model, &x);
    // Cut-offs over the planning population: opted-out people change nobody's tier.
    let planning = crate::governance::opt_out::secondary_use_mask(&features.frame, patients)?;
    let tiers = assign_tiers_over(&risks, &plan.tiers, |i| planning[i]);
    let reasons = top_reasons(model, &x, &features.frame)?;
    let mut frame = features.frame.clone();
    frame.with_column(Column::new("risk".into(), risks))?;
    frame.with_column(Column::new(
        "tier".into(),
        tiers.iter().map(|t| t.label()).collect::<Vec<_>>(),
    ))?;
    frame.with_column(assign_segments(&features.frame)?)?;
    for column in reasons.into_columns() {
        frame.with_column(column)?;
    }
    Ok(frame)
}

/// Replaces NHS-number person ids by keyed pseudonyms, or refuses without a key.
fn guard_identifiers(people: &mut DataFrame, plan: &RunPlan, extract: &Extract) -> Result<()> {
    let patients = extract
        .events
        .values()
        .next()
        .map_or(plan.input.clone(), |_| plan.input.join("patients"));
    pseudonymise_nhs_numbers(people, plan.pseudonym_key.as_ref(), &patients)
}

/// The rule for every person-level output: when `person_id` holds NHS
/// numbers they are replaced by keyed pseudonyms, and without a key the
/// output is refused (naming `patients`, never a value).
fn pseudonymise_nhs_numbers(
    people: &mut DataFrame,
    key: Option<&PseudonymKey>,
    patients: &Path,
) -> Result<()> {
    let ids = people.column("person_id")?.str()?.clone();
    if !pseudonym::ids_are_nhs_numbers(&ids) {
        return Ok(());
    }
    let key = key.ok_or_else(|| GovernanceError::IdentifiersWithoutKey {
        path: patients.to_path_buf(),
    })?;
    Ok(pseudonym::pseudonymise(people, "person_id", key)?)
}

/// The footer note of a feature table: what it is and who may read it.
pub const FEATURES_AUDIENCE: (&str, &str) = (
    "strata.audience",
    "person-level: one row per person, for direct care and analysts inside the organisation; \
     not for publication (docs/information-governance.md)",
);

/// Which run is being written, and the run before it.
struct RunIdentity<'a> {
    run_id: &'a str,
    as_of: NaiveDate,
    previous: Option<&'a Path>,
    /// The flagging cut-off when it is a setting (absolute thresholds);
    /// `None` when it follows from the population (shares).
    threshold: Option<f64>,
}

/// The lowest risk that puts a person on a clinical list, when the tiers
/// fix it in advance: `high_risk` under absolute thresholds. Under shares
/// the cut-off is found over the population, and the history takes it from
/// the flagged people (`history::run_rows`).
fn flag_threshold(tiers: &crate::cohort::TierConfig) -> Option<f64> {
    (tiers.method == TierMethod::Thresholds).then_some(tiers.high_risk)
}

/// patient_risk/, clinical_lists/, flag_history and summaries/, written into
/// `dir`; returns what was written and the patient_risk table.
fn write_person_outputs(
    dir: &Path,
    people: &DataFrame,
    model: &ModelFile,
    extract: &Extract,
    run: &RunIdentity,
    profile: &DisclosureProfile,
    dominance: &Dominance,
) -> Result<(Vec<OutputFile>, DataFrame)> {
    let RunIdentity {
        run_id,
        as_of,
        previous,
        threshold,
    } = *run;
    let mut files = Vec::new();
    let mut record = |folder: &str, written: Vec<(String, u64)>| {
        files.extend(written.into_iter().map(|(path, rows)| OutputFile {
            path: format!("{folder}/{path}"),
            rows,
        }));
    };
    let risk = patient_risk_table(people, model)?;
    record(
        "patient_risk",
        write_partitioned(&risk, &dir.join("patient_risk"), "practice_code")?,
    );

    let now = history::run_rows(people, as_of, run_id, threshold)?;
    let mut history = history::update_history(previous, now, as_of)?;
    let first = history::first_flagged(&history)?;
    let lists = lists::clinical_lists(people, &extract.patients, &first, as_of)?;
    record(
        "clinical_lists",
        write_partitioned(&lists, &dir.join("clinical_lists"), "practice_code")?,
    );
    let rows = write_parquet(&mut history, &dir.join(history::FLAG_HISTORY))?;
    files.push(OutputFile {
        path: history::FLAG_HISTORY.into(),
        rows,
    });
    let (summaries, _) =
        summaries::write_summaries(dir, people, &extract.patients, profile, dominance)?;
    files.extend(summaries);
    Ok((files, risk))
}

/// Person-level output rows: keys, the model's features, risk, tier, segment
/// and reasons, sorted by practice then descending risk (person_id breaks ties).
fn patient_risk_table(people: &DataFrame, model: &ModelFile) -> Result<DataFrame> {
    let mut columns: Vec<Expr> = KEY_COLUMNS.iter().map(|c| col(*c)).collect();
    columns.extend(model.features().into_iter().map(col));
    columns.extend(
        [
            "risk",
            "tier",
            "segment",
            "reason_1",
            "reason_2",
            "reason_3",
            "new_to_flagged",
        ]
        .map(col),
    );
    let table = people.clone().lazy().select(columns).collect()?;
    let order = ranked_order(&table, "practice_code", "risk", "person_id")?;
    Ok(table.take(&order)?)
}

/// (label, people) for every label in `labels`, in that order.
fn count_by<'a>(
    people: &DataFrame,
    column: &str,
    labels: impl Iterator<Item = &'a str>,
) -> Result<Vec<(String, u64)>> {
    let values = people.column(column)?.str()?.clone();
    Ok(labels
        .map(|label| {
            (
                label.to_string(),
                values.iter().filter(|v| *v == Some(label)).count() as u64,
            )
        })
        .collect())
}

/// The score distribution, tier shares and model-feature missingness of this
/// run, and the planning population's risk bins for the run report.
fn describe_distribution(
    people: &DataFrame,
    model: &ModelFile,
    patients: &DataFrame,
) -> Result<drift::Distribution> {
    let risks: Vec<f64> = people
        .column("risk")?
        .f64()?
        .iter()
        .map(|r| r.unwrap_or(0.0))
        .collect();
    let n = risks.len().max(1) as f64;
    let tiers = count_by(people, "tier", Tier::ALL.iter().map(|t| t.label()))?;
    let missingness = model
        .features()
        .into_iter()
        .map(|f| Ok((f.to_string(), people.column(f)?.null_count() as f64 / n)))
        .collect::<Result<Vec<_>>>()?;
    Ok(drift::Distribution {
        people: risks.len() as u64,
        mean_risk: risks.iter().sum::<f64>() / n,
        risk_bin_shares: drift::risk_bins(&risks),
        tier_shares: tiers.into_iter().map(|(t, c)| (t, c as f64 / n)).collect(),
        missingness,
        planning_risk_bins: drift::risk_bin_counts(
            risks
                .iter()
                .zip(crate::governance::opt_out::secondary_use_mask(
                    people, patients,
                )?)
                .filter(|(_, counted)| *counted)
                .map(|(r, _)| *r),
        ),
    })
}

/// The absent feature sources a validation report shows (tables missing,
/// code systems with no row), for the built-in catalogue: `strata validate`.
pub fn source_warnings(report: &ValidationReport) -> Result<Vec<String>> {
    let set = FeatureSet::builtin()?;
    Ok(crate::features::coverage::source_warnings(
        report,
        set.defs(),
    ))
}

/// The model's terms whose feature belongs to a family with no source at
/// all, each with what is missing.
pub fn degraded_terms(model: &ModelFile, coverage: &Coverage) -> Vec<String> {
    model
        .terms
        .iter()
        .filter_map(|t| {
            coverage.is_absent(&t.feature).map(|f| {
                let missing: Vec<&str> = f.sources.iter().map(|s| s.source.as_str()).collect();
                format!(
                    "model term `{}` reads `{}`, whose source ({}) is absent",
                    t.name,
                    t.feature,
                    missing.join(", ")
                )
            })
        })
        .collect()
}

/// Coverage warnings and degraded terms on stderr (the log).
pub fn warn_coverage(coverage: &Coverage, degraded: &[String]) {
    for w in &coverage.warnings {
        tracing::warn!("coverage: {w}");
    }
    for d in degraded {
        tracing::warn!("run degraded: {d}");
    }
}

/// The per-person feature table at `index`, as `strata features` writes it
/// (the internal person key dropped). It is person-level: NHS-number ids are
/// pseudonymised (refused without a key), as in a run.
pub fn person_features(
    input: &Path,
    index: NaiveDate,
    features: Option<&Path>,
    codelists: &crate::codelists::ListFiles,
    options: &ValidateOptions,
    pseudonym_key: Option<&PseudonymKey>,
) -> Result<DataFrame> {
    let set = feature_set(features)?
        .with_lists(ScoreLists::load(codelists).map_err(crate::features::FeatureError::from)?);
    let (_, table) = validate_and_derive(input, options, index, &set)?;
    warn_coverage(&table.coverage, &[]);
    let mut frame = table.frame.drop(PID)?;
    pseudonymise_nhs_numbers(&mut frame, pseudonym_key, &input.join("patients"))?;
    Ok(frame)
}

/// Writes the per-person feature table at `index` ([`person_features`]) to a
/// Parquet file whose footer says who may read it ([`FEATURES_AUDIENCE`]).
pub fn write_features(
    input: &Path,
    index: NaiveDate,
    out: &Path,
    features: Option<&Path>,
    codelists: &crate::codelists::ListFiles,
    options: &ValidateOptions,
    pseudonym_key: Option<&PseudonymKey>,
) -> Result<u64> {
    let mut frame = person_features(input, index, features, codelists, options, pseudonym_key)?;
    // Written beside the target and renamed, so a reader never sees half a file.
    let partial = out.with_extension("parquet.partial");
    let rows = write_parquet_with_metadata(&mut frame, &partial, &[FEATURES_AUDIENCE])?;
    std::fs::rename(&partial, out).map_err(|source| crate::publication::OutputError::Io {
        path: out.to_path_buf(),
        action: "moving the feature table into place",
        source,
    })?;
    Ok(rows)
}
