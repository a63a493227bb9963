//! Settings: built-in defaults < `strata.toml` < command-line flags.
//!
//! Unknown keys are errors (a typo must not silently fall back to a default).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::codelists::ListFiles;
use crate::cohort::TierConfig;
use crate::error::ExitClass;
use crate::governance::disclosure::{DisclosureProfile, Dominance};
use crate::governance::pseudonym::PseudonymKey;
use crate::model::evaluate::EvaluateOptions;
use crate::products::drift::DriftLimits;

/// Configuration errors (strata.toml and flags).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("{0}")]
    Invalid(String),
}

impl ConfigError {
    /// The exit class an operator acts on.
    pub fn class(&self) -> ExitClass {
        ExitClass::Usage
    }
}

/// `strata.toml` as written by a user; every key is optional.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    pub run: RunSection,
    pub validation: ValidationSection,
    pub tiers: TierConfig,
    pub drift: DriftLimits,
    pub disclosure: DisclosureSection,
    /// `[evaluate]`: top shares and fairness limits for `strata evaluate`.
    pub evaluate: EvaluateOptions,
    /// `[codelists]`: files replacing the built-in score code lists.
    pub codelists: ListFiles,
    pub medicines: MedicinesSection,
    /// `[publish]`: retention of published runs.
    pub publish: PublishSection,
}

/// `[publish]`: what happens to published runs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublishSection {
    /// Keep at most this many complete runs under `OUT/runs/` (at least 1);
    /// the oldest are removed after each successful publication, never the
    /// one `latest` points at. `None` (the default): keep every run.
    pub keep_runs: Option<usize>,
}

/// `[medicines]`: how medicines coded outside the BNF are counted.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MedicinesSection {
    /// dm+d → BNF CSV (the format of `--dmd-bnf`): a dm+d row found in it
    /// counts as its BNF chemical substance, not as a product code.
    pub dmd_bnf: Option<PathBuf>,
}

/// `[disclosure]`: statistical disclosure control of the summaries.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisclosureSection {
    /// `opensafely` (default), `opensafely-midpoint6`, `nhs-secondary-care` or `custom:<threshold>:<base>`.
    pub profile: String,
    /// Dominance rule for sums (cost, expected admissions): `nk:<n>:<k>`
    /// (default `nk:2:0.9`, ACRO's) or `p:<p>`.
    pub dominance: String,
}

impl Default for DisclosureSection {
    fn default() -> Self {
        DisclosureSection {
            profile: DisclosureProfile::default().to_string(),
            dominance: Dominance::default().to_string(),
        }
    }
}

/// `[run]`: where to read and write.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSection {
    pub input: PathBuf,
    pub model: PathBuf,
    pub out: PathBuf,
    /// Extra feature declarations (TOML), if any.
    pub features: Option<PathBuf>,
}

impl Default for RunSection {
    fn default() -> Self {
        RunSection {
            input: PathBuf::from("sample-data"),
            model: PathBuf::from("models/emergency_admission.json"),
            out: PathBuf::from("out"),
            features: None,
        }
    }
}

/// `[validation]`: how strict ingest is.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValidationSection {
    /// A table with a larger share of rejected rows stops the run (0.05 = 5%).
    pub max_reject_fraction: f64,
}

impl Default for ValidationSection {
    fn default() -> Self {
        ValidationSection {
            max_reject_fraction: 0.05,
        }
    }
}

impl FileConfig {
    /// The `[disclosure] profile`, parsed: the small-number rule of every
    /// published count (summaries, and the model file, card and evaluation).
    pub fn disclosure_profile(&self) -> Result<DisclosureProfile, ConfigError> {
        self.disclosure
            .profile
            .parse::<DisclosureProfile>()
            .map_err(|e| {
                ConfigError::Invalid(format!(
                    "disclosure.profile = \"{}\": {e}",
                    self.disclosure.profile
                ))
            })
    }

    /// Reads `path`; a missing file is an error (the user named it).
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        FileConfig::parse(&text).map_err(|reason| ConfigError::File {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parses settings text; errors are one line, with the nearest valid key suggested for a typo.
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        toml::from_str(text).map_err(|e| explain(&e, text))
    }
}

/// A commented `strata.toml` holding every key with its default.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// One line: the TOML error, its line, and a suggestion for an unknown key.
fn explain(error: &toml::de::Error, source: &str) -> String {
    let message = error.message();
    let mut text = one_line(message);
    if let Some(span) = error.span() {
        let line = source[..span.start.min(source.len())].matches('\n').count() + 1;
        text = format!("line {line}: {text}");
    }
    if let Some(suggestion) = suggest(message) {
        text.push_str(&format!(" (did you mean `{suggestion}`?)"));
    }
    text
}

/// For "unknown field `x`, expected one of `a`, `b`", the valid key closest to `x`.
fn suggest(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, expected) = rest.split_once('`')?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    candidates
        .into_iter()
        .map(|c| (edit_distance(unknown, c), c))
        .filter(|(d, c)| *d <= c.len().max(unknown.len()) / 2)
        .min()
        .map(|(_, c)| c.to_string())
}

