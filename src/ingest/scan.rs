//! Step 2 of ingest: scan a located table lazily and type its columns.
//!
//! Every part of a table is scanned (nothing is read yet), each row tagged
//! with where it came from ([`PART`], [`ROW`]); the columns found are checked
//! against the contract (a required column missing, or a Parquet type that
//! cannot hold the contract type, is fatal) and each contract column gets its
//! typed expression. Typing never fails the file on a bad cell: a cell that
//! cannot be parsed becomes null, and [`ParsedColumn::unparseable`] says so,
//! for the row rules of [`super::check`] to count.

use std::path::Path;

use polars::prelude::*;

use super::IngestError;
use super::locate::{FileFormat, TableSource, unreadable};
use crate::contract::{ColumnSpec, ColumnType};

/// Column holding the 1-based data row number within its file (header excluded).
pub const ROW: &str = "__row";
/// Column holding the index of the file (part) the row came from.
pub const PART: &str = "__part";

/// A located table, scanned: its rows as stored and each contract column typed.
pub(crate) struct ScannedTable {
    /// Every row as stored, with [`PART`] and [`ROW`].
    pub raw: LazyFrame,
    /// One per contract column, in contract order.
    pub columns: Vec<TypedColumn>,
}

/// One contract column of a scanned table.
pub(crate) struct TypedColumn {
    pub spec: &'static ColumnSpec,
    /// The typed value named after the column (a typed null when the column is absent).
    pub value: Expr,
    /// How the value was parsed; `None` when the (optional) column is absent.
    pub parsed: Option<ParsedColumn>,
}

/// Scans `source`, checks its columns against the contract and types each
/// contract column. Reads only the files' schemas, no rows.
pub(crate) fn scan_table(source: &TableSource) -> Result<ScannedTable, IngestError> {
    let (raw, schema) = scan(source)?;
    check_columns(source, &schema)?;
    let mut columns = Vec::with_capacity(source.table.columns.len());
    for spec in source.table.columns {
        let column = match schema.get(spec.name) {
            None => TypedColumn {
                spec,
                value: lit(NULL).cast(null_type(&spec.ty)).alias(spec.name),
                parsed: None,
            },
            Some(found) => {
                let parsed = parse_column(spec, found, &source.display)?;
                TypedColumn {
                    spec,
                    value: parsed.value.clone(),
                    parsed: Some(parsed),
                }
            }
        };
        columns.push(column);
    }
    Ok(ScannedTable { raw, columns })
}

/// A lazy scan of every part of `source`, with [`PART`] and [`ROW`] columns,
/// and the union of column names and types found (checked against the contract
/// before any data is read).
fn scan(source: &TableSource) -> Result<(LazyFrame, Schema), IngestError> {
    let mut frames = Vec::with_capacity(source.files.len());
    let mut schema: Option<Schema> = None;
    for (part, path) in source.files.iter().enumerate() {
        let (lf, part_schema) = scan_file(path, source.format)?;
        if let Some(first) = &schema {
            if first != &part_schema {
                return Err(IngestError::Unreadable {
                    path: path.clone(),
                    reason: format!(
                        "its columns differ from {}; every part must have the same columns",
                        source.files[0].display()
                    ),
                });
            }
        } else {
            schema = Some(part_schema);
        }
        frames.push(lf.with_column(lit(part as u32).alias(PART)));
    }
    let schema = schema.ok_or_else(|| IngestError::Empty {
        path: source.display.clone(),
    })?;
    let lf = if frames.len() == 1 {
        frames.pop().expect("one frame")
    } else {
        concat(frames, UnionArgs::default()).map_err(|e| unreadable(&source.display, &e))?
    };
    Ok((lf, schema))
}

