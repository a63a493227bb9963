//! Parsing one contract column into its typed form, from text (CSV) or from a
//! compatible Parquet type, without failing the file on a bad cell: a cell
//! that cannot be parsed becomes null, and [`ParsedColumn::unparseable`] says so.

use polars::prelude::*;

use crate::contract::{ColumnSpec, ColumnType};
use crate::error::IngestError;

/// Words accepted as booleans in text files (compared in lower case).
const TRUE_WORDS: &[&str] = &["true", "t", "1", "yes", "y"];
const FALSE_WORDS: &[&str] = &["false", "f", "0", "no", "n"];

/// The typed expression for a column and the conditions that reject a row.
pub struct ParsedColumn {
    /// The value in its contract type (null when absent or unparseable).
    pub value: Expr,
    /// True where a value was given but could not be read as the contract type.
    pub unparseable: Expr,
    /// True where the column is required but the cell is empty.
    pub missing: Option<Expr>,
}

/// Builds the typed expression for `spec` given the physical type `found` in the file.
pub fn parse_column(
    spec: &ColumnSpec,
    found: &DataType,
    path: &std::path::Path,
) -> Result<ParsedColumn, IngestError> {
    let raw = col(spec.name);
    let is_text = matches!(found, DataType::String);
    let value = match spec.ty {
        ColumnType::Text | ColumnType::NhsNumber => match found {
            DataType::String => raw.clone().str().strip_chars(lit(NULL)),
            d if d.is_integer() => raw.clone().cast(DataType::String),
            _ => return Err(type_error(spec, found, path)),
        },
        ColumnType::Code(_) => match found {
            DataType::String | DataType::Categorical(..) | DataType::Enum(..) => raw
                .clone()
                .cast(DataType::String)
                .str()
                .strip_chars(lit(NULL)),
            _ => return Err(type_error(spec, found, path)),
        },
        ColumnType::Date => match found {
            DataType::Date => raw.clone(),
            DataType::Datetime(..) => raw.clone().cast(DataType::Date),
            DataType::String => {
                raw.clone()
                    .str()
                    .strip_chars(lit(NULL))
                    .str()
                    .to_date(StrptimeOptions {
                        format: Some("%Y-%m-%d".into()),
                        strict: false,
                        exact: true,
                        cache: true,
                    })
            }
            _ => return Err(type_error(spec, found, path)),
        },
        ColumnType::Bool => match found {
            DataType::Boolean => raw.clone(),
            d if d.is_integer() => when(raw.clone().eq(lit(1)))
                .then(lit(true))
                .when(raw.clone().eq(lit(0)))
                .then(lit(false))
                .otherwise(lit(NULL).cast(DataType::Boolean)),
            DataType::String => {
                let word = raw
                    .clone()
                    .str()
                    .strip_chars(lit(NULL))
                    .str()
                    .to_lowercase();
                when(word.clone().is_in(word_list(TRUE_WORDS), false))
                    .then(lit(true))
                    .when(word.is_in(word_list(FALSE_WORDS), false))
                    .then(lit(false))
                    .otherwise(lit(NULL).cast(DataType::Boolean))
            }
            _ => return Err(type_error(spec, found, path)),
        },
        ColumnType::Number => match found {
            d if d.is_primitive_numeric() => raw.clone().cast(DataType::Float64),
            DataType::String => raw
                .clone()
                .str()
                .strip_chars(lit(NULL))
                .cast(DataType::Float64),
            _ => return Err(type_error(spec, found, path)),
        },
        ColumnType::Integer { min, max } => {
            let as_int = match found {
                d if d.is_integer() => raw.clone().cast(DataType::Int64),
                DataType::String => raw
                    .clone()
                    .str()
                    .strip_chars(lit(NULL))
                    .cast(DataType::Int64),
                _ => return Err(type_error(spec, found, path)),
            };
            when(
                as_int
                    .clone()
                    .gt_eq(lit(min))
                    .and(as_int.clone().lt_eq(lit(max))),
            )
            .then(as_int)
            .otherwise(lit(NULL).cast(DataType::Int64))
            .cast(DataType::Int32)
        }
    };
    let given = if is_text {
        raw.clone()
            .is_not_null()
            .and(raw.clone().str().strip_chars(lit(NULL)).neq(lit("")))
    } else {
        raw.clone().is_not_null()
    };
    let unparseable = given.clone().and(value.clone().is_null());
    let missing = (!spec.nullable).then(|| given.not());
    Ok(ParsedColumn {
        value: value.alias(spec.name),
        unparseable,
        missing,
    })
}

/// `value ∈ codes`, for a parsed code column.
pub fn is_known_code(value: Expr, codes: &[&str]) -> Expr {
    value.is_in(word_list(codes), false)
}

fn word_list(words: &[&str]) -> Expr {
    lit(Series::new("words".into(), words)).implode(false)
}

fn type_error(spec: &ColumnSpec, found: &DataType, path: &std::path::Path) -> IngestError {
    IngestError::ColumnType {
        path: path.to_path_buf(),
        column: spec.name.to_string(),
        found: found.to_string(),
        expected: spec.ty.expectation(),
    }
}
