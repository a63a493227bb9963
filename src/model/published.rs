//! Disclosure control of an evaluation: the figures a model file, model
//! card, evaluation JSON and evaluation report may publish.
//!
//! Those files are shared beyond the analytics team (model governance,
//! commissioners, suppliers), so they follow the same small-number rules as
//! the planning summaries (`governance::disclosure`, docs/disclosure-control.md,
//! section "Model files, model card, evaluation and report"):
//!
//! - **Counts** of people or events (n, events, decile n and events, people
//!   flagged at the top of the list and those of them with the outcome) go
//!   through [`protect`]: a count of 1–t is withheld (null), the others are
//!   rounded; a count of events whose complement (people without the outcome)
//!   is 1–t is withheld too. Decile and subgroup tables are protected as
//!   tables with the overall figures as their total row, so secondary
//!   suppression stops a withheld cell being recovered by subtraction.
//! - **Rates** (prevalence, observed rate and its Wilson interval, PPV,
//!   sensitivity, observed / expected) are computed from the *published*
//!   counts, so they reveal nothing the rounded counts do not (an exact rate
//!   with a rounded denominator gives the exact count back).
//! - **Figures that describe 1–t people** are withheld whatever the profile
//!   (under midpoint-6 too, where counts are labels): every figure that
//!   depends on the outcome (AUC, average precision, Brier score,
//!   calibration, observed / expected, the oracle AUCs, the curves) when the
//!   people with the outcome or those without it number 1–t; a mean risk
//!   over 1–t people; the risk cut-off of a top share flagging 1–t people.
//! - **Curves** are drawn from rounded cumulative counts, and a point where
//!   either cumulative count is 1–t is left out, so the first points of a
//!   ROC curve cannot tell the outcome of the few highest-risk people.
//! - **Fairness flags** are raised on the exact figures in memory (by
//!   [`super::evaluate`]); a flag keeps its kind and limit, and its value
//!   only when that figure is published.
//!
//! A withheld figure is `null` in JSON, never 0, and every record that lost
//! a figure says which and why in its `withheld` note.

use crate::governance::disclosure::{
    Cell, DisclosureProfile, GroupRow, Rounding, SummaryTable, TableSpec, TotalRowMethod, protect,
};

use super::calibration::DecileRow;
use super::fairness::FlagKind;
use super::metrics::{Ranked, Z_95, wilson_interval};
use super::schema::{AucEstimate, DisclosureApplied, Evaluation, Metrics, Subgroup, TopShare};

/// The small-number rule of one profile, applied to counts one at a time
/// and to tables of (people, events) with a total row.
#[derive(Debug, Clone, Copy)]
pub struct Control {
    profile: DisclosureProfile,
}

impl Control {
    pub fn new(profile: DisclosureProfile) -> Control {
        Control { profile }
    }

    /// Counts of 1 to this many people are withheld.
    pub fn threshold(&self) -> u64 {
        self.profile.redact_at_or_below()
    }

    /// Whether `x` people is a small number (1–t): a figure describing them is withheld.
    pub fn is_small(&self, x: u64) -> bool {
        (1..=self.threshold()).contains(&x)
    }

    /// One count: `None` when 1–t (a midpoint profile shows its label
    /// instead), otherwise rounded.
    pub fn count(&self, x: u64) -> Option<u64> {
        if self.is_small(x) && !self.profile.is_midpoint() {
            None
        } else {
            Some(self.profile.rounding().apply(x))
        }
    }

    /// A count of people with a property among `of` people: withheld when
    /// it, or the people without the property, number 1–t ("45 of 50"
    /// tells that 5 do not).
    pub fn subset(&self, x: u64, of: u64) -> Option<u64> {
        if !self.profile.is_midpoint() && self.is_small(of.saturating_sub(x)) {
            None
        } else {
            self.count(x)
        }
    }