fn scan_file(path: &Path, format: FileFormat) -> Result<(LazyFrame, Schema), IngestError> {
    let row_index = RowIndex {
        name: ROW.into(),
        offset: 1,
    };
    let pl_path = PlRefPath::new(path.to_string_lossy().as_ref());
    let mut lf = match format {
        FileFormat::Csv => LazyCsvReader::new(pl_path)
            // Every CSV cell is read as text and parsed against the contract,
            // so a bad cell rejects one row instead of failing the whole file.
            .with_infer_schema_length(Some(0))
            .with_has_header(true)
            .with_row_index(Some(row_index))
            .finish(),
        FileFormat::Parquet => {
            let args = ScanArgsParquet {
                row_index: Some(row_index),
                ..Default::default()
            };
            LazyFrame::scan_parquet(pl_path, args)
        }
    }
    .map_err(|e| unreadable(path, &e))?;
    let schema = lf.collect_schema().map_err(|e| unreadable(path, &e))?;
    let mut schema = (*schema).clone();
    let _ = schema.shift_remove(ROW);
    Ok((lf.with_column(col(ROW).cast(DataType::UInt64)), schema))
}

/// Every required column must be present; extra columns are ignored.
fn check_columns(source: &TableSource, schema: &Schema) -> Result<(), IngestError> {
    for column in source.table.columns.iter().filter(|c| c.required) {
        if schema.get(column.name).is_none() {
            let names: Vec<&str> = schema
                .iter_names()
                .map(|n| n.as_str())
                .filter(|n| *n != PART)
                .collect();
            let mut found = names.join(", ");
            if names.len() == 1
                && (found.contains(';') || found.contains('\t') || found.contains('|'))
            {
                found.push_str("; the file looks delimited by something other than commas, and strata reads comma-separated CSV");
            }
            return Err(IngestError::MissingColumn {
                path: source.display.clone(),
                column: column.name.to_string(),
                found,
            });
        }
    }
    Ok(())
}

fn null_type(ty: &ColumnType) -> DataType {
    match ty {
        ColumnType::Date => DataType::Date,
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Number => DataType::Float64,
        ColumnType::Integer { .. } => DataType::Int32,
        ColumnType::Text | ColumnType::Code(_) | ColumnType::NhsNumber => DataType::String,
    }
}

/// Words accepted as booleans in text files (compared in lower case).
const TRUE_WORDS: &[&str] = &["true", "t", "1", "yes", "y"];
const FALSE_WORDS: &[&str] = &["false", "f", "0", "no", "n"];

/// The typed expression for a column and the conditions that reject a row.
pub(crate) struct ParsedColumn {
    /// The value in its contract type (null when absent or unparseable).
    pub value: Expr,
    /// True where a value was given but could not be read as the contract type.
    pub unparseable: Expr,
    /// True where the column is required but the cell is empty.
    pub missing: Option<Expr>,
}

