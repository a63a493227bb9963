//! Inequalities: Core20PLUS5 groups with rates per 1,000 directly
//! age-standardised to the 2013 European Standard Population, read from
//! `summaries/by_core20plus5.parquet` as published (already
//! disclosure-controlled; withheld figures stay withheld).

use std::path::Path;

use polars::prelude::*;

use super::Context;
use crate::products::inequalities::FILE;
use crate::report::charts::{self, Bar};
use crate::report::html::{Table, Td, figure, note, p};
use crate::report::{ReportError, format_number};

/// The groupings shown, in order, with their headings.
const SHOWN: &[(&str, &str)] = &[
    ("core20", "Core20 (most deprived 20% nationally)"),
    ("imd_quintile", "IMD quintile"),
    ("ethnic_minority", "Ethnic minority groups (PLUS)"),
    ("learning_disability", "Learning disability (PLUS)"),
    ("serious_mental_illness", "Serious mental illness (PLUS)"),
    ("hypertension", "Hypertension"),
    ("copd", "COPD"),
    ("cancer", "Cancer"),
];

/// One published row.
struct Row {
    grouping: String,
    group: String,
    people: Option<f64>,
    /// (rate, lower, upper) per measure: emergency admitted, high risk,
    /// expected admissions; `None` = withheld or not applicable.
    rates: [(Option<f64>, Option<f64>, Option<f64>); 3],
}

fn read(path: &Path) -> Result<Vec<Row>, ReportError> {
    let parquet = |source| ReportError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        action: "opening",
        source,
    })?;
    let frame = ParquetReader::new(file).finish().map_err(parquet)?;
    let text = |name: &str| -> Result<Vec<String>, ReportError> {
        Ok(frame
            .column(name)
            .map_err(parquet)?
            .str()
            .map_err(parquet)?
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect())
    };
    // Published values only: a withheld cell is null already.
    let number = |name: &str| -> Result<Vec<Option<f64>>, ReportError> {
        Ok(frame
            .column(name)
            .map_err(parquet)?
            .cast(&DataType::Float64)
            .map_err(parquet)?
            .f64()
            .map_err(parquet)?
            .iter()
            .collect())
    };
    let (grouping, group, people) = (text("grouping")?, text("group")?, number("population")?);
    let measure = |m: &str| -> Result<[Vec<Option<f64>>; 3], ReportError> {
        Ok([
            number(&format!("{m}_dsr_per_1000"))?,
            number(&format!("{m}_dsr_lower"))?,
            number(&format!("{m}_dsr_upper"))?,
        ])
    };
    let measures = [
        measure("emergency_admitted")?,
        measure("high_risk")?,
        measure("expected_admissions")?,
    ];
    Ok((0..frame.height())
        .map(|i| Row {
            grouping: grouping[i].clone(),
            group: group[i].clone(),
            people: people[i],
            rates: measures.each_ref().map(|m| (m[0][i], m[1][i], m[2][i])),
        })
        .collect())
}

/// "12.3 (9.8 – 15.1)", or "withheld".
fn rate_text(rate: (Option<f64>, Option<f64>, Option<f64>)) -> String {
    match rate {
        (Some(r), Some(l), Some(u)) => format!("{r:.1} ({l:.1} – {u:.1})"),
        (Some(r), _, _) => format!("{r:.1}"),
        _ => "withheld".into(),
    }
}

/// The section: a chart of standardised emergency-admission rates by group
/// and a table of the three standardised rates.
pub(super) fn section(ctx: &Context, run_dir: &Path) -> Result<String, ReportError> {
    let path = run_dir.join("summaries").join(FILE);
    if !path.exists() {
        return Ok(note(&format!(
            "summaries/{FILE} is missing from this run (runs before Core20PLUS5 was published)."
        )));
    }
    let rows = read(&path)?;
    let mut parts = vec![p(
        "Rates per 1,000 people, directly age-standardised to the 2013 European Standard Population so that groups with different age structures can be compared, with 95% intervals (Dobson method). Core20 is the most deprived 20% of areas in England (national IMD 2025 deciles 1–2); PLUS groups and clinical areas are those the data can support.",
    )];
    let mut bars = Vec::new();
    let mut table = Table::new(
        "table-inequalities",
        "Age-standardised rates per 1,000 by group (95% interval)",
        &[
            "group",
            "people",
            "emergency admission in the last 12 months",
            "very high or high risk",
            "expected emergency admissions",
        ],
    );
    for (grouping, heading) in SHOWN {
        for row in rows.iter().filter(|r| r.grouping == *grouping) {
            let label = if row.group == crate::products::summaries::TOTAL_LABEL {
                format!("{heading}: everyone")
            } else {
                format!("{heading}: {}", row.group)
            };
            table.row(vec![
                Td::text(&label),
                Td::num(row.people.map_or("withheld".into(), format_number)),
                Td::num(rate_text(row.rates[0])),
                Td::num(rate_text(row.rates[1])),
                Td::num(rate_text(row.rates[2])),
            ]);
            if row.group != crate::products::summaries::TOTAL_LABEL {
                let (rate, lower, upper) = row.rates[0];
                bars.push(Bar {
                    label,
                    value: rate,
                    interval: lower.zip(upper),
                    text: rate.map_or("withheld".into(), |r| format!("{r:.1}")),
                });
            }
        }
    }
    table.empty = "No group has published figures.".into();
    if !bars.is_empty() {
        let chart = charts::horizontal_bars(
            "chart-inequalities",
            "Age-standardised rate of emergency admission by group",
            &bars,
            "people with an emergency admission in the last 12 months per 1,000 (age-standardised, 95% interval)",
            charts::TIER_COLOURS[1],
            960,
        )
        .map_err(ctx.chart_err())?;
        parts.push(figure(
            "chart-inequalities",
            &chart,
            "Age-standardised rate of emergency admission in the last 12 months per 1,000 people; black lines are 95% intervals. Groups whose rate rests on 7 or fewer people are withheld.",
        ));
    }
    parts.push(table.render());
    parts.push(note(
        "Not computable from these sources: maternity (no maternity records), the annual physical health checks of people with serious mental illness and hypertension case-finding (blood pressure measurements are not yet features), and PLUS groups the extract does not record (e.g. people experiencing homelessness).",
    ));
    Ok(parts.concat())
}
