//! Evaluation of risks against observed outcomes: discrimination (AUC with a
//! DeLong 95% CI, average precision), accuracy (Brier), calibration
//! (intercept, slope, deciles), PPV and sensitivity at the top of the risk
//! distribution — overall and within each subgroup, with fairness flags.
//!
//! [`evaluate`] is pure: slices in, an [`Evaluation`] out. Every metric is
//! computed on rows in a canonical order ([`Ranked`]), so the result is
//! bit-identical whatever the row order. It never panics on empty or
//! single-class data: undefined metrics are `None` (JSON `null`).
//! See [`super::metrics`] and [`super::calibration`] for definitions and tie
//! rules, and [`super::fairness`] for subgroup limits.

#[cfg(test)]
mod logistic_reference;
mod text;

use std::collections::BTreeMap;

use crate::governance::disclosure::DisclosureProfile;

pub use super::schema::{
    DisclosureApplied, EvaluateOptions, Evaluation, EvaluationContext, Metrics, Subgroup,
};

use super::calibration::{calibration_by_decile, recalibrate};
use super::fairness::{Flag, GroupLabels, Limits, MISSING, flags};
use super::metrics::{
    AucEstimate, Ranked, auc_delong, average_precision, brier_ranked, mean_risk, top_share,
};

/// The shares of the population whose PPV and sensitivity are reported:
/// 0.5%, 5% and 20% — the cumulative shares of the default risk tiers.
pub const DEFAULT_TOP_SHARES: [f64; 3] = [0.005, 0.05, 0.2];

/// Why an evaluation could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvaluateError {
    #[error("{what} has {found} rows but there are {expected} risks")]
    Length {
        what: String,
        found: usize,
        expected: usize,
    },
    #[error("{what}: row {row} has risk {value}, expected a number between 0 and 1")]
    Risk {
        what: String,
        row: usize,
        value: f64,
    },
    #[error("{0}")]
    Options(String),
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        EvaluateOptions {
            top_shares: DEFAULT_TOP_SHARES.to_vec(),
            limits: Limits::default(),
        }
    }
}

/// Most points kept on each curve: enough to draw, small enough for a model file.
pub const CURVE_POINTS: usize = 200;

impl Metrics {
    /// Computes every metric of canonically ranked rows.
    pub fn of(ranked: &Ranked, top_shares: &[f64]) -> Metrics {
        let n = ranked.len() as u64;
        let events = ranked.events();
        let mean = mean_risk(ranked);
        Metrics {
            n: Some(n),
            events: Some(events),
            prevalence: (n > 0).then(|| events as f64 / n as f64),
            mean_risk: mean,
            auc: auc_delong(ranked),
            auprc: average_precision(ranked),
            brier: brier_ranked(ranked),
            calibration: recalibrate(ranked),
            observed_expected: mean
                .filter(|m| *m > 0.0)
                .map(|m| events as f64 / (m * n as f64)),
            deciles: calibration_by_decile(ranked),
            top: top_shares.iter().map(|&s| top_share(ranked, s)).collect(),
            roc: super::curves::roc_of(ranked, CURVE_POINTS),
            pr: super::curves::pr_of(ranked, CURVE_POINTS),
            withheld: None,
        }
    }
}

impl Evaluation {
    /// Every flag, as (attribute, group, flag).
    pub fn flags(&self) -> impl Iterator<Item = (&str, &str, &Flag)> {
        self.subgroups.iter().flat_map(|s| {
            s.flags
                .iter()
                .map(move |f| (s.attribute.as_str(), s.group.as_str(), f))
        })
    }

    /// Sets what was evaluated (model, outcome, index date, data).
    pub fn with_context(mut self, context: EvaluationContext) -> Evaluation {
        self.context = context;
        self
    }

    /// Adds the AUC of `record_risk`, the record-based reference risk for the
    /// same rows (see [`Evaluation::record_oracle_auc`]).
    pub fn with_record_oracle(mut self, record_risk: &[f64], outcome: &[bool]) -> Evaluation {
        if record_risk.len() == outcome.len() {
            self.record_oracle_auc = auc_delong(&Ranked::new(record_risk, outcome));
        }
        self
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self)
    }

    /// A readable rendering: overall metrics, deciles, top shares, subgroups.
    pub fn to_text(&self) -> String {
        text::render(self)
    }
}