    /// What is recorded in the evaluation.
    pub fn applied(&self) -> DisclosureApplied {
        DisclosureApplied {
            profile: self.profile.to_string(),
            redact_at_or_below: self.threshold(),
            rounding: match self.profile.rounding() {
                Rounding::NearestHalfUp { base } if base <= 1 => "none".into(),
                Rounding::NearestHalfUp { base } => format!("nearest {base}"),
                Rounding::Midpoint { width } => format!("midpoint {width}"),
            },
        }
    }

    /// The reason written beside a withheld figure.
    fn why(&self) -> String {
        format!("1–{} people, profile {}", self.threshold(), self.profile)
    }

    /// Protects rows of (people, events) with the exact `total` as a total
    /// row rounded independently: small counts, small complements and
    /// secondary suppression as in the planning summaries. Returns the
    /// published (people, events) of each row, then of the total.
    fn table(
        &self,
        rows: &[(String, u64, u64)],
        total: (u64, u64),
    ) -> Vec<(Option<u64>, Option<u64>)> {
        let spec = TableSpec::new("group", "people")
            .subset("events")
            .with_total_row(TOTAL_LABEL, TotalRowMethod::RoundedIndependently);
        let table = SummaryTable {
            spec,
            rows: rows
                .iter()
                .map(|(label, n, events)| GroupRow {
                    label: label.clone(),
                    counts: vec![*n, (*events).min(*n)],
                    values: vec![],
                    contributions: Vec::new(),
                })
                .collect(),
        };
        let cell = |c: &Cell<u64>| if c.is_redacted() { None } else { c.value };
        match protect(&table, &self.profile) {
            Ok(t) => t
                .rows
                .iter()
                .map(|r| (cell(&r.counts[0]), cell(&r.counts[1])))
                .collect(),
            // Only a caller bug reaches here (a label clash, events above
            // people); publish nothing rather than something unprotected.
            Err(_) => {
                let mut out = vec![(None, None); rows.len()];
                out.push((self.count(total.0), self.subset(total.1, total.0)));
                out
            }
        }
    }
}

/// (x, y) points of a curve.
type Points = Vec<(f64, f64)>;

/// Decimals an AUC (and its standard error and interval) is published to.
///
/// An AUC is U / (m·n): U concordant pairs, counted in halves, over m people
/// with and n without the outcome. Given the rounded m and n, an exact AUC
/// tells which nearby (m, n) make U a whole number of halves. Rounded to 3
/// decimals, it is consistent with every (m, n) with m·n ≥ 500 (the steps of
/// U/(m·n), 1/(2mn), are then at most 0.001), so it narrows nothing;
/// estimable subgroups have m·n ≥ 900 under the default limits.
pub const AUC_DECIMALS: i32 = 3;

/// `x` rounded to [`AUC_DECIMALS`].
pub fn auc_decimals(x: f64) -> f64 {
    let scale = 10f64.powi(AUC_DECIMALS);
    (x * scale).round() / scale
}

/// An AUC estimate with every figure rounded to [`AUC_DECIMALS`].
fn auc_estimate(a: AucEstimate) -> AucEstimate {
    AucEstimate {
        auc: auc_decimals(a.auc),
        se: a.se.map(auc_decimals),
        lower: a.lower.map(auc_decimals),
        upper: a.upper.map(auc_decimals),
    }
}

/// The total row's label in the tables protected here: a control character
/// no decile number or group label holds. Should one ever clash, `protect`
/// refuses the table and nothing of it is published (see [`Control::table`]).
const TOTAL_LABEL: &str = "\u{1}overall";

/// `a / b` of published counts; `None` when either is withheld or `b` is 0.
fn ratio(a: Option<u64>, b: Option<u64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0 => Some(a as f64 / b as f64),
        _ => None,
    }
}

