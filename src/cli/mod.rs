//! The command-line edge: parse, resolve settings, call the library, print.
//! Printing is this module's job, so it alone writes to stdout.

pub mod args;
mod input;
mod omop;
mod report;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use strata::config::{FileConfig, RunOverrides, RunPlan};
use strata::features::outcomes::Outcome;
use strata::governance::GovernanceError;
use strata::governance::pseudonym::PseudonymKey;
use strata::ingest::ValidateOptions;
use strata::model::card::render_card;
use strata::pipeline::{self, EvaluatePlan, TrainPlan};
use strata::publication::OutputLock;
use strata::{Error, ExitClass};

use args::{Cli, Command};

/// Runs the CLI and maps any error to its documented exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let class = e
                .chain()
                .find_map(|c| c.downcast_ref::<Error>())
                .map_or(ExitClass::Internal, Error::class);
            ExitCode::from(class.code())
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("strata={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// The pseudonymisation key, read once here at the edge: from
/// `STRATA_PSEUDONYM_KEY_FILE` (the file's bytes, exactly: nothing is trimmed,
/// so a trailing newline is part of the key) or `STRATA_PSEUDONYM_KEY` (the
/// variable's value, exactly). Setting both is refused rather than one
/// silently winning: two keys would give two sets of pseudonyms. Its contents
/// are never printed.
fn pseudonym_key() -> Result<Option<PseudonymKey>, Error> {
    let from_env = std::env::var_os("STRATA_PSEUDONYM_KEY");
    let from_file = std::env::var_os("STRATA_PSEUDONYM_KEY_FILE").map(std::path::PathBuf::from);
    let (path, bytes) = match (from_env, from_file) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(GovernanceError::BadKey {
                path: "STRATA_PSEUDONYM_KEY and STRATA_PSEUDONYM_KEY_FILE".into(),
                reason: "both are set; set only one (the file is recommended: the environment of a process can be read by others)".into(),
            }
            .into());
        }
        (Some(key), None) => ("STRATA_PSEUDONYM_KEY".into(), key.into_encoded_bytes()),
        (None, Some(path)) => {
            let bytes = std::fs::read(&path).map_err(|e| GovernanceError::BadKey {
                path: path.clone(),
                reason: format!("cannot be read: {}", e.kind()),
            })?;
            (path, bytes)
        }
    };
    PseudonymKey::new(bytes)
        .map(Some)
        .map_err(|reason| GovernanceError::BadKey { path, reason }.into())
}

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

fn load_config(path: Option<&Path>) -> Result<FileConfig, Error> {
    match path {
        Some(p) => Ok(FileConfig::load(p)?),
        None => Ok(FileConfig::default()),
    }
}

fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run(a) => {
            let file = load_config(a.config.as_deref())?;
            let flags = RunOverrides {
                input: a.input.clone(),
                model: a.model,
                out: a.out,
                as_of: a.as_of,
                features: a.features,
                pseudonym_key: pseudonym_key()?,
                dmd_bnf: a.source.lookups.dmd_bnf.clone(),
            };
            let mut plan = RunPlan::resolve(file, flags, today()).map_err(Error::from)?;
            // Before any work: a second run on this output folder stops here.
            let lock = OutputLock::acquire(&plan.out).map_err(Error::from)?;
            let shown = plan.input.clone();
            let prepared = input::prepare(&plan.input, &a.source, plan.max_reject_fraction)?;
            plan.input = prepared.path.clone();
            plan.converted_from = prepared.converted_from.clone();
            let outcome = pipeline::run(&plan, &lock)
                .with_context(|| format!("running on {}", shown.display()))?;
            println!("{}", report::run_summary(&outcome));
        }
        Command::Validate(a) => {
            let file = load_config(a.config.as_deref())?;
            let options = validate_options(&file, &a.source)?;
            let prepared = input::prepare(&a.input, &a.source, options.max_reject_fraction)?;
            let extract = pipeline::validate(&prepared.path, &options)?;
            let coverage = pipeline::source_warnings(&extract.report)?;
            pipeline::warn_about_medicines(&extract);
            if a.json {
                for w in &coverage {
                    tracing::warn!("coverage: {w}");
                }
                println!("{}", serde_json::to_string_pretty(&extract.report)?);
            } else {
                print!("{}", report::validation(&extract.report, &coverage));
            }
        }
        Command::Train(a) => {
            let name = a.name.clone().unwrap_or_else(|| {
                a.out
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "model".into())
            });
            let file = load_config(a.config.as_deref())?;
            let outcome = Outcome::from_name(&a.outcome)
                .ok_or_else(|| anyhow::anyhow!("unknown outcome {}", a.outcome))?;
            let prepared =
                input::prepare(&a.input, &a.source, file.validation.max_reject_fraction)?;
            let plan = TrainPlan {
                input: prepared.path.clone(),
                index_date: a.index_date,
                out: a.out.clone(),
                name,
                today: today(),
                max_reject_fraction: file.validation.max_reject_fraction,
                synthetic: a.synthetic,
                features: a.features.clone(),
                dmd_bnf: a
                    .source
                    .lookups
                    .dmd_bnf
                    .clone()
                    .or(file.medicines.dmd_bnf.clone()),
                outcome,
                temporal_index: a.temporal_index_date,
                disclosure: file.disclosure_profile().map_err(Error::from)?,
                options: file.evaluate,
                codelists: file.codelists,
            };
            let model = pipeline::train_model(&plan)?;
            model.save(&a.out).map_err(Error::from)?;
            let card = a.out.with_extension("card.md");
            std::fs::write(&card, render_card(&model, model.evaluation.as_ref()))
                .with_context(|| format!("writing {}", card.display()))?;
            println!("{}", report::trained(&model, &a.out));
        }
        Command::Evaluate(a) => {
            let file = load_config(a.config.as_deref())?;
            let prepared =
                input::prepare(&a.input, &a.source, file.validation.max_reject_fraction)?;
            let plan = EvaluatePlan {
                input: prepared.path.clone(),
                model: a.model,
                index_date: a.index_date,
                today: today(),
                features: a.features,
                dmd_bnf: a
                    .source
                    .lookups
                    .dmd_bnf
                    .clone()
                    .or(file.medicines.dmd_bnf.clone()),
                disclosure: file.disclosure_profile().map_err(Error::from)?,
                options: file.evaluate,
                codelists: file.codelists,
            };
            let evaluation = pipeline::evaluate_model(&plan)?;
            print!("{}", evaluation.to_text());
            if let Some(html) = &a.html {
                strata::report::write_evaluation_report(&evaluation, html).map_err(Error::from)?;
            }
            if let Some(out) = &a.out {
                std::fs::write(out, evaluation.to_json()? + "\n")
                    .with_context(|| format!("writing {}", out.display()))?;
            }
        }
        Command::Features(a) => {
            let file = load_config(a.config.as_deref())?;
            let key = pseudonym_key()?;
            let options = validate_options(&file, &a.source)?;
            let prepared = input::prepare(&a.input, &a.source, options.max_reject_fraction)?;
            let rows = pipeline::write_features(
                &prepared.path,
                a.index_date,
                &a.out,
                a.features.as_deref(),
                &file.codelists,
                &options,
                key.as_ref(),
            )?;
            println!(
                "wrote {rows} people to {}: person-level data, for direct care and analysts \
                 inside the organisation; never publish it",
                a.out.display()
            );
        }
        Command::Report(a) => {
            // A published run is written into under its output folder's lock.
            let _lock = OutputLock::for_run(&a.run).map_err(Error::from)?;
            let path = strata::report::write_run_report(&a.run).map_err(Error::from)?;
            println!("wrote {}", path.display());
        }
        Command::Audit(a) => audit(&a)?,
        Command::Impact(a) => impact(a)?,
        Command::Config(a) => {
            if !a.print_default {
                anyhow::bail!(Error::from(strata::config::ConfigError::Invalid(
                    "nothing to do: use `strata config --print-default`".into()
                )));
            }
            print!("{}", strata::config::DEFAULT_TOML);
        }
        Command::Completions(a) => {
            let mut command = <args::Cli as clap::CommandFactory>::command();
            // Into a buffer first: clap_complete panics on a closed pipe (e.g. `| head`).
            let mut script = Vec::new();
            clap_complete::generate(a.shell, &mut command, "strata", &mut script);
            std::io::Write::write_all(&mut std::io::stdout(), &script)
                .context("writing the completion script")?;
        }
        Command::Generate(a) => {
            // FHIR and OMOP: the contract extract goes to a temporary folder first.
            let fhir_temp = match a.format {
                args::FormatArg::Fhir | args::FormatArg::Omop => Some(
                    tempfile::Builder::new()
                        .prefix("strata-generate-")
                        .tempdir()
                        .context("creating a temporary folder")?,
                ),
                _ => None,
            };
            let options = strata::synth::GenerateOptions {
                patients: a.patients,
                seed: a.seed,
                out: fhir_temp
                    .as_ref()
                    .map_or_else(|| a.out.clone(), |t| t.path().to_path_buf()),
                format: match a.format {
                    args::FormatArg::Parquet | args::FormatArg::Fhir | args::FormatArg::Omop => {
                        strata::synth::Format::Parquet
                    }
                    args::FormatArg::Csv => strata::synth::Format::Csv,
                },
                as_of: a.as_of,
                years: a.years,
                dirty_rate: a.dirty,
                icb: a.icb,
                intervention: None,
            };
            let options = match a.intervention_effect {
                None => options,
                Some(effect) => {
                    let date = a.intervention_date.unwrap_or_else(|| {
                        a.as_of
                            .checked_sub_months(chrono::Months::new(12))
                            .unwrap_or(a.as_of)
                    });
                    let intervention =
                        flag_for_intervention(&options, effect, date, a.intervention_model)?;
                    strata::synth::GenerateOptions {
                        intervention: Some(intervention),
                        ..options
                    }
                }
            };
            let generated = strata::synth::generate(&options).map_err(Error::from)?;
            if let Some(temp) = &fhir_temp {
                match a.format {
                    args::FormatArg::Omop => omop::write_generated(temp.path(), &a.out)?,
                    _ => input::write_generated(temp.path(), &a.out)?,
                }
            }
            println!("{}", serde_json::to_string_pretty(&generated)?);
        }
        Command::Convert(a) => {
            let file = load_config(a.config.as_deref())?;
            let format = match a.input_format {
                args::ConvertFormat::Auto => args::InputFormat::Auto,
                args::ConvertFormat::Fhir => args::InputFormat::Fhir,
                args::ConvertFormat::Omop => args::InputFormat::Omop,
            };
            match input::resolve(&a.input, format) {
                strata::pipeline::input::Form::Omop => {
                    let limit = file.validation.max_reject_fraction;
                    let summary = omop::convert(&a.input, &a.out, limit)?;
                    print!("{}", omop::describe(&a.input, &summary));
                }
                _ => {
                    let options = input::options(&a.lookups, file.validation.max_reject_fraction);
                    let summary = strata::fhir::convert(&a.input, &a.out, &options)
                        .map_err(Error::from)
                        .with_context(|| {
                            format!("converting the FHIR export {}", a.input.display())
                        })?;
                    print!("{}", input::describe(&a.input, &summary));
                }
            }
            println!("wrote the contract extract to {}", a.out.display());
        }
    }
    Ok(())
}

