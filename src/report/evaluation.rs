//! The evaluation report: how well a model ranks and calibrates, overall and
//! in subgroups, as one self-contained HTML page.
//!
//! ROC and precision–recall curves come from the evaluation's `roc` / `pr`
//! point lists when it has them (looked up by name in its serialised form,
//! overall or under `overall`, so they appear as soon as `Evaluation` gains
//! them); otherwise they are reconstructed from the calibration deciles
//! (11 points, marked as approximate).
//!
//! Every figure comes from an evaluation that passed disclosure control
//! (`model::published`): counts rounded, withheld counts shown as
//! "withheld" (never 0), rates computed from the published counts. An
//! evaluation recorded before that (an older model file) is marked as exact
//! in the footer, and its counts of 1–7 are still shown as "≤7".

use std::path::Path;

use super::charts::{self, CalibrationPoint, Curve};
use super::html::{Page, Status, Table, Td, callout, columns, figure, note, p, tile, tiles};
use super::{ReportError, format_count, format_percent, write_atomically};
use crate::governance::disclosure::DisclosureProfile;
use crate::model::evaluate::{Evaluation, Metrics};

/// Ids of the evaluation report's sections.
pub const SECTION_IDS: &[&str] = &[
    "overview",
    "discrimination",
    "calibration",
    "top-shares",
    "subgroups",
    "oracle",
];

/// Ids of its charts.
pub const CHART_IDS: &[&str] = &["chart-roc", "chart-pr", "chart-calibration"];

/// Ids of its tables.
pub const TABLE_IDS: &[&str] = &[
    "table-deciles",
    "table-top-shares",
    "table-subgroups",
    "table-oracle",
];

/// Writes the evaluation report to `path` (e.g. `evaluation.html`).
pub fn write_evaluation_report(evaluation: &Evaluation, path: &Path) -> Result<(), ReportError> {
    let html = render_evaluation_report(evaluation, path)?;
    write_atomically(path, &html)
}

/// A published count; a withheld one reads "withheld", never 0.
fn count(n: Option<u64>) -> Td {
    let t = DisclosureProfile::default().redact_at_or_below();
    match n {
        None => Td::redacted("withheld"),
        // Only in an evaluation recorded before disclosure control.
        Some(n) if (1..=t).contains(&n) => Td::redacted(format!("≤{t}")),
        Some(n) => Td::num(format_count(n, false)),
    }
}

/// A count in running text.
fn count_text(n: Option<u64>) -> String {
    let t = DisclosureProfile::default().redact_at_or_below();
    match n {
        None => "withheld".into(),
        Some(n) if (1..=t).contains(&n) => format!("≤{t}"),
        Some(n) => format_count(n, false),
    }
}

fn opt(v: Option<f64>, digits: usize) -> Td {
    match v {
        Some(v) if v.is_finite() => {
            let text = format!("{v:.digits$}");
            // No "-0.00": a value that rounds to zero has no sign.
            let zero = text
                .trim_start_matches('-')
                .chars()
                .all(|c| c == '0' || c == '.');
            Td::num(if zero {
                text.trim_start_matches('-').to_string()
            } else {
                text
            })
        }
        _ => Td::num("–"),
    }
}

/// A rate of a table row that always has one unless disclosure control
/// withheld it.
fn withheld_pct(v: Option<f64>) -> Td {
    match v {
        Some(v) if v.is_finite() => Td::num(format_percent(v)),
        _ => Td::redacted("withheld"),
    }
}

fn pct(v: Option<f64>) -> Td {
    match v {
        Some(v) if v.is_finite() => Td::num(format_percent(v)),
        _ => Td::num("–"),
    }
}

