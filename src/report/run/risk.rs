//! Sections about the risk itself: the pyramid of tiers, tiers against
//! segments, and the distribution of predicted risk.

use super::figures::Population;
use super::summary::Summary;
use super::text::{humanise, risk_at_logit, short_percent};
use super::{Context, Figure};
use crate::report::charts::{self, Bar, Column, PyramidBand};
use crate::report::html::{Table, Td, columns, figure, note, p};
use crate::report::{ReportError, format_percent};

/// The four risk tiers as a pyramid and a table, from the planning
/// population's published figures (everyone scored in runs without summaries).
pub(super) fn pyramid(ctx: &Context) -> Result<String, ReportError> {
    let (show, counts) = (ctx.show, &ctx.counts);
    let chart_err = ctx.chart_err();
    let people_value = counts.people.value();
    let share_text = |f: Figure| match (f.value(), people_value) {
        (Some(v), Some(total)) if total > 0.0 => format_percent(v / total),
        _ => "–".into(),
    };
    let bands: Vec<PyramidBand> = counts
        .tiers
        .iter()
        .map(|(tier, f)| PyramidBand {
            name: humanise(tier),
            definition: format!("{} · {} of people", ctx.definition(tier), share_text(*f)),
            people: show.people(*f),
        })
        .collect();
    let pyramid = charts::pyramid(&bands).map_err(&chart_err)?;
    let caption = format!("People per risk tier ({})", counts.population.words());
    let mut tier_table = Table::new(
        "table-tiers",
        &caption,
        &["tier", "definition", "people", "share"],
    );
    for (tier, f) in &counts.tiers {
        tier_table.row(vec![
            Td::text(humanise(tier)),
            Td::text(ctx.definition(tier)),
            show.td(*f),
            Td::num(share_text(*f)),
        ]);
    }
    tier_table.row(vec![
        Td::text("All"),
        Td::text(""),
        show.td(counts.people),
        Td::num(if people_value.is_some() {
            "100%"
        } else {
            "–"
        }),
    ]);
    Ok(format!(
        "{}{}{}",
        p(
            "Everyone scored is ranked by predicted risk and placed in one of four tiers. The very-high and high tiers are the people care teams are asked to review; rising-risk people are candidates for prevention."
        ),
        columns(&[
            figure(
                "chart-risk-pyramid",
                &pyramid,
                "Bands are drawn equal in height to stay readable; the labels give the real numbers."
            ),
            tier_table.render()
        ]),
        note(&format!(
            "Counts are the published figures of the {}: small counts are withheld and the rest rounded, as in every published summary; shares are of the published counts.{}",
            counts.population.words(),
            if counts.population == Population::Planning {
                " People with a national data opt-out or a Type 1 objection are not counted."
            } else {
                ""
            }
        ))
    ))
}

/// People per segment, and segments against tiers.
pub(super) fn tiers_and_segments(ctx: &Context) -> Result<String, ReportError> {
    let (show, counts) = (ctx.show, &ctx.counts);
    let chart_err = ctx.chart_err();
    let segment_bars: Vec<Bar> = counts
        .segments
        .iter()
        .map(|(s, f)| Bar {
            label: humanise(s),
            value: f.value(),
            interval: None,
            text: show.text(*f),
        })
        .collect();
    let segments_chart = charts::horizontal_bars(
        "chart-segments",
        "People per population segment",
        &segment_bars,
        "people",
        charts::TIER_COLOURS[0],
        600,
    )
    .map_err(&chart_err)?;
    let tier_keys: Vec<String> = counts.tiers.iter().map(|(t, _)| t.clone()).collect();
    let segment_keys: Vec<String> = counts.segments.iter().map(|(s, _)| s.clone()).collect();
    let cross_tab = match ctx.summary("segment") {
        Some(s) if tier_keys.iter().all(|t| s.has(&format!("tier_{t}"))) => {
            cross_tab(ctx, s, &tier_keys, &segment_keys)?
        }
        _ => side_by_side(ctx, &tier_keys, &segment_keys)?,
    };
    Ok(format!(
        "{}{}",
        p(
            "Segments group people by their main health need (Bridges to Health), whatever their risk; a person is in exactly one segment."
        ),
        columns(&[
            figure(
                "chart-segments",
                &segments_chart,
                &format!(
                    "People per segment, {}. Grey stubs are numbers withheld because they are small.",
                    counts.population.words()
                )
            ),
            cross_tab
        ])
    ))
}