/// Evaluates `risk` against `outcome`, overall and within each group of each
/// attribute in `groups`; `oracle` are true risks for the same rows, if known.
/// Every figure of the result has passed disclosure control under `profile`
/// (see [`super::published`]): this is what model files, cards, evaluation
/// JSON and reports are made from. Fairness flags are raised on the exact
/// figures first.
///
/// Errors when lengths differ, a risk is not in [0, 1], or the options are invalid.
pub fn evaluate(
    risk: &[f64],
    outcome: &[bool],
    groups: &[GroupLabels],
    oracle: Option<&[f64]>,
    options: &EvaluateOptions,
    profile: &DisclosureProfile,
) -> Result<Evaluation, EvaluateError> {
    let exact = evaluate_exact(risk, outcome, groups, oracle, options)?;
    Ok(super::published::control(
        &exact,
        &Ranked::new(risk, outcome),
        profile,
    ))
}

/// [`evaluate`] before disclosure control: exact counts and every figure,
/// for checks in memory only (the metric tests). Never write it out.
pub fn evaluate_exact(
    risk: &[f64],
    outcome: &[bool],
    groups: &[GroupLabels],
    oracle: Option<&[f64]>,
    options: &EvaluateOptions,
) -> Result<Evaluation, EvaluateError> {
    check_inputs(risk, outcome, groups, oracle, options)?;
    let overall = Metrics::of(&Ranked::new(risk, outcome), &options.top_shares);
    let oracle_auc = oracle.and_then(|t| auc_delong(&Ranked::new(t, outcome)));
    let overall_auc = overall.auc.map(|a| a.auc);
    let subgroups = groups
        .iter()
        .flat_map(|g| evaluate_attribute(g, risk, outcome, oracle, options, overall_auc))
        .collect();
    Ok(Evaluation {
        context: EvaluationContext::default(),
        overall,
        oracle_auc,
        record_oracle_auc: None,
        subgroups,
        options: options.clone(),
        disclosure: None,
    })
}

fn check_inputs(
    risk: &[f64],
    outcome: &[bool],
    groups: &[GroupLabels],
    oracle: Option<&[f64]>,
    options: &EvaluateOptions,
) -> Result<(), EvaluateError> {
    let length = |what: &str, found: usize| {
        if found == risk.len() {
            Ok(())
        } else {
            Err(EvaluateError::Length {
                what: what.into(),
                found,
                expected: risk.len(),
            })
        }
    };
    length("outcome", outcome.len())?;
    for g in groups {
        length(&format!("group labels `{}`", g.attribute), g.labels.len())?;
    }
    check_risks("risk", risk)?;
    if let Some(t) = oracle {
        length("oracle risk", t.len())?;
        check_risks("oracle risk", t)?;
    }
    options.limits.validate().map_err(EvaluateError::Options)?;
    if let Some(s) = options
        .top_shares
        .iter()
        .find(|s| !(0.0..=1.0).contains(*s))
    {
        return Err(EvaluateError::Options(format!(
            "top share {s}: expected a fraction between 0 and 1 (0.05 = 5%)"
        )));
    }
    Ok(())
}

fn check_risks(what: &str, risk: &[f64]) -> Result<(), EvaluateError> {
    match risk.iter().position(|r| !(0.0..=1.0).contains(r)) {
        Some(row) => Err(EvaluateError::Risk {
            what: what.into(),
            row,
            value: risk[row],
        }),
        None => Ok(()),
    }
}

/// Rows of each group of one attribute, groups in label order.
fn rows_by_group(labels: &[Option<String>]) -> BTreeMap<&str, Vec<usize>> {
    let mut out: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (row, label) in labels.iter().enumerate() {
        out.entry(label.as_deref().unwrap_or(MISSING))
            .or_default()
            .push(row);
    }
    out
}