/// Who a run at `date` would flag in the population `options` describes:
/// the population is generated without the effect into a temporary folder
/// and scored there with `model` (default settings, so the default tiers),
/// and the flagged people of its flag history are the ones the effect
/// applies to. The intervention changes nothing up to `date`
/// (`strata::synth::Intervention`), so a run at `date` on the final extract
/// flags the same people.
fn flag_for_intervention(
    options: &strata::synth::GenerateOptions,
    effect: f64,
    date: chrono::NaiveDate,
    model: Option<std::path::PathBuf>,
) -> anyhow::Result<strata::synth::Intervention> {
    use polars::prelude::{LazyFrame, PlRefPath, ScanArgsParquet, col, lit};
    if !(0.0..=1.0).contains(&effect) {
        anyhow::bail!(Error::from(strata::synth::SynthError::InterventionEffect {
            got: effect
        }));
    }
    let temp = tempfile::Builder::new()
        .prefix("strata-intervention-")
        .tempdir()
        .context("creating a temporary folder")?;
    let first = strata::synth::GenerateOptions {
        out: temp.path().join("extract"),
        format: strata::synth::Format::Parquet,
        intervention: None,
        ..options.clone()
    };
    strata::synth::generate(&first).map_err(Error::from)?;
    let flags = RunOverrides {
        input: Some(first.out.clone()),
        model,
        out: Some(temp.path().join("out")),
        as_of: Some(date),
        features: None,
        pseudonym_key: None,
        dmd_bnf: None,
    };
    let plan = RunPlan::resolve(FileConfig::default(), flags, today()).map_err(Error::from)?;
    let lock = OutputLock::acquire(&plan.out).map_err(Error::from)?;
    let outcome = pipeline::run(&plan, &lock)
        .with_context(|| format!("scoring the population at {date} to find who is flagged"))?;
    let path = outcome
        .run_dir
        .join(strata::products::history::FLAG_HISTORY);
    let history = LazyFrame::scan_parquet(
        PlRefPath::new(path.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )
    .and_then(|h| {
        h.filter(col("flagged").and(col("as_of").eq(lit(date))))
            .select([col("person_id")])
            .collect()
    })
    .with_context(|| format!("reading {}", path.display()))?;
    let flagged = history
        .column("person_id")
        .and_then(|c| c.str().cloned())
        .with_context(|| format!("reading {}", path.display()))?
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    Ok(strata::synth::Intervention {
        date,
        effect,
        flagged: std::sync::Arc::new(flagged),
    })
}

/// The disclosure profile `requested`, or else the one the run at `run`
/// was published under (its manifest's settings), or else the default.
/// Validation settings of `validate` and `impact`: today, the reject
/// limit, and the dm+d → BNF map of the flag or else the configuration.
fn validate_options(
    file: &FileConfig,
    source: &args::SourceArgs,
) -> anyhow::Result<ValidateOptions> {
    let dmd_bnf = source
        .lookups
        .dmd_bnf
        .as_ref()
        .or(file.medicines.dmd_bnf.as_ref());
    Ok(ValidateOptions {
        today: today(),
        max_reject_fraction: file.validation.max_reject_fraction,
        dmd_bnf: pipeline::dmd_bnf_map(dmd_bnf.map(std::path::PathBuf::as_path))?,
    })
}

fn run_profile(
    requested: Option<&str>,
    run: &Path,
) -> anyhow::Result<strata::governance::disclosure::DisclosureProfile> {
    let profile = match requested {
        Some(p) => p.to_string(),
        None => strata::publication::manifest::Manifest::read(&run.join("manifest.json"))
            .map_err(Error::from)?
            .settings
            .get("disclosure")
            .and_then(|v| v.as_str())
            .unwrap_or("opensafely")
            .to_string(),
    };
    Ok(profile
        .parse::<strata::governance::disclosure::DisclosureProfile>()
        .map_err(Error::from)?)
}

/// `strata impact`: the analysis, written under OUT/impact/ and printed.
fn impact(a: args::ImpactArgs) -> anyhow::Result<()> {
    let file = load_config(a.config.as_deref())?;
    let latest = a.out.join("latest");
    if !latest.join("manifest.json").is_file() {
        // Nothing published here yet (checked before the lock, which would
        // create the folder).
        anyhow::bail!(Error::from(strata::impact::ImpactError::NoHistory {
            path: latest
        }));
    }
    let profile = run_profile(a.disclosure.as_deref(), &latest)?;
    // Written into the runs' folder: under its lock, as a run is.
    let _lock = OutputLock::acquire(&a.out).map_err(Error::from)?;
    let validate = validate_options(&file, &a.source)?;
    let prepared = input::prepare(&a.input, &a.source, validate.max_reject_fraction)?;
    let plan = strata::impact::ImpactPlan {
        out: a.out.clone(),
        input: prepared.path.clone(),
        since: a.since,
        profile,
        pseudonym_key: pseudonym_key()?,
        validate,
    };
    let report = strata::impact::analyse(&plan)
        .map_err(Error::from)
        .with_context(|| format!("measuring impact from {}", a.out.display()))?;
    let dir = strata::impact::write(&report, &a.out).map_err(Error::from)?;
    print!("{}", strata::impact::summary(&report));
    println!("wrote {}", dir.display());
    Ok(())
}

/// `strata audit`: the findings, one per line; exit 13 when there are any.
fn audit(args: &args::AuditArgs) -> anyhow::Result<()> {
    let profile = run_profile(args.disclosure.as_deref(), &args.run)?;
    let findings =
        strata::products::summaries::audit_run(&args.run, &profile).map_err(Error::from)?;
    for finding in &findings {
        println!("{finding}");
    }
    if findings.is_empty() {
        println!(
            "audit of {} ({profile}): nothing recovered",
            args.run.display()
        );
        return Ok(());
    }
    anyhow::bail!(Error::from(
        strata::governance::disclosure::DisclosureError::AuditFailed {
            findings: findings.len(),
            first: findings[0].to_string(),
        }
    ))
}
