//! The model card: a Markdown document beside each model file, in the
//! model-card convention (Mitchell et al. 2019, "Model Cards for Model
//! Reporting", FAT* '19): model details, intended use and users, out-of-scope
//! uses, training data, evaluation data, metrics overall and by subgroup,
//! ethical considerations and fairness, limitations.
//!
//! The card is rendered from the model file and, optionally, an
//! [`Evaluation`]. It never prints a subgroup's counts when the subgroup is
//! not estimable (fewer than the minimum people or events), so a card can be
//! shared without exposing small numbers.

use std::fmt::Write as _;

use super::evaluate::{Evaluation, Metrics, Subgroup};
use super::schema::ModelFile;

/// The banner on every card of a model trained on synthetic data.
pub const SYNTHETIC_BANNER: &str = "Trained on synthetic data — not for clinical use";

/// Renders the Markdown card of `model`, with `evaluation` if given.
pub fn render_card(model: &ModelFile, evaluation: Option<&Evaluation>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Model card: {}\n", model.name);
    if model.training.synthetic_data {
        let _ = writeln!(out, "> **{SYNTHETIC_BANNER}.**\n");
    }
    details(&mut out, model);
    intended_use(&mut out, model);
    training_data(&mut out, model);
    evaluation_data(&mut out, model, evaluation);
    metrics(&mut out, model, evaluation);
    temporal(&mut out, model);
    fairness(&mut out, model, evaluation);
    limitations(&mut out, model);
    out
}

/// The outcome in words, for the outcomes strata knows.
pub fn describe_outcome(outcome: &str) -> String {
    match outcome {
        "emergency_admission_12m" => {
            "an emergency (unplanned) hospital admission in the 365 days after the index date"
                .into()
        }
        "mortality_12m" => "death from any cause in the 365 days after the index date".into(),
        "care_home_entry_12m" => {
            "entry to long-term residential or nursing care in the 365 days after the index date"
                .into()
        }
        other => format!("`{other}`"),
    }
}

fn details(out: &mut String, m: &ModelFile) {
    out.push_str("## Model details\n\n");
    let rows = [
        ("Name", m.name.clone()),
        ("Model id", format!("`{}`", m.model_id)),
        (
            "Type",
            format!(
                "{} (L2-regularised logistic regression on standardised terms)",
                m.model_type
            ),
        ),
        (
            "Predicts",
            format!("the probability of {}", describe_outcome(&m.outcome)),
        ),
        ("Outcome name", format!("`{}`", m.outcome)),
        ("Model file schema", format!("version {}", m.schema_version)),
        ("Software", format!("strata {}", m.software_version)),
    ];
    out.push_str(&markdown_table(
        &["", ""],
        &rows.map(|(k, v)| vec![k.into(), v]),
    ));
    out.push_str("\nTerms (coefficients are per standard deviation of the transformed value):\n\n");
    let terms: Vec<Vec<String>> = m
        .terms
        .iter()
        .map(|t| {
            vec![
                format!("`{}`", t.name),
                format!("`{}`", t.feature),
                transform_words(&t.transform),
                format!("{:.4}", t.center),
                format!("{:.4}", t.scale),
                format!("{:+.4}", t.coefficient),
                format!("{:.3}", t.coefficient.exp()),
            ]
        })
        .collect();
    out.push_str(&markdown_table(
        &[
            "term",
            "feature",
            "transform",
            "center",
            "scale",
            "coefficient",
            "odds ratio per SD",
        ],
        &terms,
    ));
    let _ = writeln!(out, "\nIntercept: {:+.4}.\n", m.intercept);
}

fn transform_words(t: &super::design::Transform) -> String {
    use super::design::Transform::*;
    match t {
        Linear => "value".into(),
        Log1p => "ln(1 + value)".into(),
        Above { knot } => format!("max(value − {knot}, 0)"),
        Below { knot } => format!("max({knot} − value, 0)"),
        Equals { value } => format!("1 if value = `{value}`"),
        IsMissing => "1 if missing".into(),
    }
}

