//! Thin conversion between Polars DataFrames and [`SummaryTable`] /
//! [`ProtectedTable`], so the summaries can be built with Polars and
//! protected by plain Rust.

use polars::prelude::*;

use super::{
    COMPLETE_COLUMN, DisclosureError, DisclosureProfile, DisclosureReport, GroupRow,
    MIDPOINT6_SUFFIX, ProtectedTable, REDACTED_SUFFIX, SummaryTable, TableSpec, ValueKind, protect,
};

fn polars_err(action: &'static str) -> impl FnOnce(PolarsError) -> DisclosureError {
    move |source| DisclosureError::Polars { action, source }
}

fn column_names(df: &DataFrame) -> Vec<String> {
    df.get_column_names()
        .into_iter()
        .map(|n| n.to_string())
        .collect()
}

fn get<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Column, DisclosureError> {
    df.column(name).map_err(|_| DisclosureError::MissingColumn {
        column: name.to_owned(),
        found: column_names(df).join(", "),
    })
}

/// Names that mark a value column as a mean (count-weighted in the total row).
const MEAN_PREFIXES: [&str; 1] = ["mean_"];
const MEAN_SUFFIXES: [&str; 5] = ["_rate", "_proportion", "_prop", "_pct", "_percent"];
/// Names that mark a value column as an interval bound or other
/// non-additive statistic (no total-row value).
const OTHER_SUFFIXES: [&str; 6] = ["_lower", "_upper", "_lcl", "_ucl", "_lo", "_hi"];

impl TableSpec {
    /// Classifies the columns of `df` by strata's naming conventions (see the
    /// module doc): `population` is the total; integer columns `tier_*` form
    /// the partition `tier` and `segment_*` the partition `segment`; every
    /// other integer column is a subset count; float columns are values of
    /// the population. Any other column (a second label, a string, a date)
    /// is an error, so nothing is published unclassified. No total row is
    /// added; use [`TableSpec::with_total_row`].
    pub fn by_convention(df: &DataFrame, group_column: &str) -> Result<TableSpec, DisclosureError> {
        const TOTAL: &str = "population";
        get(df, group_column)?;
        get(df, TOTAL)?;
        let mut tiers = Vec::new();
        let mut segments = Vec::new();
        let mut spec = TableSpec::new(group_column, TOTAL);
        for column in df.columns() {
            let name = column.name().as_str();
            if name == group_column || name == TOTAL {
                continue;
            }
            let dtype = column.dtype();
            if dtype.is_integer() {
                if name.starts_with("tier_") {
                    tiers.push(name.to_owned());
                } else if name.starts_with("segment_") {
                    segments.push(name.to_owned());
                } else {
                    spec = spec.subset(name);
                }
            } else if dtype.is_float() {
                let kind = if MEAN_PREFIXES.iter().any(|p| name.starts_with(p))
                    || MEAN_SUFFIXES.iter().any(|s| name.ends_with(s))
                {
                    ValueKind::Mean
                } else if OTHER_SUFFIXES.iter().any(|s| name.ends_with(s)) {
                    ValueKind::Other
                } else {
                    ValueKind::Sum
                };
                spec = spec.value(name, TOTAL, kind);
            } else {
                return Err(DisclosureError::UnclassifiedColumn {
                    column: name.to_owned(),
                });
            }
        }
        if !tiers.is_empty() {
            spec = spec.partition("tier", tiers);
        }
        if !segments.is_empty() {
            spec = spec.partition("segment", segments);
        }
        spec.validate()?;
        Ok(spec)
    }
}

