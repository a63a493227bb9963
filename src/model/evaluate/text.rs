//! The readable rendering of an [`Evaluation`]: aligned plain-text tables.

use std::fmt::Write as _;

use super::{Evaluation, Metrics, Subgroup};

/// Renders the whole evaluation.
pub(super) fn render(e: &Evaluation) -> String {
    let mut out = String::new();
    header(&mut out, e);
    overall(&mut out, e);
    out.push_str("\nCalibration by decile of risk (1 = lowest)\n");
    out.push_str(&indent(&deciles(&e.overall)));
    out.push_str("\nPPV and sensitivity at the top of risk (ties at the cut all flagged)\n");
    out.push_str(&indent(&top(&e.overall)));
    subgroups(&mut out, e);
    disclosure(&mut out, e);
    out
}

/// What the counts are: the disclosure control they passed, or a warning
/// that they are exact (an evaluation recorded before strata controlled them).
fn disclosure(out: &mut String, e: &Evaluation) {
    match &e.disclosure {
        Some(d) => {
            let _ = writeln!(
                out,
                "\nDisclosure control ({}): counts of 1–{} people are withheld (\"withheld\"), other counts rounded ({}); rates are computed from the published counts; figures describing 1–{} people are withheld.",
                d.profile, d.redact_at_or_below, d.rounding, d.redact_at_or_below
            );
        }
        None => out.push_str(
            "\nExact counts: this evaluation was recorded before strata applied disclosure control; do not share it.\n",
        ),
    }
    let notes: Vec<String> =
        std::iter::once(("overall".to_string(), e.overall.withheld.as_deref()))
            .chain(e.subgroups.iter().map(|s| {
                (
                    format!("{} = {}", s.attribute, s.group),
                    s.withheld.as_deref(),
                )
            }))
            .filter_map(|(what, note)| note.map(|n| format!("  {what}: {n}")))
            .collect();
    if !notes.is_empty() {
        out.push_str("Withheld:\n");
        for n in notes {
            let _ = writeln!(out, "{n}");
        }
    }
}

/// A published count, or `withheld` (never 0 for a withheld count).
pub(crate) fn count(v: Option<u64>) -> String {
    v.map_or_else(|| "withheld".into(), |n| n.to_string())
}

fn header(out: &mut String, e: &Evaluation) {
    let c = &e.context;
    let _ = writeln!(
        out,
        "Evaluation of {}",
        c.model_id.as_deref().unwrap_or("risks")
    );
    let mut facts = Vec::new();
    if let Some(o) = &c.outcome {
        facts.push(format!("outcome {o}"));
    }
    if let Some(d) = c.index_date {
        facts.push(format!("index date {d}"));
    }
    if let Some(d) = &c.data {
        facts.push(format!("data {d}"));
    }
    if !facts.is_empty() {
        let _ = writeln!(out, "{}", facts.join("; "));
    }
    if c.synthetic_data == Some(true) {
        out.push_str("Synthetic data — not for clinical use\n");
    }
}

fn overall(out: &mut String, e: &Evaluation) {
    let m = &e.overall;
    let _ = writeln!(
        out,
        "\nOverall: n = {}, events = {}, prevalence {}",
        count(m.n),
        count(m.events),
        pct(m.prevalence)
    );
    let mut rows = vec![
        vec!["AUC (95% CI, DeLong)".into(), auc_ci(m)],
        vec!["AUPRC (average precision)".into(), num(m.auprc, 4)],
        vec!["Brier score".into(), num(m.brier, 4)],
        vec!["Mean risk".into(), pct(m.mean_risk)],
        vec!["Observed / expected".into(), num(m.observed_expected, 3)],
        vec![
            "Calibration intercept (slope = 1)".into(),
            num(m.calibration.intercept, 3),
        ],
        vec!["Calibration slope".into(), num(m.calibration.slope, 3)],
    ];
    if let Some(o) = &e.record_oracle_auc {
        rows.insert(
            1,
            vec!["Record oracle AUC (known from the record)".into(), ci(o)],
        );
    }
    if let Some(o) = &e.oracle_auc {
        rows.insert(1, vec!["Oracle AUC (true risks)".into(), ci(o)]);
    }
    out.push_str(&indent(&table(
        &["metric", "value"],
        &rows,
        &[false, false],
    )));
}

fn deciles(m: &Metrics) -> String {
    let rows: Vec<Vec<String>> = m
        .deciles
        .iter()
        .map(|d| {
            vec![
                d.decile.to_string(),
                count(d.n),
                count(d.events),
                pct(d.mean_risk),
                pct(d.observed),
                match (d.observed_lower, d.observed_upper) {
                    (Some(lo), Some(hi)) => format!("{}–{}", pct(Some(lo)), pct(Some(hi))),
                    _ => "n/a".into(),
                },
            ]
        })
        .collect();
    table(
        &[
            "decile",
            "n",
            "events",
            "mean risk",
            "observed",
            "95% CI (Wilson)",
        ],
        &rows,
        &[true, true, true, true, true, true],
    )
}