fn intended_use(out: &mut String, m: &ModelFile) {
    out.push_str("## Intended use and users\n\n");
    let _ = writeln!(
        out,
        "- **Use:** population-health risk stratification — ranking the registered \
         population of a practice, PCN or system by the risk of {} so that care \
         coordinators and clinicians can review the people at the top of the list for \
         proactive, preventive care.",
        describe_outcome(&m.outcome)
    );
    out.push_str(
        "- **Users:** population-health analysts (who train, evaluate and run the model on \
         their own extracts) and clinical teams (who review lists it produces, with the \
         reasons shown for each person).\n\
         - **How:** a risk supports a clinician's judgement about whom to review; it does not \
         decide care. Lists are reviewed by a clinician before anyone is contacted.\n\n",
    );
    out.push_str("## Out-of-scope uses\n\n");
    out.push_str(
        "- Diagnosis, triage or any decision about an individual's treatment or eligibility \
         for a service without clinical review.\n\
         - Denying, rationing or pricing care or insurance.\n\
         - Populations unlike the training population (other countries, settings or age \
         ranges; extracts with different coding or recording practice) without re-evaluation.\n\
         - Outcomes or horizons other than the one above.\n",
    );
    if m.training.synthetic_data {
        out.push_str("- Any clinical use: this model was trained on synthetic data.\n");
    }
    out.push('\n');
}

fn training_data(out: &mut String, m: &ModelFile) {
    let t = &m.training;
    out.push_str("## Training data\n\n");
    if t.synthetic_data {
        out.push_str(
            "- **Source:** a synthetic population made by `strata generate` (no real person's \
             record). Its associations are those the generator encodes, not those of any real \
             population.\n",
        );
    }
    let _ = writeln!(
        out,
        "- **Index date:** {}. Features use records up to and including it; the outcome is \
         observed in the 365 days after it.",
        t.index_date
    );
    out.push_str(
        "- **Population:** people alive and registered on the index date; people with a \
         national data opt-out are excluded (training is secondary use).\n",
    );
    let _ = writeln!(
        out,
        "- **Size:** {} people in training, {} held out (one in five, by a hash of the person \
         id). Outcome prevalence in training: {}.",
        t.n_train,
        t.n_holdout,
        percent(t.outcome_prevalence)
    );
    let _ = writeln!(
        out,
        "- **Penalty:** λ = {} per person (α = λ·n = {:.1}), chosen by 5-fold \
         cross-validated log-loss over {} candidates.",
        t.lambda,
        t.alpha,
        t.cv_log_loss.len()
    );
    if !t.input_checksums.is_empty() {
        out.push_str("- **Inputs (blake3):**\n");
        for (name, hash) in &t.input_checksums {
            let _ = writeln!(out, "  - `{name}`: `{hash}`");
        }
    }
    out.push('\n');
}

fn evaluation_data(out: &mut String, m: &ModelFile, e: Option<&Evaluation>) {
    out.push_str("## Evaluation data\n\n");
    let _ = writeln!(
        out,
        "- **Holdout:** {} people ({} with the outcome) from the training extract, not used \
         for fitting or choosing the penalty.",
        m.holdout.n,
        count(m.holdout.outcomes)
    );
    if let Some(e) = e {
        let c = &e.context;
        let mut what = Vec::new();
        if let Some(d) = &c.data {
            what.push(format!("data `{d}`"));
        }
        if let Some(d) = c.index_date {
            what.push(format!("index date {d}"));
        }
        if c.synthetic_data == Some(true) {
            what.push("synthetic".into());
        }
        let _ = writeln!(
            out,
            "- **Evaluation below:** {} people{}.",
            count(e.overall.n),
            if what.is_empty() {
                String::new()
            } else {
                format!(" ({})", what.join(", "))
            }
        );
    }
    out.push('\n');
}

fn metrics(out: &mut String, m: &ModelFile, e: Option<&Evaluation>) {
    out.push_str("## Metrics\n\n");
    let _ = writeln!(
        out,
        "Holdout recorded at training: AUC {}, Brier score {}.\n",
        fixed(m.holdout.auc, 3),
        fixed(m.holdout.brier, 4)
    );
    let Some(e) = e else {
        out.push_str(
            "No full evaluation was attached: run `strata evaluate` for AUC with its \
             confidence interval, calibration and subgroup metrics.\n\n",
        );
        return;
    };
    out.push_str(&overall_table(&e.overall, e));
    out.push_str(&top_table(&e.overall));
    out.push_str("\n### By subgroup\n\n");
    out.push_str(&subgroup_table(&e.subgroups));
    out.push('\n');
    out.push_str(&disclosure_note(e));
}

