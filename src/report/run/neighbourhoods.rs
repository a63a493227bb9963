//! Where demand is likely to come from: expected emergency admissions by
//! neighbourhood (LSOA), Primary Care Network and deprivation.

use super::figures::Shower;
use super::summary::Summary;
use super::text::humanise;
use super::{Context, Figure};
use crate::report::charts::{self, Bar};
use crate::report::html::{Table, Td, columns, figure, note, p};
use crate::report::{ReportError, format_number, format_percent};

/// The top LSOAs (chart and table), PCNs, and the deprivation gradient.
pub(super) fn section(ctx: &Context) -> Result<String, ReportError> {
    let show = ctx.show;
    let chart_err = ctx.chart_err();
    let mut parts = vec![p(
        "Expected emergency admissions are the sum of predicted risks of the people living in an area (or registered with a PCN) in the next 12 months — where demand is likely to come from. The interval reflects chance alone (95%).",
    )];
    match ctx.summary("lsoa") {
        Some(s) => {
            let (table, bars) = ranked_table(
                show,
                s,
                "table-lsoa",
                "Top 10 neighbourhoods (LSOA) by expected emergency admissions",
                "LSOA",
                10,
            )?;
            let chart = charts::horizontal_bars(
                "chart-neighbourhoods",
                "Expected emergency admissions by neighbourhood",
                &bars,
                "expected emergency admissions in the next 12 months (with 95% interval)",
                charts::TIER_COLOURS[1],
                960,
            )
            .map_err(&chart_err)?;
            parts.push(figure(
                "chart-neighbourhoods",
                &chart,
                "Top 10 LSOAs by expected emergency admissions; black lines are 95% intervals. Neighbourhoods with very few residents are withheld and not ranked.",
            ));
            parts.push(table.render());
        }
        None => parts.push(note("summaries/by_lsoa.parquet is missing from this run.")),
    }
    let mut tables_row = Vec::new();
    if let Some(s) = ctx.summary("pcn_code") {
        let (table, _) = ranked_table(
            show,
            s,
            "table-pcn",
            "Primary Care Networks by expected emergency admissions",
            "PCN",
            20,
        )?;
        tables_row.push(table.render());
    }
    if let Some(s) = ctx.summary("imd_quintile") {
        tables_row.push(deprivation_table(show, s)?.render());
    }
    if !tables_row.is_empty() {
        parts.push(columns(&tables_row));
    }
    Ok(parts.concat())
}

/// The `top` groups of a summary by expected admissions (withheld groups are
/// not ranked), as a table and as bars with 95% intervals.
fn ranked_table(
    show: Shower,
    s: &Summary,
    id: &str,
    caption: &str,
    label_header: &str,
    top: usize,
) -> Result<(Table, Vec<Bar>), ReportError> {
    let labels = s.labels()?;
    let population = s.figures("population", true)?;
    let mean = s.figures("mean_risk", false)?;
    let expected = s.figures("expected_admissions", false)?;
    let lower = s.figures("expected_admissions_lower", false)?;
    let upper = s.figures("expected_admissions_upper", false)?;
    // Two columns, not their sum: a sum with a withheld part is unknown.
    let tier = |name: &str| -> Result<Vec<Figure>, ReportError> {
        if s.has(name) {
            s.figures(name, true)
        } else {
            Ok(vec![Figure::Missing; labels.len()])
        }
    };
    let very_high = tier("tier_very_high")?;
    let high = tier("tier_high")?;
    let mut order: Vec<usize> = (0..labels.len())
        .filter(|&i| {
            labels[i] != crate::products::summaries::TOTAL_LABEL && expected[i].value().is_some()
        })
        .collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (
            expected[a].value().unwrap_or(0.0),
            expected[b].value().unwrap_or(0.0),
        );
        y.total_cmp(&x).then(labels[a].cmp(&labels[b]))
    });
    order.truncate(top);
    let mut table = Table::new(
        id,
        caption,
        &[
            label_header,
            "people",
            "mean risk",
            "expected admissions",
            "95% interval",
            "very high risk",
            "high risk",
        ],
    );
    let mut bars = Vec::new();
    for &i in &order {
        let interval = match (lower[i].value(), upper[i].value()) {
            (Some(l), Some(u)) => format!("{} – {}", format_number(l), format_number(u)),
            _ => "–".into(),
        };
        table.row(vec![
            Td::text(&labels[i]),
            show.td(population[i]),
            match mean[i] {
                Figure::Number(v) => Td::num(format_percent(v)),
                f => show.value_td(f),
            },
            show.value_td(expected[i]),
            Td::num(interval),
            show.td(very_high[i]),
            show.td(high[i]),
        ]);
        bars.push(Bar {
            label: labels[i].clone(),
            value: expected[i].value(),
            interval: lower[i].value().zip(upper[i].value()),
            text: expected[i].value().map_or("redacted".into(), format_number),
        });
    }
    table.empty = "No neighbourhood has published figures.".into();
    Ok((table, bars))
}

/// People, mean risk and expected admissions per IMD quintile, most deprived first.
fn deprivation_table(show: Shower, s: &Summary) -> Result<Table, ReportError> {
    let labels = s.labels()?;
    let population = s.figures("population", true)?;
    let expected = s.figures("expected_admissions", false)?;
    let mean = s.figures("mean_risk", false)?;
    let mut table = Table::new(
        "table-imd",
        "By deprivation (IMD quintile; 1 = most deprived)",
        &[
            "IMD quintile",
            "people",
            "mean risk",
            "expected admissions",
            "per 1,000 people",
        ],
    );
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by_key(|&i| {
        (
            labels[i] == crate::products::summaries::TOTAL_LABEL,
            labels[i] == crate::products::summaries::UNKNOWN_LABEL,
            labels[i].clone(),
        )
    });
    for i in order {
        let label = match labels[i].as_str() {
            "1" => "1 (most deprived)".to_string(),
            "5" => "5 (least deprived)".to_string(),
            crate::products::summaries::TOTAL_LABEL => "Total of published rows".to_string(),
            other => humanise(other),
        };
        let rate = match (expected[i].value(), population[i].value()) {
            (Some(e), Some(n)) if n > 0.0 => Td::num(format_number((1000.0 * e / n).round())),
            _ => Td::num("–"),
        };
        table.row(vec![
            Td::text(label),
            show.td(population[i]),
            match mean[i] {
                Figure::Number(v) => Td::num(format_percent(v)),
                f => show.value_td(f),
            },
            show.value_td(expected[i]),
            rate,
        ]);
    }
    Ok(table)
}