/// Segment by tier from `summaries/by_segment.parquet` (planning population).
fn cross_tab(
    ctx: &Context,
    s: &Summary,
    tier_keys: &[String],
    segment_keys: &[String],
) -> Result<String, ReportError> {
    let show = ctx.show;
    let mut headers = vec!["segment".to_string(), "people".to_string()];
    headers.extend(tier_keys.iter().map(|t| humanise(t)));
    let headers_ref: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut table = Table::new(
        "table-tier-segment",
        "People by segment and risk tier (planning population)",
        &headers_ref,
    );
    let labels = s.labels()?;
    let population = s.figures("population", true)?;
    let tiers: Vec<Vec<Figure>> = tier_keys
        .iter()
        .map(|t| s.figures(&format!("tier_{t}"), true))
        .collect::<Result<_, _>>()?;
    // The all-groups row is left out: as published it sums only the
    // cells shown (a withheld cell counts 0), so it would read, say,
    // 0 very-high-risk people. The pyramid above gives the totals.
    let mut order: Vec<usize> = (0..labels.len())
        .filter(|&i| labels[i] != crate::products::summaries::TOTAL_LABEL)
        .collect();
    order.sort_by_key(|&i| {
        let pos = segment_keys.iter().position(|k| *k == labels[i]);
        (
            labels[i] == crate::products::summaries::TOTAL_LABEL,
            pos.unwrap_or(usize::MAX),
        )
    });
    for i in order {
        let mut cells = vec![Td::text(humanise(&labels[i])), show.td(population[i])];
        cells.extend(tiers.iter().map(|col| show.td(col[i])));
        table.row(cells);
    }
    Ok(format!(
        "{}{}",
        table.render(),
        note(
            "From summaries/by_segment.parquet: the planning population (people with a national data opt-out or a Type 1 objection are not counted). Segments with nobody in them are not listed."
        )
    ))
}

/// Tiers and segments side by side from the planning-population totals, for
/// runs without a summary by segment.
fn side_by_side(
    ctx: &Context,
    tier_keys: &[String],
    segment_keys: &[String],
) -> Result<String, ReportError> {
    let show = ctx.show;
    // Side by side from the planning-population total row.
    let mut table = Table::new(
        "table-tier-segment",
        "Tiers and segments side by side (planning population)",
        &["risk tier", "people", "segment", "people"],
    );
    // The total row's cell of each tier and segment; missing without one.
    let total_row = |prefix: &str, keys: &[String]| -> Result<Vec<Figure>, ReportError> {
        match ctx.planning() {
            Some((s, row)) => keys
                .iter()
                .map(|k| s.figures(&format!("{prefix}{k}"), true).map(|v| v[row]))
                .collect(),
            None => Ok(vec![Figure::Missing; keys.len()]),
        }
    };
    let tier_figs = total_row("tier_", tier_keys)?;
    let segment_figs = total_row("segment_", segment_keys)?;
    for i in 0..tier_keys.len().max(segment_keys.len()) {
        let mut cells = Vec::new();
        match tier_keys.get(i) {
            Some(t) => {
                cells.push(Td::text(humanise(t)));
                cells.push(show.td(tier_figs[i]));
            }
            None => cells.extend([Td::text(""), Td::text("")]),
        }
        match segment_keys.get(i) {
            Some(k) => {
                cells.push(Td::text(humanise(k)));
                cells.push(show.td(segment_figs[i]));
            }
            None => cells.extend([Td::text(""), Td::text("")]),
        }
        table.row(cells);
    }
    Ok(format!(
        "{}{}",
        table.render(),
        note(
            "The planning population excludes people with a national data opt-out or a Type 1 objection. A cross-tabulation of tier by segment will appear here once the run writes summaries/by_segment.parquet."
        )
    ))
}

