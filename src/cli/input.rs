//! `--input` in any of its forms: a contract extract, a FHIR bulk export
//! (`strata::fhir`) or an OMOP CDM folder (`omop.rs`). Detects the form,
//! converts the last two into a temporary contract extract that lives as
//! long as the command, and prints what the conversion read and left out
//! (stderr, so `validate --json` stays JSON).

use std::path::Path;

use anyhow::Context;
use strata::Error;
use strata::fhir::{self, ConversionSummary, ConvertOptions};
use strata::pipeline::input::{Conversion, Form};

use super::args::{FhirLookupArgs, InputFormat, SourceArgs};

/// The generator's ground-truth file (`pipeline::study::TRUTH_FILE`).
const TRUTH_FILE: &str = "truth.parquet";

pub use strata::pipeline::input::Prepared;

pub fn options(lookups: &FhirLookupArgs, max_reject_fraction: f64) -> ConvertOptions {
    ConvertOptions {
        postcode_lsoa: lookups.postcode_lsoa.clone(),
        practice_pcn: lookups.practice_pcn.clone(),
        dmd_bnf: lookups.dmd_bnf.clone(),
        opt_outs: lookups.opt_outs.clone(),
        max_reject_fraction,
    }
}

fn form(format: InputFormat) -> Form {
    match format {
        InputFormat::Auto => Form::Auto,
        InputFormat::Fhir => Form::Fhir,
        InputFormat::Omop => Form::Omop,
        InputFormat::Contract => Form::Contract,
    }
}

/// What `--input` holds once `auto` is resolved.
pub fn resolve(input: &Path, format: InputFormat) -> Form {
    strata::pipeline::input::resolve(input, form(format))
}

/// Converts `input` when it is (or is forced to be) a FHIR export or an
/// OMOP CDM folder (`strata::pipeline::input::prepare`), and prints what the
/// conversion read and left out.
pub fn prepare(
    input: &Path,
    source: &SourceArgs,
    max_reject_fraction: f64,
) -> anyhow::Result<Prepared> {
    let resolved = resolve(input, source.input_format);
    let prepared = strata::pipeline::input::prepare(
        input,
        resolved,
        &options(&source.lookups, max_reject_fraction),
    )
    .with_context(|| match resolved {
        Form::Omop => format!("converting the OMOP CDM folder {}", input.display()),
        _ => format!("converting the FHIR export {}", input.display()),
    })?;
    match &prepared.conversion {
        Some(Conversion::Fhir(summary)) => eprint!("{}", describe(input, summary)),
        Some(Conversion::Omop(summary)) => eprint!("{}", super::omop::describe(input, summary)),
        None => {}
    }
    Ok(prepared)
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