/// Levenshtein distance between two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|'))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Everything `strata run` needs, checked before any data is read.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunPlan {
    pub input: PathBuf,
    pub model: PathBuf,
    pub out: PathBuf,
    /// The date risk is computed for; `None` = the last event date in the extract.
    pub as_of: Option<NaiveDate>,
    pub max_reject_fraction: f64,
    pub tiers: TierConfig,
    /// Dates after this are rejected as "in the future".
    pub today: NaiveDate,
    /// Extra feature declarations (TOML) beside the built-in catalogue.
    pub features: Option<PathBuf>,
    pub drift: DriftLimits,
    #[serde(serialize_with = "display")]
    pub disclosure: DisclosureProfile,
    #[serde(serialize_with = "display")]
    pub dominance: Dominance,
    /// Key for pseudonymising NHS-number person ids (never serialised).
    #[serde(skip)]
    pub pseudonym_key: Option<PseudonymKey>,
    /// The dm+d → BNF map (`[medicines] dmd_bnf`, `--dmd-bnf`), if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dmd_bnf: Option<PathBuf>,
    /// When `input` was converted from another format (a FHIR export): the
    /// original input and the conversion's counts, recorded in the manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converted_from: Option<serde_json::Value>,
    /// Files replacing built-in score code lists (none: all built in).
    pub codelists: ListFiles,
    /// `[publish] keep_runs`: complete runs kept after publication (`None`: all).
    pub keep_runs: Option<usize>,
}

fn display<T: std::fmt::Display, S: serde::Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// Command-line overrides for a run.
#[derive(Debug, Clone, Default)]
pub struct RunOverrides {
    pub input: Option<PathBuf>,
    pub model: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub as_of: Option<NaiveDate>,
    pub features: Option<PathBuf>,
    pub pseudonym_key: Option<PseudonymKey>,
    pub dmd_bnf: Option<PathBuf>,
}

