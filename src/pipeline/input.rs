//! An extract in any of the forms the library reads, turned into the one
//! form `ingest` reads: a contract extract folder. A FHIR bulk export or an
//! OMOP CDM folder is converted into a temporary contract extract; in-memory
//! tables (the Python binding's dict of Arrow tables) are written into one as
//! Parquet. The temporary folder lives as long as the [`Prepared`] value.
//!
//! Both edges (the CLI and the Python binding) call this, so a form is
//! detected and converted in one place.

use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;

use super::error::{Error, Result};
use crate::publication::OutputError;
use crate::publication::parquet::write_parquet;
use crate::{contract, fhir, omop};

/// The generator's ground-truth file (`pipeline::study::TRUTH_FILE`): it
/// stays beside a converted extract, as `evaluate` expects it.
const TRUTH_FILE: &str = "truth.parquet";

/// What an input folder holds, or is forced to be read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Detect: a FHIR export, else an OMOP CDM folder, else the contract.
    Auto,
    Contract,
    Fhir,
    Omop,
}

/// What a conversion read and left out, for the edge to print.
#[derive(Debug)]
pub enum Conversion {
    Fhir(fhir::ConversionSummary),
    Omop(omop::ConversionSummary),
}

/// The contract extract a command reads, and the temporary folder holding
/// it when the input was converted or given as tables (removed on drop).
#[derive(Debug)]
pub struct Prepared {
    pub path: PathBuf,
    /// What a conversion read, when there was one.
    pub conversion: Option<Conversion>,
    /// `{format, input, conversion}` when the input was converted (the
    /// manifest's `converted_from`).
    pub converted_from: Option<serde_json::Value>,
    _temp: Option<tempfile::TempDir>,
}

/// Resolves [`Form::Auto`] by looking at the folder.
pub fn resolve(input: &Path, form: Form) -> Form {
    match form {
        Form::Auto if fhir::is_export(input) => Form::Fhir,
        Form::Auto if omop::is_cdm(input) => Form::Omop,
        Form::Auto => Form::Contract,
        other => other,
    }
}

fn temp_folder(prefix: &str) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|source| {
            OutputError::Io {
                path: std::env::temp_dir(),
                action: "creating a temporary folder for the input",
                source,
            }
            .into()
        })
}

/// Converts `input` when it is (or is forced to be) a FHIR export or an OMOP
/// CDM folder; a contract extract is read where it is. `options` are the
/// FHIR reader's lookups; its `max_reject_fraction` applies to OMOP too.
pub fn prepare(input: &Path, form: Form, options: &fhir::ConvertOptions) -> Result<Prepared> {
    let resolved = resolve(input, form);
    if resolved == Form::Contract {
        return Ok(Prepared {
            path: input.to_path_buf(),
            conversion: None,
            converted_from: None,
            _temp: None,
        });
    }
    let temp = temp_folder("strata-convert-")?;
    let path = temp.path().join("extract");
    let (format, conversion) = if resolved == Form::Omop {
        let summary = omop::convert(
            input,
            &path,
            &omop::ConvertOptions {
                max_reject_fraction: options.max_reject_fraction,
            },
        )?;
        ("omop", Conversion::Omop(summary))
    } else {
        (
            "fhir",
            Conversion::Fhir(fhir::convert(input, &path, options)?),
        )
    };
    let truth = input.join(TRUTH_FILE);
    if truth.is_file() {
        std::fs::copy(&truth, path.join(TRUTH_FILE)).map_err(|source| OutputError::Io {
            path: truth.clone(),
            action: "copying the ground truth beside the converted extract",
            source,
        })?;
    }
    let summary = match &conversion {
        Conversion::Fhir(s) => serde_json::to_value(s),
        Conversion::Omop(s) => serde_json::to_value(s),
    }
    .map_err(|e| Error::Internal(format!("describing the conversion: {e}")))?;
    let converted_from = serde_json::json!({
        "format": format,
        "input": input.display().to_string(),
        "conversion": summary,
    });
    Ok(Prepared {
        path,
        conversion: Some(conversion),
        converted_from: Some(converted_from),
        _temp: Some(temp),
    })
}

/// A contract extract made of in-memory tables, one per contract table name
/// (`patients`, `encounters`, …), written as `<name>.parquet` into a
/// temporary folder so that they go through the same `ingest` (every column,
/// type and row rule) as files do. A name the contract does not know is
/// refused (a misspelt table would otherwise be silently missing).
pub fn from_frames(tables: Vec<(String, DataFrame)>) -> Result<Prepared> {
    let temp = temp_folder("strata-tables-")?;
    let path = temp.path().join("extract");
    std::fs::create_dir(&path).map_err(|source| OutputError::Io {
        path: path.clone(),
        action: "creating the extract folder",
        source,
    })?;
    for (name, mut frame) in tables {
        if !contract::TABLES.iter().any(|t| t.name == name) {
            let known: Vec<&str> = contract::TABLES.iter().map(|t| t.name).collect();
            return Err(crate::ingest::IngestError::UnknownTable {
                name,
                known: known.join(", "),
            }
            .into());
        }
        write_parquet(&mut frame, &path.join(format!("{name}.parquet")))?;
    }
    Ok(Prepared {
        path,
        conversion: None,
        converted_from: None,
        _temp: Some(temp),
    })
}
