//! Command-line arguments (clap derive). Each subcommand's help says what it
//! reads, what it writes, and gives an example.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// strata: population-health risk stratification.
///
/// Reads a combined health and social-care extract, validates it against the
/// data contract (docs/data-contract.md), derives per-person features, scores
/// risk models and publishes risk cohorts as Parquet.
#[derive(Debug, Parser)]
#[command(name = "strata", version, propagate_version = true)]
pub struct Cli {
    /// More log detail (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the nightly job: validate, derive features, score, assign tiers, publish.
    ///
    /// With no flags it runs on sample-data/ with models/emergency_admission.json and
    /// publishes to out/runs/<run-id>/, switching out/latest to it only when complete.
    ///
    /// Example: strata run --input /data/extract --out /srv/strata --as-of 2026-03-31
    Run(RunArgs),
    /// Check an extract against the data contract and print a per-table report.
    ///
    /// Exits 0 when the extract is usable, 10 when it is not.
    ///
    /// Example: strata validate --input sample-data
    Validate(ValidateArgs),
    /// Train the emergency-admission model and write a model file.
    ///
    /// Features up to and including the index date, outcome in the 365 days after it.
    ///
    /// Example: strata train --input sample-data --index-date 2025-03-31 --out models/emergency_admission.json
    Train(TrainArgs),
    /// Evaluate a model: discrimination, calibration, PPV at the top of the list, fairness by subgroup.
    ///
    /// The cohort is the training cohort at the index date (opt-outs excluded); on an extract
    /// made by `strata generate`, at its last date, outcomes and the oracle AUC come from truth.parquet.
    ///
    /// Example: strata evaluate --input sample-data --model models/emergency_admission.json --index-date 2025-03-31 --out evaluation.json
    Evaluate(EvaluateArgs),
    /// Regenerate a run's self-contained HTML report (report.html) from its aggregate files.
    ///
    /// Example: strata report --run out/latest
    Report(ReportArgs),
    /// Attack a published run's summaries as an intruder would and list what it recovers.
    ///
    /// Ratio inversion, differencing over the release's hierarchies (practice ⊂ PCN,
    /// LSOA ⊂ IMD quintile, every table against its ALL row) and interval narrowing from
    /// rounding ranges. Exits 0 when nothing is recovered, 13 when anything is. The same
    /// audit runs before every publication.
    ///
    /// Example: strata audit --run out/latest
    Audit(AuditArgs),
    /// What happened to the people runs flagged, against comparable people they did not flag.
    ///
    /// Reads OUT/latest/flag_history.parquet (every published run's flagged people and its
    /// comparison band just below the cut-off) and the emergency admissions in --input after
    /// each run's as-of date. For each run since --since: first-flagged people against the
    /// band over 3, 6 and 12 months (rates, crude and risk-adjusted rate ratios with 95% CIs,
    /// a regression-discontinuity estimate at the cut-off where numbers allow), every count
    /// disclosure-controlled. Writes OUT/impact/impact.json and impact.txt and prints the
    /// summary. Observational: docs/impact.md says what the figures mean.
    ///
    /// Example: strata impact --out /srv/strata --input /data/extract --since 2025-04-01
    Impact(ImpactArgs),
    /// Write the per-person feature table at an index date as Parquet.
    ///
    /// Example: strata features --input sample-data --index-date 2026-03-31 --out features.parquet
    Features(FeaturesArgs),
    /// Print settings: `--print-default` writes a fully commented strata.toml with every key.
    ///
    /// Example: strata config --print-default > strata.toml
    Config(ConfigArgs),
    /// Print a shell completion script.
    ///
    /// Example: strata completions bash > /etc/bash_completion.d/strata
    Completions(CompletionsArgs),
    /// Generate a synthetic extract with known ground truth.
    ///
    /// Example: strata generate --patients 5000 --seed 42 --out sample-data
    Generate(GenerateArgs),
    /// Convert a FHIR R4 Bulk Data export (UK Core) or an OMOP CDM 5.4 folder into a
    /// contract extract (Parquet).
    ///
    /// FHIR: reads *.ndjson / *.ndjson.gz (the $export manifest's list when present) and
    /// writes one folder of Parquet parts per contract table, plus fhir_conversion.json
    /// (counts, and every resource left out with its reason, file and line). See docs/fhir.md.
    /// OMOP: reads one CSV or Parquet file per CDM table and writes the same layout, plus
    /// omop_conversion.json (every row left out with its reason, file and row). See docs/omop.md.
    ///
    /// Example: strata convert --input /data/export --out /data/extract --postcode-lsoa pcd_lsoa21.csv
    Convert(ConvertArgs),
}

