//! `--input` in any of its forms: a contract extract, a FHIR bulk export
//! (`strata::fhir`) or an OMOP CDM folder (`omop.rs`). Detects the form,
//! converts the last two into a temporary contract extract that lives as
//! long as the command, and prints what the conversion read and left out
//! (stderr, so `validate --json` stays JSON).

use std::path::{Path, PathBuf};

use anyhow::Context;
use strata::Error;
use strata::fhir::{self, ConversionSummary, ConvertOptions};

use super::args::{FhirLookupArgs, InputFormat, SourceArgs};

/// The generator's ground-truth file (`pipeline::study::TRUTH_FILE`).
const TRUTH_FILE: &str = "truth.parquet";

/// The contract extract a command reads, and the temporary folder holding it
/// when the input was FHIR or OMOP (removed when this is dropped).
pub struct Prepared {
    pub path: PathBuf,
    /// `{format, input, conversion}` when the input was converted.
    pub converted_from: Option<serde_json::Value>,
    _temp: Option<tempfile::TempDir>,
}

pub fn options(lookups: &FhirLookupArgs, max_reject_fraction: f64) -> ConvertOptions {
    ConvertOptions {
        postcode_lsoa: lookups.postcode_lsoa.clone(),
        practice_pcn: lookups.practice_pcn.clone(),
        dmd_bnf: lookups.dmd_bnf.clone(),
        opt_outs: lookups.opt_outs.clone(),
        max_reject_fraction,
    }
}

/// What `--input` holds once `auto` is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    Contract,
    Fhir,
    Omop,
}

/// Resolves `--format auto`: a FHIR export, else an OMOP CDM folder, else
/// the contract.
pub fn resolve(input: &Path, format: InputFormat) -> Resolved {
    match format {
        InputFormat::Fhir => Resolved::Fhir,
        InputFormat::Omop => Resolved::Omop,
        InputFormat::Contract => Resolved::Contract,
        InputFormat::Auto if fhir::is_export(input) => Resolved::Fhir,
        InputFormat::Auto if strata::omop::is_cdm(input) => Resolved::Omop,
        InputFormat::Auto => Resolved::Contract,
    }
}

/// Converts `input` when it is (or is forced to be) a FHIR export or an
/// OMOP CDM folder.
pub fn prepare(
    input: &Path,
    source: &SourceArgs,
    max_reject_fraction: f64,
) -> anyhow::Result<Prepared> {
    let resolved = resolve(input, source.input_format);
    if resolved == Resolved::Contract {
        return Ok(Prepared {
            path: input.to_path_buf(),
            converted_from: None,
            _temp: None,
        });
    }
    let temp = tempfile::Builder::new()
        .prefix("strata-convert-")
        .tempdir()
        .context("creating a temporary folder for the converted input")?;
    let path = temp.path().join("extract");
    let (format, conversion) = if resolved == Resolved::Omop {
        let summary = super::omop::convert(input, &path, max_reject_fraction)?;
        eprint!("{}", super::omop::describe(input, &summary));
        ("omop", serde_json::to_value(&summary)?)
    } else {
        let summary = fhir::convert(input, &path, &options(&source.lookups, max_reject_fraction))
            .map_err(Error::from)
            .with_context(|| format!("converting the FHIR export {}", input.display()))?;
        eprint!("{}", describe(input, &summary));
        ("fhir", serde_json::to_value(&summary)?)
    };
    // The ground truth of an export made by `strata generate --format fhir|omop`
    // stays beside the extract, as evaluate expects it.
    let truth = input.join(TRUTH_FILE);
    if truth.is_file() {
        std::fs::copy(&truth, path.join(TRUTH_FILE))
            .with_context(|| format!("copying {}", truth.display()))?;
    }
    let converted_from = serde_json::json!({
        "format": format,
        "input": input.display().to_string(),
        "conversion": conversion,
    });
    Ok(Prepared {
        path,
        converted_from: Some(converted_from),
        _temp: Some(temp),
    })
}

/// A short text account of a conversion.
pub fn describe(input: &Path, s: &ConversionSummary) -> String {
    let list = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!(
        "FHIR export {}: read {}\n  contract rows: {}\n",
        input.display(),
        list(&s.resources),
        list(&s.rows)
    );
    out += "  note: FHIR carries no registration dates or opt-outs: everyone is taken as registered from birth, with opt-outs only from --opt-outs (docs/fhir.md)\n";
    if !s.skipped.is_empty() {
        out += &format!("  skipped (types not mapped): {}\n", list(&s.skipped));
    }
    for i in &s.issues {
        let kind = match i.kind {
            fhir::map::IssueKind::Rejected => "rejected",
            fhir::map::IssueKind::Dropped => "dropped",
        };
        out += &format!(
            "  {} {kind} {}: {} (first at {})\n",
            i.resource_type,
            i.count,
            i.reason,
            i.first.join(", ")
        );
    }
    out
}

/// Writes a generated contract extract in `contract` as a FHIR export in
/// `out`, with its truth table and generation report beside it.
pub fn write_generated(contract: &Path, out: &Path) -> anyhow::Result<()> {
    let counts = fhir::export::write_export(contract, out).map_err(Error::from)?;
    copy_generation_files(contract, out)?;
    tracing::info!(?counts, "FHIR export written");
    Ok(())
}

/// Copies the generator's ground truth and report from a generated contract
/// extract into the folder of its FHIR or OMOP form.
pub fn copy_generation_files(contract: &Path, out: &Path) -> anyhow::Result<()> {
    for name in [TRUTH_FILE, "generation-report.json"] {
        let from = contract.join(name);
        if from.is_file() {
            std::fs::copy(&from, out.join(name))
                .with_context(|| format!("copying {name} into {}", out.display()))?;
        }
    }
    Ok(())
}
