//! `--dirty RATE`: realistic data-quality problems injected into clean
//! chunks, counted exactly so validation can be tested against a known answer.
//!
//! Each data row of an event table is touched with probability RATE, and a
//! touched row gets exactly one problem, so the rows a validator must reject
//! per table equal `Injected::rows_to_reject`. Problems:
//! - unparseable dates (`2024-02-30`, `not recorded`, …) and the placeholder
//!   dates `1900-01-01` (before birth) and `2099-12-31` (in the future);
//! - unknown enum values (`setting`, `code_system`, `service_type`);
//! - events for people not in `patients` (ids starting `U`, which no
//!   generated person has);
//! - periods that end before they start;
//! - malformed NHS numbers in `patients` (wrong check digit, 9 digits,
//!   dots as separators; spaces and dashes are normalised by ingest, so they
//!   are not malformed), a value to be removed rather than a row to reject, so that no
//!   person and none of their events is lost.
//!
//! To carry an unparseable date, every date column is written as ISO text
//! when RATE > 0 (in Parquet as String instead of Date; CSV text is the same).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::SynthError;
use super::frames::TABLE_NAMES;

/// What was injected: counts by kind, then by `table.column`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Injected {
    pub total: u64,
    pub by_kind: BTreeMap<String, BTreeMap<String, u64>>,
    /// Rows a validator must reject, by table (one problem per row).
    pub rows_to_reject: BTreeMap<String, u64>,
    /// Values a validator must remove (set to null) without rejecting the
    /// row, by `table.column`.
    pub values_to_remove: BTreeMap<String, u64>,
}

impl Injected {
    pub fn merge(&mut self, o: &Injected) {
        self.total += o.total;
        for (k, m) in &o.by_kind {
            let e = self.by_kind.entry(k.clone()).or_default();
            for (c, n) in m {
                *e.entry(c.clone()).or_default() += n;
            }
        }
        for (t, n) in &o.rows_to_reject {
            *self.rows_to_reject.entry(t.clone()).or_default() += n;
        }
        for (t, n) in &o.values_to_remove {
            *self.values_to_remove.entry(t.clone()).or_default() += n;
        }
    }

    fn count(&mut self, kind: Kind, table: &str) {
        self.total += 1;
        let column = kind.column();
        *self
            .by_kind
            .entry(kind.name().to_string())
            .or_default()
            .entry(format!("{table}.{column}"))
            .or_default() += 1;
        if kind == Kind::MalformedNhsNumber {
            *self
                .values_to_remove
                .entry(format!("{table}.{column}"))
                .or_default() += 1;
        } else {
            *self.rows_to_reject.entry(table.to_string()).or_default() += 1;
        }
    }
}

/// One kind of problem and the column it lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    UnparseableDate(&'static str),
    DateBeforeBirth(&'static str),
    DateInFuture(&'static str),
    UnknownCode(&'static str),
    UnknownPerson,
    EndBeforeStart(&'static str, &'static str),
    MalformedNhsNumber,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::UnparseableDate(_) => "unparseable_date",
            Kind::DateBeforeBirth(_) => "placeholder_date_before_birth",
            Kind::DateInFuture(_) => "placeholder_date_in_future",
            Kind::UnknownCode(_) => "unknown_enum_value",
            Kind::UnknownPerson => "event_for_unknown_person",
            Kind::EndBeforeStart(..) => "end_before_start",
            Kind::MalformedNhsNumber => "malformed_nhs_number",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Kind::UnparseableDate(c)
            | Kind::DateBeforeBirth(c)
            | Kind::DateInFuture(c)
            | Kind::UnknownCode(c) => c,
            Kind::UnknownPerson => "person_id",
            Kind::EndBeforeStart(_, end) => end,
            Kind::MalformedNhsNumber => "nhs_number",
        }
    }
}

/// The problems each table can receive (by position in `TABLE_NAMES`).
fn kinds(table: &str) -> &'static [Kind] {
    use Kind::*;
    match table {
        "patients" => &[MalformedNhsNumber],
        "encounters" => &[
            UnparseableDate("start_date"),
            DateBeforeBirth("start_date"),
            DateInFuture("start_date"),
            UnknownCode("setting"),
            UnknownPerson,
            EndBeforeStart("start_date", "end_date"),
        ],
        "diagnoses" => &[
            UnparseableDate("date"),
            DateBeforeBirth("date"),
            UnknownCode("code_system"),
            UnknownPerson,
        ],
        "medications" => &[UnparseableDate("date"), DateInFuture("date"), UnknownPerson],
        "observations" => &[
            UnparseableDate("date"),
            UnknownCode("code_system"),
            UnknownPerson,
        ],
        "social_care" => &[
            UnknownCode("service_type"),
            EndBeforeStart("start_date", "end_date"),
            UnknownPerson,
        ],
        _ => &[],
    }
}

const UNPARSEABLE: [&str; 4] = ["2024-02-30", "not recorded", "2023-13-01", "??/??/2024"];