/// The evaluation with only disclosure-controlled figures. `exact` comes
/// from [`super::evaluate::evaluate_exact`] on the same rows as `ranked`
/// (needed for the overall curves).
pub fn control(exact: &Evaluation, ranked: &Ranked, profile: &DisclosureProfile) -> Evaluation {
    let c = Control::new(*profile);
    let overall = metrics(&c, &exact.overall, Some(ranked));
    let outcome_small = outcome_is_small(&c, &exact.overall);
    let subgroups = subgroups(&c, exact, outcome_small);
    Evaluation {
        context: exact.context.clone(),
        oracle_auc: exact
            .oracle_auc
            .filter(|_| !outcome_small)
            .map(auc_estimate),
        record_oracle_auc: exact
            .record_oracle_auc
            .filter(|_| !outcome_small)
            .map(auc_estimate),
        overall,
        subgroups,
        options: exact.options.clone(),
        disclosure: Some(c.applied()),
    }
}

/// Whether the people with the outcome, or those without it, number 1–t
/// (or the people themselves): then every figure that depends on the
/// outcome describes them.
fn outcome_is_small(c: &Control, m: &Metrics) -> bool {
    let n = m.n.unwrap_or(0);
    let events = m.events.unwrap_or(0);
    c.is_small(n) || c.is_small(events) || c.is_small(n.saturating_sub(events))
}

/// Controlled metrics of one set of people; `ranked` (the same rows) gives
/// the curves, which are left empty without it.
fn metrics(c: &Control, exact: &Metrics, ranked: Option<&Ranked>) -> Metrics {
    let n = exact.n.unwrap_or(0);
    let events = exact.events.unwrap_or(0);
    let small_outcome = outcome_is_small(c, exact);
    let decile_rows: Vec<(String, u64, u64)> = exact
        .deciles
        .iter()
        .map(|d| {
            (
                d.decile.to_string(),
                d.n.unwrap_or(0),
                d.events.unwrap_or(0),
            )
        })
        .collect();
    let table = c.table(&decile_rows, (n, events));
    let (pub_n, pub_events) = table
        .last()
        .copied()
        .unwrap_or((c.count(n), c.subset(events, n)));
    let deciles: Vec<DecileRow> = exact
        .deciles
        .iter()
        .zip(&table)
        // With 1–t people with (or without) the outcome, even "0 of them in
        // this decile" places them: no decile's outcome count is published.
        .map(|(d, &(dn, de))| decile(c, d, dn, de.filter(|_| !small_outcome)))
        .collect();
    let top: Vec<TopShare> = exact
        .top
        .iter()
        .map(|t| top_share(c, t, pub_events, small_outcome))
        .collect();
    let keep = |v: Option<f64>| v.filter(|_| !small_outcome);
    let prevalence = ratio(pub_events, pub_n).filter(|_| !small_outcome);
    let mean_risk = exact.mean_risk.filter(|_| !c.is_small(n));
    let (roc, pr) = match ranked {
        Some(r) if !small_outcome => curves(c, r),
        _ => (Vec::new(), Vec::new()),
    };
    let mut withheld = Vec::new();
    if small_outcome && n > 0 {
        withheld.push(format!(
            "every figure that depends on the outcome (AUC, calibration, rates, curves): the people with or without it are few ({})",
            c.why()
        ));
    }
    if deciles_lost(&exact.deciles, &deciles) {
        withheld.push(format!(
            "some decile counts and rates: small counts ({}) and counts that would reveal them by subtraction",
            c.why()
        ));
    }
    Metrics {
        n: pub_n,
        events: pub_events,
        prevalence,
        mean_risk,
        auc: exact.auc.filter(|_| !small_outcome).map(auc_estimate),
        auprc: keep(exact.auprc),
        brier: keep(exact.brier),
        calibration: if small_outcome {
            super::schema::Recalibration {
                intercept: None,
                slope: None,
                slope_fit_intercept: None,
            }
        } else {
            exact.calibration
        },
        // Σ events / Σ risk = prevalence / mean risk, of the published figures.
        observed_expected: match (prevalence, mean_risk) {
            (Some(p), Some(m)) if m > 0.0 => Some(p / m),
            _ => None,
        },
        deciles,
        top,
        roc,
        pr,
        withheld: (!withheld.is_empty()).then(|| withheld.join("; ")),
    }
}