/// How a FHIR export's fields that FHIR does not carry are looked up
/// (nothing is guessed when a file is not given).
#[derive(Debug, Clone, Args)]
pub struct FhirLookupArgs {
    /// Postcode → LSOA 2021 CSV (e.g. the ONS Postcode Directory: pcds, lsoa21cd).
    #[arg(long, value_name = "FILE")]
    pub postcode_lsoa: Option<PathBuf>,
    /// Practice → PCN CSV (practice_code, pcn_code).
    #[arg(long, value_name = "FILE")]
    pub practice_pcn: Option<PathBuf>,
    /// dm+d → BNF CSV (dmd_code or SNOMED Code, bnf_code or BNF Code): dm+d medicines
    /// (a FHIR export's, or a contract extract's code_system dmd) then count as their BNF
    /// chemical substance; without it, by product code. Overrides [medicines] dmd_bnf.
    #[arg(long, value_name = "FILE")]
    pub dmd_bnf: Option<PathBuf>,
    /// Opt-out list CSV (person_id or nhs_number, opt_out_national, opt_out_type1):
    /// FHIR carries no opt-outs, so without it nobody is marked as opted out.
    #[arg(long, value_name = "FILE")]
    pub opt_outs: Option<PathBuf>,
}

/// What `--input` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// A folder of *.ndjson[.gz] files or an $export manifest is FHIR; person and
    /// visit_occurrence files (and no patients table) are OMOP; anything else the contract.
    Auto,
    /// A FHIR R4 Bulk Data export (converted into a temporary contract extract first).
    Fhir,
    /// An OMOP CDM 5.4 folder, one CSV or Parquet file per table (converted first; docs/omop.md).
    Omop,
    /// A contract extract (docs/data-contract.md).
    Contract,
}

/// `--format` and the FHIR lookups, for every command that takes `--input`.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// What --input holds.
    #[arg(long = "format", value_enum, default_value_t = InputFormat::Auto)]
    pub input_format: InputFormat,
    #[command(flatten)]
    pub lookups: FhirLookupArgs,
}

/// What `convert --input` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConvertFormat {
    /// An OMOP CDM folder when it has person and visit_occurrence files (and no
    /// patients table), else a FHIR export.
    Auto,
    /// A FHIR R4 Bulk Data export.
    Fhir,
    /// An OMOP CDM 5.4 folder.
    Omop,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The FHIR export or OMOP CDM folder.
    #[arg(long)]
    pub input: PathBuf,
    /// What --input holds.
    #[arg(long = "format", value_enum, default_value_t = ConvertFormat::Auto)]
    pub input_format: ConvertFormat,
    /// Folder to write the contract extract into (new or empty).
    #[arg(long)]
    pub out: PathBuf,
    /// Settings file, for [validation] max_reject_fraction.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub lookups: FhirLookupArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Extract folder (default: sample-data, or [run].input in the config).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Model file (default: models/emergency_admission.json).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Output folder (default: out).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Date risk is computed for (default: the last event date in the extract).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
    /// Settings file (see docs; unknown keys are errors).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra feature declarations (TOML; see docs/feature-catalogue.md).
    #[arg(long, value_name = "FILE")]
    pub features: Option<PathBuf>,
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Extract folder.
    #[arg(long, default_value = "sample-data")]
    pub input: PathBuf,
    /// Settings file, for [validation] max_reject_fraction.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[arg(long)]
    pub input: PathBuf,
    /// Features up to and including this date; outcome in the 365 days after.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub index_date: NaiveDate,
    /// Model file to write (JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// Model name (default: the output file's stem).
    #[arg(long)]
    pub name: Option<String>,
    /// Record that the training data is synthetic (in the model file and card).
    #[arg(long)]
    pub synthetic: bool,
    /// Extra feature declarations (TOML; see docs/feature-catalogue.md).
    #[arg(long, value_name = "FILE")]
    pub features: Option<PathBuf>,
    /// What to predict, in the 365 days after the index date.
    #[arg(long, default_value = "emergency_admission_12m", value_parser = outcome_names())]
    pub outcome: String,
    /// Also validate the fitted model at this later index date (temporal
    /// validation: everyone, features and outcome at that date).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub temporal_index_date: Option<NaiveDate>,
    /// Settings file, for [validation] max_reject_fraction and the [evaluate] table.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub source: SourceArgs,
}