/// Each bin's share of people, from the published (protected) counts only:
/// published bin / published total. A withheld bin, or any bin when the
/// total is withheld, has no share (drawn as a grey stub), never 0.
pub(super) fn bin_shares(bins: &[Figure], total: Figure) -> Vec<Option<f64>> {
    bins.iter()
        .map(|f| match (*f, total.value()) {
            (Figure::Count(c), Some(t)) if t > 0.0 => Some(c as f64 / t),
            _ => None,
        })
        .collect()
}

/// Share of people by predicted risk, in bins of half a unit of log-odds.
pub(super) fn score_distribution(ctx: &Context) -> Result<String, ReportError> {
    let (manifest, counts) = (&ctx.manifest, &ctx.counts);
    let chart_err = ctx.chart_err();
    let bin_count = counts.bins.len();
    let non_empty: Vec<usize> = (0..bin_count)
        .filter(|&i| counts.bins[i] != Figure::Count(0))
        .collect();
    let (first, last) = match (non_empty.first(), non_empty.last()) {
        (Some(&a), Some(&b)) => (
            a.saturating_sub(1),
            (b + 1).min(bin_count.saturating_sub(1)),
        ),
        _ => (0, bin_count.saturating_sub(1)),
    };
    let bin_label = |i: usize| -> String {
        // Bin i ≥ 1 starts at logit −7 + 0.5·(i − 1); bin 0 is everything below −7.
        if i == 0 {
            format!("<{}", short_percent(risk_at_logit(-7.0)))
        } else if i + 1 == bin_count {
            format!(
                ">{}",
                short_percent(risk_at_logit(-7.0 + 0.5 * (i as f64 - 1.0)))
            )
        } else if i % 2 == 1 {
            short_percent(risk_at_logit(-7.0 + 0.5 * (i as f64 - 1.0)))
        } else {
            String::new()
        }
    };
    let shares = bin_shares(&counts.bins, counts.bins_total);
    let cols: Vec<Column> = (first..=last.max(first))
        .filter(|&i| i < bin_count)
        .map(|i| Column {
            label: bin_label(i),
            share: shares[i],
        })
        .collect();
    let distribution_body = if cols.is_empty() {
        note("The manifest has no score distribution.")
    } else {
        let chart = charts::columns(
            "chart-score-distribution",
            "Share of people by predicted risk",
            &cols,
            "predicted 12-month risk of emergency admission (bar starts at; log-odds scale)",
            "share of people",
        )
        .map_err(&chart_err)?;
        figure(
            "chart-score-distribution",
            &chart,
            &format!(
                "Each bar is half a unit of log-odds wide, so the scale stretches the rare high risks. Shares of the {}, taken from bin counts after disclosure control (withheld 1–{}, the rest rounded). Grey stubs are bins withheld because they hold few people.",
                if manifest.distribution.planning_risk_bins.is_empty() {
                    "everyone scored"
                } else {
                    counts.population.words()
                },
                ctx.show.threshold
            ),
        )
    };
    // The mean risk of the planning population as its summary publishes it
    // (everyone scored only in runs without summaries).
    let mean_risk = match ctx.planning() {
        Some((s, row)) => match s.figures("mean_risk", false)?[row] {
            Figure::Missing => Some(manifest.distribution.mean_risk),
            f => f.value(),
        },
        None => Some(manifest.distribution.mean_risk),
    };
    let mean_text = match mean_risk {
        Some(m) => format!(
            "The mean predicted risk is {}, so about {} in 100 people are expected to have an emergency admission in the next year.",
            format_percent(m),
            (m * 100.0).round()
        ),
        None => "The mean predicted risk is withheld by disclosure control.".into(),
    };
    Ok(format!(
        "{}{}",
        p(&format!(
            "Most people have a low predicted risk; a long tail has a high one. {mean_text}"
        )),
        distribution_body
    ))
}
