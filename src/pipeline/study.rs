//! Secondary-use studies on one extract: training a model and evaluating it.
//!
//! Both use the same labelled cohort: people alive and registered on the
//! index date, features up to and including it, the outcome in days 1–365
//! after it, and nobody with a National Data Opt-out or a Type 1 objection
//! (training and evaluation are secondary uses; see docs/information-governance.md).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;

use super::{Error, Result};
use super::{feature_set, validate_and_derive};
use crate::features::FeatureError;
use crate::features::outcomes::Outcome;
use crate::features::{FeatureTable, derive_features};
use crate::governance::disclosure::DisclosureProfile;
use crate::governance::opt_out::secondary_use;
use crate::ingest::{Extract, ValidateOptions, left_join_in_order};
use crate::model::ModelError;
use crate::model::evaluate::{EvaluateOptions, Evaluation, EvaluationContext, evaluate};
use crate::model::fairness::GroupLabels;
use crate::model::published::Control;
use crate::model::schema::{HoldoutMetrics, TrainingSummary};
use crate::model::{DesignMatrix, ModelFile, SCHEMA_VERSION, score, train};
use crate::publication::manifest;

/// Attributes whose groups are checked for fairness, with the feature holding each.
pub const FAIRNESS_ATTRIBUTES: &[(&str, &str)] = &[
    ("sex", "sex"),
    ("age_band", "age_band"),
    ("ethnicity_group", "ethnicity_group"),
    ("imd_quintile", "imd_quintile"),
];

/// Name of the optional ground-truth file written by `strata generate`.
pub const TRUTH_FILE: &str = "truth.parquet";
/// Truth column: the true risk averaged over the generator's unobserved person effect.
const RECORD_RISK: &str = "record_risk_12m";

/// The labelled cohort: features plus the outcome, opt-outs removed.
struct Labelled {
    frame: DataFrame,
    outcome: Vec<bool>,
    /// True risk per row, when the extract ships ground truth for this index date.
    oracle: Option<Vec<f64>>,
    /// The generator's record-based risk per row (`record_risk_12m`), when the truth file has it.
    record_oracle: Option<Vec<f64>>,
}

/// Builds the labelled cohort at `index` for `outcome`. When the extract
/// holds a `truth.parquet` and `index` is its last event date (so the outcome
/// year is not in the extract), emergency admissions and true risks come from
/// the truth file; otherwise the whole outcome year must be in the extract.
fn labelled_cohort(
    extract: &Extract,
    index: NaiveDate,
    features: &FeatureTable,
    input: &Path,
    outcome: Outcome,
) -> Result<Labelled> {
    let mut people = secondary_use(&features.frame, &extract.patients)?;
    if let Some(feature) = outcome.excludes() {
        people = people
            .lazy()
            .filter(col(feature).fill_null(lit(false)).not())
            .collect()?;
    }
    let truth = input.join(TRUTH_FILE);
    let last = extract.last_event_date();
    let use_truth = truth.is_file() && last == Some(index);
    if use_truth && outcome != Outcome::EmergencyAdmission {
        return Err(outcome_error(
            outcome,
            format!(
                "{TRUTH_FILE} holds only emergency admissions after the extract's last date ({index}); \
                 choose an index date at least 365 days before it"
            ),
        ));
    }
    if !use_truth {
        check_outcome_year(outcome, index, last)?;
    }
    let frame = if use_truth {
        let mut truth = LazyFrame::scan_parquet(
            PlRefPath::new(truth.to_string_lossy().as_ref()),
            ScanArgsParquet::default(),
        )?;
        let mut columns = vec![col("person_id"), col("true_risk_12m"), col(outcome.name())];
        // Truth files from before the record-based risk was added lack it.
        if truth.collect_schema()?.contains(RECORD_RISK) {
            columns.push(col(RECORD_RISK));
        }
        let truth = truth.select(columns);
        people
            .lazy()
            .join(
                truth,
                [col("person_id")],
                [col("person_id")],
                left_join_in_order(),
            )
            .collect()?
    } else {
        let events = outcome.events(extract, index)?;
        people
            .lazy()
            .join(
                events.lazy(),
                [col(crate::ingest::PID)],
                [col(crate::ingest::PID)],
                left_join_in_order(),
            )
            .collect()?
    };
    let outcome = frame
        .column(outcome.name())?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    let risks = |name: &str| -> Result<Option<Vec<f64>>> {
        if !use_truth || frame.column(name).is_err() {
            return Ok(None);
        }
        Ok(Some(
            frame
                .column(name)?
                .f64()?
                .iter()
                .map(|v| v.unwrap_or(0.0))
                .collect(),
        ))
    };
    let oracle = risks("true_risk_12m")?;
    let record_oracle = risks(RECORD_RISK)?;
    Ok(Labelled {
        frame,
        outcome,
        oracle,
        record_oracle,
    })
}