/// Injects problems into one chunk's frames (in `TABLE_NAMES` order).
pub fn inject(
    frames: &mut [DataFrame],
    rate: f64,
    rng: &mut ChaCha8Rng,
) -> Result<Injected, SynthError> {
    let mut injected = Injected::default();
    for (df, table) in frames.iter_mut().zip(TABLE_NAMES) {
        let frame_err = |source| SynthError::Frame { table, source };
        let kinds = kinds(table);
        if kinds.is_empty() {
            continue;
        }
        dates_as_text(df).map_err(frame_err)?;
        let mut edits: BTreeMap<&'static str, Vec<(usize, String)>> = BTreeMap::new();
        for row in 0..df.height() {
            if rng.random::<f64>() >= rate {
                continue;
            }
            let kind = kinds[rng.random_range(0..kinds.len())];
            let value = bad_value(kind, df, row, rng).map_err(frame_err)?;
            edits.entry(kind.column()).or_default().push((row, value));
            injected.count(kind, table);
        }
        for (column, list) in edits {
            replace_values(df, column, &list).map_err(frame_err)?;
        }
    }
    Ok(injected)
}

/// Casts every Date column to ISO `YYYY-MM-DD` text.
fn dates_as_text(df: &mut DataFrame) -> PolarsResult<()> {
    let dates: Vec<PlSmallStr> = df
        .columns()
        .iter()
        .filter(|c| c.dtype() == &DataType::Date)
        .map(|c| c.name().clone())
        .collect();
    for name in dates {
        let text = df.column(&name)?.cast(&DataType::String)?;
        df.with_column(text)?;
    }
    Ok(())
}

fn bad_value(kind: Kind, df: &DataFrame, row: usize, rng: &mut ChaCha8Rng) -> PolarsResult<String> {
    Ok(match kind {
        Kind::UnparseableDate(_) => UNPARSEABLE[rng.random_range(0..UNPARSEABLE.len())].to_string(),
        Kind::DateBeforeBirth(_) => "1900-01-01".to_string(),
        Kind::DateInFuture(_) => "2099-12-31".to_string(),
        Kind::UnknownCode(c) => match c {
            "setting" => ["A&E", "ae", "Inpatient"][rng.random_range(0..3)],
            "code_system" => ["read", "ctv3", "ICD10"][rng.random_range(0..3)],
            _ => ["respite", "Home care"][rng.random_range(0..2)],
        }
        .to_string(),
        Kind::UnknownPerson => format!("U{:010x}", rng.random::<u64>() & ((1 << 40) - 1)),
        Kind::EndBeforeStart(start, _) => {
            let s = df
                .column(start)?
                .str()?
                .get(row)
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
            let back = chrono::Duration::days(rng.random_range(1..=30));
            match s {
                Some(d) => (d - back).format("%Y-%m-%d").to_string(),
                // The start is always a clean date here; keep the row's
                // count exact by still breaking the period.
                None => "1900-01-01".to_string(),
            }
        }
        Kind::MalformedNhsNumber => {
            let nhs = df
                .column("nhs_number")?
                .str()?
                .get(row)
                .unwrap_or("9990000000")
                .to_string();
            match rng.random_range(0..3) {
                0 => wrong_check_digit(&nhs),
                1 => nhs[..9].to_string(),
                _ => format!("{}.{}.{}", &nhs[..3], &nhs[3..6], &nhs[6..]),
            }
        }
    })
}

/// The same number with a check digit that fails Modulus 11.
fn wrong_check_digit(nhs: &str) -> String {
    let mut b = nhs.as_bytes().to_vec();
    if let Some(last) = b.last_mut() {
        *last = b'0' + (*last - b'0' + 1) % 10;
    }
    let s = String::from_utf8(b).unwrap_or_default();
    if crate::contract::nhs_number_is_valid(&s) {
        format!("{}X", &s[..9])
    } else {
        s
    }
}

/// Replaces the given (row, value) cells of a text column.
fn replace_values(df: &mut DataFrame, column: &str, edits: &[(usize, String)]) -> PolarsResult<()> {
    let n = df.height();
    let mut keep = vec![true; n];
    let mut other = StringChunkedBuilder::new(column.into(), n);
    let mut next = edits.iter().peekable();
    for (row, k) in keep.iter_mut().enumerate() {
        match next.peek() {
            Some((r, v)) if *r == row => {
                *k = false;
                other.append_value(v);
                next.next();
            }
            _ => other.append_null(),
        }
    }
    let original = df.column(column)?.as_materialized_series().clone();
    let mask = BooleanChunked::from_slice("keep".into(), &keep);
    let replaced = original.zip_with(&mask, &other.finish().into_series())?;
    df.with_column(replaced.into_column())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_check_digit_fails_modulus_11() {
        for n in ["9990000018", "9434765919"] {
            assert!(!crate::contract::nhs_number_is_valid(&wrong_check_digit(n)));
        }
    }

    #[test]
    fn every_table_but_truth_gets_problems() {
        for t in TABLE_NAMES {
            assert_eq!(kinds(t).is_empty(), t == "truth", "{t}");
        }
    }
}
