//! `--input` as an OMOP CDM folder: convert it into a temporary contract
//! extract that lives as long as the command (through `input::prepare`, which
//! detects the format), and print what the conversion read and left out
//! (stderr, so `validate --json` stays JSON).

use std::path::Path;

use anyhow::Context;
use strata::Error;
use strata::omop::{self, ConversionSummary, ConvertOptions, IssueKind};

/// Converts the CDM folder `input` into `out` and prints the account.
pub fn convert(
    input: &Path,
    out: &Path,
    max_reject_fraction: f64,
) -> anyhow::Result<ConversionSummary> {
    omop::convert(
        input,
        out,
        &ConvertOptions {
            max_reject_fraction,
        },
    )
    .map_err(Error::from)
    .with_context(|| format!("converting the OMOP CDM folder {}", input.display()))
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
        "OMOP CDM folder {}: read {}\n  contract rows: {}\n",
        input.display(),
        list(&s.read),
        list(&s.rows)
    );
    out += "  note: the CDM carries no opt-outs, PCNs or social care: nobody is marked as opted out (docs/omop.md)\n";
    for i in &s.issues {
        let kind = match i.kind {
            IssueKind::Rejected => "rejected",
            IssueKind::Dropped => "dropped",
            IssueKind::Noted => "noted",
        };
        let first = if i.first.is_empty() {
            String::new()
        } else {
            format!(" (first at {})", i.first.join(", "))
        };
        out += &format!("  {} {kind} {}: {}{first}\n", i.table, i.count, i.reason);
    }
    out
}

/// Writes a generated contract extract in `contract` as an OMOP CDM folder
/// in `out`, with its truth table and generation report beside it.
pub fn write_generated(contract: &Path, out: &Path) -> anyhow::Result<()> {
    let counts = omop::export::write_export(contract, out).map_err(Error::from)?;
    super::input::copy_generation_files(contract, out)?;
    tracing::info!(?counts, "OMOP CDM folder written");
    Ok(())
}