fn evaluate_attribute(
    groups: &GroupLabels,
    risk: &[f64],
    outcome: &[bool],
    oracle: Option<&[f64]>,
    options: &EvaluateOptions,
    overall_auc: Option<f64>,
) -> Vec<Subgroup> {
    rows_by_group(&groups.labels)
        .into_iter()
        .map(|(group, rows)| {
            let pick = |values: &[f64]| rows.iter().map(|&r| values[r]).collect::<Vec<f64>>();
            let y: Vec<bool> = rows.iter().map(|&r| outcome[r]).collect();
            let n = rows.len() as u64;
            let events = y.iter().filter(|&&v| v).count() as u64;
            let not_estimable = options.limits.not_estimable(n, events);
            let metrics = not_estimable.is_none().then(|| {
                // Curves are drawn for the whole population only; per-group curves would
                // multiply the size of a model file for little use.
                let mut m = Metrics::of(&Ranked::new(&pick(risk), &y), &options.top_shares);
                m.roc.clear();
                m.pr.clear();
                m
            });
            let oracle_auc = match (&not_estimable, oracle) {
                (None, Some(t)) => auc_delong(&Ranked::new(&pick(t), &y)).map(|a| a.auc),
                _ => None,
            };
            let raised = metrics.as_ref().map_or_else(Vec::new, |m| {
                flags(
                    &options.limits,
                    overall_auc,
                    m.auc.map(|a| a.auc),
                    m.calibration.slope,
                    m.calibration.intercept,
                )
            });
            Subgroup {
                attribute: groups.attribute.clone(),
                group: group.to_string(),
                n: Some(n),
                events: Some(events),
                metrics,
                not_estimable,
                oracle_auc,
                flags: raised,
                withheld: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fairness::FlagKind;

    /// 400 people: risk steps over 40 levels, outcome drawn deterministically so
    /// that the observed rate follows the risk (every 10th person at a level of
    /// risk k/40 … has the outcome when their position is below 10·risk).
    fn population() -> (Vec<f64>, Vec<bool>) {
        (0..400)
            .map(|i| {
                let risk = 0.05 + 0.9 * (i / 10) as f64 / 39.0;
                let outcome = ((i % 10) as f64) < (risk * 10.0).round();
                (risk, outcome)
            })
            .unzip()
    }

    fn labels(
        attribute: &str,
        of: impl Fn(usize) -> Option<&'static str>,
        n: usize,
    ) -> GroupLabels {
        GroupLabels {
            attribute: attribute.into(),
            labels: (0..n).map(|i| of(i).map(String::from)).collect(),
        }
    }

    #[test]
    fn empty_input_gives_an_empty_evaluation() {
        let e = evaluate_exact(&[], &[], &[], None, &EvaluateOptions::default()).expect("valid");
        assert_eq!(e.overall.n, Some(0));
        assert_eq!(e.overall.auc, None);
        assert_eq!(e.overall.brier, None);
        assert_eq!(e.overall.prevalence, None);
        assert!(e.overall.deciles.is_empty());
        assert!(e.to_text().contains("Overall: n = 0"));
    }

    #[test]
    fn single_class_data_has_no_auc_but_does_not_fail() {
        let risk = vec![0.1; 150];
        let outcome = vec![false; 150];
        let groups = [labels("sex", |_| Some("F"), 150)];
        let e = evaluate_exact(&risk, &outcome, &groups, None, &EvaluateOptions::default())
            .expect("valid");
        assert_eq!(e.overall.auc, None);
        assert_eq!(e.overall.calibration.intercept, None);
        assert_eq!(e.overall.top[0].ppv, Some(0.0));
        assert!(e.subgroups[0].metrics.is_none());
        assert!(e.subgroups[0].not_estimable.is_some());
        assert!(e.flags().next().is_none());
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let options = EvaluateOptions::default();
        assert!(matches!(
            evaluate_exact(&[0.1, 0.2], &[true], &[], None, &options),
            Err(EvaluateError::Length { .. })
        ));
        assert!(matches!(
            evaluate_exact(&[0.1, 1.2], &[true, false], &[], None, &options),
            Err(EvaluateError::Risk { row: 1, .. })
        ));
        assert!(matches!(
            evaluate_exact(&[0.1, f64::NAN], &[true, false], &[], None, &options),
            Err(EvaluateError::Risk { row: 1, .. })
        ));
        assert!(matches!(
            evaluate_exact(&[0.1], &[true], &[], Some(&[0.1, 0.2]), &options),
            Err(EvaluateError::Length { .. })
        ));
        let bad = EvaluateOptions {
            top_shares: vec![5.0],
            ..EvaluateOptions::default()
        };
        assert!(matches!(
            evaluate_exact(&[0.1], &[true], &[], None, &bad),
            Err(EvaluateError::Options(_))
        ));
    }

    #[test]
    fn subgroups_are_split_flagged_and_small_ones_withheld() {
        let (mut risk, outcome) = population();
        let n = risk.len();
        // Groups alternate by risk level (blocks of 10 rows), so each is calibrated.
        // Group "B" then gets risks shrunk towards 0.3: slope > 1 and AUC unchanged.
        let in_b = |i: usize| (i / 10) % 2 == 1;
        for (i, r) in risk.iter_mut().enumerate() {
            if in_b(i) {
                *r = 0.3 + 0.25 * (*r - 0.3);
            }
        }
        let groups = [
            labels(
                "group",
                |i| Some(if (i / 10) % 2 == 0 { "A" } else { "B" }),
                n,
            ),
            // 50 people with no label: too few → not estimable, under "missing".
            labels("tiny", |i| (i >= 50).then_some("rest"), n),
        ];
        let e = evaluate_exact(&risk, &outcome, &groups, None, &EvaluateOptions::default())
            .expect("valid");
        let names: Vec<(&str, &str, u64)> = e
            .subgroups
            .iter()
            .map(|s| (s.attribute.as_str(), s.group.as_str(), s.n.unwrap_or(0)))
            .collect();
        assert_eq!(
            names,
            [
                ("group", "A", 200),
                ("group", "B", 200),
                ("tiny", "missing", 50),
                ("tiny", "rest", 350)
            ]
        );
        let a = &e.subgroups[0];
        let b = &e.subgroups[1];
        assert!(a.flags.is_empty(), "{:?}", a.flags);
        let slope_b = b
            .metrics
            .as_ref()
            .and_then(|m| m.calibration.slope)
            .expect("slope");
        assert!(slope_b > 1.2, "{slope_b}");
        assert!(b.flags.iter().any(|f| f.kind == FlagKind::CalibrationSlope));
        assert!(e.subgroups[2].metrics.is_none());
        assert_eq!(
            e.subgroups[2].not_estimable.as_deref(),
            Some("fewer than 100 people")
        );
        let text = e.to_text();
        assert!(
            text.contains("not estimable: fewer than 100 people"),
            "{text}"
        );
        assert!(text.contains("calibration slope"), "{text}");
    }

    #[test]
    fn oracle_auc_is_reported_overall_and_by_group() {
        let (risk, outcome) = population();
        let noisy: Vec<f64> = risk
            .iter()
            .enumerate()
            .map(|(i, r)| if i % 3 == 0 { 0.5 } else { *r })
            .collect();
        let groups = [labels("all", |_| Some("all"), risk.len())];
        let e = evaluate_exact(
            &noisy,
            &outcome,
            &groups,
            Some(&risk),
            &EvaluateOptions::default(),
        )
        .expect("valid");
        let oracle = e.oracle_auc.expect("oracle").auc;
        let model = e.overall.auc.expect("auc").auc;
        assert!(oracle > model, "{oracle} {model}");
        assert_eq!(e.subgroups[0].oracle_auc, Some(oracle));
        assert!(e.to_text().contains("Oracle AUC"));
        assert!(!e.to_text().contains("Record oracle"));
    }

    #[test]
    fn record_oracle_auc_is_the_auc_of_the_record_risks() {
        // Risks 0.1 < 0.2 < 0.3 < 0.4 against outcomes F T F T: of the four
        // (event, non-event) pairs, (0.2 vs 0.1), (0.4 vs 0.1), (0.4 vs 0.3)
        // are ordered correctly and (0.2 vs 0.3) is not, so AUC = 3/4.
        let outcome = [false, true, false, true];
        let risk = [0.25; 4];
        let e = evaluate_exact(&risk, &outcome, &[], None, &EvaluateOptions::default())
            .expect("valid")
            .with_record_oracle(&[0.1, 0.2, 0.3, 0.4], &outcome);
        let record = e.record_oracle_auc.expect("record oracle").auc;
        assert!((record - 0.75).abs() < 1e-12, "{record}");
        assert!(e.to_text().contains("Record oracle AUC"));
    }

    #[test]
    fn json_round_trip_keeps_the_evaluation() {
        let (risk, outcome) = population();
        let groups = [labels(
            "sex",
            |i| Some(if i % 2 == 0 { "F" } else { "M" }),
            400,
        )];
        let e = evaluate_exact(&risk, &outcome, &groups, None, &EvaluateOptions::default())
            .expect("valid")
            .with_context(EvaluationContext {
                model_id: Some("m-1".into()),
                index_date: chrono::NaiveDate::from_ymd_opt(2025, 3, 31),
                ..EvaluationContext::default()
            });
        let json = e.to_json().expect("json");
        let back: Evaluation = serde_json::from_str(&json).expect("parses");
        assert_eq!(back.overall.n, Some(400));
        assert_eq!(back.subgroups.len(), 2);
        assert_eq!(back.context, e.context);
        // serde_json parses floats to within an ulp, not exactly (no `float_roundtrip`).
        let (a, b) = (back.overall.auc.expect("auc"), e.overall.auc.expect("auc"));
        assert!(
            (a.auc - b.auc).abs() < 1e-15
                && (a.se.unwrap_or(0.0) - b.se.unwrap_or(0.0)).abs() < 1e-15
        );
        assert_eq!(back.subgroups[0].flags.len(), e.subgroups[0].flags.len());
    }

    #[test]
    fn text_rendering_is_aligned() {
        let (risk, outcome) = population();
        let e =
            evaluate_exact(&risk, &outcome, &[], None, &EvaluateOptions::default()).expect("valid");
        let text = e.to_text();
        let decile_lines: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("Calibration by decile"))
            .skip(1)
            .take(11)
            .collect();
        let widths: Vec<usize> = decile_lines.iter().map(|l| l.chars().count()).collect();
        assert!(widths.iter().all(|&w| w == widths[0]), "{decile_lines:#?}");
        assert!(text.contains("AUC (95% CI, DeLong)"));
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn rows() -> impl Strategy<Value = Vec<(f64, bool, u8)>> {
            prop::collection::vec(
                (
                    prop_oneof![(0u32..=20).prop_map(|k| f64::from(k) / 20.0), 0.0..=1.0f64],
                    any::<bool>(),
                    0u8..3,
                ),
                0..300,
            )
        }

        fn run(rows: &[(f64, bool, u8)]) -> Evaluation {
            let risk: Vec<f64> = rows.iter().map(|r| r.0).collect();
            let outcome: Vec<bool> = rows.iter().map(|r| r.1).collect();
            let groups = [GroupLabels {
                attribute: "g".into(),
                labels: rows.iter().map(|r| Some(r.2.to_string())).collect(),
            }];
            let options = EvaluateOptions {
                limits: Limits {
                    min_people: 20,
                    min_events: 3,
                    ..Limits::default()
                },
                ..EvaluateOptions::default()
            };
            evaluate_exact(&risk, &outcome, &groups, Some(&risk), &options).expect("valid")
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn evaluation_is_identical_under_any_row_order(
                (rows, shuffled) in rows().prop_flat_map(|r| (Just(r.clone()), Just(r).prop_shuffle()))
            ) {
                prop_assert_eq!(run(&rows), run(&shuffled));
            }

            #[test]
            fn metrics_stay_in_their_ranges(rows in rows()) {
                let e = run(&rows);
                let all = std::iter::once(&e.overall)
                    .chain(e.subgroups.iter().filter_map(|s| s.metrics.as_ref()));
                for m in all {
                    for v in [m.prevalence, m.brier, m.auprc, m.auc.map(|a| a.auc)].into_iter().flatten() {
                        prop_assert!((0.0..=1.0).contains(&v));
                    }
                    prop_assert_eq!(Some(m.deciles.iter().filter_map(|d| d.n).sum::<u64>()), m.n);
                    prop_assert_eq!(Some(m.deciles.iter().filter_map(|d| d.events).sum::<u64>()), m.events);
                    for t in &m.top {
                        prop_assert!(t.flagged >= t.target && t.true_positives <= m.events);
                    }
                }
            }
        }
    }
}