/// Builds the typed expression for `spec` given the physical type `found` in the file.
fn parse_column(
    spec: &ColumnSpec,
    found: &DataType,
    path: &Path,
) -> Result<ParsedColumn, IngestError> {
    let raw = col(spec.name);
    let is_text = matches!(found, DataType::String);
    // One trimmed expression per column, shared by the value and the
    // "given" check so the common-subexpression pass computes it once.
    let text = trimmed(raw.clone());
    let value = match spec.ty {
        ColumnType::Text | ColumnType::NhsNumber => match found {
            DataType::String => text.clone(),
            d if d.is_integer() => raw.clone().cast(DataType::String),
            _ => return Err(type_error(spec, found, path)),
        },
        ColumnType::Code(_) => match found {
            DataType::String => text.clone(),
            DataType::Categorical(..) | DataType::Enum(..) => {
                trimmed(raw.clone().cast(DataType::String))
            }
            _ => return Err(type_error(spec, found, path)),
        },
        ColumnType::Date => match found {
            DataType::Date => raw.clone(),
            DataType::Datetime(..) => raw.clone().cast(DataType::Date),
            DataType::String => text.clone().str().to_date(StrptimeOptions {
                format: Some("%Y-%m-%d".into()),
                strict: false,
                exact: true,
                cache: true,
            }),
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
                let word = text.clone().str().to_lowercase();
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
            DataType::String => text.clone().cast(DataType::Float64),
            _ => return Err(type_error(spec, found, path)),
        },
        ColumnType::Integer { min, max } => {
            let as_int = match found {
                d if d.is_integer() => raw.clone().cast(DataType::Int64),
                DataType::String => text.clone().cast(DataType::Int64),
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
        raw.clone().is_not_null().and(text.clone().neq(lit("")))
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

/// `text` with surrounding whitespace removed (see [`trim_column`]).
fn trimmed(text: Expr) -> Expr {
    text.map(trim_column, |_, field| Ok(field.clone()))
}

/// A text column with surrounding whitespace removed — returned as it is,
/// without copying, when no value has any. Polars' `strip_chars` rebuilds
/// every string of every pass (27% of validation CPU in `perf`), although
/// extracts are almost always clean; this only checks the bytes.
fn trim_column(column: Column) -> PolarsResult<Column> {
    let text = column.str()?;
    if !text.downcast_iter().any(|a| a.values_iter().any(is_padded)) {
        return Ok(column);
    }
    let trimmed: StringChunked = text.iter().map(|v| v.map(str::trim)).collect();
    Ok(trimmed.with_name(text.name().clone()).into_column())
}

/// Whether `s` starts or ends with whitespace (as `str::trim` sees it). Two
/// byte comparisons for the usual ASCII text; characters are decoded only
/// when an end byte is not ASCII.
fn is_padded(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if first.is_ascii() && last.is_ascii() {
        return is_ascii_space(first) || is_ascii_space(last);
    }
    s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace)
}

/// ASCII whitespace as `char::is_whitespace` defines it (includes U+000B, unlike `u8::is_ascii_whitespace`).
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// `value ∈ codes`, for a parsed code column.
pub(crate) fn is_known_code(value: Expr, codes: &[&str]) -> Expr {
    value.is_in(word_list(codes), false)
}

fn word_list(words: &[&str]) -> Expr {
    lit(Series::new("words".into(), words)).implode(false)
}

fn type_error(spec: &ColumnSpec, found: &DataType, path: &Path) -> IngestError {
    IngestError::ColumnType {
        path: path.to_path_buf(),
        column: spec.name.to_string(),
        found: found.to_string(),
        expected: spec.ty.expectation(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(c: &Column) -> Vec<Option<String>> {
        c.str()
            .expect("text")
            .iter()
            .map(|v| v.map(String::from))
            .collect()
    }

    #[test]
    fn trimming_removes_surrounding_whitespace_and_keeps_nulls() {
        let padded = Column::new(
            "c".into(),
            [
                Some(" A81001"),
                None,
                Some("J45.9\t"),
                Some("\u{a0}x y\u{a0}"),
            ],
        );
        let got = trim_column(padded).expect("trim");
        assert_eq!(got.name().as_str(), "c");
        assert_eq!(
            texts(&got),
            [
                Some("A81001".into()),
                None,
                Some("J45.9".into()),
                Some("x y".into())
            ]
        );
    }

    #[test]
    fn padding_is_found_at_either_end_in_ascii_and_beyond() {
        for padded in [
            " a",
            "a ",
            "\ta",
            "a\r\n",
            "\u{b}a",
            "\u{a0}a",
            "a\u{3000}",
            " ",
        ] {
            assert!(is_padded(padded), "{padded:?}");
        }
        for clean in ["", "a", "a b", "é", "J45.9", "\u{a0}".trim()] {
            assert!(!is_padded(clean), "{clean:?}");
        }
        // The byte test agrees with char::is_whitespace on every ASCII byte.
        for b in 0u8..128 {
            assert_eq!(is_ascii_space(b), char::from(b).is_whitespace(), "{b}");
        }
    }

    #[test]
    fn a_clean_column_is_returned_as_it_is() {
        let clean = Column::new("c".into(), [Some("A81001"), None, Some("x y")]);
        let got = trim_column(clean.clone()).expect("trim");
        assert_eq!(texts(&got), texts(&clean));
        // Not rebuilt: the same string buffers.
        let buffers = |c: &Column| {
            c.str()
                .expect("text")
                .downcast_iter()
                .map(|a| a.data_buffers().as_ptr())
                .collect::<Vec<_>>()
        };
        assert_eq!(buffers(&got), buffers(&clean));
    }
}