/// The outcome names strata can train on.
fn outcome_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        strata::features::outcomes::Outcome::ALL.map(strata::features::outcomes::Outcome::name),
    )
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    #[arg(long)]
    pub input: PathBuf,
    #[arg(long)]
    pub model: PathBuf,
    /// Features up to and including this date; outcome in the 365 days after.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub index_date: NaiveDate,
    /// Write the evaluation as JSON here (the text report always goes to stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write a self-contained HTML evaluation report here (ROC, precision-recall, calibration, subgroups).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Settings file, for the [evaluate] table (top_shares, limits).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra feature declarations (TOML).
    #[arg(long, value_name = "FILE")]
    pub features: Option<PathBuf>,
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Args)]
pub struct FeaturesArgs {
    #[arg(long)]
    pub input: PathBuf,
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub index_date: NaiveDate,
    /// Parquet file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Extra feature declarations (TOML; see docs/feature-catalogue.md).
    #[arg(long, value_name = "FILE")]
    pub features: Option<PathBuf>,
    /// Settings file, for [codelists], [validation] max_reject_fraction and [medicines] dmd_bnf.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Parquet,
    Csv,
    /// A FHIR R4 Bulk Data export (UK Core NDJSON) of the same population (docs/fhir.md).
    Fhir,
    /// An OMOP CDM 5.4 folder (CSV, with a small concept table) of the same population (docs/omop.md).
    Omop,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of people.
    #[arg(long, default_value_t = 5000)]
    pub patients: u64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Folder to write the extract into.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = FormatArg::Parquet)]
    pub format: FormatArg,
    /// Last date of the history (truth covers the 365 days after it).
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2026-03-31")]
    pub as_of: NaiveDate,
    /// Years of history before the as-of date.
    #[arg(long, default_value_t = 3)]
    pub years: u32,
    /// Share of rows given realistic data-quality problems (0 = clean).
    #[arg(long, default_value_t = 0.0)]
    pub dirty: f64,
    /// ICB whose LSOAs people live in (NHS code; QVV = Dorset).
    #[arg(long, default_value = "QVV")]
    pub icb: String,
    /// Simulate acting on a risk list: a relative reduction X (0.3 = 30%) of the
    /// emergency-admission hazard of the people a run at --intervention-date flags,
    /// from the day after it. Who is flagged is found by generating the population
    /// without the effect and running --intervention-model on it (docs/impact.md):
    /// the generation costs about twice as long, plus one run.
    #[arg(long, value_name = "X")]
    pub intervention_effect: Option<f64>,
    /// The run date at which people are flagged (default: one year before --as-of,
    /// leaving a year of outcomes in the extract).
    #[arg(long, value_name = "YYYY-MM-DD", requires = "intervention_effect")]
    pub intervention_date: Option<NaiveDate>,
    /// The model that decides who is flagged, with the default tiers
    /// (default: models/emergency_admission.json).
    #[arg(long, value_name = "FILE", requires = "intervention_effect")]
    pub intervention_model: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// Output folder of the runs (holding `latest`).
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Extract holding the admissions after the runs' as-of dates (normally the latest one).
    #[arg(long)]
    pub input: PathBuf,
    /// Only runs with an as-of date on or after this.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub since: NaiveDate,
    /// Disclosure profile; default: the one in the latest run's manifest.
    #[arg(long)]
    pub disclosure: Option<String>,
    /// Settings file (validation limits, dm+d map).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print the default strata.toml, every key commented.
    #[arg(long)]
    pub print_default: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A published run folder.
    #[arg(long, default_value = "out/latest")]
    pub run: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// A published run folder.
    #[arg(long, default_value = "out/latest")]
    pub run: PathBuf,
    /// Disclosure profile the release claims to follow; default: the one in the run's manifest.
    #[arg(long)]
    pub disclosure: Option<String>,
}