/// How the card's counts were controlled, and what was withheld where.
fn disclosure_note(e: &Evaluation) -> String {
    let mut out = match &e.disclosure {
        Some(d) => format!(
            "Counts of people pass disclosure control ({}): counts of 1–{} are withheld \
             (shown as “withheld”, never 0) and other counts are rounded ({}); rates are \
             computed from the rounded counts, and any figure that describes 1–{} people is \
             withheld.\n",
            d.profile, d.redact_at_or_below, d.rounding, d.redact_at_or_below
        ),
        None => "**Exact counts:** this evaluation was recorded before strata applied \
                 disclosure control. Re-run `strata evaluate` or retrain before sharing this card.\n"
            .into(),
    };
    let notes: Vec<String> =
        std::iter::once(("overall".to_string(), e.overall.withheld.as_deref()))
            .chain(e.subgroups.iter().map(|s| {
                (
                    format!("{} = {}", s.attribute, s.group),
                    s.withheld.as_deref(),
                )
            }))
            .filter_map(|(what, note)| note.map(|n| format!("- {what}: {n}")))
            .collect();
    if !notes.is_empty() {
        out.push_str("\nWithheld:\n\n");
        out.push_str(&notes.join("\n"));
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The evaluation at a later index date, when training made one: how the
/// model holds up as the population and services change.
fn temporal(out: &mut String, m: &ModelFile) {
    let Some(e) = &m.temporal_evaluation else {
        return;
    };
    out.push_str(
        "## Temporal validation

",
    );
    let _ = writeln!(
        out,
        "The fitted model scored at a later index date ({}), on everyone in the cohort \
         then (not only the holdout), with the outcome in the 365 days after it.\n",
        e.context
            .index_date
            .map_or("not recorded".into(), |d| d.to_string())
    );
    out.push_str(&overall_table(&e.overall, e));
    out.push_str(&top_table(&e.overall));
    out.push_str("\n### By subgroup\n\n");
    out.push_str(&subgroup_table(&e.subgroups));
    out.push('\n');
    out.push_str(&disclosure_note(e));
}

fn overall_table(o: &Metrics, e: &Evaluation) -> String {
    let auc = o.auc.map_or("n/a".into(), |a| match (a.lower, a.upper) {
        (Some(lo), Some(hi)) => format!("{:.3} (95% CI {lo:.3}–{hi:.3}, DeLong)", a.auc),
        _ => format!("{:.3}", a.auc),
    });
    let mut rows = vec![
        vec!["People".into(), count(o.n)],
        vec!["Prevalence".into(), opt_percent(o.prevalence)],
        vec!["AUC".into(), auc],
        vec!["AUPRC (average precision)".into(), fixed(o.auprc, 4)],
        vec!["Brier score".into(), fixed(o.brier, 4)],
        vec!["Observed / expected".into(), fixed(o.observed_expected, 3)],
        vec![
            "Calibration intercept (slope fixed at 1)".into(),
            fixed(o.calibration.intercept, 3),
        ],
        vec!["Calibration slope".into(), fixed(o.calibration.slope, 3)],
    ];
    if let Some(record) = &e.record_oracle_auc {
        rows.insert(
            3,
            vec![
                "Record oracle AUC (true risk without the unobserved effect)".into(),
                format!("{:.3}", record.auc),
            ],
        );
    }
    if let Some(oracle) = &e.oracle_auc {
        rows.insert(
            3,
            vec![
                "Oracle AUC (true risks)".into(),
                format!("{:.3}", oracle.auc),
            ],
        );
    }
    markdown_table(&["metric", "value"], &rows)
}

fn top_table(o: &Metrics) -> String {
    let rows: Vec<Vec<String>> = o
        .top
        .iter()
        .map(|t| {
            let withheld = t.flagged.is_none() || t.true_positives.is_none();
            let rate = |v: Option<f64>| match v {
                None if withheld => "withheld".into(),
                v => opt_percent(v),
            };
            vec![
                format!("top {}", opt_percent(Some(t.share))),
                count(t.flagged),
                rate(t.ppv),
                rate(t.sensitivity),
            ]
        })
        .collect();
    format!(
        "\n{}",
        markdown_table(&["flagged", "people", "PPV", "sensitivity"], &rows)
    )
}

fn subgroup_table(groups: &[Subgroup]) -> String {
    if groups.is_empty() {
        return "No subgroups were evaluated.\n".into();
    }
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|s| match &s.metrics {
            None => vec![
                s.attribute.clone(),
                s.group.clone(),
                "—".into(),
                format!(
                    "not estimable ({})",
                    s.not_estimable.as_deref().unwrap_or("too few people")
                ),
                String::new(),
                String::new(),
                String::new(),
            ],
            Some(m) => vec![
                s.attribute.clone(),
                s.group.clone(),
                count(s.n),
                m.auc.map_or("n/a".into(), |a| format!("{:.3}", a.auc)),
                fixed(m.calibration.slope, 2),
                fixed(m.calibration.intercept, 2),
                if s.flags.is_empty() {
                    String::new()
                } else {
                    s.flags
                        .iter()
                        .map(|f| {
                            format!(
                                "**{}** {}",
                                f.kind.label(),
                                f.value
                                    .map_or("(value withheld)".into(), |v| format!("{v:+.3}"))
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                },
            ],
        })
        .collect();
    markdown_table(
        &[
            "attribute",
            "group",
            "people",
            "AUC",
            "slope",
            "intercept",
            "flags",
        ],
        &rows,
    )
}

fn fairness(out: &mut String, m: &ModelFile, e: Option<&Evaluation>) {
    out.push_str("## Ethical considerations and fairness\n\n");
    let _ = writeln!(
        out,
        "- The model ranks people by the predicted risk of {}. Where access to care \
         differs between groups, recorded history understates the need of people with poorer \
         access, and a list ranked on it can under-select them. Read the subgroup table, not \
         only the overall figures.",
        describe_outcome(&m.outcome)
    );
    let sensitive: Vec<&str> = ["age", "sex", "ethnicity", "imd_decile"]
        .into_iter()
        .filter(|f| m.features().contains(f))
        .collect();
    let _ = writeln!(
        out,
        "- Of the protected or equity-relevant characteristics, the model's terms read: {}. \
         Ethnicity is {}used as a predictor. Performance is reported by sex, age band, \
         ethnicity group and IMD quintile so that differences are visible.",
        if sensitive.is_empty() {
            "none".to_string()
        } else {
            sensitive
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        },
        if sensitive.contains(&"ethnicity") {
            ""
        } else {
            "not "
        }
    );
    match e {
        Some(e) => {
            let l = &e.options.limits;
            let flagged = e.subgroups.iter().filter(|s| !s.flags.is_empty()).count();
            let _ = writeln!(
                out,
                "- Subgroups are flagged when their AUC differs from the overall AUC by more \
                 than {}, their calibration slope is outside [{}, {}] or their calibration \
                 intercept exceeds ±{} — policy limits, not statistical tests. **{} of {} \
                 subgroups flagged.** Subgroups with fewer than {} people or fewer than {} \
                 people with or without the outcome are reported as not estimable.\n",
                l.auc_difference,
                l.slope_min,
                l.slope_max,
                l.intercept_abs,
                flagged,
                e.subgroups.len(),
                l.min_people,
                l.min_events
            );
        }
        None => out.push_str("- No subgroup evaluation is attached to this card.\n\n"),
    }
}

fn limitations(out: &mut String, m: &ModelFile) {
    out.push_str("## Limitations\n\n");
    if m.training.synthetic_data {
        let _ = writeln!(
            out,
            "- **{SYNTHETIC_BANNER}.** Its coefficients describe the generator, not real \
             patients; retrain and re-evaluate on local data before any use."
        );
    }
    out.push_str(
        "- A linear-logistic model: effects are additive on the log-odds scale, with \
         non-linearities only where its terms write them (knots, log transforms) and no interactions.\n\
         - It sees only what is coded in the extract: unrecorded conditions, care outside the \
         extract's sources and social circumstances beyond the IMD of the address are missing.\n\
         - Risks are calibrated to the training population and period; a change of case mix, \
         coding or service model needs recalibration (check the calibration intercept and \
         slope on recent data).\n\
         - Discrimination and calibration are estimated on a holdout from the same extract, \
         which is optimistic for a different place or a later time.\n",
    );
}

fn percent(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// A published count, or `withheld` (never 0 for a withheld count).
fn count(v: Option<u64>) -> String {
    v.map_or_else(|| "withheld".into(), |n| n.to_string())
}

fn opt_percent(x: Option<f64>) -> String {
    x.map_or("n/a".into(), percent)
}

fn fixed(x: Option<f64>, digits: usize) -> String {
    x.map_or("n/a".into(), |v| format!("{v:.digits$}"))
}

/// A Markdown pipe table; `|` inside cells is escaped.
fn markdown_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let escape = |s: &str| s.replace('|', "\\|");
    let mut out = format!(
        "| {} |\n|{}|\n",
        headers
            .iter()
            .map(|h| escape(h))
            .collect::<Vec<_>>()
            .join(" | "),
        headers.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| {} |",
            row.iter()
                .map(|c| escape(c))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::evaluate::{EvaluateOptions, evaluate};
    use crate::model::fairness::GroupLabels;

    fn model(synthetic: bool) -> ModelFile {
        serde_json::from_value(serde_json::json!({
            "schema_version": 1,
            "model_id": "demo-0123456789ab",
            "name": "demo",
            "model_type": "logistic",
            "outcome": "emergency_admission_12m",
            "intercept": -2.5,
            "terms": [
                {"name": "age", "feature": "age", "transform": {"kind": "linear"},
                 "impute": 40.0, "center": 40.0, "scale": 20.0, "coefficient": 0.5},
                {"name": "log_ae", "feature": "ae_attendances_12m", "transform": {"kind": "log1p"},
                 "impute": 0.2, "center": 0.2, "scale": 0.5, "coefficient": 0.3}
            ],
            "training": {
                "index_date": "2025-03-31", "n_train": 800, "n_holdout": 200,
                "outcome_prevalence": 0.08, "lambda": 0.001, "alpha": 0.8,
                "cv_log_loss": [[0.001, 0.25], [0.01, 0.26]],
                "input_checksums": [["patients.parquet", "abc123"]],
                "synthetic_data": synthetic
            },
            "holdout": {"auc": 0.78, "brier": 0.07, "n": 200, "outcomes": 16},
            "software_version": "0.1.0"
        }))
        .expect("a valid model file")
    }

    const SECTIONS: [&str; 8] = [
        "## Model details",
        "## Intended use and users",
        "## Out-of-scope uses",
        "## Training data",
        "## Evaluation data",
        "## Metrics",
        "## Ethical considerations and fairness",
        "## Limitations",
    ];

    #[test]
    fn card_has_every_section_in_order_and_the_synthetic_banner() {
        let card = render_card(&model(true), None);
        let positions: Vec<usize> = SECTIONS
            .iter()
            .map(|s| {
                card.find(s)
                    .unwrap_or_else(|| panic!("missing {s}\n{card}"))
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
        assert!(card.contains("> **Trained on synthetic data — not for clinical use.**"));
        assert!(card.contains("`demo-0123456789ab`"));
        assert!(card.contains("| `log_ae` | `ae_attendances_12m` | ln(1 + value) |"));
        assert!(card.contains("No full evaluation was attached"));
        assert!(card.contains("Ethnicity is not used"));
    }

    #[test]
    fn card_of_a_real_data_model_has_no_banner() {
        let card = render_card(&model(false), None);
        assert!(!card.contains(SYNTHETIC_BANNER), "{card}");
        assert!(!card.contains("synthetic"), "{card}");
    }

    #[test]
    fn card_with_evaluation_shows_subgroups_without_small_counts() {
        let n = 300;
        let risk: Vec<f64> = (0..n).map(|i| 0.02 + 0.9 * i as f64 / n as f64).collect();
        let outcome: Vec<bool> = (0..n).map(|i| i % 7 == 0 || i > 240).collect();
        let groups = [GroupLabels {
            attribute: "sex".into(),
            // 37 people labelled I: too few to report.
            labels: (0..n)
                .map(|i| {
                    Some(
                        if i % 8 == 0 {
                            "I"
                        } else if i % 2 == 0 {
                            "F"
                        } else {
                            "M"
                        }
                        .into(),
                    )
                })
                .collect(),
        }];
        let e = evaluate(
            &risk,
            &outcome,
            &groups,
            None,
            &EvaluateOptions::default(),
            &crate::governance::disclosure::DisclosureProfile::default(),
        )
        .expect("valid");
        let card = render_card(&model(true), Some(&e));
        assert!(card.contains("### By subgroup"));
        assert!(
            card.contains("| sex | I | — | not estimable (fewer than 100 people)"),
            "{card}"
        );
        assert!(
            !card.contains("| 38 |") && !card.contains("| 37 |"),
            "{card}"
        );
        assert!(card.contains("95% CI"));
        assert!(card.contains("top 5.00%"));
        // The top 0.5% of 300 people is 2 people: withheld with its rates, never 0.
        assert!(
            card.contains("| top 0.50% | withheld | withheld | withheld |"),
            "{card}"
        );
        assert!(card.contains("disclosure control (opensafely)"), "{card}");
    }
}