fn deciles_lost(exact: &[DecileRow], published: &[DecileRow]) -> bool {
    exact.iter().zip(published).any(|(e, p)| {
        (e.n.is_some() && p.n.is_none()) || (e.events.is_some() && p.events.is_none())
    })
}

/// One decile with its published counts `n` and `events` (from the table).
fn decile(c: &Control, d: &DecileRow, n: Option<u64>, events: Option<u64>) -> DecileRow {
    let exact_n = d.n.unwrap_or(0);
    let exact_events = d.events.unwrap_or(0);
    // Under midpoint-6 a small count is a label, but a rate over it still
    // describes 1–t people.
    let rate_allowed =
        !c.is_small(exact_events) && !c.is_small(exact_n.saturating_sub(exact_events));
    let observed = ratio(events, n).filter(|_| rate_allowed);
    let interval = match (events, n) {
        (Some(e), Some(m)) if rate_allowed => wilson_interval(e, m, Z_95),
        _ => None,
    };
    DecileRow {
        decile: d.decile,
        n,
        events,
        mean_risk: d.mean_risk.filter(|_| n.is_some() && !c.is_small(exact_n)),
        observed,
        observed_lower: interval.map(|i| i.0),
        observed_upper: interval.map(|i| i.1),
    }
}

/// One top share: counts rounded, rates from them, the cut-off withheld
/// with a small number of people flagged.
fn top_share(
    c: &Control,
    t: &TopShare,
    published_events: Option<u64>,
    small_outcome: bool,
) -> TopShare {
    let flagged_exact = t.flagged.unwrap_or(0);
    let tp_exact = t.true_positives.unwrap_or(0);
    let flagged = c.count(flagged_exact);
    let true_positives = c
        .subset(tp_exact, flagged_exact)
        .filter(|_| !small_outcome && !c.is_small(tp_exact));
    let flagged_small = c.is_small(flagged_exact);
    TopShare {
        share: t.share,
        target: t.target.and_then(|x| c.count(x)),
        flagged,
        threshold: t.threshold.filter(|_| !flagged_small),
        true_positives,
        ppv: ratio(true_positives, flagged),
        sensitivity: ratio(true_positives, published_events),
    }
}

/// ROC and PR points from rounded cumulative counts, highest risk first:
/// a cut-off where the people flagged with, or without, the outcome number
/// 1–t is left out, and the rest divide rounded counts by rounded totals.
fn curves(c: &Control, ranked: &Ranked) -> (Points, Points) {
    // Without rounding the cumulative counts would be exact, and one point
    // minus the next would give the outcome of the people between them.
    if matches!(c.profile.rounding(), Rounding::NearestHalfUp { base } if base <= 1) {
        return (Vec::new(), Vec::new());
    }
    let events = ranked.events();
    let non_events = ranked.len() as u64 - events;
    let (Some(p), Some(q)) = (c.count(events), c.count(non_events)) else {
        return (Vec::new(), Vec::new());
    };
    if p == 0 {
        return (Vec::new(), Vec::new());
    }
    let rounding = |x: u64| c.profile.rounding().apply(x);
    let mut roc = vec![(0.0, 0.0)];
    let mut pr = Vec::new();
    let (mut tp, mut fp) = (0u64, 0u64);
    for block in ranked.blocks() {
        tp += block.events;
        fp += block.non_events();
        if c.is_small(tp) || c.is_small(fp) {
            continue;
        }
        let (rtp, rfp) = (rounding(tp).min(p), rounding(fp).min(q));
        if q > 0 {
            let point = (rfp as f64 / q as f64, rtp as f64 / p as f64);
            if roc.last() != Some(&point) {
                roc.push(point);
            }
        }
        if rtp + rfp > 0 {
            let point = (rtp as f64 / p as f64, rtp as f64 / (rtp + rfp) as f64);
            if pr.last() != Some(&point) {
                pr.push(point);
            }
        }
    }
    if q == 0 {
        roc.clear();
    }
    (
        super::curves::decimate(roc, super::evaluate::CURVE_POINTS),
        super::curves::decimate(pr, super::evaluate::CURVE_POINTS),
    )
}

