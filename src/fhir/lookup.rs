//! User-supplied CSV lookups: postcode → LSOA 2021, practice → PCN,
//! dm+d → BNF. Headers are matched without regard to case; a lookup is
//! read whole (they are reference tables, not person-level data).

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;

use super::FhirError;

/// Reads `key → value` from the CSV at `path`, finding each column by the
/// first of its candidate header names; `normalise` is applied to keys.
fn read_pairs(
    path: &Path,
    keys: &[&str],
    values: &[&str],
    normalise: fn(&str) -> String,
) -> Result<HashMap<String, String>, FhirError> {
    let lookup_error = |reason: String| FhirError::Lookup {
        path: path.to_path_buf(),
        reason,
    };
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|e| lookup_error(format!("cannot be read as CSV: {e}")))?;
    let find = |candidates: &[&str]| -> Result<String, FhirError> {
        df.get_column_names()
            .into_iter()
            .find(|c| {
                let c = c.trim().to_lowercase();
                candidates.contains(&c.as_str())
            })
            .map(|c| c.to_string())
            .ok_or_else(|| {
                lookup_error(format!(
                    "needs a column named one of {}",
                    candidates.join(", ")
                ))
            })
    };
    let key_col = find(keys)?;
    let value_col = find(values)?;
    let as_str = |name: &str| {
        df.column(name)
            .and_then(|c| c.str().cloned())
            .map_err(|e| lookup_error(e.to_string()))
    };
    let k = as_str(&key_col)?;
    let v = as_str(&value_col)?;
    let mut map = HashMap::with_capacity(df.height());
    for (k, v) in k.iter().zip(v.iter()) {
        if let (Some(k), Some(v)) = (k, v) {
            let v = v.trim();
            if !v.is_empty() {
                map.insert(normalise(k), v.to_string());
            }
        }
    }
    Ok(map)
}

fn trimmed(s: &str) -> String {
    s.trim().to_string()
}

/// Postcode → LSOA 2021 (e.g. the ONS Postcode Directory: `pcds`, `lsoa21cd`).
pub fn postcode_lsoa(path: &Path) -> Result<HashMap<String, String>, FhirError> {
    read_pairs(
        path,
        &["postcode", "pcds", "pcd", "pcd7", "pcd8"],
        &["lsoa21", "lsoa21cd", "lsoa21_code", "lsoa_code", "lsoa"],
        super::map::postcode_key,
    )
}

/// Practice ODS code → PCN code.
pub fn practice_pcn(path: &Path) -> Result<HashMap<String, String>, FhirError> {
    read_pairs(
        path,
        &["practice_code", "practice", "ods_code"],
        &["pcn_code", "pcn"],
        trimmed,
    )
}

/// dm+d code → BNF presentation code (e.g. NHSBSA's BNF–SNOMED mapping
/// saved as CSV: `SNOMED Code`, `BNF Code`).
pub fn dmd_bnf(path: &Path) -> Result<HashMap<String, String>, FhirError> {
    read_pairs(
        path,
        &[
            "dmd_code",
            "snomed_code",
            "snomed code",
            "dmd",
            "vmp_code",
            "amp_code",
        ],
        &["bnf_code", "bnf code", "bnf_presentation_code"],
        trimmed,
    )
}