fn top(m: &Metrics) -> String {
    let rows: Vec<Vec<String>> = m
        .top
        .iter()
        .map(|t| {
            let withheld = t.flagged.is_none() || t.true_positives.is_none();
            let rate = |v: Option<f64>| match v {
                None if withheld => "withheld".into(),
                v => pct(v),
            };
            vec![
                pct(Some(t.share)),
                count(t.target),
                count(t.flagged),
                match t.threshold {
                    None if t.flagged.is_none() => "withheld".into(),
                    v => num(v, 4),
                },
                count(t.true_positives),
                rate(t.ppv),
                rate(t.sensitivity),
            ]
        })
        .collect();
    table(
        &[
            "top",
            "target",
            "flagged",
            "cut-off risk",
            "with outcome",
            "PPV",
            "sensitivity",
        ],
        &rows,
        &[true; 7],
    )
}

fn subgroups(out: &mut String, e: &Evaluation) {
    if e.subgroups.is_empty() {
        return;
    }
    let l = &e.options.limits;
    let _ = writeln!(
        out,
        "\nSubgroups (flagged: |AUC − overall| > {}, slope outside [{}, {}], |intercept| > {};\n\
         not estimable: < {} people, or < {} with or without the outcome)",
        l.auc_difference, l.slope_min, l.slope_max, l.intercept_abs, l.min_people, l.min_events
    );
    let with_oracle = e.oracle_auc.is_some();
    let mut headers = vec!["attribute", "group", "n", "events", "AUC (95% CI)"];
    if with_oracle {
        headers.push("oracle AUC");
    }
    headers.extend(["slope", "intercept", "O/E", "flags"]);
    let rows: Vec<Vec<String>> = e
        .subgroups
        .iter()
        .map(|s| subgroup_row(s, with_oracle))
        .collect();
    let mut right = vec![false, false, true, true, false];
    if with_oracle {
        right.push(true);
    }
    right.extend([true, true, true, false]);
    out.push_str(&indent(&table(&headers, &rows, &right)));
}

fn subgroup_row(s: &Subgroup, with_oracle: bool) -> Vec<String> {
    let mut row = vec![
        s.attribute.clone(),
        s.group.clone(),
        count(s.n),
        count(s.events),
    ];
    let Some(m) = &s.metrics else {
        row.push(format!(
            "not estimable: {}",
            s.not_estimable.as_deref().unwrap_or("too few people")
        ));
        if with_oracle {
            row.push(String::new());
        }
        row.extend([String::new(), String::new(), String::new(), String::new()]);
        return row;
    };
    row.push(auc_ci(m));
    if with_oracle {
        row.push(num(s.oracle_auc, 3));
    }
    row.push(num(m.calibration.slope, 3));
    row.push(num(m.calibration.intercept, 3));
    row.push(num(m.observed_expected, 3));
    let flags: Vec<String> = s
        .flags
        .iter()
        .map(|f| format!("{} {} ({})", f.kind.label(), signed(f.value, 3), f.limit))
        .collect();
    row.push(flags.join("; "));
    row
}

fn auc_ci(m: &Metrics) -> String {
    m.auc.as_ref().map_or_else(|| "n/a".into(), ci)
}

fn ci(a: &super::AucEstimate) -> String {
    match (a.lower, a.upper) {
        (Some(lo), Some(hi)) => format!("{:.3} ({lo:.3}–{hi:.3})", a.auc),
        _ => format!("{:.3}", a.auc),
    }
}

/// A signed number with `digits` decimals, or `withheld` (a flag raised on a withheld figure).
pub(crate) fn signed(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "withheld".into(), |x| format!("{x:+.digits$}"))
}

/// A number with `digits` decimals, or `n/a`.
pub(crate) fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".into(), |x| format!("{x:.digits$}"))
}

/// A fraction as a percentage with two decimals, or `n/a`.
pub(crate) fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |x| format!("{:.2}%", 100.0 * x))
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// An aligned table: columns padded to their widest cell (in characters),
/// right-aligned where `right` says so; trailing spaces trimmed.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, &w))| {
                let fill = " ".repeat(w.saturating_sub(cell.chars().count()));
                if right.get(i).copied().unwrap_or(false) {
                    format!("{fill}{cell}")
                } else {
                    format!("{cell}{fill}")
                }
            })
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}