/// Subgroups: each attribute's groups protected as one table of (people,
/// events) with the overall figures as its total row; each estimable
/// group's metrics controlled like the overall ones.
/// With 1–t people with (or without) the outcome overall, no group's
/// outcome count is published: "0 in this group" would place them.
fn subgroups(c: &Control, exact: &Evaluation, outcome_small: bool) -> Vec<Subgroup> {
    let total = (
        exact.overall.n.unwrap_or(0),
        exact.overall.events.unwrap_or(0),
    );
    let mut out = Vec::with_capacity(exact.subgroups.len());
    let mut start = 0;
    while start < exact.subgroups.len() {
        let attribute = &exact.subgroups[start].attribute;
        let end = start
            + exact.subgroups[start..]
                .iter()
                .take_while(|s| &s.attribute == attribute)
                .count();
        let groups = &exact.subgroups[start..end];
        let rows: Vec<(String, u64, u64)> = groups
            .iter()
            .map(|s| (s.group.clone(), s.n.unwrap_or(0), s.events.unwrap_or(0)))
            .collect();
        let table = c.table(&rows, total);
        for (s, &(n, events)) in groups.iter().zip(&table) {
            out.push(subgroup(c, s, n, events.filter(|_| !outcome_small)));
        }
        start = end;
    }
    out
}