fn outcome_error(outcome: Outcome, reason: String) -> Error {
    ModelError::Outcome {
        outcome: outcome.name().to_string(),
        reason,
    }
    .into()
}

/// Fewest people with (and without) the outcome that training accepts: below
/// this the penalty search and the holdout metrics are noise.
pub const MIN_TRAINING_EVENTS: usize = 20;

/// Fails when too few people in the cohort have (or lack) the outcome to fit a model.
fn require_events(outcome: Outcome, index: NaiveDate, y: &[bool]) -> Result<()> {
    let events = y.iter().filter(|&&v| v).count();
    let smaller = events.min(y.len() - events);
    if smaller >= MIN_TRAINING_EVENTS {
        return Ok(());
    }
    Err(outcome_error(
        outcome,
        format!(
            "{events} of the {} people in the cohort at {index} have it; training needs at least \
             {MIN_TRAINING_EVENTS} with and {MIN_TRAINING_EVENTS} without (a larger extract or an earlier index date may have more)",
            y.len()
        ),
    ))
}

/// The outcome year after `index` must end on or before the extract's last
/// event date, or people would be labelled "no outcome" for want of data.
fn check_outcome_year(outcome: Outcome, index: NaiveDate, last: Option<NaiveDate>) -> Result<()> {
    let end = index + chrono::Duration::days(crate::features::YEAR_DAYS);
    match last {
        Some(last) if end <= last => Ok(()),
        Some(last) => Err(outcome_error(
            outcome,
            format!(
                "its year after the index date {index} runs to {end}, past the extract's last event date {last}; \
                 choose an index date on or before {}",
                last - chrono::Duration::days(crate::features::YEAR_DAYS)
            ),
        )),
        None => Err(outcome_error(
            outcome,
            format!(
                "the extract has no dated events to measure it from ({})",
                outcome.source_table()
            ),
        )),
    }
}

/// Group labels of each fairness attribute for the rows of `frame`.
fn fairness_groups(frame: &DataFrame) -> Result<Vec<GroupLabels>> {
    FAIRNESS_ATTRIBUTES
        .iter()
        .map(|(attribute, feature)| {
            let text = frame.column(feature)?.cast(&DataType::String)?;
            let labels = text.str()?.iter().map(|v| v.map(String::from)).collect();
            Ok(GroupLabels {
                attribute: (*attribute).to_string(),
                labels,
            })
        })
        .collect()
}