/// A named point list from the serialised evaluation (`key` at the top
/// level or under `overall`).
fn points(value: &serde_json::Value, key: &str) -> Option<Vec<(f64, f64)>> {
    let list = value
        .get(key)
        .or_else(|| value.get("overall").and_then(|o| o.get(key)))?;
    let out: Vec<(f64, f64)> = list
        .as_array()?
        .iter()
        .filter_map(|p| {
            let pair = p.as_array()?;
            Some((pair.first()?.as_f64()?, pair.get(1)?.as_f64()?))
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

/// (x, y) points of a curve.
type Points = Vec<(f64, f64)>;

/// ROC and PR points at the decile boundaries, highest risk first.
fn curves_from_deciles(m: &Metrics) -> (Points, Points) {
    // A withheld decile count leaves no curve to draw. The totals are the
    // sums of the published (rounded) decile counts, so the curve ends at (1, 1).
    if m.deciles
        .iter()
        .any(|d| d.n.is_none() || d.events.is_none())
    {
        return (Vec::new(), Vec::new());
    }
    let n: u64 = m.deciles.iter().filter_map(|d| d.n).sum();
    let events: u64 = m.deciles.iter().filter_map(|d| d.events).sum();
    let non_events = n.saturating_sub(events) as f64;
    let events = events as f64;
    if events == 0.0 {
        return (Vec::new(), Vec::new());
    }
    let mut roc = vec![(0.0, 0.0)];
    let mut pr = Vec::new();
    let (mut tp, mut fp) = (0u64, 0u64);
    for d in m.deciles.iter().rev() {
        let (dn, de) = (d.n.unwrap_or(0), d.events.unwrap_or(0));
        tp += de;
        fp += dn.saturating_sub(de);
        if non_events > 0.0 {
            roc.push((fp as f64 / non_events, tp as f64 / events));
        }
        if tp + fp > 0 {
            pr.push((tp as f64 / events, tp as f64 / (tp + fp) as f64));
        }
    }
    if non_events == 0.0 {
        roc.clear();
    }
    (roc, pr)
}

/// The curves to draw, and whether each comes from the evaluation's own points
/// (exact) or from the decile boundaries (approximate).
struct Curves {
    roc: Points,
    roc_exact: bool,
    pr: Points,
    pr_exact: bool,
}

impl Curves {
    fn of(e: &Evaluation, path: &Path) -> Result<Curves, ReportError> {
        let value = serde_json::to_value(e).map_err(|err| ReportError::Invalid {
            path: path.to_path_buf(),
            problem: format!("serialising the evaluation: {err}"),
        })?;
        let (decile_roc, decile_pr) = curves_from_deciles(&e.overall);
        let (roc, roc_exact) = match points(&value, "roc") {
            Some(p) => (p, true),
            None => (decile_roc, false),
        };
        let (pr, pr_exact) = match points(&value, "pr") {
            Some(p) => (p, true),
            None => (decile_pr, false),
        };
        Ok(Curves {
            roc,
            roc_exact,
            pr,
            pr_exact,
        })
    }
}

/// The overall AUC to three decimals, or "–".
fn auc_text(m: &Metrics) -> String {
    m.auc.map_or("–".into(), |a| format!("{:.3}", a.auc))
}

/// Renders the evaluation report; `path` is where it will be written (for errors).
pub(crate) fn render_evaluation_report(e: &Evaluation, path: &Path) -> Result<String, ReportError> {
    let m = &e.overall;
    let curves = Curves::of(e, path)?;
    let synthetic = e.context.synthetic_data.unwrap_or(e.oracle_auc.is_some());
    let model = e.context.model_id.clone().unwrap_or_else(|| "model".into());
    let outcome = e
        .context
        .outcome
        .clone()
        .unwrap_or_else(|| "emergency admission in 12 months".into());

    let mut page = Page {
        title: format!("Model evaluation — {model}"),
        subtitle: [
            Some(format!("outcome: {outcome}")),
            e.context.index_date.map(|d| format!("index date {d}")),
            e.context.data.clone().map(|d| format!("data: {d}")),
            synthetic.then(|| "synthetic data".to_string()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · "),
        ..Page::default()
    };
    page.lead = headline(e);
    page.section("overview", "Overview", overview(m));
    page.section(
        "discrimination",
        "Discrimination: ROC and precision–recall",
        discrimination(m, &curves, path)?,
    );
    page.section("calibration", "Calibration", calibration(m, path)?);
    page.section(
        "top-shares",
        "PPV and sensitivity at the top of the list",
        top_shares(m),
    );
    page.section("subgroups", "Fairness: subgroups", subgroups(e));
    page.section("oracle", "Oracle comparison", oracle(e));
    page.footer = footer(e, &curves);
    Ok(page.render())
}

/// The headline tiles and the subgroups flagged.
fn headline(e: &Evaluation) -> String {
    let m = &e.overall;
    let auc_text = auc_text(m);
    let auc_ci = m
        .auc
        .and_then(|a| a.lower.zip(a.upper))
        .map_or("95% CI not available".into(), |(l, u)| {
            format!("95% CI {l:.3}–{u:.3} (DeLong)")
        });
    let flagged: Vec<String> = e
        .flags()
        .map(|(a, g, f)| {
            format!(
                "{a} = {g}: {} ({}; limit {})",
                f.kind.label(),
                f.value
                    .map_or("value withheld".into(), |v| format!("{v:.3}")),
                f.limit
            )
        })
        .collect();
    let flagged_groups = e.subgroups.iter().filter(|s| !s.flags.is_empty()).count();
    let slope = m.calibration.slope;
    let slope_status = match slope {
        Some(s) if (0.8..=1.2).contains(&s) => Status::Good,
        Some(_) => Status::Warn,
        None => Status::Neutral,
    };
    let oe_status = match m.observed_expected {
        Some(r) if (0.9..=1.1).contains(&r) => Status::Good,
        Some(_) => Status::Warn,
        None => Status::Neutral,
    };
    let lead = tiles(&[
        tile(
            "Discrimination (AUC)",
            &auc_text,
            &auc_ci,
            match m.auc.map(|a| a.auc) {
                Some(a) if a >= 0.7 => Status::Good,
                Some(_) => Status::Warn,
                None => Status::Neutral,
            },
        ),
        tile(
            "Observed / expected",
            &m.observed_expected
                .map_or("–".into(), |v| format!("{v:.2}")),
            "1.00 = as many admissions as predicted",
            oe_status,
        ),
        tile(
            "Calibration slope",
            &slope.map_or("–".into(), |v| format!("{v:.2}")),
            "1.00 = risks neither too extreme nor too flat",
            slope_status,
        ),
        tile(
            "People / with outcome",
            &format!("{} / {}", count_text(m.n), count_text(m.events)),
            &format!(
                "prevalence {}",
                m.prevalence.map_or("–".into(), format_percent)
            ),
            Status::Neutral,
        ),
        tile(
            "Subgroups flagged",
            &flagged_groups.to_string(),
            &format!(
                "{} flag(s) in {} estimable subgroup(s)",
                flagged.len(),
                e.subgroups.iter().filter(|s| s.metrics.is_some()).count()
            ),
            if flagged.is_empty() {
                Status::Good
            } else {
                Status::Warn
            },
        ),
    ]);
    let flags_box = if flagged.is_empty() {
        callout(
            Status::Good,
            "No subgroup is flagged: discrimination and calibration are within the limits in every estimable subgroup.",
            &[],
        )
    } else {
        const SHOWN: usize = 6;
        let mut items: Vec<String> = flagged.iter().take(SHOWN).cloned().collect();
        if flagged.len() > SHOWN {
            items.push(format!(
                "… and {} more: see the subgroup table below",
                flagged.len() - SHOWN
            ));
        }
        callout(
            Status::Warn,
            &format!(
                "{flagged_groups} subgroup(s) flagged: the model ranks or calibrates worse there than overall.",
            ),
            &items,
        )
    };
    format!("{lead}{flags_box}")
}

/// The overall metrics, each with what it means.
fn overview(m: &Metrics) -> String {
    let mut overview = Table::new(
        "table-overview",
        "Overall metrics",
        &["metric", "value", "meaning"],
    );
    let rows: [(&str, Td, &str); 7] = [
        (
            "AUC (ROC)",
            opt(m.auc.map(|a| a.auc), 3),
            "chance that a random person with the outcome is ranked above one without",
        ),
        (
            "Average precision",
            opt(m.auprc, 3),
            "area under the precision–recall curve",
        ),
        (
            "Brier score",
            opt(m.brier, 4),
            "mean squared error of the risks (lower is better)",
        ),
        (
            "Calibration intercept",
            opt(m.calibration.intercept, 3),
            "0 = right on average (log-odds)",
        ),
        (
            "Calibration slope",
            opt(m.calibration.slope, 3),
            "1 = right spread of risks",
        ),
        (
            "Mean predicted risk",
            pct(m.mean_risk),
            "average risk given by the model",
        ),
        (
            "Observed rate",
            pct(m.prevalence),
            "share of people who had the outcome",
        ),
    ];
    // People counted but their outcome count withheld: every figure that
    // depends on the outcome was withheld with it, and says so.
    let outcome_withheld = m.n.is_some_and(|n| n > 0) && m.events.is_none();
    for (name, v, meaning) in rows {
        let depends_on_outcome = name != "Mean predicted risk";
        let v = if outcome_withheld && depends_on_outcome && v.text == "–" {
            Td::redacted("withheld")
        } else {
            v
        };
        overview.row(vec![Td::text(name), v, Td::text(meaning)]);
    }
    format!(
        "{}{}",
        p(
            "How well the model separates people who went on to have an emergency admission from those who did not (discrimination), and whether its risks match what happened (calibration)."
        ),
        overview.render()
    )
}

/// ROC and precision–recall curves side by side.
fn discrimination(m: &Metrics, curves: &Curves, path: &Path) -> Result<String, ReportError> {
    let chart_err = ReportError::chart(path);
    let roc_chart = charts::unit_curves(
        "chart-roc",
        "ROC curve",
        &[Curve {
            name: format!("model (AUC {})", auc_text(m)),
            points: curves.roc.clone(),
            steps: false,
        }],
        Some((((0.0, 0.0), (1.0, 1.0)), "chance".into())),
        "false-positive rate (1 − specificity)",
        "sensitivity",
        charts::SeriesLabelPosition::LowerRight,
    )
    .map_err(&chart_err)?;
    let prevalence = m.prevalence.unwrap_or(0.0);
    let pr_chart = charts::unit_curves(
        "chart-pr",
        "Precision–recall curve",
        &[Curve {
            name: format!(
                "model (AP {})",
                m.auprc.map_or("–".into(), |v| format!("{v:.3}"))
            ),
            points: curves.pr.clone(),
            steps: curves.pr_exact,
        }],
        Some((((0.0, prevalence), (1.0, prevalence)), "prevalence".into())),
        "recall (sensitivity)",
        "precision (PPV)",
        charts::SeriesLabelPosition::UpperRight,
    )
    .map_err(&chart_err)?;
    let approx = "Approximate: drawn through the ten decile boundaries, because this evaluation carries no curve points.";
    Ok(columns(&[
        figure(
            "chart-roc",
            &roc_chart,
            &format!(
                "ROC curve: each point is a risk cut-off; the further above the diagonal, the better. {}",
                if curves.roc_exact { "" } else { approx }
            ),
        ),
        figure(
            "chart-pr",
            &pr_chart,
            &format!(
                "Precision–recall: of the people flagged at each cut-off, the share who had the outcome. The dashed line is the base rate. {}",
                if curves.pr_exact { "" } else { approx }
            ),
        ),
    ]))
}

/// Observed against predicted risk by decile, as a chart and a table.
fn calibration(m: &Metrics, path: &Path) -> Result<String, ReportError> {
    let chart_err = ReportError::chart(path);
    // A decile whose rate is withheld has no point.
    let cal_points: Vec<CalibrationPoint> = m
        .deciles
        .iter()
        .filter_map(|d| {
            Some(CalibrationPoint {
                predicted: d.mean_risk?,
                observed: d.observed?,
                lower: d.observed_lower?,
                upper: d.observed_upper?,
            })
        })
        .collect();
    let cal_chart = charts::calibration(&cal_points).map_err(&chart_err)?;
    let mut deciles = Table::new(
        "table-deciles",
        "Calibration by decile of predicted risk (10 = highest)",
        &[
            "decile",
            "people",
            "with outcome",
            "mean predicted",
            "observed",
            "95% CI",
        ],
    );
    for d in &m.deciles {
        deciles.row(vec![
            Td::num(d.decile.to_string()),
            count(d.n),
            count(d.events),
            withheld_pct(d.mean_risk),
            withheld_pct(d.observed),
            match (d.observed_lower, d.observed_upper) {
                (Some(lo), Some(hi)) => {
                    Td::num(format!("{} – {}", format_percent(lo), format_percent(hi)))
                }
                _ => Td::redacted("withheld"),
            },
        ]);
    }
    Ok(format!(
        "{}{}",
        p(
            "People are split into ten equal groups by predicted risk. In a well-calibrated model each group's observed rate (dot, with 95% interval) sits on the dashed line."
        ),
        columns(&[
            figure(
                "chart-calibration",
                &cal_chart,
                "Observed against predicted risk, by decile (Wilson 95% intervals)."
            ),
            deciles.render()
        ])
    ))
}

/// PPV and sensitivity when the top share of people is flagged.
fn top_shares(m: &Metrics) -> String {
    let mut top = Table::new(
        "table-top-shares",
        "Flagging the highest-risk people",
        &[
            "top share",
            "people flagged",
            "risk cut-off",
            "PPV",
            "sensitivity",
        ],
    );
    for t in &m.top {
        // A figure missing because its count was withheld reads "withheld".
        let rate = |v: Option<f64>, withheld: bool| match v {
            None if withheld => Td::redacted("withheld"),
            v => pct(v),
        };
        let tp_withheld = t.flagged.is_none() || t.true_positives.is_none();
        top.row(vec![
            Td::text(format!("top {}", format_percent(t.share))),
            count(t.flagged),
            rate(t.threshold, t.flagged.is_none()),
            rate(t.ppv, tp_withheld),
            rate(t.sensitivity, tp_withheld),
        ]);
    }
    format!(
        "{}{}",
        p(
            "If care teams review the top 0.5%, 5% or 20% of people by risk (the very-high, high and rising tiers together): PPV is the share of those reviewed who go on to have an emergency admission; sensitivity is the share of all admissions that come from people reviewed."
        ),
        top.render()
    )
}

/// Every subgroup's metrics, flagged rows highlighted, with the limits used.
fn subgroups(e: &Evaluation) -> String {
    let mut subgroups = Table::new(
        "table-subgroups",
        "Performance by subgroup (flagged rows highlighted)",
        &[
            "attribute",
            "group",
            "people",
            "with outcome",
            "AUC",
            "calibration slope",
            "calibration intercept",
            "observed / expected",
            "oracle AUC",
            "flags",
        ],
    );
    for s in &e.subgroups {
        let flags = if let Some(reason) = &s.not_estimable {
            format!("not estimable: {reason}")
        } else {
            s.flags
                .iter()
                .map(|f| {
                    format!(
                        "{} ({}; limit {})",
                        f.kind.label(),
                        f.value
                            .map_or("value withheld".into(), |v| format!("{v:.3}")),
                        f.limit
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let metrics = s.metrics.as_ref();
        subgroups.highlighted_row(
            vec![
                Td::text(&s.attribute),
                Td::text(&s.group),
                count(s.n),
                count(s.events),
                opt(metrics.and_then(|m| m.auc.map(|a| a.auc)), 3),
                opt(metrics.and_then(|m| m.calibration.slope), 2),
                opt(metrics.and_then(|m| m.calibration.intercept), 2),
                opt(metrics.and_then(|m| m.observed_expected), 2),
                opt(s.oracle_auc, 3),
                Td::text(flags),
            ],
            !s.flags.is_empty(),
        );
    }
    subgroups.empty = "No subgroups were evaluated.".into();
    let limits = &e.options.limits;
    format!(
        "{}{}{}",
        p(
            "The same measures within each group of people. A row is flagged when the model ranks or calibrates noticeably worse there than overall — a prompt to investigate before relying on the list for that group."
        ),
        subgroups.render(),
        note(&format!(
            "Limits: |AUC − overall| ≤ {}, calibration slope {}–{}, |intercept| ≤ {}. Groups with fewer than {} people or {} events are not estimated.",
            limits.auc_difference,
            limits.slope_min,
            limits.slope_max,
            limits.intercept_abs,
            limits.min_people,
            limits.min_events
        ))
    )
}

/// On synthetic data, the model against the AUC of the true risks.
fn oracle(e: &Evaluation) -> String {
    let m = &e.overall;
    let mut oracle = Table::new(
        "table-oracle",
        "Model against the best possible model (true risks)",
        &["", "AUC", "95% CI"],
    );
    let ci = |a: Option<crate::model::metrics::AucEstimate>| match a
        .and_then(|a| a.lower.zip(a.upper))
    {
        Some((l, u)) => Td::num(format!("{l:.3} – {u:.3}")),
        None => Td::num("–"),
    };
    oracle.row(vec![
        Td::text("this model"),
        opt(m.auc.map(|a| a.auc), 3),
        ci(m.auc),
    ]);
    match e.oracle_auc {
        Some(o) => {
            oracle.row(vec![
                Td::text("oracle (true risks)"),
                Td::num(format!("{:.3}", o.auc)),
                ci(Some(o)),
            ]);
            if let Some(r) = e.record_oracle_auc {
                oracle.row(vec![
                    Td::text("record oracle (true risks without the unobserved person effect)"),
                    Td::num(format!("{:.3}", r.auc)),
                    ci(Some(r)),
                ]);
            }
            let gap = m.auc.map(|a| o.auc - a.auc);
            format!(
                "{}{}",
                p(&format!(
                    "On synthetic data the true risk of every person is known. Ranking people by it gives the best AUC any model could reach on these outcomes: {:.3}. This model reaches {}: {}.",
                    o.auc,
                    auc_text(m),
                    gap.map_or("–".into(), |g| format!(
                        "{g:.3} below that ceiling, capturing {} of the discrimination achievable above chance (AUC 0.5)",
                        format_percent(
                            ((m.auc.map_or(0.5, |a| a.auc) - 0.5) / (o.auc - 0.5)).clamp(0.0, 1.5)
                        )
                    ))
                )),
                oracle.render()
            )
        }
        None => {
            oracle.row(vec![
                Td::text("oracle (true risks)"),
                Td::num("–"),
                Td::num("–"),
            ]);
            format!(
                "{}{}",
                note(
                    "This evaluation carries no true risks, so there is no oracle to compare with. The comparison needs synthetic data, where every person's true risk is known."
                ),
                oracle.render()
            )
        }
    }
}

/// Where the curves came from, and what the counts on the page are.
fn footer(e: &Evaluation, curves: &Curves) -> String {
    let counts = match &e.disclosure {
        Some(d) => format!(
            "Every figure passed disclosure control ({}): counts of 1–{} people are withheld (“withheld”, never 0) and other counts rounded ({}); rates, intervals and curves are computed from the published counts; any figure describing 1–{} people is withheld.",
            d.profile, d.redact_at_or_below, d.rounding, d.redact_at_or_below
        ),
        None => "Exact counts: this evaluation was recorded before strata applied disclosure control (counts of 1–7 are shown as “≤7”, but rates are exact); do not share this page.".into(),
    };
    let withheld: Vec<String> =
        std::iter::once(("overall".to_string(), e.overall.withheld.as_deref()))
            .chain(e.subgroups.iter().map(|s| {
                (
                    format!("{} = {}", s.attribute, s.group),
                    s.withheld.as_deref(),
                )
            }))
            .filter_map(|(what, note)| note.map(|n| format!("{what}: {n}")))
            .collect();
    let withheld = if withheld.is_empty() {
        String::new()
    } else {
        format!(" Withheld — {}.", withheld.join("; "))
    };
    super::html::p(&format!(
        "Generated by strata {}. {counts}{withheld} Curves {}.",
        crate::VERSION,
        if curves.roc_exact && curves.pr_exact {
            "use the evaluation's own ROC and precision–recall points"
        } else {
            "are approximated from the calibration deciles"
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::evaluate::{EvaluateOptions, EvaluationContext, evaluate};
    use crate::model::fairness::GroupLabels;

    pub(crate) fn example() -> Evaluation {
        let n = 3000;
        let risk: Vec<f64> = (0..n)
            .map(|i| 0.01 + 0.5 * (i as f64 / n as f64).powi(3))
            .collect();
        let outcome: Vec<bool> = (0..n)
            .map(|i| (((i as u64 * 2_654_435_761) % 10_007) as f64 / 10_007.0) < risk[i])
            .collect();
        let groups = [
            GroupLabels {
                attribute: "sex".into(),
                labels: (0..n)
                    .map(|i| Some(if i % 3 == 0 { "F<&>" } else { "M" }.to_string()))
                    .collect(),
            },
            GroupLabels {
                attribute: "tiny".into(),
                labels: (0..n)
                    .map(|i| Some(if i < 50 { "few" } else { "many" }.to_string()))
                    .collect(),
            },
        ];
        let oracle: Vec<f64> = risk.clone();
        let shrunk: Vec<f64> = risk
            .iter()
            .enumerate()
            .map(|(i, r)| if i % 3 == 0 { 0.05 + 0.3 * r } else { *r })
            .collect();
        evaluate(
            &shrunk,
            &outcome,
            &groups,
            Some(&oracle),
            &EvaluateOptions::default(),
            &DisclosureProfile::default(),
        )
        .expect("valid")
        .with_context(EvaluationContext {
            model_id: Some("emergency_admission-test".into()),
            synthetic_data: Some(true),
            ..EvaluationContext::default()
        })
    }

    #[test]
    fn every_section_chart_and_table_is_present() {
        let e = example();
        let html = render_evaluation_report(&e, Path::new("eval.html")).expect("report");
        for id in SECTION_IDS {
            assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
        }
        for id in CHART_IDS.iter().chain(TABLE_IDS) {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(html.contains("F&lt;&amp;&gt;") && !html.contains("F<&>"));
        assert!(html.contains("not estimable"));
        assert!(
            !html.contains("Approximate"),
            "the evaluation carries exact curve points, so no approximate curve is drawn"
        );
    }

    #[test]
    fn flagged_subgroups_are_highlighted() {
        let e = example();
        assert!(
            e.flags().next().is_some(),
            "the example has a flagged group"
        );
        let html = render_evaluation_report(&e, Path::new("eval.html")).expect("report");
        assert!(html.contains("<tr class=\"flagged\">"));
        assert!(html.contains("subgroup(s) flagged"));
    }

    #[test]
    fn curve_points_in_the_evaluation_are_used_when_present() {
        let e = example();
        let mut v = serde_json::to_value(&e).expect("json");
        assert!(points(&v, "roc").is_some(), "evaluate() stores ROC points");
        v["overall"]["roc"] = serde_json::json!([]);
        assert!(
            points(&v, "roc").is_none(),
            "an empty curve falls back to the deciles"
        );
        v["overall"]["roc"] = serde_json::json!([[0.0, 0.0], [0.2, 0.7], [1.0, 1.0]]);
        assert_eq!(
            points(&v, "roc"),
            Some(vec![(0.0, 0.0), (0.2, 0.7), (1.0, 1.0)])
        );
        // The fallback serves older evaluations, whose decile counts are all
        // there: 1,000 people, every fifth with the outcome, 10 deciles.
        let risk: Vec<f64> = (0..1000).map(|i| f64::from(i) / 1000.0).collect();
        let outcome: Vec<bool> = (0..1000).map(|i| i % 5 == 0).collect();
        let old = crate::model::evaluate::evaluate_exact(
            &risk,
            &outcome,
            &[],
            None,
            &EvaluateOptions::default(),
        )
        .expect("valid");
        let (roc, pr) = curves_from_deciles(&old.overall);
        assert_eq!(roc.first(), Some(&(0.0, 0.0)));
        assert_eq!(roc.last(), Some(&(1.0, 1.0)));
        assert_eq!(pr.len(), old.overall.deciles.len());
        // A withheld decile count leaves no approximate curve rather than a wrong one.
        let (roc, _) = curves_from_deciles(&e.overall);
        if e.overall.deciles.iter().any(|d| d.events.is_none()) {
            assert!(roc.is_empty());
        }
    }

    #[test]
    fn an_empty_evaluation_still_renders() {
        let e = evaluate(
            &[],
            &[],
            &[],
            None,
            &EvaluateOptions::default(),
            &DisclosureProfile::default(),
        )
        .expect("valid");
        let html = render_evaluation_report(&e, Path::new("eval.html")).expect("report");
        assert!(html.contains("id=\"chart-roc\"") && html.contains("No subgroups"));
    }

    /// Renders an evaluation JSON of `strata evaluate`: until the CLI writes
    /// HTML itself, `STRATA_EVALUATION_JSON=out/evaluation.json cargo test
    /// --lib report::evaluation::tests::report_of_an_evaluation_file -- --ignored`
    /// writes `out/evaluation.html` beside it.
    #[test]
    #[ignore = "needs an evaluation JSON in STRATA_EVALUATION_JSON"]
    fn report_of_an_evaluation_file() {
        let json = std::env::var("STRATA_EVALUATION_JSON").expect("STRATA_EVALUATION_JSON");
        let text = std::fs::read_to_string(&json).expect("read");
        let e: Evaluation = serde_json::from_str(&text).expect("an Evaluation");
        let path = Path::new(&json).with_extension("html");
        write_evaluation_report(&e, &path).expect("written");
        eprintln!("wrote {}", path.display());
    }

    #[test]
    fn few_events_read_withheld_not_a_dash_or_zero() {
        // 200 people, 4 with the outcome: the outcome count and everything
        // built on it is withheld.
        let risk: Vec<f64> = (0..200).map(|i| f64::from(i) / 200.0).collect();
        let outcome: Vec<bool> = (0..200).map(|i| i >= 196).collect();
        let e = evaluate(
            &risk,
            &outcome,
            &[],
            None,
            &EvaluateOptions::default(),
            &DisclosureProfile::default(),
        )
        .expect("valid");
        let html = render_evaluation_report(&e, Path::new("eval.html")).expect("report");
        let start = html.find("id=\"table-overview\"").expect("overview");
        let table = &html[start..start + html[start..].find("</table>").expect("end")];
        assert!(table.contains("withheld"), "{table}");
        assert!(html.contains("200 / withheld"), "people tile");
        // "0 of 20 had it" in nine deciles would place all 4 in the tenth.
        let start = html.find("id=\"table-deciles\"").expect("deciles");
        let deciles = &html[start..start + html[start..].find("</table>").expect("end")];
        assert!(
            !deciles.contains(">0<") && !deciles.contains(">0%<"),
            "{deciles}"
        );
    }

    #[test]
    fn the_report_is_written_to_the_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("evaluation.html");
        write_evaluation_report(&example(), &path).expect("written");
        assert!(
            std::fs::read_to_string(&path)
                .expect("read")
                .starts_with("<!DOCTYPE html>")
        );
    }
}