impl RunPlan {
    /// Merges defaults, the config file and flags, and checks the result.
    pub fn resolve(
        file: FileConfig,
        flags: RunOverrides,
        today: NaiveDate,
    ) -> Result<RunPlan, ConfigError> {
        file.tiers.validate().map_err(ConfigError::Invalid)?;
        let fraction = file.validation.max_reject_fraction;
        if !(0.0..=1.0).contains(&fraction) {
            return Err(ConfigError::Invalid(format!(
                "validation.max_reject_fraction = {fraction}: expected a fraction between 0 and 1 (0.05 = 5%)"
            )));
        }
        if file.publish.keep_runs == Some(0) {
            return Err(ConfigError::Invalid(
                "publish.keep_runs = 0: expected at least 1 (the run `latest` points at is always kept); leave it out to keep every run".into(),
            ));
        }
        if let Some(as_of) = flags.as_of.filter(|d| *d > today) {
            return Err(ConfigError::Invalid(format!(
                "--as-of {as_of} is in the future (today is {today})"
            )));
        }
        let disclosure = file.disclosure_profile()?;
        Ok(RunPlan {
            input: flags.input.unwrap_or(file.run.input),
            model: flags.model.unwrap_or(file.run.model),
            out: flags.out.unwrap_or(file.run.out),
            as_of: flags.as_of,
            max_reject_fraction: fraction,
            tiers: file.tiers,
            today,
            features: flags.features.or(file.run.features),
            drift: file.drift,
            disclosure,
            dominance: file
                .disclosure
                .dominance
                .parse::<Dominance>()
                .map_err(|e| {
                    ConfigError::Invalid(format!(
                        "disclosure.dominance = \"{}\": {e}",
                        file.disclosure.dominance
                    ))
                })?,
            pseudonym_key: flags.pseudonym_key,
            dmd_bnf: flags.dmd_bnf.or(file.medicines.dmd_bnf),
            converted_from: None,
            codelists: file.codelists,
            keep_runs: file.publish.keep_runs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_and_the_file_overrides_defaults() {
        let file: FileConfig =
            toml::from_str("[run]\nout = \"elsewhere\"\ninput = \"x\"\n").expect("toml");
        let flags = RunOverrides {
            input: Some("y".into()),
            ..Default::default()
        };
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let plan = RunPlan::resolve(file, flags, today).expect("plan");
        assert_eq!(plan.input, PathBuf::from("y"));
        assert_eq!(plan.out, PathBuf::from("elsewhere"));
        assert_eq!(plan.model, PathBuf::from("models/emergency_admission.json"));
    }

    #[test]
    fn keep_runs_is_read_from_publish_and_zero_is_refused() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let plan =
            RunPlan::resolve(FileConfig::default(), RunOverrides::default(), today).expect("plan");
        assert_eq!(plan.keep_runs, None, "the default keeps every run");
        let file = FileConfig::parse("[publish]\nkeep_runs = 7\n").expect("toml");
        let plan = RunPlan::resolve(file, RunOverrides::default(), today).expect("plan");
        assert_eq!(plan.keep_runs, Some(7));
        let file = FileConfig::parse("[publish]\nkeep_runs = 0\n").expect("toml");
        assert!(RunPlan::resolve(file, RunOverrides::default(), today).is_err());
        assert!(FileConfig::parse("[publish]\nkeep_runs = -1\n").is_err());
    }

    #[test]
    fn the_dmd_bnf_map_comes_from_medicines_and_the_flag_wins() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let file = FileConfig::parse("[medicines]\ndmd_bnf = \"map.csv\"\n").expect("toml");
        let plan = RunPlan::resolve(file.clone(), RunOverrides::default(), today).expect("plan");
        assert_eq!(plan.dmd_bnf, Some(PathBuf::from("map.csv")));
        let flags = RunOverrides {
            dmd_bnf: Some("other.csv".into()),
            ..Default::default()
        };
        let plan = RunPlan::resolve(file, flags, today).expect("plan");
        assert_eq!(plan.dmd_bnf, Some(PathBuf::from("other.csv")));
        let none = RunPlan::resolve(FileConfig::default(), RunOverrides::default(), today);
        assert_eq!(none.expect("plan").dmd_bnf, None);
    }

    #[test]
    fn the_printed_default_is_valid_and_equals_the_built_in_defaults() {
        let parsed = FileConfig::parse(DEFAULT_TOML).expect("the template parses");
        assert_eq!(parsed, FileConfig::default());
    }

    #[test]
    fn the_printed_default_names_every_key() {
        // Every key of the serialised defaults appears in the template (so a new setting cannot be left out).
        let value = toml::Value::try_from(FileConfig::default()).expect("serialise");
        let mut keys = Vec::new();
        collect_keys(&value, &mut keys);
        for key in keys {
            assert!(
                DEFAULT_TOML.contains(&format!("{key} =")),
                "strata.toml template lacks `{key}`"
            );
        }
    }

    fn collect_keys(value: &toml::Value, out: &mut Vec<String>) {
        if let toml::Value::Table(table) = value {
            for (k, v) in table {
                if v.is_table() {
                    collect_keys(v, out);
                } else {
                    out.push(k.clone());
                }
            }
        }
    }

    #[test]
    fn codelists_name_replacement_files_and_reach_the_run_plan() {
        let file = FileConfig::parse("[codelists]\ncharlson_snomed = \"lists/charlson.csv\"\n")
            .expect("valid");
        assert_eq!(
            file.codelists.charlson_snomed.as_deref(),
            Some(Path::new("lists/charlson.csv"))
        );
        assert_eq!(
            file.codelists.charlson_icd10, None,
            "the others stay built in"
        );
        let today = NaiveDate::from_ymd_opt(2025, 6, 1).expect("date");
        let plan = RunPlan::resolve(file, RunOverrides::default(), today).expect("plan");
        assert_eq!(
            plan.codelists.charlson_snomed.as_deref(),
            Some(Path::new("lists/charlson.csv"))
        );
        // The default names no file; a misspelt list is an error.
        assert_eq!(FileConfig::default().codelists, ListFiles::default());
        let e = FileConfig::parse("[codelists]\ncharlson_snowmed = \"x.csv\"\n")
            .expect_err("unknown list");
        assert!(e.contains("charlson_snowmed"), "{e}");
    }

    #[test]
    fn a_misspelt_key_gets_the_nearest_valid_key() {
        let e = FileConfig::parse("[tiers]\nvery_hihg = 0.01\n").expect_err("typo");
        assert!(e.contains("unknown field `very_hihg`"), "{e}");
        assert!(e.ends_with("(did you mean `very_high`?)"), "{e}");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn unknown_keys_are_errors_that_name_the_key() {
        let err = toml::from_str::<FileConfig>("[validation]\nmax_reject_fractio = 0.1\n")
            .expect_err("unknown key");
        let text = err.to_string();
        assert!(text.contains("max_reject_fractio"), "{text}");
        assert!(
            text.contains("max_reject_fraction"),
            "should list the valid key: {text}"
        );
    }
}