/// Rows of `frame` at positions `rows`.
fn take_rows(frame: &DataFrame, rows: &[usize]) -> Result<DataFrame> {
    let idx = IdxCa::from_vec("idx".into(), rows.iter().map(|&r| r as IdxSize).collect());
    Ok(frame.take(&idx)?)
}
/// What `strata train` needs.
#[derive(Debug, Clone)]
pub struct TrainPlan {
    pub input: PathBuf,
    pub index_date: NaiveDate,
    pub out: PathBuf,
    pub name: String,
    pub today: NaiveDate,
    pub max_reject_fraction: f64,
    /// The extract is synthetic (recorded in the model file and card).
    pub synthetic: bool,
    /// Extra feature declarations (TOML).
    pub features: Option<PathBuf>,
    /// dm+d → BNF map for medicines coded in dm+d.
    pub dmd_bnf: Option<PathBuf>,
    /// What the model predicts.
    pub outcome: Outcome,
    /// A later index date to validate the fitted model at (temporal validation).
    pub temporal_index: Option<NaiveDate>,
    /// Top shares and fairness limits for the holdout and temporal evaluations.
    pub options: EvaluateOptions,
    /// Files replacing built-in score code lists (`[codelists]`).
    pub codelists: crate::codelists::ListFiles,
    /// The small-number rule of every count the model file, card and
    /// evaluation publish (`[disclosure] profile`): they are shared beyond
    /// the analytics team.
    pub disclosure: DisclosureProfile,
}