/// Reads a summary DataFrame (one row per group) into a [`SummaryTable`].
/// Every column of `df` must be declared in `spec`; counts must be
/// non-null, non-negative integers; values numeric (nulls allowed).
pub fn from_dataframe(df: &DataFrame, spec: &TableSpec) -> Result<SummaryTable, DisclosureError> {
    spec.validate()?;
    let counts = spec.count_columns();
    for name in column_names(df) {
        let declared = name == spec.group_column
            || counts.contains(&name.as_str())
            || spec.values.iter().any(|v| v.name == name);
        if !declared {
            return Err(DisclosureError::UnclassifiedColumn { column: name });
        }
    }
    let height = df.height();

    let labels = get(df, &spec.group_column)?
        .cast(&DataType::String)
        .map_err(polars_err("reading the group column as text"))?;
    let labels = labels
        .str()
        .map_err(polars_err("reading the group column as text"))?;
    let mut rows: Vec<GroupRow> = Vec::with_capacity(height);
    for (i, label) in labels.iter().enumerate() {
        let label = label.ok_or_else(|| DisclosureError::BadCell {
            row: i + 1,
            column: spec.group_column.clone(),
            problem: "the group label is null",
        })?;
        rows.push(GroupRow {
            label: label.to_owned(),
            counts: Vec::with_capacity(counts.len()),
            values: Vec::with_capacity(spec.values.len()),
            contributions: Vec::new(),
        });
    }

    for name in &counts {
        let column = get(df, name)?;
        if !column.dtype().is_integer() {
            return Err(DisclosureError::ColumnType {
                column: (*name).to_owned(),
                found: column.dtype().to_string(),
                expected: "an integer count".into(),
            });
        }
        let as_i64 = column
            .cast(&DataType::Int64)
            .map_err(polars_err("reading a count column"))?;
        let ca = as_i64.i64().map_err(polars_err("reading a count column"))?;
        for (i, v) in ca.iter().enumerate() {
            let bad = |problem| DisclosureError::BadCell {
                row: i + 1,
                column: (*name).to_owned(),
                problem,
            };
            let v = v.ok_or_else(|| bad("a count is null; counts must be known"))?;
            let v = u64::try_from(v).map_err(|_| bad("a count is negative"))?;
            if let Some(row) = rows.get_mut(i) {
                row.counts.push(v);
            }
        }
    }

    for value in &spec.values {
        let column = get(df, &value.name)?;
        let dtype = column.dtype();
        if !(dtype.is_float() || dtype.is_integer()) {
            return Err(DisclosureError::ColumnType {
                column: value.name.clone(),
                found: dtype.to_string(),
                expected: "a number".into(),
            });
        }
        let as_f64 = column
            .cast(&DataType::Float64)
            .map_err(polars_err("reading a value column"))?;
        let ca = as_f64.f64().map_err(polars_err("reading a value column"))?;
        for (i, v) in ca.iter().enumerate() {
            if let Some(row) = rows.get_mut(i) {
                row.values.push(v);
            }
        }
    }

    Ok(SummaryTable {
        spec: spec.clone(),
        rows,
    })
}

/// Writes a protected table as a DataFrame: the group column (text), then
/// every count column (Int32, renamed `x_midpoint6` under midpoint rounding)
/// and every value column (Float64), each followed by its Boolean
/// `_redacted` flag, and last the Boolean [`COMPLETE_COLUMN`]. The total
/// row, if any, is last.
pub fn to_dataframe(table: &ProtectedTable) -> Result<DataFrame, DisclosureError> {
    let spec = &table.spec;
    let height = table.rows.len();
    let count_suffix = if table.profile.is_midpoint() {
        MIDPOINT6_SUFFIX
    } else {
        ""
    };
    let mut columns: Vec<Column> =
        Vec::with_capacity(1 + 2 * (spec.count_columns().len() + spec.values.len()));
    columns.push(Column::new(
        spec.group_column.as_str().into(),
        table
            .rows
            .iter()
            .map(|r| r.label.as_str())
            .collect::<Vec<_>>(),
    ));
    for (k, name) in spec.count_columns().into_iter().enumerate() {
        let mut values: Vec<Option<i32>> = Vec::with_capacity(height);
        let mut flags: Vec<bool> = Vec::with_capacity(height);
        for row in &table.rows {
            let cell = row.counts.get(k).copied().unwrap_or(super::Cell {
                value: None,
                redacted: None,
            });
            let v = match cell.value {
                Some(v) => Some(i32::try_from(v).map_err(|_| DisclosureError::Overflow {
                    column: name.to_owned(),
                })?),
                None => None,
            };
            values.push(v);
            flags.push(cell.is_redacted());
        }
        let out = format!("{name}{count_suffix}");
        columns.push(Column::new(out.as_str().into(), values));
        columns.push(Column::new(
            format!("{out}{REDACTED_SUFFIX}").as_str().into(),
            flags,
        ));
    }
    for (j, value) in spec.values.iter().enumerate() {
        let mut values: Vec<Option<f64>> = Vec::with_capacity(height);
        let mut flags: Vec<bool> = Vec::with_capacity(height);
        for row in &table.rows {
            let cell = row.values.get(j);
            values.push(cell.and_then(|c| c.value));
            flags.push(cell.is_some_and(|c| c.is_redacted()));
        }
        columns.push(Column::new(value.name.as_str().into(), values));
        columns.push(Column::new(
            format!("{}{REDACTED_SUFFIX}", value.name).as_str().into(),
            flags,
        ));
    }
    columns.push(Column::new(
        COMPLETE_COLUMN.into(),
        table.rows.iter().map(|r| r.complete).collect::<Vec<_>>(),
    ));
    DataFrame::new(height, columns).map_err(polars_err("building the protected frame"))
}

/// [`from_dataframe`], [`protect`] and [`to_dataframe`] in one call.
pub fn protect_dataframe(
    df: &DataFrame,
    spec: &TableSpec,
    profile: &DisclosureProfile,
) -> Result<(DataFrame, DisclosureReport), DisclosureError> {
    let table = from_dataframe(df, spec)?;
    let protected = protect(&table, profile)?;
    let out = to_dataframe(&protected)?;
    Ok((out, protected.report))
}
