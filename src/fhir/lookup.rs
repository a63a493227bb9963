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

/// An opt-out list: a `person_id` (the Patient's id) or `nhs_number`
/// column, and `opt_out_national` and `opt_out_type1` (true/false, 1/0,
/// yes/no, y/n; empty = false). A person not listed has no opt-out.
pub fn opt_outs(path: &Path) -> Result<super::map::OptOuts, FhirError> {
    let lookup_error = |reason: String| FhirError::Lookup {
        path: path.to_path_buf(),
        reason,
    };
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        // The reader's own message could quote a cell of this person-level
        // file, so it is not passed on.
        .map_err(|_| {
            lookup_error(
                "cannot be read as CSV (check the header row and that every row has the same number of fields)".to_string(),
            )
        })?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let has = |n: &str| names.iter().any(|c| c == n);
    let by_nhs_number = !has("person_id");
    let key = if by_nhs_number {
        "nhs_number"
    } else {
        "person_id"
    };
    for needed in [key, "opt_out_national", "opt_out_type1"] {
        if !has(needed) {
            return Err(lookup_error(format!(
                "needs columns person_id (or nhs_number), opt_out_national and opt_out_type1; `{needed}` is missing"
            )));
        }
    }
    let column = |name: &str| {
        df.column(name)
            .and_then(|c| c.str().cloned())
            .map_err(|e| lookup_error(e.to_string()))
    };
    let (keys, national, type1) = (
        column(key)?,
        column("opt_out_national")?,
        column("opt_out_type1")?,
    );
    let flag = |v: Option<&str>, row: usize, col: &str| -> Result<bool, FhirError> {
        match v.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("false") | Some("0") | Some("no") | Some("n") | Some("f") => {
                Ok(false)
            }
            Some("true") | Some("1") | Some("yes") | Some("y") | Some("t") => Ok(true),
            Some(_) => Err(lookup_error(format!(
                "row {row}, column `{col}`: expected true or false"
            ))),
        }
    };
    let mut people = std::collections::HashMap::with_capacity(df.height());
    for (i, ((k, n), t)) in keys
        .iter()
        .zip(national.iter())
        .zip(type1.iter())
        .enumerate()
    {
        let Some(k) = k.map(str::trim).filter(|k| !k.is_empty()) else {
            continue;
        };
        let row = i + 1;
        // NHS numbers written with spaces or dashes match the Patient's number.
        let k = if by_nhs_number {
            crate::contract::normalise_nhs_number(k)
        } else {
            k.into()
        };
        people.insert(
            k.into_owned(),
            (
                flag(n, row, "opt_out_national")?,
                flag(t, row, "opt_out_type1")?,
            ),
        );
    }
    Ok(super::map::OptOuts {
        by_nhs_number,
        people,
    })
}