fn subgroup(c: &Control, s: &Subgroup, n: Option<u64>, events: Option<u64>) -> Subgroup {
    let metrics = s.metrics.as_ref().map(|m| {
        let mut m = metrics(c, m, None);
        // The group's own counts are those of the attribute's table, which
        // may withhold more (secondary suppression).
        if n.is_none() {
            m.n = None;
            m.mean_risk = None;
        }
        if events.is_none() || n.is_none() {
            m.events = None;
            m.prevalence = None;
            m.observed_expected = None;
        }
        m
    });
    let small_outcome = s.metrics.as_ref().is_some_and(|m| outcome_is_small(c, m))
        || s.n.is_some_and(|n| c.is_small(n));
    let flags = s
        .flags
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if small_outcome {
                f.value = None;
            } else if f.kind == FlagKind::AucDifference {
                f.value = f.value.map(auc_decimals);
            }
            f
        })
        .collect();
    let mut withheld = Vec::new();
    if n.is_none() || events.is_none() {
        withheld.push(format!(
            "{} withheld: a small count ({}) or one that would reveal it by subtraction",
            match (n.is_none(), events.is_none()) {
                (true, true) => "people and people with the outcome",
                (true, false) => "people",
                _ => "people with the outcome",
            },
            c.why()
        ));
    }
    if small_outcome && s.metrics.is_some() {
        withheld.push(format!(
            "metrics and flag values withheld: the people with or without the outcome are few ({})",
            c.why()
        ));
    }
    Subgroup {
        attribute: s.attribute.clone(),
        group: s.group.clone(),
        n,
        events,
        metrics,
        not_estimable: s.not_estimable.clone(),
        oracle_auc: s.oracle_auc.filter(|_| !small_outcome).map(auc_decimals),
        flags,
        withheld: (!withheld.is_empty()).then(|| withheld.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::evaluate::{EvaluateOptions, evaluate, evaluate_exact};
    use crate::model::fairness::GroupLabels;

    fn opensafely() -> DisclosureProfile {
        DisclosureProfile::default()
    }

    #[test]
    fn single_counts_are_withheld_when_small_and_rounded_otherwise() {
        let c = Control::new(opensafely());
        // 1–7 withheld, 0 kept, others to the nearest 5 (half up).
        assert_eq!(c.count(0), Some(0));
        assert_eq!(c.count(5), None);
        assert_eq!(c.count(7), None);
        assert_eq!(c.count(8), Some(10));
        assert_eq!(c.count(22), Some(20));
        assert_eq!(c.count(23), Some(25));
        // 45 of 50 tells that 5 do not: withheld; 40 of 50 is published.
        assert_eq!(c.subset(45, 50), None);
        assert_eq!(c.subset(40, 50), Some(40));
        // Midpoint 6 shows small counts as labels, never withholds them.
        let m = Control::new(DisclosureProfile::OpenSafely { midpoint6: true });
        assert_eq!(m.count(5), Some(3));
        assert_eq!(m.count(23), Some(21));
    }

    /// 400 people with distinct risks, 40 per decile. Outcomes: the 23
    /// highest-risk people of decile 10, the 12 highest of decile 9 and the 5
    /// highest of decile 1 (40 in all); nobody else.
    fn four_hundred() -> (Vec<f64>, Vec<bool>) {
        (0..400)
            .map(|i| {
                let (decile, rank_in_decile) = (i / 40 + 1, 39 - i % 40);
                let outcome = match decile {
                    10 => rank_in_decile < 23,
                    9 => rank_in_decile < 12,
                    1 => rank_in_decile < 5,
                    _ => false,
                };
                ((f64::from(i) + 0.5) / 400.0, outcome)
            })
            .unzip()
    }

    #[test]
    fn deciles_are_protected_as_a_table_and_rates_come_from_published_counts() {
        let (risk, outcome) = four_hundred();
        let e = evaluate(
            &risk,
            &outcome,
            &[],
            None,
            &EvaluateOptions::default(),
            &opensafely(),
        )
        .expect("valid");
        let m = &e.overall;
        assert_eq!((m.n, m.events), (Some(400), Some(40)));
        assert_eq!(m.prevalence, Some(40.0 / 400.0));
        let d = |k: usize| &m.deciles[k - 1];
        // Decile 10: 23 events → 25; observed 25/40, its Wilson interval of 25/40.
        assert_eq!((d(10).n, d(10).events), (Some(40), Some(25)));
        assert_eq!(d(10).observed, Some(25.0 / 40.0));
        let (lo, hi) = wilson_interval(25, 40, Z_95).expect("n > 0");
        assert_eq!(
            (d(10).observed_lower, d(10).observed_upper),
            (Some(lo), Some(hi))
        );
        // Decile 1: 5 events, withheld with its rate; never shown as 0.
        assert_eq!((d(1).n, d(1).events, d(1).observed), (Some(40), None, None));
        // Alone it could be recovered as 40 − 25 − 0·7 − 12 in an unrounded
        // table: the smallest other non-zero cell (decile 9, 12 events) is
        // withheld too (secondary suppression).
        assert_eq!((d(9).events, d(9).observed), (None, None));
        for k in 2..=8 {
            assert_eq!(
                (d(k).events, d(k).observed),
                (Some(0), Some(0.0)),
                "decile {k}"
            );
        }
        assert!(m.withheld.is_some(), "says what was withheld");
        // Overall figures that depend on the outcome stay: 40 and 360 people.
        assert!(m.auc.is_some() && m.brier.is_some() && m.calibration.intercept.is_some());
        // The AUC is published to 3 decimals (exact in memory: U / (40·360)).
        let exact =
            evaluate_exact(&risk, &outcome, &[], None, &EvaluateOptions::default()).expect("valid");
        let (published, exact) = (m.auc.expect("auc"), exact.overall.auc.expect("auc"));
        assert_eq!(published.auc, (exact.auc * 1000.0).round() / 1000.0);
        assert_eq!(
            published.se,
            exact.se.map(|s| (s * 1000.0).round() / 1000.0)
        );
        // O/E = published prevalence / mean risk (mean risk 0.5 exactly).
        assert_eq!(m.mean_risk, Some(0.5));
        assert_eq!(m.observed_expected, Some(0.1 / 0.5));
    }

    #[test]
    fn top_shares_withhold_small_lists_and_compute_rates_from_rounded_counts() {
        let (risk, outcome) = four_hundred();
        let e = evaluate(
            &risk,
            &outcome,
            &[],
            None,
            &EvaluateOptions::default(),
            &opensafely(),
        )
        .expect("valid");
        let top = &e.overall.top;
        // Top 0.5% = 2 people (both with the outcome): everything about them withheld.
        assert_eq!(
            (top[0].target, top[0].flagged, top[0].true_positives),
            (None, None, None)
        );
        assert_eq!(
            (top[0].threshold, top[0].ppv, top[0].sensitivity),
            (None, None, None)
        );
        // Top 5% = 20 people, all with the outcome: 20 of 20, PPV 1, sensitivity 20/40.
        assert_eq!(
            (top[1].flagged, top[1].true_positives),
            (Some(20), Some(20))
        );
        assert_eq!((top[1].ppv, top[1].sensitivity), (Some(1.0), Some(0.5)));
        // Top 20% = 80 people (deciles 9 and 10): 35 with the outcome → 35.
        assert_eq!(
            (top[2].flagged, top[2].true_positives),
            (Some(80), Some(35))
        );
        assert_eq!(
            (top[2].ppv, top[2].sensitivity),
            (Some(35.0 / 80.0), Some(35.0 / 40.0))
        );
    }

    #[test]
    fn curves_start_after_the_first_eight_people_and_use_rounded_counts() {
        let (risk, outcome) = four_hundred();
        let e = evaluate(
            &risk,
            &outcome,
            &[],
            None,
            &EvaluateOptions::default(),
            &opensafely(),
        )
        .expect("valid");
        let roc = &e.overall.roc;
        assert_eq!(roc.first(), Some(&(0.0, 0.0)));
        assert_eq!(roc.last(), Some(&(1.0, 1.0)));
        // The 23 highest-risk people all have the outcome: the exact curve
        // climbs 1/40 at a time; the published one first shows 8 → 10 of 40.
        assert_eq!(roc[1], (0.0, 10.0 / 40.0));
        for &(x, y) in roc {
            // Multiples of 5 over the rounded totals 360 and 40.
            let (fp, tp) = (x * 360.0, y * 40.0);
            assert!((fp / 5.0 - (fp / 5.0).round()).abs() < 1e-9, "{x}");
            assert!((tp / 5.0 - (tp / 5.0).round()).abs() < 1e-9, "{y}");
        }
        assert!(
            e.overall
                .pr
                .iter()
                .all(|&(recall, _)| recall >= 10.0 / 40.0)
        );
        // A profile that does not round publishes no curve.
        let unrounded = DisclosureProfile::Custom {
            redact_at_or_below: 7,
            round_to: 1,
        };
        let e = evaluate(
            &risk,
            &outcome,
            &[],
            None,
            &EvaluateOptions::default(),
            &unrounded,
        )
        .expect("valid");
        assert!(e.overall.roc.is_empty() && e.overall.pr.is_empty());
    }

    #[test]
    fn few_events_withhold_every_figure_that_depends_on_the_outcome() {
        // 100 people, 5 with the outcome.
        let risk: Vec<f64> = (0..100).map(|i| f64::from(i) / 100.0).collect();
        let outcome: Vec<bool> = (0..100).map(|i| i >= 95).collect();
        let groups = [GroupLabels {
            attribute: "sex".into(),
            labels: (0..100).map(|_| Some("F".into())).collect(),
        }];
        let exact = evaluate_exact(
            &risk,
            &outcome,
            &groups,
            Some(&risk),
            &EvaluateOptions::default(),
        )
        .expect("valid");
        assert!(exact.overall.auc.is_some(), "computed in memory");
        let e = control(&exact, &Ranked::new(&risk, &outcome), &opensafely());
        let m = &e.overall;
        assert_eq!((m.n, m.events), (Some(100), None));
        assert_eq!(
            (m.prevalence, m.auc, m.auprc, m.brier),
            (None, None, None, None)
        );
        assert_eq!((m.calibration.slope, m.observed_expected), (None, None));
        assert!(m.roc.is_empty() && m.pr.is_empty());
        assert_eq!((e.oracle_auc, e.record_oracle_auc), (None, None));
        assert!(m.mean_risk.is_some(), "describes 100 people");
        // "0 in this decile" would place the 5 in the others: no decile says.
        assert!(
            m.deciles
                .iter()
                .all(|d| d.events.is_none() && d.observed.is_none())
        );
        assert!(
            m.withheld
                .as_deref()
                .is_some_and(|w| w.contains("1–7 people"))
        );
        assert_eq!(e.disclosure.as_ref().map(|d| d.redact_at_or_below), Some(7));
        // The subgroup (everyone) has the same 5 events: withheld.
        assert_eq!((e.subgroups[0].n, e.subgroups[0].events), (Some(100), None));
        // A group with none of the 5 would place them too: withheld, not 0.
        let split = [GroupLabels {
            attribute: "half".into(),
            labels: (0..100)
                .map(|i| Some(if i < 50 { "low" } else { "high" }.into()))
                .collect(),
        }];
        let exact = evaluate_exact(&risk, &outcome, &split, None, &EvaluateOptions::default())
            .expect("valid");
        let e = control(&exact, &Ranked::new(&risk, &outcome), &opensafely());
        assert!(
            e.subgroups.iter().all(|s| s.events.is_none()),
            "{:?}",
            e.subgroups
        );
        let json = serde_json::to_string(&e).expect("json");
        assert!(json.contains("\"events\":null"), "withheld is null, not 0");
    }

    #[test]
    fn a_small_subgroup_is_withheld_whole_with_its_neighbour() {
        let (risk, outcome) = four_hundred();
        // Group B: 5 people; A: the other 395.
        let groups = [GroupLabels {
            attribute: "g".into(),
            labels: (0..400)
                .map(|i| Some(if i < 5 { "B" } else { "A" }.into()))
                .collect(),
        }];
        let e = evaluate(
            &risk,
            &outcome,
            &groups,
            None,
            &EvaluateOptions::default(),
            &opensafely(),
        )
        .expect("valid");
        let b = &e.subgroups[1];
        assert_eq!((b.group.as_str(), b.n, b.events), ("B", None, None));
        assert!(b.withheld.is_some());
        // With only A left, A = overall − B would give B back: A is withheld too.
        let a = &e.subgroups[0];
        assert_eq!((a.group.as_str(), a.n), ("A", None));
    }

    #[test]
    fn a_flag_raised_on_a_withheld_figure_keeps_its_kind_but_not_its_value() {
        use crate::model::fairness::{Flag, FlagKind, Limits};
        let (risk, outcome) = four_hundred();
        // Group C: decile 1 (40 people, 5 with the outcome), estimable under
        // lowered limits, so its metrics exist in memory.
        let groups = [GroupLabels {
            attribute: "g".into(),
            labels: (0..400)
                .map(|i| Some(if i < 40 { "C" } else { "D" }.into()))
                .collect(),
        }];
        let options = EvaluateOptions {
            limits: Limits {
                min_people: 20,
                min_events: 3,
                ..Limits::default()
            },
            ..EvaluateOptions::default()
        };
        let mut exact = evaluate_exact(&risk, &outcome, &groups, None, &options).expect("valid");
        let c = &mut exact.subgroups[0];
        assert_eq!((c.group.as_str(), c.events), ("C", Some(5)));
        assert!(c.metrics.as_ref().is_some_and(|m| m.auc.is_some()));
        c.flags = vec![Flag {
            kind: FlagKind::AucDifference,
            value: Some(-0.2),
            limit: "|ΔAUC| ≤ 0.05".into(),
        }];
        let e = control(&exact, &Ranked::new(&risk, &outcome), &opensafely());
        let c = &e.subgroups[0];
        assert_eq!(c.flags.len(), 1, "the flag is still raised");
        assert_eq!(
            (c.flags[0].kind, c.flags[0].value),
            (FlagKind::AucDifference, None)
        );
        let m = c.metrics.as_ref().expect("metrics");
        assert_eq!((m.auc, m.events, m.prevalence), (None, None, None));
        assert!(
            c.withheld
                .as_deref()
                .is_some_and(|w| w.contains("flag values"))
        );
    }
}