/// Trains a model of `plan.outcome` at `index_date`: features up to and
/// including it, outcome in the 365 days after it, people alive and registered
/// on it, national opt-outs excluded (training is secondary use). Evaluates it
/// on the holdout and, if asked, at a later index date.
pub fn train_model(plan: &TrainPlan) -> Result<ModelFile> {
    if let Some(later) = plan.temporal_index.filter(|t| *t <= plan.index_date) {
        return Err(outcome_error(
            plan.outcome,
            format!(
                "the temporal validation date {later} must be after the training index date {}",
                plan.index_date
            ),
        ));
    }
    let options = ValidateOptions {
        today: plan.today,
        max_reject_fraction: plan.max_reject_fraction,
        dmd_bnf: super::dmd_bnf_map(plan.dmd_bnf.as_deref())?,
    };
    let set = feature_set(plan.features.as_deref())?.with_lists(
        crate::codelists::ScoreLists::load(&plan.codelists).map_err(FeatureError::from)?,
    );
    let (extract, features) = validate_and_derive(&plan.input, &options, plan.index_date, &set)?;
    let Labelled {
        frame, outcome: y, ..
    } = labelled_cohort(
        &extract,
        plan.index_date,
        &features,
        &plan.input,
        plan.outcome,
    )?;
    require_events(plan.outcome, plan.index_date, &y)?;
    let ids = frame.column("person_id")?.str()?.clone();
    let (mut train_rows, mut holdout_rows, mut folds) = (Vec::new(), Vec::new(), Vec::new());
    for (row, id) in ids.iter().enumerate() {
        let (holdout, fold) = train::split_of(id.unwrap_or_default());
        if holdout {
            holdout_rows.push(row);
        } else {
            train_rows.push(row);
            folds.push(fold);
        }
    }
    let mut terms = train::default_terms();
    let mut x = DesignMatrix::build(&frame, &terms)?;
    let train_only = DesignMatrix {
        rows: train_rows.len(),
        columns: x
            .columns
            .iter()
            .map(|c| train_rows.iter().map(|&r| c[r]).collect())
            .collect(),
    };
    train::fit_standardisation(&mut terms, &train_only);
    x.standardise(&terms);
    let (lambda, cv_log_loss) = train::choose_lambda(&x, &y, &train_rows, &folds)?;
    let alpha = lambda * train_rows.len() as f64;
    let fit = train::fit_logistic(&x, &y, &train_rows, alpha)?;
    for (term, w) in terms.iter_mut().zip(&fit.coefficients) {
        term.coefficient = *w;
    }
    let (auc, brier) = train::evaluate(&fit, &x, &y, &holdout_rows);
    let auc =
        auc.ok_or_else(|| ModelError::Training("the holdout has only one outcome class".into()))?;
    // The model file is shared: its counts are rounded, withheld when small,
    // and its rates come from the rounded counts (model::published).
    let control = Control::new(plan.disclosure);
    let (n_train, n_holdout) = (train_rows.len() as u64, holdout_rows.len() as u64);
    let train_events = train_rows.iter().filter(|&&r| y[r]).count() as u64;
    let holdout_events = holdout_rows.iter().filter(|&&r| y[r]).count() as u64;
    let (Some(n_train_published), Some(n_holdout_published), Some(train_events_published)) = (
        control.count(n_train),
        control.count(n_holdout),
        control.subset(train_events, n_train),
    ) else {
        return Err(ModelError::Training(format!(
            "the training set or the holdout holds 1–{} people (or people without the outcome), \
             too few to publish in a model file (disclosure profile {})",
            control.threshold(),
            plan.disclosure
        ))
        .into());
    };
    let prevalence = train_events_published as f64 / n_train_published.max(1) as f64;
    let holdout_outcome_small = control.is_small(holdout_events)
        || control.is_small(n_holdout.saturating_sub(holdout_events));
    let input_checksums = extract
        .report
        .files
        .iter()
        .map(|f| {
            manifest::describe_file(f).map(|d| {
                (
                    f.strip_prefix(&plan.input)
                        .unwrap_or(f)
                        .display()
                        .to_string(),
                    d.blake3,
                )
            })
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut model = ModelFile {
        schema_version: SCHEMA_VERSION,
        model_id: ModelFile::make_id(&plan.name, fit.intercept, &terms),
        name: plan.name.clone(),
        model_type: "logistic".into(),
        outcome: plan.outcome.name().into(),
        intercept: fit.intercept,
        terms,
        training: TrainingSummary {
            index_date: plan.index_date,
            n_train: n_train_published,
            n_holdout: n_holdout_published,
            outcome_prevalence: prevalence,
            lambda,
            alpha,
            cv_log_loss,
            input_checksums,
            synthetic_data: plan.synthetic,
        },
        holdout: HoldoutMetrics {
            auc: (!holdout_outcome_small).then_some(crate::model::published::auc_decimals(auc)),
            brier: (!holdout_outcome_small).then_some(brier),
            n: n_holdout_published,
            outcomes: control.subset(holdout_events, n_holdout),
        },
        evaluation: None,
        temporal_evaluation: None,
        software_version: crate::VERSION.to_string(),
    };
    model.evaluation = Some(holdout_evaluation(
        &model,
        &x,
        &y,
        &frame,
        &holdout_rows,
        plan,
    )?);
    if let Some(later) = plan.temporal_index {
        let study = Study {
            extract: &extract,
            input: &plan.input,
            set: &set,
            options: &plan.options,
            disclosure: &plan.disclosure,
        };
        let mut evaluation = study.evaluate_at(&model, later, plan.outcome)?;
        evaluation.context.data = Some(format!(
            "{}, everyone at a later index date (temporal validation)",
            plan.input.display()
        ));
        model.temporal_evaluation = Some(evaluation);
    }
    Ok(model)
}

/// The full evaluation of a freshly fitted model on its holdout rows.
fn holdout_evaluation(
    model: &ModelFile,
    x: &DesignMatrix,
    y: &[bool],
    frame: &DataFrame,
    rows: &[usize],
    plan: &TrainPlan,
) -> Result<Evaluation> {
    let holdout = DesignMatrix {
        rows: rows.len(),
        columns: x
            .columns
            .iter()
            .map(|c| rows.iter().map(|&r| c[r]).collect())
            .collect(),
    };
    let risk = score(model, &holdout);
    let outcome: Vec<bool> = rows.iter().map(|&r| y[r]).collect();
    let groups = fairness_groups(&take_rows(frame, rows)?)?;
    let evaluation = evaluate(
        &risk,
        &outcome,
        &groups,
        None,
        &plan.options,
        &plan.disclosure,
    )
    .map_err(|e| Error::from(ModelError::Training(format!("holdout evaluation: {e}"))))?;
    Ok(evaluation.with_context(EvaluationContext {
        model_id: Some(model.model_id.clone()),
        outcome: Some(model.outcome.clone()),
        index_date: Some(plan.index_date),
        data: Some(format!(
            "holdout of {} (one person in {} by a hash of person_id)",
            plan.input.display(),
            train::HOLDOUT_ONE_IN
        )),
        synthetic_data: Some(plan.synthetic),
    }))
}

/// What `strata evaluate` needs.
#[derive(Debug, Clone)]
pub struct EvaluatePlan {
    pub input: PathBuf,
    pub model: PathBuf,
    pub index_date: NaiveDate,
    pub today: NaiveDate,
    pub features: Option<PathBuf>,
    /// dm+d → BNF map for medicines coded in dm+d.
    pub dmd_bnf: Option<PathBuf>,
    pub options: EvaluateOptions,
    /// Files replacing built-in score code lists (`[codelists]`).
    pub codelists: crate::codelists::ListFiles,
    /// The small-number rule of every count the model file, card and
    /// evaluation publish (`[disclosure] profile`): they are shared beyond
    /// the analytics team.
    pub disclosure: DisclosureProfile,
}

/// Scores `plan.model` on the labelled cohort at the index date and
/// evaluates discrimination, calibration and fairness (plus the oracle AUC
/// when the extract ships ground truth).
pub fn evaluate_model(plan: &EvaluatePlan) -> Result<Evaluation> {
    let set = feature_set(plan.features.as_deref())?.with_lists(
        crate::codelists::ScoreLists::load(&plan.codelists).map_err(FeatureError::from)?,
    );
    let model = ModelFile::load(&plan.model)?;
    model.require_features(&set, &plan.model)?;
    let outcome = Outcome::from_name(&model.outcome).ok_or_else(|| ModelError::Invalid {
        path: plan.model.clone(),
        reason: format!(
            "outcome `{}` is not one strata can measure ({})",
            model.outcome,
            Outcome::ALL.map(Outcome::name).join(", ")
        ),
    })?;
    let options = ValidateOptions {
        today: plan.today,
        dmd_bnf: super::dmd_bnf_map(plan.dmd_bnf.as_deref())?,
        ..Default::default()
    };
    let (extract, features) = validate_and_derive(&plan.input, &options, plan.index_date, &set)?;
    let study = Study {
        extract: &extract,
        input: &plan.input,
        set: &set,
        options: &plan.options,
        disclosure: &plan.disclosure,
    };
    study.evaluate(&model, &features, outcome)
}

/// One validated extract, ready to evaluate models on.
struct Study<'a> {
    extract: &'a Extract,
    input: &'a Path,
    set: &'a crate::features::FeatureSet,
    options: &'a EvaluateOptions,
    disclosure: &'a DisclosureProfile,
}

impl Study<'_> {
    /// Evaluates `model` on everyone in the labelled cohort at `index`.
    fn evaluate_at(
        &self,
        model: &ModelFile,
        index: NaiveDate,
        outcome: Outcome,
    ) -> Result<Evaluation> {
        let features = derive_features(self.extract, index, self.set)?;
        self.evaluate(model, &features, outcome)
    }

    /// Evaluates `model` on everyone in the labelled cohort of `features`.
    fn evaluate(
        &self,
        model: &ModelFile,
        features: &FeatureTable,
        outcome: Outcome,
    ) -> Result<Evaluation> {
        let index = features.index_date;
        let labelled = labelled_cohort(self.extract, index, features, self.input, outcome)?;
        let mut x = DesignMatrix::build(&labelled.frame, &model.terms)?;
        x.standardise(&model.terms);
        let risk = score(model, &x);
        let groups = fairness_groups(&labelled.frame)?;
        let evaluation = evaluate(
            &risk,
            &labelled.outcome,
            &groups,
            labelled.oracle.as_deref(),
            self.options,
            self.disclosure,
        )
        .map_err(|e| ModelError::Training(format!("evaluation: {e}")))?;
        let evaluation = match &labelled.record_oracle {
            Some(record) => evaluation.with_record_oracle(record, &labelled.outcome),
            None => evaluation,
        };
        Ok(evaluation.with_context(EvaluationContext {
            model_id: Some(model.model_id.clone()),
            outcome: Some(model.outcome.clone()),
            index_date: Some(index),
            data: Some(self.input.display().to_string()),
            synthetic_data: Some(self.input.join(TRUTH_FILE).is_file()),
        }))
    }
}
