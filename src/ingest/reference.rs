//! Built-in reference data compiled into the binary, so a fresh install needs
//! nothing beside the extract.

use std::io::Cursor;

use polars::prelude::*;

use super::IngestError;

/// English Indices of Deprivation 2025 by LSOA 2021 (MHCLG, OGL v3); see
/// `reference/README.md` for provenance.
const IMD_2025_CSV: &str = include_str!("../../reference/imd2025_lsoa21.csv");

/// How reports name the built-in table.
pub const BUILTIN_IMD_LABEL: &str = "built-in IMD 2025 (LSOA 2021)";

/// The built-in LSOA → IMD decile table as (`lsoa`, `imd_decile` i32).
pub fn builtin_imd() -> Result<LazyFrame, IngestError> {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .into_reader_with_file_handle(Cursor::new(IMD_2025_CSV.as_bytes()))
        .finish()
        .map_err(|e| IngestError::Unreadable {
            path: "built-in IMD 2025 table".into(),
            reason: e.to_string(),
        })?;
    Ok(df.lazy().select([
        col("lsoa21_code").cast(DataType::String).alias("lsoa"),
        col("imd_decile").cast(DataType::Int32),
    ]))
}
